"""Who may reach this phone: the trust decisions, made once, as pure functions.

The telephony adapters (the Jami daemon's, and the fake) report what they observed — a call
arrived from a URI, a certificate was presented, a contact request came with a vCard — and apply
what this module decides: a blocked caller is refused before any ring, a caller's certificate is
pinned at first contact (trust on first use) and a different one later is flagged, never taken
silently; pending requests and their vCards are bounded, since anyone may send one, and so are
invitations to group conversations. Private mode and do-not-disturb are the machine's
(``incoming.py`` with ``screening.py``), decided from the same trusted contacts; so is declining
group invitations in private mode (``outputs.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from enum import Enum

MAX_TRUST_REQUESTS = 32  # pending requests kept; past it the oldest go
MAX_VCARD = 8 * 1024  # bytes of a request's vCard kept, photo lines dropped
MAX_INVITATIONS = 32  # pending group invitations kept; past it the oldest are declined


@dataclass(frozen=True, slots=True)
class TrustRequest:
    """A pending contact request: who sent it, when, the vCard it carried and, from a current Jami
    app, the one-to-one conversation it opens (empty from one before swarms)."""

    uri: str
    received_at: float
    vcard: bytes = b""
    conversation: str = ""


@dataclass(frozen=True, slots=True)
class PeerIdentity:
    """A peer's certificate fingerprint as pinned at first contact; ``seen`` is a different one it
    presented later (flagged until a person accepts it), empty while nothing changed."""

    uri: str
    fingerprint: str
    pinned_at: float
    seen: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.seen)


class Verdict(Enum):
    """What a presented certificate is, measured against the pin."""

    NEW = "new"  # first contact: pinned now
    SAME = "same"
    CHANGED = "changed"  # differs from the pin: flagged


class Admission(Enum):
    """What to do with a call that arrived, before the phone hears of it."""

    REFUSE = "refuse"  # a blocked peer: refused, no ring, no call log entry
    CHECK_CERTIFICATE = "check_certificate"  # a Jami caller: its certificate first, then announce
    ANNOUNCE = "announce"  # a SIP caller: to the phone at once


def admit_call(uri: str, *, blocked: AbstractSet[str], jami: bool) -> Admission:
    """A call from ``uri`` arrived on a Jami account (``jami``) or a SIP one."""
    if uri in blocked:
        return Admission.REFUSE
    return Admission.CHECK_CERTIFICATE if jami else Admission.ANNOUNCE


def pin(
    pins: Mapping[str, PeerIdentity], uri: str, fingerprint: str, now: float
) -> tuple[Verdict, PeerIdentity | None]:
    """The verdict on the certificate ``uri`` presents, and the pin to store (None: no change)."""
    fingerprint = fingerprint.lower()
    pinned = pins.get(uri)
    if pinned is None:
        return Verdict.NEW, PeerIdentity(uri, fingerprint, now)
    if pinned.fingerprint == fingerprint:
        return Verdict.SAME, None
    if pinned.seen == fingerprint:
        return Verdict.CHANGED, None  # already flagged
    return Verdict.CHANGED, replace(pinned, seen=fingerprint)


def accept_identity(pins: Mapping[str, PeerIdentity], uri: str, now: float) -> PeerIdentity:
    """A person checked the changed certificate with its owner: it becomes the pin.
    Raises KeyError if ``uri`` presented no other certificate."""
    pinned = pins.get(uri)
    if pinned is None or not pinned.seen:
        raise KeyError(uri)
    return PeerIdentity(uri, pinned.seen, now)


def bounded_vcard(payload: bytes) -> bytes:
    """The vCard's text lines without the photo (which may be megabytes), at most MAX_VCARD bytes."""
    lines = [
        line for line in payload.splitlines(keepends=True) if not line.upper().startswith((b"PHOTO", b" "))
    ]
    return b"".join(lines)[:MAX_VCARD]


def take_request(
    pending: Mapping[str, TrustRequest], request: TrustRequest, limit: int = MAX_TRUST_REQUESTS
) -> tuple[dict[str, TrustRequest], list[TrustRequest]]:
    """``request`` added to the pending ones (its vCard bounded; a newer one from the same sender
    replaces the older); the oldest beyond ``limit`` come back to be discarded."""
    kept = {**pending, request.uri: replace(request, vcard=bounded_vcard(request.vcard))}
    dropped: list[TrustRequest] = []
    while len(kept) > limit:
        oldest = min(kept.values(), key=lambda r: r.received_at)
        dropped.append(kept.pop(oldest.uri))
    return kept, dropped


@dataclass(frozen=True, slots=True)
class Invitation:
    """An invitation to a group conversation (a Jami swarm of several members): who sent it, when."""

    conversation: str
    sender: str
    received_at: float


def take_invitation(
    pending: Mapping[str, Invitation], invitation: Invitation, limit: int = MAX_INVITATIONS
) -> tuple[dict[str, Invitation], list[Invitation]]:
    """``invitation`` added to the pending ones (by conversation); the oldest beyond ``limit``
    come back to be declined."""
    kept = {**pending, invitation.conversation: invitation}
    dropped: list[Invitation] = []
    while len(kept) > limit:
        oldest = min(kept.values(), key=lambda i: i.received_at)
        dropped.append(kept.pop(oldest.conversation))
    return kept, dropped
