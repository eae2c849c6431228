"""Speech through a phone's audio path, scored like the literature does (ITU-T P.862 PESQ).

Shared by ``tests/jami/test_call_quality.py`` and ``bench/call_quality.py``: espeak-ng speech
(Harvard sentences, two voices, 10-12 s) or a recorded human voice (alsa-utils' words, 11 s) played into a PulseAudio's ``micsink`` (a phone's
microphone) in real time while another PulseAudio's ``speaker.monitor`` (the far phone's
speaker) is recorded at 16 kHz; the recording is aligned on the speech by cross-correlation,
which also gives the delay, and scored with PESQ wideband and narrowband.

The delay is counted from the moment the player is started to the moment the speech is in the
recording, so it includes pacat's and parec's own buffers (20 ms each asked): the baseline (the
same speech through one PulseAudio, no call) has those too, and the call's share is the
difference.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 16000  # PESQ's wideband rate; the narrowband score is taken from the same 16 kHz signals

VOICES = {
    "en-us": "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
    "It is easy to tell the depth of a well. These days a chicken leg is a rare dish.",
    "en-gb+f3": "Rice is often served in round bowls. The juice of lemons makes fine punch. "
    "The box was thrown beside the parked truck. The hogs were fed chopped corn and garbage.",
}


# A recorded human voice a Debian package ships: alsa-utils' channel names ("Front left", ...),
# 8 words of one speaker, 11.4 s end to end.
HUMAN = "human"
_ALSA_SOUNDS = Path("/usr/share/sounds/alsa")
_ALSA_WORDS = ("Front_Left", "Front_Center", "Front_Right", "Side_Left", "Side_Right", "Rear_Left",
               "Rear_Center", "Rear_Right")  # fmt: skip


def human_speech_available() -> bool:
    return all((_ALSA_SOUNDS / f"{word}.wav").exists() for word in _ALSA_WORDS)


def speech(where: Path, voice: str) -> np.ndarray:
    """The voice's sentences (espeak-ng; or HUMAN, the recorded words) at 16 kHz, active speech at
    -26 dBov (P.56-like, a plain RMS over the frames that are not silence), as float in [-1, 1)."""
    raw = where / f"speech-{voice}.raw"
    where.mkdir(parents=True, exist_ok=True)
    if voice == HUMAN:
        inputs = [str(_ALSA_SOUNDS / f"{word}.wav") for word in _ALSA_WORDS]
    else:
        wav = where / f"speech-{voice}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(wav), VOICES[voice]], check=True)
        inputs = [str(wav)]
    subprocess.run(
        ["sox", *inputs, "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed", "-t", "raw", str(raw)],
        check=True,
    )
    samples = np.frombuffer(raw.read_bytes(), "<i2").astype(np.float64) / 32768
    frames = samples[: len(samples) // 160 * 160].reshape(-1, 160)
    energy = (frames**2).mean(axis=1)
    active = energy[energy > energy.max() * 1e-4]
    gain = 10 ** (-26 / 20) / np.sqrt(active.mean())
    return np.clip(samples * gain, -1, 32767 / 32768)


@dataclass(frozen=True)
class Heard:
    """What came out of the far end, and how it compares with what went in."""

    pesq_wb: float  # -1: PESQ found no speech
    pesq_nb: float
    delay_s: float  # player started -> speech in the recording
    level_db: float  # the speech heard, relative to the speech sent (aligned), dB
    recording: np.ndarray

    @property
    def silent(self) -> bool:
        return self.level_db < -30

    def __str__(self) -> str:
        return (
            f"PESQ-WB {self.pesq_wb:.2f}  NB {self.pesq_nb:.2f}  delay {self.delay_s * 1000:.0f} ms  "
            f"level {self.level_db:+.1f} dB"
        )


def _pcm_file(where: Path, clip: np.ndarray) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    source = where / f"clip-{os.getpid()}-{id(clip)}.raw"
    source.write_bytes((clip * 32767).astype("<i2").tobytes())
    return source


async def through(
    player_env: dict[str, str],
    recorder_env: dict[str, str],
    clip: np.ndarray,
    where: Path,
    *,
    play_device: str = "micsink",
    record_device: str = "speaker.monitor",
    tail_s: float = 1.0,
) -> tuple[np.ndarray, int]:
    """Record ``record_device`` of one PulseAudio while ``clip`` is played into ``play_device``
    of another (or the same). Returns the recording and the sample of it at which the player
    was started."""
    source = _pcm_file(where, clip)
    recorder = await asyncio.create_subprocess_exec(
        "parec", f"--device={record_device}", f"--rate={RATE}", "--channels=1", "--format=s16le",
        "--latency-msec=20", stdout=asyncio.subprocess.PIPE, env={**os.environ, **recorder_env},
    )  # fmt: skip
    assert recorder.stdout is not None
    data = bytearray()
    player = None
    started_at = 0
    wanted = 2 * (len(clip) + int(tail_s * RATE))
    try:
        async with asyncio.timeout(len(clip) / RATE + tail_s + 10):
            while True:
                chunk = await recorder.stdout.read(4096)
                if not chunk:
                    raise AssertionError(f"parec on {record_device} stopped")
                data += chunk
                if player is None and len(data) >= 2 * RATE * 0.3:
                    with source.open("rb") as pcm:
                        player = await asyncio.create_subprocess_exec(
                            "pacat", "--playback", f"--device={play_device}", f"--rate={RATE}",
                            "--channels=1", "--format=s16le", "--latency-msec=20",
                            stdin=pcm, env={**os.environ, **player_env},
                        )  # fmt: skip
                    started_at = len(data) // 2
                if player is not None and len(data) // 2 - started_at >= wanted // 2:
                    break
    finally:
        for proc in (player, recorder):
            if proc is not None and proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
                await proc.wait()
        source.unlink(missing_ok=True)
    return np.frombuffer(bytes(data[: len(data) // 2 * 2]), "<i2").astype(np.float64) / 32768, started_at


def score(clip: np.ndarray, recording: np.ndarray, started_at: int) -> Heard:
    """Align ``recording`` on ``clip`` by cross-correlation and score it (PESQ WB and NB)."""
    from pesq import PesqError, pesq

    n = len(recording) + len(clip)
    size = 1 << (n - 1).bit_length()
    xcorr = np.fft.irfft(np.fft.rfft(recording, size) * np.conj(np.fft.rfft(clip, size)), size)
    lag = int(np.argmax(xcorr[: len(recording)]))
    heard = recording[lag : lag + len(clip)]
    heard = np.pad(heard, (0, len(clip) - len(heard)))
    level = 10 * np.log10(max(float(np.mean(heard**2)), 1e-12) / float(np.mean(clip**2)))
    scores = [float(pesq(RATE, clip, heard, mode, on_error=PesqError.RETURN_VALUES)) for mode in ("wb", "nb")]
    return Heard(scores[0], scores[1], (lag - started_at) / RATE, level, heard)


async def measure(
    player_env: dict[str, str],
    recorder_env: dict[str, str],
    clip: np.ndarray,
    where: Path,
    **devices: str,
) -> Heard:
    recording, started_at = await through(player_env, recorder_env, clip, where, **devices)
    return await asyncio.to_thread(score, clip, recording, started_at)
