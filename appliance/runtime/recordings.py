"""What the supervisor does with recordings: the answering machine's messages and the owner's greeting.

The phone core decides when to greet, record, keep or drop; this carries it out against the
telephony core's recorder (:class:`~appliance.ports.CallRecorder`, :class:`~appliance.ports.HandsetRecorder`),
the message box and the greeting store on the data partition, off the handset's path (the
supervisor's command worker calls it), and posts what came of it back to the phone as events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from appliance.phone import effects as fx
from appliance.phone.events import Event, GreetingTaken, MessagesChanged, OwnGreetingChanged, VoicemailChanged
from appliance.phone.greeting import TAKE as GREETING_TAKE
from appliance.phone.model import Message
from appliance.ports import CallRecorder, FileSender, HandsetRecorder, Recording, Telephony, TelephonyError

from .greeting import GreetingStore
from .messages import MessageBox, message_file_name

log = logging.getLogger(__name__)

ANSWERING_MACHINE = "answering-machine"  # the voicemail "account" of the phone's own messages

GreetingEffect = fx.RecordGreeting | fx.StopGreeting | fx.KeepGreeting | fx.DropGreeting | fx.DefaultGreeting
GREETING_EFFECTS = (fx.RecordGreeting, fx.StopGreeting, fx.KeepGreeting, fx.DropGreeting, fx.DefaultGreeting)


class Recordings:
    """The messages and the greeting, kept and told; ``telephony`` gives the core of the moment."""

    def __init__(
        self,
        messages: MessageBox,
        greeting: GreetingStore,
        telephony: Callable[[], Telephony],
        send_to: Callable[[], str],
        post: Callable[[Event], None],
    ) -> None:
        self.messages = messages
        self.greeting = greeting
        self._telephony = telephony
        self._send_to = send_to  # voicemail.send_to as the phone's settings say now
        self.post = post

    def greet(self, effect: fx.Greet) -> Awaitable[None]:
        own = self.greeting.path() if effect.own else None
        return self.recorder().greet(effect.call, effect.text, effect.language, own)

    def record(self, effect: fx.Record) -> Awaitable[None]:
        return self.recorder().start_recording(effect.call)

    def tell_messages(self) -> None:
        box = self.messages
        self.post(MessagesChanged(box.all()))
        self.post(VoicemailChanged(ANSWERING_MACHINE, box.unheard()))  # stutter tone, display count

    def keep_going(self, change: Callable[[str], object], message: str) -> None:
        try:
            change(message)
        except OSError:  # a message the card cannot update never takes the phone down
            log.exception("message %s not changed", message)

    def recorder(self) -> CallRecorder:
        core = self._telephony()
        if not isinstance(core, CallRecorder):
            raise TelephonyError("this telephony core cannot take calls for the answering machine")
        return core

    async def stop_recording(self, effect: fx.StopRecording) -> None:
        try:
            recording = await self.recorder().stop_recording(effect.call)
        except (TelephonyError, OSError) as exc:
            log.warning("recording of %s lost: %s", effect.call, exc)
            return
        if recording is None or not effect.keep:
            return
        box = self.messages
        try:
            if box.directory is None:
                message = box.add(recording, effect.caller_uri, effect.caller_name, effect.account)
            else:  # seconds of audio written and synced: off the loop
                written = await asyncio.to_thread(
                    box.write, recording, effect.caller_uri, effect.caller_name, effect.account
                )
                message = box.commit(written)
        except (OSError, ValueError) as exc:
            log.warning("message from %s not kept: %s", effect.caller_uri, exc)
            return
        await self.send_to_owner(message, recording)

    async def send_to_owner(self, message: Message, recording: Recording) -> None:
        """A new message also into the owner's own Jami account (``voicemail.send_to``), if set."""
        to = self._send_to()
        core = self._telephony()
        if not to:
            return
        if not isinstance(core, FileSender):
            log.warning("message %s not sent to %s: this telephony core cannot send files", message.id, to)
            return
        try:
            await core.send_file(to, message_file_name(message, recording.suffix), recording.data)
        except (TelephonyError, OSError) as exc:
            log.warning("message %s not sent to %s: %s", message.id, to, exc)
        else:
            log.info("message %s sent to %s", message.id, to)

    def recorded(self, message: str) -> Path | None:
        """The file a prompt is followed by: a message, or the greeting just recorded."""
        if message == GREETING_TAKE:
            return self.greeting.take_path()
        return self.messages.path(message) if message else None

    async def greeting_effect(self, effect: GreetingEffect) -> None:
        """The owner's greeting through the handset: recorded, kept, dropped, or the spoken one again."""
        store = self.greeting
        try:
            match effect:
                case fx.RecordGreeting(prompt, language):
                    await self.handset().record_handset(prompt, language)
                case fx.StopGreeting():
                    take = await self.handset().stop_handset()
                    if take is not None:
                        await asyncio.to_thread(store.take, take)
                    self.post(GreetingTaken(take.duration_s if take else 0.0))
                case fx.KeepGreeting():
                    await asyncio.to_thread(store.keep)
                    self.post(OwnGreetingChanged(store.recorded))
                case fx.DropGreeting():
                    store.drop()
                case fx.DefaultGreeting():
                    store.clear()
                    self.post(OwnGreetingChanged(store.recorded))
        except (TelephonyError, OSError, ValueError) as exc:
            log.warning("greeting: %s failed: %s", type(effect).__name__, exc)
            if isinstance(effect, fx.StopGreeting):
                self.post(GreetingTaken(0.0))  # nothing to hear back: the owner may record again
            elif isinstance(effect, fx.KeepGreeting | fx.DefaultGreeting):
                self.post(OwnGreetingChanged(store.recorded))

    def handset(self) -> HandsetRecorder:
        core = self._telephony()
        if not isinstance(core, HandsetRecorder):
            raise TelephonyError("this telephony core cannot record the handset")
        return core
