"""Handset audio through ALSA (pyalsaaudio): tones and spoken prompts out, DTMF detected in what comes in.

The card is chosen by name (``/proc/asound/cards``), never by index, which changes with USB
enumeration order. The tone player opens the PCM only while a tone sounds and closes it after,
so on a board without dmix the Jami daemon can have the device for the call (hand-over); the
boards' asound.conf share the card through dmix/dsnoop, so a call-waiting tone can play over a
call. A card with no mixer control is fine: the level is then applied to the samples.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import alsaaudio

from appliance.phone.tones import Tone, TonePattern, ToneRenderer
from appliance.ports import KeyListener

from .cadence import CadenceRinger
from .speech import EspeakSpeech, SpeechError

log = logging.getLogger(__name__)

RATE = 8000
PERIOD = 160  # 20 ms at 8 kHz
PcmFactory = Callable[..., Any]


def open_pcm(factory: PcmFactory, device: str, *, capture: bool, period: int) -> Any:  # noqa: ANN401
    """A mono 16-bit PCM at 8 kHz with four periods of ``period`` frames."""
    return factory(
        type=alsaaudio.PCM_CAPTURE if capture else alsaaudio.PCM_PLAYBACK,
        mode=alsaaudio.PCM_NORMAL,
        rate=RATE,
        channels=1,
        format=alsaaudio.PCM_FORMAT_S16_LE,
        periodsize=period,
        periods=4,
        device=device,
    )


def capture_level(device: str, seconds: float = 1.0, *, pcm_factory: PcmFactory = alsaaudio.PCM) -> float:
    """The microphone's level over ``seconds``, in dB below full scale (blocking: a thread's job).

    The handset test on the web page: speak into the handset and see the level move.
    """
    pcm = open_pcm(pcm_factory, device, capture=True, period=160)
    total, count = 0.0, 0
    try:
        while count < RATE * seconds:
            frames, data = pcm.read()
            if frames <= 0:
                continue
            samples = memoryview(data).cast("h")
            total += sum(x * x for x in samples)
            count += len(samples)
    finally:
        pcm.close()
    rms = math.sqrt(total / count) / 32768 if count else 0.0
    return round(20 * math.log10(rms), 1) if rms > 0 else -120.0


def card_names() -> list[str]:
    return list(alsaaudio.cards())


def playback_device(card: str, explicit: str = "") -> str:
    """The PCM to play into: explicit, else the named card (through plug, for rate conversion)."""
    if explicit:
        return explicit
    if not card:
        return "default"
    if card not in card_names():
        raise LookupError(
            f"audio.card: no ALSA card named {card!r} (have: {', '.join(card_names()) or 'none'})"
        )
    return f"plughw:CARD={card},DEV=0"


def capture_device(card: str, explicit: str = "") -> str:
    return playback_device(card, explicit)


def open_mixer(card: str, control: str = "") -> Any | None:  # noqa: ANN401 - alsaaudio.Mixer
    """The card's volume control, or None for a card without one (many USB dongles, I2S codecs)."""
    try:
        index = card_names().index(card) if card else 0
        controls = alsaaudio.mixers(cardindex=index)
        name = control or next(iter(controls), "")
        return alsaaudio.Mixer(name, cardindex=index) if name else None
    except (alsaaudio.ALSAAudioError, ValueError) as exc:
        log.info("audio: no mixer on card %r (%s): using digital level", card, exc)
        return None


def handset_level(card: str, control: str, volume: int, tone_level: float) -> float:
    """Set the handset volume on the card's mixer; a card without one gets it in the samples."""
    mixer = open_mixer(card, control) if card else None
    if mixer is None:
        return tone_level * volume / 100
    try:
        mixer.setvolume(volume)
    except alsaaudio.ALSAAudioError as exc:
        log.info("audio: mixer of %r refused the volume (%s): using digital level", card, exc)
        return tone_level * volume / 100
    return tone_level


TONE_LEVEL = 0.3  # the default tone amplitude; a prompt made at its speech level plays as loud as it


