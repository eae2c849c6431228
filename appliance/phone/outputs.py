"""What the phone puts out, derived from its state rather than commanded case by case.

The tone in the handset (:func:`tone_of`), the ringer (:func:`ringer_of`) and the line's polarity
(:func:`line_reversed`) are functions of the state, and every step emits the difference
(:func:`changes`). So the ringer cannot be left ringing off hook, and two tones can never play at
once. The message lamp and declined group invitations follow the state the same way.
"""

from __future__ import annotations

from . import car, voicemenu
from . import effects as fx
from .callerid import Alert, presentation_for
from .context import Step
from .model import CallStatus, Mode, Phone
from .tones import Tone


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
        if car.silent(phone):  # NTT: the phone takes the data, or has just released the line
            return None
        caller = phone.waiting.caller_id if car.ringing_caller(phone) else None
        return fx.StartRinger(caller=caller, cadence=phone.waiting.ring)
    if phone.held:
        return fx.StartRinger(recall=True)
    return None


def line_reversed(phone: Phone) -> bool:
    """Whether the line's polarity is reversed: while the handset talks on a connected call."""
    return phone.off_hook and any(c.status is CallStatus.CONNECTED for c in phone.calls)


def changes(before: Phone, after: Phone) -> list[fx.Effect]:
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


def declined(before: Phone, after: Phone) -> list[fx.Effect]:
    """In private mode the phone joins no group conversation: an invitation is declined as it
    arrives, and every pending one when private mode is turned on (by star code or the page)."""
    if not after.private_mode:
        return []
    fresh = [c for c in after.invitations if not before.private_mode or c not in before.invitations]
    return [fx.DeclineInvitation(c) for c in fresh]


def message_lamp(ctx: Step) -> None:
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
