"""Keys and digits: collecting them against the digit map, sending what was dialed (a number, a
star code, an emergency number), and keys during a call or a voice menu."""

from __future__ import annotations

from . import calls, cidcw, emergency, features, forwarding, greeting, hotline, progress, voicemail, voicemenu
from . import effects as fx
from .context import Step
from .dialplan import KEYS, MatchKind
from .directory import Unreachable, resolve
from .events import KeyPressed
from .model import CallStatus, Mode
from .phrases import phrase


def on_key(ctx: Step, event: KeyPressed) -> None:
    key = event.key.upper()
    if key in KEYS and ctx.phone.off_hook:
        press(ctx, key)


def press(ctx: Step, key: str) -> None:
    phone = ctx.phone
    if phone.mode in (Mode.DIALING, Mode.CONFIRM):
        _collect(ctx, key)
    elif phone.mode is Mode.MENU and phone.menu and phone.menu.level == "messages":
        features.menu(ctx, voicemail.pressed(phone, key))
    elif phone.mode is Mode.MENU and phone.menu and phone.menu.level in greeting.LEVELS:
        features.menu(ctx, greeting.pressed(phone, key))
    elif phone.mode is Mode.MENU:
        features.menu(ctx, voicemenu.pressed(phone, key, ctx.now))
    elif phone.mode is Mode.TALKING:
        if phone.cidcw == "alert" and key in cidcw.ACKS:  # the phone's ack: not for the far end
            cidcw.ack(ctx)
            return
        active = phone.active_call
        if active and active.status is CallStatus.CONNECTED:
            ctx.emit(fx.SendDtmf(active.id, key))


def _collect(ctx: Step, key: str) -> None:
    phone, settings = ctx.phone, ctx.phone.settings
    ctx.cancel(hotline.TIMER)  # a key before the warm line calls: the user dials
    if phone.mode is Mode.CONFIRM:
        ctx.cancel(progress.PROGRESS)
        ctx.set(mode=Mode.DIALING, digits="")
        phone = ctx.phone
    digits = phone.digits + key
    if emergency.dial_now(phone, digits):  # before the digit map: nothing may stand in the way
        _emergency(ctx, digits)
        return
    with_number = forwarding.code_with_number(phone, phone.digits if key == "#" else digits)
    if with_number is not None:  # a star code, then its number, ended by '#' or a pause
        if key == "#":
            features.apply(ctx, with_number[1], phone.digits.removeprefix(with_number[0]))
        else:
            ctx.set(digits=digits, notice="")
            ctx.arm(progress.DIGIT, settings.interdigit_s)
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
        ctx.arm(progress.DIGIT, settings.interdigit_s)  # on the way to such a star code
        return
    if result.kind in (MatchKind.NONE, MatchKind.BLOCKED) and emergency.may_follow(phone, digits):
        ctx.arm(progress.DIGIT, settings.interdigit_s)  # on the way to an emergency number
    elif result.kind is MatchKind.COMPLETE:
        _dial(ctx, result.number)
    elif result.kind is MatchKind.BLOCKED:
        progress.signal(ctx, Mode.REORDER, f"{digits} is blocked")
    elif result.kind is MatchKind.NONE:
        progress.signal(ctx, Mode.REORDER, f"Cannot dial {digits}")
    elif result.kind is MatchKind.AMBIGUOUS:
        ctx.arm(progress.DIGIT, settings.interdigit_short_s)
    else:
        ctx.arm(progress.DIGIT, settings.interdigit_s)


def digit_timeout(ctx: Step) -> None:
    """Nothing more was dialed in time."""
    phone = ctx.phone
    if phone.digits:
        _send(ctx)
    elif phone.held:  # nobody dialed on the second dial tone: back to the held party
        calls.resume(ctx, phone.held)
    else:
        progress.signal(ctx, Mode.REORDER, "No number dialed")


def _send(ctx: Step) -> None:
    """The interdigit time ran out, or '#' was pressed: dial what was dialed if it is whole."""
    digits = ctx.phone.digits
    if emergency.is_number(ctx.phone, digits):
        _emergency(ctx, digits)
        return
    with_number = forwarding.code_with_number(ctx.phone, digits)
    if with_number is not None:
        features.apply(ctx, with_number[1], digits.removeprefix(with_number[0]))
        return
    result = ctx.phone.settings.digit_map.match(digits)
    if result.dialable:
        _dial(ctx, result.number)
    elif result.kind is MatchKind.BLOCKED:
        progress.signal(ctx, Mode.REORDER, f"{digits} is blocked")
    else:
        progress.signal(ctx, Mode.REORDER, f"{digits}: number incomplete")


def _dial(ctx: Step, number: str) -> None:
    phone = ctx.phone
    ctx.cancel(progress.DIGIT)
    feature = phone.settings.feature_for(number)
    if feature is not None:
        features.apply(ctx, feature)
        return
    target = resolve(number, phone.contacts, phone.accounts, phone.settings.digits_account)
    if isinstance(target, Unreachable):
        progress.signal(ctx, Mode.REORDER, target.message)
    else:
        calls.place(ctx, target)


def _emergency(ctx: Step, number: str) -> None:
    target = emergency.target(ctx.phone, number)
    if target is None:  # said at once, in plain words: there is no time to lose on a timeout
        progress.signal(ctx, Mode.REORDER, emergency.NO_LINE)
        ctx.emit(
            fx.Say(phrase(ctx.phone.settings.language, "no_emergency_line"), ctx.phone.settings.language)
        )
        return
    ctx.set(emergency_call=(target.account, ctx.now))
    calls.place(ctx, target)
