"""Phones on a LAN with no route anywhere else: each runs its own OpenDHT node, the nodes find each
other by multicast discovery, and the daemons find each other through them. No dhtnode here."""

import json

import pytest

from appliance.drivers.jami.dhtnode import read_status
from appliance.phone.model import Mode

from .conftest import appliance, call_and_answer, lan, requirements
from .test_phone import speed_dial

pytestmark = [*requirements, pytest.mark.timeout(180)]


async def test_two_phones_alone_on_a_lan_call_each_other(tmp_path):
    with lan(f"lan{id(tmp_path) % 10000}") as (host_a, host_b):
        # The nodes are told of a public bootstrap that cannot be reached: the LAN is all there is.
        async with (
            appliance(host_b, "", tmp_path / "b", "Bob", own_dht_node=True) as b,
            appliance(host_a, "", tmp_path / "a", "Alice", own_dht_node=True) as a,
        ):
            a.sim.supervisor.post(speed_dial("Bob", b.core.jami_id))
            await call_and_answer(a, b)
            a.sim.fakes.hook.replace()
            await b.until(lambda p: p.phone.mode is Mode.DIALING and p.phone.calls == ())
            # What the web page shows: the node's own count of peers it knows good.
            await a.until(
                lambda p: (read_status(tmp_path / "a" / "dhtnode.json") or {}).get("nodes", 0) >= 1, 15
            )
            print("node A status", json.dumps(read_status(tmp_path / "a" / "dhtnode.json")))
