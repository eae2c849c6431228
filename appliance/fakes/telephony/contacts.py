"""The fake telephony core's contacts: trust requests, group invitations, blocked peers and the
certificates pinned at first contact, with the far end's stimuli that send requests and invitations.
The pinning and the bounds are :mod:`appliance.phone.trust`'s, as the real adapter's."""

from __future__ import annotations

import time

from appliance.phone import trust
from appliance.phone.events import InvitationsChanged, TrustedContactsChanged, TrustRequestsChanged
from appliance.phone.model import Contact
from appliance.ports import PeerIdentity, TelephonyError, TrustRequest

from .base import FakeCore, fake_jami_id


class FakeContacts(FakeCore):
    """The contacts half of the Telephony port, and the peers' side of it."""

    def __init__(self) -> None:
        super().__init__()
        self.contacts: list[Contact] = []
        self._requests: dict[str, TrustRequest] = {}
        self._invitations: dict[str, trust.Invitation] = {}  # group conversation -> its invitation
        self.sent_requests: list[tuple[str, bytes]] = []
        self._blocked: set[str] = set()
        self._identities: dict[str, PeerIdentity] = {}
        self.sent_files: list[tuple[str, str, bytes]] = []  # (to, name, data) sent by send_file

    def trust_requests(self) -> list[TrustRequest]:
        return list(self._requests.values())

    async def accept_trust_request(self, uri: str) -> None:
        request = self._requests.pop(uri, None)
        if request is None:
            raise TelephonyError(f"no trust request from {uri}")
        self.contacts.append(Contact(name="", uri=uri))
        self._send(TrustRequestsChanged(len(self._requests)))
        self._send(TrustedContactsChanged(tuple(self.contacts)))

    async def discard_trust_request(self, uri: str) -> None:
        if self._requests.pop(uri, None) is None:
            raise TelephonyError(f"no trust request from {uri}")
        self._send(TrustRequestsChanged(len(self._requests)))

    async def decline_invitation(self, conversation: str) -> None:
        if self._invitations.pop(conversation, None) is None:
            raise TelephonyError(f"no invitation to {conversation}")
        self._record("decline-invitation", conversation=conversation)
        self._send_invitations()

    def invitations(self) -> list[trust.Invitation]:
        return list(self._invitations.values())

    async def send_trust_request(self, uri: str, vcard: bytes) -> None:
        self.sent_requests.append((uri, vcard))
        # As jamid (AccountManager::sendTrustRequest): the peer is a contact at once, unconfirmed.
        if uri not in {c.uri for c in self.contacts}:
            self.contacts.append(Contact(name="", uri=uri))
            self._send(TrustedContactsChanged(tuple(self.contacts)))

    async def block(self, uri: str) -> None:
        self._requests.pop(uri, None)
        self.contacts = [c for c in self.contacts if c.uri != uri]
        self._blocked.add(uri)
        self._send(TrustRequestsChanged(len(self._requests)))
        self._send(TrustedContactsChanged(tuple(self.contacts)))

    async def unblock(self, uri: str) -> None:
        self._blocked.discard(uri)

    def blocked(self) -> list[str]:
        return sorted(self._blocked)

    async def send_file(self, to: str, name: str, data: bytes) -> None:
        """A file into the conversation with ``to`` (:class:`~appliance.ports.FileSender`)."""
        if to in self._blocked:
            raise TelephonyError(f"{to} is blocked on this phone")
        self._record("send-file", to=to, name=name)
        self.sent_files.append((to, name, data))

    def identities(self) -> dict[str, PeerIdentity]:
        return dict(self._identities)

    async def accept_identity(self, uri: str) -> PeerIdentity:
        try:
            self._identities[uri] = trust.accept_identity(self._identities, uri, time.time())
        except KeyError:
            raise TelephonyError(f"no changed certificate for {uri}") from None
        return self._identities[uri]

    def receive_trust_request(self, uri: str, vcard: bytes = b"", conversation: str | None = None) -> None:
        """A contact request from ``uri``; a current Jami app's opens a one-to-one conversation
        (``conversation``, made up when not given; "" for an app from before swarms)."""
        if uri in self._blocked:
            return  # as jamid drops a banned peer's request: no event, nothing pending
        if conversation is None:
            conversation = fake_jami_id(f"conversation {uri}")
        request = TrustRequest(uri, time.time(), vcard, conversation)  # wall time, as the daemon's
        self._requests, _ = trust.take_request(self._requests, request)  # bounded, as the adapter does
        self._send(TrustRequestsChanged(len(self._requests)))

    def receive_conversation_request(self, uri: str, conversation: str) -> None:
        """A one-to-one conversation request with no contact request behind it (re-sent by the
        peer, or whose contact request was lost): listed as a contact request all the same."""
        self.receive_trust_request(uri, b"", conversation)

    def receive_invitation(self, conversation: str, sender: str) -> None:
        """``sender`` invites this phone into a group conversation."""
        if sender in self._blocked:
            return
        invitation = trust.Invitation(conversation, sender, time.time())
        self._invitations, _ = trust.take_invitation(self._invitations, invitation)
        self._send_invitations()

    def _send_invitations(self) -> None:
        self._send(InvitationsChanged(tuple(self._invitations)))

    def _report_contacts(self) -> None:
        """What a daemon coming up reports of its contacts, as the adapter reads it then."""
        if self._requests:
            self._send(TrustRequestsChanged(len(self._requests)))
        if self._invitations:
            self._send_invitations()
        if self.contacts:
            self._send(TrustedContactsChanged(tuple(self.contacts)))
