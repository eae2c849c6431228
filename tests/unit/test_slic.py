"""The SLIC line driver's timing on mock pins, in virtual time: ring bursts, reversals, and the
caller ID window between rings, for each standard."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import threading
import time
import wave
from datetime import datetime

import alsaaudio
import numpy as np
import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from appliance.drivers.alsa import AlsaLinePlayer
from appliance.drivers.slic import SlicRinger
from appliance.line import messages, spill
from appliance.phone.callerid import Absence, Alert, CallerId, Presentation, Standard, presentation_for
from appliance.phone.tones import PLANS, Cadence
from appliance.runtime.virtual import run_virtual

WHEN = datetime(2026, 12, 3, 9, 5)  # noqa: DTZ001


class RecordingPin(MockPWMPin):
    """A mock pin that keeps (virtual time, level, frequency) at every change."""

    def __init__(self, factory, info) -> None:
        super().__init__(factory, info)
        self.timeline: list[tuple[float, float, float | None]] = []

    def _change_state(self, value):
        changed = super()._change_state(value)
        if changed:
            try:
                now = asyncio.get_running_loop().time()
            except RuntimeError:  # set up or torn down outside the loop
                now = -1.0
            self.timeline.append((round(now, 4), value, self._frequency))
        return changed


class FakeLinePlayer:
    """The codec: takes as long as the samples last, and keeps what it played and when."""

    def __init__(self) -> None:
        self.played: list[tuple[float, bytes]] = []
        self.cancelled = 0
        self._stop = asyncio.Event()

    async def play(self, pcm: bytes, *, sent=None) -> None:
        self.played.append((round(asyncio.get_running_loop().time(), 4), pcm))
        self._stop.clear()
        try:
            await asyncio.wait_for(self._stop.wait(), len(pcm) / 2 / 8000)
        except TimeoutError:
            if sent is not None:
                sent()

    def cancel(self) -> None:
        self.cancelled += 1
        self._stop.set()


class Line:
    def __init__(self, *, player: bool = True, ring_hz: float = 0.0, loop_pin: int = -1,
                 loop_active_high: bool = True) -> None:  # fmt: skip
        factory = MockFactory(pin_class=MockPWMPin)
        self.rm = factory.pin(23, pin_class=RecordingPin)
        self.fr = factory.pin(24, pin_class=RecordingPin)
        self.loop = factory.pin(25, pin_class=RecordingPin)
        self.player = FakeLinePlayer() if player else None
        self.ringer = SlicRinger(23, 24, ring_hz=ring_hz, player=self.player, factory=factory,
                                 loop_pin=loop_pin, loop_active_high=loop_active_high,
                                 wall_clock=lambda: WHEN)  # fmt: skip

    def rings(self) -> list[tuple[float, float]]:
        """(start, seconds) of each ring burst: RM high."""
        out, since = [], None
        for t, level, _ in self.rm.timeline:
            if level and since is None:
                since = t
            elif not level and since is not None:
                out.append((since, round(t - since, 4)))
                since = None
        return out

    def polarity(self) -> list[tuple[float, str]]:
        """F/R's level while RM is low: forward (1) or reversed (0)."""
        return [
            (t, "forward" if v == 1 else "reversed") for t, v, _ in self.fr.timeline if v in (0, 1) and t >= 0
        ]

    def sent_seconds(self) -> list[tuple[float, float]]:
        return [(t, round(len(pcm) / 2 / 8000, 4)) for t, pcm in self.player.played]


def caller(country: str, **overrides: str) -> CallerId:
    return CallerId("5551234567", "Alice", None, None, presentation_for(country, **overrides))


def ring_for(line: Line, seconds: float, cadence, who: CallerId | None) -> None:
    async def main() -> None:
        line.ringer.start_ringing(cadence, who)
        await asyncio.sleep(seconds)
        line.ringer.stop_ringing()
        await line.ringer.stop()

    run_virtual(main())


def test_bellcore_sends_half_a_second_after_the_first_ring_and_before_the_second():
    line, who = Line(), caller("US")
    ring_for(line, 12.5, PLANS["US"].ring, who)  # 2 s on, 4 s off
    assert line.rings() == [(0.0, 2.0), (6.0, 2.0), (12.0, 0.5)]
    ((start, seconds),) = line.sent_seconds()
    assert start == 2.5  # GR-30: 500 ms after the first ring ends
    assert start + seconds <= 6.0 - 0.2  # done 200 ms before the second ring
    assert line.player.played[0][1] == spill.pcm16(spill.data(who, WHEN))  # what `appliance callerid` writes
    assert {f for _, v, f in line.fr.timeline if v == 0.5} == {20.0}  # the US ring frequency
    assert {p for _, p in line.polarity()[:-1]} == {"forward"}  # between rings; the last is the pins closing


