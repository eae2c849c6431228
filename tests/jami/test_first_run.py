"""One Jami identity per phone, whatever instant of the first run the power is cut at.

On the real daemon: the first start is cut at each step of making the account (the daemon and
its bus SIGKILLed by PID, the adapter dropped: nothing of it runs after the cut, as in a power cut),
then the phone starts again on the same data directory. It must come back with the Jami ID it had
made, if it had made one, with exactly one Jami account in the daemon, and keep it at the start
after that. (SIGKILL leaves the page cache, a power cut does not: the fsyncs behind account-id are
checked in tests/unit/test_jami_accounts.py.)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
from pathlib import Path

import pytest

from appliance.drivers.jami import defs
from appliance.drivers.jami.client import JamiTelephony
from appliance.phone.events import AccountChanged
from appliance.phone.model import Registration
from tests.recorder import Recorder

from .conftest import requirements

pytestmark = requirements


class PowerCut(Exception):  # noqa: N818 - what it is
    """The appliance's process ends here (the test's stand-in for it losing power)."""


def registered(event: object) -> bool:
    return isinstance(event, AccountChanged) and event.account.registration is Registration.REGISTERED


def core_on(root: Path, netns: str, dht: str, on_step=None) -> JamiTelephony:
    return JamiTelephony(
        root, display_name="Desk", bootstrap=[dht], wrapper=["ip", "netns", "exec", netns], on_step=on_step
    )


def cut_power(core: JamiTelephony) -> None:
    """Drop the adapter (none of its tasks runs again) and SIGKILL the daemon and its bus, by PID,
    all without yielding to the loop in between."""
    for task in [core._watcher, core._settler, *core._tasks]:
        if task is not None:
            task.cancel()
    for pid in core.daemon.pids():
        os.kill(pid, signal.SIGKILL)


async def reap(core: JamiTelephony) -> None:
    """After the test (or the cut): the processes it started are gone, by PID, also on failure."""
    for task in [core._watcher, core._settler, *core._tasks]:
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
    await core._disconnect()
    await core.daemon.stop()
    assert core.daemon.pids() == []


async def jami_accounts(core: JamiTelephony) -> list[str]:
    accounts = await core._config.call_get_account_list()
    return [
        a for a in accounts if (await core._config.call_get_account_details(a))[defs.ACCOUNT_TYPE] == "RING"
    ]


async def start_again(root: Path, netns: str, dht: str) -> str:
    """Start the phone on ``root``; its Jami ID, once it is announced with its one Jami account."""
    core = core_on(root, netns, dht)
    events = Recorder()
    try:
        await core.start(events)
        await events.wait_for(registered, 60)
        assert re.fullmatch("[0-9a-f]{40}", core.jami_id), core.jami_id
        assert await jami_accounts(core) == [core.account_id]
        assert (root / "account-id").read_text().strip() == core.account_id
        return core.jami_id
    finally:
        await core.stop()
        assert core.daemon.pids() == []


@pytest.mark.parametrize("step", ["adding", "added", "made", "remembered", "announced"])
async def test_a_power_cut_in_the_first_run_never_makes_a_second_identity(netns, dht, tmp_path, step):
    """adding: while addAccount is in flight; added: it returned, the identity not made yet;
    made: the identity made and synced, account-id not written; remembered: account-id written;
    announced: the account is on the DHT and reported ready."""
    root = tmp_path / "phone"
    had = ""  # the Jami ID the daemon had made when the power went, if any
    went = False

    def power_cut() -> None:
        nonlocal went
        went = True
        cut_power(first)

    async def on_step(at: str, account: str) -> None:
        nonlocal had
        if went:
            raise PowerCut  # addAccount came back before the cut landed: the process is gone now
        if at == step == "adding":  # cut while the call is on its way or being handled
            asyncio.get_running_loop().call_later(0.002, power_cut)
        elif at == step:
            details = await first._config.call_get_account_details(account)
            had = details.get(defs.ACCOUNT_USERNAME, "")
            power_cut()
            raise PowerCut

    first = core_on(root, netns, dht, on_step)
    events = Recorder()
    try:
        if step == "announced":
            await first.start(events)
            await events.wait_for(registered, 60)
            had = first.jami_id
            power_cut()
        else:
            with pytest.raises(Exception):  # noqa: B017 - PowerCut, or the call the cut broke
                async with asyncio.timeout(60):
                    await first.start(events)
    finally:
        await reap(first)
    assert step in ("adding", "added") or re.fullmatch("[0-9a-f]{40}", had), had

    again = await start_again(root, netns, dht)
    if had:
        assert again == had  # the identity made before the cut is the phone's
    assert await start_again(root, netns, dht) == again  # and stays so
