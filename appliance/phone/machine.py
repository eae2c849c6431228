"""The phone's call control: ``step(phone, event, now) -> (phone, effects)``, total and pure.

Time is an input: the machine arms named timers with an effect and learns they ran out from a
``TimerExpired`` event; ``now`` (monotonic seconds) stamps calls and drops stale expiries.

The tone in the handset and the ringer are not commanded case by case: they are functions of
the state (:func:`tone_of`, :func:`ringer_of`), and every step emits the difference. So the
ringer cannot be left ringing off hook, and two tones can never play at once.

Hook switch timing is decoded here too, from debounced edges stamped with the time they happened:
an on-hook interval shorter than ``pulse_min`` is bounce, up to ``flash_min`` a rotary pulse, up
to ``flash_max`` a hook flash, and longer a hang-up (decided by a timer, without waiting for the
handset to come back).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from . import effects as fx
from . import emergency, forwarding, hotline, screening, voicemail, voicemenu
from .callerid import Alert, Standard, caller_id_for, presentation_for
from .context import Step as _Step
from .dialplan import KEYS, MatchKind
from .directory import CAN_CALL, Unreachable, caller_name, find_contact, resolve
from .events import (
    AccountChanged,
    AlertSent,
    CallArrived,
    CallerFinished,
    CallState,
    CallStateChanged,
    ClockRead,
    ConferenceFormed,
    ContactsChanged,
    DeviceInfoChanged,
    Event,
    FeatureNotSaved,
    GreetingEnded,
    HandsetTestRequested,
    HookChanged,
    InvitationsChanged,
    KeyPressed,
    MessagesChanged,
    NoticesChanged,
    SettingsChanged,
    SetupCodeChanged,
    TelephonyLost,
    TelephonyRestored,
    TimerExpired,
    TrustedContactsChanged,
    TrustRequestsChanged,
    VoicemailChanged,
)
from .model import (
    Call,
    CallId,
    CallStatus,
    Direction,
    Feature,
    HookTrack,
    Mode,
    Phone,
    Target,
)
from .phrases import phrase
from .tones import PLANS, Tone

# Timer names.
DIGIT = "digit"  # first-digit and interdigit timeouts
PROGRESS = "progress"  # call-progress stages: confirmation, then reorder/busy -> howler -> silence
HOOK = "hook"  # on hook long enough to be a hang-up
PULSE = "pulse"  # closed long enough to end a rotary digit
HANDSET_TEST = "handset_test"  # the test tone's length
CIDCW = "cidcw"  # caller ID on call waiting: the call-waiting tone, the alert and ack window, the data

# Caller ID on call waiting (GR-575-CORE, EN 300 659-2): after the call-waiting tone's first burst
# the alert (80 ms), then the phone's DTMF D or A, then the data (under 0.5 s for the longest MDMF
# message, sent 60 ms after the ack); the far end is muted throughout. The ack's window opens when
# the line driver reports the alert out (AlertSent), not when it is asked for: the player opens its
# device and buffers four 20 ms periods first. The phone starts its ack within 100 ms of the
# alert's end and holds it 55-65 ms; the line's DTMF detector reads 100 ms blocks, so the key
# arrives up to a block after the ack is heard; 35 ms more for the report's own lateness (a period).
CIDCW_ALERT_S = 1.0  # the alert not reported out by then (a player error, no codec): give up
CIDCW_ACK_S = 0.100 + 0.065 + 0.100 + 0.035
CIDCW_SEND_S = 0.8
CIDCW_ACKS = ("D", "A")

_PROGRESS_MODES = (Mode.BUSY, Mode.REORDER, Mode.HOWLER, Mode.SILENT)


def step(phone: Phone, event: Event, now: float) -> tuple[Phone, list[fx.Effect]]:
    """Apply one event; return the new phone and what must happen, outputs first."""
    ctx = _Step(phone, now)
    _HANDLERS[type(event)](ctx, event)
    _message_lamp(ctx)
    _cidcw_guard(ctx)
    return ctx.phone, _output_changes(phone, ctx.phone) + ctx.effects + _declined(phone, ctx.phone)


def _declined(before: Phone, after: Phone) -> list[fx.Effect]:
    """In private mode the phone joins no group conversation: an invitation is declined as it
    arrives, and every pending one when private mode is turned on (by star code or the page)."""
    if not after.private_mode:
        return []
    fresh = [c for c in after.invitations if not before.private_mode or c not in before.invitations]
    return [fx.DeclineInvitation(c) for c in fresh]


def _cidcw_start(ctx: _Step, call: Call) -> None:
    """A call waits: present it on the analog line, if the line and its standard can."""
    phone, s = ctx.phone, ctx.phone.settings
    caller = call.caller_id
    fsk = (Standard.BELLCORE, Standard.ETSI_FSK)
    active = phone.active_call
    if not s.callerid_waiting or caller is None or caller.presentation.standard not in fsk or phone.cidcw:
        return
    if active is None or active.status is not CallStatus.CONNECTED:
        return
    # The alert follows the call-waiting tone's bursts, before its long pause.
    bursts = PLANS[s.country].pattern(Tone.CALL_WAITING).segments[:-1]
    ctx.set(cidcw="tone", cidcw_muted=active.id)
    ctx.emit(fx.Mute(active.id, on=True))
    ctx.arm(CIDCW, sum(b.duration_ms or 0 for b in bursts) / 1000)


def _cidcw_timer(ctx: _Step) -> None:
    phone = ctx.phone
    waiting = phone.waiting
    if phone.cidcw == "tone" and waiting is not None and waiting.caller_id is not None:
        ctx.set(cidcw="alert")
        ctx.emit(fx.AlertWaiting(waiting.caller_id.presentation))
        ctx.arm(CIDCW, CIDCW_ALERT_S)
    else:  # no ack in time (the phone cannot show it), or the data has gone: the call goes on
        _cidcw_end(ctx)


def _on_alert_sent(ctx: _Step, event: AlertSent) -> None:
    """The alert is on the line: the phone's ack is due from now."""
    del event
    if ctx.phone.cidcw == "alert":
        ctx.arm(CIDCW, CIDCW_ACK_S)


