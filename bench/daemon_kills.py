"""jamid killed mid-call, again and again: is the phone back to dial tone in time, and does the
next call ring? (root: it makes a network namespace of its own).

Each round: Alice calls Bob on two appliances with real daemons, Bob answers; Alice's jamid is
SIGKILLed; the figure is the time until Alice's handset, still lifted, hears dial tone again.
Then both hang up and Alice calls again: the round counts only if Bob's bell rings. Printed next
to the baseline measured in the same rounds: when the new jamid process exists (the adapter's
restart delay; the rest is the daemon starting and answering on D-Bus).

Run: sudo .venv/bin/python bench/daemon_kills.py [--kills 100]
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

from appliance.phone.model import Mode
from tests.jami.conftest import alice_and_bob, call_and_answer, dial_until_ringing


def tone(phone) -> str | None:
    current = phone.sim.fakes.tones.current
    return current.value if current is not None else None


async def one_round(a, b) -> tuple[float, float, bool]:
    """(kill -> dial tone, kill -> a new jamid process, whether the next call rang)."""
    await call_and_answer(a, b)
    old = a.core.daemon.jamid.pid if a.core.daemon.jamid else None
    spawned: list[float] = []

    async def new_daemon() -> None:  # the baseline: the new jamid process exists
        await a.until(lambda p: p.core.daemon.jamid is not None and p.core.daemon.jamid.pid != old, 20)
        spawned.append(time.monotonic())

    started = time.monotonic()
    watcher = asyncio.ensure_future(new_daemon())
    a.core.daemon.kill()
    await a.until(lambda p: tone(p) == "dial", 20)
    dial_tone_s = time.monotonic() - started
    await watcher
    daemon_s = spawned[0] - started
    b.sim.fakes.hook.replace()
    a.sim.fakes.hook.replace()
    await a.until(lambda p: p.phone.mode is Mode.IDLE)
    await b.until(lambda p: p.phone.mode is Mode.IDLE)
    try:
        await dial_until_ringing(a, b)
        rang = True
    except (AssertionError, TimeoutError):
        rang = False
    a.sim.fakes.hook.replace()
    await a.until(lambda p: p.phone.mode is Mode.IDLE)
    await b.until(lambda p: p.phone.mode is Mode.IDLE and not p.sim.fakes.ringer.ringing, 30)
    return dial_tone_s, daemon_s, rang


async def main_async(kills: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        async with alice_and_bob(Path(tmp), "jkill") as (a, b):
            account = a.core.account_id
            dial_tone: list[float] = []
            daemon: list[float] = []
            rang = 0
            for n in range(kills):
                d, restart, ok = await one_round(a, b)
                dial_tone.append(d)
                daemon.append(restart)
                rang += ok
                print(f"  kill {n + 1:3d}: dial tone {d:5.2f} s, new jamid {restart:5.2f} s, next call "
                      f"{'rang' if ok else 'FAILED'}", flush=True)  # fmt: skip
            same = a.core.account_id == account
    within = sum(d < 3.0 for d in dial_tone)
    print(
        f"jamid SIGKILLed mid-call, {kills} times (target: every time dial tone in < 3 s, the next call rings)"
    )
    print(f"  {'baseline: a new jamid process exists':<44} p50 {statistics.median(daemon):5.2f} s   "
          f"max {max(daemon):5.2f} s")  # fmt: skip
    print(f"  {'kill -> dial tone in the lifted handset':<44} p50 {statistics.median(dial_tone):5.2f} s   "
          f"max {max(dial_tone):5.2f} s   {within}/{kills} under 3 s")  # fmt: skip
    print(f"  the next call rang: {rang}/{kills}; the same Jami account throughout: {same}")
    return 0 if within == kills and rang == kills and same else 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=100)
    return asyncio.run(main_async(parser.parse_args().kills))


if __name__ == "__main__":
    sys.exit(main())
