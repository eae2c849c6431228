"""What the display shows, as text lines and icons: no pixels here, the OLED driver draws them.

Lines are at most :data:`WIDTH` characters (a 128x64 OLED with a 6x8 font); the first line is a
status bar, the second is the headline in plain words, the rest are details.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from enum import Enum

from .model import AP_ADDRESS, CallStatus, Mode, Phone, Registration

WIDTH = 21
MAX_BODY_LINES = 4  # 12-pixel rows on a 64-pixel display, under the status bar


class Icon(Enum):
    ONLINE = "online"  # an account is registered
    OFFLINE = "offline"  # no account is registered
    DND = "dnd"
    PRIVATE = "private"
    VOICEMAIL = "voicemail"
    REQUEST = "request"  # a contact (trust) request is pending
    MISSED = "missed"
    HELD = "held"
    CONFERENCE = "conference"
    NO_SERVICE = "no_service"


@dataclass(frozen=True, slots=True)
class ScreenModel:
    lines: tuple[str, ...]
    icons: frozenset[Icon] = frozenset()
    dim: bool = False  # idle: the driver lowers the contrast


def _fit(text: str) -> str:
    return text if len(text) <= WIDTH else text[: WIDTH - 1] + "…"


def _wrap(lines: tuple[str, ...]) -> tuple[str, ...]:
    """Body lines wrapped at word boundaries, so plain-words messages are not cut off."""
    out: list[str] = []
    for line in lines:
        out.extend(textwrap.wrap(line, WIDTH, break_long_words=True) or [""])
    return tuple(out[:MAX_BODY_LINES])


def _clock(seconds: float) -> str:
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def _icons(phone: Phone) -> frozenset[Icon]:
    icons = set()
    online = any(a.registration is Registration.REGISTERED for a in phone.accounts)
    icons.add(Icon.ONLINE if online else Icon.OFFLINE)
    if not phone.telephony_up:
        icons.add(Icon.NO_SERVICE)
    flags = (
        (phone.dnd, Icon.DND),
        (phone.private_mode, Icon.PRIVATE),
        (phone.messages_waiting > 0, Icon.VOICEMAIL),
        (phone.trust_pending > 0, Icon.REQUEST),
        (phone.missed > 0, Icon.MISSED),
        (phone.held is not None, Icon.HELD),
        (phone.conference, Icon.CONFERENCE),
    )
    icons.update(icon for on, icon in flags if on)
    return frozenset(icons)


def _status_bar(phone: Phone) -> str:
    if not phone.telephony_up:
        return "No service"
    registered = [a for a in phone.accounts if a.registration is Registration.REGISTERED]
    if registered:
        first = registered[0]
        return first.name or (first.uri[:8] + "…" if len(first.uri) > 12 else first.uri)
    if phone.accounts:
        return "Connecting…"
    return "No account"


def screen(phone: Phone, now: float) -> ScreenModel:
    """The screen for this state at time ``now`` (for the call timer)."""
    bar = _status_bar(phone)
    body = _body(phone, now)
    lines = (_fit(bar), *_wrap(body))
    return ScreenModel(lines, _icons(phone), dim=phone.mode is Mode.IDLE)


def _body(phone: Phone, now: float) -> tuple[str, ...]:
    active = phone.active_call
    match phone.mode:
        case Mode.IDLE:
            return _idle(phone)
        case Mode.RINGING:
            ringing = phone.waiting or phone.held
            if ringing is None:
                return ("Ready",)
            headline = "Incoming call" if phone.waiting else "Held call"
            if ringing.identity_changed:  # said before the answer, in plain words
                return (headline, ringing.peer_name, "Certificate changed!")
            return (headline, ringing.peer_name, "Lift to answer")
        case Mode.DIALING:
            second = phone.held or phone.waiting
            if phone.digits:
                return ("Dialing", phone.digits)
            lines = [phone.notice or "Dial a number"]
            if second:
                lines.append(f"{'Held' if phone.held else 'Waiting'}: {second.peer_name}")
                lines.append("Flash to return")
            return tuple(lines)
        case Mode.CONFIRM:
            return (phone.notice,)
        case Mode.CALLING:
            if active is None:
                return ("Calling",)
            verb = "Ringing" if active.status is CallStatus.RINGING_OUT else "Calling"
            return (verb, active.peer_name)
        case Mode.TALKING:
            return _talking(phone, now)
        case Mode.BUSY | Mode.REORDER:
            return (phone.notice or "Call failed", "Hang up to try again")
        case Mode.HOWLER | Mode.SILENT:
            return ("Please hang up",)
        case Mode.MENU if phone.menu and phone.menu.level == "messages":
            kept = len(phone.messages)
            return ("Messages", f"{kept} kept" if kept else "None", "* ends")
        case Mode.MENU:
            return ("Voice menu", "# repeats, * back")
    return ()


def _idle(phone: Phone) -> tuple[str, ...]:
    if phone.access_point:  # no network found: join the phone's own Wi-Fi to reach the page
        lines = [f"Wi-Fi {phone.access_point}", f"Key {phone.access_point_key}", f"Then {AP_ADDRESS}"]
        if phone.setup_code:
            lines.append(f"Setup code {phone.setup_code}")
        return tuple(lines)
    if phone.setup_code:  # not claimed yet: the owner reads where to go and the code to give there
        where = phone.page_address or "this phone's page"
        return ("Set me up at", where, f"Setup code {phone.setup_code}")
    lines = ["Ready" if phone.telephony_up else "Phone service starting"]
    if phone.notices:  # second, so it shows whatever else there is: the owner must look at the page
        lines.append(f"{phone.notices} notice{'s' if phone.notices > 1 else ''}: see page")
    if phone.dnd:
        lines.append("Do not disturb")
    if phone.forwarding.always:
        lines.append("All calls forwarded")
    if phone.private_mode:
        lines.append("Private mode")
    if phone.missed:
        lines.append(f"{phone.missed} missed call{'s' if phone.missed > 1 else ''}")
    if phone.messages_waiting:
        lines.append(f"{phone.messages_waiting} new message{'s' if phone.messages_waiting > 1 else ''}")
    if phone.trust_pending:
        plural = "s" if phone.trust_pending > 1 else ""
        lines.append(f"{phone.trust_pending} contact request{plural}")
    return tuple(lines[:4])


def _talking(phone: Phone, now: float) -> tuple[str, ...]:
    active = phone.active_call
    if active is None:
        return ("In call",)
    if phone.conference:
        names = " + ".join(c.peer_name for c in phone.calls)
        started = min((c.connected_at for c in phone.calls if c.connected_at is not None), default=now)
        return ("Conference", names, _clock(now - started))
    timer = _clock(now - active.connected_at) if active.connected_at is not None else "Connecting…"
    lines = [active.peer_name, timer]
    if phone.waiting:
        lines.append(f"Waiting: {phone.waiting.peer_name}")
    elif phone.held:
        lines.append(f"Held: {phone.held.peer_name}")
    return tuple(lines)
