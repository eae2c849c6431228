"""The network as the status page shows it: addresses, the default gateway, the router's UPnP
gateway and external address (miniupnpc), and a plain-words hint about NAT.

Blocking (UPnP discovery waits for SSDP answers): call from a thread. Reads only; the Jami daemon
opens its own port mappings through UPnP when the router allows it.
"""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct
from pathlib import Path
from typing import Any

SIOCGIFADDR = 0x8915
DISCOVER_MS = 1500


def addresses() -> dict[str, str]:
    """IPv4 address of each interface that has one, loopback left out."""
    found: dict[str, str] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in socket.if_nameindex():
            if name == "lo":
                continue
            try:
                packed = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
            except OSError:
                continue  # no IPv4 address on it
            found[name] = socket.inet_ntoa(packed[20:24])
    return found


# /proc/net/if_inet6 flags (IFA_F_*) of an address not to be named: a privacy address that
# rotates, one whose duplicate address detection failed or is not done, one being given up.
_IFA_SKIP = 0x01 | 0x08 | 0x20 | 0x40


def host_addresses(
    sys_net: Path = Path("/sys/class/net"), if_inet6: Path = Path("/proc/self/net/if_inet6")
) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every interface's IPv4 address and its stable IPv6 addresses, loopback left out.

    Without netlink (the web page's unit allows only AF_UNIX and AF_INET*, and glibc's
    if_nameindex needs netlink): interfaces from sysfs, IPv4 by ioctl, IPv6 from procfs
    (``/proc/self/net``: the unit's ProcSubset=pid keeps only the process's own directory).
    """
    found: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    names = sorted(p.name for p in sys_net.iterdir()) if sys_net.is_dir() else []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for name in names:
            if name == "lo":
                continue
            try:
                packed = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
            except OSError:
                continue
            found.append(ipaddress.IPv4Address(packed[20:24]))
    try:
        lines = if_inet6.read_text().splitlines()
    except OSError:
        lines = []  # no IPv6 in this kernel
    for line in lines:
        fields = line.split()
        if len(fields) < 6 or fields[5] == "lo" or int(fields[4], 16) & _IFA_SKIP:
            continue
        found.append(ipaddress.IPv6Address(bytes.fromhex(fields[0])))
    return found


def mac_address(sys_net: Path = Path("/sys/class/net"), route_table: Path = Path("/proc/net/route")) -> str:
    """The MAC address the device is known by (lowercase hex, no colons), or "" if none is found.

    A fleet's server names files by it, so it must not change between boots: a physical interface
    (one with a ``device``) wins over virtual ones (bridges, veth, tunnels), wired over wireless,
    then by name; the interface of the default route comes first among equals.
    """
    routed = ""
    try:
        for line in route_table.read_text().splitlines()[1:]:
            fields = line.split()
            if len(fields) > 1 and fields[1] == "00000000":
                routed = fields[0]
                break
    except OSError:
        pass
    found = []
    for link in sys_net.iterdir() if sys_net.is_dir() else []:
        try:
            mac = (link / "address").read_text().strip().lower()
        except OSError:
            continue
        if link.name == "lo" or len(mac) != 17 or mac == "00:00:00:00:00:00":
            continue
        physical = (link / "device").exists()
        wireless = (link / "wireless").exists() or (link / "phy80211").exists()
        found.append(((not physical, wireless, link.name != routed, link.name), mac.replace(":", "")))
    return min(found)[1] if found else ""


def default_gateway(route_table: Path = Path("/proc/net/route")) -> str:
    try:
        lines = route_table.read_text().splitlines()[1:]
    except OSError:
        return ""
    for line in lines:
        fields = line.split()
        if len(fields) > 2 and fields[1] == "00000000":
            return socket.inet_ntoa(struct.pack("<I", int(fields[2], 16)))
    return ""


def upnp() -> dict[str, Any]:
    """The router's Internet Gateway Device, if one answers: its control URL and external address."""
    import miniupnpc  # noqa: PLC0415 - the vendor binding, in this driver only

    client = miniupnpc.UPnP()
    client.discoverdelay = DISCOVER_MS
    try:
        if client.discover() == 0:
            return {"found": False}
        control_url = client.selectigd()
        external = client.externalipaddress() or ""
        status = client.statusinfo()
    except Exception as exc:  # noqa: BLE001 - miniupnpc raises bare Exception for every failure
        return {"found": False, "error": str(exc)}
    return {
        "found": True,
        "gateway": control_url,
        "external_address": external,
        "connection": status[0] if status else "",
        "lan_address": client.lanaddr,
    }


def survey() -> dict[str, Any]:
    """Everything the status page shows about the network, with a hint in plain words."""
    local = addresses()
    gateway = upnp()
    return {
        "addresses": local,
        "default_gateway": default_gateway(),
        "upnp": gateway,
        "nat": nat_hint(local, gateway),
    }


def nat_hint(local: dict[str, str], gateway: dict[str, Any]) -> str:
    if not local:
        return "No network: plug in the cable or check the Wi-Fi settings."
    external = gateway.get("external_address", "")
    if any(not ipaddress.ip_address(a).is_private for a in local.values()):
        return "A public address: other Jami devices can reach this phone directly."
    if gateway.get("found") and external:
        if ipaddress.ip_address(external).is_private:
            return (
                f"Behind two routers (the first one's outside address {external} is private, carrier "
                "NAT): calls go through other Jami nodes when a direct path fails."
            )
        return (
            f"Behind a router with UPnP (outside address {external}): the Jami daemon opens its own "
            "port there, so calls can connect directly."
        )
    if gateway.get("found"):
        return "Behind a router whose UPnP gives no outside address: calls may need a relay."
    return (
        "Behind a router without UPnP: calls still connect (ICE), but turning on UPnP on the router "
        "makes them more reliable."
    )
