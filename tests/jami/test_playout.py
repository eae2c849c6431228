"""jamid's playout queue drained by opus_fec.c, on the daemon's own libraries and a real PulseAudio.

The daemon keeps whatever a stall left in its ring buffer for the rest of the call (the delay
only grows). With the library preloaded, a standing queue of 200 ms drains to the target within
seconds, by cutting frames in the speech's pauses only, one a window; a lost packet still comes
back from FEC and no frame is cut right after one. Without the drain the queue stands. A voice-
like signal with pauses (tests/jami/playout_drain.py), a fraction of a second per run; no daemon.
"""

import asyncio
import json
import shutil
import statistics
import sys
from pathlib import Path

import pytest

from appliance.drivers.jami import opus_fec
from appliance.drivers.jami.audio import PrivatePulseAudio

SCRIPT = Path(__file__).with_name("playout_drain.py")
TARGET_MAX_MS = 60  # opus_fec.c's TARGET_MAX_US: what the drain leaves at most, with a frame more

pytestmark = pytest.mark.skipif(
    not shutil.which("cc") or not Path("/usr/libexec/jamid").exists() or not shutil.which("pulseaudio"),
    reason="needs Debian's jami-daemon (its libavcodec and libopus), PulseAudio and a C compiler",
)


async def played(pulse: PrivatePulseAudio, log: Path, *env: str) -> dict:
    proc = await asyncio.create_subprocess_exec(
        "env", *env, f"APPLIANCE_PLAYOUT_LOG={log}", f"PULSE_SERVER={pulse.env['PULSE_SERVER']}",
        sys.executable, str(SCRIPT), "18", stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with asyncio.timeout(60):
            out, _ = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, out
    return json.loads(out)


def last_word(log: Path) -> dict[str, float]:
    """The decoder's last log line (written when it is freed): its counters by name."""
    f = [line for line in log.read_text().splitlines() if " slot " in line][-1].split()
    return {"dropped": float(f[21]), "silent": float(f[19]), "model_wrong": int(f[24])}


async def test_a_standing_queue_drains_in_pauses_and_fec_still_recovers(tmp_path):
    library = opus_fec.library(tmp_path)
    assert library is not None
    pulse = PrivatePulseAudio(tmp_path / "pulse")
    await pulse.start()
    try:
        kept = await played(pulse, tmp_path / "off.log", f"LD_PRELOAD={library}", "APPLIANCE_PLAYOUT_DRAIN=0")
        drained = await played(pulse, tmp_path / "on.log", f"LD_PRELOAD={library}")
    finally:
        await pulse.stop()
    print(json.dumps(kept)[:300], json.dumps(drained)[:600], sep="\n")

    assert kept["cut"] == [] and kept["queue_end_ms"] >= 180, kept  # jamid's own: the queue stands
    assert drained["queue_start_ms"] >= 180, drained
    # drained to the target: its lowest (after a loss, 20 ms below the rest) a frame above it at most
    assert drained["queue_min_end_ms"] <= TARGET_MAX_MS + 20, drained
    assert all(db < -25 for db in drained["cut_power_db"]), drained  # in pauses only
    after_loss = [i for i in drained["cut"] for j in drained["lost"] if 0 < i - j <= 10]
    assert after_loss == [], drained  # not while the queue settles after a recovered loss
    for run in (kept, drained):
        assert run["recovered"] and all(run["recovered"]), run  # every loss filled, drain or not
    # the lost speech itself, from FEC (one loss at an onset is not: FEC carries little of it), and
    # exactly as without the drain: a cut frame is decoded whole, the decoder's state is the same
    assert statistics.median(drained["snr_lost_db"]) > 15, drained
    assert drained["snr_lost_db"] == kept["snr_lost_db"], (kept, drained)
    word = last_word(tmp_path / "on.log")
    assert word["model_wrong"] == 0, word  # the library's queue is the FIFO's
    assert word["dropped"] == len(drained["cut"]) * 17.5, word  # 20 ms a cut, 2.5 kept
    assert last_word(tmp_path / "off.log")["dropped"] == 0
