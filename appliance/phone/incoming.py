"""A call arrives: screened (private mode, do not disturb, quiet hours, blocks), forwarded,
refused as busy, taken by the answering machine, or left ringing (or waiting, during a call)."""

from __future__ import annotations

from . import cidcw, emergency, forwarding, screening, voicemail
from . import effects as fx
from .callerid import caller_id_for, presentation_for
from .context import Step
from .directory import caller_name, find_contact
from .events import CallArrived
from .model import Call, CallStatus, Direction, Mode, Phone, Target


def on_arrived(ctx: Step, event: CallArrived) -> None:
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
            minute=phone.local_minute(ctx.now) if phone.clock_synced else None,
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
        cidcw.start(ctx, call)


def _busy(phone: Phone) -> bool:
    """Whether another call cannot ring now (or wait, during a call)."""
    if phone.off_hook:
        can_wait = phone.call_waiting and not phone.call_waiting_cancelled
        return phone.mode is not Mode.TALKING or not can_wait or bool(phone.waiting) or len(phone.calls) >= 2
    return bool(phone.calls)
