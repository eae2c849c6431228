"""FakeJamiService: a stand-in for jamid on D-Bus, for the Telephony contract (house style 4).

It exports ``cx.ring.Ring.ConfigurationManager`` and ``cx.ring.Ring.CallManager`` with dbus-fast,
member for member as the installed interface XML declares them (``test_stand_in_signatures``
checks), but only the members the adapter uses. What it does is jamid as measured
(``shared/notes/jamid.md``); where the notes are silent it follows jamid 13.x's source, named at
each place (``SIPCall::onBusyHere`` and so on).

A third object, ``/cx/ring/Ring/StandIn`` (``test.jamid.FarEnd``, not jamid's), is the far end and
the network: a caller ringing in, the callee answering, a peer sending a contact request.

Run as the adapter's ``wrapper`` (``JamiTelephony(wrapper=[python, this file])``), it is handed both
of ``JamiDaemon``'s commands: ``dbus-daemon ...`` is exec'd as it is (same PID, so the adapter stops
it by PID), and ``env -i K=V ... /usr/libexec/jamid -c -p`` becomes this service, with that
environment, on the bus the adapter made. State (accounts, contacts, requests) is kept under
``$XDG_DATA_HOME/jami/<account>/`` as jamid keeps its own, so a killed stand-in comes back with it.
"""

import asyncio
import hashlib
import json
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from dbus_fast import BusType
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusSignature
from dbus_fast.service import ServiceInterface, dbus_method, dbus_signal

SERVICE = "cx.ring.Ring"
CONFIGURATION_PATH = "/cx/ring/Ring/ConfigurationManager"
CALL_PATH = "/cx/ring/Ring/CallManager"
FAR_END_PATH = "/cx/ring/Ring/StandIn"
FAR_END = "test.jamid.FarEnd"

Str = Annotated[str, DBusSignature("s")]
Bool = Annotated[bool, DBusSignature("b")]
Bytes = Annotated[bytes, DBusSignature("ay")]
StrList = Annotated[list[str], DBusSignature("as")]
StrMap = Annotated[dict[str, str], DBusSignature("a{ss}")]
StrMaps = Annotated[list[dict[str, str]], DBusSignature("aa{ss}")]

AUDIO = [
    {"MEDIA_TYPE": "MEDIA_TYPE_AUDIO", "ENABLED": "true", "MUTED": "false", "SOURCE": "", "LABEL": "audio_0"}
]
ECONNABORTED = 103  # Call::peerHungup / SIPCall::refuse: the code of a call ended once it was up
EBUSY = 16  # Call::subcallStateChanged: PEER_BUSY's code for a Jami call (std::errc::device_or_resource_busy)


def _delay(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass
class Account:
    id: str
    details: dict[str, str]
    device: str
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)  # uri -> added/removed/confirmed/banned
    requests: dict[str, dict[str, str]] = field(default_factory=dict)  # uri -> getTrustRequests' entry
    # conversation -> getConversationRequests' entry (ConversationRequest::toMap)
    conversation_requests: dict[str, dict[str, str]] = field(default_factory=dict)
    status: str = "INITIALIZING"
    announced: bool = False

    @property
    def volatile(self) -> dict[str, str]:
        return {
            "Account.registrationStatus": self.status,
            "Account.deviceAnnounced": "true" if self.announced else "false",
            "Account.deviceID": self.device,
            "Account.registeredName": "",
        }

    def banned(self, uri: str) -> bool:
        return bool(self.contacts.get(uri, {}).get("banned"))


@dataclass
class Call:
    id: str
    account: str
    peer: str
    incoming: bool
    name: str = ""
    state: str = ""


