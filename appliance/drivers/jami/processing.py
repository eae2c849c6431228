"""The daemon's voice processing: its noise suppression set at every bring-up, its echo canceller kept.

What this daemon can do (read in jami-daemon's source at the Debian 12 snapshot, 13.7.0, and
unchanged upstream since): the audio preference ``noiseReduce`` is ``auto`` by default, and
``auto`` (with no suppressor in the sound server, which PulseAudio never reports) or
``audioProcessor`` turns on WebRTC's noise suppressor at its one level, ``kVeryHigh``, together
with WebRTC's high-pass filter (``media/audio/audio-processing/webrtc.cpp``); any other value turns
both off. There are no lower levels to choose. ``ConfigurationManager.setNoiseSuppressState``
sets the preference in memory (the daemon writes it to dring.yml with its next save); it is read
when a call's audio processor is made, as capture starts. So it is set again at every bring-up
(a restarted daemon too) and holds from the next call on. The echo canceller is a preference of
its own (``echoCancel: auto``, on with PulseAudio), which this module leaves as it is.

Measured (``bench/call_quality.py``): on synthetic speech the suppressor took PESQ-WB from ~4.4 to
~2.5 through a call; it pushes quiet speech down and cuts the lows.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

# The setting (audio.noise_reduction) -> the daemon's noiseReduce preference.
NOISE_REDUCTION = {
    "off": "off",  # any value but auto/audioProcessor: no suppressor, no high-pass filter
    "high": "audioProcessor",  # WebRTC's suppressor at kVeryHigh plus its high-pass filter, always
}

Call = Callable[..., Awaitable[Any]]


async def apply_noise_reduction(call: Call, setting: str | None) -> None:
    """Set the daemon's noise suppression to ``setting`` (a key of NOISE_REDUCTION) through
    ``call`` (the adapter's bounded D-Bus call); None leaves the daemon's own preference."""
    if setting is None:
        return
    state = NOISE_REDUCTION[setting]
    await call("setNoiseSuppressState", state)
    now = await call("getNoiseSuppressState")
    if now != state:
        log.error("jamid kept noise suppression %r instead of %r", now, state)
    else:
        log.info("jamid noise suppression: %s (%s)", setting, state)