def _cidcw_ack(ctx: _Step) -> None:
    waiting = ctx.phone.waiting
    assert waiting is not None
    assert waiting.caller_id is not None
    ctx.set(cidcw="send")
    ctx.emit(fx.SendWaitingCaller(waiting.caller_id))
    ctx.arm(CIDCW, CIDCW_SEND_S)


def _cidcw_end(ctx: _Step) -> None:
    muted = ctx.phone.cidcw_muted
    ctx.cancel(CIDCW)
    ctx.set(cidcw="", cidcw_muted=None)
    if muted is not None:  # even for a call gone: the far end's voice is muted for the whole device
        ctx.emit(fx.Mute(muted, on=False))


def _cidcw_guard(ctx: _Step) -> None:
    """Whatever ends the waiting (answered, gone, a flash, a hang-up) ends the presentation."""
    phone = ctx.phone
    if phone.cidcw and (phone.waiting is None or not phone.off_hook or phone.active != phone.cidcw_muted):
        _cidcw_end(ctx)


def _message_lamp(ctx: _Step) -> None:
    """The phone's message lamp follows the voicemail count, told only while the line is idle
    (on hook, nothing ringing): data on the line then would be heard or cut a ring short."""
    phone = ctx.phone
    waiting = phone.messages_waiting > 0
    if waiting != phone.lamp and not phone.off_hook and phone.mode is Mode.IDLE:
        s = phone.settings
        presentation = presentation_for(s.country, s.callerid, s.callerid_alert, sdmf=s.callerid_sdmf)
        ctx.set(lamp=waiting)
        if phone.lamp is None and not waiting and presentation.alert is Alert.RING_PULSE:
            return  # "off" after a start would chirp the bell at every boot: assume it is off
        ctx.emit(fx.ShowMessages(waiting, presentation))


def tone_of(phone: Phone) -> Tone | None:
    """The tone the handset should hear in this state, or None for silence."""
    if not phone.off_hook:
        return None
    if phone.handset_test and not phone.calls and not phone.digits and phone.mode is Mode.DIALING:
        return Tone.TEST  # instead of dial tone, for the test's few seconds
    match phone.mode:
        case Mode.DIALING:
            if phone.digits:
                return None
            if phone.messages_waiting and not phone.calls:
                return Tone.STUTTER
            return Tone.DIAL
        case Mode.CONFIRM:
            return Tone.CONFIRM
        case Mode.CALLING:
            active = phone.active_call
            return Tone.RINGBACK if active and active.status is CallStatus.RINGING_OUT else None
        case Mode.TALKING:
            return Tone.CALL_WAITING if phone.waiting else None
        case Mode.BUSY:
            return Tone.BUSY
        case Mode.REORDER:
            return Tone.REORDER
        case Mode.HOWLER:
            return Tone.HOWLER
        case _:
            return None


def ringer_of(phone: Phone) -> fx.StartRinger | None:
    """How the ringer should ring in this state, or None when it must be silent."""
    if phone.off_hook or phone.mode is not Mode.RINGING:
        return None
    if phone.waiting:
        return fx.StartRinger(caller=phone.waiting.caller_id, cadence=phone.waiting.ring)
    if phone.held:
        return fx.StartRinger(recall=True)
    return None


def line_reversed(phone: Phone) -> bool:
    """Whether the line's polarity is reversed: while the handset talks on a connected call."""
    return phone.off_hook and any(c.status is CallStatus.CONNECTED for c in phone.calls)


def _output_changes(before: Phone, after: Phone) -> list[fx.Effect]:
    out: list[fx.Effect] = []
    ring_before, ring_after = ringer_of(before), ringer_of(after)
    if ring_before != ring_after:
        out.append(ring_after or fx.StopRinger())
    tone_before, tone_after = tone_of(before), tone_of(after)
    if tone_before != tone_after:
        out.append(fx.PlayTone(tone_after) if tone_after else fx.StopTone())
    out.extend(voicemenu.speech_changes(before, after, tone_after))
    if before.off_hook != after.off_hook:  # the line carries digits only while off hook
        out.append(fx.ListenForDigits(after.off_hook))
    if line_reversed(before) != line_reversed(after):
        out.append(fx.ReverseLine(line_reversed(after)))
    return out


