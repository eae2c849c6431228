"""The directory: contacts the page lists, adds, edits, deletes, imports and exports as vCards."""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

from appliance.config.load import to_table
from appliance.config.schema import Config
from appliance.phone.directory import JAMI_ID, normalize_uri
from appliance.ports import PeerIdentity, TelephonyError
from appliance.runtime import vcard
from appliance.runtime.config_store import ConfigStore
from appliance.runtime.supervisor import Supervisor

from . import entries
from .errors import ChangeRejectedError, NotFoundError, as_rejection

log = logging.getLogger(__name__)

Table = dict[str, Any]
FIELDS = ("name", "uri", "speed_dial", "number", "account", "ring")


class ContactsController:
    """Contacts are the ``[[contacts]]`` of the saved configuration; each gets a stable id. A new
    Jami contact is sent a contact request carrying this phone's vCard, as Jami clients do."""

    def __init__(self, store: ConfigStore, supervisor: Supervisor) -> None:
        self.store = store
        self.supervisor = supervisor

    async def list(self) -> list[Table]:
        return [self._shown(entry) for entry in _entries(self.store.config)]

    async def get(self, contact_id: str) -> Table:
        return self._shown(self._find(contact_id))

    async def add(self, fields: Table) -> Table:
        entry = {"id": secrets.token_hex(4), **_checked(fields)}
        await self._save(lambda config: {"contacts": [*_entries(config), entry]})
        # A new Jami contact gets a request with this phone's card, so they can add it back (and a
        # private-mode phone there lets it ring).
        if JAMI_ID.fullmatch(normalize_uri(entry["uri"])):
            try:
                await self._send_request(entry["uri"])
            except NotFoundError as exc:
                log.warning("contact request to %s not sent: %s", entry["uri"], exc)
        return self._shown(entry)

    async def adopt(self, uri: str, name: str) -> None:
        """An accepted contact request: the sender joins the directory under the name its card
        gives (or the start of its ID), unless it is there already."""
        known = {normalize_uri(c["uri"]) for c in _entries(self.store.config) if c["uri"]}
        if normalize_uri(uri) in known:
            return
        shown = vcard.printable(name)[:64] or f"Jami {normalize_uri(uri)[:8]}"
        entry = {"id": secrets.token_hex(4), "name": shown, "uri": uri}
        try:
            await self._save(lambda config: {"contacts": [*_entries(config), entry]})
        except ChangeRejectedError as exc:  # the directory is full: accepted all the same
            log.warning("accepted %s, not added to the contacts: %s", uri, exc.problems)

    async def update(self, contact_id: str, fields: Table) -> Table:
        changes = _checked(fields, partial=True)
        updated: list[Table] = []

        def edit(config: Config) -> Table:
            table, entry = entries.changed(_entries(config), contact_id, changes)
            updated.append(entry)
            return {"contacts": table}

        await self._save(edit)
        return self._shown(updated[0])

    async def delete(self, contact_id: str) -> None:
        await self._save(lambda config: {"contacts": entries.without(_entries(config), contact_id)})

    async def send_request(self, contact_id: str) -> None:
        """Send the contact a request carrying this phone's vCard (its display name)."""
        await self._send_request(self._find(contact_id)["uri"])

    async def export(self) -> str:
        return vcard.export([self._shown(entry) for entry in _entries(self.store.config)])

    async def import_vcf(self, vcf: str) -> Table:
        """Add the cards' contacts (all or none: the whole directory is validated at once)."""
        found, skipped = vcard.parse(vcf)
        known = {normalize_uri(c["uri"]) for c in _entries(self.store.config) if c["uri"]}
        new = [c for c in found if not c["uri"] or normalize_uri(c["uri"]) not in known]
        skipped += [f"{c['name']}: already a contact" for c in found if c not in new]
        added = [{"id": secrets.token_hex(4), **_checked(c)} for c in new]
        if added:
            await self._save(lambda config: {"contacts": [*_entries(config), *added]})
        return {"added": len(added), "skipped": skipped}

    # --- internals ---------------------------------------------------------------------------

    async def _save(self, change: Any) -> None:  # noqa: ANN401 - a function of the config
        with as_rejection():
            await self.store.save(change)

    def _find(self, contact_id: str) -> Table:
        for entry in _entries(self.store.config):
            if entry["id"] == contact_id:
                return entry
        raise NotFoundError(contact_id)

    def _shown(self, entry: Table) -> Table:
        contact = {"id": entry["id"], **{k: entry.get(k, "") for k in FIELDS}}
        pinned = self.supervisor.ports.telephony.identities().get(normalize_uri(contact["uri"]))
        contact["identity"] = identity(pinned) if pinned else None
        contact["warning"] = self._unreachable(contact)
        return contact

    def _unreachable(self, contact: Table) -> str:
        """Why calls to this contact cannot work as the phone is set up ("" when they can)."""
        config = self.store.config
        if contact["uri"].lower().startswith(("sip:", "sips:")) and not config.sip_accounts:
            return "no SIP account: calls to this address fail until one is added under Accounts"
        if JAMI_ID.fullmatch(normalize_uri(contact["uri"])) and not config.jami.enabled:
            return "Jami is turned off: calls to this Jami ID fail"
        return ""

    async def _send_request(self, uri: str) -> None:
        jami_id = normalize_uri(uri)
        if not JAMI_ID.fullmatch(jami_id):
            raise ChangeRejectedError([("uri", "contact requests go to Jami IDs only")])
        name = self.store.config.phone.display_name.replace("\r", " ").replace("\n", " ")
        card = f"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:{name}\r\nEND:VCARD\r\n".encode()
        try:
            await self.supervisor.ask_telephony(lambda core: core.send_trust_request(jami_id, card))
        except TelephonyError as exc:
            raise NotFoundError(str(exc)) from exc


def identity(pinned: PeerIdentity) -> Table:
    return {
        "fingerprint": pinned.fingerprint,
        "pinned_at": pinned.pinned_at,
        "changed": pinned.changed,
        "presented": pinned.seen,
    }


def _entries(config: Config) -> list[Table]:
    table = to_table(config)["contacts"]
    for entry in table:  # contacts from a config file may have no id yet: a stable one
        if not entry.get("id"):
            key = "\0".join((entry["name"], entry["uri"], entry["number"])).encode()
            entry["id"] = "c" + hashlib.sha256(key).hexdigest()[:8]
    return list(table)


def _checked(fields: Table, *, partial: bool = False) -> Table:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ChangeRejectedError([(f"contact.{name}", "unknown field") for name in sorted(unknown)])
    bad = [(f"contact.{k}", "must be a string") for k, v in fields.items() if not isinstance(v, str)]
    if bad:
        raise ChangeRejectedError(bad)
    if not partial:
        return {k: fields.get(k, "") for k in FIELDS}
    return dict(fields)
