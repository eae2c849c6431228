"""Phase-continuous binary FSK at 1200 baud: Bell 202 (Telcordia GR-30-CORE) and ITU-T V.23
(ETSI EN 300 659-1), framed as on-hook data transmission sends it.

A caller ID burst is a channel seizure (alternating bits), a mark run that lets the receiver
settle, then the message's bytes, each as start bit (0), eight data bits least significant first
and a stop bit (1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

RATE = 8000
Samples = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Modem:
    name: str
    mark_hz: float  # binary 1
    space_hz: float  # binary 0
    baud: float = 1200.0


BELL_202 = Modem("Bell 202", 1200.0, 2200.0)
V23 = Modem("V.23", 1300.0, 2100.0)

SEIZURE_BITS = 300  # GR-30-CORE and EN 300 659-1: 300 alternating bits, starting with 0
MARK_BITS = 180  # both: 180 +- 25 mark bits before the first byte
TAIL_BITS = 4  # a few marks after the checksum, so its stop bit is not cut by the ramp down


def frame(data: bytes) -> list[int]:
    """Each byte as 8N1 bits: start 0, data bits least significant first, stop 1."""
    bits: list[int] = []
    for byte in data:
        bits.append(0)
        bits.extend((byte >> i) & 1 for i in range(8))
        bits.append(1)
    return bits


def burst_bits(message: bytes, *, seizure: int = SEIZURE_BITS, marks: int = MARK_BITS) -> list[int]:
    """The whole burst: seizure, marks, the framed message and a short mark tail."""
    return [i % 2 for i in range(seizure)] + [1] * marks + frame(message) + [1] * TAIL_BITS


def modulate(bits: list[int], modem: Modem, *, level: float = 0.25, rate: int = RATE) -> Samples:
    """The bits as one continuous-phase sine, ``level`` of full scale, with 2 ms ramps at each end.

    The frequency changes at the exact bit boundary (t * baud), and the phase is accumulated sample
    by sample, so a bit boundary never jumps the phase (which decoders would read as a glitch).
    """
    if not bits:
        return np.zeros(0)
    count = int(np.ceil(len(bits) * rate / modem.baud))
    index = np.minimum((np.arange(count) * modem.baud / rate).astype(np.int64), len(bits) - 1)
    freqs = np.where(np.asarray(bits, dtype=np.int64)[index] == 1, modem.mark_hz, modem.space_hz)
    phase = 2 * np.pi * np.cumsum(freqs) / rate
    out = level * np.sin(phase)
    ramp = min(int(0.002 * rate), count // 2)
    if ramp:
        edge = np.linspace(0.0, 1.0, ramp, endpoint=False)
        out[:ramp] *= edge
        out[-ramp:] *= edge[::-1]
    return out


def fsk_burst(
    message: bytes,
    modem: Modem,
    *,
    seizure: int = SEIZURE_BITS,
    marks: int = MARK_BITS,
    level: float = 0.25,
    rate: int = RATE,
) -> Samples:
    return modulate(burst_bits(message, seizure=seizure, marks=marks), modem, level=level, rate=rate)
