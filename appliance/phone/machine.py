"""The phone's call control: ``step(phone, event, now) -> (phone, effects)``, total and pure.

This module routes each event, and each timer that ran out, to the module that owns it:
:mod:`.hook` (hook switch), :mod:`.dialing` (keys and digits), :mod:`.features` (star codes, voice
menus), :mod:`.incoming` (a call arrives), :mod:`.calls` (the calls' states), :mod:`.cidcw` (caller
ID on call waiting), :mod:`.progress` (dial tone, confirmation, busy, reorder, howler),
:mod:`.world` (what the world around the phone reports), :mod:`.car` (NTT's caller ID
handshake); :mod:`.outputs` derives the tone, the ringer and the line from the state after each
step, and :mod:`.line` opens the line's loop when the far end clears.

Time is an input: the machine arms named timers with an effect and learns they ran out from a
``TimerExpired`` event; ``now`` (monotonic seconds) stamps calls and drops stale expiries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import (
    calls,
    car,
    cidcw,
    dialing,
    features,
    forwarding,
    greeting,
    hook,
    hotline,
    incoming,
    line,
    outputs,
    progress,
    voicemail,
    voicemenu,
    world,
)
from . import effects as fx
from .context import Step
from .events import (
    AccessPointChanged,
    AccountChanged,
    AlertSent,
    CallArrived,
    CallerFinished,
    CallStateChanged,
    ClockRead,
    ConferenceFormed,
    ContactsChanged,
    DeviceInfoChanged,
    Event,
    FeatureNotSaved,
    GreetingEnded,
    GreetingTaken,
    HandsetTestRequested,
    HookChanged,
    InvitationsChanged,
    KeyPressed,
    MessagesChanged,
    NoticesChanged,
    OwnGreetingChanged,
    SettingsChanged,
    SetupCodeChanged,
    TelephonyLost,
    TelephonyRestored,
    TimerExpired,
    TrustedContactsChanged,
    TrustRequestsChanged,
    VoicemailChanged,
)
from .model import Mode, Phone
from .outputs import line_reversed, ringer_of, tone_of

__all__ = ["line_reversed", "ringer_of", "step", "tone_of"]  # the outputs, where callers have them


def step(phone: Phone, event: Event, now: float) -> tuple[Phone, list[fx.Effect]]:
    """Apply one event; return the new phone and what must happen, outputs first."""
    ctx = Step(phone, now)
    _HANDLERS[type(event)](ctx, event)
    outputs.message_lamp(ctx)
    cidcw.guard(ctx)
    car.follow(ctx)
    line.disconnect(ctx, phone)
    return ctx.phone, outputs.changes(phone, ctx.phone) + ctx.effects + outputs.declined(phone, ctx.phone)


def _on_timer(ctx: Step, event: TimerExpired) -> None:
    """A timer ran out: to the module that armed it, unless it was cancelled or re-armed since."""
    deadline = ctx.phone.deadline(event.name)
    if deadline is None or deadline > ctx.now + 1e-6:
        return  # cancelled or re-armed after this expiry was sent
    ctx.set(timers=tuple(t for t in ctx.phone.timers if t[0] != event.name))
    phone = ctx.phone
    if event.name == hook.HOOK and phone.hook.opened_at is not None:
        hook.end_rotary_digit(ctx)
        hook.hung_up(ctx)
    elif event.name == hook.PULSE:
        hook.end_rotary_digit(ctx)
    elif event.name == line.TIMER:
        hook.loop_closed(ctx)
    elif event.name == car.TIMER:
        if car.expired(ctx):
            hook.lifted(ctx)  # the phone's loop stayed closed after the data: someone picked up
    elif event.name == world.HANDSET_TEST:
        ctx.set(handset_test=False)
    elif event.name == cidcw.TIMER:
        cidcw.expired(ctx)
    elif voicemail.timer(ctx, event.name) or greeting.timer(ctx, event.name):
        pass
    elif event.name == voicemenu.IDLE and phone.mode is Mode.MENU:
        features.menu(ctx, voicemenu.Turn(None))
    elif event.name == hotline.TIMER and hotline.due(phone):
        hook.hotline_call(ctx)
    elif event.name.startswith(forwarding.NO_ANSWER_TIMER) and forwarding.no_answer_expired(ctx, event.name):
        if not ctx.phone.off_hook and not (ctx.phone.waiting or ctx.phone.held):
            ctx.set(mode=Mode.IDLE)
    elif event.name == progress.DIGIT and phone.mode is Mode.DIALING:
        dialing.digit_timeout(ctx)
    elif event.name == progress.PROGRESS:
        progress.expired(ctx)


def _on_greeting_taken(ctx: Step, event: GreetingTaken) -> None:
    turn = greeting.taken(ctx, event)
    if turn is not None:
        features.menu(ctx, turn)


_HANDLERS: dict[type, Callable[[Step, Any], None]] = {
    HookChanged: hook.on_hook_changed,
    KeyPressed: dialing.on_key,
    TimerExpired: _on_timer,
    CallArrived: incoming.on_arrived,
    CallStateChanged: calls.on_call_state,
    ConferenceFormed: calls.on_conference,
    AccountChanged: world.on_account,
    VoicemailChanged: world.on_voicemail,
    TrustRequestsChanged: world.on_trust,
    InvitationsChanged: world.on_invitations,
    ContactsChanged: world.on_contacts,
    TrustedContactsChanged: world.on_trusted,
    SettingsChanged: world.on_settings,
    TelephonyLost: world.on_lost,
    TelephonyRestored: world.on_restored,
    FeatureNotSaved: world.on_feature_not_saved,
    NoticesChanged: world.on_notices,
    SetupCodeChanged: world.on_setup_code,
    AccessPointChanged: world.on_access_point,
    HandsetTestRequested: world.on_handset_test,
    DeviceInfoChanged: world.on_device,
    ClockRead: world.on_clock,
    GreetingEnded: voicemail.greeting_ended,
    GreetingTaken: _on_greeting_taken,
    OwnGreetingChanged: greeting.changed,
    CallerFinished: voicemail.caller_finished,
    MessagesChanged: voicemail.messages_changed,
    AlertSent: cidcw.on_alert_sent,
}