# --- the hook switch -------------------------------------------------------------------------


def _on_hook_changed(ctx: _Step, event: HookChanged) -> None:
    phone, settings = ctx.phone, ctx.phone.settings
    if not event.off_hook:
        if phone.off_hook and phone.hook.opened_at is None:
            ctx.set(hook=replace(phone.hook, opened_at=event.at))
            ctx.cancel(PULSE)
            ctx.arm(HOOK, settings.flash_max_s - (ctx.now - event.at))
        return
    if not phone.off_hook:
        _lifted(ctx)
        return
    opened = phone.hook.opened_at
    if opened is None:
        return
    ctx.cancel(HOOK)
    ctx.set(hook=replace(phone.hook, opened_at=None))
    duration = event.at - opened
    if duration >= settings.flash_max_s:  # the hang-up timer was overtaken by the lift itself
        _hung_up(ctx)
        _lifted(ctx)
    elif duration >= settings.flash_min_s:
        _end_rotary_digit(ctx)
        _flashed(ctx)
    elif settings.pulse_dialing and duration >= settings.pulse_min_s:
        if ctx.phone.hook.pulses == 0:
            ctx.cancel(DIGIT)  # a slow dial's '0' takes over a second: hold the interdigit timer
        ctx.set(hook=replace(ctx.phone.hook, pulses=ctx.phone.hook.pulses + 1))
        ctx.arm(PULSE, settings.pulse_digit_gap_s - (ctx.now - event.at))


def _end_rotary_digit(ctx: _Step) -> None:
    pulses = ctx.phone.hook.pulses
    if not pulses:
        return
    ctx.cancel(PULSE)
    ctx.set(hook=replace(ctx.phone.hook, pulses=0))
    if pulses <= 10:  # more than ten is not a digit: a rattled hook, ignored
        _key(ctx, "0" if pulses == 10 else str(pulses))


def _lifted(ctx: _Step) -> None:
    ctx.set(off_hook=True, hook=HookTrack(), notice="")
    phone = ctx.phone
    if not phone.telephony_up:
        _signal(ctx, Mode.REORDER, "Phone service is starting")
        return
    if voicemail.take_over(ctx):  # the answering machine had the call: the person takes it
        return
    if phone.waiting:
        _answer(ctx, phone.waiting)
    elif phone.held:
        _resume(ctx, phone.held)
    else:
        _dial_tone(ctx)
        wait = hotline.delay(ctx.phone)
        if wait == 0:
            _hotline(ctx)
        elif wait is not None:
            ctx.arm(hotline.TIMER, wait)


def _hotline(ctx: _Step) -> None:
    target = hotline.target(ctx.phone)
    if isinstance(target, Unreachable):
        _signal(ctx, Mode.REORDER, target.message)
    else:
        _place(ctx, target)


def _hung_up(ctx: _Step) -> None:
    phone = ctx.phone
    for name in (DIGIT, PROGRESS, HOOK, PULSE, hotline.TIMER):
        ctx.cancel(name)
    ctx.cancel(voicemenu.IDLE)
    ctx.set(off_hook=False, hook=HookTrack(), digits="", notice="", call_waiting_cancelled=False, menu=None)
    talking = [c for c in phone.calls if c.status is CallStatus.CONNECTED]
    if phone.conference and phone.settings.conference_transfer and len(talking) == 2:
        ctx.emit(fx.Transfer((talking[0].id, talking[1].id)))
        for call in talking:
            _drop(ctx, call, "transferred")
        phone = ctx.phone
    for call in phone.calls:
        # A waiting call goes on ringing and a held call rings back (recall); the rest end.
        if call.status is CallStatus.RINGING_IN or (call.held and not phone.conference):
            continue
        if voicemail.owns(phone, call):  # the answering machine's call goes on without the handset
            continue
        ctx.emit(fx.HangUp(call.id))
        _drop(ctx, call, "hung up")
    ctx.set(active=None, consult=None, conference=False)
    ctx.set(mode=Mode.RINGING if ctx.phone.calls else Mode.IDLE)


def _flashed(ctx: _Step) -> None:
    phone = ctx.phone
    held, waiting, active = phone.held, phone.waiting, phone.active_call
    if phone.mode in (Mode.DIALING, Mode.CONFIRM, *_PROGRESS_MODES):
        if held:
            _resume(ctx, held)
        elif waiting:
            _answer(ctx, waiting)
        else:
            _dial_tone(ctx)
    elif phone.mode is Mode.CALLING:
        if held and active:  # give up on the second party, back to the first
            ctx.emit(fx.HangUp(active.id))
            _drop(ctx, active, "cancelled")
            _resume(ctx, held)
    elif phone.mode is Mode.TALKING and active:
        if phone.conference and phone.consult:  # flash in a 3-way call drops the party added last
            consult = phone.call(phone.consult)
            if consult:
                ctx.emit(fx.HangUp(consult.id))
                _drop(ctx, consult, "dropped from conference")
            remaining = ctx.phone.calls[0].id if ctx.phone.calls else None
            ctx.set(conference=False, consult=None, active=remaining)
        elif waiting:  # answer the waiting call, hold this one
            ctx.emit(fx.Hold(active.id))
            ctx.update_call(active.id, held=True)
            _answer(ctx, waiting)
        elif held and phone.consult == active.id:  # second flash of a 3-way call: join everyone
            ctx.emit(fx.Conference((held.id, active.id)))
            ctx.update_call(held.id, held=False)
            ctx.set(conference=True)
        elif held:  # swap between two calls
            ctx.emit(fx.Hold(active.id))
            ctx.update_call(active.id, held=True)
            _resume(ctx, held)
        else:  # hold and give a second dial tone
            ctx.emit(fx.Hold(active.id))
            ctx.update_call(active.id, held=True)
            ctx.set(active=None)
            _dial_tone(ctx)


