import asyncio

import pytest

from appliance.drivers.gpio import GpioBell
from appliance.drivers.slic import SlicRinger
from appliance.fakes.ringer import FakeRinger
from appliance.phone.callerid import Alert, CallerId, Presentation, Standard
from appliance.phone.tones import PLANS
from appliance.runtime.virtual import run_virtual

UK = PLANS["GB"].ring  # 400 on, 200 off, 400 on, 2000 off


class FakeRig:
    def __init__(self, factory):
        self.ringer = FakeRinger()

    @property
    def sounding(self):
        return self.ringer.sounding


class FakeLineRig(FakeRig):
    @property
    def reversed(self):
        return self.ringer.reversed


class BellRig:
    def __init__(self, factory):
        self.pin = factory.pin(18)
        self.ringer = GpioBell(18, factory=factory)

    @property
    def sounding(self):
        return bool(self.pin.state)


class SlicRig:
    def __init__(self, factory):
        self.rm, self.fr = factory.pin(23), factory.pin(24)
        self.ringer = SlicRinger(23, 24, ring_hz=25, factory=factory)

    @property
    def sounding(self):
        # Ring voltage: ring mode selected and F/R toggling (50 % duty at the ring frequency);
        # otherwise F/R holds the line's polarity (Ag1171: high forward, low reversed).
        on = bool(self.rm.state) and self.fr.state == 0.5
        assert on or self.fr.state in (0, 1)
        if on:
            assert self.fr.frequency == 25
        return on

    @property
    def reversed(self):
        assert not self.rm.state  # polarity is F/R's level with RM low
        return self.fr.state == 0


@pytest.fixture(params=["fake", "bell", "slic"])
def rig(request, mock_factory):
    return {"fake": FakeRig, "bell": BellRig, "slic": SlicRig}[request.param](mock_factory)


def test_rings_with_the_cadence_and_stops_silent(rig):
    async def main():
        assert not rig.ringer.ringing
        assert not rig.sounding
        rig.ringer.start_ringing(UK)
        samples = []
        for t_ms in (100, 500, 700, 1100, 2000, 3100, 3500):  # on, off, on, off, off, on, off
            await asyncio.sleep(t_ms / 1000 - asyncio.get_running_loop().time() + start)
            samples.append(rig.sounding)
        assert rig.ringer.ringing
        rig.ringer.stop_ringing()
        await asyncio.sleep(0)
        assert not rig.ringer.ringing
        assert not rig.sounding
        await rig.ringer.stop()
        return samples

    start = 0.0
    assert run_virtual(main()) == [True, False, True, False, False, True, False]


def test_stop_in_the_middle_of_a_burst_is_silent_at_once(rig):
    async def main():
        rig.ringer.start_ringing(UK)
        await asyncio.sleep(0.1)
        assert rig.sounding
        rig.ringer.stop_ringing()
        assert not rig.sounding  # no waiting for the burst to end: the handset was lifted
        await rig.ringer.stop()

    run_virtual(main())


ALICE = CallerId("5551234567", "Alice", None, None, Presentation(Standard.BELLCORE, Alert.AFTER_RING))


def test_a_caller_changes_nothing_of_the_cadence_for_a_ringer_without_a_player(rig):
    """A bell ignores the caller; a SLIC with no codec to play into rings the plain cadence."""

    async def main():
        rig.ringer.start_ringing(UK, ALICE)
        samples = []
        for t_ms in (100, 500, 700, 1100, 2000, 3100, 3500):
            await asyncio.sleep(t_ms / 1000 - asyncio.get_running_loop().time())
            samples.append(rig.sounding)
        rig.ringer.stop_ringing()
        await rig.ringer.stop()
        return samples

    assert run_virtual(main()) == [True, False, True, False, False, True, False]


@pytest.fixture(params=["fake", "slic"])
def line_rig(request, mock_factory):
    return {"fake": FakeLineRig, "slic": SlicRig}[request.param](mock_factory)


def test_the_line_reverses_for_a_call_and_keeps_it_through_a_ring(line_rig):
    async def main():
        assert not line_rig.reversed  # forward at rest
        line_rig.ringer.reverse_line(True)
        assert line_rig.reversed
        line_rig.ringer.start_ringing(UK)  # a waiting call rings back after a hang-up
        await asyncio.sleep(0.1)
        line_rig.ringer.stop_ringing()
        assert line_rig.reversed
        line_rig.ringer.reverse_line(False)  # the far end hung up
        assert not line_rig.reversed
        await line_rig.ringer.stop()

    run_virtual(main())


def test_a_loop_disconnect_never_rings_and_a_fake_line_records_it(rig):
    """A bell has no loop; a SLIC without a loop switch keeps its polarity; the fake keeps when."""

    async def main():
        rig.ringer.open_loop(500)
        await asyncio.sleep(1.0)
        assert not rig.sounding
        assert not rig.ringer.ringing
        await rig.ringer.stop()

    run_virtual(main())
    if isinstance(rig.ringer, FakeRinger):
        assert list(rig.ringer.loop_opens) == [(0.0, 500)]


class PacedPlayer:
    """A codec in virtual time: the samples take as long as they last."""

    async def play(self, pcm, *, sent=None):
        await asyncio.sleep(len(pcm) / 2 / 8000)
        if sent is not None:
            sent()

    def cancel(self):
        pass


@pytest.mark.parametrize("kind", ["fake", "slic"])
def test_a_line_reports_the_call_waiting_alert_out_once_after_it_played(kind, mock_factory):
    """The phone core times the phone's ack from this report, and gives up after a second."""
    if kind == "fake":
        ringer = FakeRinger()
    else:
        ringer = SlicRinger(23, 24, player=PacedPlayer(), factory=mock_factory)

    async def main():
        sent = []
        loop = asyncio.get_running_loop()
        ringer.reverse_line(True)
        ringer.alert_waiting(
            Presentation(Standard.BELLCORE, Alert.AFTER_RING), lambda: sent.append(loop.time())
        )
        await asyncio.sleep(1.0)
        await ringer.stop()
        return sent

    (at,) = run_virtual(main())
    assert 0.08 <= at < 1.0  # not before the 80 ms alert has played


def test_sending_an_ntt_caller_never_rings_and_a_fake_line_records_it(rig):
    who = CallerId("0312345678", "", None, None, Presentation(Standard.NTT, Alert.CAR))

    async def main():
        rig.ringer.send_caller(who)
        await asyncio.sleep(0.5)
        assert not rig.sounding
        await rig.ringer.stop()

    run_virtual(main())
    if isinstance(rig.ringer, FakeRinger):
        assert list(rig.ringer.sent_callers) == [who]
