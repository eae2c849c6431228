"""The answering machine's decisions, and ``*98`` to hear its messages (pure, like the machine).

Off by default (``voicemail.enabled``). A call nobody lifts for ``answer_after_s`` is answered by
the phone itself, on hook: once its media is up the greeting and a beep play into the call, then
the caller is recorded until they hang up, go silent or press ``#`` (the recorder hears both), or
``max_s`` runs out. Calls the phone would refuse as busy or in do-not-disturb are taken at once when
``when_busy``/``when_dnd`` say so; private-mode refusals never reach it (and blocked callers never
reach the phone at all). Lifting the handset meanwhile takes the call over (the message so far
is dropped).

``*98`` reads the messages out in the handset, oldest first: who and when, then the message;
5 repeats, 6 (or ``#``) the next one, 7 deletes, 8 calls back, ``*`` ends.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Protocol

from . import effects as fx
from .events import CallerFinished, CallState, GreetingEnded, MessagesChanged
from .model import Answering, Call, CallId, CallStatus, Menu, Message, Mode, Phone, Target
from .phrases import phrase
from .voicemenu import IDLE_S, Turn

ANSWER = "vm_answer"  # timer: the phone answers a call nobody lifted
LIMIT = "vm_limit"  # timer: the longest message; before it, the longest wait for media and greeting
# A greeting that never ends (the core refused it, or its end never came) must not hold the caller
# in silence, and every other caller busy, for good: the media and the greeting get this long.
GREETING_GUARD_S = 60.0
_ENDED = (CallState.HUNGUP, CallState.OVER, CallState.FAILURE, CallState.BUSY, CallState.PEER_BUSY)


class Step(Protocol):
    """What the machine's step in progress offers (``appliance.phone.context.Step``)."""

    phone: Phone
    now: float

    def set(self, **changes: object) -> None: ...

    def emit(self, *effects: fx.Effect) -> None: ...

    def arm(self, name: str, seconds: float) -> None: ...

    def cancel(self, name: str) -> None: ...

    def update_call(self, call_id: CallId, **changes: object) -> None: ...


SAVED = "voicemail.enabled"  # the setting its star codes save


def switch(ctx: Step, on: bool, *, save: bool = True) -> None:
    """The answering machine on or off (a star code; ``save`` False: a failed save undone)."""
    settings = ctx.phone.settings
    was = settings.voicemail.enabled
    ctx.set(settings=replace(settings, voicemail=replace(settings.voicemail, enabled=on)))
    if save:
        ctx.emit(fx.SaveFeature(SAVED, on, was=was))
    if not on:
        ctx.cancel(ANSWER)


# --- taking calls ----------------------------------------------------------------------------


def takes_refused(phone: Phone, reason: str) -> bool:
    """Whether the machine answers a call the phone turns away for ``reason`` (busy or DND only:
    a private-mode refusal stays a refusal). Busy means a handset off hook with no call on it
    (dialing, or left off hook): during a call the second one waits or is refused as ever, since
    the telephony core mixes its calls into one sound path the machine would take from the person."""
    settings = phone.settings.voicemail
    if not settings.enabled or phone.answering is not None:
        return False
    if reason == "busy":
        in_call = any(c.status in (CallStatus.CONNECTED, CallStatus.ANSWERING) for c in phone.calls)
        return settings.when_busy and not in_call
    return reason == "do not disturb" and settings.when_dnd


def ringing(ctx: Step) -> None:
    """A call started ringing: the machine answers it if nobody lifts in time."""
    if ctx.phone.settings.voicemail.enabled:
        ctx.arm(ANSWER, ctx.phone.settings.voicemail.answer_after_s)


def answer(ctx: Step, call: Call) -> None:
    """The machine answers ``call`` (its media comes up, then the greeting)."""
    ctx.cancel(ANSWER)
    ctx.emit(fx.Accept(call.id))
    ctx.update_call(call.id, status=CallStatus.ANSWERING)
    ctx.set(answering=Answering(call.id))
    ctx.arm(LIMIT, GREETING_GUARD_S)
    _quiet_if_idle(ctx)


def timer(ctx: Step, name: str) -> bool:
    """Handle the machine's own timers; False for any other."""
    phone = ctx.phone
    if name == ANSWER:
        call = phone.waiting
        if call is not None and not phone.off_hook and phone.answering is None:
            answer(ctx, call)
        return True
    if name == LIMIT:  # the longest message, or media and greeting that never came to an end
        if phone.answering is not None:
            _finish(ctx, hang_up=True)
        return True
    return False


def call_state(ctx: Step, call: Call, state: CallState) -> bool:
    """A state of the machine's call; False when ``call`` is not the machine's."""
    answering = ctx.phone.answering
    if answering is None or answering.call != call.id:
        return False
    if state is CallState.CURRENT and answering.phase == "answering":
        ctx.update_call(call.id, status=CallStatus.CONNECTED, connected_at=ctx.now)
        ctx.set(answering=Answering(call.id, "greeting"))
        settings = ctx.phone.settings
        text = settings.voicemail.greeting or phrase(settings.language, "greeting")
        ctx.emit(fx.Greet(call.id, text, settings.language, own=ctx.phone.own_greeting))
    elif state in _ENDED:
        _finish(ctx, hang_up=False)  # the caller hung up: what they said is the message
    return True


def greeting_ended(ctx: Step, event: GreetingEnded) -> None:
    answering = ctx.phone.answering
    if answering is None or answering.call != event.call or answering.phase != "greeting":
        return
    ctx.set(answering=Answering(event.call, "recording", ctx.now))
    ctx.emit(fx.Record(event.call))
    ctx.arm(LIMIT, ctx.phone.settings.voicemail.max_s)