# --- dialing ---------------------------------------------------------------------------------


def _on_key(ctx: _Step, event: KeyPressed) -> None:
    key = event.key.upper()
    if key in KEYS and ctx.phone.off_hook:
        _key(ctx, key)


def _key(ctx: _Step, key: str) -> None:
    phone = ctx.phone
    if phone.mode in (Mode.DIALING, Mode.CONFIRM):
        _collect(ctx, key)
    elif phone.mode is Mode.MENU and phone.menu and phone.menu.level == "messages":
        _menu(ctx, voicemail.pressed(phone, key))
    elif phone.mode is Mode.MENU:
        _menu(ctx, voicemenu.pressed(phone, key, ctx.now))
    elif phone.mode is Mode.TALKING:
        if phone.cidcw == "alert" and key in CIDCW_ACKS:  # the phone's ack: not for the far end
            _cidcw_ack(ctx)
            return
        active = phone.active_call
        if active and active.status is CallStatus.CONNECTED:
            ctx.emit(fx.SendDtmf(active.id, key))


def _collect(ctx: _Step, key: str) -> None:
    phone, settings = ctx.phone, ctx.phone.settings
    ctx.cancel(hotline.TIMER)  # a key before the warm line calls: the user dials
    if phone.mode is Mode.CONFIRM:
        ctx.cancel(PROGRESS)
        ctx.set(mode=Mode.DIALING, digits="")
        phone = ctx.phone
    digits = phone.digits + key
    if emergency.dial_now(phone, digits):  # before the digit map: nothing may stand in the way
        _emergency(ctx, digits)
        return
    with_number = forwarding.code_with_number(phone, phone.digits if key == "#" else digits)
    if with_number is not None:  # a star code, then its number, ended by '#' or a pause
        if key == "#":
            _feature(ctx, with_number[1], phone.digits.removeprefix(with_number[0]))
        else:
            ctx.set(digits=digits, notice="")
            ctx.arm(DIGIT, settings.interdigit_s)
        return
    result = settings.digit_map.match(digits)
    if result.kind is MatchKind.NONE and settings.feature_for(digits):
        _dial(ctx, digits)  # a star code outside the digit map (``***``) is dialed as it is
        return
    if key == "#" and settings.pound_sends and phone.digits and result.kind is MatchKind.NONE:
        _send(ctx)  # '#' is not part of any number here: it means "dial now"
        return
    ctx.set(digits=digits, notice="")
    if result.kind is MatchKind.NONE and any(code.startswith(digits) for code, _ in settings.star_codes):
        ctx.arm(DIGIT, settings.interdigit_s)  # on the way to such a star code
        return
    if result.kind in (MatchKind.NONE, MatchKind.BLOCKED) and emergency.may_follow(phone, digits):
        ctx.arm(DIGIT, settings.interdigit_s)  # on the way to an emergency number
    elif result.kind is MatchKind.COMPLETE:
        _dial(ctx, result.number)
    elif result.kind is MatchKind.BLOCKED:
        _signal(ctx, Mode.REORDER, f"{digits} is blocked")
    elif result.kind is MatchKind.NONE:
        _signal(ctx, Mode.REORDER, f"Cannot dial {digits}")
    elif result.kind is MatchKind.AMBIGUOUS:
        ctx.arm(DIGIT, settings.interdigit_short_s)
    else:
        ctx.arm(DIGIT, settings.interdigit_s)


def _send(ctx: _Step) -> None:
    """The interdigit time ran out, or '#' was pressed: dial what was dialed if it is whole."""
    digits = ctx.phone.digits
    if emergency.is_number(ctx.phone, digits):
        _emergency(ctx, digits)
        return
    with_number = forwarding.code_with_number(ctx.phone, digits)
    if with_number is not None:
        _feature(ctx, with_number[1], digits.removeprefix(with_number[0]))
        return
    result = ctx.phone.settings.digit_map.match(digits)
    if result.dialable:
        _dial(ctx, result.number)
    elif result.kind is MatchKind.BLOCKED:
        _signal(ctx, Mode.REORDER, f"{digits} is blocked")
    else:
        _signal(ctx, Mode.REORDER, f"{digits}: number incomplete")


def _dial(ctx: _Step, number: str) -> None:
    phone = ctx.phone
    ctx.cancel(DIGIT)
    feature = phone.settings.feature_for(number)
    if feature is not None:
        _feature(ctx, feature)
        return
    target = resolve(number, phone.contacts, phone.accounts, phone.settings.digits_account)
    if isinstance(target, Unreachable):
        _signal(ctx, Mode.REORDER, target.message)
    else:
        _place(ctx, target)


