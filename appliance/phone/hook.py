"""The hook switch: lifting, hanging up, hook flashes and rotary pulses.

Hook switch timing is decoded from debounced edges stamped with the time they happened: an on-hook
interval shorter than ``pulse_min`` is bounce, up to ``flash_min`` a rotary pulse, up to
``flash_max`` a hook flash, and longer a hang-up (decided by a timer, without waiting for the
handset to come back).
"""

from __future__ import annotations

from dataclasses import replace

from . import calls, car, dialing, forwarding, greeting, hotline, line, progress, voicemail, voicemenu
from . import effects as fx
from .context import Step
from .directory import Unreachable
from .events import HookChanged
from .model import CallStatus, HookTrack, Mode

HOOK = "hook"  # on hook long enough to be a hang-up
PULSE = "pulse"  # closed long enough to end a rotary digit


def on_hook_changed(ctx: Step, event: HookChanged) -> None:
    if line.noted(ctx, event) or car.noted(ctx, event):
        return
    phone, settings = ctx.phone, ctx.phone.settings
    if not event.off_hook:
        if phone.off_hook and phone.hook.opened_at is None:
            ctx.set(hook=replace(phone.hook, opened_at=event.at))
            ctx.cancel(PULSE)
            ctx.arm(HOOK, settings.flash_max_s - (ctx.now - event.at))
        return
    if not phone.off_hook:
        lifted(ctx)
        return
    opened = phone.hook.opened_at
    if opened is None:
        return
    ctx.cancel(HOOK)
    ctx.set(hook=replace(phone.hook, opened_at=None))
    duration = event.at - opened
    if duration >= settings.flash_max_s:  # the hang-up timer was overtaken by the lift itself
        hung_up(ctx)
        lifted(ctx)
    elif duration >= settings.flash_min_s:
        end_rotary_digit(ctx)
        _flashed(ctx)
    elif settings.pulse_dialing and duration >= settings.pulse_min_s:
        if ctx.phone.hook.pulses == 0:
            ctx.cancel(progress.DIGIT)  # a slow dial's '0' takes over a second: hold the interdigit timer
        ctx.set(hook=replace(ctx.phone.hook, pulses=ctx.phone.hook.pulses + 1))
        ctx.arm(PULSE, settings.pulse_digit_gap_s - (ctx.now - event.at))


def loop_closed(ctx: Step) -> None:
    """The line's loop current is back after a far-end clear: the hook as last seen meanwhile
    counts now. On hook through it is a hang-up (no flash: nothing is left to flash to); off hook
    again ends an interval the switch had opened just before."""
    seen = line.closed(ctx)
    if seen is None:
        return
    if ctx.phone.off_hook:
        ctx.cancel(HOOK)
        ctx.set(hook=replace(ctx.phone.hook, opened_at=None))
        if not seen:
            hung_up(ctx)
    elif seen:
        lifted(ctx)


def end_rotary_digit(ctx: Step) -> None:
    pulses = ctx.phone.hook.pulses
    if not pulses:
        return
    ctx.cancel(PULSE)
    ctx.set(hook=replace(ctx.phone.hook, pulses=0))
    if pulses <= 10:  # more than ten is not a digit: a rattled hook, ignored
        dialing.press(ctx, "0" if pulses == 10 else str(pulses))


def lifted(ctx: Step) -> None:
    ctx.set(off_hook=True, hook=HookTrack(), notice="")
    phone = ctx.phone
    if not phone.telephony_up:
        progress.signal(ctx, Mode.REORDER, "Phone service is starting")
        return
    if voicemail.take_over(ctx):  # the answering machine had the call: the person takes it
        return
    if phone.waiting:
        calls.answer(ctx, phone.waiting)
    elif phone.held:
        calls.resume(ctx, phone.held)
    elif (caller := forwarding.pick_up(ctx)) is not None:
        calls.answer(ctx, caller)
    else:
        progress.dial_tone(ctx)
        wait = hotline.delay(ctx.phone)
        if wait == 0:
            hotline_call(ctx)
        elif wait is not None:
            ctx.arm(hotline.TIMER, wait)


def hotline_call(ctx: Step) -> None:
    target = hotline.target(ctx.phone)
    if isinstance(target, Unreachable):
        progress.signal(ctx, Mode.REORDER, target.message)
    else:
        calls.place(ctx, target)


def hung_up(ctx: Step) -> None:
    phone = ctx.phone
    for name in (progress.DIGIT, progress.PROGRESS, HOOK, PULSE, hotline.TIMER):
        ctx.cancel(name)
    ctx.cancel(voicemenu.IDLE)
    greeting.hung_up(ctx)  # a greeting being recorded ends, and is kept
    ctx.set(off_hook=False, hook=HookTrack(), digits="", notice="", call_waiting_cancelled=False, menu=None)
    talking = [c for c in phone.calls if c.status is CallStatus.CONNECTED]
    if phone.conference and phone.settings.conference_transfer and len(talking) == 2:
        ctx.emit(fx.Transfer((talking[0].id, talking[1].id)))
        for call in talking:
            calls.drop(ctx, call, "transferred")
        phone = ctx.phone
    for call in phone.calls:
        # A waiting call goes on ringing and a held call rings back (recall); the rest end.
        if call.status is CallStatus.RINGING_IN or (call.held and not phone.conference):
            continue
        if voicemail.owns(phone, call):  # the answering machine's call goes on without the handset
            continue
        ctx.emit(fx.HangUp(call.id))
        calls.drop(ctx, call, "hung up")
    ctx.set(active=None, consult=None, conference=False)
    ctx.set(mode=Mode.RINGING if ctx.phone.calls else Mode.IDLE)


def _flashed(ctx: Step) -> None:
    phone = ctx.phone
    held, waiting, active = phone.held, phone.waiting, phone.active_call
    if phone.mode in (Mode.DIALING, Mode.CONFIRM, *progress.PROGRESS_MODES):
        if held:
            calls.resume(ctx, held)
        elif waiting:
            calls.answer(ctx, waiting)
        else:
            progress.dial_tone(ctx)
    elif phone.mode is Mode.CALLING:
        if held and active:  # give up on the second party, back to the first
            ctx.emit(fx.HangUp(active.id))
            calls.drop(ctx, active, "cancelled")
            calls.resume(ctx, held)
    elif phone.mode is Mode.TALKING and active:
        if phone.conference and phone.consult:  # flash in a 3-way call drops the party added last
            consult = phone.call(phone.consult)
            if consult:
                ctx.emit(fx.HangUp(consult.id))
                calls.drop(ctx, consult, "dropped from conference")
            remaining = ctx.phone.calls[0].id if ctx.phone.calls else None
            ctx.set(conference=False, consult=None, active=remaining)
        elif waiting:  # answer the waiting call, hold this one
            ctx.emit(fx.Hold(active.id))
            ctx.update_call(active.id, held=True)
            calls.answer(ctx, waiting)
        elif held and phone.consult == active.id:  # second flash of a 3-way call: join everyone
            ctx.emit(fx.Conference((held.id, active.id)))
            ctx.update_call(held.id, held=False)
            ctx.set(conference=True)
        elif held:  # swap between two calls
            ctx.emit(fx.Hold(active.id))
            ctx.update_call(active.id, held=True)
            calls.resume(ctx, held)
        else:  # hold and give a second dial tone
            ctx.emit(fx.Hold(active.id))
            ctx.update_call(active.id, held=True)
            ctx.set(active=None)
            progress.dial_tone(ctx)
