"""DTMF detection side by side with Debian's multimon-ng on the same sox/espeak-ng corpus:
files decoded exactly, talk-off digits on speech, and speed in times real time on one core.

Run: OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/dtmf.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from appliance.drivers.dtmf import decode, read_wav, resample
from tests.dtmf_corpus import build, multimon


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        corpus = build(Path(tmp))
        audio = {e.name: resample(*read_wav(e.path)) for e in corpus}
        seconds = sum(len(a) for a in audio.values()) / 8000
        speech = [e for e in corpus if e.name.startswith("speech")]
        speech_s = sum(len(audio[e.name]) for e in speech) / 8000

        start = time.process_time()
        ours = {e.name: decode(audio[e.name]) for e in corpus}
        ours_cpu = time.process_time() - start
        start = time.perf_counter()
        theirs = {e.name: multimon(e.path) for e in corpus}
        theirs_wall = time.perf_counter() - start

    def score(found: dict[str, str]) -> tuple[int, int]:
        exact = sum(found[e.name] == e.digits for e in corpus)
        talk_off = sum(len(found[e.name]) for e in speech)
        return exact, talk_off

    print(f"DTMF corpus: {len(corpus)} files, {seconds:.0f} s of audio, {speech_s:.0f} s of it speech")
    for name, found in (("baseline: multimon-ng -a DTMF", theirs), ("appliance detector", ours)):
        exact, talk_off = score(found)
        print(f"  {name:<30} exact {exact}/{len(corpus)}   talk-off digits on speech {talk_off}")
    wrong = [f"{e.name}: {theirs[e.name]!r}" for e in corpus if theirs[e.name] != e.digits]
    print("  multimon-ng misses: " + ("; ".join(wrong) or "none"))
    print(f"  speed: appliance {seconds / ours_cpu:,.0f}x real time (CPU, one core); "
          f"multimon-ng incl. sox conversion {seconds / theirs_wall:,.0f}x (wall)")  # fmt: skip


if __name__ == "__main__":
    main()
