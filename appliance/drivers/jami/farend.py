"""Noticing a far end that vanished mid-call (its daemon killed, its power or network gone).

This daemon (13.7) learns of it only when the call's TLS channel to the peer times out: a call
stayed up 37-41 s after the far daemon was SIGKILLed (measured), and nothing shows on D-Bus
meanwhile. What it does offer is a beacon: ``connectivityChanged()`` makes it send one on every
connection to a peer and shut a connection unanswered after 3 s (MultiplexedSocket::sendBeacon,
SEND_BEACON_TIMEOUT), which ends the calls on it (FAILURE 104, "underlying SIP transport was
closed", sipcall.cpp). Measured: a dead call failed 3.0 s after the call; a healthy one went on.

So the adapter asks only when it has a reason: the media clock (written by the preloaded
``opus_fec.c``) shows when each call's decoder last had a packet, and the daemon sends audio
even in silence (no Opus DTX), so a decoder quiet for ``QUIET_S`` means the far end's packets
stopped. One beacon per quiet spell: an answered one (a call on hold, a hiccup) leaves the call
alone. A Wi-Fi outage shorter than about ``QUIET_S`` + 1.4 s (the beacon rides TCP, whose
retransmissions come 0.2, 0.6, 1.4, 3.0 s after it) lets the answer through in time; a longer
one ends the call, as a lost call should.

``connectivityChanged`` also refreshes the DHT's routing table and re-registers SIP accounts, so
no beacon is asked for while a SIP call is up (the SIP peer's silence says nothing of Jami peers).
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

QUIET_S = 1.5  # no packet from the far end this long: ask the daemon whether it is still there
POLL_S = 0.25
# A second beacon before the first is answered counts against it (one counter per connection:
# an answer 2.9 s into the first and a second beacon 0.2 s before would shut a healthy one).
BEACON_SPACING_S = 4.0
_SLOT = struct.Struct("=qq")  # struct heard in opus_fec.c: started_ns, heard_ns


@dataclass(frozen=True)
class Stream:
    """One call's incoming audio as the media clock has it (monotonic seconds)."""

    slot: int
    started: float
    heard: float | None  # None: no packet yet

    def quiet_since(self) -> float:
        return max(self.started, self.heard or 0.0)  # a torn read may pair a new start with an old stamp


def read_clock(path: Path) -> list[Stream]:
    """The streams in use; none if there is no clock (no call since the daemon started, or no
    preloaded library). A torn read (a slot written meanwhile) is at worst one poll's mistake."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    streams = []
    whole = len(data) - len(data) % _SLOT.size
    for slot, (started, heard) in enumerate(_SLOT.iter_unpack(data[:whole])):
        if started > 0:
            streams.append(Stream(slot, started / 1e9, heard / 1e9 if heard > 0 else None))
    return streams


class FarEndWatch:
    """Decides when to ask the daemon for a beacon: a stream quiet for ``quiet_s``, asked about
    once per quiet spell, beacons at least ``spacing_s`` apart."""

    def __init__(self, *, quiet_s: float = QUIET_S, spacing_s: float = BEACON_SPACING_S) -> None:
        self.quiet_s = quiet_s
        self.spacing_s = spacing_s
        self._asked: dict[tuple[int, float], float] = {}  # (slot, started) -> the spell asked about
        self._last: float | None = None
        self.beacons = 0

    def due(self, streams: list[Stream], now: float) -> Stream | None:
        """The quiet stream to ask about now, if any (and it is then taken as asked about)."""
        live = {(s.slot, s.started) for s in streams}
        self._asked = {k: v for k, v in self._asked.items() if k in live}
        for stream in streams:
            key, spell = (stream.slot, stream.started), stream.quiet_since()
            if now - spell < self.quiet_s or self._asked.get(key) == spell:
                continue
            if self._last is not None and now - self._last < self.spacing_s:
                return None
            self._asked[key] = spell
            self._last = now
            self.beacons += 1
            return stream
        return None
