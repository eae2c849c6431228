"""SIP interop with audio: the appliance's SIP account and baresip, a real SIP phone, both ways.

baresip plays and records through ALSA's PulseAudio plugin into a private PulseAudio of its own
(null sinks, so its audio is clocked like a sound card's); the appliance's daemon has its own.
A 1 kHz tone sent into one side's microphone must be what the other side's speaker plays.
"""

import asyncio
import contextlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from appliance.drivers.jami.audio import PrivatePulseAudio
from appliance.phone.events import ContactsChanged
from appliance.phone.model import Contact, Mode

from .conftest import appliance, requirements
from .test_audio import record, record_from, send_tone, send_tone_to, share_at
from .test_sip import LAN, sip_ready

pytestmark = [
    *requirements,
    pytest.mark.skipif(not shutil.which("baresip"), reason="needs baresip-core"),
    pytest.mark.skipif(not shutil.which("pacat"), reason="needs pulseaudio-utils"),
]

BARESIP_URI = "sip:bare@10.99.0.1:5062"

CONFIG = """poll_method epoll
sip_listen 10.99.0.1:5062
audio_player alsa,pulse
audio_source alsa,pulse
audio_alert alsa,pulse
audio_srate 8000-48000
module_path /usr/lib/baresip/modules
module g711.so
module opus.so
module alsa.so
module_app account.so
module_app menu.so
"""


class Baresip:
    def __init__(self, proc: asyncio.subprocess.Process, pulse: PrivatePulseAudio, log: Path) -> None:
        self.proc = proc
        self.pulse = pulse
        self.log = log

    def said(self, text: str) -> bool:
        return text in self.log.read_text(errors="replace")

    async def until_said(self, text: str, timeout: float = 20) -> None:
        async with asyncio.timeout(timeout):
            while not self.said(text):
                await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def baresip(netns: str, root: Path, *commands: str):
    """baresip in the namespace with an auto-answering account at BARESIP_URI; stopped by PID."""
    conf = root / "baresip"
    conf.mkdir(parents=True)
    (conf / "config").write_text(CONFIG)
    (conf / "accounts").write_text("<sip:bare@10.99.0.1:5062>;regint=0;answermode=auto\n")
    (conf / "contacts").write_text("")
    pulse = PrivatePulseAudio(root / "baresip-pulse")
    await pulse.start()
    args = [arg for command in commands for arg in ("-e", command)]
    log = root / "baresip.log"
    try:
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                "ip", "netns", "exec", netns, "env", *(f"{k}={v}" for k, v in pulse.env.items()),
                "baresip", "-4", "-f", str(conf), *args,
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
            )  # fmt: skip
        try:
            yield Baresip(proc, pulse, log)
        finally:
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 5)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
    finally:
        await pulse.stop()


async def tones_both_ways(desk, bare: Baresip) -> tuple[float, float]:
    """1 kHz into the desk phone's microphone, 600 Hz into baresip's: what each side hears."""
    await asyncio.sleep(1.5)  # media negotiation
    players = [await send_tone(desk, 1000, 6), await send_tone_to(bare.pulse.env, bare.pulse.root, 600, 6)]
    try:
        await asyncio.sleep(1.0)
        heard_by_bare, heard_by_desk = await asyncio.gather(record_from(bare.pulse.env, 3), record(desk, 3))
    finally:
        for player in players:
            if player.returncode is None:
                player.terminate()
            await player.wait()
    assert len(heard_by_bare) > 8000 and len(heard_by_desk) > 8000
    assert np.sqrt(np.mean(heard_by_bare**2)) > 0.01  # not silence
    return share_at(heard_by_bare, 1000), share_at(heard_by_desk, 600)


async def test_baresip_calls_the_appliance_with_audio(netns, dht, tmp_path):
    async with appliance(netns, dht, tmp_path / "a", "Desk", LAN, audio=True) as desk:
        await desk.until(sip_ready, 15)
        async with baresip(netns, tmp_path, "/dial sip:desk@10.99.0.2:5060") as bare:
            await desk.until(lambda p: p.sim.fakes.ringer.ringing, 20)
            assert desk.phone.waiting.peer_uri.startswith("bare@10.99.0.1")
            desk.sim.fakes.hook.lift()
            await desk.until(lambda p: p.phone.mode is Mode.TALKING and p.phone.active_call.connected_at)
            bare_hears, desk_hears = await tones_both_ways(desk, bare)
            print(f"baresip hears 1 kHz: {bare_hears:.3f}; the desk phone hears 600 Hz: {desk_hears:.3f}")
            assert bare_hears > 0.9 and desk_hears > 0.9
            desk.sim.fakes.hook.replace()
            await bare.until_said("terminated")  # baresip saw the BYE


async def test_the_appliance_calls_baresip_with_audio(netns, dht, tmp_path):
    async with appliance(netns, dht, tmp_path / "a", "Desk", LAN, audio=True) as desk:
        await desk.until(sip_ready, 15)
        async with baresip(netns, tmp_path) as bare:
            desk.sim.supervisor.post(
                ContactsChanged((Contact("Bare", BARESIP_URI, speed_dial="5", account="lan"),))
            )
            await asyncio.sleep(0.5)  # baresip listening
            desk.sim.fakes.hook.lift()
            desk.sim.fakes.keypad.press("5#")
            await desk.until(lambda p: p.phone.mode is Mode.TALKING and p.phone.active_call.connected_at, 20)
            bare_hears, desk_hears = await tones_both_ways(desk, bare)
            print(f"baresip hears 1 kHz: {bare_hears:.3f}; the desk phone hears 600 Hz: {desk_hears:.3f}")
            assert bare_hears > 0.9 and desk_hears > 0.9
            desk.sim.fakes.hook.replace()
            await desk.until(lambda p: p.phone.mode is Mode.IDLE)
            await bare.until_said("terminated")
