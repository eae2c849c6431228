"""Noticing a hung daemon (appliance/drivers/jami/liveness.py) with a stand-in for its pings: one
that answers until the test stops it, then lets every ping run out its bound."""

from __future__ import annotations

import asyncio

from appliance.drivers.jami.liveness import Liveness

BOUND_S = 0.05  # each ping's own bound, as the adapter's _ping applies it
INTERVAL_S = 0.1


class StandIn:
    def __init__(self) -> None:
        self.stopped = False
        self.pings = 0

    async def ping(self) -> bool:
        self.pings += 1
        if self.stopped:
            await asyncio.sleep(BOUND_S)  # no answer within the bound
            return False
        return True


async def test_a_stopped_daemon_is_noticed_after_two_missed_pings() -> None:
    daemon = StandIn()
    liveness = Liveness(daemon.ping, interval_s=INTERVAL_S)
    watching = asyncio.create_task(liveness.until_hung())
    await asyncio.sleep(3 * INTERVAL_S)
    assert not watching.done() and daemon.pings >= 3  # answering: pinged, never hung
    loop = asyncio.get_running_loop()
    stopped_at = loop.time()
    daemon.stopped = True
    await asyncio.wait_for(watching, 10 * INTERVAL_S)
    noticed_s = loop.time() - stopped_at
    # The worst case is a stop just after a ping: one interval, then two bounds.
    assert noticed_s <= INTERVAL_S + 2 * BOUND_S + 0.05, noticed_s
    assert liveness.missed == 2


async def test_one_missed_ping_is_a_stall_not_a_hang() -> None:
    daemon = StandIn()
    liveness = Liveness(daemon.ping, interval_s=INTERVAL_S)
    watching = asyncio.create_task(liveness.until_hung())
    daemon.stopped = True
    await asyncio.sleep(BOUND_S / 2)
    daemon.stopped = False  # came back before the second ping
    await asyncio.sleep(INTERVAL_S * 4)
    assert not watching.done() and liveness.missed == 0
    watching.cancel()


async def test_a_command_left_unanswered_counts_as_a_miss() -> None:
    daemon = StandIn()
    liveness = Liveness(daemon.ping, interval_s=10.0)  # the next ping is far off
    watching = asyncio.create_task(liveness.until_hung())
    await asyncio.sleep(0.01)
    daemon.stopped = True
    liveness.unanswered("hangUp")
    liveness.unanswered("placeCallWithMedia")  # two commands timed out: hung, without a ping
    await asyncio.wait_for(watching, 1.0)


async def test_misses_during_a_slow_call_are_excused() -> None:
    daemon = StandIn()
    exporting = True
    liveness = Liveness(daemon.ping, interval_s=INTERVAL_S, excused=lambda: exporting)
    watching = asyncio.create_task(liveness.until_hung())
    daemon.stopped = True  # busy encrypting an archive: no answer to pings meanwhile
    await asyncio.sleep(5 * INTERVAL_S)
    assert not watching.done()
    exporting = False
    await asyncio.wait_for(watching, 10 * INTERVAL_S)
