"""Call progress in the handset: dial tone, the confirmation tone after a star code, and busy or
reorder that turns into the howler and then silence if nobody hangs up; with their two timers."""

from __future__ import annotations

from .context import Step
from .model import Mode

DIGIT = "digit"  # first-digit and interdigit timeouts
PROGRESS = "progress"  # call-progress stages: confirmation, then reorder/busy -> howler -> silence


PROGRESS_MODES = (Mode.BUSY, Mode.REORDER, Mode.HOWLER, Mode.SILENT)


def dial_tone(ctx: Step, notice: str = "") -> None:
    ctx.cancel(PROGRESS)
    ctx.set(mode=Mode.DIALING, digits="", notice=notice)
    ctx.arm(DIGIT, ctx.phone.settings.first_digit_s)


def signal(ctx: Step, mode: Mode, notice: str) -> None:
    ctx.cancel(DIGIT)
    ctx.set(mode=mode, notice=notice)
    ctx.arm(PROGRESS, ctx.phone.settings.reorder_s)


def confirm(ctx: Step, notice: str) -> None:
    ctx.cancel(DIGIT)
    ctx.set(mode=Mode.CONFIRM, digits="", notice=notice)
    ctx.arm(PROGRESS, ctx.phone.settings.confirm_s)


def expired(ctx: Step) -> None:
    """The stage's time ran out: confirmation back to dial tone, busy or reorder to the howler,
    the howler to silence."""
    phone = ctx.phone
    if phone.mode is Mode.CONFIRM:
        dial_tone(ctx, phone.notice)
    elif phone.mode in (Mode.BUSY, Mode.REORDER):
        ctx.set(mode=Mode.HOWLER, notice="Please hang up")
        ctx.arm(PROGRESS, phone.settings.howler_s)
    elif phone.mode is Mode.HOWLER:
        ctx.set(mode=Mode.SILENT)
