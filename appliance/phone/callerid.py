"""Who is calling, as an analog line presents it: the caller's number and name, and how they are sent.

Pure data: the identity comes from the directory and the call (contact's name, else the name the
call carries; the contact's directory number, else the digits of a SIP or tel URI), the way it is
sent (:class:`Presentation`) from the country with a configured override. The signals themselves
are rendered by :mod:`appliance.line` for the line driver and for ``appliance callerid``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from .directory import find_contact, normalize_uri
from .model import Contact


class Standard(Enum):
    """How the caller's identity is sent to the phone."""

    BELLCORE = "bellcore"  # Telcordia GR-30-CORE: Bell 202 FSK (1200/2200 Hz), MDMF or SDMF
    ETSI_FSK = "etsi-fsk"  # ETSI EN 300 659-1/-3, BT SIN 227: V.23 FSK (1300/2100 Hz)
    ETSI_DTMF = "etsi-dtmf"  # DTMF "A<number>C" before the first ring (Denmark, Netherlands, Sweden...)
    NTT = "ntt"  # Japan's Number Display: the CAR signal, the phone's loop closed, V.23 FSK, the ring
    OFF = "off"


class Alert(Enum):
    """When the data goes on the line, and what wakes the phone's receiver first."""

    AFTER_RING = "after-ring"  # in the pause after the first ring, 0.5 s after it ends (Bellcore; ETSI)
    REVERSAL = "reversal"  # line polarity reversed, then (FSK) the dual-tone alert, before the first ring
    RING_PULSE = "ring-pulse"  # a short ring burst, then the data, before the first ring (EN 300 659-1 RP-AS)
    BEFORE_RING = "before-ring"  # the data alone before the first ring
    CAR = "car"  # NTT: line reversed, short rings until the phone closes its loop, the data, the ring


class Absence(Enum):
    """Why a number or a name is not sent: the codes MDMF and ETSI carry in its place."""

    UNAVAILABLE = "O"  # "out of area": not known here (a Jami ID has no number)
    PRIVATE = "P"  # withheld by the caller


@dataclass(frozen=True, slots=True)
class Presentation:
    standard: Standard
    alert: Alert
    sdmf: bool = False  # Bellcore only: the single-data-message format (number, no name)


# Per country (the tone plans' countries): how its network presents callers.
LINE_PLANS: dict[str, Presentation] = {
    "US": Presentation(Standard.BELLCORE, Alert.AFTER_RING),
    "GB": Presentation(Standard.ETSI_FSK, Alert.REVERSAL),  # BT SIN 227: reversal, tone alert, V.23
    "DE": Presentation(Standard.ETSI_FSK, Alert.AFTER_RING),
    "FR": Presentation(Standard.ETSI_FSK, Alert.RING_PULSE),
    "NL": Presentation(Standard.ETSI_DTMF, Alert.REVERSAL),
    "JP": Presentation(Standard.NTT, Alert.CAR),
}

# The alert each standard uses when the configuration names the standard but not the alert.
DEFAULT_ALERT = {
    Standard.BELLCORE: Alert.AFTER_RING,
    Standard.ETSI_FSK: Alert.REVERSAL,
    Standard.ETSI_DTMF: Alert.BEFORE_RING,
    Standard.NTT: Alert.CAR,
    Standard.OFF: Alert.AFTER_RING,
}


def presentation_for(
    country: str, standard: str = "auto", alert: str = "auto", *, sdmf: bool = False
) -> Presentation:
    """The country's presentation, or the configured standard (and alert) instead of it."""
    plan = LINE_PLANS.get(country.upper(), LINE_PLANS["US"])
    chosen = plan.standard if standard == "auto" else Standard(standard)
    if chosen is Standard.NTT or alert == Alert.CAR.value:
        # The CAR handshake is NTT's own and NTT has no other: an alert set for another standard
        # does not apply to it, nor CAR to another.
        when = DEFAULT_ALERT[chosen]
    elif alert != "auto":
        when = Alert(alert)
    elif chosen is plan.standard:
        when = plan.alert
    else:
        when = DEFAULT_ALERT[chosen]
    return Presentation(chosen, when, sdmf=sdmf and chosen is Standard.BELLCORE)


@dataclass(frozen=True, slots=True)
class CallerId:
    """The caller's identity for the line: digits only, a name as given (the encoder makes it
    printable and cuts it to its format), and why either is missing."""

    number: str = ""
    name: str = ""
    number_absent: Absence | None = Absence.UNAVAILABLE
    name_absent: Absence | None = Absence.UNAVAILABLE
    presentation: Presentation = Presentation(Standard.BELLCORE, Alert.AFTER_RING)


_WITHHELD = {"anonymous", "private", "restricted", "unknown", "withheld"}
_PHONE_NUMBER = re.compile(r"^\+?[0-9][0-9 ().-]*$")


def number_of(uri: str, contact_number: str = "") -> tuple[str, Absence | None]:
    """The digits to present for ``uri``: the contact's directory number, else a SIP or tel URI's
    user part when it is a phone number. A Jami ID has none (unavailable); 'anonymous' is private."""
    if contact_number:
        return re.sub(r"\D", "", contact_number), None
    text = uri.strip().strip("<>")
    if text.lower().startswith("tel:"):
        user = text[4:].split(";", 1)[0]
    else:
        core = normalize_uri(text)
        user = core.split("@", 1)[0] if "@" in core else ""
    if user.lower() in _WITHHELD:
        return "", Absence.PRIVATE
    if user and _PHONE_NUMBER.match(user):
        digits = re.sub(r"\D", "", user)
        if digits:
            return digits, None
    return "", Absence.UNAVAILABLE


def caller_id_for(
    directory: tuple[Contact, ...], uri: str, offered_name: str, presentation: Presentation
) -> CallerId:
    """The caller's identity: the contact's name, else the name the call carries (never the URI)."""
    contact = find_contact(directory, uri)
    number, number_absent = number_of(uri, contact.number if contact else "")
    name = contact.name if contact and contact.name else offered_name.strip()
    name_absent = (
        None if name else (Absence.PRIVATE if number_absent is Absence.PRIVATE else Absence.UNAVAILABLE)
    )
    return CallerId(number, name, number_absent, name_absent, presentation)
