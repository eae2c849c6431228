"""The settings found on a boot partition, each checked on its own.

A bad value is a :class:`Problem` naming the file and the field; it never stops the other fields
from being used (a mistyped Wi-Fi password still lets the hostname through).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .sshkeys import BadKeyError, parse_key

ZONEINFO = Path("/usr/share/zoneinfo")


class Form(enum.Enum):
    """Which of Imager's forms the settings came from."""

    NONE = "none"
    FIRSTRUN = "firstrun.sh"  # the systemd form: a shell script run by systemd.run= (read, never run)
    CLOUD_INIT = "cloud-init"  # user-data, network-config, meta-data (NoCloud)
    PRESEED = "rpi-preseed.toml"  # Imager 2.0.11 and later


@dataclass(frozen=True)
class Problem:
    """A value refused: the file it was in, the field, and why in plain words."""

    file: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.reason}"


class RefusedError(ValueError):
    """A value that is not acceptable; its message says why (without repeating a secret)."""


@dataclass(frozen=True)
class Wifi:
    """One Wi-Fi network: its SSID as the octets on the air, and a key (or none: an open network)."""

    ssid: bytes
    psk: str | None = None  # 64 hex digits, the key itself (what Imager writes, derived with PBKDF2)
    passphrase: str | None = None  # 8-63 characters (older or hand-written files)
    hidden: bool = False

    @property
    def open(self) -> bool:
        return self.psk is None and self.passphrase is None

    @property
    def ssid_text(self) -> str:
        """The SSID for people: decoded if it is UTF-8, else its octets in hex."""
        try:
            return self.ssid.decode()
        except UnicodeDecodeError:
            return "hex:" + self.ssid.hex()


@dataclass(frozen=True)
class BootSettings:
    """What the owner asked for in Imager's dialog, every field checked (None: not given or refused)."""

    form: Form = Form.NONE
    files: tuple[str, ...] = ()  # the boot files they were read from
    hostname: str | None = None
    wifi: Wifi | None = None
    country: str | None = None  # Wi-Fi regulatory domain, ISO 3166-1 alpha-2
    ssh_enabled: bool = False
    ssh_keys: tuple[str, ...] = ()
    ssh_password_auth: bool = False  # what was asked; password login is never turned on here
    timezone: str | None = None
    keyboard: str | None = None
    user: str | None = None  # the account name Imager would create (recorded, not created)

    @property
    def empty(self) -> bool:
        return self == BootSettings(form=self.form, files=self.files)


@dataclass(frozen=True)
class Report:
    """The settings and every problem found on the way; ``ok`` when nothing was refused."""

    settings: BootSettings
    problems: tuple[Problem, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())  # worth saying, not refused (a second form ignored)

    @property
    def ok(self) -> bool:
        return not self.problems


# --- checks -----------------------------------------------------------------------------------

_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_ZONE = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+){0,3}")
_HEX64 = re.compile(r"[0-9A-Fa-f]{64}")
_KEYMAP = re.compile(r"[a-z]{2,3}(?:[-_][A-Za-z0-9]{1,10})?")
_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")


def printable(value: str, what: str = "value") -> str:
    """Refuse control characters, lone surrogates (bytes that were not UTF-8) and the like."""
    for char in value:
        if 0xD800 <= ord(char) <= 0xDFFF:
            raise RefusedError(f"the {what} is not valid UTF-8")
        if unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}:
            raise RefusedError(f"the {what} holds a control character (U+{ord(char):04X})")
    return value


def hostname(value: str) -> str:
    """RFC 1123: labels of letters, digits and inner hyphens, 63 characters each, 253 in all."""
    printable(value, "hostname")
    if not value or len(value) > 253:
        raise RefusedError("must be 1 to 253 characters")
    for label in value.split("."):
        if not _LABEL.fullmatch(label):
            raise RefusedError(
                f"{value!r} is not an RFC 1123 host name (letters, digits and inner hyphens, "
                "63 characters at most between dots)"
            )
    if value.replace(".", "").isdigit():
        raise RefusedError(f"{value!r} looks like an address, not a name")
    return value.lower()


def ssid(value: bytes) -> bytes:
    if not 1 <= len(value) <= 32:
        raise RefusedError(f"must be 1 to 32 bytes, not {len(value)}")
    if b"\0" in value:
        raise RefusedError("holds a NUL byte")
    try:
        text = value.decode()
    except UnicodeDecodeError:
        return value  # arbitrary octets are a valid SSID; written as a byte list
    printable(text, "SSID")
    return value


def wifi_key(value: str) -> tuple[str | None, str | None]:
    """A WPA key: (psk, None) for 64 hex digits, (None, passphrase) for 8-63 characters."""
    if _HEX64.fullmatch(value):
        return value.lower(), None
    printable(value, "password")
    if not 8 <= len(value.encode()) <= 63:
        raise RefusedError("a WPA passphrase is 8 to 63 characters (or the 64 hex digits of a key)")
    return None, value


def country(value: str, zoneinfo: Path = ZONEINFO) -> str:
    """ISO 3166-1 alpha-2, checked against tzdata's iso3166.tab when the zoneinfo root has it."""
    code = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise RefusedError(f"{printable(value, 'country')!r} is not a two-letter ISO 3166 country code")
    table = zoneinfo / "iso3166.tab"
    if table.is_file():
        known = {line[:2] for line in table.read_text(errors="replace").splitlines() if line[:1] != "#"}
        if code not in known:
            raise RefusedError(f"{code} is not an ISO 3166 country code")
    return code


def timezone(value: str, zoneinfo: Path = ZONEINFO) -> str:
    printable(value, "time zone")
    if not _ZONE.fullmatch(value) or value.startswith(("posix/", "right/")):
        raise RefusedError(f"{value!r} is not a time zone name such as Europe/London")
    path = zoneinfo / value
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError:
        raise RefusedError(f"{value!r} is not a time zone this system knows ({zoneinfo})") from None
    if magic != b"TZif":
        raise RefusedError(f"{value!r} is not a time zone file under {zoneinfo}")
    return value


def ssh_key(value: str) -> str:
    """An OpenSSH public key line (:func:`.sshkeys.parse_key`: the System page's check too)."""
    try:
        return parse_key(value).line
    except BadKeyError as exc:
        raise RefusedError(str(exc)) from None


def keyboard(value: str) -> str:
    printable(value, "keyboard layout")
    if not _KEYMAP.fullmatch(value):
        raise RefusedError(f"{value!r} is not a keyboard layout name such as gb or us")
    return value


def user(value: str) -> str:
    printable(value, "user name")
    if not _USER.fullmatch(value):
        raise RefusedError(f"{value!r} is not a user name (lower-case letters, digits, - and _)")
    return value


def boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "yes", "on", "1", "false", "no", "off", "0"}:
        return value.lower() in {"true", "yes", "on", "1"}
    raise RefusedError("must be true or false")