class FakeJamiService:
    """jamid's state and behaviour; the three interfaces below are its faces on the bus."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.register_delay_s = _delay("STANDIN_REGISTER_DELAY_S", 0.8)  # measured: 0.8 s for one account
        self.ring_delay_s = _delay("STANDIN_RING_DELAY_S", 0.35)  # measured: 0.3-3 s
        self.answer_delay_s = 0.045  # measured: CURRENT ~45 ms after accept
        self.identity_delay_s = 0.1  # the account's keys being made
        self.clone_delay_s = 0.1  # a conversation being cloned from its peer
        self.accounts: dict[str, Account] = {}
        self.calls: dict[str, Call] = {}
        self.latest = ""
        self.known_peers: set[str] = set()  # peers whose certificate the daemon has seen
        self.heard_dtmf: list[str] = []
        self.muted: dict[str, bool] = {}  # call -> its capture muted (muteLocalMedia)
        self.playback_muted = False  # what the far ends say, towards the phone (mutePlayback)
        self.config = ConfigurationManager(self)
        self.call_manager = CallManager(self)
        self.far_end = FarEnd(self)
        self._load()

    # --- accounts ----------------------------------------------------------------------------

    def _load(self) -> None:
        """The accounts on disk, loaded at start: INITIALIZING and UNREGISTERED pass before any
        client is on the bus, so they are TRYING, then registered as a new one would be."""
        for path in sorted((self.data / "jami").glob("*/standin.json")):
            saved = json.loads(path.read_text())
            account = Account(path.parent.name, saved["details"], saved["device"], saved["contacts"],
                              saved["requests"], saved["conversation_requests"], status="TRYING")  # fmt: skip
            self.accounts[account.id] = account
            self.known_peers |= set(account.contacts) | set(account.requests)

    def start_registering(self) -> None:
        for account in self.accounts.values():
            self._later(self.register_delay_s, self._registered, account.id)

    def save(self, account: Account) -> None:
        directory = self.data / "jami" / account.id
        directory.mkdir(parents=True, exist_ok=True)
        saved = {"details": account.details, "device": account.device, "contacts": account.contacts,
                 "requests": account.requests, "conversation_requests": account.conversation_requests}  # fmt: skip
        (directory / "standin.json").write_text(json.dumps(saved))

    def add_account(self, details: dict[str, str]) -> str:
        account_id = secrets.token_hex(8)  # jamid's account ids are 16 hex digits
        kept = {
            k: v for k, v in details.items() if k not in ("Account.archivePassword", "Account.archivePath")
        }
        account = Account(
            account_id,
            {"Account.alias": "", "Account.displayName": "", "Account.hostname": "bootstrap.jami.net",
             **kept, "Account.username": ""},
            device=secrets.token_hex(32),
        )  # fmt: skip
        self.accounts[account_id] = account
        self.save(account)
        self._later(self.identity_delay_s, self._identity_made, account_id)
        return account_id

    def _identity_made(self, account_id: str) -> None:
        account = self.accounts.get(account_id)
        if account is None:
            return
        account.details["Account.username"] = secrets.token_hex(20)
        self.save(account)
        for state in ("UNREGISTERED", "TRYING"):
            self._set_registration(account, state)
        self._later(self.register_delay_s, self._registered, account_id)

    def _registered(self, account_id: str) -> None:
        if (account := self.accounts.get(account_id)) is not None:
            self._set_registration(account, "REGISTERED")
            self._later(0.05, self._announced, account_id)

    def _announced(self, account_id: str) -> None:
        if (account := self.accounts.get(account_id)) is not None:
            account.announced = True
            self.config.volatile_account_details_changed(account.id, account.volatile)

    def _set_registration(self, account: Account, state: str) -> None:
        account.status = state
        self.config.registration_state_changed(account.id, state, 0, "")
        self.config.volatile_account_details_changed(account.id, account.volatile)

    def account(self, account_id: str) -> Account:
        try:
            return self.accounts[account_id]
        except KeyError:
            raise ValueError(f"no account {account_id}") from None

    def jami_account(self) -> Account:
        return next(a for a in self.accounts.values() if a.details.get("Account.type") == "RING")

    # --- contacts (jamid's ContactList) ------------------------------------------------------

    def contacts(self, account_id: str) -> list[dict[str, str]]:
        """getContacts: the active contacts and the banned ones (marked), not the removed."""
        listed = []
        for uri, contact in self.account(account_id).contacts.items():
            if contact["banned"]:
                listed.append({"id": uri, "added": str(contact["added"]), "banned": "true"})
            elif not contact["removed"]:
                listed.append({"id": uri, "added": str(contact["added"]),
                               "confirmed": "true" if contact["confirmed"] else "false"})  # fmt: skip
        return listed

    def add_contact(self, account: Account, uri: str, confirmed: bool) -> None:
        account.contacts[uri] = {
            "added": int(time.time()),
            "removed": 0,
            "confirmed": confirmed,
            "banned": False,
        }
        self.known_peers.add(uri)
        self.save(account)
        self.config.contact_added(account.id, uri, confirmed)

    def remove_contact(self, account_id: str, uri: str, ban: bool) -> None:
        """ContactList::removeContact: a ban keeps the contact, marked; without one it goes."""
        account = self.account(account_id)
        contact = account.contacts.setdefault(uri, {"added": 0, "confirmed": False})
        contact.update(removed=int(time.time()), banned=ban)
        if ban:
            account.requests.pop(uri, None)
        self.save(account)
        self.config.contact_removed(account.id, uri, ban)

    def accept_request(self, account_id: str, uri: str) -> bool:
        """JamiAccount::acceptTrustRequest: the request's sender a contact and its conversation
        joined (AccountManager::sendTrustRequestConfirm); with no request, the peer is made a
        contact all the same, unless it is one already."""
        account = self.account(account_id)
        request = account.requests.pop(uri, None)
        if request is None:
            current = account.contacts.get(uri)
            if current is not None and not current["removed"] and current["confirmed"]:
                return False
        self.add_contact(account, uri, confirmed=True)  # measured: contactAdded(acc, uri, true)
        if request is not None and request.get("conversationId"):
            self._join(account, request["conversationId"])
        return True

    def discard_request(self, account_id: str, uri: str) -> bool:
        """JamiAccount::discardTrustRequest: the request's conversation request declined too."""
        account = self.account(account_id)
        request = account.requests.pop(uri, None)
        if request is None:
            return False
        self.save(account)
        if request.get("conversationId") in account.conversation_requests:
            self.decline_conversation(account_id, request["conversationId"])
        return True

    def accept_conversation(self, account_id: str, conversation: str) -> None:
        """ConversationModule::acceptConversationRequest: the request goes, the trust request of
        its sender is accepted if there is one (the module's callback), the conversation is cloned."""
        account = self.account(account_id)
        request = account.conversation_requests.get(conversation)
        if request is None:
            return  # "Request not found": a warning in the daemon's log, nothing else
        sender = request["from"]
        if sender in account.requests:
            self.accept_request(account_id, sender)
        else:
            self._join(account, conversation)

    def decline_conversation(self, account_id: str, conversation: str) -> None:
        """JamiAccount::declineConversationRequest: declined (kept, marked, never listed again), the
        trust request of the same conversation discarded; the signal is sent in any case."""
        account = self.account(account_id)
        request = account.conversation_requests.pop(conversation, None)
        if request is not None:
            pending = account.requests.get(request["from"], {})
            if pending.get("conversationId") == conversation:
                del account.requests[request["from"]]
        self.save(account)
        self.config.conversation_request_declined(account.id, conversation)

    def _join(self, account: Account, conversation: str) -> None:
        account.conversation_requests.pop(conversation, None)
        self.save(account)
        # measured: conversationReady ~0.9 s after accepting, once cloned from the peer
        self._later(self.clone_delay_s, self.config.conversation_ready, account.id, conversation)

    def send_request(self, account_id: str, uri: str) -> None:
        """AccountManager::sendTrustRequest adds the peer as a contact, unconfirmed, then sends."""
        account = self.account(account_id)
        current = account.contacts.get(uri)
        if current is None or current["removed"]:
            self.add_contact(account, uri, confirmed=False)

    def request_arrives(self, uri: str, payload: bytes) -> None:
        """A current Jami app's contact request (addContact, then sendTrustRequest): a trust
        request with its one-to-one conversation, then that conversation's request, whose title
        is the vCard's FN (ConversationModule::onTrustRequest; measured: "Alice\r" from a CRLF card)."""
        account = self.jami_account()
        if account.banned(uri):  # ContactList::onTrustRequest: a banned peer's request is dropped
            return
        received = int(time.time())
        conversation = secrets.token_hex(20)
        account.requests[uri] = {"from": uri, "received": str(received), "conversationId": conversation,
                                 "payload": payload.decode("utf-8", "replace")}  # fmt: skip
        names = [
            line[3:] for line in payload.decode("utf-8", "replace").split("\n") if line.startswith("FN:")
        ]
        metadata = {"title": names[0]} if names else {}
        account.conversation_requests[conversation] = {"from": uri, "id": conversation, "received": str(received),
                                                       **metadata}  # fmt: skip
        self.known_peers.add(uri)
        self.save(account)
        self.config.incoming_trust_request(account.id, conversation, uri, payload, received)
        self.config.conversation_request_received(account.id, conversation,
                                                  account.conversation_requests[conversation])  # fmt: skip

    def invitation_arrives(self, uri: str, conversation: str, mode: str) -> None:
        """A conversation request alone (ConversationModule::onConversationRequest): an invite to
        a group (mode 1-3), or a one-to-one's (mode 0) re-sent without a trust request."""
        account = self.jami_account()
        received = int(time.time())
        account.conversation_requests[conversation] = {"from": uri, "id": conversation, "mode": mode,
                                                       "received": str(received)}  # fmt: skip
        self.save(account)
        self.config.conversation_request_received(account.id, conversation,
                                                  account.conversation_requests[conversation])  # fmt: skip

    def certificate(self, uri: str) -> dict[str, str]:
        if uri not in self.known_peers:
            return {}
        fingerprint = hashlib.sha1(f"certificate {uri}".encode(), usedforsecurity=False).hexdigest()
        return {"SHA1_FINGERPRINT": fingerprint, "PUBLIC_KEY_ID": uri}

    # --- calls --------------------------------------------------------------------------------

    def _set_state(self, call: Call, state: str, code: int = 0) -> None:
        """Call::setState: the client hears of a change only."""
        if call.state == state:
            return
        call.state = state
        self.call_manager.call_state_changed(call.account, call.id, state, code)
        if state == "OVER":
            self.calls.pop(call.id, None)

    def _new_call(self, account: str, peer: str, incoming: bool, name: str = "") -> Call:
        call = Call(str(secrets.randbelow(10**16)), account, peer, incoming, name)
        self.calls[call.id] = call
        self.latest = call.id
        return call

    def place_call(self, account_id: str, to: str) -> str:
        self.account(account_id)
        call = self._new_call(account_id, to, incoming=False)
        self._set_state(call, "CONNECTING")  # before placeCallWithMedia answers: the adapter keeps it
        self._later(self.ring_delay_s, self._peer_ringing, call.id)
        return call.id

    def _peer_ringing(self, call_id: str) -> None:
        if (call := self.calls.get(call_id)) is not None and call.state == "CONNECTING":
            self._set_state(call, "RINGING")

    def call(self, call_id: str) -> Call | None:
        return self.calls.get(call_id)

    def accept(self, call_id: str) -> bool:
        call = self.calls.get(call_id)
        if call is None or not call.incoming or call.state != "INCOMING":
            return False
        self._later(self.answer_delay_s, self._answered, call_id)
        return True

    def _answered(self, call_id: str) -> None:
        if (call := self.calls.get(call_id)) is not None and call.state in ("INCOMING", "RINGING"):
            self._set_state(call, "CURRENT")

    def refuse(self, call_id: str) -> bool:
        """SIPCall::refuse: DISCONNECTED while INACTIVE reads INACTIVE (ECONNABORTED), then OVER."""
        call = self.calls.get(call_id)
        if call is None or not call.incoming or call.state == "CURRENT":
            return False
        self._set_state(call, "INACTIVE", ECONNABORTED)
        self._set_state(call, "OVER")
        return True

    def hang_up(self, call_id: str) -> bool:
        call = self.calls.get(call_id)
        if call is None:
            return False
        up = call.state in ("CURRENT", "HOLD") or not call.incoming
        self._set_state(call, "HUNGUP" if up else "INACTIVE")
        self._set_state(call, "OVER")
        return True

    def hold(self, call_id: str, held: bool) -> bool:
        call = self.calls.get(call_id)
        if call is None or call.state != ("CURRENT" if held else "HOLD"):
            return False
        self._set_state(call, "HOLD" if held else "CURRENT")
        return True

    def join(self, account: str, first: str, second: str) -> bool:
        calls = [self.calls.get(first), self.calls.get(second)]
        if None in calls:
            return False
        for call in calls:
            if call is not None and call.state == "HOLD":
                self._set_state(call, "CURRENT")  # a held call is resumed into the conference
        self.call_manager.conference_created(account, str(secrets.randbelow(10**16)))
        return True

    def details(self, call_id: str) -> dict[str, str]:
        call = self.calls.get(call_id)
        if call is None:
            return {}
        return {"PEER_NUMBER": call.peer, "DISPLAY_NAME": call.name, "CALL_STATE": call.state,
                "ACCOUNTID": call.account, "CALL_TYPE": "0" if call.incoming else "1"}  # fmt: skip

    # --- the far end ----------------------------------------------------------------------------

    def ring_in(self, uri: str, name: str) -> str:
        account = self.jami_account()
        if account.banned(uri):
            return ""  # measured: the daemon drops a banned peer's call without a word
        self.known_peers.add(uri)  # the call's TLS session carried its certificate
        call = self._new_call(account.id, f"{uri}@ring.dht", incoming=True, name=name)
        self._set_state(call, "CONNECTING")  # measured, callee: CONNECTING -> INACTIVE -> INCOMING
        self._set_state(call, "INACTIVE")
        self.call_manager.incoming_call_with_media(account.id, call.id, call.peer, AUDIO)
        self._set_state(call, "INCOMING")
        return call.id

    def _latest(self) -> Call:
        call = self.calls.get(self.latest)
        if call is None:
            raise ValueError("there is no call at the far end")
        return call

    def remote_answer(self) -> None:
        call = self._latest()
        if not call.incoming:
            self._set_state(call, "CURRENT")

    def remote_busy(self) -> None:
        """SIPCall::onBusyHere on an outgoing call: PEER_BUSY, then removeCall: OVER."""
        call = self._latest()
        self._set_state(call, "PEER_BUSY", EBUSY)
        self._set_state(call, "OVER")

    def remote_hangup(self) -> None:
        """Call::peerHungup: HUNGUP (ECONNABORTED) once up; before that INACTIVE; then OVER."""
        call = self._latest()
        up = call.state in ("CURRENT", "HOLD") or not call.incoming
        self._set_state(call, "HUNGUP" if up else "INACTIVE", ECONNABORTED)
        self._set_state(call, "OVER")

    # --- plumbing -----------------------------------------------------------------------------

    def _later(self, delay: float, callback: Any, *args: Any) -> None:
        asyncio.get_running_loop().call_later(delay, callback, *args)


