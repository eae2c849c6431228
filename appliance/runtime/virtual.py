"""An asyncio event loop whose clock jumps: an hour of timers runs in milliseconds.

The simulator runs the real supervisor, fakes and timers on it. When the loop would sleep until
its next timer, the clock advances to that timer instead. I/O still works (the loop's self-pipe,
threads finishing); waiting with no timer at all blocks for real, and so does waiting while work
handed to a thread (``asyncio.to_thread``) runs: a file written off the loop takes no virtual
time, as it takes next to none of a phone's.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar, TypeVarTuple, Unpack

_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")


class _JumpingSelector(selectors.DefaultSelector):
    def __init__(self, clock: VirtualTimeLoop) -> None:
        super().__init__()
        self._clock = clock

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None:
            return super().select(None)
        if self._clock.in_threads:  # the thread's end wakes the loop through its self-pipe
            return super().select(timeout)
        ready = super().select(0)
        if not ready and timeout > 0:
            self._clock.advance(timeout)
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self._virtual_now = 0.0
        self.in_threads = 0  # work handed to an executor and not finished
        super().__init__(selector=_JumpingSelector(self))

    def run_in_executor(
        self, executor: Executor | None, func: Callable[[Unpack[_Ts]], _T], *args: *_Ts
    ) -> asyncio.Future[_T]:
        future = super().run_in_executor(executor, func, *args)
        self.in_threads += 1
        future.add_done_callback(self._thread_done)
        return future

    def _thread_done(self, _future: asyncio.Future[Any]) -> None:
        self.in_threads -= 1

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