def _emergency(ctx: _Step, number: str) -> None:
    target = emergency.target(ctx.phone, number)
    if target is None:  # said at once, in plain words: there is no time to lose on a timeout
        _signal(ctx, Mode.REORDER, emergency.NO_LINE)
        ctx.emit(
            fx.Say(phrase(ctx.phone.settings.language, "no_emergency_line"), ctx.phone.settings.language)
        )
        return
    ctx.set(emergency_call=(target.account, ctx.now))
    _place(ctx, target)


def _forwarding(ctx: _Step, feature: Feature, number: str) -> bool:
    """A forwarding star code: True if it was one (then it is done)."""
    code = forwarding.star_code(feature)
    if code is None:
        return False
    kind, on = code
    if on and not number:
        _signal(ctx, Mode.REORDER, "Dial the code, then the number")
        return True
    was = forwarding.destination(ctx.phone.forwarding, kind)
    to = number if on else ""
    ctx.set(forwarding=forwarding.with_destination(ctx.phone.forwarding, kind, to))
    ctx.emit(fx.SaveForwarding(kind, to, was=was))
    _confirm(ctx, forwarding.confirmation(kind, to))
    return True


def _feature(ctx: _Step, feature: Feature, number: str = "") -> None:
    phone = ctx.phone
    if _forwarding(ctx, feature, number):
        return
    match feature:
        case Feature.DND_ON | Feature.DND_OFF:
            on = feature is Feature.DND_ON
            ctx.set(dnd=on)
            ctx.emit(fx.SaveFeature("dnd", on, was=phone.dnd))
            _confirm(ctx, f"Do not disturb {'on' if on else 'off'}")
        case Feature.PRIVATE_ON | Feature.PRIVATE_OFF:
            on = feature is Feature.PRIVATE_ON
            ctx.set(private_mode=on)
            ctx.emit(fx.SaveFeature("private_mode", on, was=phone.private_mode))
            _confirm(ctx, "Private: only contacts ring" if on else "Private mode off")
        case Feature.CALL_WAITING_ON | Feature.CALL_WAITING_OFF:
            on = feature is Feature.CALL_WAITING_ON
            ctx.set(call_waiting=on)
            ctx.emit(fx.SaveFeature("call_waiting", on, was=phone.call_waiting))
            _confirm(ctx, f"Call waiting {'on' if on else 'off'}")
        case Feature.CALL_WAITING_CANCEL:
            ctx.set(call_waiting_cancelled=True)
            _confirm(ctx, "No call waiting on this call")
        case Feature.REDIAL:
            if phone.last_dialed is None:
                _signal(ctx, Mode.REORDER, "Nothing to redial")
            else:
                _place(ctx, phone.last_dialed)
        case Feature.CALL_RETURN:
            if phone.last_caller is None:
                _signal(ctx, Mode.REORDER, "No call to return")
            else:
                _place(ctx, phone.last_caller)
        case Feature.VOICE_MENU:
            _menu(ctx, voicemenu.opened(phone))
        case Feature.MESSAGES:
            _menu(ctx, voicemail.listen(phone))
        case Feature.VOICEMAIL_ON | Feature.VOICEMAIL_OFF:
            on = feature is Feature.VOICEMAIL_ON
            voicemail.switch(ctx, on)
            _confirm(ctx, f"Answering machine {'on' if on else 'off'}")


def _menu(ctx: _Step, turn: voicemenu.Turn) -> None:
    """The voice menu after a key (or its opening): what it says next, or back to dial tone."""
    ctx.emit(*turn.effects)
    if turn.menu is None:
        ctx.cancel(voicemenu.IDLE)
        ctx.set(menu=None)
        if turn.place is not None:
            _place(ctx, turn.place)  # a message's caller called back
        else:
            _dial_tone(ctx)
    else:
        ctx.cancel(DIGIT)
        ctx.cancel(PROGRESS)
        notice = "Messages" if turn.menu.level == "messages" else "Voice menu"
        ctx.set(mode=Mode.MENU, menu=turn.menu, digits="", notice=notice)
        ctx.arm(voicemenu.IDLE, turn.idle_s)


def _place(ctx: _Step, target: Target) -> None:
    phone = ctx.phone
    account = next((a for a in phone.accounts if a.id == target.account), None)
    if account is None or account.registration not in CAN_CALL:
        _signal(ctx, Mode.REORDER, "Account not connected")
        return
    call_id = CallId(f"out-{phone.next_call}")
    call = Call(call_id, Direction.OUT, target.uri, target.name, target.account, CallStatus.CONNECTING)
    ctx.cancel(DIGIT)
    ctx.set(
        calls=(*phone.calls, call),
        active=call_id,
        consult=call_id if phone.held else None,
        mode=Mode.CALLING,
        digits="",
        notice="",
        last_dialed=target,
        next_call=phone.next_call + 1,
    )
    ctx.emit(fx.PlaceCall(call_id, target.account, target.uri))


# --- calls -----------------------------------------------------------------------------------


