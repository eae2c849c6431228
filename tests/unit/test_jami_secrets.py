"""Passwords never in the Jami adapter's errors or logs: its errors name the D-Bus method, never
its arguments (the web page shows an error's text, and logs keep it). A scripted D-Bus interface
stands in for the daemon; tests/jami/test_account_secrets.py does the same on the real one."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from dbus_fast import DBusError

from appliance.drivers.jami import defs
from appliance.drivers.jami.client import JamiTelephony, SipAccountSpec
from appliance.ports import TelephonyError

SECRET = "correct horse battery staple"
KEPT = "the account's own password"


class Refusing:
    """A daemon that refuses every account operation; its error texts repeat what it was given,
    as a careless daemon's might."""

    def __init__(self) -> None:
        self.accounts = {"acc1": {defs.ACCOUNT_TYPE: "RING", defs.ACCOUNT_USERNAME: "1" * 40}}

    async def call_change_account_password(self, account: str, old: str, new: str) -> bool:
        return False

    async def call_export_to_file(self, account: str, path: str, password: str) -> bool:
        return False

    async def call_add_account(self, details: dict[str, str]) -> str:
        if details.get(defs.ACCOUNT_TYPE) == "SIP":
            raise DBusError("cx.ring.Ring.Error", f"bad account {details}")
        return "acc2"  # an archive that will not open: jamid drops the account soon after

    async def call_get_account_list(self) -> list[str]:
        return list(self.accounts)

    async def call_get_account_details(self, account: str) -> dict[str, str]:
        return dict(self.accounts.get(account, {}))

    async def call_set_account_details(self, account: str, details: dict[str, str]) -> None:
        raise DBusError("cx.ring.Ring.Error", f"cannot set {details}")


def adapter(root: Path, daemon: Refusing, **kwargs: object) -> JamiTelephony:
    core = JamiTelephony(root, display_name="Desk", **kwargs)  # type: ignore[arg-type]
    core._config = daemon
    core._bus = object()  # type: ignore[assignment]
    core.account_id, core.jami_id = "acc1", "1" * 40
    return core


def said(caplog: pytest.LogCaptureFixture) -> str:
    """Everything the log records say, with their tracebacks."""
    handler = logging.Handler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    return "\n".join(handler.format(record) for record in caplog.records)


@pytest.mark.parametrize("kept", ["", KEPT])
async def test_a_failing_export_never_tells_the_password(tmp_path: Path, caplog, kept: str) -> None:
    """Without a kept password, changeAccountPassword("" -> SECRET) is refused; with one, the
    same; then (after a change that went through) exportToFile is refused."""
    if kept:
        (tmp_path / "account-password").write_text(kept)
    core = adapter(tmp_path, Refusing())
    caplog.set_level(logging.DEBUG)
    with pytest.raises(TelephonyError) as refused:
        await core.export_account(tmp_path / "out.gz", SECRET)
    assert str(refused.value) == "jamid refused changeAccountPassword"

    (tmp_path / "account-password").write_text(SECRET)  # the password is already the archive's
    with pytest.raises(TelephonyError) as failed:
        await core.export_account(tmp_path / "out.gz", SECRET)
    assert str(failed.value) == "jamid refused exportToFile"
    for text in (str(refused.value), str(failed.value), said(caplog)):
        assert SECRET not in text and KEPT not in text


async def test_a_failing_import_never_tells_the_password(tmp_path: Path, caplog) -> None:
    daemon = Refusing()
    core = adapter(tmp_path, daemon, announce_timeout_s=1.0)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(TelephonyError) as failed:
        await core.import_account(tmp_path / "backup.gz", SECRET)
    assert "did not open" in str(failed.value)
    assert core.account_id == "acc1"
    for text in (str(failed.value), repr(failed.value.__cause__), said(caplog)):
        assert SECRET not in text


async def test_a_daemon_error_repeating_a_password_is_blotted_out(tmp_path: Path, caplog) -> None:
    spec = SipAccountSpec("office", "desk", SECRET, "pbx.lan")
    core = adapter(tmp_path, Refusing(), sip_accounts=(spec,))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(TelephonyError) as failed:
        await core._ensure_sip_accounts()
    assert str(failed.value).startswith("jamid: addAccount failed: bad account")
    assert failed.value.__cause__ is None and failed.value.__suppress_context__  # no raw DBusError behind
    assert SECRET not in str(failed.value) and SECRET not in said(caplog) and SECRET not in repr(spec)
