"""A far end that vanishes mid-call is noticed in seconds, and a short outage is not taken for one
(appliance/drivers/jami/farend.py), on real daemons over a link that can go dead.

Bob's daemon on its own kept a call up 37-41 s after Alice's was SIGKILLed. With the media clock
and the daemon's beacon: a 2 s outage of the link (every packet dropped, both ways) leaves the
call up, after a beacon that was answered, and so does a hold (Alice's daemon sends nothing
meanwhile); then Alice's jamid is SIGKILLed and Bob's phone, still
off hook, says so and plays reorder within seconds.
"""

from __future__ import annotations

import asyncio

import pytest

from appliance.phone.model import Mode

from .conftest import alice_and_bob_apart, call_and_answer, hearing, requirements

pytestmark = [
    pytest.mark.serial,  # a 2 s outage against a ~2.9 s beacon window: a busy machine beside it narrows it
    *requirements,
]


def tone(phone) -> str | None:
    current = phone.sim.fakes.tones.current
    return current.value if current is not None else None


async def test_a_vanished_far_end_ends_the_call_and_a_short_outage_does_not(tmp_path):
    async with alice_and_bob_apart(tmp_path, "jfar", audio=True) as (a, b, link):
        loop = asyncio.get_running_loop()
        await call_and_answer(a, b)
        await b.until(hearing, 10)
        await asyncio.sleep(2.0)
        assert hearing(b) and b.core.far_end.beacons == 0  # the far end's audio flows in silence too

        link.impair(loss=1.0)  # a Wi-Fi outage: nothing gets through, either way
        await asyncio.sleep(2.0)
        link.impair(loss=0.0)
        await asyncio.sleep(4.0)  # past any beacon's 3 s
        assert b.core.far_end.beacons >= 1  # Bob's phone did ask: the call lived through it
        assert a.phone.mode is Mode.TALKING and b.phone.mode is Mode.TALKING

        asked = b.core.far_end.beacons
        await a.sim.fakes.hook.flash()  # Alice holds Bob: his daemon hears nothing from hers
        await asyncio.sleep(6.0)
        assert b.core.far_end.beacons == asked + 1  # one beacon for the whole quiet spell, answered
        assert b.phone.mode is Mode.TALKING and len(a.phone.calls) == 1
        await a.sim.fakes.hook.flash()  # back to Bob
        await a.until(lambda p: p.phone.mode is Mode.TALKING)
        await b.until(hearing, 10)

        killed = loop.time()
        a.core.daemon.kill()
        await b.until(lambda p: p.phone.mode is not Mode.TALKING, 30)
        noticed_s = loop.time() - killed
        print(f"Bob's phone left the dead call {noticed_s:.2f} s after Alice's jamid was killed")
        assert b.phone.mode is Mode.REORDER and tone(b) == "reorder", (b.phone.mode, tone(b))
        assert b.phone.notice == "Call lost"
        assert noticed_s < 10, noticed_s  # 37-41 s without the beacon; the bench has the figures
        b.sim.fakes.hook.replace()
        await b.until(lambda p: p.phone.mode is Mode.IDLE and not p.phone.calls)
