"""A DTMF test corpus made with sox (tones, twist, timing, noise, G.711) and espeak-ng (talk-off).

Each entry is a WAV file and the digits it must decode to ("" for speech and dial tone).
"""

from __future__ import annotations

import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROWS = (697, 770, 852, 941)
COLS = (1209, 1336, 1477, 1633)
KEYS = ("123A", "456B", "789C", "*0#D")
ALL = "123A456B789C*0#D"
FREQS = {KEYS[r][c]: (ROWS[r], COLS[c]) for r in range(4) for c in range(4)}

SPEECH = [
    "The quick brown fox jumps over the lazy dog, and then it calls home to say hello.",
    "Hello, this is Alice. Please call me back at five five five, one two three four.",
    "One, two, three, four, five, six, seven, eight, nine, zero. Star. Pound.",
    "I wonder whether the weather will be nice tomorrow; shall we meet at noon by the river?",
    "Mmmm. Ooooh. Aaaah. Eeeee. Beep beep beep. La la la la la.",
]


@dataclass(frozen=True)
class Entry:
    name: str
    path: Path
    digits: str


def sox(*args: str) -> None:
    subprocess.run(["sox", *args], check=True, capture_output=True)


def tones(
    path: Path,
    digits: str,
    tone_ms: int = 50,
    gap_ms: int = 50,
    row_dbfs: float = -10.0,
    twist_db: float = 0.0,
    deviation: float = 0.0,
) -> None:
    """Digits as sox sine pairs; twist is the column tone's level above the row tone's."""
    row = 10 ** (row_dbfs / 20)
    col = 10 ** ((row_dbfs + twist_db) / 20)
    # Two input channels, one tone each, mixed down with their own gains (the twist).
    chain: list[str] = ["-r", "8000", "-c", "2", "-n", "-b", "16", "-c", "1", str(path)]
    chain += ["synth", "0.1", "sine", "0", "sine", "0", "remix", "1v0,2v0"]  # leading silence
    for digit in digits:
        f_row, f_col = (f * (1 + deviation) for f in FREQS[digit])
        chain += [":", "synth", f"{tone_ms / 1000}", "sine", f"{f_row:.2f}", "sine", f"{f_col:.2f}"]
        chain += ["remix", f"1v{row:.5f},2v{col:.5f}", "pad", "0", f"{gap_ms / 1000}"]
    sox(*chain)


def read(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(np.float64) / 32768


def add_noise(clean: Path, out: Path, snr_db: float, seed: int) -> None:
    """White noise from sox, scaled so that the tones' power over the noise's is snr_db."""
    signal = read(clean)
    tone_power = np.mean(signal[np.abs(signal) > 1e-4] ** 2)
    noise = out.with_suffix(".noise.wav")
    seconds = len(signal) / 8000
    sox(
        "-R",
        "-n",
        "-r",
        "8000",
        "-b",
        "16",
        "-c",
        "1",
        str(noise),
        "synth",
        f"{seconds}",
        "whitenoise",
        "vol",
        "0.5",
    )
    # sox's -R makes runs repeatable; vary the noise between files by skipping into a longer run
    noise_power = np.mean(read(noise) ** 2)
    gain = np.sqrt(tone_power / noise_power / 10 ** (snr_db / 10))
    sox("-m", "-v", "1", str(clean), "-v", f"{gain:.6f}", str(noise), str(out))
    noise.unlink()
    del seed


def build(directory: Path) -> list[Entry]:
    """Write the corpus into ``directory`` (once; reused when present) and list it."""
    directory.mkdir(parents=True, exist_ok=True)
    entries: list[Entry] = []

    def add(name: str, digits: str, make) -> None:
        path = directory / f"{name}.wav"
        if not path.exists():
            make(path)
        entries.append(Entry(name, path, digits))

    add("clean", ALL, lambda p: tones(p, ALL))
    add("fast-40ms", ALL, lambda p: tones(p, ALL, 40, 40))
    add("repeats-40ms", "5555", lambda p: tones(p, "5555", 40, 40))
    add("too-short-20ms", "", lambda p: tones(p, ALL, 20, 60))  # Q.24: must not operate
    add("quiet-30dbfs", ALL, lambda p: tones(p, ALL, row_dbfs=-30))
    add("loud-3dbfs", ALL, lambda p: tones(p, ALL, row_dbfs=-6.5))
    for twist in (-6, -4, 4, 6):
        add(f"twist{twist:+d}db", ALL, lambda p, t=twist: tones(p, ALL, 50, 50, -12, t))
    for deviation in (-0.015, 0.015):
        add(f"freq{deviation * 100:+.1f}pct", ALL, lambda p, d=deviation: tones(p, ALL, deviation=d))
    clean = directory / "clean.wav"
    fast = directory / "fast-40ms.wav"
    for snr in (20, 12, 6):
        add(f"noise-snr{snr}", ALL, lambda p, s=snr: add_noise(clean, p, s, s))
    add("fast-40ms-noise-snr12", ALL, lambda p: add_noise(fast, p, 12, 1))
    add("g711-ulaw", ALL, lambda p: _g711(clean, p))
    add("dial-tone", "", lambda p: sox("-n", "-r", "8000", "-b", "16", "-c", "1", str(p), "synth", "5",
                                        "sine", "350", "sine", "440", "remix", "1v0.3,2v0.3"))  # fmt: skip
    voices = ("en", "en-us", "en+f3", "en+m7", "en+f5", "de", "fr", "nl")
    for i, text in enumerate(SPEECH):
        for j, voice in enumerate(voices):
            pitch = (20 + 37 * (i + j)) % 100
            add(f"speech-{i}-{voice}-p{pitch}", "", lambda p, t=text, v=voice, q=pitch: _speech(p, t, v, q))
    return entries


def _g711(clean: Path, out: Path) -> None:
    ulaw = out.with_suffix(".ul.wav")
    sox(str(clean), "-e", "u-law", str(ulaw))
    sox(str(ulaw), "-e", "signed-integer", "-b", "16", str(out))
    ulaw.unlink()


def _speech(out: Path, text: str, voice: str, pitch: int) -> None:
    raw = out.with_suffix(".22k.wav")
    args = ["espeak-ng", "-v", voice, "-p", str(pitch), "-s", "150", "-w", str(raw), text]
    subprocess.run(args, check=True, capture_output=True)
    sox(str(raw), "-r", "8000", "-b", "16", "-c", "1", str(out), "norm", "-3")
    raw.unlink()


def multimon(path: Path) -> str:
    """What Debian's multimon-ng decodes from the same file (it wants 22050 Hz raw)."""
    raw = path.with_suffix(".22050.raw")
    sox(str(path), "-t", "raw", "-r", "22050", "-e", "signed-integer", "-b", "16", "-c", "1", str(raw))
    result = subprocess.run(
        ["multimon-ng", "-q", "-c", "-a", "DTMF", "-t", "raw", str(raw)],
        capture_output=True,
        text=True,
        check=True,
    )
    raw.unlink()
    return "".join(
        line.split(":", 1)[1].strip() for line in result.stdout.splitlines() if line.startswith("DTMF:")
    )