def _on_incoming(ctx: _Step, event: CallArrived) -> None:
    phone = ctx.phone
    if phone.call(event.call) is not None or forwarding.leg_of(phone, event.call) is not None:
        return
    name = caller_name(phone.directory, event.caller_uri, event.caller_name)
    s = phone.settings
    presentation = presentation_for(s.country, s.callerid, s.callerid_alert, sdmf=s.callerid_sdmf)
    call = Call(
        event.call, Direction.IN, event.caller_uri, name, event.account, CallStatus.RINGING_IN,
        identity_changed=event.identity_changed,
        caller_id=caller_id_for(phone.directory, event.caller_uri, event.caller_name, presentation),
        ring=contact.ring if (contact := find_contact(phone.directory, event.caller_uri)) else (),
    )  # fmt: skip
    refusal = None
    if not emergency.is_call_back(phone, event.account, ctx.now):
        caller = screening.Caller(event.caller_uri, name, event.identity_changed, phone.directory)
        refusal = screening.refusal(
            phone.settings.screening, caller, private_mode=phone.private_mode, dnd=phone.dnd,
            minute=phone.local_minute(ctx.now),
        )  # fmt: skip
    if refusal is not None and not voicemail.takes_refused(phone, refusal.reason):
        if refusal.kind == "missed":
            ctx.set(missed=phone.missed + 1)
        ctx.emit(fx.Refuse(event.call, refusal.reason))
        ctx.emit(fx.LogCall(refusal.kind, event.caller_uri, name, refusal.reason))
        return
    ctx.set(last_caller=Target(event.account, event.caller_uri, name))
    if refusal is not None:  # do not disturb, and the answering machine takes such calls
        ctx.set(calls=(*phone.calls, call))
        voicemail.answer(ctx, call)
        return
    if forwarding.start(ctx, call, forwarding.ALWAYS):
        return
    if _busy(phone):
        if forwarding.start(ctx, call, forwarding.BUSY):
            return
        if voicemail.takes_refused(phone, "busy"):  # the answering machine takes busy calls
            ctx.set(calls=(*phone.calls, call))
            voicemail.answer(ctx, call)
            return
        ctx.emit(fx.Refuse(event.call, "busy"), fx.LogCall("refused", event.caller_uri, name, "busy"))
        return
    ctx.set(calls=(*phone.calls, call))
    forwarding.arm_no_answer(ctx, call)
    if not phone.off_hook:
        ctx.set(mode=Mode.RINGING)
        voicemail.ringing(ctx)
    else:
        _cidcw_start(ctx, call)


def _busy(phone: Phone) -> bool:
    """Whether another call cannot ring now (or wait, during a call)."""
    if phone.off_hook:
        can_wait = phone.call_waiting and not phone.call_waiting_cancelled
        return phone.mode is not Mode.TALKING or not can_wait or bool(phone.waiting) or len(phone.calls) >= 2
    return bool(phone.calls)


def _on_call_state(ctx: _Step, event: CallStateChanged) -> None:
    forward = forwarding.leg_of(ctx.phone, event.call)
    if forward is not None:
        forwarding.on_state(ctx, forward, event)
        return
    call = ctx.phone.call(event.call)
    if call is None or voicemail.call_state(ctx, call, event.state):
        return
    match event.state:
        case CallState.RINGING:
            if call.status is CallStatus.CONNECTING:
                ctx.update_call(call.id, status=CallStatus.RINGING_OUT)
        case CallState.CURRENT if call.status is CallStatus.RINGING_IN:
            # We never accepted it: another device of the same account answered.
            ctx.update_call(call.id, status=CallStatus.CONNECTED)
            _ended(ctx, call, Mode.DIALING, "Answered elsewhere")
        case CallState.CURRENT:
            if call.status is not CallStatus.CONNECTED:
                ctx.update_call(call.id, status=CallStatus.CONNECTED, connected_at=ctx.now)
            if call.id == ctx.phone.active and ctx.phone.mode is Mode.CALLING:
                ctx.set(mode=Mode.TALKING)
        case CallState.BUSY | CallState.PEER_BUSY:
            _ended(ctx, call, Mode.BUSY, f"{call.peer_name} is busy")
        case CallState.FAILURE:
            _ended(ctx, call, Mode.REORDER, _failure_words(event.code))
        case CallState.HUNGUP | CallState.OVER:
            if call.direction is Direction.OUT and call.status is not CallStatus.CONNECTED:
                _ended(ctx, call, Mode.BUSY, f"{call.peer_name} declined")
            else:
                _ended(ctx, call, Mode.DIALING, "Call ended")
        case _:
            # HOLD/UNHOLD echo our own commands; held is tracked from what we asked for.
            pass


def _ended(ctx: _Step, call: Call, then: Mode, notice: str) -> None:
    """A call ended from the far side (or failed); ``then`` is where the handset goes if it was ours."""
    before = ctx.phone
    _drop(ctx, ctx.phone.call(call.id) or call, notice)
    was_active = call.id == before.active
    if before.consult == call.id:
        ctx.set(consult=None)
    if before.conference:
        remaining = ctx.phone.calls[0].id if ctx.phone.calls else None
        ctx.set(conference=False, consult=None, active=remaining)
        if remaining is not None:
            return
    if not ctx.phone.off_hook:
        if ctx.phone.mode is Mode.RINGING and not (ctx.phone.waiting or ctx.phone.held):
            ctx.set(mode=Mode.IDLE)
        return
    if not was_active or ctx.phone.mode not in (Mode.CALLING, Mode.TALKING):
        return
    ctx.set(active=None)
    if then is Mode.DIALING:
        _dial_tone(ctx, notice)
    else:
        _signal(ctx, then, notice)


