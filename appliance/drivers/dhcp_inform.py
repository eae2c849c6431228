"""Ask the network's DHCP server for the provisioning options (66, 160, 43) with a DHCPINFORM.

The image's DHCP client is NetworkManager's own (nettools n-dhcp4), which neither asks for these
options nor keeps them (``_nm_dhcp_option_dhcp4_options``: tftp_server_name and
vendor_encapsulated_options are not requested; 160 is not known at all), so a dispatcher hook
cannot read them from it. Once NetworkManager has an address, the hook runs ``appliance
dhcp-options``, which asks the server for them (RFC 2131 4.4.3: DHCPINFORM, for a client that
already has its address, answered with a DHCPACK carrying the options asked for in option 55) and
writes the hand-over file :mod:`appliance.config.dhcp` reads.

The query goes out as a broadcast on the interface from the leased address and an ephemeral port,
so it never competes with NetworkManager's own client for port 68. dnsmasq answers a DHCPINFORM to
the port it came from (tested: tests/system/test_dhcp_provisioning.py); a server that answers only
to port 68 is not heard, and the file then stays as it was.
"""

from __future__ import annotations

import ipaddress
import secrets
import select
import socket
import struct
import time
from dataclasses import dataclass
from pathlib import Path

SERVER_PORT = 67
MAGIC = b"\x63\x82\x53\x63"
INFORM, ACK = 8, 5
WANTED = (66, 160, 43)  # the provisioning options, in the hand-over file's names
TEXT_OPTIONS = (66, 160)  # 43 is vendor bytes: handed over as hex
_HEADER = struct.Struct("!BBBBIHH4s4s4s4s16s64s128s")


class InformError(Exception):
    """No usable answer; the message says why in plain words."""


@dataclass(frozen=True)
class Answer:
    server: str  # who answered
    options: dict[int, bytes]  # the wanted options the server gave


def request(mac: bytes, address: str) -> tuple[int, bytes]:
    """A DHCPINFORM from ``address`` (the client's own) asking for :data:`WANTED`: ``(xid, bytes)``."""
    xid = secrets.randbits(32)
    header = _HEADER.pack(1, 1, 6, 0, xid, 0, 0, socket.inet_aton(address), bytes(4), bytes(4), bytes(4),
                          mac.ljust(16, b"\0"), bytes(64), bytes(128))  # fmt: skip
    options = bytes([53, 1, INFORM, 61, 7, 1, *mac, 55, len(WANTED), *WANTED, 255])
    return xid, header + MAGIC + options


def parse_ack(packet: bytes, xid: int) -> dict[int, bytes] | None:
    """The options of a DHCPACK to ``xid`` (None: not one, or not ours). Option overload (52) is
    not followed: a server puts these short options in the options field."""
    if len(packet) < _HEADER.size + 4 or packet[_HEADER.size : _HEADER.size + 4] != MAGIC:
        return None
    fields = _HEADER.unpack_from(packet)
    if fields[0] != 2 or fields[4] != xid:
        return None
    found: dict[int, bytes] = {}
    at = _HEADER.size + 4
    while at < len(packet):
        code = packet[at]
        if code == 255:
            break
        if code == 0:
            at += 1
            continue
        if at + 2 > len(packet) or at + 2 + packet[at + 1] > len(packet):
            return None  # truncated: not a packet to trust
        length = packet[at + 1]
        found[code] = found.get(code, b"") + packet[at + 2 : at + 2 + length]  # RFC 3396: parts concatenate
        at += 2 + length
    if found.get(53) != bytes([ACK]):
        return None
    return found


def ask(interface: str, address: str, *, tries: int = 3, wait_s: float = 2.0) -> Answer:
    """Broadcast a DHCPINFORM on ``interface`` from ``address`` and wait for the ACK (InformError
    when nobody answers after ``tries``). Needs the capability to bind to a device (root)."""
    ipaddress.IPv4Address(address)  # a clear error for a bad address, before any socket
    mac = _mac(interface)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, interface.encode())
        sock.bind((address, 0))
        for _ in range(tries):
            xid, packet = request(mac, address)
            sock.sendto(packet, ("255.255.255.255", SERVER_PORT))
            deadline = time.monotonic() + wait_s
            while (left := deadline - time.monotonic()) > 0:
                if not select.select([sock], [], [], left)[0]:
                    break
                data, (server, _) = sock.recvfrom(4096)
                options = parse_ack(data, xid)
                if options is not None:
                    return Answer(server, {code: options[code] for code in WANTED if code in options})
    raise InformError(f"no DHCP server answered a DHCPINFORM on {interface} ({tries} tries)")


def hand_over(interface: str, answer: Answer) -> str:
    """The hand-over file's text (appliance/config/dhcp.py) for ``answer``."""
    lines = [f"# from the DHCP server {answer.server} (DHCPINFORM)", f"interface={interface}"]
    for code in WANTED:
        value = answer.options.get(code)
        if value is None:
            continue
        if code in TEXT_OPTIONS:
            text = value.rstrip(b"\0").decode("utf-8", "replace").replace("\n", " ").strip()
        else:
            text = value.hex(":")
        lines.append(f"option_{code}={text}")
    return "\n".join(lines) + "\n"


def _mac(interface: str) -> bytes:
    try:
        return bytes.fromhex(Path(f"/sys/class/net/{interface}/address").read_text().strip().replace(":", ""))
    except (OSError, ValueError) as exc:
        raise InformError(f"{interface}: no such network interface ({exc})") from exc
