"""What the Wi-Fi page deals in: networks in range, saved connections, what a join needs."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from .addressing import Ipv4

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


class WifiRefusedError(ValueError):
    """A join or a change the radio or NetworkManager refused, in words for the page: ``field``
    is the one to correct (``ssid``, ``psk``, ``ipv4.address``...)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ScannedNetwork:
    """A network in range, its strongest access point."""

    ssid: str
    signal: int  # 0-100, as NetworkManager gives it
    security: str  # "" for an open network, else e.g. "WPA2", "WPA1 WPA2", "WPA3"
    frequency_mhz: int = 0
    in_use: bool = False

    @property
    def open(self) -> bool:
        return not self.security

    def json(self) -> dict[str, object]:
        return {"ssid": self.ssid, "signal": self.signal, "security": self.security,
                "frequency_mhz": self.frequency_mhz, "in_use": self.in_use, "open": self.open}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Saved:
    """A saved connection (Wi-Fi or wired); never its key."""

    uuid: str
    name: str
    kind: str  # "wifi" or "ethernet"
    ssid: str = ""
    active: bool = False
    device: str = ""
    ipv4: Ipv4 = field(default_factory=Ipv4)

    def json(self) -> dict[str, object]:
        return {"uuid": self.uuid, "name": self.name, "type": self.kind, "ssid": self.ssid,
                "active": self.active, "device": self.device, "ipv4": self.ipv4.json()}  # fmt: skip


def ssid(value: str) -> str:
    """1 to 32 bytes of UTF-8, no control characters."""
    size = len(value.encode())
    if not 1 <= size <= 32:
        raise WifiRefusedError("ssid", f"a network name is 1 to 32 bytes, not {size}")
    _printable("ssid", value, "network name")
    return value


def psk(value: str) -> str:
    """A WPA passphrase (8-63 characters) or key (64 hex digits)."""
    if _HEX64.fullmatch(value):
        return value.lower()
    _printable("psk", value, "password")
    if not 8 <= len(value.encode()) <= 63:
        raise WifiRefusedError("psk", "a WPA password is 8 to 63 characters (or a key of 64 hex digits)")
    return value


def _printable(field_name: str, value: str, what: str) -> None:
    for char in value:
        if unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}:
            raise WifiRefusedError(field_name, f"the {what} holds a control character (U+{ord(char):04X})")
