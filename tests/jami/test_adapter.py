"""The adapter on real daemons: a Jami call between two of them, events mapped one to one."""

import re

from appliance.phone.events import CallArrived, CallState, CallStateChanged
from appliance.phone.model import CallId

from .conftest import jami, requirements

pytestmark = requirements


def state(call, wanted):
    return lambda e: isinstance(e, CallStateChanged) and e.call == call and e.state is wanted


async def test_call_between_two_daemons(netns, dht, tmp_path):
    async with (
        jami(netns, dht, tmp_path / "a", "Alice") as (a, a_events),
        jami(netns, dht, tmp_path / "b", "Bob") as (b, b_events),
    ):
        assert len(a.jami_id) == 40
        assert (
            re.fullmatch("[0-9a-f]{64}", a.device_id) and a.device_id != b.device_id
        )  # each device's own cert
        await a.place_call(CallId("out-1"), a.account_id, b.jami_id)
        incoming = await b_events.wait_for(lambda e: isinstance(e, CallArrived))
        assert (incoming.caller_uri, incoming.caller_name) == (a.jami_id, "Alice")  # its DISPLAY_NAME
        await b.accept(incoming.call)
        await a_events.wait_for(state("out-1", CallState.CURRENT))
        await b_events.wait_for(state(incoming.call, CallState.CURRENT))
        await a.hang_up(CallId("out-1"))
        await b_events.wait_for(state(incoming.call, CallState.HUNGUP))
        await a_events.wait_for(state("out-1", CallState.OVER))


async def test_account_archive_export_and_import(netns, dht, tmp_path):
    from appliance.drivers.jami.client import JamiTelephony
    from appliance.phone.events import AccountChanged
    from appliance.phone.model import Registration

    archive = tmp_path / "backup.gz"
    async with jami(netns, dht, tmp_path / "a", "Alice") as (a, _):
        await a.export_account(archive, "correct horse")
        original = a.jami_id
        # A second export with another password: the account's password is changed from the
        # one the first export set (the adapter keeps it).
        await a.export_account(tmp_path / "again.gz", "battery staple")
        assert (tmp_path / "again.gz").stat().st_size > 1000
    assert archive.stat().st_size > 1000

    # A new phone (fresh data directory) takes the account from the archive: same Jami ID.
    async with jami(netns, dht, tmp_path / "c", "Carol") as (c, events):
        fresh = c.jami_id
        await c.import_account(archive, "correct horse")
        await events.wait_for(
            lambda e: (
                isinstance(e, AccountChanged)
                and e.account.registration is Registration.REGISTERED
                and e.account.uri == original
            ),
            60,
        )
        assert c.jami_id == original != fresh
        assert (tmp_path / "c" / "account-id").read_text().strip() == c.account_id

    # ... and keeps it across a restart of the appliance.
    again = JamiTelephony(
        tmp_path / "c", display_name="Carol", bootstrap=[dht], wrapper=["ip", "netns", "exec", netns]
    )
    try:
        await again.start(lambda event: None)
        assert again.jami_id == original
    finally:
        await again.stop()
