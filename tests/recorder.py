"""The sink tests hand a telephony core: it keeps every event and waits for the one a step expects.

Shared by the Telephony contract (tests/contract) and the real-daemon tests (tests/jami).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from appliance.phone.events import Event


class Recorder:
    """Collects a core's events and waits for the ones a test expects."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    def mark(self) -> int:
        """Where the events from now on begin (for ``since``)."""
        return len(self.events)

    async def wait_for(
        self, predicate: Callable[[Event], bool], timeout: float = 30.0, *, since: int = 0
    ) -> Any:
        """The first event from ``since`` on that ``predicate`` holds for (one already here, or the
        next to come); TimeoutError after ``timeout`` seconds."""
        async with asyncio.timeout(timeout):
            seen = since
            while True:
                for event in self.events[seen:]:
                    if predicate(event):
                        return event
                seen = len(self.events)
                self._changed.clear()
                await self._changed.wait()
