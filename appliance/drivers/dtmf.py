"""DTMF detection on line audio, for the adapter board (an analog phone behind an FXS interface).

Meets ITU-T Q.24 in the ways that matter to a person dialing: accepts digits of 40 ms with 40 ms
gaps, tolerates twist up to 8 dB and frequency error up to 1.5 %, and rejects speech (talk-off),
dial tone and noise. Per window of 205 samples at 8 kHz (25.6 ms, ~39 Hz resolution), taken every
8 ms, it computes single-frequency DFT powers (what the Goertzel algorithm computes, here
vectorised over all windows at once) at the eight DTMF frequencies (each at its nominal value and
at the edges of the 1.5 % tolerance) and at the column tones' second harmonics, then
asks of the strongest row and column tone:

- present throughout the window (its quarters' energies even): a tone must fill a window, so
  tones shorter than ~23 ms never register (Q.24 non-operate), however loud;
- loud enough (above ``min_level_dbfs``);
- each stronger than the other tones of its group by ``dominance_db``;
- twist (column vs row level) within ``max_twist_db``;
- together carrying ``min_energy_share`` of the window's energy (speech and noise spread theirs);
- the column tone's second harmonic well below it (voiced speech has harmonics, DTMF does not).

A digit is reported once its window passes twice in a row and is not reported again until a
window fails, so a held key is one digit and "55" is two.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

RATE = 8000
ROWS = (697.0, 770.0, 852.0, 941.0)
COLS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYS = ("123A", "456B", "789C", "*0#D")
TOLERANCE = 0.015  # Q.24: operate within +-1.5 % of the nominal frequency

Samples = npt.NDArray[np.float64]


@dataclass(frozen=True)
class DtmfSettings:
    window: int = 205
    hop: int = 64
    min_level_dbfs: float = -40.0  # per tone
    dominance_db: float = 8.0
    max_twist_db: float = 8.0
    min_energy_share: float = 0.6
    max_harmonic_db: float = -15.0  # second harmonic relative to its fundamental
    min_steadiness: float = 0.4  # weakest quarter of a window vs the strongest: the tone fills it
    confirm_windows: int = 2


class DtmfDetector:
    """Streaming detector: feed 8 kHz float samples in [-1, 1], get digits as they are confirmed."""

    def __init__(self, settings: DtmfSettings | None = None) -> None:
        self.settings = settings or DtmfSettings()
        n = np.arange(self.settings.window)
        # Each tone is probed at its nominal frequency and at the edges of Q.24's +-1.5 %;
        # the strongest probe is its level. Then the column tones' second harmonics.
        probes = [f * k for f in ROWS + COLS for k in (1 - TOLERANCE, 1.0, 1 + TOLERANCE)]
        freqs = np.array(probes + [2 * f for f in COLS])
        self._basis = np.exp(-2j * np.pi * np.outer(n, freqs) / RATE)
        self._pending = np.zeros(0)
        self._candidate = ""
        self._run = 0
        self._reported = ""

    def feed(self, samples: Samples) -> str:
        """Process more audio; return the digits confirmed in it (often empty)."""
        s = self.settings
        data = np.concatenate((self._pending, np.asarray(samples, dtype=np.float64)))
        if len(data) < s.window:
            self._pending = data
            return ""
        frames = np.lib.stride_tricks.sliding_window_view(data, s.window)[:: s.hop]
        consumed = len(frames) * s.hop
        self._pending = data[consumed:]
        out = []
        for key in self.classify(frames):
            if key and key == self._candidate:
                self._run += 1
            else:
                self._candidate, self._run = key, 1
            if not key:
                self._reported = ""
            elif self._run >= s.confirm_windows and key != self._reported:
                self._reported = key
                out.append(key)
        return "".join(out)

    def classify(self, frames: Samples) -> list[str]:
        """The key each window looks like on its own, or '' where it is no DTMF tone."""
        s = self.settings
        n = s.window
        probed = 2 * np.abs(frames @ self._basis) / n  # tone amplitude at each probe
        amplitude = probed[:, :24].reshape(len(frames), 8, 3).max(axis=2)
        harmonics = probed[:, 24:]
        energy = np.einsum("ij,ij->i", frames, frames)
        rows, cols = amplitude[:, 0:4], amplitude[:, 4:8]
        r = rows.argmax(axis=1)
        c = cols.argmax(axis=1)
        idx = np.arange(len(frames))
        row_amp, col_amp = rows[idx, r], cols[idx, c]
        floor = 10 ** (s.min_level_dbfs / 20)
        dominance = 10 ** (s.dominance_db / 20)
        twist = 10 ** (s.max_twist_db / 20)
        harmonic = 10 ** (s.max_harmonic_db / 20)
        rows_other = np.sort(rows, axis=1)[:, -2]
        cols_other = np.sort(cols, axis=1)[:, -2]
        share = (row_amp**2 + col_amp**2) * n / 2 / np.maximum(energy, 1e-12)
        quarters = np.add.reduceat(frames**2, np.linspace(0, n, 5, dtype=int)[:4], axis=1)
        steady = quarters.min(axis=1) > s.min_steadiness * quarters.max(axis=1)
        ok = (
            steady
            & (row_amp > floor)
            & (col_amp > floor)
            & (row_amp > dominance * rows_other)
            & (col_amp > dominance * cols_other)
            & (col_amp < twist * row_amp)
            & (row_amp < twist * col_amp)
            & (share > s.min_energy_share)
            # Only the columns' harmonics: a row's (1394-1882 Hz) sits next to a column tone.
            & (harmonics[idx, c] < harmonic * col_amp)
        )
        return [KEYS[ri][ci] if good else "" for ri, ci, good in zip(r, c, ok, strict=True)]


def decode(samples: Samples, settings: DtmfSettings | None = None) -> str:
    """All digits in a recording at 8 kHz."""
    detector = DtmfDetector(settings)
    digits = detector.feed(samples)
    return digits + detector.feed(np.zeros(detector.settings.window))  # flush the tail


class WavError(ValueError):
    """A file that is not a PCM WAV we can read."""


_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


def read_wav(path: Path) -> tuple[Samples, int]:
    """Mono float samples in [-1, 1] and the rate, from a PCM (8-32 bit) or float WAV.

    Reads the RIFF chunks itself: Python 3.11's ``wave`` refuses WAVE_FORMAT_EXTENSIBLE, which
    many recorders (and sox, for 24 and 32 bits) write.
    """
    return parse_wav(path.read_bytes(), str(path))


def parse_wav(data: bytes, path: str = "WAV") -> tuple[Samples, int]:
    """:func:`read_wav` of bytes in memory (``path`` names them in errors)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavError(f"{path}: not a PCM WAV file (no RIFF/WAVE header)")
    fmt: tuple[int, int, int, int] | None = None
    pos, audio = 12, None
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8 : pos + 8 + size]
        if chunk == b"fmt " and len(body) >= 16:
            tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
            if tag == _EXTENSIBLE and len(body) >= 26:
                tag = struct.unpack_from("<H", body, 24)[0]  # first two bytes of the sub-format GUID
            fmt = (tag, channels, rate, bits)
        elif chunk == b"data":
            audio = body
        pos += 8 + size + (size & 1)
    if fmt is None or audio is None:
        raise WavError(f"{path}: not a PCM WAV file (no fmt or data chunk)")
    tag, channels, rate, bits = fmt
    width = bits // 8
    audio = audio[: len(audio) - len(audio) % (width * channels)]
    if tag == _FLOAT and bits in (32, 64):
        samples = np.frombuffer(audio, "<f4" if bits == 32 else "<f8").astype(np.float64)
    elif tag != _PCM:
        raise WavError(f"{path}: format {tag} is not PCM")
    elif width == 1:
        samples = (np.frombuffer(audio, np.uint8).astype(np.float64) - 128) / 128
    elif width == 2:
        samples = np.frombuffer(audio, "<i2").astype(np.float64) / 32768
    elif width == 3:
        b = np.frombuffer(audio, np.uint8).reshape(-1, 3).astype(np.int32)
        value = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        samples = np.where(value >= 1 << 23, value - (1 << 24), value).astype(np.float64) / (1 << 23)
    elif width == 4:
        samples = np.frombuffer(audio, "<i4").astype(np.float64) / (1 << 31)
    else:
        raise WavError(f"{path}: {bits}-bit samples are not supported")
    if channels < 1 or rate < 1:
        raise WavError(f"{path}: {channels} channels at {rate} Hz")
    return samples.reshape(-1, channels).mean(axis=1), rate


def resample(samples: Samples, rate: int, to: int = RATE) -> Samples:
    """Band-limit to below the new Nyquist frequency, then interpolate (enough for DTMF's band)."""
    if rate == to:
        return samples
    if rate > to:
        cutoff = 0.45 * to / rate  # cycles per input sample
        taps = np.arange(-64, 65)
        kernel = 2 * cutoff * np.sinc(2 * cutoff * taps) * np.hamming(len(taps))
        samples = np.convolve(samples, kernel / kernel.sum(), mode="same")
    t_out = np.arange(int(len(samples) * to / rate)) / to
    return np.interp(t_out, np.arange(len(samples)) / rate, samples)


def decode_file(path: Path) -> str:
    samples, rate = read_wav(path)
    return decode(resample(samples, rate))
