"""Voice quality through real calls (issue 19), each figure next to its baseline, in one run
(root: it makes a network namespace of its own).

Two desktop-board appliances on real daemons (the rig of tests/jami: a private PulseAudio each on
null sinks, a local DHT node in a namespace). Speech (espeak-ng, two voices, 10-12 s, and a
recorded human voice: alsa-utils' channel names, 11 s) is played
into A's microphone path and recorded at B's speaker path, then the other way, and scored with
ITU-T P.862 PESQ, wideband and narrowband; the delay (player started -> speech recorded) comes
from the cross-correlation that aligns it. Baseline in the same run: the same speech through one
PulseAudio alone (no call), which has the same player and recorder buffers. Each setting of the
daemon's noise suppression gets a call of its own (set over D-Bus on both daemons just before
the call: the daemon makes a call's audio processor when capture starts): ``off`` and ``high``
(audio.noise_reduction) and ``auto``, the daemon's own default (the same as ``high`` here).
With ``off``, both directions are also measured talking at once (double talk). The machine's
load average is printed beside each figure.

With ``--impaired LOSS/DELAY/JITTER`` (percent, ms, ms; e.g. 5/20/40) the two phones are in
namespaces of their own joined by a user-space link (tests/jami/relay.py; this kernel has no
netem) and every call is measured twice: on the clean link, then with each packet lost with
probability LOSS and the rest delayed DELAY plus a uniform 0..JITTER ms (reordering as netem's
jitter does; ``--in-order`` keeps each direction's order, as a Wi-Fi link's retries do), switched
on once the call is up, so set-up is the same for both.

Each call is made twice over, on daemons of their own: with opus_fec.c's playout drain off
(jamid's own queue, the baseline) and on (``--drain``); after each link, what the library logged
of each daemon's playout queue (decoded, not yet played) is printed, and per call the daemons'
PulseAudio stream latencies (pactl). ``--pulse-ms`` asks for other stream buffers than jamid's 80 ms.

Run: sudo .venv/bin/python bench/call_quality.py [--calls 1] [--settings off,high,auto] [--impaired 5/20/40]
[--in-order] [--voices en-us] [--drain off,on] [--pulse-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appliance.drivers.jami.audio import PrivatePulseAudio
from appliance.drivers.jami.processing import NOISE_REDUCTION
from appliance.phone.model import Mode
from tests.jami.conftest import alice_and_bob, alice_and_bob_apart, call_and_answer
from tests.jami.speech import HUMAN, VOICES, Heard, human_speech_available, measure, speech

DAEMON_STATE = {**NOISE_REDUCTION, "auto": "auto"}


def kind(voice: str) -> str:
    return "recorded human voice" if voice == HUMAN else "espeak-ng speech"


def impairment(spec: str, in_order: bool) -> dict[str, float | bool]:
    """LOSS/DELAY/JITTER[/in-order] (%, ms, ms) as tests.jami.impaired.Link.impair's arguments."""
    if spec.endswith("/in-order"):
        spec, in_order = spec.removesuffix("/in-order"), True
    try:
        loss, delay, jitter = (float(x) for x in spec.split("/"))
    except ValueError:
        raise SystemExit(f"--impaired: {spec!r} is not LOSS/DELAY/JITTER (e.g. 5/20/40)") from None
    return {"loss": loss / 100, "delay_ms": delay, "jitter_ms": jitter, "in_order": in_order}


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def line(label: str, heard: list[Heard], base: list[Heard] | None, loads: list[str]) -> str:
    def med(values):
        return statistics.median(values)

    wb, nb = med(h.pesq_wb for h in heard), med(h.pesq_nb for h in heard)
    delay = med(h.delay_s for h in heard) * 1000
    text = f"{label:<22} PESQ-WB {wb:.2f}  NB {nb:.2f}  delay {delay:4.0f} ms"
    if base:
        bdelay = med(h.delay_s for h in base) * 1000
        text += (
            f"   (baseline WB {med(h.pesq_wb for h in base):.2f}  NB {med(h.pesq_nb for h in base):.2f}"
            f"  delay {bdelay:.0f} ms; the call adds {delay - bdelay:.0f} ms)"
        )
    spread = f"WB {min(h.pesq_wb for h in heard):.2f}-{max(h.pesq_wb for h in heard):.2f}"
    return f"{text}\n{'':<22} n={len(heard)}, {spread}, {', '.join(sorted(set(loads)))}"


