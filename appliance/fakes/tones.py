from __future__ import annotations

import asyncio
from collections import deque

from appliance.phone.tones import Tone, TonePattern

from ._watch import RECORDED, Watchable


class FakeTones(Watchable):
    """A tone player that records what it played; at most one tone sounds at a time."""

    def __init__(self) -> None:
        super().__init__()
        self.current: Tone | None = None
        self.pattern: TonePattern | None = None
        self.played: deque[tuple[float, Tone | None]] = deque(maxlen=RECORDED)

    @property
    def playing(self) -> Tone | None:
        return self.current

    def play(self, tone: Tone, pattern: TonePattern) -> None:
        self.current, self.pattern = tone, pattern
        self._record(tone)

    def stop_tone(self) -> None:
        if self.current is not None:
            self.current = self.pattern = None
            self._record(None)

    async def stop(self) -> None:
        self.stop_tone()

    def _record(self, tone: Tone | None) -> None:
        self.played.append((asyncio.get_running_loop().time(), tone))
        self._notify(event="tone", tone=tone.value if tone else None)