def test_a_long_burst_pushes_the_next_ring_back_rather_than_ring_over_it():
    line = Line()
    who = CallerId("5551234567", "Alice", None, None, Presentation(Standard.BELLCORE, Alert.AFTER_RING))
    short_pause = Cadence((2000, 1000), 20.0)  # a 1 s pause cannot hold 0.5 s + data
    ring_for(line, 6.0, short_pause, who)
    ((start, seconds),) = line.sent_seconds()
    assert start == 2.5
    assert line.rings()[1][0] == round(start + seconds + 0.2, 4)


def test_bt_reverses_the_line_sends_alert_and_data_then_rings():
    line, who = Line(), caller("GB")
    ring_for(line, 3.0, PLANS["GB"].ring, who)  # 400 on, 200 off, 400 on, 2000 off at 25 Hz
    ((start, seconds),) = line.sent_seconds()
    assert line.polarity()[:2] == [(0.0, "reversed"), (round(start + seconds, 4), "forward")]
    assert start == 0.15  # 150 ms after the reversal: the 2130 + 2750 Hz alert opens the data
    pcm = np.frombuffer(line.player.played[0][1], "<i2")[:800] / 32768
    spectrum = np.abs(np.fft.rfft(pcm))
    assert sorted(np.argsort(spectrum)[-2:] * 10) == [2130, 2750]  # 10 Hz bins: the alert tone's pair
    first_ring = round(start + seconds + 0.3, 4)
    assert line.rings()[:2] == [(first_ring, 0.4), (round(first_ring + 0.6, 4), 0.4)]
    assert {f for _, v, f in line.fr.timeline if v == 0.5} == {25.0}


def test_france_rings_a_pulse_then_sends_then_rings():
    line, who = Line(), caller("FR")
    ring_for(line, 4.0, PLANS["FR"].ring, who)
    ((start, seconds),) = line.sent_seconds()
    assert line.rings()[0] == (0.0, 0.25)  # EN 300 659-1 ring-pulse alerting
    assert start == 0.85  # 600 ms after it
    assert line.rings()[1] == (round(start + seconds + 0.3, 4), 1.5)
    assert {f for _, v, f in line.fr.timeline if v == 0.5} == {50.0}


def test_dtmf_caller_id_before_the_first_ring_after_a_reversal():
    line, who = Line(), caller("NL")
    ring_for(line, 3.0, PLANS["NL"].ring, who)
    ((start, seconds),) = line.sent_seconds()
    assert line.polarity()[:2] == [(0.0, "reversed"), (round(start + seconds, 4), "forward")]
    assert start == 0.1
    assert seconds == pytest.approx(12 * 0.14)  # A, ten digits, C: 70 ms tone + 70 ms gap each
    assert line.rings()[0][0] == round(start + seconds + 0.3, 4)


def test_lifting_the_handset_mid_data_stops_it_and_restores_the_line():
    line, who = Line(), caller("GB")

    async def main() -> None:
        line.ringer.reverse_line(False)
        line.ringer.start_ringing(PLANS["GB"].ring, who)
        await asyncio.sleep(0.3)  # the data is playing, the line reversed for it
        assert line.fr.state == 0
        line.ringer.stop_ringing()  # lifted
        assert line.player.cancelled == 1
        assert (line.rm.state, line.fr.state) == (0, 1)  # no ring, forward again at once
        line.ringer.reverse_line(True)  # answered: the answer reversal
        assert line.fr.state == 0
        await asyncio.sleep(5)
        assert line.rings() == []
        await line.ringer.stop()

    run_virtual(main())


def test_no_caller_id_without_a_player_or_when_off():
    line = Line(player=False)
    ring_for(line, 6.5, PLANS["US"].ring, caller("US"))
    assert line.rings() == [(0.0, 2.0), (6.0, 0.5)]
    line = Line()
    ring_for(line, 6.5, PLANS["US"].ring, caller("US", standard="off"))
    assert line.player.played == []
    assert line.rings() == [(0.0, 2.0), (6.0, 0.5)]


def test_a_configured_ring_frequency_wins_over_the_countrys():
    line = Line(ring_hz=17.0)
    ring_for(line, 0.5, PLANS["GB"].ring, None)
    assert {f for _, v, f in line.fr.timeline if v == 0.5} == {17.0}


