"""The fake telephony core's answering-machine side (:class:`~appliance.ports.CallRecorder`).

A greeting lasts ``greeting_s_per_char`` per character plus the beep; the caller "says" what
``caller_says()`` gives (8 kHz PCM), else silence as long as they stayed, recorded as WAV;
``remote_done()`` and ``remote_silent()`` are the caller pressing ``#`` or going quiet.
"""

from __future__ import annotations

import asyncio
import io
import wave
from pathlib import Path

from appliance.phone.events import CallerFinished, GreetingEnded
from appliance.phone.model import CallId
from appliance.ports import Recording

from .base import FakeCore

RATE = 8000  # the answering machine's recordings
BEEP_S = 0.5


class FakeCallRecorder(FakeCore):
    """Takes calls for the answering machine: plays the greeting, records the caller."""

    greeting_s_per_char: float  # set by FakeTelephony from its arguments

    def __init__(self) -> None:
        super().__init__()
        self._recording: dict[CallId, float] = {}  # call -> when its recording started
        self._says: dict[CallId, bytes] = {}
        self._handset_at: float | None = None  # when the handset's recording began (after the beep)
        self._owner_says: bytes | None = None

    @property
    def can_record(self) -> bool:
        return True

    async def greet(self, call: CallId, text: str, language: str, recorded: Path | None = None) -> None:
        self._known(call)
        own = {"recorded": str(recorded)} if recorded is not None else {}
        self._record("greet", call=call, text=text, language=language, **own)
        seconds = len(text) * self.greeting_s_per_char if recorded is None else _wav_seconds(recorded)
        self._later(seconds + BEEP_S, self._greeted, call)

    def _greeted(self, call: CallId) -> None:
        if call in self.calls:
            self._send(GreetingEnded(call))

    async def start_recording(self, call: CallId) -> None:
        self._known(call)
        self._record("record", call=call)
        self._recording[call] = asyncio.get_running_loop().time()

    async def stop_recording(self, call: CallId) -> Recording | None:
        started = self._recording.pop(call, None)
        said = self._says.pop(call, None)
        if started is None:
            return None
        self._record("stop-recording", call=call)
        if said is None:  # silence for as long as the caller stayed
            said = bytes(2 * int(RATE * (asyncio.get_running_loop().time() - started)))
        return _wav(said)

    # --- the owner's greeting through the handset (HandsetRecorder) -----------------------------

    async def record_handset(self, prompt: str, language: str) -> None:
        self._record("record-handset", text=prompt, language=language)
        self._handset_at = asyncio.get_running_loop().time() + len(prompt) * self.greeting_s_per_char + BEEP_S

    async def stop_handset(self) -> Recording | None:
        started, self._handset_at = self._handset_at, None
        said, self._owner_says = self._owner_says, None
        if started is None:
            return None
        self._record("stop-handset")
        if said is None:  # silence for as long as the owner stayed after the beep
            said = bytes(2 * int(RATE * max(0.0, asyncio.get_running_loop().time() - started)))
        return _wav(said)

    def owner_says(self, pcm: bytes) -> None:
        """What the owner says into the handset after the beep (8 kHz 16-bit mono PCM)."""
        self._owner_says = pcm

    def caller_says(self, pcm: bytes, call: CallId | None = None) -> None:
        """What the caller of ``call`` says into the recording (8 kHz 16-bit mono PCM)."""
        self._says[self._pick(call)] = pcm

    def remote_done(self, call: CallId | None = None) -> None:
        """The caller presses ``#``: the message is complete."""
        self._send(CallerFinished(self._pick(call), "#"))

    def remote_silent(self, call: CallId | None = None) -> None:
        """The recorder hears the caller go quiet."""
        self._send(CallerFinished(self._pick(call), "silence"))

    def _drop_recordings(self) -> None:
        """The daemon died: the recordings in progress are gone with their calls."""
        self._recording.clear()
        self._says.clear()


def _wav(pcm: bytes) -> Recording:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(pcm)
    return Recording(buffer.getvalue(), ".wav", len(pcm) / 2 / RATE)


def _wav_seconds(path: Path) -> float:
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() / wav.getframerate()
    except (OSError, EOFError, wave.Error):
        return 0.0
