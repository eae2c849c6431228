"""The daemon's state as it reaches the adapter: signals, each turned into one phone event, and
the reads behind them (after subscribing, and until a new account is seen ready).

Incoming calls are admitted here (a blocked caller refused before any ring, a caller's certificate
checked against its pin), trust requests bounded, contacts followed.

A current Jami app asks to be a contact with a swarm: it makes a one-to-one conversation and sends
its request with the conversation's id (the peer does ``addContact`` then ``sendTrustRequest``,
as jami-daemon's own tests do). This daemon reports it twice, ``incomingTrustRequest`` with the
conversation's id, then ``conversationRequestReceived`` with its metadata
(``ConversationModule::onTrustRequest``); a conversation request may also come alone (an invite
re-sent by the peer, or a group's). Both are kept as one contact request per sender, with its
conversation; an invitation to a group conversation (its metadata has a mode other than
one-to-one) is kept apart, for the phone to decline in private mode. Both lists are read again at
every start, so what came while the phone was down is there.
"""

# ruff: noqa: ARG002 - signal handlers take every argument the D-Bus signal has

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from typing import Any

from appliance.phone import trust
from appliance.phone.directory import JAMI_ID
from appliance.phone.events import (
    CallArrived,
    CallState,
    CallStateChanged,
    Event,
    InvitationsChanged,
    TrustedContactsChanged,
    TrustRequestsChanged,
    VoicemailChanged,
)
from appliance.phone.model import CallId, Contact, Registration
from appliance.phone.trust import Invitation, Verdict
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
        self._invitations: dict[str, Invitation] = {}  # group conversation -> its invitation
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
        config.on_conversation_request_received(self._on_conversation_request)
        config.on_conversation_request_declined(self._on_conversation_gone)
        config.on_conversation_ready(self._on_conversation_gone)
        config.on_contact_added(self._on_contact_added)
        config.on_contact_removed(self._on_contact_removed)

    def _on_registration(self, account: str, state: str, code: int, detail: str) -> None:
        if account in self._sip:
            self._sip_signals[account] = self._sip_signals.get(account, 0) + 1
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
        self._take_request(TrustRequest(sender, float(when), bytes(payload), conversation))
        self._send(TrustRequestsChanged(len(self._requests)))

    def _on_conversation_request(self, account: str, conversation: str, metadata: dict[str, str]) -> None:
        if account != self.account_id:
            return
        if self._take_conversation_request({**metadata, defs.REQUEST_CONVERSATION: conversation}):
            self._send(TrustRequestsChanged(len(self._requests)))
        else:
            self._send_invitations()

    def _on_conversation_gone(self, account: str, conversation: str) -> None:
        """Declined or joined (here, or on another device of the account): no longer pending."""
        if account != self.account_id:
            return
        if self._invitations.pop(conversation, None) is not None:
            self._send_invitations()
        senders = [r.uri for r in self._requests.values() if r.conversation == conversation]
        for uri in senders:
            del self._requests[uri]
        if senders:
            self._send(TrustRequestsChanged(len(self._requests)))

    def _take_request(self, request: TrustRequest) -> None:
        # Anyone may send a request, so a flood must not grow without end (the daemon keeps them on
        # disk too): past the bound the oldest are discarded, in the daemon as well.
        self._requests, dropped = trust.take_request(self._requests, request)
        for oldest in dropped:
            log.warning("trust request from %s discarded: more than %d pending", oldest.uri,
                        trust.MAX_TRUST_REQUESTS)  # fmt: skip
            if self._config is not None:
                self._spawn(self._forget_request(oldest))

    def _take_conversation_request(self, metadata: dict[str, str]) -> bool:
        """Keep a conversation request: a contact request (True), unless its sender's is pending
        already (then only its conversation is noted), or a group invitation (False)."""
        conversation = metadata.get(defs.REQUEST_CONVERSATION, "")
        sender = metadata.get(defs.REQUEST_FROM, "")
        received = _seconds(metadata.get(defs.REQUEST_RECEIVED, ""))
        if not conversation or not JAMI_ID.fullmatch(sender):
            return True  # nothing to keep: not a request anyone could answer
        if sender in self._blocked:  # a banned peer's: the daemon keeps a ban for trust requests only
            self._spawn(self._call("declineConversationRequest", self.account_id, conversation))
            return True
        if metadata.get(defs.REQUEST_MODE, defs.ONE_TO_ONE) != defs.ONE_TO_ONE:
            invitation = Invitation(conversation, sender, received)
            self._invitations, dropped = trust.take_invitation(self._invitations, invitation)
            for oldest in dropped:
                log.warning("invitation to %s declined: more than %d pending", oldest.conversation,
                            trust.MAX_INVITATIONS)  # fmt: skip
                self._spawn(self._call("declineConversationRequest", self.account_id, oldest.conversation))
            return False
        pending = self._requests.get(sender)
        if pending is not None:  # the same request, told twice (incomingTrustRequest came first)
            if not pending.conversation:
                self._requests[sender] = replace(pending, conversation=conversation)
            return True
        # Its title is the FN of the vCard the request carried (ConversationRepository::infosFromVCard).
        title = "".join(c for c in metadata.get(defs.REQUEST_TITLE, "") if c.isprintable()).strip()
        vcard = f"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:{title}\r\nEND:VCARD\r\n".encode() if title else b""
        self._take_request(TrustRequest(sender, received, vcard, conversation))
        return True

    async def _forget_request(self, request: TrustRequest) -> None:
        """Discard ``request`` in the daemon: its conversation request declined (which discards the
        trust request of the same conversation too: JamiAccount::declineConversationRequest), or,
        from an app before swarms, the trust request alone."""
        if request.conversation:
            await self._call("declineConversationRequest", self.account_id, request.conversation)
        else:
            await self._call_expecting_true("discardTrustRequest", self.account_id, request.uri)

    def _send_invitations(self) -> None:
        self._send(InvitationsChanged(tuple(self._invitations)))

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
        if self.account_id:  # none when the JAMS did not enrol the phone
            seen = self._account_signals
            volatile = await self._call("getVolatileAccountDetails", self.account_id)
            # Signal handlers run as messages arrive, but this coroutine resumes later: a signal that
            # came in right behind the reply is newer than it and must not be overwritten by it (that
            # left a just-announced account stuck at TRYING, once in ~20 starts).
            if self._account_signals == seen:
                self._take_volatile(volatile)
                self._report_account(self._last_state)
            self._take_contacts(await self._call("getContacts", self.account_id))
        for account in self._sip:
            seen = self._sip_signals.get(account, 0)
            volatile = await self._call("getVolatileAccountDetails", account)
            # The same race for a SIP line: the daemon sends its REGISTER within addAccount, so the
            # registrar's answer can turn into a REGISTERED signal right behind a reply that still
            # says TRYING; applied after it, the read left the line at TRYING for good (made to
            # happen every time with a registrar answering 300 ms late and a busy event loop).
            if self._sip_signals.get(account, 0) == seen:
                self._report_sip(account, volatile.get("Account.registrationStatus", "TRYING"))
        # Requests the daemon keeps (also those that came while the phone was down): contact
        # requests, then the conversation requests behind them and any that came alone.
        self._requests, self._invitations = {}, {}
        for r in await self._call("getTrustRequests", self.account_id) if self.account_id else []:
            if "from" in r:
                payload = r.get("payload", "").encode()
                received = _seconds(r.get("received", ""))
                self._take_request(TrustRequest(r["from"], received, payload, r.get("conversationId", "")))
        for metadata in (
            await self._call("getConversationRequests", self.account_id) if self.account_id else []
        ):
            self._take_conversation_request(metadata)
        self._send(TrustRequestsChanged(len(self._requests)))
        self._send_invitations()

    async def _settle_registration(self) -> None:
        """Until the account is reported ready, re-read its state now and then. Signals carry it, but
        a new account's first signals race its creation and the first read (seen: an announced
        account left at TRYING, about 1 start in 20); the daemon's own state is the truth."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.announce_timeout_s
        while self.account_id and self._reported is not Registration.REGISTERED and loop.time() < deadline:
            await asyncio.sleep(1.0)
            with contextlib.suppress(TelephonyError):
                seen = self._account_signals
                volatile = await self._call("getVolatileAccountDetails", self.account_id)
                if not self.jami_id:
                    details = await self._call("getAccountDetails", self.account_id)
                    self.jami_id = details.get(defs.ACCOUNT_USERNAME, "").removeprefix("ring:")
                if self._account_signals != seen:
                    continue  # a signal newer than this read came meanwhile: it told the phone
                self._take_volatile(volatile)
                if self._announced and self.jami_id:
                    self._report_account(self._last_state)


async def _nothing() -> None:
    return None


def _seconds(text: str) -> float:
    """The daemon's epoch seconds as text; 0 when it gives none (or nonsense)."""
    try:
        return float(text)
    except ValueError:
        return 0.0