def test_private_caller_goes_out_as_p():
    line = Line()
    who = CallerId("", "", Absence.PRIVATE, Absence.PRIVATE, presentation_for("US"))
    ring_for(line, 4.0, PLANS["US"].ring, who)
    message = spill.message(who, WHEN)
    assert message[12:] == b"\x04\x01P\x08\x01P" + message[-1:]


class StalledPcm:
    """An ALSA PCM whose writer thread stalls once, 100 ms, a few periods into the burst."""

    def __init__(self, **kwargs) -> None:
        self._pcm, self._writes = alsaaudio.PCM(**kwargs), 0

    def write(self, data: bytes) -> int:
        self._writes += 1
        if self._writes == 5:
            time.sleep(0.1)
        return self._pcm.write(data)

    def close(self) -> None:
        self._pcm.close()


class PlayedPlayer(AlsaLinePlayer):
    """The ALSA player, saying when the ringer's burst has been played (its ``play`` returned)."""

    def __init__(self, device: str) -> None:
        super().__init__(device, pcm_factory=StalledPcm)
        self.played = asyncio.Event()

    async def play(self, pcm: bytes, *, sent=None) -> None:
        await super().play(pcm, sent=sent)
        self.played.set()


@pytest.mark.skipif(not shutil.which("minimodem"), reason="minimodem is the reference FSK decoder")
def test_the_real_player_writes_a_burst_minimodem_reads_to_the_checksum(tmp_path):
    """The SLIC driver with the ALSA player, into ALSA's file plugin: the whole message reaches
    the PCM, its last byte (the checksum) included, and decodes, though the writer stalls."""
    raw = tmp_path / "line.raw"
    factory = MockFactory(pin_class=MockPWMPin)
    player = PlayedPlayer(f"file:FILE={raw},FORMAT=raw")
    ringer = SlicRinger(23, 24, player=player, factory=factory, wall_clock=lambda: WHEN)
    who = caller("DE")  # V.23 in the first ring pause
    quick = Cadence((100, 2000), 25.0)  # in real time (the player's thread is not virtual): short

    async def main() -> None:
        ringer.start_ringing(quick, who)
        # The ringer's step that plays the burst returns: all of it written, a stalled thread or not.
        await asyncio.wait_for(player.played.wait(), 30)
        await ringer.stop()

    asyncio.run(main())
    wav = tmp_path / "line.wav"
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(raw.read_bytes())
    stream = subprocess.run(
        ["minimodem", "--rx", "1200", "-M", "1300", "-S", "2100", "-q", "-f", str(wav)],
        capture_output=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    sent = spill.message(who, WHEN)
    assert stream.endswith(sent)
    messages.parse(sent)  # its checksum is right


class RecordingPcm:
    def __init__(self, **kwargs) -> None:
        self.kwargs, self.writes, self.closed = kwargs, [], False

    def write(self, data: bytes) -> int:
        self.writes.append(data)
        return len(data) // 2

    def close(self) -> None:
        self.closed = True


def test_the_player_ends_each_burst_with_quiet_so_closing_drops_no_data():
    """Closing a running PCM drops what it still buffers (four 20 ms periods on these boards):
    the player writes 240 ms of quiet after the data, whole periods of 160 frames at 8 kHz."""
    pcms: list[RecordingPcm] = []

    def factory(**kwargs):
        pcms.append(RecordingPcm(**kwargs))
        return pcms[-1]

    player = AlsaLinePlayer("line", pcm_factory=factory)
    data = bytes(range(256)) * 5  # 640 frames: four periods
    asyncio.run(player.play(data + b"\x01\x02"))  # and one frame more
    (pcm,) = pcms
    assert (pcm.kwargs["rate"], pcm.kwargs["channels"], pcm.kwargs["periodsize"]) == (8000, 1, 160)
    assert {len(w) for w in pcm.writes} == {320}
    written = b"".join(pcm.writes)
    assert written[: len(data) + 2] == data + b"\x01\x02"
    assert written[len(data) + 2 :] == bytes(len(written) - len(data) - 2)
    assert len(written) - len(data) >= 12 * 320  # the quiet tail
    assert pcm.closed


def lamp_for(line: Line, presentation: Presentation, ring, *, on: bool = True, seconds: float = 2.0) -> None:
    async def main() -> None:
        line.ringer.show_messages(on, presentation, ring)
        await asyncio.sleep(seconds)
        await line.ringer.stop()

    run_virtual(main())


@pytest.mark.parametrize("on", [True, False])
def test_the_message_lamp_is_an_fsk_burst_on_the_idle_line(on):
    line = Line()
    lamp_for(line, presentation_for("US"), PLANS["US"].ring, on=on)
    ((start, pcm),) = line.player.played
    assert start == 0.0
    assert line.rings() == []
    assert pcm == spill.pcm16(spill.message_waiting(on=on))
    assert messages.message_waiting(on=on)[4] == (0xFF if on else 0x00)


def test_bt_lamp_reverses_and_alerts_first_france_rings_a_pulse():
    line = Line()
    lamp_for(line, presentation_for("GB"), PLANS["GB"].ring)
    ((start, seconds),) = line.sent_seconds()
    assert start == 0.15
    assert line.polarity()[:2] == [(0.0, "reversed"), (round(start + seconds, 4), "forward")]
    line = Line()
    lamp_for(line, presentation_for("FR"), PLANS["FR"].ring)
    assert line.rings() == [(0.0, 0.25)]
    assert {f for _, v, f in line.fr.timeline if v == 0.5} == {50.0}
    assert line.sent_seconds()[0][0] == 0.85


def test_no_lamp_for_dtmf_caller_id_and_a_ring_cuts_the_lamp_short():
    line = Line()
    lamp_for(line, presentation_for("NL"), PLANS["NL"].ring)
    assert line.player.played == []

    line = Line()

    async def main() -> None:
        line.ringer.show_messages(True, presentation_for("GB"), PLANS["GB"].ring)
        await asyncio.sleep(0.3)
        line.ringer.start_ringing(PLANS["GB"].ring, None)  # a call arrives
        assert line.player.cancelled == 1
        await asyncio.sleep(0)
        assert line.fr.state == 0.5  # ringing: the lamp's reversal is gone
        await asyncio.sleep(0.5)
        await line.ringer.stop()

    run_virtual(main())
    assert line.rings()[0] == (0.3, 0.4)


def test_call_waiting_alert_then_the_data_60_ms_after_the_ack_into_the_talking_line():
    line, who = Line(), caller("US")
    sent: list[float] = []

    async def main() -> None:
        line.ringer.reverse_line(True)  # talking: the answer reversal
        line.ringer.alert_waiting(who.presentation, lambda: sent.append(asyncio.get_running_loop().time()))
        await asyncio.sleep(0.2)
        assert sent == [pytest.approx(0.08)]  # reported once the alert has played, not when asked
        line.ringer.send_waiting_caller(who)  # the phone acked with a D
        await asyncio.sleep(1.0)
        assert (line.rm.state, line.fr.state) == (0, 0)  # still reversed, never rung
        await line.ringer.stop()

    run_virtual(main())
    (alert_at, alert), (data_at, data) = line.player.played
    assert alert_at == 0.0
    assert len(alert) == 2 * 640  # 80 ms at 8 kHz
    spectrum = np.abs(np.fft.rfft(np.frombuffer(alert, "<i2") / 32768, 8000))
    assert sorted(np.argsort(spectrum)[-2:]) == [2130, 2750]
    assert data_at == 0.26
    assert data == spill.pcm16(spill.waiting_data(who, WHEN))
    assert line.rings() == []


def test_the_driver_loads_no_numpy_until_a_signal_is_sent():
    """numpy costs ~11 MB of RSS: an idle adapter should not carry it (the steps' type is for mypy)."""
    code = "import sys, appliance.drivers.slic; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30)
    assert out.stdout.strip() == "False"


class ClockedPcm:
    """A PCM paced by the test's ticks, as a card's clock paces the writer: each write takes one."""

    def __init__(self, **kwargs) -> None:
        del kwargs
        self.written = 0
        self.ticks = threading.Semaphore(0)

    def write(self, data: bytes) -> int:
        assert self.ticks.acquire(timeout=10), "the test stopped ticking"
        self.written += 1
        return len(data) // 2

    def close(self) -> None:
        pass


def test_the_player_reports_the_alert_out_once_the_card_has_played_it_not_when_written():
    """ALSA buffers four periods: the alert's last period has played once four more are written."""
    pcm = ClockedPcm()
    player = AlsaLinePlayer("line", pcm_factory=lambda **_: pcm)
    alert = spill.pcm16(spill.waiting_alert())  # 80 ms: four periods
    played = 4 + AlsaLinePlayer.BUFFERED_PERIODS

    async def main() -> None:
        sent: list[int] = []
        playing = asyncio.create_task(player.play(alert, sent=lambda: sent.append(pcm.written)))
        for _ in range(played - 1):
            pcm.ticks.release()
        for _ in range(1000):  # the writer then waits for the card
            if pcm.written == played - 1:
                break
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.05)
        assert sent == []  # written to the buffer, still in it
        pcm.ticks.release()
        for _ in range(1000):
            if sent:
                break
            await asyncio.sleep(0.005)
        assert sent == [played]
        for _ in range(AlsaLinePlayer.TAIL_PERIODS):
            pcm.ticks.release()
        await asyncio.wait_for(playing, 10)
        assert sent == [played]

    asyncio.run(main())


