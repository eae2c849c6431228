"""The web page on a running desktop phone (fakes behind a real supervisor), served on loopback."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from appliance.assembly import assemble
from appliance.config.load import Layer
from appliance.config.store import DataConfig
from appliance.runtime.config_store import ConfigStore
from appliance.runtime.control import Controllers
from appliance.runtime.supervisor import Supervisor
from appliance.sim import Fakes
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
    (``appliance.runtime.maintenance.ProcessPower``) is exercised by test_system.py on real processes."""

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
    control: Controllers
    web: WebApp
    clock: Clock
    store: ConfigStore
    power: RecordedPower

    def session(self, basic: tuple[str, str] | None = None) -> aiohttp.ClientSession:
        headers = {"Authorization": aiohttp.encode_basic_auth(*basic)} if basic else None
        return aiohttp.ClientSession(self.url, cookie_jar=aiohttp.CookieJar(unsafe=True), headers=headers)

    def admin(self) -> aiohttp.ClientSession:
        return self.session(basic=("admin", PASSWORD))

    @property
    def setup_code(self) -> str:
        """The code on the phone's display (read here as a person reads it there)."""
        return self.control.setup.claim.code


@contextlib.asynccontextmanager
async def running(
    data: Path,
    *,
    password: bool = True,
    desktop: bool = True,
    table: dict | None = None,
    mac: str | None = None,
    **assembly: Any,  # more of assemble()'s arguments (the firmware hand-over directory)
) -> AsyncIterator[Stack]:
    """The phone as ``appliance run`` assembles it (the desktop board, data in ``data``), with
    its page served in this process on a free port."""
    board = {"board": {"name": "desktop", "simulated": desktop}, **(table or {})}
    layers = [Layer("defaults", {}), Layer("board", board), Layer("data", DataConfig(data).read())]
    power = RecordedPower()
    phone = assemble(layers, data, version="test", power=power, mac=mac, **assembly)
    task = asyncio.get_running_loop().create_task(phone.supervisor.run())
    await phone.supervisor.started()
    clock = Clock()
    web = WebApp(phone.control, data, clock=clock)
    if password:
        web.password.set(PASSWORD)
    port = free_port()
    runner = await serve(web, f"127.0.0.1:{port}")
    try:
        yield Stack(f"http://127.0.0.1:{port}", data, Fakes.of(phone.ports), phone.supervisor, phone.control,
                    web, clock, phone.store, power)  # fmt: skip
    finally:
        await phone.provisioning.stop()
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