class _Prompt:
    """A prompt being spoken: synthesised (or read from the cache) on the writer thread when first
    rendered, so the loop never waits for the speech engine; then played period by period."""

    def __init__(
        self, text: str, language: str, speech: EspeakSpeech, gain: float, then: Path | None
    ) -> None:
        self.text, self.language, self.then = text, language, then
        self._speech, self._gain = speech, gain
        self._pcm: bytes | None = None
        self._at = 0

    def render(self, frames: int) -> bytes | None:
        """The next ``frames`` samples (the last period padded with silence), None once said."""
        if self._pcm is None:
            pcm = self._speech.pcm(self.text, self.language)
            if self.then is not None:  # a recorded message after its announcement
                from .audiofile import read_pcm  # noqa: PLC0415

                pcm += bytes(2 * RATE // 2) + read_pcm(self.then, RATE)
            if self._gain != 1.0:
                import numpy as np  # noqa: PLC0415 - numpy only once something is said

                samples = np.frombuffer(pcm, "<i2").astype(np.float64) * self._gain
                pcm = np.clip(samples, -32768, 32767).astype("<i2").tobytes()
            self._pcm = pcm
        chunk = self._pcm[self._at : self._at + 2 * frames]
        if not chunk:
            return None
        self._at += len(chunk)
        return chunk + bytes(2 * frames - len(chunk))


class AlsaTones:
    """Call-progress tones and spoken prompts into the handset, written by one thread: a tone or a
    prompt replaces whatever plays, so a key pressed during a prompt cuts it short."""

    def __init__(
        self,
        device: str = "default",
        *,
        level: float = 0.3,
        pcm_factory: PcmFactory = alsaaudio.PCM,
        speech: EspeakSpeech | None = None,
    ) -> None:
        self.device = device
        self.level = level
        self._pcm_factory = pcm_factory
        self._speech = speech if speech is not None else EspeakSpeech()
        self._renderer: ToneRenderer | _Prompt | None = None
        self.current: Tone | None = None
        self.saying: str | None = None  # the text of the prompt being spoken
        self._changed = threading.Condition()
        self._stopping = False
        self.periods_written = 0
        self._thread = threading.Thread(target=self._write_loop, name="tones", daemon=True)
        self._thread.start()

    @property
    def playing(self) -> Tone | None:
        return self.current

    def play(self, tone: Tone, pattern: TonePattern) -> None:
        with self._changed:
            self.current, self.saying = tone, None
            self._renderer = ToneRenderer(pattern, RATE, self.level)
            self._changed.notify()

    def say(self, text: str, language: str, then: Path | None = None) -> None:
        with self._changed:
            self.current, self.saying = None, text
            self._renderer = _Prompt(text, language, self._speech, self.level / TONE_LEVEL, then)
            self._changed.notify()

    def stop_tone(self) -> None:
        with self._changed:
            self.current, self.saying, self._renderer = None, None, None
            self._changed.notify()

    async def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self.current, self._renderer = None, None
            self._changed.notify()
        await asyncio.to_thread(self._thread.join, 2)

    def _write_loop(self) -> None:
        while True:
            with self._changed:
                while self._renderer is None and not self._stopping:
                    self._changed.wait()
                if self._stopping:
                    return
            try:
                self._play_until_silent()
            except alsaaudio.ALSAAudioError as exc:
                log.warning("tones: %s: %s", self.device, exc)
                with self._changed:  # wait for the next tone rather than spin on a broken device
                    self._renderer = None
            except (SpeechError, RuntimeError, OSError) as exc:  # libsndfile raises RuntimeErrors
                log.warning("tones: a prompt could not be spoken: %s", exc)
                with self._changed:
                    self._renderer, self.saying = None, None

    def _play_until_silent(self) -> None:
        pcm = open_pcm(self._pcm_factory, self.device, capture=False, period=PERIOD)
        try:
            while True:
                with self._changed:
                    renderer = self._renderer
                if renderer is None:
                    return
                chunk = renderer.render(PERIOD)
                if chunk is None:  # the prompt has been said: silence, unless something replaced it
                    with self._changed:
                        if self._renderer is renderer:
                            self._renderer, self.saying = None, None
                    continue
                pcm.write(chunk if isinstance(chunk, bytes) else chunk.tobytes())  # the card's clock paces us
                self.periods_written += 1
        finally:
            pcm.close()


class AlsaDtmfKeypad:
    """DTMF digits detected in the line's audio (an analog phone behind an FXS interface).

    The line is captured only while the phone is off hook (see :meth:`listen`): on hook there is
    nothing to dial, and the idle adapter then costs no CPU and leaves the capture device free.
    """

    PERIOD = 800  # 100 ms reads: a tenth of the wake-ups of 20 ms periods, still prompt for dialing

    def __init__(self, device: str = "default", *, pcm_factory: PcmFactory = alsaaudio.PCM) -> None:
        self.device = device
        self._pcm_factory = pcm_factory
        self._active = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    async def start(self, on_key: KeyListener) -> None:
        loop = asyncio.get_running_loop()

        def deliver(keys: str) -> None:
            for key in keys:
                on_key(key)

        self._thread = threading.Thread(target=self._listen, args=(loop, deliver), name="dtmf", daemon=True)
        self._thread.start()

    def listen(self, active: bool) -> None:
        if active:
            self._active.set()
        else:
            self._active.clear()

    async def stop(self) -> None:
        self._stopping.set()
        self._active.set()  # wake the thread so it can see it must stop
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 2)

    def _listen(self, loop: asyncio.AbstractEventLoop, deliver: Callable[[str], None]) -> None:
        while not self._stopping.is_set():
            self._active.wait()
            if self._stopping.is_set():
                return
            try:
                pcm = open_pcm(self._pcm_factory, self.device, capture=True, period=self.PERIOD)
            except alsaaudio.ALSAAudioError as exc:
                log.warning("dtmf: cannot open %s: %s", self.device, exc)
                self._stopping.wait(2.0)
                continue
            try:
                self._capture(pcm, loop, deliver)
            except alsaaudio.ALSAAudioError as exc:
                log.warning("dtmf: %s: %s", self.device, exc)
            finally:
                pcm.close()

    def _capture(self, pcm: Any, loop: asyncio.AbstractEventLoop, deliver: Callable[[str], None]) -> None:  # noqa: ANN401
        # numpy costs ~11 MB of RSS: it is loaded the first time someone lifts the handset.
        import numpy as np  # noqa: PLC0415

        from .dtmf import DtmfDetector  # noqa: PLC0415

        detector = DtmfDetector()
        while self._active.is_set() and not self._stopping.is_set():
            frames, data = pcm.read()
            if frames <= 0:
                continue
            keys = detector.feed(np.frombuffer(data, "<i2").astype(np.float64) / 32768)
            if keys:
                loop.call_soon_threadsafe(deliver, keys)


