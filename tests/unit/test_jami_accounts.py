"""The Jami adapter's account bookkeeping, without a daemon: a scripted ConfigurationManager."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from appliance.drivers.jami import client as client_module
from appliance.drivers.jami import defs
from appliance.drivers.jami.client import JamiTelephony, SipAccountSpec


class Daemon:
    """jamid's account calls, as far as the adapter uses them: accounts made whole at once."""

    def __init__(self) -> None:
        self.accounts: dict[str, dict[str, str]] = {}
        self._ids = itertools.count(1)

    async def call_get_account_list(self) -> list[str]:
        return list(self.accounts)

    async def call_get_account_details(self, account: str) -> dict[str, str]:
        return dict(self.accounts.get(account, {}))

    async def call_add_account(self, details: dict[str, str]) -> str:
        account = f"acc{next(self._ids)}"
        made = dict(details)
        if made.get(defs.ACCOUNT_TYPE) == "RING":
            made[defs.ACCOUNT_USERNAME] = f"{len(self.accounts) + 1:040x}"
        self.accounts[account] = made
        return account

    async def call_set_account_details(self, account: str, details: dict[str, str]) -> None:
        self.accounts[account].update(details)

    async def call_remove_account(self, account: str) -> None:
        del self.accounts[account]


def adapter(root: Path, daemon: Daemon, **kwargs: object) -> JamiTelephony:
    core = JamiTelephony(root, display_name="Desk", **kwargs)  # type: ignore[arg-type]
    core._config = daemon
    return core


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


async def test_what_the_adapter_remembers_is_written_durably(tmp_path: Path, monkeypatch) -> None:
    written: list[str] = []
    real = client_module.atomic_write

    def recording(path: Path, data: bytes, mode: int = 0o600) -> None:
        written.append(path.name)
        real(path, data, mode)

    monkeypatch.setattr(client_module, "atomic_write", recording)
    daemon = Daemon()
    core = adapter(tmp_path, daemon, sip_accounts=(SipAccountSpec("office", "desk", "s3cret"),))
    await core._ensure_account()
    await core._ensure_sip_accounts()
    assert written == ["account-id", "sip-accounts.json"]  # temp file, fsync, rename, fsync
    assert (tmp_path / "account-id").read_text() == core.account_id + "\n"
    assert json.loads((tmp_path / "sip-accounts.json").read_text()) == {"office": next(iter(core._sip))}
    assert names(tmp_path) == ["account-id", "sip-accounts.json"]  # no temp file left behind
