from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import pytest

from appliance.config.load import Layer, load_layers
from appliance.phone.model import Registration
from appliance.runtime.supervisor import Supervisor
from appliance.runtime.virtual import run_virtual
from appliance.sim import Simulation

CONTACTS = [
    {"name": "Alice", "uri": "a" * 40, "speed_dial": "2"},
    {"name": "Bob", "uri": "b" * 40, "speed_dial": "3"},
]


@asynccontextmanager
async def supervised(supervisor: Supervisor) -> AsyncIterator[Supervisor]:
    """The supervisor running in the current loop while the block runs; stopped after, also on failure."""
    task = asyncio.get_running_loop().create_task(supervisor.run())
    await supervisor.started()
    try:
        yield supervisor
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@asynccontextmanager
async def running(
    table: dict[str, Any] | None = None, bounce_ms: float = 0.0, seed: int = 0
) -> AsyncIterator[Simulation]:
    """A desktop phone running on fakes in the current loop; registered before it is handed out."""
    loaded = load_layers([Layer("defaults", {}), Layer("test", {"contacts": CONTACTS, **(table or {})})])
    sim = Simulation.build(loaded)
    sim.fakes.hook.bounce_ms = bounce_ms
    sim.fakes.hook._rng.seed(seed)
    async with supervised(sim.supervisor):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5.0  # virtual time; a test whose accounts never register goes on then
        accounts = lambda: sim.supervisor.phone.accounts  # noqa: E731
        while loop.time() < deadline and not (
            accounts() and all(a.registration is Registration.REGISTERED for a in accounts())
        ):
            await asyncio.sleep(0.05)
        yield sim


@pytest.fixture
def virtual() -> Callable[[Coroutine[Any, Any, Any]], Any]:
    return run_virtual
