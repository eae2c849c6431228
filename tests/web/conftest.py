"""The web page on a running desktop phone (fakes behind a real supervisor), served on loopback."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from appliance.config.load import Layer, contacts_of, load_layers, settings_of
from appliance.phone.model import Phone
from appliance.runtime.control import Control, SimHandles
from appliance.runtime.supervisor import Supervisor
from appliance.sim import Fakes, make_fakes
from appliance.web.server import WebApp, serve
from tests.net import free_port

PASSWORD = "correct horse battery"


class Clock:
    """A monotonic clock the test moves (session expiry, login brake)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class RecordedPower:
    """The in-process stack has no process to restart: what was asked is recorded. The real one
    (``appliance.app.ProcessPower``) is exercised by test_system.py on real processes."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def restart(self, *, wipe: bool = False) -> None:
        self.requests.append("wipe" if wipe else "restart")

    def reboot(self) -> None:
        self.requests.append("reboot")


@dataclass
class Stack:
    url: str
    data: Path
    fakes: Fakes
    supervisor: Supervisor
    control: Control
    web: WebApp
    clock: Clock

    def session(self, basic: tuple[str, str] | None = None) -> aiohttp.ClientSession:
        headers = {"Authorization": aiohttp.encode_basic_auth(*basic)} if basic else None
        return aiohttp.ClientSession(self.url, cookie_jar=aiohttp.CookieJar(unsafe=True), headers=headers)

    def admin(self) -> aiohttp.ClientSession:
        return self.session(basic=("admin", PASSWORD))


@contextlib.asynccontextmanager
async def running(
    data: Path, *, password: bool = True, desktop: bool = True, table: dict | None = None
) -> AsyncIterator[Stack]:
    layers = [Layer("defaults", {}), Layer("board", {"board": {"name": "desktop"}, **(table or {})})]
    loaded = load_layers(layers)
    fakes = make_fakes(loaded)
    supervisor = Supervisor(
        fakes.ports(), Phone.initial(settings_of(loaded.config), contacts_of(loaded.config))
    )
    task = asyncio.get_running_loop().create_task(supervisor.run())
    await supervisor.started()
    sim = SimHandles(fakes.hook, fakes.keypad) if desktop else None
    power = RecordedPower()
    control = Control(supervisor, layers, data, sim=sim, version="test", power=power)
    clock = Clock()
    web = WebApp(control, data, clock=clock)
    if password:
        web.password.set(PASSWORD)
    port = free_port()
    runner = await serve(web, f"127.0.0.1:{port}")
    try:
        yield Stack(f"http://127.0.0.1:{port}", data, fakes, supervisor, control, web, clock)
    finally:
        await runner.cleanup()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running(tmp_path) as s:
        yield s


@pytest.fixture
async def fresh(tmp_path: Path) -> AsyncIterator[Stack]:
    """A phone nobody has set up yet: no admin password."""
    async with running(tmp_path, password=False) as s:
        yield s
