"""The owner's greeting through the daemon's private PulseAudio, without a daemon: recorded from
the handset's microphone after the prompt and beep, then played into a call instead of the
spoken greeting."""

import asyncio
import shutil

import numpy as np
import pytest

from .speech import RATE, speech
from .test_answering_machine import DaemonsEar, best_match, play, record

pytestmark = [
    pytest.mark.serial,  # recordings timed in wall-clock seconds, as the answering machine's
    pytest.mark.skipif(
        not all(shutil.which(t) for t in ("pacat", "parec", "pactl", "espeak-ng", "sox")),
        reason="needs pulseaudio-utils, espeak-ng and sox",
    ),
]


async def test_the_owners_greeting_is_recorded_from_the_handset_and_played_into_calls(tmp_path):
    """No daemon: the handset's ear is ``speaker.monitor``, its mouth ``micsink`` (the desktop's
    sound path the daemon would use), the daemon's ear a parec on the default source."""
    from appliance.drivers.audiofile import read_pcm
    from appliance.drivers.dtmf import resample
    from appliance.drivers.jami.answering import CallAudio
    from appliance.drivers.jami.audio import PrivatePulseAudio
    from appliance.drivers.speech import EspeakSpeech
    from appliance.phone.events import GreetingEnded
    from appliance.phone.model import CallId

    said = resample(speech(tmp_path / "speech", "en-us")[: int(3 * RATE)], RATE, 8000)
    pulse = PrivatePulseAudio(tmp_path / "pulse")
    await pulse.start()
    events = []
    machine = CallAudio(pulse, events.append, EspeakSpeech())
    env = pulse.env
    try:
        ear = asyncio.get_running_loop().create_task(record(env, "speaker.monitor", 6.0))
        await machine.record_handset("Record your greeting after the tone.", "en")
        async with asyncio.timeout(15):  # the prompt and the beep, then the microphone is recorded
            while machine._handset.start is None:
                await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)  # the owner speaks a moment after the beep
        await play(env, "micsink", resample(said, 8000, RATE))
        take = await machine.stop_handset()
        heard = await ear
        assert take.suffix == ".flac" and 3.2 <= take.duration_s < 4.0
        kept = tmp_path / "greeting.flac"
        kept.write_bytes(take.data)
        recorded = np.frombuffer(read_pcm(kept), "<i2").astype(np.float64) / 32768
        match, _ = best_match(recorded, said)
        spectrum = np.abs(np.fft.rfft(heard))
        freqs = np.fft.rfftfreq(len(heard), 1 / 8000)
        beep_share = spectrum[(freqs > 980) & (freqs < 1020)].sum() / spectrum.sum()
        assert 20 * np.log10(np.sqrt(np.mean(heard**2))) > -40  # the handset heard the prompt
        assert beep_share > 0.02  # and the beep
        assert match > 0.9  # the owner's words, as spoken into the handset

        async with DaemonsEar(env) as daemons_ear:
            await asyncio.sleep(0.5)
            await machine.greet(CallId("c1"), "The spoken greeting, not this one.", "en", kept)
            async with asyncio.timeout(15):
                while not events:
                    await asyncio.sleep(0.05)
            assert events == [GreetingEnded(CallId("c1"))]
        to_caller = daemons_ear.since()
        played, _ = best_match(to_caller, said)
        print(
            f"greeting take {take.duration_s:.1f} s, match {match:.3f}; sent to the caller: match {played:.3f}"
        )
        assert played > 0.9  # the caller is sent the owner's greeting
        await machine.stop_recording(CallId("c1"))
    finally:
        await machine.stop()
        await pulse.stop()
