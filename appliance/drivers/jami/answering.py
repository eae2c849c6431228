"""The answering machine's sound path in the daemon's private PulseAudio.

While the machine has a call, the daemon's streams are moved off the handset: what it sends the
caller comes from the ``greeting`` null sink's monitor (the greeting and beep are played into it),
and what the caller says goes to the ``machine`` null sink, whose monitor is recorded at 8 kHz. So
the handset stays quiet on hook, and the recording is the caller alone. The recording is watched
as it comes: ``#`` (DTMF, the same detector as the line's) or a long silence ends the message
(``CallerFinished``). Afterwards the streams go back to the handset's sink and source.

The owner's greeting is recorded on the same path, from the handset: its prompt and beep go to
the handset's sink (``speaker``), then its microphone (the card's ``mic``, or on the desktop
``micsink.monitor``) is recorded at 8 kHz; a kept greeting is played into calls instead of the
spoken one.

Programs: ``pactl``, ``pacat`` and ``parec`` (Debian's pulseaudio-utils).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
from collections.abc import Callable
from pathlib import Path

from appliance.drivers.speech import EspeakSpeech
from appliance.phone.events import CallerFinished, Event, GreetingEnded
from appliance.phone.model import CallId
from appliance.ports import Recording, TelephonyError

from .audio import PrivatePulseAudio

log = logging.getLogger(__name__)

RATE = 8000
BEEP = 0.5, 1000.0  # seconds, Hz: the tone after the greeting
SILENCE_S = 6.0  # this long below SILENCE_DBFS ends the message
SILENCE_DBFS = -48.0
FRAME = 800  # 100 ms


def beep(seconds: float = BEEP[0], hz: float = BEEP[1], level: float = 0.3) -> bytes:
    import numpy as np  # noqa: PLC0415 - numpy (~11 MB) only once the machine takes a call

    n = np.arange(int(RATE * seconds))
    ramp = np.minimum(1.0, np.minimum(n, n[::-1]) / (0.005 * RATE))  # 5 ms edges: no clicks
    return bytes((np.sin(2 * math.pi * hz * n / RATE) * ramp * level * 32767).astype("<i2").tobytes())


class _Take:
    """One call's recording: parec's output gathered, watched for ``#`` and silence."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.pcm = bytearray()
        self.reader: asyncio.Task[None] | None = None


class _HandsetTake:
    """The owner's greeting being recorded: the prompt played, then parec on the handset's mic."""

    def __init__(self) -> None:
        self.process: asyncio.subprocess.Process | None = None
        self.pcm = bytearray()
        self.start: int | None = None  # where in pcm the beep ended (None: not yet)
        self.task: asyncio.Task[None] | None = None


