"""Who may reach this phone: contact requests, blocked peers, contacts' certificates."""

from __future__ import annotations

from typing import Any

from appliance.phone.directory import JAMI_ID
from appliance.ports import TelephonyError
from appliance.runtime.config_store import Origin
from appliance.runtime.supervisor import Supervisor

from .contacts import ContactsController, identity
from .errors import ChangeRejectedError, NotFoundError, as_rejection

Table = dict[str, Any]
ANSWERS = ("accept", "discard", "block")


class TrustController:
    """Reads what the telephony core holds; every change goes through the supervisor's ordered
    command worker, behind the phone's own commands."""

    def __init__(self, supervisor: Supervisor, contacts: ContactsController) -> None:
        self.supervisor = supervisor
        self.contacts = contacts

    async def requests(self) -> list[Table]:
        return [
            {
                "uri": r.uri,
                "received": r.received_at,
                "name": _vcard_name(r.vcard),
                "vcard": r.vcard.decode(errors="replace"),
                "conversation": r.conversation,  # a current Jami app's: the swarm it opens ("" before)
            }
            for r in self.supervisor.ports.telephony.trust_requests()
        ]

    async def answer(self, uri: str, answer: str) -> None:
        """``answer``: accept (the sender becomes a contact), discard, or block (never again)."""
        if answer not in ANSWERS:
            raise ChangeRejectedError([("answer", "accept, discard or block")])
        request = next((r for r in self.supervisor.ports.telephony.trust_requests() if r.uri == uri), None)
        if request is None:
            raise NotFoundError(uri)
        actions = {
            "accept": lambda core: core.accept_trust_request(uri),
            "discard": lambda core: core.discard_trust_request(uri),
            "block": lambda core: core.block(uri),
        }
        await self._ask(actions[answer])
        if answer == "block":
            await self._list(uri, add=True)
        if answer == "accept":  # "the sender becomes a contact": in the directory too, by name
            await self.contacts.adopt(uri, _vcard_name(request.vcard))

    async def accept(self, uri: str) -> None:
        await self.answer(uri, "accept")

    async def discard(self, uri: str) -> None:
        await self.answer(uri, "discard")

    async def block(self, uri: str) -> None:
        await self.answer(uri, "block")

    # One block list: the Jami daemon's ban (its calls and requests never reach the phone) and
    # ``screening.block`` (numbers, SIP URIs, names: the phone refuses them before any ring). A
    # Jami ID blocked here goes into both, so the block outlives a new account or daemon.

    async def blocked(self) -> list[str]:
        return sorted(set(self.supervisor.ports.telephony.blocked()) | set(self._listed()))

    async def block_caller(self, uri: str) -> None:
        """Block a number, SIP URI, Jami ID or registered name (no request needed)."""
        text = uri.strip()
        if JAMI_ID.match(text.lower()):
            text = text.lower()
            await self._ask(lambda core: core.block(text))
        await self._list(text, add=True)

    async def unblock(self, uri: str) -> None:
        banned, listed = uri in self.supervisor.ports.telephony.blocked(), uri in self._listed()
        if not banned and not listed:
            raise NotFoundError(uri)
        if banned:
            await self._ask(lambda core: core.unblock(uri))
        if listed:
            await self._list(uri, add=False)

    def _listed(self) -> list[str]:
        return self.contacts.store.config.screening.block

    async def _list(self, uri: str, *, add: bool) -> None:
        entries = [entry for entry in self._listed() if entry != uri] + ([uri] if add else [])
        with as_rejection():  # a bad entry answers 400 naming screening.block
            await self.contacts.store.save({"screening": {"block": entries}}, origin=Origin.PAGE)

    async def accept_identity(self, uri: str) -> Table:
        """A person checked a contact's new certificate (with them, out of band) and accepts it."""
        return identity(await self._ask(lambda core: core.accept_identity(uri)))

    async def _ask(self, work: Any) -> Any:  # noqa: ANN401 - what the core answers
        try:
            return await self.supervisor.ask_telephony(work)
        except TelephonyError as exc:
            raise NotFoundError(str(exc)) from exc


def _vcard_name(vcard: bytes) -> str:
    for line in vcard.decode(errors="replace").splitlines():
        key, _, value = line.partition(":")
        if key.split(";")[0].upper() == "FN":
            return value.strip()
    return ""
