"""The Jami answering machine's ear, without PulseAudio: what parec would deliver is fed in, and
'#' or a long silence end the message (the routing itself: tests/jami/test_answering_machine.py)."""

import asyncio

import numpy as np

from appliance.drivers.jami.answering import RATE, SILENCE_S, CallAudio, _Take, beep
from appliance.phone.events import CallerFinished
from appliance.phone.model import CallId


class Stream:
    def __init__(self, pcm: bytes) -> None:
        self.pcm, self.at = pcm, 0

    async def read(self, n: int) -> bytes:
        chunk = self.pcm[self.at : self.at + n]
        self.at += len(chunk)
        return chunk


class Parec:
    def __init__(self, pcm: bytes) -> None:
        self.stdout = Stream(pcm)


def tone(*hz: float, seconds: float, level: float = 0.2) -> bytes:
    n = np.arange(int(RATE * seconds))
    wave = sum(np.sin(2 * np.pi * f * n / RATE) for f in hz) * level
    return (wave * 32767).astype("<i2").tobytes()


def heard(pcm: bytes) -> tuple[list, bytes]:
    events: list = []
    machine = CallAudio(None, events.append, None)  # type: ignore[arg-type]
    take = _Take(Parec(pcm))  # type: ignore[arg-type]
    asyncio.run(machine._listen(CallId("c1"), take))
    return events, bytes(take.pcm)


def test_pound_ends_the_message():
    speech = tone(300, 700, seconds=2.0)
    events, recorded = heard(speech + tone(941, 1477, seconds=0.2) + tone(300, seconds=1.0))
    assert events == [CallerFinished(CallId("c1"), "#")]
    assert recorded.startswith(speech)  # everything kept: the message is cut when it is stopped


def test_a_long_silence_ends_it_a_short_one_does_not():
    events, _ = heard(
        tone(400, seconds=1.0) + bytes(2 * int(RATE * (SILENCE_S - 1))) + tone(400, seconds=1.0)
    )
    assert events == []
    events, _ = heard(tone(400, seconds=1.0) + bytes(2 * int(RATE * (SILENCE_S + 0.5))))
    assert events == [CallerFinished(CallId("c1"), "silence")]


def test_the_beep_is_a_clean_tone():
    samples = np.frombuffer(beep(), "<i2").astype(np.float64)
    assert len(samples) == RATE // 2
    assert abs(samples[0]) < 100 and abs(samples[-1]) < 100  # ramped: no click
    spectrum = np.abs(np.fft.rfft(samples))
    assert abs(np.fft.rfftfreq(len(samples), 1 / RATE)[np.argmax(spectrum)] - 1000) < 3
