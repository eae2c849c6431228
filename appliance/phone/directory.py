"""Who a dialed number reaches, and who is calling: contacts, speed dials and accounts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .model import AccountInfo, AccountKind, Contact, Registration, Target

JAMI_ID = re.compile(r"^[0-9a-f]{40}$")
_SCHEMES = ("ring:", "jami:", "sip:", "sips:")


@dataclass(frozen=True, slots=True)
class Unreachable:
    """A number that leads nowhere, with plain words for the display."""

    message: str


def normalize_uri(uri: str) -> str:
    """The comparable core of a URI: scheme, ``@ring.dht`` and angle brackets removed, lower-cased IDs."""
    text = uri.strip().strip("<>")
    if " <" in text:  # 'Name <sip:x@y>'
        text = text.rsplit("<", 1)[1].rstrip(">")
    for scheme in _SCHEMES:
        if text.lower().startswith(scheme):
            text = text[len(scheme) :]
            break
    text = text.removesuffix("@ring.dht")
    return text.lower() if JAMI_ID.match(text.lower()) else text


def uri_kind(uri: str) -> AccountKind:
    """Jami for a 40-hex ID or a registered name; SIP for sip: URIs and ``user@host``."""
    text = uri.strip().lower()
    if text.startswith(("sip:", "sips:")) or ("@" in text and not text.endswith("@ring.dht")):
        return AccountKind.SIP
    return AccountKind.JAMI


def find_contact(contacts: tuple[Contact, ...], uri: str) -> Contact | None:
    key = normalize_uri(uri)
    return next((c for c in contacts if normalize_uri(c.uri) == key), None)


def caller_name(contacts: tuple[Contact, ...], uri: str, offered: str) -> str:
    """The name to show for a caller: our contact's name first, then what the call carries, then the URI."""
    contact = find_contact(contacts, uri)
    if contact is not None and contact.name:
        return contact.name
    if offered.strip():
        return offered.strip()
    core = normalize_uri(uri)
    return core[:8] + "…" if JAMI_ID.match(core) else core


CAN_CALL = (Registration.REGISTERED, Registration.TRYING)


def pick_account(accounts: tuple[AccountInfo, ...], uri: str, forced: str = "") -> AccountInfo | Unreachable:
    """The registered account that can reach ``uri``."""
    if forced:
        account = next((a for a in accounts if forced in (a.id, a.name)), None)
        if account is None:
            return Unreachable(f"No account {forced}")
        candidates = [account]
    else:
        kind = uri_kind(uri)
        candidates = [a for a in accounts if a.kind is kind]
        if kind is AccountKind.SIP:
            host = uri.split("@", 1)[1] if "@" in uri else ""
            candidates.sort(key=lambda a: a.host != host)
        if not candidates:
            return Unreachable("No Jami account" if kind is AccountKind.JAMI else "No SIP account")
    # A connecting account (TRYING: just after the daemon restarted) may take the call: the
    # telephony core holds it until the account is up, or fails it in plain words.
    ready = sorted(
        (a for a in candidates if a.registration in CAN_CALL),
        key=lambda a: a.registration is not Registration.REGISTERED,
    )
    if not ready:
        return Unreachable("Account not connected")
    return ready[0]


def resolve(
    number: str,
    contacts: tuple[Contact, ...],
    accounts: tuple[AccountInfo, ...],
    digits_account: str = "",
) -> Target | Unreachable:
    """Turn dialed digits into a call target: speed dial, then directory number, then the digits account."""
    contact = next((c for c in contacts if c.speed_dial and c.speed_dial == number), None)
    if contact is None:
        contact = next((c for c in contacts if c.number and c.number == number), None)
    if contact is not None:
        account = pick_account(accounts, contact.uri, contact.account)
        if isinstance(account, Unreachable):
            return account
        return Target(account.id, _dialable_uri(contact.uri, account), contact.name)
    if digits_account:
        account = pick_account(accounts, "", digits_account)
        if isinstance(account, Unreachable):
            return account
        if account.kind is AccountKind.SIP:
            uri = f"sip:{number}@{account.host}" if account.host else f"sip:{number}"
            return Target(account.id, uri, number)
    if len(number) <= 2 and number.isdigit():
        return Unreachable(f"No contact on speed dial {number}")
    return Unreachable(f"Number {number} not found")


def reach(
    destination: str,
    contacts: tuple[Contact, ...],
    accounts: tuple[AccountInfo, ...],
    digits_account: str = "",
) -> Target | Unreachable:
    """Where a configured destination goes (a forwarding, a hotline): keys are dialed as on the
    keypad (speed dial, directory number, digits account); anything else is a Jami ID, a
    registered name or a SIP URI."""
    text = destination.strip()
    if not text:
        return Unreachable("No destination")
    if all(key in "0123456789*#" for key in text):
        return resolve(text, contacts, accounts, digits_account)
    account = pick_account(accounts, text)
    if isinstance(account, Unreachable):
        return account
    return Target(account.id, _dialable_uri(text, account), caller_name(contacts, text, ""))


def _dialable_uri(uri: str, account: AccountInfo) -> str:
    if account.kind is AccountKind.JAMI:
        return normalize_uri(uri)
    return uri if uri.lower().startswith(("sip:", "sips:")) else f"sip:{uri}"
