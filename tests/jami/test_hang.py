"""A hung jamid (SIGSTOP, by its PID) on the real daemon: noticed in seconds, killed, restarted with
the same account, and a command issued while it hung never runs on the daemon that comes back."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import pytest

from appliance.drivers.jami.client import NOTICE_DAEMON
from appliance.phone.events import AccountChanged, TelephonyLost, TelephonyRestored
from appliance.phone.model import CallId, Registration
from appliance.ports import TelephonyError

from .conftest import jami, requirements

pytestmark = requirements


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"  # a zombie is dead
    return False


async def test_a_stopped_daemon_is_noticed_killed_and_restarted(netns, dht, tmp_path):
    async with jami(netns, dht, tmp_path / "a", "Alice") as (core, events):
        jami_id, pid = core.jami_id, core.daemon.jamid.pid
        loop = asyncio.get_running_loop()
        mark = events.mark()
        stopped_at = loop.time()
        os.kill(pid, signal.SIGSTOP)
        try:
            with pytest.raises(TelephonyError):  # unanswered within its bound, or refused once noticed
                await core.place_call(CallId("stale"), core.account_id, "f" * 40)
            lost = await events.wait_for(lambda e: isinstance(e, TelephonyLost), 15, since=mark)
            noticed_s = loop.time() - stopped_at
            assert lost.reason == "jamid stopped answering"
            assert noticed_s < 10, noticed_s
            assert NOTICE_DAEMON in core.notices
            await events.wait_for(lambda e: isinstance(e, TelephonyRestored), 30, since=mark)
            back_s = loop.time() - stopped_at
            assert not alive(pid)  # killed (a stopped process takes SIGKILL), not left stopped
            assert core.daemon.jamid.pid != pid
            await events.wait_for(
                lambda e: isinstance(e, AccountChanged) and e.account.registration is Registration.REGISTERED,
                60,
                since=mark,
            )
            assert core.jami_id == jami_id  # the same identity
            assert await core._call("getCallList", core.account_id) == []  # the stale call never placed
            print(f"hung jamid noticed after {noticed_s:.1f} s, back after {back_s:.1f} s")
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)  # so that stopping it by PID works, should it be alive