class AlsaLinePlayer:
    """Line signals (caller ID between rings) played into the line's codec by a thread.

    The PCM is opened for each burst and closed after it, like the tone player's, so the Jami
    daemon and the tones share the card through dmix. A quarter second of quiet follows the burst
    before the PCM closes: closing drops what is still buffered, and the last bytes of a caller ID
    message are its checksum.
    """

    TAIL_PERIODS = 12  # 240 ms of quiet: more than the four periods ALSA buffers
    BUFFERED_PERIODS = 4  # open_pcm's: a period written means the one four before it has played

    def __init__(self, device: str = "default", *, pcm_factory: PcmFactory = alsaaudio.PCM) -> None:
        self.device = device
        self._pcm_factory = pcm_factory
        self._cancelled = threading.Event()
        self.periods_written = 0

    async def play(self, pcm: bytes, *, sent: Callable[[], None] | None = None) -> None:
        self._cancelled.clear()
        loop = asyncio.get_running_loop()

        def out() -> None:
            if sent is not None:
                loop.call_soon_threadsafe(sent)

        try:
            await asyncio.to_thread(self._write, pcm, out)
        except alsaaudio.ALSAAudioError as exc:  # no caller ID this time; the ring goes on
            log.warning("line: %s: %s", self.device, exc)

    def cancel(self) -> None:
        self._cancelled.set()

    def _write(self, data: bytes, out: Callable[[], None]) -> None:
        size = PERIOD * 2
        padded = data + bytes(-len(data) % size + self.TAIL_PERIODS * size)
        # Once this many periods are written the data's last one has left the buffer.
        played = -(-len(data) // size) + self.BUFFERED_PERIODS
        pcm = open_pcm(self._pcm_factory, self.device, capture=False, period=PERIOD)
        try:
            for written, at in enumerate(range(0, len(padded), size), 1):
                if self._cancelled.is_set():
                    return
                pcm.write(padded[at : at + size])  # blocks: the card's clock paces us
                self.periods_written += 1
                if written == played:
                    out()
        finally:
            pcm.close()


# A warbling ring for a loudspeaker: 440 + 480 Hz alternating with 440 + 620 Hz every 50 ms.
RING_WARBLE = TonePattern.parse("440+480/50,440+620/50")


class SpeakerRinger(CadenceRinger):
    """A ringtone on a loudspeaker, in bursts with the phone core's cadence."""

    def __init__(self, device: str = "default", *, level: float = 0.5) -> None:
        super().__init__()
        self._player = AlsaTones(device, level=level)

    def _burst(self, *, on: bool) -> None:
        if on:
            self._player.play(Tone.RINGBACK, RING_WARBLE)
        else:
            self._player.stop_tone()

    def _close(self) -> None:
        self._player.stop_tone()

    async def stop(self) -> None:
        await super().stop()
        await self._player.stop()
