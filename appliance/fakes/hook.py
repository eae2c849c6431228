from __future__ import annotations

import asyncio
import random
from collections import deque

from appliance.ports import HookEdge

from ._watch import RECORDED, Watchable


class FakeHookSwitch(Watchable):
    """A cradle switch whose contacts bounce, driven by physical actions.

    ``bounce_ms`` > 0 makes every transition chatter for up to that long (random, seeded) before it
    settles, like a real leaf switch; time comes from the running event loop, so the same fake
    works in real and in virtual time.
    """

    def __init__(self, bounce_ms: float = 0.0, seed: int = 0) -> None:
        super().__init__()
        self.bounce_ms = bounce_ms
        self._rng = random.Random(seed)  # noqa: S311 - simulated contact bounce, not crypto
        self._level = False
        self._on_edge: HookEdge | None = None
        self.edges: deque[tuple[float, bool]] = deque(maxlen=RECORDED)  # the newest raw edges, timed
        self.edge_count = 0  # every raw edge ever sent

    @property
    def off_hook(self) -> bool:
        return self._level

    async def start(self, on_edge: HookEdge) -> None:
        self._on_edge = on_edge

    async def stop(self) -> None:
        self._on_edge = None

    # --- physical actions --------------------------------------------------------------------

    def lift(self) -> None:
        self._transition(off_hook=True)

    def replace(self) -> None:
        self._transition(off_hook=False)

    async def flash(self, seconds: float = 0.5) -> None:
        """Press the cradle for ``seconds`` and let go."""
        self.replace()
        await asyncio.sleep(seconds)
        self.lift()

    async def dial(
        self, digits: str, pps: float = 10.0, break_ratio: float = 0.6, gap_s: float = 0.7
    ) -> None:
        """Dial on a rotary dial: each digit as pulses of break (on hook) and make, then a pause."""
        period = 1.0 / pps
        for digit in digits:
            pulses = 10 if digit == "0" else int(digit)
            for _ in range(pulses):
                self.replace()
                await asyncio.sleep(period * break_ratio)
                self.lift()
                await asyncio.sleep(period * (1 - break_ratio))
            await asyncio.sleep(gap_s)

    # --- the circuit ---------------------------------------------------------------------------

    def _transition(self, *, off_hook: bool) -> None:
        if off_hook == self._level:
            return
        self._notify(event="hook", off_hook=off_hook)
        loop = asyncio.get_running_loop()
        if self.bounce_ms <= 0:
            self._edge(off_hook)
            return
        # Chatter: alternate edges at random offsets inside the bounce window, ending settled.
        count = self._rng.randrange(1, 5) * 2  # pairs of extra edges
        offsets = sorted(self._rng.uniform(0, self.bounce_ms / 1000) for _ in range(count))
        self._edge(off_hook)
        level = off_hook
        for offset in offsets:
            level = not level
            loop.call_later(offset, self._edge, level)

    def _edge(self, level: bool) -> None:
        if level == self._level:
            return
        self._level = level
        now = asyncio.get_running_loop().time()
        self.edges.append((now, level))
        self.edge_count += 1
        if self._on_edge is not None:
            self._on_edge(level, now)
