"""The answering machine with real daemons: Alice calls Bob, nobody lifts, Bob's phone answers,
Alice hears the greeting and speaks; the message Bob's phone keeps is her speech."""

import asyncio
import contextlib
import os
import shutil

import numpy as np
import pytest

from appliance.phone.events import ContactsChanged
from appliance.phone.model import Contact, Mode

from .conftest import appliance, dial_until_ringing, requirements
from .speech import RATE, speech

pytestmark = [
    pytest.mark.serial,  # recordings timed in wall-clock seconds: a busy machine starts parec late
    *requirements,
    pytest.mark.skipif(
        not all(shutil.which(t) for t in ("pacat", "parec", "pactl", "espeak-ng", "sox")),
        reason="needs pulseaudio-utils, espeak-ng and sox",
    ),
]


async def record(env, device, seconds):
    """``seconds`` of a PulseAudio device at 8 kHz."""
    parec = await asyncio.create_subprocess_exec(
        "parec", f"--device={device}", "--rate=8000", "--channels=1", "--format=s16le",
        stdout=asyncio.subprocess.PIPE, env={**os.environ, **env},
    )  # fmt: skip
    data = bytearray()
    try:
        async with asyncio.timeout(seconds + 10):
            while len(data) < 2 * 8000 * seconds:
                chunk = await parec.stdout.read(4096)
                if not chunk:
                    break
                data += chunk
    finally:
        with contextlib.suppress(ProcessLookupError):
            parec.terminate()
        await parec.wait()
    return np.frombuffer(bytes(data[: len(data) // 2 * 2]), "<i2").astype(np.float64) / 32768


async def play(env, device, clip):
    pacat = await asyncio.create_subprocess_exec(
        "pacat", "--playback", f"--device={device}", f"--rate={RATE}", "--channels=1", "--format=s16le",
        stdin=asyncio.subprocess.PIPE, env={**os.environ, **env},
    )  # fmt: skip
    try:
        pacat.stdin.write((clip * 32767).astype("<i2").tobytes())
        await pacat.stdin.drain()
        pacat.stdin.close()
        async with asyncio.timeout(len(clip) / RATE + 10):
            await pacat.wait()
    finally:
        if pacat.returncode is None:
            pacat.terminate()
            await pacat.wait()


class DaemonsEar:
    """What the daemon's capture stream hears (the default source, 8 kHz mono), gathered from the
    moment the block starts until it ends; the parec is stopped by PID also on failure."""

    def __init__(self, env):
        self._env = env
        self.heard = bytearray()

    def since(self, start=0):
        """The samples gathered from byte ``start`` on, as floats in [-1, 1)."""
        data = bytes(self.heard[start : len(self.heard) // 2 * 2])
        return np.frombuffer(data, "<i2").astype(np.float64) / 32768

    async def __aenter__(self):
        self._parec = await asyncio.create_subprocess_exec(
            "parec", "--rate=8000", "--channels=1", "--format=s16le", stdout=asyncio.subprocess.PIPE,
            env={**os.environ, **self._env},
        )  # fmt: skip
        self._gathering = asyncio.get_running_loop().create_task(self._gather())
        return self

    async def _gather(self):
        while chunk := await self._parec.stdout.read(4096):
            self.heard.extend(chunk)

    async def __aexit__(self, *exc):
        self._gathering.cancel()
        with contextlib.suppress(ProcessLookupError):
            self._parec.terminate()
        await self._parec.wait()


def best_match(recording, clip):
    """The normalised cross-correlation's peak: 1.0 is the clip itself (any delay, any gain)."""
    n = len(recording) + len(clip)
    size = 1 << (n - 1).bit_length()
    xcorr = np.fft.irfft(np.fft.rfft(recording, size) * np.conj(np.fft.rfft(clip, size)), size)
    lag = int(np.argmax(xcorr[: len(recording)]))
    heard = recording[lag : lag + len(clip)]
    clip = clip[: len(heard)]
    return float(np.dot(heard, clip) / np.sqrt(np.dot(heard, heard) * np.dot(clip, clip) + 1e-12)), heard


async def test_a_caller_nobody_answers_leaves_the_message_the_phone_keeps(netns, dht, tmp_path):
    from appliance.drivers.audiofile import read_pcm
    from appliance.drivers.dtmf import resample

    clip = speech(tmp_path / "speech", "en-us")[: int(6 * RATE)]
    bob_table = {"voicemail": {"enabled": True, "answer_after_s": 3, "max_s": 60}}
    async with (
        appliance(netns, dht, tmp_path / "b", "Bob", bob_table, audio=True) as b,
        appliance(netns, dht, tmp_path / "a", "Alice", audio=True) as a,
    ):
        assert b.sim.supervisor.phone.settings.voicemail.enabled  # the daemon's core can record
        a.sim.supervisor.post(ContactsChanged((Contact("Bob", b.core.jami_id, speed_dial="2"),)))
        await dial_until_ringing(a, b)
        await a.until(lambda p: p.phone.mode is Mode.TALKING, 30)  # Bob's phone answered
        assert not b.sim.fakes.hook.off_hook and not b.sim.fakes.ringer.ringing
        greeting = await record(a.core.pulse.env, "speaker.monitor", 4.0)  # Alice hears the greeting
        await b.until(lambda p: p.phone.answering is not None and p.phone.answering.phase == "recording", 30)
        await asyncio.sleep(0.5)
        await play(a.core.pulse.env, "micsink", clip)  # Alice speaks after the beep
        await asyncio.sleep(1.0)
        a.sim.fakes.hook.replace()  # and hangs up
        await b.until(lambda p: p.phone.messages, 30)
        [message] = b.sim.supervisor.messages.all()
        data, suffix = b.sim.supervisor.messages.audio(message.id)
        assert suffix == ".flac" and data[:4] == b"fLaC"
        assert (message.caller_name, message.caller_uri) == ("Alice", a.core.jami_id)
        kept = tmp_path / f"message{suffix}"
        kept.write_bytes(data)
        assert b.sim.supervisor.phone.messages_waiting == 1
    greeting_db = 10 * np.log10(np.mean(greeting**2) + 1e-12)
    recording = np.frombuffer(read_pcm(kept), "<i2").astype(np.float64) / 32768
    said = resample(clip, RATE, 8000)
    match, heard = best_match(recording, said)
    level_db = 10 * np.log10(np.mean(heard**2) / np.mean(said**2))
    print(f"greeting at Alice {greeting_db:.1f} dBFS; message {message.duration_s:.1f} s, "
          f"match {match:.3f}, level {level_db:+.1f} dB")  # fmt: skip
    assert greeting_db > -45  # speech, not silence
    assert message.duration_s >= len(clip) / RATE
    assert match > 0.5  # Alice's words, through Opus and back
    assert -10 < level_db < 6


async def test_the_machine_moves_the_daemons_streams_off_the_handset_and_back(tmp_path):
    """No daemon: its two streams stood in for by pacat (what it plays, the caller's voice) and
    parec (what it sends the caller), on the private PulseAudio the daemon would have."""
    from appliance.drivers.jami.answering import CallAudio
    from appliance.drivers.jami.audio import PrivatePulseAudio
    from appliance.drivers.speech import EspeakSpeech
    from appliance.phone.events import CallerFinished, GreetingEnded
    from appliance.phone.model import CallId

    pulse = PrivatePulseAudio(tmp_path / "pulse")
    await pulse.start()
    events = []
    machine = CallAudio(pulse, events.append, EspeakSpeech())
    env = {**os.environ, **pulse.env}
    caller = tmp_path / "caller.raw"  # a file, not a pipe: nothing is left unwritten when it stops
    caller.write_bytes(
        (np.sin(2 * np.pi * 440 * np.arange(8000 * 30) / 8000) * 0.3 * 32767).astype("<i2").tobytes()
    )
    # A low-latency stream as the daemon's own: with pacat's default 2 s buffer the null sink renders
    # in 2 s blocks, and the recording's first samples came up to 2 s late.
    with caller.open("rb") as voice:
        daemon_plays = await asyncio.create_subprocess_exec(
            "pacat", "--playback", "--rate=8000", "--channels=1", "--format=s16le", "--latency-msec=20",
            stdin=voice, env=env,
        )  # fmt: skip
    try:
        async with DaemonsEar(pulse.env) as ear:
            # The daemon's two streams exist before a call is answered by the machine: wait until both
            # are connected (a loaded machine took over 0.5 s), or the routing has nothing to move.
            async with asyncio.timeout(10):
                while not all(
                    [
                        (await machine._pactl("list", "short", k)).strip()
                        for k in ("sink-inputs", "source-outputs")
                    ]
                ):
                    await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)
            before = len(ear.heard)
            await machine.greet(CallId("c1"), "Please leave a message.", "en")
            async with asyncio.timeout(15):
                while not events:
                    await asyncio.sleep(0.05)
            assert events == [GreetingEnded(CallId("c1"))]
            greeting = ear.since(before)
            assert 20 * np.log10(np.sqrt(np.mean(greeting**2))) > -40  # the caller was sent the greeting
            await machine.start_recording(CallId("c1"))
            await asyncio.sleep(2.0)
            recording = await machine.stop_recording(CallId("c1"))
            assert recording.suffix == ".flac" and 1.5 < recording.duration_s < 3
            kept = tmp_path / "m.flac"
            kept.write_bytes(recording.data)
            from appliance.drivers.audiofile import read_pcm

            heard = np.frombuffer(read_pcm(kept), "<i2").astype(np.float64) / 32768
            spectrum = np.abs(np.fft.rfft(heard[4000:]))
            freqs = np.fft.rfftfreq(len(heard[4000:]), 1 / 8000)
            assert abs(freqs[np.argmax(spectrum)] - 440) < 5  # the caller's voice, recorded
            listed = (await machine._pactl("list", "short", "sink-inputs")).split()
            assert "speaker" in await machine._pactl("get-default-sink") and listed  # back on the handset
            assert not any(isinstance(e, CallerFinished) for e in events)  # the tone is no silence, no '#'
    finally:
        with contextlib.suppress(ProcessLookupError):
            daemon_plays.terminate()
        await daemon_plays.wait()
        await machine.stop()
        await pulse.stop()
