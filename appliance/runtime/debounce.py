"""Hook-switch debouncing, once for every driver: fakes and GPIO alike."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable


class HookDebouncer:
    """Leading-edge debounce with a settle check.

    The first edge of a transition is reported at once (hook lift -> dial tone must not wait for
    the contacts to settle), then edges are ignored for ``window_s``; when the window ends, if the
    contact came to rest on the other level, that is reported with the time of its last edge.
    An open shorter than the window therefore shows up as an open of about one window, which the
    phone's hook decoder treats as bounce as long as the window is below the shortest dial pulse
    (the config checks that).
    """

    def __init__(self, window_s: float, report: Callable[[bool, float], None]) -> None:
        self.window_s = window_s
        self._report = report
        self._level: bool | None = None
        self._locked_until = -math.inf
        self._settled: tuple[bool, float] | None = None  # last raw edge seen inside the window

    @property
    def quiet_at(self) -> float:
        """When the current window ends (in the past when none is open)."""
        return self._locked_until

    def reset(self, level: bool) -> None:
        self._level = level
        self._locked_until = -math.inf
        self._settled = None

    def edge(self, level: bool, at: float) -> None:
        if at < self._locked_until:
            self._settled = (level, at)
            return
        if level != self._level:
            self._accept(level, at)

    def _accept(self, level: bool, at: float) -> None:
        self._level = level
        self._settled = None
        self._report(level, at)
        if self.window_s > 0:
            self._locked_until = at + self.window_s
            asyncio.get_running_loop().call_at(self._locked_until, self._settle)

    def _settle(self) -> None:
        settled, self._settled = self._settled, None
        if settled is not None and settled[0] != self._level:
            self._accept(*settled)
