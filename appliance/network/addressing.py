"""A connection's IPv4 addressing: from DHCP, or static (address/prefix, gateway, DNS), checked
as a whole so the owner cannot save a setting that cuts the phone off its own network."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

AUTO = "auto"
MANUAL = "manual"
MAX_DNS = 3  # what glibc's resolver uses


class AddressingError(ValueError):
    """``problems`` are ``(field, reason)`` pairs, for the page to mark each field."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {r}" for f, r in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Ipv4:
    method: str = AUTO  # "auto" (DHCP) or "manual"
    address: str = ""  # the static address
    prefix: int = 0  # its prefix length
    gateway: str = ""  # "" : none (a network with no router)
    dns: tuple[str, ...] = ()

    def json(self) -> dict[str, Any]:
        return {"method": self.method, "address": self.address, "prefix": self.prefix,
                "gateway": self.gateway, "dns": list(self.dns)}  # fmt: skip


def ipv4(body: dict[str, Any]) -> Ipv4:
    """The setting the page sent, checked; every problem at once."""
    method = body.get("method", AUTO)
    if method == AUTO:  # DHCP; name servers may still be given, used before the lease's
        problems: list[tuple[str, str]] = []
        dns = _dns(body.get("dns", []), problems)
        if problems:
            raise AddressingError(problems)
        return Ipv4(dns=dns)
    if method != MANUAL:
        raise AddressingError([("method", "must be auto (DHCP) or manual (a static address)")])
    problems = []
    address = _address(str(body.get("address", "")), problems)
    prefix = body.get("prefix")
    network = None
    if not isinstance(prefix, int) or isinstance(prefix, bool) or not 1 <= prefix <= 32:
        problems.append(("prefix", "a prefix length is 1 to 32 (24 is 255.255.255.0)"))
    elif address is not None:
        network = ipaddress.IPv4Network(f"{address}/{prefix}", strict=False)
        if prefix <= 30 and address in (network.network_address, network.broadcast_address):
            which = (
                "the network's own address" if address == network.network_address else "its broadcast address"
            )
            problems.append(("address", f"{address} is {which} in {network}: not one a device can have"))
    gateway_text = str(body.get("gateway", "")).strip()
    gateway = None
    if gateway_text:
        gateway = _address(gateway_text, problems, "gateway")
        if gateway is not None and network is not None:
            if gateway not in network:
                problems.append(
                    ("gateway", f"{gateway} is outside the subnet {network}: the phone could not reach it")
                )
            elif gateway == address:
                problems.append(("gateway", "the gateway is the router, not this phone's own address"))
    dns = _dns(body.get("dns", []), problems)
    if problems:
        raise AddressingError(problems)
    assert address is not None
    assert isinstance(prefix, int)
    return Ipv4(MANUAL, str(address), prefix, str(gateway) if gateway else "", dns)


def _address(
    text: str, problems: list[tuple[str, str]], field: str = "address"
) -> ipaddress.IPv4Address | None:
    try:
        address = ipaddress.IPv4Address(text.strip())
    except ValueError:
        problems.append((field, f"{text!r} is not an IPv4 address (four numbers 0-255, like 192.168.1.20)"))
        return None
    if (
        address.is_multicast
        or address.is_unspecified
        or address.is_loopback
        or address == ipaddress.IPv4Address("255.255.255.255")
    ):
        problems.append((field, f"{address} cannot be a device's address"))
        return None
    return address


def _dns(value: object, problems: list[tuple[str, str]]) -> tuple[str, ...]:
    items = value.split() if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        problems.append(("dns", "a list of addresses"))
        return ()
    if len(items) > MAX_DNS:
        problems.append(("dns", f"at most {MAX_DNS} name servers"))
        return ()
    found = []
    for item in items:
        try:
            server = ipaddress.IPv4Address(str(item).strip().rstrip(","))
        except ValueError:
            problems.append(("dns", f"{item!r} is not an IPv4 address"))
            continue
        if server.is_multicast or server.is_unspecified:
            problems.append(("dns", f"{server} cannot be a name server"))
            continue
        found.append(str(server))
    return tuple(found)
