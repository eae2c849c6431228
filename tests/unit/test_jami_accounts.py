"""The Jami adapter's account bookkeeping, without a daemon: a scripted ConfigurationManager.

The same paths on the real daemon, with the daemon killed at each step, are in
tests/jami/test_first_run.py.
"""

from __future__ import annotations

import itertools
import json
import logging
from pathlib import Path

import pytest

from appliance.config.load import ConfigError, build
from appliance.drivers.jami import accounts as accounts_module
from appliance.drivers.jami import defs
from appliance.drivers.jami.accounts import JamsEnrolment
from appliance.drivers.jami.client import JamiTelephony, SipAccountSpec
from appliance.phone.model import Registration
from appliance.ports import TelephonyError


class Daemon:
    """jamid's account calls, as far as the adapter uses them. A new Jami account's identity shows
    after ``polls`` reads of its details (the daemon makes its keys in the background); an account
    whose archive does not open is reported in error and removed, as jamid does."""

    def __init__(self, polls: int = 0) -> None:
        self.accounts: dict[str, dict[str, str]] = {}
        self.polls = polls
        self.added: list[str] = []
        self.removed: list[str] = []
        self._ids = itertools.count(1)
        self._pending: dict[str, int] = {}

    def have(self, account: str, **details: str) -> None:
        self.accounts[account] = {defs.ACCOUNT_TYPE: "RING", **details}

    async def call_get_account_list(self) -> list[str]:
        return list(self.accounts)

    async def call_get_account_details(self, account: str) -> dict[str, str]:
        if self._pending.get(account):
            self._pending[account] -= 1
            if not self._pending[account]:
                self.accounts[account][defs.ACCOUNT_USERNAME] = f"{int(account[3:]):040x}"
        return dict(self.accounts.get(account, {}))

    async def call_get_volatile_account_details(self, account: str) -> dict[str, str]:
        return {"Account.registrationStatus": "INITIALIZING"}

    async def call_add_account(self, details: dict[str, str]) -> str:
        account = f"acc{next(self._ids)}"
        self.added.append(account)
        self.accounts[account] = dict(details)
        if details.get(defs.ACCOUNT_TYPE) != "RING":
            return account
        if details.get("Account.archivePassword") not in (None, "right password"):
            del self.accounts[account]  # jamid: "Auth error", the account removed
        elif self.polls:
            self._pending[account] = self.polls
        else:
            self.accounts[account][defs.ACCOUNT_USERNAME] = f"{int(account[3:]):040x}"
        return account

    async def call_set_account_details(self, account: str, details: dict[str, str]) -> None:
        self.accounts[account].update(details)

    async def call_remove_account(self, account: str) -> None:
        self.removed.append(account)
        del self.accounts[account]


def adapter(root: Path, daemon: Daemon, **kwargs: object) -> JamiTelephony:
    core = JamiTelephony(root, display_name="Desk", **kwargs)  # type: ignore[arg-type]
    core._config = daemon
    core._bus = object()  # type: ignore[assignment]  # "connected": calls go to the scripted daemon
    return core


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def read(path: Path) -> str:
    return path.read_text().strip() if path.exists() else ""


async def test_what_the_adapter_remembers_is_written_durably(tmp_path: Path, monkeypatch) -> None:
    written: list[str] = []
    real = accounts_module.atomic_write

    def recording(path: Path, data: bytes, mode: int = 0o600) -> None:
        written.append(path.name)
        real(path, data, mode)

    monkeypatch.setattr(accounts_module, "atomic_write", recording)
    daemon = Daemon()
    core = adapter(tmp_path, daemon, sip_accounts=(SipAccountSpec("office", "desk", "s3cret"),))
    await core._ensure_account()
    await core._ensure_sip_accounts()
    assert written == ["account-id", "sip-accounts.json"]  # temp file, fsync, rename, fsync
    assert (tmp_path / "account-id").read_text() == core.account_id + "\n"
    assert json.loads((tmp_path / "sip-accounts.json").read_text()) == {"office": next(iter(core._sip))}
    assert names(tmp_path) == ["account-id", "sip-accounts.json"]  # no temp file left behind


