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

    async def call_get_conversation_requests(self, account: str) -> list[dict[str, str]]:
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


class Discarding:
    def __init__(self) -> None:
        self.discarded: list[str] = []

    async def call_discard_trust_request(self, account: str, uri: str) -> bool:
        self.discarded.append(uri)
        return True


async def test_a_flood_of_trust_requests_is_bounded_oldest_first(tmp_path: Path) -> None:
    from appliance.phone.events import TrustRequestsChanged
    from appliance.phone.trust import MAX_TRUST_REQUESTS

    client = JamiTelephony(tmp_path, display_name="Desk")
    events: list[Event] = []
    client._sink = events.append
    client.account_id = "acc1"
    client._config = daemon = Discarding()
    for i in range(MAX_TRUST_REQUESTS + 8):
        client._on_trust_request("acc1", "", f"{i:040x}", b"BEGIN:VCARD\r\nFN:Spam\r\nEND:VCARD", 1000 + i)
    client._on_trust_request("other-account", "", "f" * 40, b"", 5000)  # not ours: ignored
    await asyncio.sleep(0)
    kept = client.trust_requests()
    assert len(kept) == MAX_TRUST_REQUESTS
    assert min(r.received_at for r in kept) == 1008  # the 8 oldest went
    assert daemon.discarded == [f"{i:040x}" for i in range(8)]  # in the daemon too
    assert events[-1] == TrustRequestsChanged(MAX_TRUST_REQUESTS)


def test_a_vcard_keeps_its_words_not_its_photo() -> None:
    from appliance.phone.trust import bounded_vcard

    photo = b"PHOTO;ENCODING=BASE64;TYPE=JPEG:" + b"A" * 500_000 + b"\r\n " + b"B" * 70
    card = b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Carol\r\n" + photo + b"\r\nEND:VCARD\r\n"
    bounded = bounded_vcard(card)
    assert bounded == b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Carol\r\nEND:VCARD\r\n"  # as sent, less the photo


class SlowDetails:
    """getAccountDetails answering only when the test says so."""

    def __init__(self) -> None:
        self.answer = asyncio.Event()

    async def call_get_account_details(self, account: str) -> dict[str, str]:
        await self.answer.wait()
        return {defs.ACCOUNT_USERNAME: "ab" * 20}


async def test_the_id_read_behind_a_first_registration_is_a_kept_task(tmp_path: Path) -> None:
    client = JamiTelephony(tmp_path, display_name="Desk")
    events: list[Event] = []
    client._sink = events.append
    client.account_id = "acc1"
    client._config = daemon = SlowDetails()
    client._on_registration("acc1", "REGISTERED", 0, "")  # a new account: its ID is read first
    (task,) = client._tasks  # referenced until done, so stop() can cancel it
    assert task.get_name() == "JamiSignals._read_id_then_report"  # named after its coroutine
    daemon.answer.set()
    await task
    assert client._tasks == set()
    assert events[-1].account.uri == "ab" * 20