def caller_finished(ctx: Step, event: CallerFinished) -> None:
    answering = ctx.phone.answering
    if answering is not None and answering.call == event.call and answering.phase == "recording":
        _finish(ctx, hang_up=True)


def take_over(ctx: Step) -> bool:
    """The handset was lifted while the machine has a call: the person takes it (the message so far
    is dropped). False when the machine has none."""
    answering = ctx.phone.answering
    call = ctx.phone.call(answering.call) if answering else None
    if answering is None or call is None:
        return False
    if answering.phase == "recording":
        ctx.emit(fx.StopRecording(call.id, keep=False))
    ctx.cancel(LIMIT)
    ctx.set(answering=None, mode=Mode.TALKING, active=call.id, digits="", notice="")
    return True


def owns(phone: Phone, call: Call) -> bool:
    return phone.answering is not None and phone.answering.call == call.id


def lost(ctx: Step) -> None:
    """The telephony core died: the machine's call (and what it was recording) is gone."""
    ctx.cancel(LIMIT)
    ctx.set(answering=None)


def _finish(ctx: Step, *, hang_up: bool) -> None:
    phone = ctx.phone
    answering = phone.answering
    call = phone.call(answering.call) if answering else None
    ctx.cancel(LIMIT)
    ctx.set(answering=None)
    if answering is None or call is None:
        return
    recorded = answering.phase == "recording"
    if recorded:
        ctx.emit(fx.StopRecording(call.id, True, call.peer_uri, call.peer_name, call.account))
    if hang_up:
        ctx.emit(fx.HangUp(call.id))
    ctx.set(calls=tuple(c for c in ctx.phone.calls if c.id != call.id), missed=ctx.phone.missed + 1)
    if ctx.phone.active == call.id:
        ctx.set(active=None)
    reason = "message recorded" if recorded else "answering machine: no message"
    ctx.emit(fx.LogCall("missed", call.peer_uri, call.peer_name, reason))
    _quiet_if_idle(ctx)


def _quiet_if_idle(ctx: Step) -> None:
    phone = ctx.phone
    if not phone.off_hook and phone.mode is Mode.RINGING and not (phone.waiting or phone.held):
        ctx.set(mode=Mode.IDLE)


# --- hearing the messages (*98) --------------------------------------------------------------


def messages_changed(ctx: Step, event: MessagesChanged) -> None:
    ctx.set(messages=event.messages)


def listen(phone: Phone) -> Turn:
    """``*98``: how many messages, then the first (oldest unheard first, else the oldest)."""
    lang = phone.settings.language
    messages = phone.messages
    if not messages:
        return Turn(_menu(Menu(level="messages"), phrase(lang, "no_messages")))
    count = (
        phrase(lang, "one_message")
        if len(messages) == 1
        else phrase(lang, "messages", count=str(len(messages)))
    )
    first = next((m for m in messages if not m.heard), messages[0])
    return _play(phone, Menu(level="messages"), first, f"{count} {phrase(lang, 'message_keys')}")


def pressed(phone: Phone, key: str) -> Turn:
    """``key`` while the messages play."""
    menu = phone.menu or Menu(level="messages")
    lang = phone.settings.language
    current = next((m for m in phone.messages if m.id == menu.message), None)
    if key == "*":
        return Turn(None)
    if current is None:  # nothing playing (none left, or it was deleted meanwhile)
        return Turn(_menu(menu, phrase(lang, "no_more")) if key in "56#7" else menu)
    match key:
        case "5":
            return _play(phone, menu, current)
        case "6" | "#":
            return _next(phone, menu, current, "")
        case "7":
            turn = _next(phone, menu, current, phrase(lang, "deleted"), skip=current.id)
            return Turn(turn.menu, (fx.DeleteMessage(current.id), *turn.effects), idle_s=turn.idle_s)
        case "8":  # call back, from the account the call came in on
            if not current.caller_uri or not current.account:
                return Turn(menu)
            return Turn(None, place=Target(current.account, current.caller_uri, current.caller_name))
        case _:
            return Turn(menu)


def announce(message: Message, n: int, lang: str) -> str:
    """``Message 2, from Alice, Tuesday at 14:05.``"""
    caller = message.caller_name or phrase(lang, "unknown_caller")
    try:
        when = dt.datetime.fromisoformat(message.at)
    except ValueError:
        return phrase(lang, "message_from_undated", n=str(n), caller=caller)
    day = phrase(lang, "weekdays").split(",")[when.weekday()]
    return phrase(lang, "message_from", n=str(n), caller=caller, day=day, time=f"{when:%H:%M}")


def _next(phone: Phone, menu: Menu, current: Message, said: str, skip: str = "") -> Turn:
    lang = phone.settings.language
    ids = [m.id for m in phone.messages]
    later = [m for m in phone.messages[ids.index(current.id) + 1 :] if m.id != skip]
    if not later:
        done = f"{said} {phrase(lang, 'no_more')}".strip()
        return Turn(_menu(replace_message(menu, ""), done))
    return _play(phone, menu, later[0], said)


def _play(phone: Phone, menu: Menu, message: Message, before: str = "") -> Turn:
    lang = phone.settings.language
    n = [m.id for m in phone.messages].index(message.id) + 1
    text = f"{before} {announce(message, n, lang)}".strip()
    playing = _menu(replace_message(menu, message.id), text)
    heard = () if message.heard else (fx.MessageHeard(message.id),)
    return Turn(playing, heard, idle_s=message.duration_s + IDLE_S)


def replace_message(menu: Menu, message: str) -> Menu:
    return Menu(level="messages", prompt=menu.prompt, said=menu.said, message=message)


def _menu(menu: Menu, text: str) -> Menu:
    return Menu(level="messages", prompt=text, said=menu.said + 1, message=menu.message)