async def test_a_new_account_is_remembered_only_once_its_identity_is_made_and_synced(
    tmp_path: Path, monkeypatch
) -> None:
    daemon = Daemon(polls=3)
    steps: list[tuple[str, str, str]] = []
    synced: list[str] = []

    async def on_step(step: str, account: str) -> None:
        steps.append((step, account, read(tmp_path / "account-id")))

    core = adapter(tmp_path, daemon, on_step=on_step)
    monkeypatch.setattr(core.daemon, "sync_account", synced.append)
    await core._ensure_account()
    assert steps == [
        ("adding", "", ""),
        ("added", "acc1", ""),
        ("made", "acc1", ""),
        ("remembered", "acc1", "acc1"),
    ]
    assert synced == ["acc1"]  # the daemon's files on disk before account-id names the account
    assert core.jami_id == f"{1:040x}"


async def test_a_first_run_cut_short_adopts_the_account_the_daemon_made(tmp_path: Path, caplog) -> None:
    daemon = Daemon()
    daemon.have("acc7", **{defs.ACCOUNT_USERNAME: "7" * 40})
    daemon.accounts["sip1"] = {defs.ACCOUNT_TYPE: "SIP", "Account.alias": "office"}  # not a Jami one
    core = adapter(tmp_path, daemon)
    with caplog.at_level(logging.WARNING):
        await core._ensure_account()
    assert (core.account_id, core.jami_id) == ("acc7", "7" * 40)
    assert daemon.added == []  # no second identity
    assert read(tmp_path / "account-id") == "acc7"
    assert "adopting the daemon's Jami account acc7" in caplog.text


async def test_of_several_the_first_with_an_identity_is_adopted(tmp_path: Path, caplog) -> None:
    (tmp_path / "account-id").write_text("gone\n")  # an account the daemon no longer has
    daemon = Daemon()
    daemon.have("acc5")  # no identity (yet)
    daemon.have("acc6", **{defs.ACCOUNT_USERNAME: "6" * 40})
    daemon.have("acc8", **{defs.ACCOUNT_USERNAME: "8" * 40})
    core = adapter(tmp_path, daemon)
    with caplog.at_level(logging.WARNING):
        await core._ensure_account()
    assert core.account_id == "acc6" and daemon.added == [] and daemon.removed == []
    assert "account-id named gone" in caplog.text and "left as they are: acc5, acc8" in caplog.text


async def test_an_account_that_never_gets_an_identity_is_replaced(tmp_path: Path) -> None:
    daemon = Daemon()
    daemon.have("acc9")  # never made: the daemon gave up on it
    core = adapter(tmp_path, daemon, announce_timeout_s=0.05)
    await core._ensure_account()
    assert daemon.removed == ["acc9"] and daemon.added == ["acc1"] and core.account_id == "acc1"


async def test_an_account_switch_cut_short_is_finished_at_the_next_start(tmp_path: Path) -> None:
    (tmp_path / "account-id").write_text("acc2\n")
    daemon = Daemon()
    daemon.have("acc1", **{defs.ACCOUNT_USERNAME: "1" * 40})  # the old one, its removal was next
    daemon.have("acc2", **{defs.ACCOUNT_USERNAME: "2" * 40})
    core = adapter(tmp_path, daemon)
    await core._ensure_account()
    assert core.account_id == "acc2" and daemon.removed == ["acc1"] and daemon.added == []


async def test_sip_accounts_are_found_again_by_alias_and_unconfigured_ones_removed(tmp_path: Path) -> None:
    daemon = Daemon()  # a start cut short before sip-accounts.json: the daemon has them, unnamed
    daemon.accounts["s1"] = {defs.ACCOUNT_TYPE: "SIP", "Account.alias": "office"}
    daemon.accounts["s2"] = {defs.ACCOUNT_TYPE: "SIP", "Account.alias": "old-pbx"}
    core = adapter(tmp_path, daemon, sip_accounts=(SipAccountSpec("office", "desk", "s3cret"),))
    await core._ensure_sip_accounts()
    assert daemon.added == [] and daemon.removed == ["s2"]
    assert json.loads((tmp_path / "sip-accounts.json").read_text()) == {"office": "s1"}


async def test_an_import_the_daemon_cannot_open_keeps_the_account(tmp_path: Path) -> None:
    daemon = Daemon()
    core = adapter(tmp_path, daemon)
    await core._ensure_account()
    with pytest.raises(TelephonyError, match="did not open"):
        await core.import_account(tmp_path / "archive.gz", "wrong password")
    assert core.account_id == "acc1" and read(tmp_path / "account-id") == "acc1"
    assert list(daemon.accounts) == ["acc1"]

    await core.import_account(tmp_path / "archive.gz", "right password")
    assert core.account_id == "acc3" and read(tmp_path / "account-id") == "acc3"
    assert list(daemon.accounts) == ["acc3"] and core.jami_id == f"{3:040x}"
    assert read(tmp_path / "account-password") == "right password"


