"""NTT's caller ID handshake (Japan, Number Display): the phone answers the CAR signal first.

The exchange reverses the line and rings it with the CAR signal (500 ms on, 500 ms off); a phone
that can show the caller closes its loop (the "primary response", within 6 s) without ringing,
takes the data (V.23 FSK) with its loop closed, and opens it again ("reception complete"); then
the ordinary ring (IR) starts. A phone that cannot (a bell) just hears the short rings for 6 s.
Sources: NTT's own description as retold by Japanese carriers' guides (CAR 0.5 s / 0.5 s, 6 s for
the primary response, the reception-complete signal, then the ring) and Infineon's TAPI driver,
which cites NTT's "Telephone Service Interfaces" 5th edition for its defaults: 100 ms between the
reversal and the CAR, 100 ms from the primary response to the data, 7 s for the phone to open its
loop after the data, 300 ms from then to the ring.

While this runs the handset is not lifted: the loop closing is the phone's machinery, not a
person, so the hook edges are this handshake's (:func:`noted`), and the phone counts as on hook.
A loop still closed 7 s after the data is a person who picked up during the short rings: that
answers the call.
"""

from __future__ import annotations

from . import effects as fx
from .callerid import Alert
from .context import Step
from .events import HookChanged
from .model import Call, Mode, Phone

TIMER = "car"
AFTER_REVERSAL_MS = 100
CAR_ON_MS = 500
CAR_OFF_MS = 500
WINDOW_MS = 6000  # from the first CAR burst: the phone's primary response must come by then
PRIMARY_TO_DATA_MS = 100
RELEASE_S = 7.0  # after the data, the phone opens its loop within this
RECEIVED_TO_RING_MS = 300

# Stages: "" none, "car" the CAR signal rings, "data" the loop closed and the data sent,
# "rest" the loop open again (the ring follows), "done" the ordinary ring.
STAGES = ("", "car", "data", "rest", "done")


def presented(call: Call | None) -> bool:
    return call is not None and call.caller_id is not None and call.caller_id.presentation.alert is Alert.CAR


def follow(ctx: Step) -> None:
    """Start the handshake when an NTT caller starts ringing an idle line; drop it when that
    call no longer rings (answered, gone, or the handset lifted)."""
    phone = ctx.phone
    ringing = phone.waiting if not phone.off_hook and phone.mode is Mode.RINGING else None
    if phone.car and (ringing is None or ringing.id != phone.car_call):
        ctx.cancel(TIMER)
        ctx.set(car="", car_call=None)
    elif not phone.car and ringing is not None and presented(ringing) and phone.settings.callerid_car:
        ctx.set(car="car", car_call=ringing.id)
        ctx.arm(TIMER, (AFTER_REVERSAL_MS + WINDOW_MS) / 1000)


def noted(ctx: Step, event: HookChanged) -> bool:
    """A hook edge during the handshake is the phone's: its primary response or its reception
    complete (True); any other edge is the switch's own (False)."""
    phone = ctx.phone
    call = phone.call(phone.car_call)
    if phone.off_hook or call is None or call.caller_id is None:
        return False
    if phone.car == "car" and event.off_hook:
        ctx.set(car="data")
        ctx.arm(TIMER, RELEASE_S)
        ctx.emit(fx.SendCaller(call.caller_id))
        return True
    if phone.car == "data":
        if not event.off_hook:
            ctx.set(car="rest")
            ctx.arm(TIMER, RECEIVED_TO_RING_MS / 1000)
        return True
    return False


def expired(ctx: Step) -> bool:
    """The stage's time ran out. True when the phone was found answered (its loop still closed
    after the data): the caller then takes the hook's lift."""
    stage = ctx.phone.car
    if stage in ("car", "rest"):  # no primary response (a bell): or the ring's turn
        ctx.set(car="done")
    elif stage == "data":
        ctx.set(car="done")
        return True
    return False


def ringing_caller(phone: Phone) -> bool:
    """Whether the ring now carries the caller (the CAR signal) or is the ordinary one."""
    return phone.car in ("", "car")


def silent(phone: Phone) -> bool:
    """No ring while the phone takes the data or has just released the line."""
    return phone.car in ("data", "rest")
