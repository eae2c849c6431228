"""The adapter on real daemons: a Jami call between two of them, events mapped one to one."""

from appliance.phone.events import CallIncoming, CallState, CallStateChanged
from appliance.phone.model import CallId

from .conftest import jami, requirements

pytestmark = requirements


def state(call, wanted):
    return lambda e: isinstance(e, CallStateChanged) and e.call == call and e.state is wanted


async def test_call_between_two_daemons(netns, dht, tmp_path):
    async with (
        jami(netns, dht, tmp_path / "a", "Alice") as (a, a_events),
        jami(netns, dht, tmp_path / "b", "Bob") as (b, b_events),
    ):
        assert len(a.jami_id) == 40
        await a.place_call(CallId("out-1"), a.account_id, b.jami_id)
        incoming = await b_events.wait_for(lambda e: isinstance(e, CallIncoming))
        assert incoming.caller_uri == a.jami_id
        await b.accept(incoming.call)
        await a_events.wait_for(state("out-1", CallState.CURRENT))
        await b_events.wait_for(state(incoming.call, CallState.CURRENT))
        await a.hang_up(CallId("out-1"))
        await b_events.wait_for(state(incoming.call, CallState.HUNGUP))
        await a_events.wait_for(state("out-1", CallState.OVER))
