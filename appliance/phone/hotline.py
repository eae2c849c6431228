"""Hotline and warm line: lifting the handset calls one destination, at once (a hotline, for a
door or lift phone) or after ``hotline_delay_s`` of silence (a warm line, for someone who may not
manage to dial); any key pressed before then cancels it and the phone dials as usual."""

from __future__ import annotations

from .directory import Unreachable, reach
from .model import Mode, Phone, Target

TIMER = "hotline"


def delay(phone: Phone) -> float | None:
    """Seconds of silence before the call after lifting (0: at once), None: no hotline."""
    return phone.settings.hotline_delay_s if phone.settings.hotline_uri else None


def due(phone: Phone) -> bool:
    """The warm line's silence ran out on a dial tone nobody used."""
    return phone.mode is Mode.DIALING and not phone.digits and not phone.calls


def target(phone: Phone) -> Target | Unreachable:
    return reach(phone.settings.hotline_uri, phone.contacts, phone.accounts, phone.settings.digits_account)