class ConfigurationManager(ServiceInterface):
    def __init__(self, jamid: FakeJamiService) -> None:
        super().__init__("cx.ring.Ring.ConfigurationManager")
        self.jamid = jamid

    @dbus_method(name="mutePlayback")
    def mute_playback(self, mute: Bool) -> None:
        self.jamid.playback_muted = mute

    @dbus_method(name="getAccountList")
    def get_account_list(self) -> StrList:
        return list(self.jamid.accounts)

    @dbus_method(name="addAccount")
    def add_account(self, details: StrMap) -> Str:
        return self.jamid.add_account(details)

    @dbus_method(name="removeAccount")
    def remove_account(self, account: Str) -> None:
        self.jamid.accounts.pop(account, None)

    @dbus_method(name="getAccountDetails")
    def get_account_details(self, account: Str) -> StrMap:
        found = self.jamid.accounts.get(account)
        return dict(found.details) if found else {}

    @dbus_method(name="setAccountDetails")
    def set_account_details(self, account: Str, details: StrMap) -> None:
        found = self.jamid.account(account)
        found.details.update(details)
        self.jamid.save(found)

    @dbus_method(name="getVolatileAccountDetails")
    def get_volatile_account_details(self, account: Str) -> StrMap:
        found = self.jamid.accounts.get(account)
        return found.volatile if found else {}

    @dbus_method(name="getContacts")
    def get_contacts(self, account: Str) -> StrMaps:
        return self.jamid.contacts(account)

    @dbus_method(name="getTrustRequests")
    def get_trust_requests(self, account: Str) -> StrMaps:
        return [dict(r) for r in self.jamid.account(account).requests.values()]

    @dbus_method(name="acceptTrustRequest")
    def accept_trust_request(self, account: Str, sender: Str) -> Bool:
        return self.jamid.accept_request(account, sender)

    @dbus_method(name="discardTrustRequest")
    def discard_trust_request(self, account: Str, sender: Str) -> Bool:
        return self.jamid.discard_request(account, sender)

    @dbus_method(name="getConversationRequests")
    def get_conversation_requests(self, account: Str) -> StrMaps:
        return [dict(r) for r in self.jamid.account(account).conversation_requests.values()]

    @dbus_method(name="acceptConversationRequest")
    def accept_conversation_request(self, account: Str, conversation: Str) -> None:
        self.jamid.accept_conversation(account, conversation)

    @dbus_method(name="declineConversationRequest")
    def decline_conversation_request(self, account: Str, conversation: Str) -> None:
        self.jamid.decline_conversation(account, conversation)

    @dbus_method(name="sendTrustRequest")
    def send_trust_request(self, account: Str, to: Str, payload: Bytes) -> None:
        self.jamid.send_request(account, to)

    @dbus_method(name="removeContact")
    def remove_contact(self, account: Str, uri: Str, ban: Bool) -> None:
        self.jamid.remove_contact(account, uri, ban)

    @dbus_method(name="getCertificateDetails")
    def get_certificate_details(self, certificate: Str) -> StrMap:
        return self.jamid.certificate(certificate)

    @dbus_signal(name="registrationStateChanged")
    def registration_state_changed(
        self, account, state, code, detail
    ) -> Annotated[tuple, DBusSignature("ssis")]:
        return (account, state, code, detail)

    @dbus_signal(name="volatileAccountDetailsChanged")
    def volatile_account_details_changed(self, account, details) -> Annotated[tuple, DBusSignature("sa{ss}")]:
        return (account, details)

    @dbus_signal(name="incomingTrustRequest")
    def incoming_trust_request(
        self, account, conversation, sender, payload, when
    ) -> Annotated[tuple, DBusSignature("sssayt")]:
        return (account, conversation, sender, payload, when)

    @dbus_signal(name="conversationRequestReceived")
    def conversation_request_received(
        self, account, conversation, metadata
    ) -> Annotated[tuple, DBusSignature("ssa{ss}")]:
        return (account, conversation, metadata)

    @dbus_signal(name="conversationRequestDeclined")
    def conversation_request_declined(self, account, conversation) -> Annotated[tuple, DBusSignature("ss")]:
        return (account, conversation)

    @dbus_signal(name="conversationReady")
    def conversation_ready(self, account, conversation) -> Annotated[tuple, DBusSignature("ss")]:
        return (account, conversation)

    @dbus_signal(name="contactAdded")
    def contact_added(self, account, uri, confirmed) -> Annotated[tuple, DBusSignature("ssb")]:
        return (account, uri, confirmed)

    @dbus_signal(name="contactRemoved")
    def contact_removed(self, account, uri, banned) -> Annotated[tuple, DBusSignature("ssb")]:
        return (account, uri, banned)


