"""The speech driver: espeak-ng prompts at 8 kHz, cached on the data partition, bounded."""

import shutil
import wave

import numpy as np
import pytest

from appliance.drivers.speech import EspeakSpeech, PromptCache, SpeechError

pytestmark = pytest.mark.skipif(not shutil.which("espeak-ng"), reason="the Debian package espeak-ng")


def band_energy(pcm: bytes, low: float, high: float) -> float:
    samples = np.frombuffer(pcm, "<i2").astype(np.float64) / 32768
    spectrum = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / 8000)
    return float(spectrum[(freqs >= low) & (freqs < high)].sum())


@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_a_prompt_is_speech_in_the_telephone_band(language):
    pcm = EspeakSpeech(level=0.5).pcm("Eins zwei drei" if language == "de" else "One two three", language)
    seconds = len(pcm) / 2 / 8000
    assert 0.5 < seconds < 4
    samples = np.frombuffer(pcm, "<i2")
    assert np.max(np.abs(samples)) == pytest.approx(0.5 * 32767, rel=0.01)  # normalised to the level
    # Voiced speech: most energy in 200-2000 Hz, little near Nyquist (band-limited before 8 kHz).
    assert band_energy(pcm, 200, 2000) > 5 * band_energy(pcm, 3600, 4000)


def test_languages_get_their_own_voice_and_unknown_ones_english():
    assert EspeakSpeech.voice("de") == "de"
    assert EspeakSpeech.voice("FR") == "fr-fr"
    assert EspeakSpeech.voice("xx") == "en-us"
    # The same digits in German and in English are different audio.
    speech = EspeakSpeech()
    assert speech.pcm("4 5 6", "de") != speech.pcm("4 5 6", "en")


def test_the_cache_makes_a_prompt_once(tmp_path):
    cache = PromptCache(tmp_path / "prompts")
    first = EspeakSpeech(cache).pcm("The page is at 10 dot 0 dot 0 dot 7", "en")
    [file] = cache.files()
    with wave.open(str(file)) as wav:
        assert (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) == (8000, 2, 1)
    # A second phone process with no speech engine at all still speaks it: from the cache.
    again = EspeakSpeech(cache, program="/nonexistent/espeak-ng").pcm(
        "The page is at 10 dot 0 dot 0 dot 7", "en"
    )
    assert again == first
    with pytest.raises(SpeechError, match="not installed"):
        EspeakSpeech(cache, program="/nonexistent/espeak-ng").pcm("Something never said", "en")


def test_the_cache_key_is_text_voice_and_language(tmp_path):
    cache = PromptCache(tmp_path)
    speech = EspeakSpeech(cache)
    speech.pcm("one", "en")
    speech.pcm("one", "de")
    speech.pcm("two", "en")
    speech.pcm("one", "en")
    assert len(cache.files()) == 3


def test_the_cache_is_bounded_least_recently_used_out(tmp_path):
    import os

    cache = PromptCache(tmp_path, max_bytes=60_000)
    speech = EspeakSpeech(cache)
    for n, word in enumerate(["one", "two", "three", "four", "five", "six"]):
        speech.pcm(f"number {word}", "en")
        for path in cache.files():  # mtimes one second apart, in the order used
            if path.stat().st_mtime > 1000 + n:
                os.utime(path, (1000 + n, 1000 + n))
    assert cache.size() <= 60_000
    assert 1 <= len(cache.files()) < 6
    newest = PromptCache.key(
        f"{speech.engine}/{speech.words_per_minute}/{speech.level}", "en-us", "en", "number six"
    )
    assert (tmp_path / f"{newest}.wav").exists()


def test_a_damaged_cached_prompt_is_made_again(tmp_path, caplog):
    cache = PromptCache(tmp_path)
    speech = EspeakSpeech(cache)
    good = speech.pcm("hello", "en")
    [file] = cache.files()
    file.write_bytes(b"RIFF\x00\x00")  # a torn file (it cannot be: writes are atomic; a bad card can)
    assert speech.pcm("hello", "en") == good
    assert "unreadable" in caplog.text
    assert len(cache.files()) == 1


def test_empty_text_is_refused_by_name():
    with pytest.raises(SpeechError, match="empty text"):
        EspeakSpeech().pcm("  ", "en")


def test_the_drivers_load_numpy_only_when_speech_is_made():
    """numpy is ~11 MB of RSS: the tone player and the Jami driver must start without it (the idle
    budget), loading it the first time a prompt is made or a call recorded."""
    import subprocess
    import sys

    probe = (
        "import sys; import appliance.drivers.alsa, appliance.drivers.jami.client; "
        "print('numpy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