async def codec(phone) -> str:
    call = phone.phone.active_call
    core = phone.core
    details = await core._call("getCallDetails", core._account(call.id), core._id(call.id))
    return details.get("AUDIO_CODEC", "?")


def playout(log: Path, phone, since: float) -> str:
    """What opus_fec.c logged of this phone's daemon's playout queue since ``since`` (monotonic)."""
    pid = phone.core.daemon.jamid.pid
    rows = []
    for text in log.read_text().splitlines() if log.exists() else []:
        f = text.split()
        if len(f) > 24 and f[1:3] == ["pid", str(pid)] and f[3] == "slot" and float(f[0]) >= since:
            rows.append({"queue": float(f[6]), "jitter": float(f[9]), "target": float(f[12]),
                         "silent": float(f[19]), "dropped": float(f[21]), "wrong": int(f[24])})  # fmt: skip
    if not rows:
        return "nothing logged"
    queue = sorted(r["queue"] for r in rows)
    return (
        f"queue median {statistics.median(queue):.0f} ms ({queue[0]:.0f}-{queue[-1]:.0f}), "
        f"jitter {statistics.median(r['jitter'] for r in rows):.1f} ms, target {rows[-1]['target']:.0f} ms, "
        f"played as silence {rows[-1]['silent'] - rows[0]['silent']:.0f} ms, "
        f"dropped {rows[-1]['dropped'] - rows[0]['dropped']:.0f} ms, model wrong {rows[-1]['wrong']}"
    )


async def stream_latencies(*phones) -> str:
    """The daemons' PulseAudio streams' latencies, as their PulseAudio says (pactl)."""
    said = []
    for label, phone in zip("AB", phones, strict=False):
        for kind_, device in (("sink-inputs", "Sink"), ("source-outputs", "Source")):
            done = await asyncio.create_subprocess_exec(
                "pactl", "list", kind_, stdout=asyncio.subprocess.PIPE,
                env={**os.environ, **phone.core.pulse.env},
            )  # fmt: skip
            out, _ = await done.communicate()
            for block in out.decode().split("\n\n"):
                fields = {}
                for row in block.splitlines():
                    key, _, value = row.strip().partition(":")
                    if key in ("Buffer Latency", f"{device} Latency"):
                        fields[key] = float(value.split()[0]) / 1000
                    elif row.strip().startswith("media.name = "):
                        fields["name"] = row.split("=", 1)[1].strip().strip('"')
                if "Buffer Latency" in fields:
                    said.append(
                        f"{label} {fields.get('name', '?')} {fields['Buffer Latency']:.0f}"
                        f"+{fields.get(f'{device} Latency', 0):.0f} ms"
                    )
    return ", ".join(said)


