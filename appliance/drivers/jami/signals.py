"""The daemon's state as it reaches the adapter: signals, each turned into one phone event, and
the reads behind them (after subscribing, and until a new account is seen ready).

Incoming calls are admitted here (a blocked caller refused before any ring, a caller's certificate
checked against its pin), trust requests bounded, contacts followed.
"""

# ruff: noqa: ARG002 - signal handlers take every argument the D-Bus signal has

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from appliance.phone import trust
from appliance.phone.directory import JAMI_ID
from appliance.phone.events import (
    CallArrived,
    CallState,
    CallStateChanged,
    Event,
    TrustedContactsChanged,
    TrustRequestsChanged,
    VoicemailChanged,
)
from appliance.phone.model import CallId, Contact, Registration
from appliance.phone.trust import Verdict
from appliance.ports import TelephonyError, TrustRequest

from . import defs
from .accounts import JamiAccounts
from .pins import CertificatePins

log = logging.getLogger(__name__)

_STATES = {state.value: state for state in CallState}
MAX_CALLER_NAME = 64  # characters of a caller's own name shown


def peer_uri(raw: str) -> str:
    """'ring:<id>@ring.dht' or '<id>@ring.dht' -> '<id>'; SIP URIs unchanged."""
    text = raw.strip().strip("<>")
    for prefix in ("ring:", "jami:"):
        text = text.removeprefix(prefix)
    return text.removesuffix("@ring.dht")


