"""NTT's caller ID message (Japan, "ナンバー・ディスプレイ" / Number Display), byte for byte.

NTT's own reference ("Telephone Service Interfaces", 5th edition) was not at hand; this follows
two independent implementations that agree byte for byte: Infineon's TAPI driver (drv_tapi_cid.c,
which cites that edition) and spandsp's adsi.c (JCLIP). The frame is

    DLE SOH header(07) DLE STX type(40) length  parameters  DLE ETX  CRC-low CRC-high

each parameter a type, a length and the value; a DLE in a length (or value) is sent twice, and
counts in the message length. Every byte but the CRC carries even parity in its top bit (seven
data bits). The CRC is CRC-16 with the reflected CCITT polynomial (0x8408), initial value 0, over
the parity-carrying bytes from the header to ETX (the "KERMIT" CRC: 0x2189 for "123456789").

Sent: the caller's number (parameter 02, at most 20 digits, Infineon's limit) or why it is missing
(04: 'P' withheld, 'O' out of area; NTT also has 'C' payphone and 'S' service conflict). No name:
the sources disagree on its parameter type (Infineon 03, Dialogic's NTT table 07), and Japanese
names need kana, which Number Display's 7-bit frame does not carry as ASCII.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.phone.callerid import Absence, CallerId

DLE, SOH, STX, ETX = 0x10, 0x01, 0x02, 0x03
HEADER = 0x07
CALL_SETUP = 0x40  # "type 1", sent with the phone's loop closed after the CAR signal (0x41: type 2)
NUMBER = 0x02
NUMBER_ABSENT = 0x04
NUMBER_DIGITS = 20
MARK_BITS = 78  # no channel seizure; Infineon sends 78 mark bits first (spandsp 75)


class FrameError(ValueError):
    """A frame a receiver would refuse (the message says why)."""


def crc16(data: bytes) -> int:
    """CRC-16, polynomial x^16 + x^12 + x^5 + 1 reflected (0x8408), initial value 0."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


def with_parity(byte: int) -> int:
    """Seven data bits and even parity in the top bit."""
    data = byte & 0x7F
    return data | (0x80 if data.bit_count() % 2 else 0)


def _stuffed(value: bytes) -> bytes:
    return value.replace(bytes((DLE,)), bytes((DLE, DLE)))


def call_setup(caller: CallerId) -> bytes:
    """The whole frame for ``caller``: the number, or why it is missing."""
    digits = "".join(c for c in caller.number if c.isdigit())[-NUMBER_DIGITS:]
    if digits:
        kind, value = NUMBER, digits.encode("ascii")
    else:
        kind, value = NUMBER_ABSENT, (caller.number_absent or Absence.UNAVAILABLE).value.encode("ascii")
    parameters = bytes((kind,)) + _stuffed(bytes((len(value),))) + _stuffed(value)
    body = bytes((DLE, SOH, HEADER, DLE, STX, CALL_SETUP)) + _stuffed(bytes((len(parameters),)))
    body = bytes(with_parity(b) for b in body + parameters + bytes((DLE, ETX)))
    crc = crc16(body[2:])
    return body + bytes((crc & 0xFF, crc >> 8))


@dataclass(frozen=True, slots=True)
class Parsed:
    kind: int
    fields: dict[int, bytes]


def parse(frame: bytes) -> Parsed:
    """Read a frame back as a receiver does: framing, parity and CRC checked, DLEs undoubled."""
    if len(frame) < 11:
        raise FrameError(f"a frame has at least 11 bytes (got {len(frame)})")
    body, crc = frame[:-2], frame[-2] | frame[-1] << 8
    if crc16(body[2:]) != crc:
        raise FrameError(f"CRC {crc:#06x} is wrong (computed {crc16(body[2:]):#06x})")
    if any(with_parity(b) != b for b in body):
        raise FrameError("a byte has the wrong parity")
    data = bytes(b & 0x7F for b in body)
    if data[:6] != bytes((DLE, SOH, HEADER, DLE, STX)) + data[5:6] or data[-2:] != bytes((DLE, ETX)):
        raise FrameError(f"not DLE SOH header DLE STX ... DLE ETX: {data.hex()}")
    length, start = data[6], 8 if data[6:8] == bytes((DLE, DLE)) else 7
    sent = data[start:-2]  # the message length counts the doubled DLEs, as sent
    if len(sent) != length:
        raise FrameError(f"message length {length} does not match the {len(sent)} bytes sent")
    content = _undoubled(sent)
    fields: dict[int, bytes] = {}
    at = 0
    while at < len(content):
        if at + 2 > len(content) or at + 2 + content[at + 1] > len(content):
            raise FrameError(f"parameter at byte {at} runs past the end")
        fields[content[at]] = content[at + 2 : at + 2 + content[at + 1]]
        at += 2 + content[at + 1]
    return Parsed(data[5], fields)


def _undoubled(data: bytes) -> bytes:
    out, at = bytearray(), 0
    while at < len(data):
        out.append(data[at])
        at += 2 if data[at] == DLE and data[at + 1 : at + 2] == bytes((DLE,)) else 1
    return bytes(out)
