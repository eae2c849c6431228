"""DTMF detection on line audio: the sox/espeak-ng corpus, streaming, and the reference decoder."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from appliance.drivers.dtmf import DtmfDetector, WavError, decode, decode_file, read_wav, resample
from tests.dtmf_corpus import build, multimon

pytestmark = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("sox", "espeak-ng")), reason="sox and espeak-ng make the corpus"
)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    return build(tmp_path_factory.mktemp("dtmf"))


def test_every_file_of_the_corpus_decodes_exactly(corpus):
    wrong = {e.name: decode_file(e.path) for e in corpus if decode_file(e.path) != e.digits}
    assert wrong == {}
    assert sum(1 for e in corpus if e.name.startswith("speech")) >= 40


def test_streaming_in_odd_chunks_gives_the_same_digits(corpus):
    entry = next(e for e in corpus if e.name == "fast-40ms-noise-snr12")
    samples = resample(*read_wav(entry.path))
    detector = DtmfDetector()
    rng = np.random.default_rng(3)
    digits, at = "", 0
    while at < len(samples):
        size = int(rng.integers(1, 400))
        digits += detector.feed(samples[at : at + size])
        at += size
    digits += detector.feed(np.zeros(400))
    assert digits == entry.digits


def test_any_rate_and_width(tmp_path, corpus):
    clean = next(e for e in corpus if e.name == "clean")
    for rate, bits in ((44100, 16), (16000, 24), (11025, 8), (48000, 32)):
        out = tmp_path / f"{rate}-{bits}.wav"
        subprocess.run(
            ["sox", str(clean.path), "-r", str(rate), "-b", str(bits), "-c", "2", str(out)], check=True
        )
        assert decode_file(out) == clean.digits, (rate, bits)


def test_silence_and_garbage(tmp_path):
    assert decode(np.zeros(8000)) == ""
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF but not really")
    with pytest.raises(WavError, match="not a PCM WAV"):
        decode_file(bad)


@pytest.mark.skipif(not shutil.which("multimon-ng"), reason="multimon-ng is the reference decoder")
def test_at_least_as_good_as_multimon(corpus):
    ours = sum(decode_file(e.path) == e.digits for e in corpus)
    theirs = sum(multimon(e.path) == e.digits for e in corpus)
    assert ours == len(corpus)
    assert ours >= theirs


def test_cli_decode(corpus, tmp_path):
    appliance = Path(sys.executable).with_name("appliance")
    clean = next(e for e in corpus if e.name == "twist+6db")
    result = subprocess.run(
        [str(appliance), "dtmf", "decode", str(clean.path)], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stdout.strip() == clean.digits
    bad = tmp_path / "x.wav"
    bad.write_text("nope")
    result = subprocess.run([str(appliance), "dtmf", "decode", str(bad)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "not a PCM WAV" in result.stderr