def _drop(ctx: _Step, call: Call, reason: str) -> None:
    ctx.set(calls=tuple(c for c in ctx.phone.calls if c.id != call.id))
    duration = ctx.now - call.connected_at if call.connected_at is not None else 0.0
    if call.direction is Direction.OUT:
        kind = "outgoing"
    elif call.status is CallStatus.RINGING_IN:
        kind = "missed"
        ctx.set(missed=ctx.phone.missed + 1)
    else:
        kind = "incoming"
    ctx.emit(fx.LogCall(kind, call.peer_uri, call.peer_name, reason, round(duration, 3)))


def _answer(ctx: _Step, call: Call) -> None:
    forwarding.cancel_no_answer(ctx, call.id)
    ctx.emit(fx.Accept(call.id))
    ctx.update_call(call.id, status=CallStatus.ANSWERING)
    ctx.set(mode=Mode.TALKING, active=call.id, digits="", notice="")
    ctx.cancel(DIGIT)
    ctx.cancel(PROGRESS)


def _resume(ctx: _Step, call: Call) -> None:
    ctx.emit(fx.Resume(call.id))
    ctx.update_call(call.id, held=False)
    ctx.set(mode=Mode.TALKING, active=call.id, consult=None, digits="", notice="")
    ctx.cancel(DIGIT)
    ctx.cancel(PROGRESS)


def _on_conference(ctx: _Step, event: ConferenceFormed) -> None:
    if all(ctx.phone.call(c) for c in event.calls) and len(event.calls) > 1:
        for call_id in event.calls:
            ctx.update_call(call_id, held=False)
        ctx.set(conference=True)


_FAILURES = {
    404: "Number not found",
    408: "No answer",
    480: "Not reachable now",
    486: "Busy",
    488: "Call not possible",
    503: "Service unavailable",
}


def _failure_words(code: int) -> str:
    return _FAILURES.get(code, "Call failed")


# --- signals and timers ----------------------------------------------------------------------


def _dial_tone(ctx: _Step, notice: str = "") -> None:
    ctx.cancel(PROGRESS)
    ctx.set(mode=Mode.DIALING, digits="", notice=notice)
    ctx.arm(DIGIT, ctx.phone.settings.first_digit_s)


def _signal(ctx: _Step, mode: Mode, notice: str) -> None:
    ctx.cancel(DIGIT)
    ctx.set(mode=mode, notice=notice)
    ctx.arm(PROGRESS, ctx.phone.settings.reorder_s)


def _confirm(ctx: _Step, notice: str) -> None:
    ctx.cancel(DIGIT)
    ctx.set(mode=Mode.CONFIRM, digits="", notice=notice)
    ctx.arm(PROGRESS, ctx.phone.settings.confirm_s)


def _on_timer(ctx: _Step, event: TimerExpired) -> None:
    deadline = ctx.phone.deadline(event.name)
    if deadline is None or deadline > ctx.now + 1e-6:
        return  # cancelled or re-armed after this expiry was sent
    ctx.set(timers=tuple(t for t in ctx.phone.timers if t[0] != event.name))
    phone = ctx.phone
    if event.name == HOOK and phone.hook.opened_at is not None:
        _end_rotary_digit(ctx)
        _hung_up(ctx)
    elif event.name == PULSE:
        _end_rotary_digit(ctx)
    elif event.name == HANDSET_TEST:
        ctx.set(handset_test=False)
    elif event.name == CIDCW:
        _cidcw_timer(ctx)
    elif voicemail.timer(ctx, event.name):
        pass
    elif event.name == voicemenu.IDLE and phone.mode is Mode.MENU:
        _menu(ctx, voicemenu.Turn(None))
    elif event.name == hotline.TIMER and hotline.due(phone):
        _hotline(ctx)
    elif event.name.startswith(forwarding.NO_ANSWER_TIMER) and forwarding.no_answer_expired(ctx, event.name):
        if not ctx.phone.off_hook and not (ctx.phone.waiting or ctx.phone.held):
            ctx.set(mode=Mode.IDLE)
    elif event.name == DIGIT and phone.mode is Mode.DIALING:
        if phone.digits:
            _send(ctx)
        elif phone.held:  # nobody dialed on the second dial tone: back to the held party
            _resume(ctx, phone.held)
        else:
            _signal(ctx, Mode.REORDER, "No number dialed")
    elif event.name == PROGRESS:
        if phone.mode is Mode.CONFIRM:
            _dial_tone(ctx, phone.notice)
        elif phone.mode in (Mode.BUSY, Mode.REORDER):
            ctx.set(mode=Mode.HOWLER, notice="Please hang up")
            ctx.arm(PROGRESS, phone.settings.howler_s)
        elif phone.mode is Mode.HOWLER:
            ctx.set(mode=Mode.SILENT)


