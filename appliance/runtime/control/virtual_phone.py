"""The desktop board's virtual phone: the page lifts the fake handset and presses its keys."""

from __future__ import annotations

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
    the hook debouncer and the machine (:meth:`Supervisor.settled`: no fixed sleep)."""

    def __init__(self, supervisor: Supervisor, sim: SimHandles | None,
                 status: Callable[[], Awaitable[Table]]) -> None:  # fmt: skip
        self.supervisor = supervisor
        self.sim = sim
        self.status = status

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
        await self.supervisor.settled()
        return await self.status()
