"""Audio through real calls: a tone sent into one phone's microphone is heard in the other's speaker."""

import asyncio
import os
import shutil

import numpy as np
import pytest

from appliance.phone.events import ContactsChanged
from appliance.phone.model import Contact, Mode

from .conftest import appliance, requirements

pytestmark = [
    *requirements,
    pytest.mark.skipif(not shutil.which("pacat"), reason="needs pulseaudio-utils"),
]


async def send_tone(phone, hz: float, seconds: float) -> asyncio.subprocess.Process:
    """Play a sine into the phone's microphone (the micsink null sink), in real time."""
    rate = 48000
    t = np.arange(int(rate * seconds)) / rate
    pcm = (0.3 * 32767 * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes()
    env = {**os.environ, **phone.core.pulse.env}
    player = await asyncio.create_subprocess_exec(
        "pacat", "--playback", "--device=micsink", f"--rate={rate}", "--channels=1", "--format=s16le",
        "--latency-msec=20", stdin=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    player.stdin.write(pcm)
    player.stdin.close()
    return player


async def record(phone, seconds: float) -> np.ndarray:
    """What the phone's speaker plays, at 8 kHz."""
    env = {**os.environ, **phone.core.pulse.env}
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
        a.sim.fakes.hook.lift()
        a.sim.fakes.keypad.press("2#")
        await b.until(lambda p: p.sim.fakes.ringer.ringing)
        b.sim.fakes.hook.lift()
        await a.until(lambda p: p.phone.mode is Mode.TALKING and p.phone.active_call.connected_at is not None)
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
        a.sim.fakes.hook.lift()
        a.sim.fakes.keypad.press("2#")
        await b.until(lambda p: p.sim.fakes.ringer.ringing)
        b.sim.fakes.hook.lift()
        await a.until(lambda p: p.phone.mode is Mode.TALKING and p.phone.active_call.connected_at is not None)
        await a.sim.fakes.hook.flash(0.5)  # hold Bob, second dial tone
        await a.until(
            lambda p: p.sim.fakes.tones.current is not None and p.sim.fakes.tones.current.value == "dial"
        )
        a.sim.fakes.keypad.press("3#")
        await c.until(lambda p: p.sim.fakes.ringer.ringing)
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
