"""jamid killed mid-call, again and again: is the phone back to dial tone in time, and does the
next call ring? (root: it makes a network namespace of its own).

Each round: Alice calls Bob on two appliances with real daemons, Bob answers; Alice's jamid is
SIGKILLed; the figure is the time until Alice's handset, still lifted, hears dial tone again.
Then both hang up and Alice calls again: the round counts only if Bob's bell rings. Printed next
to the baseline measured in the same rounds: when the new jamid process exists (the adapter's
restart delay; the rest is the daemon starting and answering on D-Bus).

The far end too: the time until Bob, left off hook in the dead call, hears reorder with "Call
lost" (target: within 5 s). The first ``--baseline`` rounds run without the adapter's beacon
(appliance/drivers/jami/farend.py), so the daemon's own timeout is printed beside it.

Run: sudo .venv/bin/python bench/daemon_kills.py [--kills 100] [--baseline 1]
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
from tests.jami.conftest import alice_and_bob, call_and_answer, dial_until_ringing, hearing


def tone(phone) -> str | None:
    current = phone.sim.fakes.tones.current
    return current.value if current is not None else None


def far_end_told(phone) -> bool:
    """Bob's phone, off hook, left the dead call with reorder and words that say what happened."""
    return phone.phone.mode is Mode.REORDER and tone(phone) == "reorder" and phone.phone.notice == "Call lost"


async def one_round(a, b) -> tuple[float, float, bool, float | None]:
    """(kill -> dial tone, kill -> a new jamid process, whether the next call rang, kill -> Bob
    told the call was lost; None if his phone left the call otherwise or not in 60 s)."""
    await call_and_answer(a, b)
    await b.until(hearing, 10)  # Alice's audio reaches Bob's daemon: what the beacon watches
    old = a.core.daemon.jamid.pid if a.core.daemon.jamid else None
    spawned: list[float] = []
    told: list[float | None] = []

    async def far_end() -> None:  # Bob, off hook in the call Alice's daemon took with it
        try:
            await b.until(lambda p: p.phone.mode is not Mode.TALKING, 60)
            told.append(time.monotonic() - started if far_end_told(b) else None)
        except TimeoutError:
            told.append(None)

    async def new_daemon() -> None:  # the baseline: the new jamid process exists
        await a.until(lambda p: p.core.daemon.jamid is not None and p.core.daemon.jamid.pid != old, 20)
        spawned.append(time.monotonic())

    started = time.monotonic()
    watcher = asyncio.ensure_future(new_daemon())
    bob = asyncio.ensure_future(far_end())
    a.core.daemon.kill()
    await a.until(lambda p: tone(p) == "dial", 20)
    dial_tone_s = time.monotonic() - started
    await watcher
    await bob
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
    return dial_tone_s, daemon_s, rang, told[0]


def figure(what: str, values: list[float | None], bound: float | None = None) -> str:
    got = [v for v in values if v is not None]
    text = f"  {what:<52} "
    if got:
        text += f"p50 {statistics.median(got):5.2f} s   max {max(got):5.2f} s"
    if bound is not None:
        text += f"   {sum(v is not None and v < bound for v in values)}/{len(values)} under {bound:g} s"
    return text


async def main_async(kills: int, baseline: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        # With audio: a daemon without a sound device decodes nothing, and the media clock the
        # beacon watches stays empty.
        async with alice_and_bob(Path(tmp), "jkill", audio=True) as (a, b):
            account = a.core.account_id
            dial_tone: list[float] = []
            daemon: list[float] = []
            far: dict[bool, list[float | None]] = {True: [], False: []}  # by beacon on
            rang = 0
            for n in range(baseline + kills):
                beacon = n >= baseline
                b.core.far_end_beacons = beacon
                d, restart, ok, lost = await one_round(a, b)
                far[beacon].append(lost)
                lost_text = f"{lost:5.2f} s" if lost is not None else "NOT TOLD"
                if not beacon:
                    print(f"  baseline {n + 1}: Bob told 'Call lost' {lost_text} (the daemon's own timeout)",
                          flush=True)  # fmt: skip
                    continue
                dial_tone.append(d)
                daemon.append(restart)
                rang += ok
                print(f"  kill {n + 1 - baseline:3d}: dial tone {d:5.2f} s, new jamid {restart:5.2f} s, next call "
                      f"{'rang' if ok else 'FAILED'}, Bob told {lost_text}", flush=True)  # fmt: skip
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
    print("far end (Bob, off hook in the dead call): kill -> reorder and 'Call lost' (target: < 5 s)")
    if far[False]:
        print(figure("baseline: the daemon's own timeout (no beacon)", far[False]))
    print(figure("with the beacon when Alice's audio stops", far[True], 5.0))
    told = sum(v is not None and v < 5.0 for v in far[True])
    return 0 if within == kills and rang == kills and same and told == kills else 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument(
        "--baseline", type=int, default=1, help="rounds first without the beacon (~40 s each)"
    )
    args = parser.parse_args()
    return asyncio.run(main_async(args.kills, args.baseline))


if __name__ == "__main__":
    sys.exit(main())
