"""Tell systemd the phone is ready (Type=notify) and alive (WatchdogSec): the sd_notify protocol.

One datagram to $NOTIFY_SOCKET per message; a no-op when not run by systemd. The watchdog is fed
from the event loop itself, so a loop stuck for longer than WatchdogSec gets the service restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket


def notify(message: str) -> bool:
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(message.encode(), address)
        return True
    return False


async def watchdog() -> None:
    """Ping at half the watchdog interval, for as long as the loop runs."""
    usec = int(os.environ.get("WATCHDOG_USEC", "0") or 0)
    if usec <= 0 or os.environ.get("WATCHDOG_PID", str(os.getpid())) != str(os.getpid()):
        return
    while True:
        notify("WATCHDOG=1")
        await asyncio.sleep(usec / 2_000_000)
