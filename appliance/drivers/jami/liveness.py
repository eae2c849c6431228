"""Noticing a daemon that stopped answering (stopped by a signal, deadlocked, swapped out).

A dead daemon is seen at once (its process exits); a hung one is not: its socket stays open and
every call to it waits. So the adapter pings it, a cheap call every ``interval_s`` with a short
bound, and takes ``misses`` unanswered in a row (pings, or the phone's own calls timing out) as a
hung daemon. With the defaults a daemon stopped at any instant is noticed 4-6 s later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

PING_INTERVAL_S = 2.0
PING_TIMEOUT_S = 2.0  # a local daemon answers in milliseconds, even while it makes keys
MISSES = 2  # one miss may be a stall (a page fault storm, a busy core); two in a row are a hang


class Liveness:
    """Counts the daemon's unanswered calls; :meth:`until_hung` returns once there were enough.

    ``ping`` is awaited every ``interval_s`` and says whether the daemon answered within its bound
    (any answer, an error too, shows it alive). ``excused``
    says when a miss does not count (a slow call the daemon may be busy with is in flight).
    """

    def __init__(
        self,
        ping: Callable[[], Awaitable[bool]],
        *,
        interval_s: float = PING_INTERVAL_S,
        misses: int = MISSES,
        excused: Callable[[], bool] = lambda: False,
    ) -> None:
        self.ping = ping
        self.interval_s = interval_s
        self.misses = misses
        self.excused = excused
        self.missed = 0
        self._missed_changed = asyncio.Event()

    def unanswered(self, what: str) -> None:
        """A call other than a ping went unanswered: it counts as a miss."""
        self._miss(what)

    def _miss(self, what: str) -> None:
        if self.excused():
            return
        self.missed += 1
        log.warning("jamid did not answer %s (%d in a row)", what, self.missed)
        self._missed_changed.set()

    async def until_hung(self) -> None:
        """Ping until ``misses`` calls in a row went unanswered."""
        loop = asyncio.get_running_loop()
        self.missed = 0
        while self.missed < self.misses:
            started = loop.time()
            if await self.ping():
                self.missed = 0
            else:
                self._miss("a ping")
            if self.missed >= self.misses:
                break
            self._missed_changed.clear()
            wait = max(0.0, self.interval_s - (loop.time() - started))
            # A command's timeout may make the count while this waits for the next ping.
            try:
                async with asyncio.timeout(wait):
                    while self.missed < self.misses:
                        await self._missed_changed.wait()
                        self._missed_changed.clear()
            except TimeoutError:
                pass
