"""The owner's greeting, recorded through the handset (pure, like the machine).

``*97`` (``greeting_record``) from dial tone: the phone says what to do and beeps, then records the
handset's microphone until ``#``, hanging up, or ``MAX_S``. The take is played back for
confirmation: 1 keeps it, 2 records again, ``*`` keeps the old greeting; hanging up keeps it
(the owner heard it, or ended it by hanging up). A kept greeting is what the answering machine
plays instead of the spoken one, until ``*96`` (``greeting_default``) goes back to that.
"""

from __future__ import annotations

from dataclasses import replace

from . import effects as fx
from .context import Step
from .events import GreetingTaken, OwnGreetingChanged
from .model import Menu, Mode, Phone
from .phrases import phrase
from .voicemenu import IDLE_S, Turn

TIMER = "greeting_max"  # the longest greeting: then it ends as if '#' was pressed
MAX_S = 60.0
TAKE = "greeting"  # Say's message while the take is played back: the runtime's waiting take
SHORTEST_S = 0.5  # a take shorter than this is nothing (a '#' pressed during the prompt)
RECORDING = ("greeting", "greeting_wait")  # the take is being recorded, or its end awaited
LEVELS = (*RECORDING, "greeting_review", "greeting_done")


def opened(phone: Phone) -> Turn:
    """``*97``: the prompt and beep, then the handset is recorded."""
    lang = phone.settings.language
    record = fx.RecordGreeting(phrase(lang, "greeting_record"), lang)
    return Turn(Menu(level="greeting"), (record,), idle_s=MAX_S + IDLE_S)


def started(ctx: Step) -> None:
    """The recording began (the menu opened on it): it ends by itself after ``MAX_S``."""
    ctx.arm(TIMER, MAX_S)


def pressed(phone: Phone, key: str) -> Turn:
    """``key`` while the greeting is recorded or reviewed."""
    menu = phone.menu or Menu(level="greeting")
    lang = phone.settings.language
    match menu.level, key:
        case "greeting", "#":
            return Turn(replace(menu, level="greeting_wait"), (fx.StopGreeting(),), idle_s=IDLE_S)
        case "greeting" | "greeting_wait", "*":
            stop = (fx.StopGreeting(),) if menu.level == "greeting" else ()
            return Turn(None, (*stop, fx.DropGreeting()))
        case "greeting_review", "1" if menu.message:
            kept = Menu(level="greeting_done", prompt=phrase(lang, "greeting_kept"), said=menu.said + 1)
            return Turn(kept, (fx.KeepGreeting(),))
        case "greeting_review", "2":
            again = opened(phone)
            return Turn(again.menu, (fx.DropGreeting(), *again.effects), idle_s=again.idle_s)
        case "greeting_review", "#":
            return Turn(replace(menu, said=menu.said + 1))  # hear it again
        case "greeting_review" | "greeting_done", "*":
            return Turn(None, () if menu.level == "greeting_done" else (fx.DropGreeting(),))
        case _:
            return Turn(menu)  # other keys are part of what is recorded, or mean nothing here


def timer(ctx: Step, name: str) -> bool:
    """The longest greeting reached: it ends as by ``#``. False for any other timer."""
    if name != TIMER:
        return False
    menu = ctx.phone.menu
    if ctx.phone.mode is Mode.MENU and menu is not None and menu.level == "greeting":
        ctx.set(menu=replace(menu, level="greeting_wait"))
        ctx.emit(fx.StopGreeting())
    return True


def taken(ctx: Step, event: GreetingTaken) -> Turn | None:
    """The take ended: played back for the owner to keep or not (None: no review is waiting)."""
    phone = ctx.phone
    menu = phone.menu
    if phone.mode is not Mode.MENU or menu is None or menu.level != "greeting_wait":
        return None
    ctx.cancel(TIMER)
    lang = phone.settings.language
    if event.seconds < SHORTEST_S:
        return Turn(Menu(level="greeting_review", prompt=phrase(lang, "greeting_none"), said=menu.said + 1))
    review = Menu(
        level="greeting_review", prompt=phrase(lang, "greeting_review"), said=menu.said + 1, message=TAKE
    )
    return Turn(review, idle_s=event.seconds + IDLE_S)


def hung_up(ctx: Step) -> None:
    """Hanging up ends the recording and keeps it (nothing is kept when nothing was taken)."""
    phone = ctx.phone
    menu = phone.menu
    if phone.mode is not Mode.MENU or menu is None or menu.level not in LEVELS:
        return
    ctx.cancel(TIMER)
    if menu.level == "greeting":
        ctx.emit(fx.StopGreeting(), fx.KeepGreeting())
    elif menu.level == "greeting_wait" or (menu.level == "greeting_review" and menu.message):
        ctx.emit(fx.KeepGreeting())
    elif menu.level == "greeting_review":
        ctx.emit(fx.DropGreeting())


def changed(ctx: Step, event: OwnGreetingChanged) -> None:
    ctx.set(own_greeting=event.recorded)


def use_default(ctx: Step) -> None:
    """``*96``: the spoken greeting again."""
    ctx.emit(fx.DefaultGreeting())
    ctx.set(own_greeting=False)
