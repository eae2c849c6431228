"""Audio through real calls: a tone sent into one phone's microphone is heard in the other's speaker."""

import asyncio
import os
import shutil
import sys

import numpy as np
import pytest

from appliance.phone.events import ContactsChanged
from appliance.phone.model import Contact, Mode

from .conftest import appliance, call_and_answer, dial_until_ringing, requirements

pytestmark = [
    *requirements,
    pytest.mark.skipif(not shutil.which("pacat"), reason="needs pulseaudio-utils"),
]


async def send_tone(phone, hz: float, seconds: float) -> asyncio.subprocess.Process:
    """Play a sine into the phone's microphone (the micsink null sink), in real time."""
    return await send_tone_to(phone.core.pulse.env, phone.core.root, hz, seconds)


async def send_tone_to(
    pulse_env: dict[str, str], where, hz: float, seconds: float
) -> asyncio.subprocess.Process:
    """Play a sine into a PulseAudio's ``micsink``, in real time."""
    rate = 48000
    t = np.arange(int(rate * seconds)) / rate
    source = where / f"tone-{hz}.raw"
    source.write_bytes((0.3 * 32767 * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes())
    env = {**os.environ, **pulse_env}
    with source.open("rb") as pcm:  # from a file: pacat may be stopped before it has read it all
        return await asyncio.create_subprocess_exec(
            "pacat", "--playback", "--device=micsink", f"--rate={rate}", "--channels=1", "--format=s16le",
            "--latency-msec=20", stdin=pcm, env=env,
        )  # fmt: skip


async def record(phone, seconds: float) -> np.ndarray:
    """What the phone's speaker plays, at 8 kHz."""
    return await record_from(phone.core.pulse.env, seconds)


async def record_from(pulse_env: dict[str, str], seconds: float) -> np.ndarray:
    """What a PulseAudio's ``speaker`` sink plays, at 8 kHz. A short latency matters: parec's default
    fragment is ~2 s, so a short window read with it comes back empty or truncated."""
    env = {**os.environ, **pulse_env}
    recorder = await asyncio.create_subprocess_exec(
        "parec", "--device=speaker.monitor", "--rate=8000", "--channels=1", "--format=s16le",
        "--latency-msec=20", stdout=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    data = b""
    try:
        async with asyncio.timeout(seconds):
            while True:
                chunk = await recorder.stdout.read(4096)
                if not chunk:
                    break
                data += chunk
    except TimeoutError:
        pass
    finally:
        recorder.terminate()
        await recorder.wait()
    return np.frombuffer(data, "<i2").astype(np.float64) / 32768


def share_at(samples: np.ndarray, hz: float, rate: int = 8000) -> float:
    """The fraction of the signal's energy within 20 Hz of ``hz``."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    return float(spectrum[np.abs(freqs - hz) < 20].sum() / spectrum.sum())


async def test_tones_cross_the_call_both_ways(netns, dht, tmp_path):
    async with (
        appliance(netns, dht, tmp_path / "b", "Bob", audio=True) as b,
        appliance(netns, dht, tmp_path / "a", "Alice", audio=True) as a,
    ):
        a.sim.supervisor.post(ContactsChanged((Contact("Bob", b.core.jami_id, speed_dial="2"),)))
        await call_and_answer(a, b)
        await asyncio.sleep(2.0)  # media negotiation (0.5-1 s measured)

        players = [await send_tone(a, 1000, 6), await send_tone(b, 600, 6)]
        try:
            await asyncio.sleep(1.0)
            heard_by_b, heard_by_a = await asyncio.gather(record(b, 3), record(a, 3))
        finally:
            for player in players:
                if player.returncode is None:
                    player.terminate()
                await player.wait()
        assert len(heard_by_b) > 8000 and len(heard_by_a) > 8000
        assert np.sqrt(np.mean(heard_by_b**2)) > 0.01  # not silence
        print(
            f"B hears 1 kHz: {share_at(heard_by_b, 1000):.3f}; A hears 600 Hz: {share_at(heard_by_a, 600):.3f}"
        )
        assert share_at(heard_by_b, 1000) > 0.9
        assert share_at(heard_by_a, 600) > 0.9
        a.sim.fakes.hook.replace()
        await b.until(lambda p: p.phone.mode is Mode.DIALING and p.phone.calls == ())


async def test_three_way_conference_from_the_handset(netns, dht, tmp_path):
    """A calls B, flashes, dials C, flashes: all three talk; each hears the other two (mixed on A)."""
    async with (
        appliance(netns, dht, tmp_path / "b", "Bob", audio=True) as b,
        appliance(netns, dht, tmp_path / "c", "Carol", audio=True) as c,
        appliance(netns, dht, tmp_path / "a", "Alice", audio=True) as a,
    ):
        a.sim.supervisor.post(
            ContactsChanged(
                (
                    Contact("Bob", b.core.jami_id, speed_dial="2"),
                    Contact("Carol", c.core.jami_id, speed_dial="3"),
                )
            )
        )
        await call_and_answer(a, b)
        await a.sim.fakes.hook.flash(0.5)  # hold Bob, second dial tone
        await a.until(
            lambda p: p.sim.fakes.tones.current is not None and p.sim.fakes.tones.current.value == "dial"
        )
        await dial_until_ringing(a, c, "3#")
        c.sim.fakes.hook.lift()
        await a.until(lambda p: p.phone.active_call is not None and p.phone.active_call.connected_at is not None
                      and p.phone.active_call.peer_name == "Carol")  # fmt: skip
        await a.sim.fakes.hook.flash(0.5)  # join everyone
        await a.until(lambda p: p.phone.conference)
        await asyncio.sleep(2.0)

        tones = {a: 1000, b: 600, c: 1400}
        players = [await send_tone(p, hz, 7) for p, hz in tones.items()]
        try:
            await asyncio.sleep(1.5)
            heard = dict(zip(tones, await asyncio.gather(*(record(p, 3) for p in tones)), strict=True))
        finally:
            for player in players:
                if player.returncode is None:
                    player.terminate()
                await player.wait()
        for listener, samples in heard.items():
            others = [hz for p, hz in tones.items() if p is not listener]
            shares = [share_at(samples, hz) for hz in others]
            print(f"{listener.core.display_name} hears {others}: {[round(s, 3) for s in shares]}")
            assert all(s > 0.1 for s in shares)  # both others clearly present
            assert sum(shares) > 0.8  # and little else
        a.sim.fakes.hook.replace()
        await b.until(lambda p: p.phone.mode is Mode.DIALING and p.phone.calls == ())
        await c.until(lambda p: p.phone.mode is Mode.DIALING and p.phone.calls == ())


TONE_PLAYER = """
import asyncio, sys
from appliance.drivers.alsa import AlsaTones
from appliance.phone.tones import PLANS, Tone

async def main():
    tones = AlsaTones("default")
    tones.play(Tone.CALL_WAITING, PLANS["DE"].pattern(Tone.DIAL))  # a steady 425 Hz into the handset
    await asyncio.sleep(float(sys.argv[1]))
    await tones.stop()

asyncio.run(main())
"""


def above_floor(heard: np.ndarray) -> tuple[float, float]:
    """How far above the noise floor (dB) the 1 kHz call tone and the phone's 425 Hz tone stand."""
    spectrum = np.abs(np.fft.rfft(heard * np.hanning(len(heard)))) ** 2
    freqs = np.fft.rfftfreq(len(heard), 1 / 8000)
    floor = max(float(np.median(spectrum)), 1e-12)  # a silent window has no floor to speak of
    return tuple(float(10 * np.log10(spectrum[np.abs(freqs - hz) < 20].max() / floor)) for hz in (1000, 425))


async def call_through_the_boards_device(
    netns, dht, tmp_path, *, tone_seconds: float
) -> tuple[float, float, str]:
    """The device's topology: Bob's daemon talks to its PulseAudio, which plays into and records from
    ALSA's default device; the phone's tone player plays into that same ALSA device (dmix/dsnoop on a
    real card). Here the 'card' is a second, clocked PulseAudio reached through ALSA's pulse plugin.
    Returns how far above the noise floor the card carries the call audio (1 kHz from Alice) and the
    phone's own tone (425 Hz), and the daemon's log."""
    from appliance.drivers.jami.audio import PrivatePulseAudio

    card = PrivatePulseAudio(tmp_path / "card")
    await card.start()
    try:
        asound = tmp_path / "asound.conf"
        asound.write_text(
            f'pcm.!default {{ type asym playback.pcm "out" capture.pcm "in" }}\n'
            f'pcm.out {{ type pulse server "unix:{card.socket}" device "speaker" }}\n'
            f'pcm.in {{ type pulse server "unix:{card.socket}" device "micsink.monitor" }}\n'
            f'ctl.!default {{ type pulse server "unix:{card.socket}" }}\n'
        )
        alsa_env = {"ALSA_CONFIG_PATH": f"/usr/share/alsa/alsa.conf:{asound}"}
        boards_pulse = PrivatePulseAudio(tmp_path / "b" / "pulse", playback="default", alsa_env=alsa_env)
        async with (
            appliance(netns, dht, tmp_path / "b", "Bob", pulse=boards_pulse) as b,
            appliance(netns, dht, tmp_path / "a", "Alice", audio=True) as a,
        ):
            a.sim.supervisor.post(ContactsChanged((Contact("Bob", b.core.jami_id, speed_dial="2"),)))
            await dial_until_ringing(a, b)
            b.sim.fakes.hook.lift()
            await a.until(
                lambda p: p.phone.mode is Mode.TALKING and p.phone.active_call.connected_at is not None
            )
            await asyncio.sleep(2.0)  # media negotiation (0.5-1 s measured)
            players = [await send_tone(a, 1000, 8)]
            if tone_seconds:
                players.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable, "-c", TONE_PLAYER, str(tone_seconds), env={**os.environ, **alsa_env}
                    )
                )
            try:
                await asyncio.sleep(1.0)
                levels = above_floor(await record_from(card.env, 3))
            finally:
                for proc in players:
                    if proc.returncode is None:
                        proc.terminate()
                    await proc.wait()
        log = (tmp_path / "b" / "log" / "jamid.log").read_text(errors="replace")
        return levels[0], levels[1], log
    finally:
        await card.stop()


