"""The Jami adapter's handling of D-Bus ordering, without a daemon: the replies and signals are
scripted in the order the bus delivered them in a stuck start seen with the real daemon."""

import asyncio
from pathlib import Path

from appliance.drivers.jami import defs
from appliance.drivers.jami.client import JamiTelephony
from appliance.phone.events import AccountChanged, Event
from appliance.phone.model import Registration


class Config:
    """The configuration interface: a read whose reply was made before the device's announcement,
    with the announcement signal arriving right behind it."""

    def __init__(self, client: JamiTelephony) -> None:
        self.client = client

    async def call_get_volatile_account_details(self, account: str) -> dict[str, str]:
        reply = {"Account.registrationStatus": "REGISTERED", defs.DEVICE_ANNOUNCED: "false"}
        # The signal is handled as its message arrives, before this coroutine resumes with the reply.
        self.client._on_volatile(
            account, {"Account.registrationStatus": "REGISTERED", defs.DEVICE_ANNOUNCED: "true"}
        )
        await asyncio.sleep(0)
        return reply

    async def call_get_contacts(self, account: str) -> list[dict[str, str]]:
        return []

    async def call_get_trust_requests(self, account: str) -> list[dict[str, str]]:
        return []


async def test_a_reply_older_than_a_signal_does_not_undo_the_announcement(tmp_path: Path) -> None:
    client = JamiTelephony(tmp_path, display_name="Desk")
    events: list[Event] = []
    client._sink = events.append
    client.account_id, client.jami_id = "acc1", "ab" * 20
    client._config = Config(client)

    await client._read_state()

    states = [e.account.registration for e in events if isinstance(e, AccountChanged)]
    assert states[-1] is Registration.REGISTERED, states