@dataclass
class Run:
    """One pair of daemons' calls, each setting in turn (``drain``: opus_fec.c's playout drain)."""

    args: argparse.Namespace
    settings: list[str]
    networks: list[tuple[str, dict[str, float | bool] | None]]
    clips: dict[str, np.ndarray]
    root: Path
    drain: str
    results: dict[tuple[str, str, str], list[Heard]]
    loads: dict[tuple[str, str, str], list[str]]
    codecs: set[str]

    async def calls(self, rig) -> None:
        args, settings, networks, clips, root = self.args, self.settings, self.networks, self.clips, self.root
        results, loads, codecs = self.results, self.loads, self.codecs
        async with rig as phones:
            a, b = phones[0], phones[1]
            for setting in settings:
                for _ in range(args.calls):
                    for phone in (a, b):
                        await phone.core._call("setNoiseSuppressState", DAEMON_STATE[setting])
                    await call_and_answer(a, b)
                    await asyncio.sleep(2.0)  # media negotiation (0.5-1 s measured)
                    codecs.add(await codec(a))
                    print(f"  drain {self.drain}: the daemons' streams {await stream_latencies(a, b)}")
                    for network, impaired in networks:
                        if args.impaired:
                            link = phones[2]
                            before = link.impair(**(impaired or {}))
                            await asyncio.sleep(1.0)  # the jitter buffers meet the new link
                        since = time.monotonic()
                        for voice, clip in clips.items():
                            for label, talker, listener in (("A -> B", a, b), ("B -> A", b, a)):
                                heard = await measure(
                                    talker.core.pulse.env, listener.core.pulse.env, clip, root / "rec"
                                )
                                print(f"  {setting:<5} {network} {label} {voice:<9} {heard}  {load()}")
                                name = f"{setting} drain {self.drain}"
                                name += "" if network == "clean" else f" {network}"
                                key = (kind(voice), name, label)
                                results.setdefault(key, []).append(heard)
                                loads.setdefault(key, []).append(load())
                        if args.impaired:
                            after = link.impair()  # clean again for what follows
                            sent = (
                                after["forwarded"]
                                - before["forwarded"]
                                + after["dropped"]
                                - before["dropped"]
                            )
                            lost = (after["dropped"] - before["dropped"]) / max(1, sent)
                            print(f"  link ({network}): {sent} packets, {lost:.1%} lost")
                        for label, phone in (("A", a), ("B", b)):
                            queue = playout(root / f"playout-{self.drain}.log", phone, since)
                            print(f"  {network} {label}'s playout queue: {queue}")
                    if (
                        setting == "off" and {"en-us", "en-gb+f3"} <= clips.keys()
                    ):  # double talk: both at once, each its own voice
                        both = await asyncio.gather(
                            measure(a.core.pulse.env, b.core.pulse.env, clips["en-us"], root / "rec-a"),
                            measure(b.core.pulse.env, a.core.pulse.env, clips["en-gb+f3"], root / "rec-b"),
                        )
                        for label, heard in zip(("A -> B", "B -> A"), both, strict=True):
                            print(f"  {setting:<5} {label} both talking {heard}  {load()}")
                            key = ("double talk (espeak-ng)", f"{setting} drain {self.drain}", label)
                            results.setdefault(key, []).append(heard)
                            loads.setdefault(key, []).append(load())
                    a.sim.fakes.hook.replace()
                    await b.until(lambda p: p.phone.mode is Mode.DIALING and p.phone.calls == ())
                    b.sim.fakes.hook.replace()
                    await b.until(lambda p: p.phone.mode is Mode.IDLE)
                    await a.until(lambda p: p.phone.mode is Mode.IDLE)
                    await asyncio.sleep(0.5)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1, help="calls per setting")
    parser.add_argument("--settings", default="off,high,auto", help="noise suppression settings to measure")
    parser.add_argument(
        "--impaired",
        metavar="LOSS/DELAY/JITTER[/in-order][,...]",
        help="also measure each call over a lossy link (%%, ms, ms), after the clean one; several: in turn",
    )
    parser.add_argument("--in-order", action="store_true", help="the lossy link delays but never reorders")
    parser.add_argument(
        "--loss-recovery",
        choices=("on", "off"),
        default="on",
        help="the daemon with appliance/drivers/jami/opus_fec.c preloaded (on, as the firmware runs it) or as Debian ships it",
    )
    parser.add_argument(
        "--reorder-ms",
        type=int,
        help="with loss recovery: the RTP demuxer's wait for a missing packet (opus_fec.c's REORDER_WAIT_MS"
        " by default; the daemon's own is 50)",
    )
    parser.add_argument(
        "--drain",
        default="off,on",
        help="opus_fec.c's playout drain, on daemons of their own each in turn (off: jamid's own queue)",
    )
    parser.add_argument(
        "--pulse-ms",
        type=int,
        help="the daemons' PulseAudio stream buffers (tlength, fragsize; jamid asks for 80 ms)",
    )
    parser.add_argument(
        "--voices", help=f"only these voices (of {', '.join([*VOICES, HUMAN])}), for a quicker run"
    )
    args = parser.parse_args()
    settings = args.settings.split(",")
    # (label, impairment) per network each call is measured on; None is the clean link
    networks: list[tuple[str, dict[str, float | bool] | None]] = [("clean", None)]
    for spec in args.impaired.split(",") if args.impaired else []:
        impaired = impairment(spec, args.in_order)
        networks.append(
            (f"{spec.removesuffix('/in-order')}{' in order' if impaired['in_order'] else ''}", impaired)
        )
    with tempfile.TemporaryDirectory(prefix="call-quality-") as tmp:
        root = Path(tmp)
        voices = [*VOICES, *([HUMAN] if human_speech_available() else [])]
        if args.voices:
            unknown = set(args.voices.split(",")) - set(voices)
            if unknown:
                parser.error(
                    f"--voices: no voice {', '.join(sorted(unknown))} (there are {', '.join(voices)})"
                )
            voices = args.voices.split(",")
        clips = {voice: speech(root / "speech", voice) for voice in voices}
        for voice, clip in clips.items():
            print(f"speech: {voice}, {len(clip) / 16000:.1f} s")

        baseline: dict[str, list[Heard]] = {}
        base_loads: dict[str, list[str]] = {}
        alone = PrivatePulseAudio(root / "alone")
        await alone.start()
        try:
            for voice, clip in clips.items():
                heard = await measure(alone.env, alone.env, clip, root, record_device="micsink.monitor")
                print(f"  alone        {voice:<9} {heard}  {load()}")
                baseline.setdefault(kind(voice), []).append(heard)
                base_loads.setdefault(kind(voice), []).append(load())
        finally:
            await alone.stop()

        results: dict[tuple[str, str, str], list[Heard]] = {}
        loads: dict[tuple[str, str, str], list[str]] = {}
        codecs: set[str] = set()
        table = {"audio": {"noise_reduction": "off"}}
        drains = args.drain.split(",")
        if set(drains) - {"on", "off"}:
            parser.error(f"--drain: {args.drain!r} is not a list of on and off")
        for drain in drains:
            env = {
                "APPLIANCE_PLAYOUT_DRAIN": "1" if drain == "on" else "0",
                "APPLIANCE_PLAYOUT_LOG": str(root / f"playout-{drain}.log"),
            }
            if args.reorder_ms is not None:
                env["APPLIANCE_REORDER_MS"] = str(args.reorder_ms)
            if args.pulse_ms is not None:
                env["APPLIANCE_PULSE_MS"] = str(args.pulse_ms)
            (root / drain).mkdir()
            options = {"audio": True, "loss_recovery": args.loss_recovery == "on", "daemon_env": env}
            rig = (
                alice_and_bob_apart(root / drain, "jcq", table, **options)
                if args.impaired
                else alice_and_bob(root / drain, "jcq", table, **options)
            )
            run = Run(args, settings, networks, clips, root, drain, results, loads, codecs)
            await run.calls(rig)
        log = (root / drains[0] / "b" / "log" / "jamid.log").read_text(errors="replace")
        processors = log.count("Starting audio processor")
        for side in ("a", "b"):  # what FFmpeg's RTP demuxer said (warnings, in jamid's log)
            text = (root / drains[0] / side / "log" / "jamid.log").read_text(errors="replace")
            said = {
                m: text.count(m) for m in ("max delay reached", "received too late", "jitter buffer full")
            }
            print(f"{side.upper()}'s RTP demuxer: {said}")

    print()
    print(f"codec negotiated: {', '.join(sorted(codecs))}; B's daemon made {processors} audio processors")
    wait = f", RTP reorder wait {args.reorder_ms} ms" if args.reorder_ms is not None else ""
    print(f"loss recovery (opus_fec preloaded into jamid): {args.loss_recovery}{wait}")
    if any(k == "double talk (espeak-ng)" for k, _, _ in results):
        baseline["double talk (espeak-ng)"] = baseline[kind("en-us")]
        base_loads["double talk (espeak-ng)"] = base_loads[kind("en-us")]
    for speech_kind, base in baseline.items():
        print(f"-- {speech_kind}")
        print(line("PulseAudio alone", base, None, base_loads[speech_kind]))
        for (k, setting, label), heard in sorted(results.items()):
            if k == speech_kind:
                print(line(f"{setting} {label}", heard, base, loads[(k, setting, label)]))


if __name__ == "__main__":
    asyncio.run(main())
