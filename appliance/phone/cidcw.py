"""Caller ID on call waiting (CIDCW): mute the call, the alert after the call-waiting tone's
bursts, the phone's DTMF acknowledgement, then the waiting caller's data; any end of the waiting
ends it."""

from __future__ import annotations

from . import effects as fx
from .callerid import Standard
from .context import Step
from .events import AlertSent
from .model import Call, CallStatus
from .tones import PLANS, Tone

TIMER = "cidcw"  # caller ID on call waiting: the call-waiting tone, the alert and ack window, the data


# Caller ID on call waiting (GR-575-CORE, EN 300 659-2): after the call-waiting tone's first burst
# the alert (80 ms), then the phone's DTMF D or A, then the data (under 0.5 s for the longest MDMF
# message, sent 60 ms after the ack); the far end is muted throughout. The ack's window opens when
# the line driver reports the alert out (AlertSent), not when it is asked for: the player opens its
# device and buffers four 20 ms periods first. The phone starts its ack within 100 ms of the
# alert's end and holds it 55-65 ms; the line's DTMF detector reads 100 ms blocks, so the key
# arrives up to a block after the ack is heard; 35 ms more for the report's own lateness (a period).
ALERT_S = 1.0  # the alert not reported out by then (a player error, no codec): give up
ACK_S = 0.100 + 0.065 + 0.100 + 0.035
SEND_S = 0.8
ACKS = ("D", "A")


def start(ctx: Step, call: Call) -> None:
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
    ctx.arm(TIMER, sum(b.duration_ms or 0 for b in bursts) / 1000)


def expired(ctx: Step) -> None:
    phone = ctx.phone
    waiting = phone.waiting
    if phone.cidcw == "tone" and waiting is not None and waiting.caller_id is not None:
        ctx.set(cidcw="alert")
        ctx.emit(fx.AlertWaiting(waiting.caller_id.presentation))
        ctx.arm(TIMER, ALERT_S)
    else:  # no ack in time (the phone cannot show it), or the data has gone: the call goes on
        _end(ctx)


def on_alert_sent(ctx: Step, event: AlertSent) -> None:
    """The alert is on the line: the phone's ack is due from now."""
    del event
    if ctx.phone.cidcw == "alert":
        ctx.arm(TIMER, ACK_S)


def ack(ctx: Step) -> None:
    waiting = ctx.phone.waiting
    assert waiting is not None
    assert waiting.caller_id is not None
    ctx.set(cidcw="send")
    ctx.emit(fx.SendWaitingCaller(waiting.caller_id))
    ctx.arm(TIMER, SEND_S)


def _end(ctx: Step) -> None:
    muted = ctx.phone.cidcw_muted
    ctx.cancel(TIMER)
    ctx.set(cidcw="", cidcw_muted=None)
    if muted is not None:  # even for a call gone: the far end's voice is muted for the whole device
        ctx.emit(fx.Mute(muted, on=False))


def guard(ctx: Step) -> None:
    """Whatever ends the waiting (answered, gone, a flash, a hang-up) ends the presentation."""
    phone = ctx.phone
    if phone.cidcw and (phone.waiting is None or not phone.off_hook or phone.active != phone.cidcw_muted):
        _end(ctx)
