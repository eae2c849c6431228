"""jamid's Opus loss recovery (appliance/drivers/jami/opus_fec.c), on the daemon's own libraries.

Debian's libopus decoder in FFmpeg 5.1 drops what was lost: the stream comes out shorter. With the
library preloaded, every lost 20 ms is back, and a packet lost alone is the speech that was lost
(from the next packet's FEC: 22.7 dB signal-to-error measured; concealment alone gave 3.3 dB);
an outage longer than 100 ms is left to the playback, as before. 2.4 s of speech-like audio
through the decoder, a fraction of a second per run; no daemon.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.drivers.jami import opus_fec

DECODE = Path(__file__).with_name("opus_decode.py")
LIBS = ("libavcodec.so.59", "libopus.so.0")

pytestmark = pytest.mark.skipif(
    not shutil.which("cc") or not Path("/usr/libexec/jamid").exists(),
    reason="needs Debian's jami-daemon (its libavcodec and libopus) and a C compiler",
)


def decoded(*env: str) -> dict:
    done = subprocess.run(
        ["env", *env, sys.executable, str(DECODE)], capture_output=True, text=True, check=True, timeout=30
    )
    return json.loads(done.stdout)


def test_lost_packets_come_back_from_fec(tmp_path):
    library = opus_fec.library(tmp_path)
    assert library is not None and library.parent == tmp_path
    assert opus_fec.library(tmp_path) == library  # kept for the next start, not built again

    bare = decoded()
    assert bare["missing"] == bare["lost"] + bare["outage"], bare  # Debian's decoder: cut out

    fixed = decoded(f"LD_PRELOAD={library}")
    print(fixed)
    assert fixed["missing"] == fixed["outage"], fixed  # every loss filled, an outage left as it was
    assert fixed["snr_single_db"] > 15, fixed  # the lost speech itself (FEC), not a guess at it


def test_the_media_clock_says_when_the_far_ends_audio_last_came(tmp_path):
    """What the adapter watches for a far end that vanished (farend.py): the decoder's slot, made
    when it was, stamped at its last packet, in the clock the supervisor reads."""
    import time

    from appliance.drivers.jami.farend import read_clock

    library = opus_fec.library(tmp_path)
    clock = tmp_path / "media-clock"
    before = time.monotonic()
    decoded(f"LD_PRELOAD={library}", f"APPLIANCE_MEDIA_CLOCK={clock}")
    streams = read_clock(clock)  # a decoder per pass over the packets, none freed before the end
    assert len(streams) >= 2 and len({s.slot for s in streams}) == len(streams), streams
    for stream in streams:
        assert before < stream.started < stream.heard < time.monotonic(), stream
    assert read_clock(tmp_path / "none") == []  # no clock (no call yet, or no library): no streams
