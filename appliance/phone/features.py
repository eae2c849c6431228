"""What a star code does (do not disturb, private mode, call waiting, forwarding, redial, call
return, the answering machine), and the turns of the voice menus it opens."""

from __future__ import annotations

from . import calls, forwarding, greeting, progress, voicemail, voicemenu
from . import effects as fx
from .context import Step
from .model import Feature, Mode


def _forwarding_code(ctx: Step, feature: Feature, number: str) -> bool:
    """A forwarding star code: True if it was one (then it is done)."""
    code = forwarding.star_code(feature)
    if code is None:
        return False
    kind, on = code
    if on and not number:
        progress.signal(ctx, Mode.REORDER, "Dial the code, then the number")
        return True
    was = forwarding.destination(ctx.phone.forwarding, kind)
    to = number if on else ""
    ctx.set(forwarding=forwarding.with_destination(ctx.phone.forwarding, kind, to))
    ctx.emit(fx.SaveForwarding(kind, to, was=was))
    progress.confirm(ctx, forwarding.confirmation(kind, to))
    return True


def apply(ctx: Step, feature: Feature, number: str = "") -> None:
    phone = ctx.phone
    if _forwarding_code(ctx, feature, number):
        return
    match feature:
        case Feature.DND_ON | Feature.DND_OFF:
            on = feature is Feature.DND_ON
            ctx.set(dnd=on)
            ctx.emit(fx.SaveFeature("dnd", on, was=phone.dnd))
            progress.confirm(ctx, f"Do not disturb {'on' if on else 'off'}")
        case Feature.PRIVATE_ON | Feature.PRIVATE_OFF:
            on = feature is Feature.PRIVATE_ON
            ctx.set(private_mode=on)
            ctx.emit(fx.SaveFeature("private_mode", on, was=phone.private_mode))
            progress.confirm(ctx, "Private: only contacts ring" if on else "Private mode off")
        case Feature.CALL_WAITING_ON | Feature.CALL_WAITING_OFF:
            on = feature is Feature.CALL_WAITING_ON
            ctx.set(call_waiting=on)
            ctx.emit(fx.SaveFeature("call_waiting", on, was=phone.call_waiting))
            progress.confirm(ctx, f"Call waiting {'on' if on else 'off'}")
        case Feature.CALL_WAITING_CANCEL:
            ctx.set(call_waiting_cancelled=True)
            progress.confirm(ctx, "No call waiting on this call")
        case Feature.REDIAL:
            if phone.last_dialed is None:
                progress.signal(ctx, Mode.REORDER, "Nothing to redial")
            else:
                calls.place(ctx, phone.last_dialed)
        case Feature.CALL_RETURN:
            if phone.last_caller is None:
                progress.signal(ctx, Mode.REORDER, "No call to return")
            else:
                calls.place(ctx, phone.last_caller)
        case Feature.VOICE_MENU:
            menu(ctx, voicemenu.opened(phone))
        case Feature.MESSAGES:
            menu(ctx, voicemail.listen(phone))
        case Feature.VOICEMAIL_ON | Feature.VOICEMAIL_OFF:
            on = feature is Feature.VOICEMAIL_ON
            voicemail.switch(ctx, on)
            progress.confirm(ctx, f"Answering machine {'on' if on else 'off'}")
        case Feature.GREETING_RECORD:
            menu(ctx, greeting.opened(phone))
        case Feature.GREETING_DEFAULT:
            greeting.use_default(ctx)
            progress.confirm(ctx, "Spoken greeting")


def menu(ctx: Step, turn: voicemenu.Turn) -> None:
    """The voice menu after a key (or its opening): what it says next, or back to dial tone."""
    ctx.emit(*turn.effects)
    if any(isinstance(effect, fx.RecordGreeting) for effect in turn.effects):
        ctx.arm(greeting.TIMER, greeting.MAX_S)  # the longest greeting
    if turn.menu is None:
        ctx.cancel(voicemenu.IDLE)
        ctx.cancel(greeting.TIMER)
        ctx.set(menu=None)
        if turn.place is not None:
            calls.place(ctx, turn.place)  # a message's caller called back
        else:
            progress.dial_tone(ctx)
    else:
        ctx.cancel(progress.DIGIT)
        ctx.cancel(progress.PROGRESS)
        level = turn.menu.level
        notice = (
            "Messages" if level == "messages" else "Greeting" if level in greeting.LEVELS else "Voice menu"
        )
        ctx.set(mode=Mode.MENU, menu=turn.menu, digits="", notice=notice)
        ctx.arm(voicemenu.IDLE, turn.idle_s)
