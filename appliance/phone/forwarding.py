"""Call forwarding, done by the phone: the Jami daemon has none.

The phone answers and transfers. The caller's call is left unanswered, so the caller hears
ringback, while the phone calls the destination. When the destination answers, the phone accepts
the caller and connects the two calls through this device (the
:class:`~appliance.phone.effects.Bridge` command), and the handset is out of it. When either party
hangs up, the phone hangs up the other. If the destination is busy, fails or never answers, the
caller is refused, as a busy line would be.

The calls are connected through this device rather than handed over with a SIP REFER (jamid's
``transfer``/``attendedTransfer``). A REFER asks the caller's own client to call the destination
from its own account: a Jami caller cannot reach a SIP destination that way. Tried between three
real daemons, the caller's call ended and the new one was not a call its phone knew. The bridge
works for any caller and any destination this phone can call. Its price: both calls' audio passes
through this device while they talk, and the destination sees this phone calling, not the caller.

Refuse-and-redirect does not work here. jamid's ``refuse`` declines a call and says nothing about
where to go: its API has no 302 with a Contact, and a Jami caller could not follow one anyway.
Answering after the destination does also means a caller is never answered into silence when the
destination is away, and the phone can check the destination (an account that can reach it)
before it takes the call from the ringer.

Pure functions, and the acts on a call that ``incoming.py``, ``calls.py`` and ``features.py`` call
with the step in progress.
"""

from __future__ import annotations

from dataclasses import replace

from . import effects as fx
from .context import Step
from .directory import Unreachable, reach
from .events import CallState, CallStateChanged
from .model import Call, CallId, CallStatus, Feature, Forwarding, ForwardLeg, Phone

ALWAYS = "always"
BUSY = "busy"
NO_ANSWER = "no_answer"
KINDS = (ALWAYS, BUSY, NO_ANSWER)

NO_ANSWER_TIMER = "no_answer "  # + the ringing call's id: forward it when this runs out

# Star-code features -> (kind, on).
_CODES = {
    Feature.FORWARD_ALWAYS: (ALWAYS, True),
    Feature.FORWARD_ALWAYS_OFF: (ALWAYS, False),
    Feature.FORWARD_BUSY: (BUSY, True),
    Feature.FORWARD_BUSY_OFF: (BUSY, False),
    Feature.FORWARD_NO_ANSWER: (NO_ANSWER, True),
    Feature.FORWARD_NO_ANSWER_OFF: (NO_ANSWER, False),
}

_WORDS = {ALWAYS: "all calls", BUSY: "when busy", NO_ANSWER: "on no answer"}


def star_code(feature: Feature) -> tuple[str, bool] | None:
    """The forwarding a star code switches, and whether on; None for other features."""
    return _CODES.get(feature)


def code_with_number(phone: Phone, digits: str) -> tuple[str, Feature] | None:
    """``(code, feature)`` when ``digits`` start with a star code that takes a number (``*72``)."""
    for code, feature in phone.settings.star_codes:
        if feature.takes_number and digits.startswith(code):
            return code, feature
    return None


def destination(rules: Forwarding, kind: str) -> str:
    return str(getattr(rules, kind))


def with_destination(rules: Forwarding, kind: str, to: str) -> Forwarding:
    return replace(rules, **{kind: to})  # type: ignore[arg-type]


def confirmation(kind: str, to: str) -> str:
    """Plain words for the display once a star code changed forwarding."""
    if not to:
        return f"Forwarding {_WORDS[kind]} off"
    return f"Forwarding {_WORDS[kind]} to {to}"


def leg_of(phone: Phone, call: str) -> ForwardLeg | None:
    """The forwarding that ``call`` (the caller's call or our leg to the destination) belongs to."""
    return next((f for f in phone.forwards if call in (f.leg, f.caller.id)), None)


def without(phone: Phone, forward: ForwardLeg) -> tuple[ForwardLeg, ...]:
    return tuple(f for f in phone.forwards if f.leg != forward.leg)


# --- acting on a call (the machine calls these with its step in progress) ------------------------

_ENDED = (CallState.BUSY, CallState.PEER_BUSY, CallState.FAILURE, CallState.HUNGUP, CallState.OVER)


