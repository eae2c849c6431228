"""Audio files of the answering machine: read for the handset (FLAC, WAV, Ogg/Opus via libsndfile,
which the ``soundfile`` wheel brings), and FLAC made from PCM for the messages kept."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from .dtmf import resample

RATE = 8000


def read_pcm(path: Path, rate: int = RATE) -> bytes:
    """The file's audio as mono 16-bit PCM at ``rate`` (blocking: file I/O and decoding)."""
    import soundfile  # noqa: PLC0415 - libsndfile only once a message is played

    samples, found = soundfile.read(str(path), dtype="float64", always_2d=True)
    mono = samples.mean(axis=1)
    # x 32768, rounded: a 16-bit file at the rate comes back sample for sample.
    scaled = np.clip(np.round(resample(mono, found, rate) * 32768), -32768, 32767)
    return bytes(scaled.astype("<i2").tobytes())


def flac(pcm: bytes, rate: int = RATE) -> bytes:
    """Mono 16-bit PCM as a FLAC file's bytes (about half the size of the WAV, lossless)."""
    import soundfile  # noqa: PLC0415

    buffer = io.BytesIO()
    soundfile.write(buffer, np.frombuffer(pcm, "<i2"), rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()
