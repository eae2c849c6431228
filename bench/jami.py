"""Jami call figures on real daemons, each next to its baseline, in one run (root: it makes a
network namespace of its own).

- call set-up, dial to CURRENT at the caller: through two appliances (keypad '2#', the callee's
  ringer, its handset lifted the moment it rings) versus the same call made with bare D-Bus calls
  to two other daemons (placeCallWithMedia; acceptWithMedia as soon as incomingCallWithMedia
  arrives); the appliance's overhead is the ratio of the medians;
- D-Bus incomingCallWithMedia arriving -> ringer on, in the callee appliance.

Run: sudo .venv/bin/python bench/jami.py [--calls 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dbus_fast.aio import MessageBus
from dbus_fast.introspection import Node

from appliance.drivers.jami import defs
from appliance.phone.model import Mode
from tests.jami.conftest import alice_and_bob


async def raw_call_manager(address: str):
    bus = await MessageBus(bus_address=address).connect()
    path, name = defs.CALL_MANAGER
    proxy = bus.get_proxy_object(defs.SERVICE, path, Node.parse(defs.interface_xml(name)))
    return bus, proxy.get_interface(name)


SETTLE_S = 0.5  # a call right after a teardown is ~40 ms slower in the daemon: space them all alike


async def bare_call(a_calls, a_account, b_uri, current: asyncio.Queue) -> float:
    await asyncio.sleep(SETTLE_S)
    start = time.perf_counter()
    call = await a_calls.call_place_call_with_media(a_account, b_uri, defs.AUDIO_ONLY)
    while True:
        cid, state = await asyncio.wait_for(current.get(), 30)
        if cid == call and state == "CURRENT":
            elapsed = time.perf_counter() - start
            break
    await a_calls.call_hang_up(a_account, call)
    while True:  # wait for the end, so calls do not overlap
        cid, state = await asyncio.wait_for(current.get(), 30)
        if cid == call and state == "OVER":
            return elapsed


async def appliance_call(a, b, talking_at: list[float]) -> float:
    await asyncio.sleep(SETTLE_S)
    talking_at.clear()
    start = time.perf_counter()
    a.sim.fakes.hook.lift()
    a.sim.fakes.keypad.press("2#")
    await a.until(lambda p: bool(talking_at), 30)
    elapsed = talking_at[0] - start  # stamped by the supervisor's listener, not by this poll
    a.sim.fakes.hook.replace()
    await a.until(lambda p: p.phone.mode is Mode.IDLE and not p.phone.calls, 30)
    await b.until(lambda p: p.phone.calls == (), 30)
    b.sim.fakes.hook.replace()
    await b.until(lambda p: p.phone.mode is Mode.IDLE, 30)
    return elapsed


def pct(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1] if len(samples) > 1 else samples[0]


async def main_async(calls: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with alice_and_bob(Path(tmp), "jbench") as (a, b):
            # The callee picks up the moment its bell rings; note when the D-Bus signal arrived.
            signal_at: list[float] = []
            ring_ns: list[float] = []
            original = b.core._on_incoming

            def timed_incoming(*args):
                signal_at.append(time.perf_counter())
                original(*args)

            b.core._on_incoming = timed_incoming
            b.core._calls.on_incoming_call_with_media(timed_incoming)
            b.core._calls.off_incoming_call_with_media(original)

            answer_by_handset = [True]

            def on_ring(change: dict) -> None:
                if change.get("on") and answer_by_handset[0]:
                    ring_ns.append(time.perf_counter() - signal_at[-1])
                    b.sim.fakes.hook.lift()

            b.sim.fakes.ringer.watch(on_ring)

            # The baseline: bare D-Bus calls to the same two daemons, beside the appliances.
            bus_a, a_calls = await raw_call_manager(a.core.daemon.address)
            bus_b, b_calls = await raw_call_manager(b.core.daemon.address)
            states: asyncio.Queue = asyncio.Queue()
            a_calls.on_call_state_changed(lambda acc, cid, state, code: states.put_nowait((cid, state)))

            def accept(acc, cid, caller, media):
                if not answer_by_handset[0]:
                    asyncio.get_running_loop().create_task(
                        b_calls.call_accept_with_media(acc, cid, defs.AUDIO_ONLY)
                    )

            b_calls.on_incoming_call_with_media(accept)
            talking_at: list[float] = []

            def stamp(phone) -> None:
                call = phone.active_call
                if not talking_at and phone.mode is Mode.TALKING and call and call.connected_at is not None:
                    talking_at.append(time.perf_counter())

            a.sim.supervisor.on_phone(stamp)
            bare, through = [], []
            # Blocks, not alternation: a bare call rings the callee appliance too (it is on the same
            # daemon), which then has to settle; blocks keep each measurement to its own path.
            for block in range(2):
                answer_by_handset[0] = False
                for _ in range(calls // 2):
                    bare.append(await bare_call(a_calls, a.core.account_id, b.core.jami_id, states))
                    await b.until(lambda p: p.phone.calls == () and p.phone.mode is Mode.IDLE, 30)
                answer_by_handset[0] = True
                for _ in range(calls // 2):
                    through.append(await appliance_call(a, b, talking_at))
                del block
            bus_a.disconnect()
            bus_b.disconnect()

    med_bare, med_app = statistics.median(bare), statistics.median(through)
    print(f"Jami call set-up, dial -> CURRENT at the caller, {calls} calls each (target: ratio <= 1.05)")
    print(
        f"  {'baseline: bare D-Bus calls':<34} median {med_bare * 1000:7.1f} ms   min {min(bare) * 1000:7.1f}   max {max(bare) * 1000:7.1f}"
    )
    print(
        f"  {'through two appliances':<34} median {med_app * 1000:7.1f} ms   min {min(through) * 1000:7.1f}   max {max(through) * 1000:7.1f}"
    )
    print(f"  appliance / bare: {med_app / med_bare:.3f}")
    ring_ms = [x * 1000 for x in ring_ns]
    print(f"D-Bus incomingCallWithMedia -> ringer on (target p99 <= 10 ms): p50 {statistics.median(ring_ms):.2f} ms, "
          f"max {max(ring_ms):.2f} ms (n={len(ring_ms)})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=10)
    asyncio.run(main_async(parser.parse_args().calls))


if __name__ == "__main__":
    main()
