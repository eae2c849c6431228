"""Whole appliances on real Jami daemons calling each other, driven like a person would."""

import asyncio

from appliance.phone.events import ContactsChanged
from appliance.phone.model import Contact, Mode

from .conftest import appliance, call_and_answer, dial, dial_until_ringing, requirements

pytestmark = requirements


def speed_dial(who, uri, key="2"):
    return ContactsChanged((Contact(who, uri, speed_dial=key),))


async def test_lift_dial_ring_answer_hang_up(netns, dht, tmp_path):
    async with (
        appliance(netns, dht, tmp_path / "b", "Bob") as b,
        appliance(netns, dht, tmp_path / "a", "Alice") as a,
    ):
        a.sim.supervisor.post(speed_dial("Bob", b.core.jami_id))
        await dial_until_ringing(a, b)
        assert b.phone.waiting.peer_uri == a.core.jami_id
        await a.until(
            lambda p: p.sim.fakes.tones.current is not None and p.sim.fakes.tones.current.value == "ringback"
        )
        b.sim.fakes.hook.lift()
        await b.until(lambda p: p.phone.mode is Mode.TALKING and p.phone.active_call.connected_at is not None)
        await a.until(lambda p: p.phone.mode is Mode.TALKING and p.phone.active_call.connected_at is not None)
        assert not b.sim.fakes.ringer.ringing
        assert a.sim.fakes.tones.current is None
        assert a.sim.supervisor.screen.lines[1] == "Bob"
        a.sim.fakes.hook.replace()
        await a.until(lambda p: p.phone.mode is Mode.IDLE)
        await b.until(
            lambda p: p.phone.mode is Mode.DIALING and p.phone.calls == ()
        )  # Bob hears dial tone again
        assert b.phone.notice == "Call ended"


async def test_private_mode_and_a_trust_request(netns, dht, tmp_path):
    vcard = b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Mallory\r\nEND:VCARD\r\n"
    private = {"features": {"private_mode": True}}
    async with (
        appliance(netns, dht, tmp_path / "b", "Bob", private) as b,
        appliance(netns, dht, tmp_path / "m", "Mallory") as m,
    ):
        m.sim.supervisor.post(speed_dial("Bob", b.core.jami_id))
        await dial(m, lambda p: p.phone.mode is Mode.BUSY)  # refused before any ring
        assert not any(on for _, on in b.sim.fakes.ringer.history)
        assert b.sim.supervisor.call_log.entries()[0]["kind"] == "refused"
        assert b.sim.supervisor.call_log.entries()[0]["reason"] == "private mode"
        m.sim.fakes.hook.replace()
        await m.until(lambda p: p.phone.mode is Mode.IDLE)

        await m.core.send_trust_request(b.core.jami_id, vcard)
        await b.until(lambda p: p.phone.trust_pending == 1)
        request = b.core.trust_requests()[0]
        assert request.uri == m.core.jami_id
        assert request.vcard == vcard  # byte for byte
        await b.core.accept_trust_request(m.core.jami_id)
        await b.until(lambda p: any(c.uri == m.core.jami_id for c in p.phone.trusted))

        await dial_until_ringing(m, b)  # a contact now: Bob's phone rings


async def test_daemon_killed_mid_call_recovers(netns, dht, tmp_path):
    async with (
        appliance(netns, dht, tmp_path / "b", "Bob") as b,
        appliance(netns, dht, tmp_path / "a", "Alice") as a,
    ):
        a.sim.supervisor.post(speed_dial("Bob", b.core.jami_id))
        account = a.core.account_id
        await call_and_answer(a, b)
        loop = asyncio.get_running_loop()
        killed = loop.time()
        a.core.daemon.kill()
        await a.until(
            lambda p: p.sim.fakes.tones.current is not None and p.sim.fakes.tones.current.value == "reorder",
            5,
        )
        await a.until(
            lambda p: p.sim.fakes.tones.current is not None and p.sim.fakes.tones.current.value == "dial", 20
        )
        recovered = loop.time() - killed
        assert a.core.account_id == account  # the same account, found again
        assert recovered < 3.0, recovered
        await a.until(lambda p: any(x.registration.value == "registered" for x in p.phone.accounts), 60)
        # Bob's daemon learns of the dead peer only when its transport times out; Bob hears
        # silence and hangs up, as a person would.
        b.sim.fakes.hook.replace()
        await b.until(lambda p: p.phone.mode is Mode.IDLE)
        await dial_until_ringing(a, b)  # a new call works
        print(f"recovered to dial tone {recovered:.2f} s after the kill")


async def test_busy_when_in_a_call_without_call_waiting(netns, dht, tmp_path):
    no_waiting = {"features": {"call_waiting": False}}
    async with (
        appliance(netns, dht, tmp_path / "b", "Bob", no_waiting) as b,
        appliance(netns, dht, tmp_path / "a", "Alice") as a,
        appliance(netns, dht, tmp_path / "c", "Carol") as c,
    ):
        a.sim.supervisor.post(speed_dial("Bob", b.core.jami_id))
        c.sim.supervisor.post(speed_dial("Bob", b.core.jami_id))
        await dial_until_ringing(a, b)
        b.sim.fakes.hook.lift()
        await b.until(lambda p: p.phone.mode is Mode.TALKING)
        await dial(c, lambda p: p.phone.mode is Mode.BUSY)
        assert c.sim.fakes.tones.current.value == "busy"
        assert b.sim.supervisor.call_log.entries()[0]["reason"] == "busy"
        assert b.sim.fakes.tones.current is None  # no call-waiting tone either
        assert b.phone.mode is Mode.TALKING  # Bob's call goes on


async def test_do_not_disturb_refuses(netns, dht, tmp_path):
    async with (
        appliance(netns, dht, tmp_path / "b", "Bob", {"features": {"dnd": True}}) as b,
        appliance(netns, dht, tmp_path / "a", "Alice") as a,
    ):
        a.sim.supervisor.post(speed_dial("Bob", b.core.jami_id))
        await dial(a, lambda p: p.phone.mode is Mode.BUSY)
        assert not b.sim.fakes.ringer.history
        assert b.sim.supervisor.call_log.entries()[0]["reason"] == "do not disturb"