def test_the_daemons_files_of_an_account_are_synced(tmp_path: Path, monkeypatch) -> None:
    from appliance.drivers.jami import daemon as daemon_module
    from appliance.drivers.jami.daemon import JamiDaemon

    account = tmp_path / "data" / "jami" / "acc1"
    account.mkdir(parents=True)
    for name in ("archive.gz", "config.yml", "ring_device.key", "ring_device.crt"):
        (account / name).write_bytes(b"x")
    (tmp_path / "config" / "jami").mkdir(parents=True)
    (tmp_path / "config" / "jami" / "dring.yml").write_text("accounts: []")
    synced: list[str] = []
    monkeypatch.setattr(
        daemon_module.os, "fsync", lambda fd: synced.append(str(Path(f"/proc/self/fd/{fd}").readlink()))
    )
    JamiDaemon(tmp_path).sync_account("acc1")
    assert sorted(synced) == sorted(
        [str(account / n) for n in ("archive.gz", "config.yml", "ring_device.crt", "ring_device.key")]
        + [
            str(account),
            str(account.parent),
            str(tmp_path / "config" / "jami" / "dring.yml"),
            str(tmp_path / "config" / "jami"),
        ]
    )


async def test_a_jams_enrolment_is_carried_to_the_account_creation(tmp_path: Path) -> None:
    daemon = Daemon()
    jams = JamsEnrolment("https://jams.example.org", "room12", "right password")
    core = adapter(tmp_path, daemon, manager=jams)
    await core._ensure_account()
    details = daemon.accounts[core.account_id]
    assert details[defs.ACCOUNT_TYPE] == "RING"
    assert details[defs.ACCOUNT_MANAGER_URI] == "https://jams.example.org"
    assert details[defs.ACCOUNT_MANAGER_USERNAME] == "room12"
    assert details[defs.ACCOUNT_ARCHIVE_PASSWORD] == "right password"
    assert "right password" not in repr(jams)
    again = Daemon()
    again.have("acc7", **{defs.ACCOUNT_USERNAME: "7" * 40})
    await adapter(tmp_path / "b", again, manager=jams)._ensure_account()
    assert again.added == []  # an account the daemon holds is adopted, not enrolled again


async def test_a_refused_enrolment_leaves_the_phone_without_a_jami_account_and_says_why(
    tmp_path: Path,
) -> None:
    daemon = Daemon()  # a wrong password: the daemon reports the account in error and removes it
    jams = JamsEnrolment("https://jams.example.org", "room12", "wrong password")
    core = adapter(tmp_path, daemon, manager=jams)
    told: list[object] = []
    core._sink = told.append
    await core._ensure_account()  # no exception: the phone starts, without a Jami account
    assert (core.account_id, core.jami_id, daemon.accounts) == ("", "", {})
    assert daemon.added == ["acc1"]  # one try, not more
    assert not (tmp_path / "account-id").exists()  # the next start tries again
    [notice] = core.notices.all()
    assert notice.text.startswith(
        "The JAMS server https://jams.example.org did not enrol this phone as room12: a wrong user name or password"
    )
    assert "wrong password" not in notice.text
    assert [e.account.registration for e in told] == [Registration.ERROR]  # type: ignore[attr-defined]
    core._report_account("REGISTERED")  # whatever comes later, it is not ready
    assert core._reported is Registration.ERROR
    daemon_ok = Daemon()
    right = adapter(
        tmp_path, daemon_ok, manager=JamsEnrolment("https://jams.example.org", "room12", "right password")
    )
    right.notices = core.notices
    await right._ensure_account()  # the settings fixed: the next start enrols, the notice goes
    assert right.account_id == "acc1" and core.notices.all() == []


def test_a_jams_enrolment_needs_its_credentials() -> None:
    with pytest.raises(ConfigError, match=r"jami\.manager_uri: a JAMS enrolment needs"):
        build({"jami": {"manager_uri": "https://jams.example.org", "manager_username": "room12"}})
    assert build({"jami": {"manager_uri": "https://jams.example.org", "manager_username": "a",
                           "manager_password": "b"}}).jami.manager_username == "a"  # fmt: skip
