"""Damaged files in the Jami data directory on the real daemon (issue 18): the phone starts with
its own identity, each bad file kept aside, and the owner told."""

from __future__ import annotations

from appliance.drivers.jami.accounts import NOTICE_ACCOUNT_FILE, NOTICE_SIP_FILE
from appliance.drivers.jami.client import JamiTelephony, SipAccountSpec
from appliance.drivers.jami.pins import NOTICE_PINS
from appliance.notices import Notices

from .conftest import jami, requirements

pytestmark = requirements


async def test_garbage_in_the_jami_files_keeps_the_identity_and_tells_the_owner(netns, dht, tmp_path):
    root = tmp_path / "a"
    async with jami(netns, dht, root, "Alice") as (core, _):
        jami_id, account = core.jami_id, core.account_id
    (root / "account-id").write_bytes(b"\xff\x00garbage")
    (root / "sip-accounts.json").write_bytes(b"")
    (root / "pins.json").write_bytes(b"{not json")
    notices = Notices()
    again = JamiTelephony(
        root, display_name="Alice", bootstrap=[dht], wrapper=["ip", "netns", "exec", netns], notices=notices,
        sip_accounts=(SipAccountSpec("office", "desk", "", "", 5062),),
    )  # fmt: skip
    try:
        await again.start(lambda event: None)  # no JSONDecodeError, no second identity
        assert (again.account_id, again.jami_id) == (account, jami_id)
        assert (root / "account-id").read_text().strip() == account
        assert {n.key for n in notices.all()} == {NOTICE_ACCOUNT_FILE, NOTICE_SIP_FILE, NOTICE_PINS}
        for kept in ("account-id.damaged", "sip-accounts.damaged", "pins.damaged"):
            assert (root / kept).exists(), kept
        assert list(again._sip.values()) == [SipAccountSpec("office", "desk", "", "", 5062)]
    finally:
        await again.stop()
        assert again.daemon.pids() == []
