"""Right after jamid is restarted (SIGKILL), dial tone is back before the account is: a call placed
then is held until the account registers, and rings, instead of being refused at once."""

from __future__ import annotations

import asyncio

from appliance.phone.events import CallArrived, CallState, CallStateChanged, TelephonyRestored
from appliance.phone.model import CallId, Registration

from .conftest import jami, requirements

pytestmark = requirements


async def test_a_call_placed_right_after_a_restart_rings_once_the_account_is_back(netns, dht, tmp_path):
    async with (
        jami(netns, dht, tmp_path / "b", "Bob") as (b, b_events),
        jami(netns, dht, tmp_path / "a", "Alice") as (a, a_events),
    ):
        loop = asyncio.get_running_loop()
        mark = a_events.mark()
        killed = loop.time()
        a.daemon.kill()
        await a_events.wait_for(lambda e: isinstance(e, TelephonyRestored), 20, since=mark)
        restored_s = loop.time() - killed
        trying = a._reported is not Registration.REGISTERED
        await a.place_call(CallId("first"), a.account_id, b.jami_id)  # at once, as a person would
        incoming = await b_events.wait_for(lambda e: isinstance(e, CallArrived), 30)
        rang_s = loop.time() - killed
        assert incoming.caller_uri == a.jami_id
        assert not [
            e for e in a_events.events[mark:]
            if isinstance(e, CallStateChanged) and e.state is CallState.FAILURE
        ]  # fmt: skip
        await b.refuse(incoming.call)
        print(f"restored {restored_s:.2f} s after the kill (account still trying: {trying}); "
              f"the first call reached the far end {rang_s:.2f} s after the kill")  # fmt: skip