def test_the_loop_switch_opens_for_the_far_end_clear_after_the_polarity_returns():
    line = Line(loop_pin=25)

    async def main() -> None:
        await asyncio.sleep(1.0)
        line.ringer.reverse_line(True)  # answered
        await asyncio.sleep(1.0)
        line.ringer.reverse_line(False)  # the far end cleared: the phone core's order
        line.ringer.open_loop(500)
        await asyncio.sleep(0.2)
        assert (line.rm.state, line.fr.state, line.loop.state) == (0, 1, 1)  # open, forward
        await asyncio.sleep(2.0)
        await line.ringer.stop()

    run_virtual(main())
    assert [(t, v) for t, v, _ in line.loop.timeline if t >= 0] == [(2.0, 1), (2.5, 0)]
    before_stop = [p for p in line.polarity() if p[0] < 4.0]  # the pins closing come after
    assert before_stop[-2:] == [(1.0, "reversed"), (2.0, "forward")]  # nothing changes after the open


def test_an_active_low_loop_switch_and_a_stop_mid_open_leave_the_loop_closed():
    line = Line(loop_pin=25, loop_active_high=False)

    async def main() -> None:
        assert line.loop.state == 1  # closed at rest: high
        line.ringer.open_loop(1000)
        await asyncio.sleep(0.3)
        assert line.loop.state == 0
        await line.ringer.stop()  # shut down mid-open: the loop closes, then the pin is released

    run_virtual(main())
    assert [(t, v) for t, v, _ in line.loop.timeline if t >= 0][:2] == [(0.0, 0), (0.3, 1)]


