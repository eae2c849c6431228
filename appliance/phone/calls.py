"""The phone's calls once they exist: placing one, answering, resuming, dropping, and what the
telephony core reports about each (ringing, connected, busy, failed, hung up, a conference)."""

from __future__ import annotations

from . import effects as fx
from . import forwarding, progress, voicemail
from .context import Step
from .directory import CAN_CALL
from .events import CallState, CallStateChanged, ConferenceFormed
from .model import Call, CallId, CallStatus, Direction, Mode, Target


def place(ctx: Step, target: Target) -> None:
    phone = ctx.phone
    account = next((a for a in phone.accounts if a.id == target.account), None)
    if account is None or account.registration not in CAN_CALL:
        progress.signal(ctx, Mode.REORDER, "Account not connected")
        return
    call_id = CallId(f"out-{phone.next_call}")
    call = Call(call_id, Direction.OUT, target.uri, target.name, target.account, CallStatus.CONNECTING)
    ctx.cancel(progress.DIGIT)
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


def on_call_state(ctx: Step, event: CallStateChanged) -> None:
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
        case CallState.FAILURE if call.status is CallStatus.CONNECTED:
            _ended(ctx, call, Mode.REORDER, "Call lost")  # the far end vanished (or the network)
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


def _ended(ctx: Step, call: Call, then: Mode, notice: str) -> None:
    """A call ended from the far side (or failed); ``then`` is where the handset goes if it was ours."""
    before = ctx.phone
    drop(ctx, ctx.phone.call(call.id) or call, notice)
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
        progress.dial_tone(ctx, notice)
    else:
        progress.signal(ctx, then, notice)


def drop(ctx: Step, call: Call, reason: str) -> None:
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


def answer(ctx: Step, call: Call) -> None:
    forwarding.cancel_no_answer(ctx, call.id)
    ctx.emit(fx.Accept(call.id))
    ctx.update_call(call.id, status=CallStatus.ANSWERING)
    ctx.set(mode=Mode.TALKING, active=call.id, digits="", notice="")
    ctx.cancel(progress.DIGIT)
    ctx.cancel(progress.PROGRESS)


def resume(ctx: Step, call: Call) -> None:
    ctx.emit(fx.Resume(call.id))
    ctx.update_call(call.id, held=False)
    ctx.set(mode=Mode.TALKING, active=call.id, consult=None, digits="", notice="")
    ctx.cancel(progress.DIGIT)
    ctx.cancel(progress.PROGRESS)


def on_conference(ctx: Step, event: ConferenceFormed) -> None:
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
