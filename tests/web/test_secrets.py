"""Passwords given to the page never come back out of it: not in an answer, not in the log.

The telephony core's own words are what a refusal carries; this core (the fake) is made to repeat
the password in its error, the worst a daemon's message could do, and the page must still not show it.
"""

import logging

import pytest

from appliance.ports import TelephonyError

from .conftest import running

SECRET = "correct horse battery staple"


class Leaky:
    """Fails as a careless core would: with the password in the message."""

    async def export_account(self, path, password):
        raise TelephonyError(f"jamid refused exportToFile(acc, {path}, {password})")

    async def import_account(self, path, password):
        raise TelephonyError(f"jamid refused addAccount(archivePassword={password})")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/account/export", {"password": SECRET}),
        ("/api/v1/account/import", {"password": SECRET, "data": "ZmFrZSBhcmNoaXZl"}),
    ],
)
async def test_a_failing_archive_export_or_import_never_returns_or_logs_its_password(
    tmp_path, caplog, path, body
):
    caplog.set_level(logging.DEBUG)
    async with running(tmp_path) as stack:
        leaky = Leaky()
        stack.fakes.telephony.export_account = leaky.export_account
        stack.fakes.telephony.import_account = leaky.import_account
        async with stack.admin() as c, c.post(path, json=body) as r:
            text = await r.text()
        assert r.status == 400, text
        assert "jamid refused" in text  # the core's reason is shown...
        assert SECRET not in text  # ...without the password
    assert all(SECRET not in record.getMessage() for record in caplog.records)
