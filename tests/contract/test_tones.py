import asyncio
import os
import shutil
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from appliance.drivers.alsa import PERIOD, AlsaTones, playback_device
from appliance.fakes.tones import FakeTones
from appliance.phone.tones import PLANS, Tone
from tests.dtmf_corpus import build


def power(samples, freq, rate=8000):
    n = np.arange(len(samples))
    return abs(np.sum(samples * np.exp(-2j * np.pi * freq * n / rate))) ** 2


class FakeRig:
    def __init__(self, tmp_path):
        self.tones = FakeTones()

    def heard(self):
        return None


class AlsaRig:
    """The ALSA player writing into ALSA's file plugin: what the handset would have heard."""

    def __init__(self, tmp_path):
        self.out = tmp_path / "handset.raw"
        self.tones = AlsaTones(f"file:FILE={self.out},FORMAT=raw")

    def heard(self):
        return np.frombuffer(self.out.read_bytes(), "<i2").astype(np.float64) / 32768

    async def written(self, samples):
        """Until the player has written ``samples`` (the file PCM is not clocked: on a loaded
        machine its thread may have written little by the time a fixed sleep ends)."""
        for _ in range(400):
            if self.tones.periods_written * PERIOD >= samples:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"only {self.tones.periods_written} periods written")


@pytest.fixture(params=["fake", "alsa"])
def rig(request, tmp_path):
    return FakeRig(tmp_path) if request.param == "fake" else AlsaRig(tmp_path)


async def test_one_tone_at_a_time_and_silence(rig):
    us = PLANS["US"]
    assert rig.tones.playing is None
    rig.tones.play(Tone.DIAL, us.pattern(Tone.DIAL))
    assert rig.tones.playing is Tone.DIAL
    await asyncio.sleep(0.05)
    if isinstance(rig, AlsaRig):
        await rig.written(4000)  # the samples checked below are all dial tone
    rig.tones.play(Tone.BUSY, us.pattern(Tone.BUSY))
    assert rig.tones.playing is Tone.BUSY
    await asyncio.sleep(0.05)
    rig.tones.stop_tone()
    assert rig.tones.playing is None
    await rig.tones.stop()
    heard = rig.heard()
    if heard is not None:
        first = heard[:4000]  # the dial tone: 350 + 440 Hz, nothing at 1 kHz
        assert power(first, 350) > 1000 * power(first, 1000)
        assert power(first, 440) > 1000 * power(first, 1000)
        assert np.max(np.abs(first)) == pytest.approx(0.3, abs=0.02)


async def test_alsa_stops_writing_when_silent(tmp_path):
    rig = AlsaRig(tmp_path)
    rig.tones.play(Tone.DIAL, PLANS["DE"].pattern(Tone.DIAL))
    await asyncio.sleep(0.05)
    rig.tones.stop_tone()
    await asyncio.sleep(0.05)
    size = rig.out.stat().st_size
    await asyncio.sleep(0.1)
    assert rig.out.stat().st_size == size  # the PCM is closed: the daemon may have the card
    heard = rig.heard()[:4000]
    assert power(heard, 425) > 1000 * power(heard, 700)
    await rig.tones.stop()


async def test_alsa_missing_card_does_not_break_the_phone(caplog):
    tones = AlsaTones("plughw:CARD=NoSuchCard,DEV=0")
    tones.play(Tone.DIAL, PLANS["US"].pattern(Tone.DIAL))  # never raises on the loop
    await asyncio.sleep(0.1)
    await tones.stop()
    assert "NoSuchCard" in caplog.text


def test_card_is_chosen_by_name():
    with pytest.raises(LookupError, match="no ALSA card named 'Nope'"):
        playback_device("Nope")
    assert playback_device("", "handset") == "handset"
    assert playback_device("") == "default"


CAPTURE = textwrap.dedent(
    """
    import asyncio, sys
    from appliance.drivers.alsa import AlsaDtmfKeypad

    async def main():
        keys = []
        keypad = AlsaDtmfKeypad("line_in")
        await keypad.start(keys.append)
        keypad.listen(True)  # the phone is off hook
        await asyncio.sleep(float(sys.argv[1]))
        await keypad.stop()
        print("".join(keys))

    asyncio.run(main())
    """
)


@pytest.mark.skipif(not shutil.which("sox"), reason="sox makes the line recording")
def test_dtmf_from_the_line_through_alsa_capture(tmp_path):
    """An analog phone dials into the adapter: its DTMF arrives on ALSA capture and becomes keys."""
    entry = next(e for e in build(tmp_path / "corpus") if e.name == "fast-40ms-noise-snr12")
    raw = tmp_path / "line.raw"
    subprocess.run(
        ["sox", str(entry.path), "-t", "raw", "-e", "signed-integer", "-b", "16", str(raw)], check=True
    )
    with raw.open("ab") as handle:
        handle.write(
            bytes(2 * 8000 * 600)
        )  # the file plugin repeats stale data past the end: pad with silence
    conf = tmp_path / "asound.conf"
    conf.write_text(
        f'pcm.line_in {{ type file slave.pcm "null" file "/dev/null" infile "{raw}" format "raw" }}\n'
    )
    env = {**os.environ, "ALSA_CONFIG_PATH": f"/usr/share/alsa/alsa.conf:{conf}"}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", CAPTURE, "0.5"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == entry.digits
    assert time.monotonic() - started < 30


async def test_dtmf_keypad_leaves_the_line_alone_on_hook():
    from appliance.drivers.alsa import AlsaDtmfKeypad

    opened = []

    def pcm_factory(**kwargs):
        opened.append(kwargs["device"])
        raise __import__("alsaaudio").ALSAAudioError("test: no card")

    keypad = AlsaDtmfKeypad("line", pcm_factory=pcm_factory)
    await keypad.start(lambda key: None)
    await asyncio.sleep(0.2)
    assert opened == []  # on hook: nothing captured
    keypad.listen(True)
    await asyncio.sleep(0.2)
    assert opened == ["line"]
    await keypad.stop()


