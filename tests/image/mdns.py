"""A tiny mDNS client (RFC 6762) for the image tests: one question, the answers read back.

The QEMU test asks from the host's side of a tap link, as a laptop on the LAN would; no avahi on
the host is needed. Only what the tests ask is decoded: A, PTR and SRV records.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct
import time
from dataclasses import dataclass

GROUP = "224.0.0.251"
PORT = 5353
A, PTR, SRV = 1, 12, 33
_CLASS_IN = 1
_UNICAST_RESPONSE = 0x8000  # the QU bit of a question's class (RFC 6762 5.4)


@dataclass(frozen=True)
class Record:
    name: str
    type: int
    value: str  # A: the address; PTR: the name pointed to; SRV: "port target"


def encode_name(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode()
        if not 1 <= len(raw) <= 63:
            msg = f"bad DNS label {label!r} in {name!r}"
            raise ValueError(msg)
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def question(name: str, qtype: int) -> bytes:
    """A query for ``name`` (one question, ID 0 as mDNS wants)."""
    header = struct.pack(">6H", 0, 0, 1, 0, 0, 0)
    return header + encode_name(name) + struct.pack(">2H", qtype, _CLASS_IN | _UNICAST_RESPONSE)


def _name(packet: bytes, offset: int) -> tuple[str, int]:
    """The name at ``offset`` (compression pointers followed) and the offset after it."""
    labels: list[str] = []
    end = None
    for _ in range(128):  # a loop of pointers ends here, not in a hang
        if offset >= len(packet):
            msg = "name runs past the packet"
            raise ValueError(msg)
        length = packet[offset]
        if length & 0xC0 == 0xC0:
            if end is None:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | packet[offset + 1]
        elif length == 0:
            return ".".join(labels), end if end is not None else offset + 1
        else:
            labels.append(packet[offset + 1 : offset + 1 + length].decode(errors="replace"))
            offset += 1 + length
    msg = "a loop of name pointers"
    raise ValueError(msg)


def records(packet: bytes) -> list[Record]:
    """The answer, authority and additional records of a response (questions skipped)."""
    if len(packet) < 12:
        return []
    _, flags, qd, an, ns, ar = struct.unpack(">6H", packet[:12])
    if not flags & 0x8000:  # a query (ours, looped back, or another host's), not an answer
        return []
    offset = 12
    for _ in range(qd):
        _, offset = _name(packet, offset)
        offset += 4
    found: list[Record] = []
    for _ in range(an + ns + ar):
        name, offset = _name(packet, offset)
        rtype, _, _, length = struct.unpack(">2HIH", packet[offset : offset + 10])
        offset += 10
        data = packet[offset : offset + length]
        if rtype == A and length == 4:
            found.append(Record(name.lower(), A, str(ipaddress.IPv4Address(data))))
        elif rtype == PTR:
            found.append(Record(name.lower(), PTR, _name(packet, offset)[0].lower()))
        elif rtype == SRV:
            port = struct.unpack(">H", data[4:6])[0]
            found.append(Record(name.lower(), SRV, f"{port} {_name(packet, offset + 6)[0].lower()}"))
        offset += length
    return found


def ask(name: str, qtype: int, interface_address: str, timeout_s: float = 2.0) -> list[Record]:
    """Ask on the link of ``interface_address`` and gather answers for ``timeout_s``."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        with contextlib.suppress(AttributeError, OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("", PORT))
        local = socket.inet_aton(interface_address)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(GROUP) + local)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, local)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
        sock.sendto(question(name, qtype), (GROUP, PORT))
        found: list[Record] = []
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                packet, _ = sock.recvfrom(9000)
            except TimeoutError:
                break
            with contextlib.suppress(ValueError, struct.error):
                found += records(packet)
        return found