# --- the world around the phone --------------------------------------------------------------


def _on_account(ctx: _Step, event: AccountChanged) -> None:
    others = tuple(a for a in ctx.phone.accounts if a.id != event.account.id)
    ctx.set(accounts=others if event.removed else (*others, event.account))


def _on_voicemail(ctx: _Step, event: VoicemailChanged) -> None:
    others = tuple(v for v in ctx.phone.voicemail if v[0] != event.account)
    ctx.set(voicemail=(*others, (event.account, event.waiting)) if event.waiting else others)


_SAVED_FEATURES = ("dnd", "private_mode", "call_waiting")


def _on_feature_not_saved(ctx: _Step, event: FeatureNotSaved) -> None:
    """A star code whose save failed is undone; while its confirmation still sounds, the caller
    hears reorder and reads why instead (nothing is claimed that a restart would lose)."""
    kind = event.name.removeprefix("forwarding.")
    if kind != event.name and kind in forwarding.KINDS and isinstance(event.was, str):
        ctx.set(forwarding=forwarding.with_destination(ctx.phone.forwarding, kind, event.was))
    elif event.name in _SAVED_FEATURES:
        ctx.set(**{event.name: event.was})
    elif event.name == voicemail.SAVED and isinstance(event.was, bool):
        voicemail.switch(ctx, event.was, save=False)
    else:
        return
    if ctx.phone.mode is Mode.CONFIRM:
        _signal(ctx, Mode.REORDER, f"Not saved: {event.reason}")


def _on_handset_test(ctx: _Step, event: HandsetTestRequested) -> None:
    ctx.set(handset_test=True)
    ctx.arm(HANDSET_TEST, max(0.1, event.seconds))


def _on_setup_code(ctx: _Step, event: SetupCodeChanged) -> None:
    ctx.set(setup_code=event.code, page_address=event.address if event.code else "")


def _on_device(ctx: _Step, event: DeviceInfoChanged) -> None:
    ctx.set(device=event.info)


def _on_notices(ctx: _Step, event: NoticesChanged) -> None:
    ctx.set(notices=max(0, event.count))


def _on_clock(ctx: _Step, event: ClockRead) -> None:
    ctx.set(clock=(event.seconds % 86400, ctx.now))


def _on_trust(ctx: _Step, event: TrustRequestsChanged) -> None:
    ctx.set(trust_pending=max(0, event.pending))


def _on_invitations(ctx: _Step, event: InvitationsChanged) -> None:
    ctx.set(invitations=event.conversations)


def _on_contacts(ctx: _Step, event: ContactsChanged) -> None:
    ctx.set(contacts=event.contacts)


def _on_trusted(ctx: _Step, event: TrustedContactsChanged) -> None:
    ctx.set(trusted=event.contacts)


def _on_settings(ctx: _Step, event: SettingsChanged) -> None:
    s = event.settings
    ctx.set(settings=s, dnd=s.dnd, private_mode=s.private_mode, call_waiting=s.call_waiting,
            forwarding=s.forwarding)  # fmt: skip


def _on_lost(ctx: _Step, event: TelephonyLost) -> None:
    del event
    for call in ctx.phone.calls:
        _drop(ctx, call, "phone service lost")
    forwarding.lost(ctx)
    ctx.set(telephony_up=False, active=None, consult=None, conference=False)
    voicemail.lost(ctx)
    if ctx.phone.mode is Mode.MENU:
        return  # the menu goes on: it is how the owner learns what is wrong (3 says so)
    if ctx.phone.off_hook:
        _signal(ctx, Mode.REORDER, "Phone service is restarting")
    else:
        ctx.set(mode=Mode.IDLE)


def _on_restored(ctx: _Step, event: TelephonyRestored) -> None:
    del event
    ctx.set(telephony_up=True)
    phone = ctx.phone
    if phone.off_hook and not phone.calls and phone.mode in _PROGRESS_MODES:
        _dial_tone(ctx)


_HANDLERS: dict[type, Callable[[_Step, Any], None]] = {
    HookChanged: _on_hook_changed,
    KeyPressed: _on_key,
    TimerExpired: _on_timer,
    CallArrived: _on_incoming,
    CallStateChanged: _on_call_state,
    ConferenceFormed: _on_conference,
    AccountChanged: _on_account,
    VoicemailChanged: _on_voicemail,
    TrustRequestsChanged: _on_trust,
    InvitationsChanged: _on_invitations,
    ContactsChanged: _on_contacts,
    TrustedContactsChanged: _on_trusted,
    SettingsChanged: _on_settings,
    TelephonyLost: _on_lost,
    TelephonyRestored: _on_restored,
    FeatureNotSaved: _on_feature_not_saved,
    NoticesChanged: _on_notices,
    SetupCodeChanged: _on_setup_code,
    HandsetTestRequested: _on_handset_test,
    DeviceInfoChanged: _on_device,
    ClockRead: _on_clock,
    GreetingEnded: voicemail.greeting_ended,
    CallerFinished: voicemail.caller_finished,
    MessagesChanged: voicemail.messages_changed,
    AlertSent: _on_alert_sent,
}
