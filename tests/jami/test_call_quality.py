"""Speech through a real call, scored with ITU-T P.862 PESQ: fails on broken audio only.

Broken means one-way or silent audio, or speech mangled far below what this path gives (PESQ-WB
4.4-4.5 both ways with noise suppression off, 2.4-2.8 with it on; bench/call_quality.py). The
bar, 3.0, sits between the two: a daemon suppressing noise against its setting fails, a busy
machine does not (its worst measured, one direction at 1.68 under load 3.4, gets a second clip
before the verdict). One direction talks at a time: with both at once (double talk) the daemon's
echo canceller takes the near end down too (measured: PESQ-WB 2.2-4.2), which is a finding of the
bench, not broken audio.
"""

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from appliance.phone.events import ContactsChanged
from appliance.phone.model import Contact, Mode

from .conftest import appliance, call_and_answer, requirements
from .speech import HUMAN, RATE, human_speech_available, measure, speech

pytestmark = [
    pytest.mark.serial,  # PESQ and delay: a busy machine beside it lowers both
    *requirements,
    pytest.mark.skipif(
        not all(shutil.which(t) for t in ("pacat", "espeak-ng", "sox")),
        reason="needs pulseaudio-utils, espeak-ng and sox",
    ),
]

PESQ_WB_FLOOR = 3.0


async def test_speech_crosses_the_call_both_ways_clearly(netns, dht, tmp_path):
    pytest.importorskip("pesq")
    clips = {  # 5.5 s of each is enough for PESQ and keeps the test near 30 s
        "A -> B": speech(tmp_path / "speech", "en-us")[: int(5.5 * RATE)],
        "B -> A": speech(tmp_path / "speech", HUMAN if human_speech_available() else "en-gb+f3")[
            : int(5.5 * RATE)
        ],
    }
    table = {"audio": {"noise_reduction": "off"}}
    async with (
        appliance(netns, dht, tmp_path / "b", "Bob", table, audio=True) as b,
        appliance(netns, dht, tmp_path / "a", "Alice", table, audio=True) as a,
    ):
        for phone in (a, b):  # the settings reached the daemon
            assert await phone.core._call("getNoiseSuppressState") == "off"
            maps = await asyncio.to_thread(Path(f"/proc/{phone.core.daemon.jamid.pid}/maps").read_text)
            assert "opus-fec" in maps, "jamid runs without its Opus loss recovery (opus_fec.c)"
        a.sim.supervisor.post(ContactsChanged((Contact("Bob", b.core.jami_id, speed_dial="2"),)))
        await call_and_answer(a, b)
        await asyncio.sleep(2.0)  # media negotiation (0.5-1 s measured)
        ends = {"A -> B": (a, b), "B -> A": (b, a)}
        best = {}
        for way, (talker, listener) in ends.items():  # one at a time: see the module's docstring
            for attempt in range(2):
                h = await measure(
                    talker.core.pulse.env, listener.core.pulse.env, clips[way], tmp_path / "rec"
                )
                print(f"{way}, clip {attempt + 1}: {h}, load {os.getloadavg()[0]:.2f}")
                assert not h.silent, f"{way}: no speech heard (one-way audio): {h}"
                if way not in best or h.pesq_wb > best[way].pesq_wb:
                    best[way] = h
                if h.pesq_wb >= PESQ_WB_FLOOR:
                    break
        load = os.getloadavg()[0]
        for way, h in best.items():
            assert h.pesq_wb >= PESQ_WB_FLOOR, f"{way}: speech mangled: {h} (load {load:.2f})"
        a.sim.fakes.hook.replace()
        await b.until(lambda p: p.phone.mode is Mode.DIALING and p.phone.calls == ())
