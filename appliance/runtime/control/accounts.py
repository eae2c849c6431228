"""Accounts: the SIP accounts of the configuration, and the Jami account's archive."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import Any

from appliance.config.load import to_table
from appliance.config.schema import Config
from appliance.ports import TelephonyError
from appliance.runtime.config_store import ConfigStore
from appliance.runtime.supervisor import Supervisor

from . import entries
from .errors import ChangeRejectedError, as_rejection

Table = dict[str, Any]
SIP_FIELDS = ("id", "username", "password", "registrar", "local_port")
MIN_ARCHIVE_PASSWORD = 8


class AccountsController:
    """SIP accounts are saved configuration the daemon takes at its start (a change asks for a
    restart); passwords are never shown again. The Jami account moves as Jami's own archive."""

    def __init__(self, store: ConfigStore, supervisor: Supervisor, scratch: Path | None) -> None:
        self.store = store
        self.supervisor = supervisor
        self.scratch = scratch  # where an archive passes through (the data directory: private)

    async def sip_list(self) -> list[Table]:
        states = {a.id: a.registration.value for a in self.supervisor.phone.accounts}
        return [_shown(entry, states) for entry in _sip(self.store.config)]

    async def sip_add(self, fields: Table) -> Table:
        entry = _checked(fields)
        if any(a["id"] == entry.get("id") for a in _sip(self.store.config)):
            raise ChangeRejectedError([("id", "an account with this name exists")])
        with as_rejection():
            await self.store.save(lambda config: {"sip_accounts": [*_sip(config), entry]})
        return {"account": _shown(entry, {}), "restart_required": True}

    async def sip_update(self, account_id: str, fields: Table) -> Table:
        changes = _checked(fields, partial=True)
        # An empty password in an edit keeps the one saved (the page never sees it).
        keep = {k: v for k, v in changes.items() if not (k == "password" and v == "")}
        updated: list[Table] = []

        def edit(config: Config) -> Table:
            table, entry = entries.changed(_sip(config), account_id, keep)
            updated.append(entry)
            return {"sip_accounts": table}

        with as_rejection():
            await self.store.save(edit)
        return {"account": _shown(updated[0], {}), "restart_required": True}

    async def sip_delete(self, account_id: str) -> None:
        with as_rejection():
            await self.store.save(lambda config: {"sip_accounts": entries.without(_sip(config), account_id)})

    async def export_archive(self, password: str) -> Table:
        """The Jami account (keys, contacts) encrypted with ``password``, as Jami's own archive.
        A refusal names what failed, never the password."""
        if len(password) < MIN_ARCHIVE_PASSWORD:
            raise ChangeRejectedError([("password", f"at least {MIN_ARCHIVE_PASSWORD} characters")])
        with tempfile.TemporaryDirectory(dir=self.scratch) as tmp:
            archive = Path(tmp) / "account.gz"
            try:
                await self.supervisor.ask_telephony(lambda core: core.export_account(archive, password))
            except TelephonyError as exc:
                raise ChangeRejectedError([("account", _without(str(exc), password))]) from None
            data = archive.read_bytes()
        return {"filename": "jami-account.gz", "data": base64.b64encode(data).decode()}

    async def import_archive(self, data: str, password: str) -> Table:
        """This phone takes the account in the archive (its own is removed)."""
        try:
            raw = base64.b64decode(data, validate=True)
        except ValueError:
            raise ChangeRejectedError([("data", "not base64")]) from None
        with tempfile.TemporaryDirectory(dir=self.scratch) as tmp:
            archive = Path(tmp) / "account.gz"
            archive.write_bytes(raw)
            try:
                await self.supervisor.ask_telephony(lambda core: core.import_account(archive, password))
            except TelephonyError as exc:
                raise ChangeRejectedError([("archive", _without(str(exc), password))]) from None
        return {"imported": True}


def _without(message: str, secret: str) -> str:
    """The core's words, with the password blotted out should they ever carry it."""
    return message.replace(secret, "********") if secret else message


def _sip(config: Config) -> list[Table]:
    return list(to_table(config)["sip_accounts"])


def _checked(fields: Table, *, partial: bool = False) -> Table:
    unknown = set(fields) - set(SIP_FIELDS)
    if unknown:
        raise ChangeRejectedError([(f"sip_account.{name}", "unknown field") for name in sorted(unknown)])
    if partial and "id" in fields:
        raise ChangeRejectedError([("sip_account.id", "an account's name cannot change")])
    return dict(fields)


def _shown(entry: Table, states: dict[str, str]) -> Table:
    """An account as the page sees it: never its password, only whether it has one."""
    shown = {k: entry.get(k) for k in SIP_FIELDS if k != "password"}
    return {**shown, "password_set": bool(entry.get("password")), "registration": states.get(entry["id"], "")}