class CallAudio:
    """Greets and records calls for the answering machine through ``pulse``'s null sinks."""

    def __init__(self, pulse: PrivatePulseAudio, send: Callable[[Event], None], speech: EspeakSpeech) -> None:
        self.pulse = pulse
        self._send = send
        self.speech = speech
        self._players: dict[CallId, asyncio.Task[None]] = {}
        self._takes: dict[CallId, _Take] = {}
        self._handset: _HandsetTake | None = None  # the owner's greeting being recorded

    @property
    def _env(self) -> dict[str, str]:
        return {**os.environ, **self.pulse.env}

    async def greet(self, call: CallId, text: str, language: str, recorded: Path | None = None) -> None:
        pcm = await asyncio.to_thread(self._greeting, text, language, recorded)
        await self._route(machine=True)
        pcm += bytes(2 * RATE // 4) + beep()
        player = asyncio.get_running_loop().create_task(self._greet(call, pcm), name=f"greeting-{call}")
        self._players[call] = player

    def _greeting(self, text: str, language: str, recorded: Path | None) -> bytes:
        """The owner's recording, or (none, or unreadable) ``text`` spoken."""
        if recorded is not None:
            from appliance.drivers.audiofile import read_pcm  # noqa: PLC0415 - libsndfile when used

            try:
                return read_pcm(recorded, RATE)
            except (OSError, RuntimeError) as exc:  # soundfile's LibsndfileError is a RuntimeError
                log.warning("greeting %s unreadable (%s): the spoken one instead", recorded.name, exc)
        return self.speech.pcm(text, language)

    async def _greet(self, call: CallId, pcm: bytes) -> None:
        await self._play("greeting", pcm)
        self._players.pop(call, None)
        self._send(GreetingEnded(call))

    async def _play(self, device: str, pcm: bytes) -> None:
        process = await self._spawn("pacat", "--playback", f"--device={device}", *_FORMAT, stdin=True)
        assert process.stdin is not None
        try:
            process.stdin.write(pcm)
            await process.stdin.drain()
            process.stdin.close()
            await process.wait()
        finally:
            await _end(process)

    # --- the owner's greeting, recorded through the handset ---------------------------------

    async def record_handset(self, prompt: str, language: str) -> None:
        """The prompt and beep into the handset's sink, then its microphone recorded (in the
        background: :meth:`stop_handset` ends it)."""
        await self.stop_handset()
        pcm = await asyncio.to_thread(self.speech.pcm, prompt, language)
        pcm += bytes(2 * RATE // 4) + beep()
        take = _HandsetTake()
        take.task = asyncio.get_running_loop().create_task(self._take(take, pcm), name="greeting-take")
        self._handset = take

    async def _take(self, take: _HandsetTake, prompt: bytes) -> None:
        # parec is started first: its stream takes about half a second to deliver (measured), which
        # would cut off the owner's first words; what it hears during the prompt is dropped.
        take.process = await self._spawn("parec", f"--device={self._mic}", *_FORMAT, stdout=True)
        reading = asyncio.get_running_loop().create_task(self._gather(take))
        try:
            await self._play("speaker", prompt)
            take.start = len(take.pcm)
            await reading
        finally:
            reading.cancel()

    @staticmethod
    async def _gather(take: _HandsetTake) -> None:
        assert take.process is not None
        assert take.process.stdout is not None
        while chunk := await take.process.stdout.read(2 * FRAME):
            take.pcm += chunk

    @property
    def _mic(self) -> str:
        """The handset's microphone: the card's source, or the desktop's null sink's monitor."""
        return "micsink.monitor" if self.pulse.playback is None else "mic"

    async def stop_handset(self) -> Recording | None:
        take, self._handset = self._handset, None
        if take is None:
            return None
        if take.task is not None:
            if take.start is None:  # still saying the prompt: nothing recorded yet
                take.task.cancel()
            elif take.process is not None:
                await _end(take.process)
            with contextlib.suppress(asyncio.CancelledError):
                await take.task
        if take.process is not None:
            await _end(take.process)
        start = (take.start or len(take.pcm)) // 2 * 2
        pcm = bytes(take.pcm[start : len(take.pcm) // 2 * 2])
        from appliance.drivers.audiofile import flac  # noqa: PLC0415

        return Recording(await asyncio.to_thread(flac, pcm, RATE), ".flac", len(pcm) / 2 / RATE)

    async def start_recording(self, call: CallId) -> None:
        process = await self._spawn("parec", "--device=machine.monitor", *_FORMAT, stdout=True)
        take = _Take(process)
        take.reader = asyncio.get_running_loop().create_task(self._listen(call, take), name=f"record-{call}")
        self._takes[call] = take

    async def _listen(self, call: CallId, take: _Take) -> None:
        assert take.process.stdout is not None
        import numpy as np  # noqa: PLC0415

        from appliance.drivers.dtmf import DtmfDetector  # noqa: PLC0415

        detector = DtmfDetector()
        quiet = 0.0
        told = False
        while chunk := await take.process.stdout.read(2 * FRAME):
            take.pcm += chunk
            samples = np.frombuffer(chunk[: len(chunk) // 2 * 2], "<i2").astype(np.float64) / 32768
            if not len(samples) or told:
                continue
            rms = math.sqrt(float(np.mean(samples**2)))
            level = 20 * math.log10(rms) if rms > 0 else -120.0
            quiet = quiet + len(samples) / RATE if level < SILENCE_DBFS else 0.0
            if "#" in detector.feed(samples):
                told = True
                self._send(CallerFinished(call, "#"))
            elif quiet >= SILENCE_S:
                told = True
                self._send(CallerFinished(call, "silence"))

    async def stop_recording(self, call: CallId) -> Recording | None:
        player = self._players.pop(call, None)
        if player is not None:
            player.cancel()
        take = self._takes.pop(call, None)
        if take is None:
            await self._route(machine=False)
            return None
        await _end(take.process)
        if take.reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await take.reader
        await self._route(machine=False)
        pcm = bytes(take.pcm[: len(take.pcm) // 2 * 2])
        from appliance.drivers.audiofile import flac  # noqa: PLC0415

        return Recording(await asyncio.to_thread(flac, pcm, RATE), ".flac", len(pcm) / 2 / RATE)

    async def stop(self) -> None:
        for call in list(self._takes) + list(self._players):
            with contextlib.suppress(TelephonyError, OSError):
                await self.stop_recording(call)
        with contextlib.suppress(TelephonyError, OSError):
            await self.stop_handset()

    async def _route(self, *, machine: bool) -> None:
        """The daemon's streams to the machine's null sinks, or back to the handset."""
        sink = "machine" if machine else "speaker"
        source = (
            "greeting.monitor" if machine else ("micsink.monitor" if self.pulse.playback is None else "mic")
        )
        await self._pactl("set-default-sink", sink)
        await self._pactl("set-default-source", source)
        for kind, target in (("sink-inputs", sink), ("source-outputs", source)):
            listed = await self._pactl("list", "short", kind)
            for line in listed.splitlines():
                index = line.split("\t", 1)[0]
                if index.isdigit():
                    await self._pactl(f"move-{kind[:-1]}", index, target)

    async def _pactl(self, *args: str) -> str:
        process = await self._spawn("pactl", *args, stdout=True)
        out, _ = await process.communicate()
        if process.returncode != 0:
            raise TelephonyError(f"pactl {' '.join(args)} failed (exit status {process.returncode})")
        return out.decode(errors="replace")

    async def _spawn(
        self, program: str, *args: str, stdin: bool = False, stdout: bool = False
    ) -> asyncio.subprocess.Process:
        pipe, null = asyncio.subprocess.PIPE, asyncio.subprocess.DEVNULL
        try:
            return await asyncio.create_subprocess_exec(
                program, *args, env=self._env, stdin=pipe if stdin else null,
                stdout=pipe if stdout else null, stderr=null,
            )  # fmt: skip
        except FileNotFoundError as exc:
            raise TelephonyError(f"{program} is not installed (Debian package pulseaudio-utils)") from exc


_FORMAT = (f"--rate={RATE}", "--channels=1", "--format=s16le", "--latency-msec=40")


async def _end(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
    await process.wait()
