"""The desktop board's virtual phone: the page lifts the fake handset and presses its keys."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from appliance.runtime.supervisor import Supervisor

from .errors import NotFoundError

Table = dict[str, Any]


@dataclass
class SimHandles:
    """The simulated board's fake hook switch and keypad (``lift``/``replace``/``flash``, ``press``)."""

    hook: Any
    keypad: Any


class VirtualPhone:
    """Drives the fakes like a person would; each answer is the phone once the press went through
    the hook debouncer and the machine (the debounce window is waited for, then the queues)."""

    def __init__(self, supervisor: Supervisor, sim: SimHandles | None, status: Callable[[], Awaitable[Table]],
                 debounce_s: float) -> None:  # fmt: skip
        self.supervisor = supervisor
        self.sim = sim
        self.status = status
        self.debounce_s = debounce_s

    def _handles(self) -> SimHandles:
        if self.sim is None:
            raise NotFoundError("the virtual phone exists on the desktop board only")
        return self.sim

    async def hook(self, off_hook: bool) -> Table:
        hook = self._handles().hook
        if off_hook:
            hook.lift()
        else:
            hook.replace()
        return await self._settled()

    async def flash(self, seconds: float = 0.5) -> Table:
        await self._handles().hook.flash(seconds)
        return await self._settled()

    async def keys(self, keys: str) -> Table:
        self._handles().keypad.press(keys)
        return await self._settled()

    async def _settled(self) -> Table:
        # The debouncer reports an edge once the contact has been still for its window.
        await asyncio.sleep(self.debounce_s + 0.005)
        await self.supervisor.idle()
        return await self.status()
