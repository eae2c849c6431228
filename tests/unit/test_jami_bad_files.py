"""Damaged files in the Jami data directory (issue 18): each kept aside for a person, the start goes
on with what the daemon itself has, and the owner is told (a notice). A scripted daemon; the same
on the real one is in tests/jami/test_bad_files.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from appliance.drivers.jami import defs
from appliance.drivers.jami.accounts import NOTICE_ACCOUNT_FILE, NOTICE_SIP_FILE
from appliance.drivers.jami.client import JamiTelephony, SipAccountSpec
from appliance.drivers.jami.pins import NOTICE_PINS
from appliance.notices import Notices, Severity

from .test_jami_accounts import Daemon


def adapter(root: Path, daemon: Daemon, **kwargs: object) -> tuple[JamiTelephony, Notices]:
    notices = Notices()
    core = JamiTelephony(root, display_name="Desk", notices=notices, **kwargs)  # type: ignore[arg-type]
    core._config = daemon
    core._bus = object()  # type: ignore[assignment]
    return core, notices


@pytest.mark.parametrize("garbage", [b"", b"\n", b"\xff\xfe\x00garbage", b"acc7 acc8\n", b"x" * 500])
async def test_a_damaged_account_file_is_kept_aside_and_the_daemons_account_adopted(tmp_path, garbage):
    (tmp_path / "account-id").write_bytes(garbage)
    daemon = Daemon()
    daemon.have("acc7", **{defs.ACCOUNT_USERNAME: "7" * 40})
    core, notices = adapter(tmp_path, daemon)
    await core._ensure_account()
    assert (core.account_id, core.jami_id) == ("acc7", "7" * 40)  # the same identity
    assert daemon.added == []  # not a second one
    assert (tmp_path / "account-id.damaged").read_bytes() == garbage
    assert (tmp_path / "account-id").read_text() == "acc7\n"
    [notice] = notices.all()
    assert notice.key == NOTICE_ACCOUNT_FILE and notice.severity is Severity.WARNING
    assert "was found again" in notice.text and "7" * 40 in notice.text


async def test_with_nothing_to_adopt_the_new_identity_is_said_loudly(tmp_path):
    (tmp_path / "account-id").write_bytes(b"\x00\x01")
    daemon = Daemon()
    core, notices = adapter(tmp_path, daemon)
    await core._ensure_account()
    assert daemon.added == ["acc1"]
    [notice] = notices.all()
    assert notice.severity is Severity.ERROR and "new Jami identity" in notice.text


async def test_a_good_account_file_raises_no_notice(tmp_path):
    (tmp_path / "account-id").write_text("acc7\n")
    daemon = Daemon()
    daemon.have("acc7", **{defs.ACCOUNT_USERNAME: "7" * 40})
    core, notices = adapter(tmp_path, daemon)
    await core._ensure_account()
    assert notices.all() == []


@pytest.mark.parametrize("garbage", [b"", b"{not json", b"\xff\xfe", b"[1, 2]", b'{"office": 5}'])
async def test_a_damaged_sip_account_file_is_kept_aside_and_the_accounts_found_by_alias(tmp_path, garbage):
    (tmp_path / "sip-accounts.json").write_bytes(garbage)
    daemon = Daemon()
    daemon.accounts["s1"] = {defs.ACCOUNT_TYPE: "SIP", "Account.alias": "office"}
    core, notices = adapter(tmp_path, daemon, sip_accounts=(SipAccountSpec("office", "desk", "s3cret"),))
    await core._ensure_sip_accounts()  # no JSONDecodeError: the start goes on
    assert daemon.added == [] and daemon.removed == []
    assert json.loads((tmp_path / "sip-accounts.json").read_text()) == {"office": "s1"}
    assert (tmp_path / "sip-accounts.damaged").read_bytes() == garbage
    assert [n.key for n in notices.all()] == [NOTICE_SIP_FILE]


def test_damaged_pins_reach_the_owner(tmp_path):
    (tmp_path / "pins.json").write_text("{not json")
    _, notices = adapter(tmp_path, Daemon())
    [notice] = notices.all()
    assert notice.key == NOTICE_PINS and "pins.damaged" in notice.text
    assert (tmp_path / "pins.damaged").read_text() == "{not json"