def start(ctx: Step, caller: Call, kind: str) -> bool:
    """Forward ``caller`` if forwarding ``kind`` is set and its destination can be called;
    False (nothing done) otherwise, and the call rings or is refused as without forwarding."""
    phone = ctx.phone
    to = destination(phone.forwarding, kind)
    if not to:
        return False
    target = reach(to, phone.contacts, phone.accounts, phone.settings.digits_account)
    if isinstance(target, Unreachable):
        return False
    leg = CallId(f"fwd-{phone.next_call}")
    forward = ForwardLeg(replace(caller, status=CallStatus.RINGING_IN), leg, target.uri, kind)
    ctx.set(forwards=(*phone.forwards, forward), next_call=phone.next_call + 1)
    ctx.emit(fx.Forward(caller.id, target.uri), fx.PlaceCall(leg, target.account, target.uri))
    return True


def arm_no_answer(ctx: Step, call: Call) -> None:
    if ctx.phone.forwarding.no_answer:
        ctx.arm(NO_ANSWER_TIMER + call.id, ctx.phone.forwarding.no_answer_s)


def cancel_no_answer(ctx: Step, call: CallId) -> None:
    ctx.cancel(NO_ANSWER_TIMER + call)


def no_answer_expired(ctx: Step, timer: str) -> bool:
    """The call rang ``no_answer_s`` unanswered: True if it is now forwarded (no longer ringing)."""
    waiting = ctx.phone.waiting
    if waiting is None or NO_ANSWER_TIMER + waiting.id != timer:
        return False
    if not start(ctx, waiting, NO_ANSWER):
        return False
    ctx.set(calls=tuple(c for c in ctx.phone.calls if c.id != waiting.id))
    return True


def on_state(ctx: Step, forward: ForwardLeg, event: CallStateChanged) -> None:
    """A state of either call of a forwarding: the caller is accepted once the destination
    answers, then both are connected; either side ending ends the other."""
    caller = forward.caller
    ours = event.call == forward.leg
    if event.state in _ENDED:
        if forward.connected_at is not None:  # one of the two hung up: so does the other
            ctx.emit(fx.HangUp(caller.id if ours else forward.leg))
            duration = round(ctx.now - forward.connected_at, 3)
            _done(ctx, forward, "forwarded", f"to {forward.to} ({forward.why.replace('_', ' ')})", duration)
        elif ours:  # the destination did not take it
            ctx.emit(fx.HangUp(caller.id) if forward.bridging else fx.Refuse(caller.id, "forward failed"))
            _done(ctx, forward, "missed", f"forwarded to {forward.to}: not answered there")
        else:
            ctx.emit(fx.HangUp(forward.leg))
            _done(ctx, forward, "missed", "hung up while forwarded")
    elif event.state is CallState.CURRENT and ours and not forward.bridging:
        ctx.emit(fx.Accept(caller.id))
        _update(ctx, replace(forward, bridging=True))
    elif event.state is CallState.CURRENT and not ours and forward.bridging and forward.connected_at is None:
        ctx.emit(fx.Bridge((caller.id, forward.leg)))
        _update(ctx, replace(forward, connected_at=ctx.now))


def pick_up(ctx: Step) -> Call | None:
    """The handset is lifted while a call that rang here is forwarded on no answer and not yet
    answered there: the person reached the phone after all, as with a phone that just stopped
    ringing, and gets the caller (the leg to the destination is hung up); the caller, for the
    phone to answer. A forward on always or on busy never rang here, so lifting is for a call of
    one's own and must not land in a stranger's; and a connected forward is never barged into:
    those get dial tone, and the forward goes on."""
    forward = next((f for f in ctx.phone.forwards if f.why == NO_ANSWER and not f.bridging), None)
    if forward is None:
        return None
    ctx.emit(fx.HangUp(forward.leg))
    ctx.set(forwards=without(ctx.phone, forward), calls=(*ctx.phone.calls, forward.caller))
    return forward.caller


def lost(ctx: Step) -> None:
    """The telephony core went away: every forwarding with it."""
    for forward in ctx.phone.forwards:
        _done(ctx, forward, "missed" if forward.connected_at is None else "forwarded", "phone service lost")


def _update(ctx: Step, forward: ForwardLeg) -> None:
    ctx.set(forwards=tuple(forward if f.leg == forward.leg else f for f in ctx.phone.forwards))


def _done(ctx: Step, forward: ForwardLeg, kind: str, reason: str, duration: float = 0.0) -> None:
    ctx.set(forwards=without(ctx.phone, forward))
    caller = forward.caller
    ctx.emit(fx.LogCall(kind, caller.peer_uri, caller.peer_name, reason, duration))