async def test_daemon_plays_calls_through_the_boards_alsa_device_with_echo_cancellation(netns, dht, tmp_path):
    call, _, log = await call_through_the_boards_device(netns, dht, tmp_path, tone_seconds=0)
    print(f"call audio on the board's device: {call:.0f} dB above the floor")
    assert call > 30
    assert "created pulseaudio layer" in log and "falling back to ALSA" not in log
    assert "using WebRTCAudioProcessor" in log
    assert "echoCancel: auto" in log and "setHasNativeAEC: 0" in log  # so WebRTC's echo canceller runs


async def test_phone_tone_and_call_audio_mix_on_the_shared_device(netns, dht, tmp_path):
    """A call-waiting tone over a call: the phone's tone and the call share the device at once."""
    call, local, _ = await call_through_the_boards_device(netns, dht, tmp_path, tone_seconds=6)
    print(f"shared device: call audio {call:.0f} dB, the phone's tone {local:.0f} dB above the floor")
    assert local > 30
    assert call > 30


async def test_muting_a_call_silences_the_far_end_towards_the_phone_and_back(netns, dht, tmp_path):
    """Caller ID on call waiting mutes the call both ways: muteLocalMedia stops what A sends, and
    the daemon's mutePlayback what A's speaker plays of B (its PulseAudio layer writes zeros)."""
    async with (
        appliance(netns, dht, tmp_path / "b", "Bob", audio=True) as b,
        appliance(netns, dht, tmp_path / "a", "Alice", audio=True) as a,
    ):
        a.sim.supervisor.post(ContactsChanged((Contact("Bob", b.core.jami_id, speed_dial="2"),)))
        await call_and_answer(a, b)
        await asyncio.sleep(2.0)  # media negotiation
        call = a.sim.supervisor.phone.active
        assert call is not None
        player = await send_tone(b, 600, 8)
        try:
            await asyncio.sleep(1.0)
            before = await record(a, 1.5)
            await a.core.mute(call, True)
            await asyncio.sleep(0.3)  # what PulseAudio had buffered
            muted = await record(a, 1.5)
            await a.core.mute(call, False)
            await asyncio.sleep(0.3)
            after = await record(a, 1.5)
        finally:
            if player.returncode is None:
                player.terminate()
            await player.wait()
        rms = [float(np.sqrt(np.mean(x**2))) if len(x) else 0.0 for x in (before, muted, after)]
        print(f"A's speaker rms before/muted/after: {rms[0]:.4f} {rms[1]:.5f} {rms[2]:.4f}")
        assert share_at(before, 600) > 0.9
        assert rms[1] < 0.01 * rms[0]  # 40 dB down: the far end's voice is not on the line
        assert share_at(after, 600) > 0.9
        a.sim.fakes.hook.replace()
