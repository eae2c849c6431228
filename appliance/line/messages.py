"""Caller ID and message-waiting messages, byte for byte.

Telcordia GR-30-CORE (Bellcore) and ETSI EN 300 659-3 share the layout: message type, length,
the parameters (type, length, value) or, in SDMF, fixed fields, then a checksum that makes the sum
of every byte, itself included, 0 modulo 256. Numbers are ASCII digits; names printable ASCII.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from appliance.phone.callerid import Absence, CallerId, Standard

# Message types
MDMF_CALL_SETUP = 0x80  # GR-30 MDMF; EN 300 659-3 "call set-up"
MDMF_MWI = 0x82  # GR-30 MDMF message waiting; EN 300 659-3 "message waiting indicator"
SDMF_CALL_SETUP = 0x04
SDMF_MWI = 0x06

# Parameter types
DATE_TIME = 0x01
NUMBER = 0x02
NUMBER_ABSENT = 0x04
NAME = 0x07
NAME_ABSENT = 0x08
VISUAL_INDICATOR = 0x0B


@dataclass(frozen=True, slots=True)
class Limits:
    number: int
    name: int


# GR-30 MDMF: names of up to 15 characters; EN 300 659-3: numbers of 20, names of 50.
LIMITS = {Standard.BELLCORE: Limits(number=15, name=15), Standard.ETSI_FSK: Limits(number=20, name=50)}
SDMF_NUMBER = 10  # SDMF's number field: ten digits (a North American number)


class MessageError(ValueError):
    """A field that cannot be sent (the message names it)."""


def checksum(body: bytes) -> int:
    """The two's complement of the modulo-256 sum: the sum of the message and checksum is 0."""
    return -sum(body) & 0xFF


def printable(name: str) -> str:
    """The name in printable ASCII: accents dropped (é -> e), tabs and line breaks made spaces,
    anything else that is not printable removed, runs of spaces made one. Caller ID displays
    show 7-bit characters only."""
    decomposed = unicodedata.normalize("NFKD", name)
    ascii_only = "".join(" " if c.isspace() else c for c in decomposed if c.isspace() or " " <= c <= "~")
    return " ".join(ascii_only.split())


def when_field(when: datetime) -> bytes:
    return when.strftime("%m%d%H%M").encode("ascii")


def _number(caller: CallerId, limit: int) -> str:
    digits = "".join(c for c in caller.number if c.isdigit())
    if caller.number and digits != caller.number:
        raise MessageError(f"number: digits only (got {caller.number!r})")
    # A number too long keeps its end: the subscriber's part, which people recognise.
    return digits[-limit:]


def _tlv(kind: int, value: bytes) -> bytes:
    if len(value) > 255:
        raise MessageError(f"parameter {kind:#04x} is {len(value)} bytes, at most 255")
    return bytes((kind, len(value))) + value


def _message(kind: int, body: bytes) -> bytes:
    head = bytes((kind, len(body))) + body
    return head + bytes((checksum(head),))


def call_setup(caller: CallerId, when: datetime, standard: Standard = Standard.BELLCORE) -> bytes:
    """The multiple-data-message call set-up: date and time, number or why not, name or why not."""
    limits = LIMITS[standard]
    body = _tlv(DATE_TIME, when_field(when))
    number = _number(caller, limits.number)
    if number:
        body += _tlv(NUMBER, number.encode("ascii"))
    else:
        body += _tlv(NUMBER_ABSENT, (caller.number_absent or Absence.UNAVAILABLE).value.encode("ascii"))
    name = printable(caller.name)[: limits.name].rstrip()
    if name:
        body += _tlv(NAME, name.encode("ascii"))
    else:
        body += _tlv(NAME_ABSENT, (caller.name_absent or Absence.UNAVAILABLE).value.encode("ascii"))
    return _message(MDMF_CALL_SETUP, body)


def sdmf_call_setup(caller: CallerId, when: datetime) -> bytes:
    """The single-data-message format: date and time, then the number, or 'O' / 'P' alone."""
    number = _number(caller, SDMF_NUMBER)
    field = number or (caller.number_absent or Absence.UNAVAILABLE).value
    return _message(SDMF_CALL_SETUP, when_field(when) + field.encode("ascii"))


def message_waiting(*, on: bool, sdmf: bool = False) -> bytes:
    """Visual message waiting (VMWI): the lamp on or off."""
    if sdmf:  # GR-30 SDMF: three 0x42 bytes for on, three 0x6F for off
        return _message(SDMF_MWI, bytes((0x42 if on else 0x6F,) * 3))
    return _message(MDMF_MWI, _tlv(VISUAL_INDICATOR, bytes((0xFF if on else 0x00,))))


@dataclass(frozen=True, slots=True)
class Parsed:
    kind: int
    fields: dict[int, bytes]


def parse(message: bytes) -> Parsed:
    """Read a message back (what a receiver does): type, length, parameters, checksum checked."""
    if len(message) < 3:
        raise MessageError(f"a message has at least 3 bytes (got {len(message)})")
    kind, length = message[0], message[1]
    if len(message) != length + 3:
        raise MessageError(f"length byte says {length}, message has {len(message) - 3} bytes of body")
    if sum(message) & 0xFF:
        raise MessageError(f"checksum {message[-1]:#04x} is wrong")
    body = message[2:-1]
    if kind in (SDMF_CALL_SETUP, SDMF_MWI):
        return Parsed(kind, {0: body})
    fields: dict[int, bytes] = {}
    at = 0
    while at < len(body):
        if at + 2 > len(body) or at + 2 + body[at + 1] > len(body):
            raise MessageError(f"parameter at byte {at} runs past the end")
        fields[body[at]] = body[at + 2 : at + 2 + body[at + 1]]
        at += 2 + body[at + 1]
    return Parsed(kind, fields)
