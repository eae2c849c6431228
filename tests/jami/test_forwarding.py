"""Forwarding with real daemons: a call to Bob, forwarded by Bob's phone, reaches Carol's."""

import asyncio

import pytest

from appliance.phone.events import ContactsChanged
from appliance.phone.model import Contact, Mode

from .conftest import appliance, dial_until_ringing, requirements

pytestmark = [*requirements, pytest.mark.slow]  # three daemons: about 20 s


def talking(p) -> bool:
    return p.phone.mode is Mode.TALKING and p.phone.active_call.connected_at is not None


async def test_a_forwarded_call_reaches_the_third_phone(netns, dht, tmp_path):
    async with (
        appliance(netns, dht, tmp_path / "c", "Carol") as c,
        appliance(netns, dht, tmp_path / "b", "Bob") as b,
        appliance(netns, dht, tmp_path / "a", "Alice") as a,
    ):
        await b.sim.store.set_live({"forwarding": {"always": c.core.jami_id}})
        await b.until(lambda p: p.phone.forwarding.always == c.core.jami_id)
        a.sim.supervisor.post(ContactsChanged((Contact("Bob", b.core.jami_id, speed_dial="2"),)))
        await dial_until_ringing(a, c)  # Alice calls Bob; Carol's bell rings
        assert not any(on for _, on in b.sim.fakes.ringer.history)  # Bob's never did
        assert a.phone.mode is Mode.CALLING  # Alice hears ringback meanwhile, not an answered silence
        c.sim.fakes.hook.lift()
        await c.until(talking)
        await a.until(talking)
        await asyncio.sleep(3.0)  # and it stays up
        assert talking(a)
        assert talking(c)
        assert b.phone.calls == ()  # Bob's own line stays free
        assert b.phone.mode is Mode.IDLE
        a.sim.fakes.hook.replace()  # Alice hangs up: Bob's phone hangs up Carol's call too
        await c.until(lambda p: p.phone.mode is Mode.DIALING and p.phone.calls == (), 20)
        assert c.phone.notice == "Call ended"
        await b.until(lambda p: p.phone.forwards == ())
        entry = b.sim.supervisor.call_log.entries()[0]
        assert (entry["kind"], entry["uri"]) == ("forwarded", a.core.jami_id)
        assert entry["duration_s"] >= 3.0
