"""Emergency numbers: dialed whatever the digit map says, carried by a SIP account, and refused
at once in plain words when no account can carry them.

They are checked before the digit map, so a map that would block or never complete them cannot
stand in the way. Private mode, do not disturb and screening only act on incoming calls; the
emergency service calling back on the line that carried the call rings through all of them for
``Emergency.callback_s``. A Jami account cannot reach an emergency service: only SIP accounts
are used, a registrar's first (an IP-to-IP account has nowhere to send it).
"""

from __future__ import annotations

from .directory import CAN_CALL
from .model import AccountInfo, AccountKind, Phone, Registration, Target

# By the country the phone is set to (``phone.country``), from each country's regulator.
BY_COUNTRY: dict[str, tuple[str, ...]] = {
    "US": ("911",),
    "CA": ("911",),
    "GB": ("999", "112"),
    "DE": ("112", "110"),
    "FR": ("112", "15", "17", "18"),
    "NL": ("112",),
    "JP": ("110", "119"),
}

NO_LINE = "No line for emergency calls: use another phone"


def numbers(phone: Phone) -> tuple[str, ...]:
    """The configured emergency numbers, or the country's."""
    settings = phone.settings
    return settings.emergency.numbers or BY_COUNTRY.get(settings.country, ("112",))


def is_number(phone: Phone, digits: str) -> bool:
    return digits in numbers(phone)


def dial_now(phone: Phone, digits: str) -> bool:
    """``digits`` are an emergency number that no longer one continues: dial at once."""
    known = numbers(phone)
    return digits in known and not any(n != digits and n.startswith(digits) for n in known)


def may_follow(phone: Phone, digits: str) -> bool:
    """``digits`` may still become an emergency number (wait for more, whatever the map says)."""
    return any(n.startswith(digits) and n != digits for n in numbers(phone))


def account(phone: Phone) -> AccountInfo | None:
    """The SIP account that carries emergency calls: the configured one if it is connected,
    else a registered account with a registrar, else any SIP account that can call."""
    candidates = [a for a in phone.accounts if a.kind is AccountKind.SIP and a.registration in CAN_CALL]
    forced = phone.settings.emergency.account
    if forced:
        chosen = [a for a in candidates if forced in (a.id, a.name)]
        if chosen:
            return chosen[0]
    candidates.sort(key=lambda a: (not a.host, a.registration is not Registration.REGISTERED))
    return candidates[0] if candidates else None


def target(phone: Phone, number: str) -> Target | None:
    line = account(phone)
    if line is None:
        return None
    uri = f"sip:{number}@{line.host}" if line.host else f"sip:{number}"
    return Target(line.id, uri, f"Emergency {number}")


def is_call_back(phone: Phone, account_id: str, now: float) -> bool:
    """A call on the line that carried an emergency call, soon after it: the service calling back."""
    last = phone.emergency_call
    return last is not None and last[0] == account_id and now - last[1] <= phone.settings.emergency.callback_s
