"""The local time of day, and whether the system clock is known right.

A Pi has no real-time clock: it boots with the time it last saved (or 1970) and gets the right
time once systemd-timesyncd has reached an NTP server. The kernel tracks which: the clock is
unsynchronised (adjtimex answers TIME_ERROR, STA_UNSYNC set) until an NTP client disciplines
it, which is what ``timedatectl``'s NTPSynchronized reads too.

Asking the kernel takes adjtimex (clock_adjtime on arm64) even to read, and the phone's unit has
ProtectClock=yes, whose seccomp filter kills the process on it (SIGSYS: the supervisor
crash-looped on the image). So under a seccomp filter the kernel is not asked: the clock counts
as synchronised once systemd-timesyncd has said so, by touching its flag file in /run at each
synchronisation this boot (systemd-timesyncd.service(8)).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import time
from pathlib import Path

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


TIMESYNCD_FLAG = Path("/run/systemd/timesync/synchronized")
PROC_STATUS = Path("/proc/self/status")


def clock_synchronized(flag: Path = TIMESYNCD_FLAG, status: Path = PROC_STATUS) -> bool:
    """Whether an NTP client has set the system clock (False when nothing can say)."""
    if flag.exists():
        return True
    if _seccomp_filtered(status):
        return False  # adjtimex may be forbidden (ProtectClock): never ask, the answer could be SIGSYS
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        timex = _Timex()  # modes 0: read only
        state = libc.adjtimex(ctypes.byref(timex))
    except (OSError, AttributeError) as exc:  # no libc adjtimex (not Linux)
        log.warning("clock synchronisation not readable: %s", exc)
        return False
    return state not in (-1, _TIME_ERROR) and not timex.status & _STA_UNSYNC


def _seccomp_filtered(status: Path) -> bool:
    """Whether a seccomp filter is on this process (``Seccomp: 2`` in /proc/self/status)."""
    try:
        for line in status.read_text().splitlines():
            if line.startswith("Seccomp:"):
                return line.split()[1] != "0"
    except (OSError, IndexError):
        return True  # cannot tell: do not risk the call
    return False


def read_local_clock() -> ClockRead:
    """Seconds since local midnight by the system clock, and whether that clock is synchronised."""
    now = time.localtime()
    return ClockRead(now.tm_hour * 3600.0 + now.tm_min * 60.0 + now.tm_sec, synced=clock_synchronized())
