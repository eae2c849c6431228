"""Speech for the handset: prompt text in the phone's language made into 8 kHz PCM by espeak-ng.

espeak-ng is small (2 MB with its data, every language the menu needs), runs on a Pi's CPU in a
few tens of milliseconds per prompt and is maintained in Debian; a neural voice (Piper) was
measured against it (bench/speech.py, README). Rendered prompts are kept on the data partition,
keyed by engine, voice, language and text, so each prompt is synthesised once; the cache is
bounded, the least recently used prompt going first.

Blocking (a subprocess, file I/O): call from a thread, e.g. the tone player's writer thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import subprocess
import wave
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.durable import atomic_write

if TYPE_CHECKING:
    import numpy.typing as npt

log = logging.getLogger(__name__)

RATE = 8000
# The espeak-ng voice for each language the phone speaks; a language not here is spoken in English.
VOICES = {"en": "en-us", "de": "de", "fr": "fr-fr", "nl": "nl", "es": "es", "it": "it"}
WORDS_PER_MINUTE = 150  # a little slower than espeak-ng's 175: numbers read into a handset
CACHE_BYTES = 8 * 1024 * 1024  # ~9 minutes of 8 kHz speech: every prompt of every menu many times over
TIMEOUT_S = 20.0


class SpeechError(RuntimeError):
    """The speech engine could not make a prompt (missing, failed, or said nothing)."""


class PromptCache:
    """Rendered prompts as WAV files in one directory, bounded by total size (oldest use out first).

    Written atomically (a power cut leaves a whole prompt or none); a file that cannot be read is
    dropped and made again. Hits touch the file, so the least recently used go first.
    """

    def __init__(self, directory: Path, max_bytes: int = CACHE_BYTES) -> None:
        self.directory = directory
        self.max_bytes = max_bytes

    @staticmethod
    def key(engine: str, voice: str, language: str, text: str) -> str:
        return hashlib.sha256(f"{engine}\0{voice}\0{language}\0{text}".encode()).hexdigest()[:32]

    def get(self, key: str) -> bytes | None:
        path = self.directory / f"{key}.wav"
        try:
            with wave.open(str(path), "rb") as wav:
                shape = (wav.getframerate(), wav.getsampwidth(), wav.getnchannels())
                pcm = wav.readframes(wav.getnframes())
        except FileNotFoundError:
            return None
        except (OSError, EOFError, wave.Error) as exc:
            why = str(exc)
        else:
            if shape == (RATE, 2, 1):
                with contextlib.suppress(OSError):
                    os.utime(path)
                return pcm
            why = "not 8 kHz 16-bit mono"
        log.warning("speech: prompt %s unreadable (%s): made again", path.name, why)
        with contextlib.suppress(OSError):
            path.unlink()
        return None

    def put(self, key: str, pcm: bytes) -> None:
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(RATE)
            wav.writeframes(pcm)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(self.directory / f"{key}.wav", buffer.getvalue(), mode=0o600)
        self._trim()

    def files(self) -> list[Path]:
        return sorted(self.directory.glob("*.wav")) if self.directory.is_dir() else []

    def size(self) -> int:
        return sum(p.stat().st_size for p in self.files())

    def _trim(self) -> None:
        entries = []
        for path in self.files():
            with contextlib.suppress(OSError):
                stat = path.stat()
                entries.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                total -= size


class EspeakSpeech:
    """Text to 8 kHz 16-bit mono PCM through the ``espeak-ng`` program, with a prompt cache."""

    engine = "espeak-ng"

    def __init__(
        self,
        cache: PromptCache | None = None,
        *,
        program: str = "espeak-ng",
        words_per_minute: int = WORDS_PER_MINUTE,
        level: float = 0.5,
    ) -> None:
        self.cache = cache
        self.program = program
        self.words_per_minute = words_per_minute
        self.level = level  # peak as a fraction of full scale: speech as loud as the tones, about

    @staticmethod
    def voice(language: str) -> str:
        return VOICES.get(language.lower(), VOICES["en"])

    def pcm(self, text: str, language: str) -> bytes:
        """The prompt's audio, from the cache or made now (and cached)."""
        voice = self.voice(language)
        key = PromptCache.key(f"{self.engine}/{self.words_per_minute}/{self.level}", voice, language, text)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            return hit
        pcm = self.synthesise(text, voice)
        if self.cache is not None:
            try:
                self.cache.put(key, pcm)
            except OSError as exc:  # a full data partition: the prompt is still spoken, just not kept
                log.warning("speech: prompt not cached: %s", exc)
        return pcm

    def synthesise(self, text: str, voice: str) -> bytes:
        if not text.strip():
            raise SpeechError("speech: nothing to say (empty text)")
        command = [self.program, "-v", voice, "-s", str(self.words_per_minute), "--stdout", "--", text]
        try:
            done = subprocess.run(command, capture_output=True, timeout=TIMEOUT_S, check=False)  # noqa: S603
        except FileNotFoundError as exc:
            raise SpeechError(f"speech: {self.program} is not installed (Debian package espeak-ng)") from exc
        except subprocess.TimeoutExpired as exc:
            raise SpeechError(f"speech: {self.program} took over {TIMEOUT_S:g} s") from exc
        if done.returncode != 0 or not done.stdout:
            why = done.stderr.decode(errors="replace").strip() or f"exit status {done.returncode}"
            raise SpeechError(f"speech: {self.program} -v {voice} failed: {why}")
        # numpy costs ~11 MB of RSS: loaded the first time a prompt is made, not at start.
        from .dtmf import parse_wav, resample  # noqa: PLC0415

        samples, rate = parse_wav(done.stdout, f"{self.program} output")
        return to_pcm(resample(samples, rate, RATE), self.level)


def to_pcm(samples: npt.NDArray[Any], level: float) -> bytes:
    """Float samples normalised to ``level`` of full scale, as 16-bit little-endian PCM."""
    import numpy as np  # noqa: PLC0415

    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if peak > 0:
        samples = samples * (level / peak)
    return bytes((np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes())
