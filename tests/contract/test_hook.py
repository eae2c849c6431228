import asyncio
import random

import pytest

from appliance.drivers.gpio import GpioHookSwitch
from appliance.fakes.hook import FakeHookSwitch
from appliance.phone import effects as fx
from appliance.runtime.virtual import run_virtual

PIN = 17


class FakeRig:
    def __init__(self, **_):
        self.hook = FakeHookSwitch()

    def lift(self):
        self.hook.lift()

    def replace(self):
        self.hook.replace()


class GpioRig:
    """The GPIO driver on a mock pin wired like the board: switch to ground, pull-up."""

    def __init__(self, factory, normally_closed=False):
        self.pin = factory.pin(PIN)
        self.normally_closed = normally_closed
        self.hook = GpioHookSwitch(
            PIN,
            normally_closed=normally_closed,
            factory=factory,
            clock=lambda: asyncio.get_running_loop().time(),
        )
        if normally_closed:
            self.pin.drive_low()  # on hook: the contact is closed

    def lift(self):
        self.pin.drive_high() if self.normally_closed else self.pin.drive_low()

    def replace(self):
        self.pin.drive_low() if self.normally_closed else self.pin.drive_high()


@pytest.fixture(params=["fake", "gpio-normally-open", "gpio-normally-closed"])
def rig(request, mock_factory):
    if request.param == "fake":
        return FakeRig()
    return GpioRig(mock_factory, normally_closed=request.param.endswith("closed"))


def test_lift_and_replace_report_edges_with_their_time(rig):
    async def main():
        edges = []
        await rig.hook.start(lambda level, at: edges.append((level, at)))
        assert rig.hook.off_hook is False
        await asyncio.sleep(1.0)
        rig.lift()
        await asyncio.sleep(0)
        assert rig.hook.off_hook is True
        await asyncio.sleep(2.5)
        rig.replace()
        await asyncio.sleep(0)
        assert rig.hook.off_hook is False
        await rig.hook.stop()
        return edges

    assert run_virtual(main()) == [(True, 1.0), (False, 3.5)]


def test_gpio_chatter_through_the_runtime_never_flashes_or_hangs_up(mock_factory):
    """Real chatter on the pin (mock pins ignore bounce_time): the appliance's debouncer handles it."""
    from appliance.assembly import assemble
    from appliance.config.load import Layer, load_layers
    from appliance.sim import make_fakes

    async def main():
        loop = asyncio.get_running_loop()
        rng = random.Random(11)
        rig = GpioRig(mock_factory)
        loaded = load_layers(
            [Layer("d", {}), Layer("t", {"contacts": [{"name": "A", "uri": "a" * 40, "speed_dial": "2"}]})]
        )
        fakes = make_fakes(loaded)
        ports = fakes.ports()
        ports.hook = rig.hook
        supervisor = assemble(list(loaded.layers), None, ports=ports).supervisor
        effects = []
        supervisor.on_effect(lambda e, now: effects.append(e))
        task = loop.create_task(supervisor.run())
        await supervisor.started()
        await asyncio.sleep(1)

        def chatter(final_low: bool, span_s: float) -> None:
            times = sorted(rng.uniform(0, span_s) for _ in range(rng.randrange(2, 10)))
            for i, t in enumerate(times):
                loop.call_later(t, rig.pin.drive_low if i % 2 == 0 else rig.pin.drive_high)
            loop.call_later(span_s, rig.pin.drive_low if final_low else rig.pin.drive_high)

        chatter(True, 0.008)  # lift
        await asyncio.sleep(0.5)
        fakes.keypad.press("2#")
        await asyncio.sleep(1)
        fakes.telephony.remote_answer()
        for _ in range(300):  # knocks on the cradle while talking
            rig.pin.drive_high()
            chatter(True, rng.uniform(0.001, 0.010))
            await asyncio.sleep(rng.uniform(0.05, 1.0))
        assert not any(isinstance(e, fx.Hold | fx.HangUp) for e in effects)
        chatter(False, 0.010)  # hang up for real
        await asyncio.sleep(1.5)
        assert sum(isinstance(e, fx.HangUp) for e in effects) == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run_virtual(main())
