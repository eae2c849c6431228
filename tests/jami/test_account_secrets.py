"""Passwords never in errors or logs, on the real daemon: an archive export that fails (the
password change refused, or nowhere to write) and an import with the wrong password raise
TelephonyError naming what failed, never the password, in the adapter's logs or the daemon's;
the account is kept."""

from __future__ import annotations

import logging

import pytest

from appliance.ports import TelephonyError

from .conftest import jami, requirements

pytestmark = requirements

RIGHT = "correct horse battery staple"
WRONG = "incorrect donkey battery staple"


def said(caplog: pytest.LogCaptureFixture) -> str:
    handler = logging.Handler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    return "\n".join(handler.format(record) for record in caplog.records)


async def test_failed_export_and_import_never_tell_the_password(netns, dht, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    async with jami(netns, dht, tmp_path / "a", "Alice") as (a, _):
        account, jami_id = a.account_id, a.jami_id
        kept = tmp_path / "a" / "account-password"
        kept.write_text(WRONG)  # not the account's password (it has none): the change is refused
        with pytest.raises(TelephonyError) as change_refused:
            await a.export_account(tmp_path / "backup.gz", RIGHT)
        kept.unlink()
        with pytest.raises(TelephonyError) as export_failed:  # nowhere to write the archive
            await a.export_account(tmp_path / "no such directory" / "backup.gz", RIGHT)
        await a.export_account(tmp_path / "backup.gz", RIGHT)  # the account's password is RIGHT now
        with pytest.raises(TelephonyError) as import_failed:
            await a.import_account(tmp_path / "backup.gz", WRONG)
        assert (a.account_id, a.jami_id) == (account, jami_id)  # the account kept
        assert (tmp_path / "a" / "account-id").read_text().strip() == account
        assert await a._config.call_get_account_list() == [account]  # the failed one gone
    assert str(change_refused.value) == "jamid refused changeAccountPassword"
    assert str(export_failed.value).startswith("jamid wrote no archive to ")
    assert "did not open" in str(import_failed.value)
    errors = [str(e.value) for e in (change_refused, export_failed, import_failed)]
    for text in [*errors, said(caplog), (tmp_path / "a" / "log" / "jamid.log").read_text(errors="replace")]:
        assert RIGHT not in text and WRONG not in text