MediaList = StrMaps


class CallManager(ServiceInterface):
    def __init__(self, jamid: FakeJamiService) -> None:
        super().__init__("cx.ring.Ring.CallManager")
        self.jamid = jamid

    @dbus_method(name="placeCallWithMedia")
    def place_call_with_media(self, account: Str, to: Str, media: MediaList) -> Str:
        return self.jamid.place_call(account, to)

    @dbus_method(name="acceptWithMedia")
    def accept_with_media(self, account: Str, call: Str, media: MediaList) -> Bool:
        return self.jamid.accept(call)

    @dbus_method(name="refuse")
    def refuse(self, account: Str, call: Str) -> Bool:
        return self.jamid.refuse(call)

    @dbus_method(name="hangUp")
    def hang_up(self, account: Str, call: Str) -> Bool:
        return self.jamid.hang_up(call)

    @dbus_method(name="hold")
    def hold(self, account: Str, call: Str) -> Bool:
        return self.jamid.hold(call, held=True)

    @dbus_method(name="unhold")
    def unhold(self, account: Str, call: Str) -> Bool:
        return self.jamid.hold(call, held=False)

    @dbus_method(name="joinParticipant")
    def join_participant(self, account: Str, call: Str, account2: Str, call2: Str) -> Bool:
        return self.jamid.join(account, call, call2)

    @dbus_method(name="muteLocalMedia")
    def mute_local_media(self, account: Str, call: Str, media: Str, mute: Bool) -> Bool:
        if call not in self.jamid.calls or media != "MEDIA_TYPE_AUDIO":
            return False
        self.jamid.muted[call] = mute
        return True

    @dbus_method(name="playDTMF")
    def play_dtmf(self, key: Str) -> None:
        self.jamid.heard_dtmf.append(key)  # measured: no call argument, the current call's

    @dbus_method(name="getCallDetails")
    def get_call_details(self, account: Str, call: Str) -> StrMap:
        return self.jamid.details(call)

    @dbus_signal(name="callStateChanged")
    def call_state_changed(self, account, call, state, code) -> Annotated[tuple, DBusSignature("sssi")]:
        return (account, call, state, code)

    @dbus_signal(name="incomingCallWithMedia")
    def incoming_call_with_media(
        self, account, call, caller, media
    ) -> Annotated[tuple, DBusSignature("sssaa{ss}")]:
        return (account, call, caller, media)

    @dbus_signal(name="conferenceCreated")
    def conference_created(self, account, conference) -> Annotated[tuple, DBusSignature("ss")]:
        return (account, conference)


