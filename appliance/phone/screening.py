"""Who may ring this phone: the screening of an incoming call, decided before any ring.

Checks run in a fixed order, and the first one that applies wins: blocked, anonymous, private
mode, a changed certificate in private mode, do not disturb (unless the caller is on
``dnd_allow``), then quiet hours. A call refused during quiet hours goes to the call log as
*missed*, so the owner sees it in the morning. Every other refusal is logged as *refused*. The
emergency service calling back is never screened (``emergency.py`` decides that before).

Quiet hours apply only by a clock known right: a Pi has no real-time clock, and until NTP has set
it the time is the last shutdown's (or 1970), hours off. By such a clock quiet hours would refuse
calls at noon, silently, the caller turned away; so until it is synchronised every call rings.
A ring at night by mistake wakes someone once; a refusal by mistake loses a call nobody heard.
"""

from __future__ import annotations

from dataclasses import dataclass

from .directory import find_contact, normalize_uri
from .model import Contact, Screening

_ANONYMOUS = frozenset(("", "anonymous", "restricted", "unknown", "unavailable", "private", "withheld"))


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a call does not ring, and how the call log keeps it (``refused`` or ``missed``)."""

    reason: str
    kind: str = "refused"


def matches(entry: str, uri: str) -> bool:
    """Whether a list entry (number, SIP URI, Jami ID or name) names the caller ``uri``.
    A bare number or name matches the user part of a SIP caller (``5551234`` is
    ``sip:5551234@pbx``), so one list serves SIP lines and Jami alike."""
    want, have = normalize_uri(entry), normalize_uri(uri)
    if not want:
        return False
    if want == have:
        return True
    return "@" not in want and have.split("@", 1)[0] == want


def listed(entries: tuple[str, ...], uri: str) -> bool:
    return any(matches(entry, uri) for entry in entries)


def is_anonymous(uri: str, name: str) -> bool:
    """A caller that withholds who it is: no URI, or SIP's ``anonymous@anonymous.invalid``."""
    user = normalize_uri(uri).split("@", 1)[0].lower()
    return user in _ANONYMOUS or (not user and name.strip().lower() in _ANONYMOUS)


def in_window(start: int, end: int, minute: int) -> bool:
    """``minute`` of the day is in [start, end), a window that may cross midnight."""
    if start == end:
        return False
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


@dataclass(frozen=True, slots=True)
class Caller:
    """What screening looks at: who calls, and what the phone is set to."""

    uri: str
    name: str
    identity_changed: bool
    directory: tuple[Contact, ...]


def refusal(
    rules: Screening, caller: Caller, *, private_mode: bool, dnd: bool, minute: int | None
) -> Refusal | None:
    """Why this caller must not ring, or None. ``minute`` is the local minute of the day (None:
    the clock is not known, or not synchronised, so quiet hours cannot apply)."""
    contact = find_contact(caller.directory, caller.uri) is not None
    if listed(rules.block, caller.uri):
        return Refusal("blocked")
    if rules.anonymous_reject and is_anonymous(caller.uri, caller.name):
        return Refusal("anonymous")
    if private_mode and not contact:
        return Refusal("private mode")
    if private_mode and caller.identity_changed:  # may not be the contact we know
        return Refusal("certificate changed")
    if dnd and not listed(rules.dnd_allow, caller.uri):
        return Refusal("do not disturb")
    if minute is not None and in_window(rules.quiet_from, rules.quiet_to, minute):
        allowed = listed(rules.allow, caller.uri) if rules.quiet_allow == "allow_list" else contact
        if not allowed:
            return Refusal("quiet hours", "missed")
    return None