async def test_speaker_ringer_plays_bursts_with_the_cadence(tmp_path):
    from appliance.drivers.alsa import SpeakerRinger

    out = tmp_path / "speaker.raw"
    ringer = SpeakerRinger(f"file:FILE={out},FORMAT=raw", level=0.5)
    ringer.start_ringing(PLANS["US"].ring)
    await asyncio.sleep(0.1)
    assert ringer.ringing
    assert ringer._player.playing is not None  # first burst of the cadence
    ringer.stop_ringing()
    assert ringer._player.playing is None
    await ringer.stop()
    heard = np.frombuffer(out.read_bytes(), "<i2").astype(np.float64)[:4000] / 32768
    assert power(heard, 480) > 100 * power(heard, 1000)  # the warble's tones


def test_handset_volume_without_a_mixer_scales_the_samples():
    from appliance.drivers.alsa import handset_level

    assert handset_level("", "", 50, 0.3) == pytest.approx(0.15)


LEVEL = textwrap.dedent(
    """
    from appliance.drivers.alsa import capture_level
    print(capture_level("line_in", 1.0))
    """
)


def test_the_handset_test_measures_the_microphone_through_alsa(tmp_path):
    """A sine at half of full scale is -9.0 dBFS (RMS); the web page's handset test reads that."""
    import numpy as np

    t = np.arange(8000 * 3) / 8000
    raw = tmp_path / "mic.raw"
    raw.write_bytes((0.5 * 32767 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes())
    conf = tmp_path / "asound.conf"
    conf.write_text(
        f'pcm.line_in {{ type file slave.pcm "null" file "/dev/null" infile "{raw}" format "raw" }}\n'
    )
    env = {**os.environ, "ALSA_CONFIG_PATH": f"/usr/share/alsa/alsa.conf:{conf}"}
    result = subprocess.run([sys.executable, "-c", LEVEL], capture_output=True, text=True, env=env, timeout=60,
                            check=True)  # fmt: skip
    assert abs(float(result.stdout) - (-9.0)) < 0.3, result.stdout


@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="the Debian package espeak-ng")
async def test_alsa_speaks_a_prompt_then_falls_silent(tmp_path):
    from appliance.drivers.speech import EspeakSpeech, PromptCache

    rig = AlsaRig(tmp_path)
    speech = EspeakSpeech(PromptCache(tmp_path / "prompts"))
    expected = speech.pcm("One two three", "en")
    rig.tones = AlsaTones(f"file:FILE={rig.out},FORMAT=raw", speech=speech)
    rig.tones.say("One two three", "en")
    assert rig.tones.saying == "One two three"
    assert rig.tones.playing is None  # a prompt is not a tone
    for _ in range(400):
        if rig.tones.saying is None:
            break
        await asyncio.sleep(0.01)
    assert rig.tones.saying is None  # said once, then silence (the PCM closed for the daemon)
    heard = rig.out.read_bytes()
    await rig.tones.stop()
    assert heard[: len(expected)] == expected  # at the default level, the prompt as made
    assert len(heard) - len(expected) < 2 * PERIOD


@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="the Debian package espeak-ng")
async def test_alsa_a_tone_cuts_a_prompt_short(tmp_path):
    rig = AlsaRig(tmp_path)
    rig.tones.say("This is a long prompt that nobody will hear to the end of it", "en")
    await rig.written(1600)
    rig.tones.play(Tone.DIAL, PLANS["US"].pattern(Tone.DIAL))
    assert rig.tones.saying is None
    written = rig.tones.periods_written
    await rig.written(written * PERIOD + 8000)
    await rig.tones.stop()
    tail = rig.heard()[-4000:]  # the dial tone took over
    assert power(tail, 350) > 1000 * power(tail, 1000)


async def test_fake_records_what_was_said():
    tones = FakeTones()
    seen = []
    tones.watch(seen.append)
    tones.play(Tone.DIAL, PLANS["US"].pattern(Tone.DIAL))
    tones.say("Voice menu", "en")
    assert tones.playing is None
    assert tones.saying == "Voice menu"
    assert [text for _, _, text in tones.said] == ["Voice menu"]
    assert seen[-1] == {"event": "announce", "text": "Voice menu", "language": "en"}
    tones.stop_tone()
    assert tones.saying is None


@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="the Debian package espeak-ng")
async def test_alsa_plays_a_message_after_its_announcement(tmp_path):
    from appliance.drivers.audiofile import flac, read_pcm
    from appliance.drivers.speech import EspeakSpeech

    said = (np.sin(2 * np.pi * 700 * np.arange(8000) / 8000) * 0.25 * 32767).astype("<i2").tobytes()
    message = tmp_path / "m.flac"
    message.write_bytes(flac(said))
    assert len(message.read_bytes()) < len(said)  # compressed, and lossless:
    assert read_pcm(message) == said
    speech = EspeakSpeech()
    rig = AlsaRig(tmp_path)
    rig.tones = AlsaTones(f"file:FILE={rig.out},FORMAT=raw", speech=speech)
    rig.tones.say("Message 1", "en", then=message)
    for _ in range(600):
        if rig.tones.saying is None:
            break
        await asyncio.sleep(0.01)
    await rig.tones.stop()
    heard = rig.out.read_bytes()
    announcement = speech.pcm("Message 1", "en")
    assert heard[: len(announcement)] == announcement
    start = len(announcement) + 2 * 4000  # half a second's pause
    assert heard[start : start + len(said)] == said  # then the message as it was recorded