class FarEnd(ServiceInterface):
    """The other side of every call and request (the test's, not jamid's)."""

    def __init__(self, jamid: FakeJamiService) -> None:
        super().__init__(FAR_END)
        self.jamid = jamid

    @dbus_method(name="RingIn")
    def ring_in(self, uri: Str, name: Str) -> Str:
        return self.jamid.ring_in(uri, name)

    @dbus_method(name="RemoteAnswer")
    def remote_answer(self) -> None:
        self.jamid.remote_answer()

    @dbus_method(name="RemoteBusy")
    def remote_busy(self) -> None:
        self.jamid.remote_busy()

    @dbus_method(name="RemoteHangup")
    def remote_hangup(self) -> None:
        self.jamid.remote_hangup()

    @dbus_method(name="TrustRequest")
    def trust_request(self, uri: Str, payload: Bytes) -> None:
        self.jamid.request_arrives(uri, payload)

    @dbus_method(name="Invite")
    def invite(self, uri: Str, conversation: Str, mode: Str) -> None:
        self.jamid.invitation_arrives(uri, conversation, mode)

    @dbus_method(name="Muted")
    def muted(self) -> StrList:
        return sorted(call for call, on in self.jamid.muted.items() if on)

    @dbus_method(name="PlaybackMuted")
    def playback_muted(self) -> Bool:
        return self.jamid.playback_muted

    @dbus_method(name="HeardDtmf")
    def heard_dtmf(self) -> StrList:
        return list(self.jamid.heard_dtmf)


