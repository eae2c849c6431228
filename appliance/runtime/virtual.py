"""An asyncio event loop whose clock jumps: an hour of timers runs in milliseconds.

The simulator runs the real supervisor, fakes and timers on it. When the loop would sleep until
its next timer, the clock advances to that timer instead. I/O still works (the loop's self-pipe,
threads finishing); waiting with no timer at all blocks for real.
"""

from __future__ import annotations

import asyncio
import selectors
from typing import Any


class _JumpingSelector(selectors.DefaultSelector):
    def __init__(self, clock: VirtualTimeLoop) -> None:
        super().__init__()
        self._clock = clock

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None:
            return super().select(None)
        ready = super().select(0)
        if not ready and timeout > 0:
            self._clock.advance(timeout)
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self._virtual_now = 0.0
        super().__init__(selector=_JumpingSelector(self))

    def time(self) -> float:
        return self._virtual_now

    def advance(self, seconds: float) -> None:
        self._virtual_now += seconds


def run_virtual(main: Any) -> Any:  # noqa: ANN401 - whatever the coroutine returns
    """Run a coroutine to completion in virtual time."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main)
    finally:
        loop.close()
