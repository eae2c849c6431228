"""The hook switch through the debouncer and the decoder: bounce, flash, hang-up, rotary dialing."""

import asyncio
import random

import pytest

from appliance.phone import effects as fx
from appliance.phone.model import Mode

from .conftest import running


def count(sim, kind):
    return sum(1 for e in sim.recorded if isinstance(e, kind))


def record(sim):
    sim.recorded = []
    sim.supervisor.on_effect(lambda effect, now: sim.recorded.append(effect))


async def bump(hook, rng, bounce_ms):
    """The handset is knocked: the contact chatters open and closed for up to bounce_ms, then rests closed."""
    loop = asyncio.get_running_loop()
    edges = sorted(rng.uniform(0, bounce_ms / 1000) for _ in range(rng.randrange(1, 6) * 2))
    level = False
    for offset in edges:
        loop.call_later(offset, hook._edge, level)
        level = not level
    loop.call_later(bounce_ms / 1000, hook._edge, True)
    await asyncio.sleep(bounce_ms / 1000 + 0.05)


def test_chatter_never_flashes_or_hangs_up(virtual):
    async def main():
        async with running(bounce_ms=10) as sim:
            record(sim)
            rng = random.Random(7)
            sim.fakes.hook.lift()
            sim.fakes.keypad.press("2#")
            await asyncio.sleep(1)
            sim.fakes.telephony.remote_answer()
            await asyncio.sleep(1)
            for _ in range(500):
                await bump(sim.fakes.hook, rng, rng.uniform(0.5, 10))
                await asyncio.sleep(rng.uniform(0.05, 2))
            await asyncio.sleep(2)
            assert sim.supervisor.phone.mode is Mode.TALKING
            assert count(sim, fx.Hold) == 0
            assert count(sim, fx.HangUp) == 0
            assert count(sim, fx.SendDtmf) == 0  # no bump decoded as a rotary digit either
            return sim.fakes.hook.edge_count

    edges = virtual(main())
    assert edges > 2000  # the chatter was real


@pytest.mark.parametrize("seed", range(5))
def test_lift_and_hang_with_bounce(virtual, seed):
    async def main():
        async with running(bounce_ms=10, seed=seed) as sim:
            record(sim)
            for _ in range(20):
                sim.fakes.hook.lift()
                await asyncio.sleep(0.5)
                assert sim.supervisor.phone.mode is Mode.DIALING
                assert sim.fakes.tones.current.value == "dial"
                sim.fakes.hook.replace()
                await asyncio.sleep(1.0)
                assert sim.supervisor.phone.mode is Mode.IDLE
                assert sim.fakes.tones.current is None
            assert count(sim, fx.PlayTone) == 20

    virtual(main())


@pytest.mark.parametrize(
    ("on_hook_s", "flash"),
    [(0.105, True), (0.3, True), (0.5, True), (0.85, True), (0.95, False), (2.0, False)],
)
def test_flash_window_with_bounce(virtual, on_hook_s, flash):
    async def main():
        async with running(bounce_ms=8) as sim:
            record(sim)
            sim.fakes.hook.lift()
            sim.fakes.keypad.press("2#")
            await asyncio.sleep(1)
            sim.fakes.telephony.remote_answer()
            await asyncio.sleep(1)
            await sim.fakes.hook.flash(on_hook_s)
            await asyncio.sleep(0.5)
            assert (count(sim, fx.Hold) == 1) is flash
            assert (count(sim, fx.HangUp) == 1) is not flash

    virtual(main())


@pytest.mark.parametrize("pps", [8.0, 10.0, 12.0])
def test_rotary_dialing_with_jitter_and_bounce(virtual, pps):
    async def main():
        async with running(bounce_ms=5, seed=int(pps)) as sim:
            rng = random.Random(int(pps * 10))
            hook = sim.fakes.hook
            hook.lift()
            await asyncio.sleep(0.5)
            number = "1234567890"
            period = 1 / pps
            for digit in number:
                for _ in range(10 if digit == "0" else int(digit)):
                    ratio = rng.uniform(0.58, 0.67)  # break ratio of real dials
                    jitter = rng.uniform(0.92, 1.08)
                    hook.replace()
                    await asyncio.sleep(period * ratio * jitter)
                    hook.lift()
                    await asyncio.sleep(period * (1 - ratio) * jitter)
                await asyncio.sleep(rng.uniform(0.4, 0.9))  # the dial returns, the finger moves
            assert sim.supervisor.phone.digits == number
            assert sim.supervisor.phone.mode is Mode.DIALING

    virtual(main())


def test_rotary_speed_dial_places_the_call(virtual):
    async def main():
        async with running(bounce_ms=5) as sim:
            sim.fakes.hook.lift()
            await asyncio.sleep(0.5)
            await sim.fakes.hook.dial("3", pps=10)
            await asyncio.sleep(2.5)
            assert sim.fakes.telephony.commands[-1][0] == "place"
            assert sim.fakes.telephony.commands[-1][2] == "b" * 40

    virtual(main())