async def serve(address: str, data: Path) -> None:
    jamid = FakeJamiService(data)
    bus = await MessageBus(bus_address=address, bus_type=BusType.SESSION).connect()
    bus.export(CONFIGURATION_PATH, jamid.config)
    bus.export(CALL_PATH, jamid.call_manager)
    bus.export(FAR_END_PATH, jamid.far_end)
    await bus.request_name(SERVICE)  # last: once the name shows, every object is there
    jamid.start_registering()
    print(f"stand-in jamid on {address}, data in {data}", flush=True)
    await bus.wait_for_disconnect()


def main(argv: list[str]) -> None:
    """Play JamiDaemon's two commands: the bus as it is, jamid as this service."""
    if Path(argv[0]).name == "dbus-daemon":
        os.execvp(argv[0], argv)  # the same process: its PID is the bus's
    if argv[0] != "env":
        raise SystemExit(f"stand-in jamid: unexpected command {argv}")
    env = {}
    for arg in argv[1:]:
        if arg == "-i":
            continue
        if "=" not in arg or arg.startswith("/"):
            break
        key, _, value = arg.partition("=")
        env[key] = value
    os.environ.update(env)
    asyncio.run(serve(env["DBUS_SESSION_BUS_ADDRESS"], Path(env["XDG_DATA_HOME"])))


if __name__ == "__main__":
    main(sys.argv[1:])
