"""Forwarding with real daemons: a call to Bob, forwarded by Bob's phone, reaches Carol's, and
the two hear each other through Bob's phone while Bob's handset is out of it."""

import asyncio
import shutil

import numpy as np
import pytest

from appliance.phone.events import ContactsChanged
from appliance.phone.model import Contact, Mode

from .conftest import appliance, dial_until_ringing, requirements
from .test_audio import record, send_tone, share_at

pytestmark = [
    *requirements,
    pytest.mark.slow,  # three daemons: about 20 s
    pytest.mark.skipif(not shutil.which("pacat"), reason="needs pulseaudio-utils"),
]


def talking(p) -> bool:
    return p.phone.mode is Mode.TALKING and p.phone.active_call.connected_at is not None


async def test_a_forwarded_call_reaches_the_third_phone(netns, dht, tmp_path):
    async with (
        appliance(netns, dht, tmp_path / "c", "Carol", audio=True) as c,
        appliance(netns, dht, tmp_path / "b", "Bob", audio=True) as b,
        appliance(netns, dht, tmp_path / "a", "Alice", audio=True) as a,
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
        await asyncio.sleep(1.0)  # media negotiation (0.5-1 s measured)
        # Alice and Carol each send a tone into their microphone, Bob into his (on hook): the two
        # calls meet in Bob's daemon, whose own microphone and speaker are out of it.
        players = [await send_tone(a, 1000, 4), await send_tone(c, 600, 4), await send_tone(b, 400, 4)]
        try:
            await asyncio.sleep(1.0)
            heard_by_c, heard_by_a, heard_by_b = await asyncio.gather(
                record(c, 2), record(a, 2), record(b, 2)
            )
        finally:
            for player in players:
                if player.returncode is None:
                    player.terminate()
                await player.wait()
        print(f"Carol hears 1 kHz {share_at(heard_by_c, 1000):.3f}, 400 Hz {share_at(heard_by_c, 400):.3f}; "
              f"Alice hears 600 Hz {share_at(heard_by_a, 600):.3f}, 400 Hz {share_at(heard_by_a, 400):.3f}; "
              f"Bob's speaker rms {np.sqrt(np.mean(heard_by_b**2)):.4f}")  # fmt: skip
        assert len(heard_by_c) > 8000 and len(heard_by_a) > 8000
        assert share_at(heard_by_c, 1000) > 0.8  # Alice's voice reaches Carol, through Bob's phone
        assert share_at(heard_by_a, 600) > 0.8  # and Carol's reaches Alice
        assert share_at(heard_by_c, 400) < 0.01 and share_at(heard_by_a, 400) < 0.01  # not Bob's room
        assert np.sqrt(np.mean(heard_by_b**2)) < 0.001  # nor does Bob's handset hear them
        assert talking(a)  # and it stays up
        assert talking(c)
        assert b.phone.calls == ()  # Bob's own line stays free
        assert b.phone.mode is Mode.IDLE
        a.sim.fakes.hook.replace()  # Alice hangs up: Bob's phone hangs up Carol's call too
        await c.until(lambda p: p.phone.mode is Mode.DIALING and p.phone.calls == (), 20)
        assert c.phone.notice == "Call ended"
        await b.until(lambda p: p.phone.forwards == ())
        entry = b.sim.supervisor.call_log.entries()[0]
        assert (entry["kind"], entry["uri"]) == ("forwarded", a.core.jami_id)
        assert entry["duration_s"] >= 3.0  # the call was up through the tones
