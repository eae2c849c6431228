"""Contacts on the Jami daemon: trust requests, invitations, blocking, pinned certificates, and the
answering machine's messages sent into the owner's conversation; a layer of ``JamiTelephony``."""

from __future__ import annotations

import asyncio
import logging

from appliance.phone.events import TrustRequestsChanged
from appliance.phone.trust import Invitation
from appliance.ports import PeerIdentity, TelephonyError, TrustRequest

from . import defs
from .calls import JamiCalls
from .link import command
from .outbox import Outbox
from .signals import peer_uri

log = logging.getLogger(__name__)


class JamiContacts(JamiCalls):
    """The daemon's contacts as the phone's and the page's commands; ``JamiTelephony`` sets ``outbox``."""

    outbox: Outbox  # files for sendFile, beside the daemon's data

    # --- the answering machine's messages to the owner's app (FileSender) ----------------------

    @command
    async def send_file(self, to: str, name: str, data: bytes) -> None:
        uri = peer_uri(to).lower()
        conversation = await self._conversation_with(uri)
        path = await asyncio.to_thread(self.outbox.put, name, data)
        # The daemon hashes the file and commits it to the conversation on a thread of its own;
        # the owner's devices then fetch it from this device.
        await self._call("sendFile", self.account_id, conversation, str(path), name, "")

    async def _conversation_with(self, uri: str) -> str:
        """The one-to-one conversation with ``uri``; started (and ``uri`` asked, as a current Jami
        app asks: addContact, then sendTrustRequest with this phone's vCard) if there is none."""
        for asked in (False, True):
            contacts = await self._call("getContacts", self.account_id)
            contact = next((c for c in contacts if c.get("id") == uri), None)
            if contact is not None and contact.get("banned") == "true":
                raise TelephonyError(f"{uri} is blocked on this phone")
            if contact is not None and contact.get(defs.CONTACT_CONVERSATION):
                return str(contact[defs.CONTACT_CONVERSATION])
            if asked:
                break
            log.info("no conversation with %s yet: starting one and asking them to accept it", uri)
            await self._call("addContact", self.account_id, uri)  # starts the one-to-one conversation
            vcard = f"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:{self.display_name}\r\nEND:VCARD\r\n"
            await self._call("sendTrustRequest", self.account_id, uri, vcard.encode())
        raise TelephonyError(f"jamid has no conversation with {uri}")

    def trust_requests(self) -> list[TrustRequest]:
        return list(self._requests.values())

    @command
    async def block(self, uri: str) -> None:
        if uri in self._requests:
            await self.discard_trust_request(uri)
        await self._call("removeContact", self.account_id, uri, True)
        self._blocked.add(uri)
        self._refresh_contacts()

    @command
    async def unblock(self, uri: str) -> None:
        # A ban is lifted by removing the contact again without one.
        await self._call("removeContact", self.account_id, uri, False)
        self._blocked.discard(uri)
        self._refresh_contacts()

    def blocked(self) -> list[str]:
        return sorted(self._blocked)

    def identities(self) -> dict[str, PeerIdentity]:
        return self.pins.all()

    @command
    async def accept_identity(self, uri: str) -> PeerIdentity:
        try:
            return self.pins.accept(uri)
        except KeyError:
            raise TelephonyError(f"no changed certificate for {uri}") from None

    @command
    async def accept_trust_request(self, uri: str) -> None:
        request = self._requests.get(uri)
        if request is None:  # the daemon would make anyone a contact (JamiAccount::acceptTrustRequest)
            raise TelephonyError(f"no trust request from {uri}")
        if request.conversation:  # a current Jami app's: its conversation joined, as that app does
            await self._call("acceptConversationRequest", self.account_id, request.conversation)
        else:  # from an app before swarms: the trust request alone
            await self._call_expecting_true("acceptTrustRequest", self.account_id, uri)
        self._requests.pop(uri, None)
        self._send(TrustRequestsChanged(len(self._requests)))
        if request.conversation:
            await self._ensure_contact(uri)
        self._spawn(self._check_certificate(uri))  # the request was signed: its sender is known

    async def _ensure_contact(self, uri: str) -> None:
        """Joining a conversation makes its sender a contact only if the daemon holds a trust
        request from them (ConversationModule's callback accepts that one); one that came alone
        (an invite re-sent, a trust request lost) is made a contact here."""
        contacts = await self._call("getContacts", self.account_id)
        if any(c.get("id") == uri and c.get("banned") != "true" for c in contacts):
            return
        log.info("jamid did not add %s with its conversation; adding the contact", uri)
        # With no trust request left, acceptTrustRequest adds the contact, confirmed
        # (JamiAccount::acceptTrustRequest); addContact would start a second conversation with them.
        await self._call_expecting_true("acceptTrustRequest", self.account_id, uri)

    @command
    async def discard_trust_request(self, uri: str) -> None:
        request = self._requests.get(uri)
        await self._forget_request(request or TrustRequest(uri, 0.0))
        self._requests.pop(uri, None)
        self._send(TrustRequestsChanged(len(self._requests)))

    @command
    async def decline_invitation(self, conversation: str) -> None:
        if conversation not in self._invitations:
            raise TelephonyError(f"no invitation to {conversation}")
        await self._call("declineConversationRequest", self.account_id, conversation)
        self._invitations.pop(conversation, None)
        self._send_invitations()

    def invitations(self) -> list[Invitation]:
        return list(self._invitations.values())

    @command
    async def send_trust_request(self, uri: str, vcard: bytes) -> None:
        await self._call("sendTrustRequest", self.account_id, uri, vcard)
