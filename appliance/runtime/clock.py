"""The local time of day, and whether the system clock is known right.

A Pi has no real-time clock: it boots with the time it last saved (or 1970) and gets the right
time once systemd-timesyncd has reached an NTP server. The kernel tracks which: the clock is
unsynchronised (adjtimex answers TIME_ERROR, STA_UNSYNC set) until an NTP client disciplines
it, which is what ``timedatectl``'s NTPSynchronized reads too.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import time

from appliance.phone.events import ClockRead

log = logging.getLogger(__name__)

_TIME_ERROR = 5  # adjtimex's answer for an unsynchronised clock (linux/timex.h)
_STA_UNSYNC = 0x0040


class _Timex(ctypes.Structure):
    """``struct timex`` up to ``status``, the one field read; the rest is room for the kernel to
    fill (the struct is 208 bytes on 64-bit Linux, less on 32-bit)."""

    _fields_ = (
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("rest", ctypes.c_byte * 256),
    )


def clock_synchronized() -> bool:
    """Whether an NTP client has set the system clock (False when the kernel cannot say)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        timex = _Timex()  # modes 0: read only
        state = libc.adjtimex(ctypes.byref(timex))
    except (OSError, AttributeError) as exc:  # no libc adjtimex (not Linux)
        log.warning("clock synchronisation not readable: %s", exc)
        return False
    return state not in (-1, _TIME_ERROR) and not timex.status & _STA_UNSYNC


def read_local_clock() -> ClockRead:
    """Seconds since local midnight by the system clock, and whether that clock is synchronised."""
    now = time.localtime()
    return ClockRead(now.tm_hour * 3600.0 + now.tm_min * 60.0 + now.tm_sec, synced=clock_synchronized())
