"""The line's non-FSK signals: DTMF caller ID digits and the 2130 + 2750 Hz alerting tone."""

from __future__ import annotations

import numpy as np

from .fsk import RATE, Samples

DTMF_ROWS = (697.0, 770.0, 852.0, 941.0)
DTMF_COLS = (1209.0, 1336.0, 1477.0, 1633.0)
DTMF_KEYS = ("123A", "456B", "789C", "*0#D")

# ETSI EN 300 659-1 dual-tone alerting signal (DT-AS, BT's "tone alert signal") and GR-30's
# CPE alerting signal (CAS) for caller ID on call waiting: the same pair of tones.
ALERT_HZ = (2130.0, 2750.0)
DT_AS_MS = 100  # EN 300 659-1: 100 +- 10 ms (BT SIN 227: 88-110 ms)
CAS_MS = 80  # GR-30-CORE: 75-85 ms


def _tone(freqs: tuple[float, float], ms: float, level: float, rate: int) -> Samples:
    n = round(ms * rate / 1000)
    t = np.arange(n) / rate
    out = np.zeros(n)
    for f in freqs:
        out += level * np.sin(2 * np.pi * f * t)
    ramp = min(int(0.002 * rate), n // 2)  # no clicks: a click is broadband energy a detector may take
    if ramp:
        edge = np.linspace(0.0, 1.0, ramp, endpoint=False)
        out[:ramp] *= edge
        out[-ramp:] *= edge[::-1]
    return out


def silence(ms: float, rate: int = RATE) -> Samples:
    return np.zeros(round(ms * rate / 1000))


def alert_tone(ms: float = DT_AS_MS, *, level: float = 0.2, rate: int = RATE) -> Samples:
    return _tone(ALERT_HZ, ms, level, rate)


def dtmf(
    keys: str, *, on_ms: float = 70, off_ms: float = 70, level: float = 0.2, rate: int = RATE
) -> Samples:
    """Each key as its row and column tone for ``on_ms``, then ``off_ms`` of silence.

    Danish and Dutch CLIP receivers must take digits and gaps of 50 ms or more; 70 ms gives margin.
    """
    parts = []
    for key in keys:
        row = next((r for r, keys_of_row in enumerate(DTMF_KEYS) if key in keys_of_row), None)
        if row is None:
            raise ValueError(f"{key!r} is not a DTMF key (0-9 * # A-D)")
        col = DTMF_KEYS[row].index(key)
        parts += [_tone((DTMF_ROWS[row], DTMF_COLS[col]), on_ms, level, rate), silence(off_ms, rate)]
    return np.concatenate(parts) if parts else np.zeros(0)