class JamiSignals(JamiAccounts):
    """Calls, contacts and requests as the daemon reports them; the daemon's call ids and the phone's."""

    def __init__(self, **accounts: Any) -> None:  # noqa: ANN401 - JamiAccounts' arguments
        super().__init__(**accounts)
        self._local: dict[str, CallId] = {}  # daemon call id -> our call id
        self._daemon_id: dict[CallId, str] = {}  # our call id -> daemon call id
        self._early: dict[str, list[Event]] = {}  # states of calls not named yet
        self._call_account: dict[CallId, str] = {}  # our call id -> the daemon account it is on
        self._requests: dict[str, TrustRequest] = {}
        self._blocked: set[str] = set()
        self._admitting: set[str] = set()  # incoming calls whose caller's certificate is being checked
        self.pins = CertificatePins(self.root / "pins.json", self.notices)
        self._settler: asyncio.Task[None] | None = None

    # --- signals -------------------------------------------------------------------------------

    def _subscribe(self) -> None:
        calls, config = self._calls, self._config
        calls.on_call_state_changed(self._on_call_state)
        calls.on_incoming_call_with_media(self._on_incoming)
        calls.on_conference_created(self._on_conference)
        calls.on_voice_mail_notify(self._on_voicemail)
        config.on_registration_state_changed(self._on_registration)
        config.on_volatile_account_details_changed(self._on_volatile)
        config.on_incoming_trust_request(self._on_trust_request)
        config.on_contact_added(self._on_contact_added)
        config.on_contact_removed(self._on_contact_removed)

    def _on_registration(self, account: str, state: str, code: int, detail: str) -> None:
        if account in self._sip:
            self._report_sip(account, state)
            return
        if account != self.account_id:
            return
        self._account_signals += 1
        self._last_state = state
        if self.jami_id:
            self._report_account(state)
        else:  # a new account has its ID once its keys exist: read it before telling anyone
            self._spawn(self._read_id_then_report(state))

    async def _read_id_then_report(self, state: str) -> None:
        with contextlib.suppress(TelephonyError):
            details = await self._call("getAccountDetails", self.account_id)
            self.jami_id = details.get(defs.ACCOUNT_USERNAME, "").removeprefix("ring:")
        self._report_account(state)

    def _on_volatile(self, account: str, details: dict[str, str]) -> None:
        if account != self.account_id:
            return
        self._account_signals += 1
        if self._take_volatile(details):
            self._report_account(self._last_state)

    def _on_call_state(self, account: str, call: str, state: str, code: int) -> None:
        known = _STATES.get(state)
        if known is None:
            return
        local = self._local.get(call)
        if local is None:
            if (
                known is CallState.OVER and call not in self._admitting
            ):  # a call we were never told of (another client's): forget it
                self._early.pop(call, None)
            else:
                self._early.setdefault(call, []).append(CallStateChanged(CallId(call), known, code))
            return
        self._send(CallStateChanged(local, known, code))
        if known is CallState.CURRENT and self._call_account.get(local) == self.account_id:
            self._spawn(self._pin_call_peer(call))  # first contact by calling them pins them too
        if known is CallState.OVER:
            self._forget(call)

    def _on_incoming(self, account: str, call: str, caller: str, media: list[dict[str, str]]) -> None:
        uri = peer_uri(caller)
        jami = account == self.account_id and bool(JAMI_ID.fullmatch(uri))
        admission = trust.admit_call(uri, blocked=self._blocked, jami=jami)
        if admission is trust.Admission.REFUSE:  # the daemon keeps the ban for requests only
            log.info("call from blocked %s refused", uri)
            self._spawn(self._call("refuse", account, call))
            return
        # The phone hears of the call once the caller's name is read (getCallDetails) and, for a
        # Jami caller, its certificate checked against its pin, so a changed one is known before
        # any ring (local D-Bus round trips, both at once).
        self._admitting.add(call)
        self._spawn(self._admit(account, call, uri, check=admission is trust.Admission.CHECK_CERTIFICATE))

    async def _admit(self, account: str, call: str, uri: str, *, check: bool) -> None:
        try:
            name, verdict = await asyncio.gather(
                self._caller_name(account, call), self._check_certificate(uri) if check else _nothing()
            )
        finally:
            self._admitting.discard(call)
        self._announce_incoming(account, call, uri, name, identity_changed=verdict is Verdict.CHANGED)

    async def _caller_name(self, account: str, call: str) -> str:
        """The name the caller gives itself (its account's display name, in jamid's DISPLAY_NAME);
        "" when the daemon does not say."""
        try:
            details = await self._call("getCallDetails", account, call, within_s=1.0)
        except TelephonyError as exc:
            log.warning("details of call %s not readable: %s", call, exc)
            return ""
        # Anyone may call: the name is the caller's word, so only its printable part, bounded.
        name = "".join(c for c in str(details.get(defs.CALL_DISPLAY_NAME, "")) if c.isprintable())
        return " ".join(name.split())[:MAX_CALLER_NAME]

    def _announce_incoming(
        self, account: str, call: str, uri: str, name: str, *, identity_changed: bool
    ) -> None:
        local = CallId(call)
        self._call_account[local] = account
        self._bind_call_id(call, local)
        self._send(CallArrived(local, account, uri, name, identity_changed=identity_changed))
        self._replay_early_states(call)

    async def _check_certificate(self, uri: str) -> Verdict | None:
        """Pin ``uri``'s account certificate at first contact; report whether it changed since."""
        try:
            details = await self._call("getCertificateDetails", uri, within_s=1.0)
        except TelephonyError as exc:
            log.warning("certificate of %s not readable: %s", uri, exc)
            return None
        fingerprint = details.get(defs.CERT_SHA1_FINGERPRINT, "")
        if not fingerprint or details.get(defs.CERT_PUBLIC_KEY_ID) != uri:
            return None  # not known to the daemon (yet), or not this peer's account certificate
        return self.pins.check(uri, fingerprint)

    async def _pin_call_peer(self, daemon_call: str) -> None:
        with contextlib.suppress(TelephonyError):
            details = await self._call("getCallDetails", self.account_id, daemon_call)
            uri = peer_uri(details.get("PEER_NUMBER", ""))
            if JAMI_ID.fullmatch(uri):
                await self._check_certificate(uri)

    def _on_conference(self, account: str, conference: str) -> None:
        del account, conference  # the phone learns of it from joinParticipant's success

    def _on_voicemail(self, account: str, new: int, old: int, urgent: int) -> None:
        self._send(VoicemailChanged(account, new))

    def _on_trust_request(
        self, account: str, conversation: str, sender: str, payload: bytes, when: int
    ) -> None:
        if account != self.account_id:
            return
        # Anyone may send a request, so a flood must not grow without end (the daemon keeps them on
        # disk too): past the bound the oldest are discarded, in the daemon as well.
        request = TrustRequest(sender, float(when), bytes(payload))
        self._requests, dropped = trust.take_request(self._requests, request)
        self._discard_in_daemon(dropped)
        self._send(TrustRequestsChanged(len(self._requests)))

    def _discard_in_daemon(self, dropped: list[TrustRequest]) -> None:
        for oldest in dropped:
            log.warning("trust request from %s discarded: more than %d pending", oldest.uri,
                        trust.MAX_TRUST_REQUESTS)  # fmt: skip
            if self._config is not None:
                self._spawn(self._call("discardTrustRequest", self.account_id, oldest.uri))

    def _on_contact_added(self, account: str, uri: str, confirmed: bool) -> None:
        self._refresh_contacts()

    def _on_contact_removed(self, account: str, uri: str, banned: bool) -> None:
        self._refresh_contacts()

    def _refresh_contacts(self) -> None:
        async def read() -> None:
            with contextlib.suppress(TelephonyError):
                self._take_contacts(await self._call("getContacts", self.account_id))

        self._spawn(read())

    def _take_contacts(self, contacts: list[dict[str, str]]) -> None:
        # A banned contact stays in the daemon's list, marked: it must never count as trusted.
        self._blocked = {c["id"] for c in contacts if "id" in c and c.get("banned") == "true"}
        trusted = (c["id"] for c in contacts if "id" in c and c.get("banned") != "true")
        self._send(TrustedContactsChanged(tuple(Contact("", uri) for uri in trusted)))

    # --- the daemon's call ids and the phone's --------------------------------------------------

    def _account(self, call: CallId) -> str:
        return self._call_account.get(call, self.account_id)

    def _id(self, call: CallId) -> str:
        try:
            return self._daemon_id[call]
        except KeyError:
            raise TelephonyError(f"no call {call}") from None

    def _bind_call_id(self, daemon_call: str, local: CallId) -> None:
        """Tie the daemon's id of a call to the phone's, both ways."""
        self._local[daemon_call] = local
        self._daemon_id[local] = daemon_call

    def _replay_early_states(self, daemon_call: str) -> None:
        """Send the states the daemon reported for a call before it had the phone's id."""
        local = self._local[daemon_call]
        for event in self._early.pop(daemon_call, []):
            assert isinstance(event, CallStateChanged)
            self._send(CallStateChanged(local, event.state, event.code))
            if event.state is CallState.OVER:
                self._forget(daemon_call)

    def _forget(self, daemon_call: str) -> None:
        local = self._local.pop(daemon_call, None)
        if local is not None:
            self._daemon_id.pop(local, None)
            self._call_account.pop(local, None)

    # --- reads ----------------------------------------------------------------------------------

    async def _read_state(self) -> None:
        seen = self._account_signals
        volatile = await self._call("getVolatileAccountDetails", self.account_id)
        # Signal handlers run as messages arrive, but this coroutine resumes later: a signal that came
        # in right behind the reply is newer than it and must not be overwritten by it (that left a
        # just-announced account stuck at TRYING, once in ~20 starts).
        if self._account_signals == seen:
            self._take_volatile(volatile)
            self._report_account(self._last_state)
        self._take_contacts(await self._call("getContacts", self.account_id))
        for account in self._sip:
            volatile = await self._call("getVolatileAccountDetails", account)
            self._report_sip(account, volatile.get("Account.registrationStatus", "TRYING"))
        self._requests = {}
        for r in await self._call("getTrustRequests", self.account_id):
            if "from" in r:
                request = TrustRequest(r["from"], float(r.get("received", 0)), r.get("payload", "").encode())
                self._requests, dropped = trust.take_request(self._requests, request)
                self._discard_in_daemon(dropped)
        self._send(TrustRequestsChanged(len(self._requests)))

    async def _settle_registration(self) -> None:
        """Until the account is reported ready, re-read its state now and then. Signals carry it, but
        a new account's first signals race its creation and the first read (seen: an announced
        account left at TRYING, about 1 start in 20); the daemon's own state is the truth."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.announce_timeout_s
        while self._reported is not Registration.REGISTERED and loop.time() < deadline:
            await asyncio.sleep(1.0)
            with contextlib.suppress(TelephonyError):
                volatile = await self._call("getVolatileAccountDetails", self.account_id)
                if not self.jami_id:
                    details = await self._call("getAccountDetails", self.account_id)
                    self.jami_id = details.get(defs.ACCOUNT_USERNAME, "").removeprefix("ring:")
                self._take_volatile(volatile)
                if self._announced and self.jami_id:
                    self._report_account(self._last_state)


async def _nothing() -> None:
    return None
