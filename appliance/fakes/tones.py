from __future__ import annotations

import asyncio
from collections import deque
from pathlib import Path

from appliance.phone.tones import Tone, TonePattern

from ._watch import RECORDED, Watchable


class FakeTones(Watchable):
    """A tone player that records what it played and said; one sound at a time. A prompt is
    "said" at once and then counts as still sounding until something replaces it."""

    def __init__(self) -> None:
        super().__init__()
        self.current: Tone | None = None
        self.pattern: TonePattern | None = None
        self.saying: str | None = None
        self.then: Path | None = None  # the message played after the prompt being said
        self.played: deque[tuple[float, Tone | None]] = deque(maxlen=RECORDED)
        self.said: deque[tuple[float, str, str]] = deque(maxlen=RECORDED)  # (time, language, text)

    @property
    def playing(self) -> Tone | None:
        return self.current

    def play(self, tone: Tone, pattern: TonePattern) -> None:
        self.current, self.pattern, self.saying = tone, pattern, None
        self._record(tone)

    def say(self, text: str, language: str, then: Path | None = None) -> None:
        if self.current is not None:
            self.current = self.pattern = None
            self._record(None)
        self.saying, self.then = text, then
        self.said.append((asyncio.get_running_loop().time(), language, text))
        self._notify(event="announce", text=text, language=language)

    def stop_tone(self) -> None:
        self.saying = self.then = None
        if self.current is not None:
            self.current = self.pattern = None
            self._record(None)

    async def stop(self) -> None:
        self.stop_tone()

    def _record(self, tone: Tone | None) -> None:
        self.played.append((asyncio.get_running_loop().time(), tone))
        self._notify(event="tone", tone=tone.value if tone else None)