def test_without_a_loop_switch_the_clear_is_the_polarity_alone():
    line = Line()  # adapter-v1: the Ag1171 has no loop control

    async def main() -> None:
        line.ringer.reverse_line(True)
        line.ringer.reverse_line(False)
        line.ringer.open_loop(500)
        await asyncio.sleep(1.0)
        assert line.fr.state == 1
        await line.ringer.stop()

    run_virtual(main())
    assert line.loop.timeline == []  # the pin was never claimed nor driven


def test_ntt_rings_the_car_signal_on_a_reversed_line_then_the_ordinary_ring():
    line, who = Line(), caller("JP")
    ring_for(line, 8.0, PLANS["JP"].ring, who)
    car = [(round(0.1 + i, 4), 0.5) for i in range(6)]  # 100 ms after the reversal, 500 on 500 off
    assert line.rings() == [*car, (6.1, 1.0)]  # then the IR: 1 s on, 2 s off
    assert line.player.played == []  # no data unless the phone answers
    assert {f for _, v, f in line.fr.timeline if v == 0.5} == {16.0}
    rests = [p for p in line.polarity() if p[0] < 7.0]
    assert rests[0] == (0.0, "reversed")
    assert [p for t, p in rests if t < 6.1] == ["reversed"] * 7  # reversed again after each burst
    assert (6.1, "forward") in rests


def test_ntt_data_goes_100_ms_after_the_phones_answer_on_the_reversed_line():
    line, who = Line(), caller("JP")

    async def main() -> None:
        line.ringer.start_ringing(PLANS["JP"].ring, who)
        await asyncio.sleep(1.3)
        line.ringer.stop_ringing()  # the phone closed its loop: the core stops the CAR ...
        line.ringer.send_caller(who)  # ... and sends the caller
        await asyncio.sleep(0.05)
        assert line.fr.state == 0  # reversed for the data
        await asyncio.sleep(1.0)
        assert line.fr.state == 1  # forward once it is out
        await line.ringer.stop()

    run_virtual(main())
    ((start, pcm),) = line.player.played
    assert start == 1.4
    assert pcm == spill.pcm16(spill.data(who, WHEN))
    assert line.rings() == [(0.1, 0.5), (1.1, 0.2)]  # the burst under way stopped at once
