"""A new message sent to the owner's own Jami account, with real daemons: Bob's phone sends the
file (``sendFile`` into the one-to-one conversation it starts with the owner), the owner's daemon
(their phone app's stand-in) accepts the conversation, finds the file among its messages and
downloads it from Bob's phone byte for byte."""

import asyncio
import time

import pytest

from appliance.drivers.jami import defs
from appliance.phone.model import Message

from .conftest import appliance, jami, requirements

pytestmark = [
    pytest.mark.serial,  # a download over a new peer channel: beside the parallel run it once took > 30 s
    *requirements,
]

DATA_TRANSFER = "application/data-transfer+json"  # a file's message in a swarm (JamiAccount::sendFile)
FINISHED = 6  # libjami::DataTransferEventCode::finished


async def test_a_new_message_reaches_the_owners_account(netns, dht, tmp_path):
    from appliance.runtime.messages import message_file_name

    audio = b"fLaC" + bytes(range(256)) * 64  # the daemons carry it as it is: any bytes will do
    async with (
        appliance(netns, dht, tmp_path / "b", "Bob") as b,
        jami(netns, dht, tmp_path / "owner", "Owner") as (owner, _events),
    ):
        bob = b.core.jami_id
        loaded: list[list[dict[str, str]]] = []
        transfers: list[tuple[str, int]] = []
        owner._config.on_conversation_loaded(
            lambda _id, _account, _conversation, messages: loaded.append(messages)
        )
        owner._config.on_data_transfer_event(
            lambda _a, _c, _i, file_id, code: transfers.append((file_id, code))
        )
        message = Message("m1", "a" * 40, "Alice", "2026-12-03T14:05:00", 3.0)
        name = message_file_name(message, ".flac")
        started = time.monotonic()
        await b.sim.supervisor.ask_telephony(
            lambda core: core.send_file(f"jami:{owner.jami_id}", name, audio)
        )
        sent = time.monotonic() - started

        async with asyncio.timeout(60):  # the owner is asked to accept the conversation, as by an app
            while not any(r.uri == bob for r in owner.trust_requests()):
                await asyncio.sleep(0.1)
        asked = time.monotonic() - started
        [request] = owner.trust_requests()
        assert b"FN:Bob" in request.vcard and request.conversation
        await owner.accept_trust_request(bob)
        async with asyncio.timeout(30):  # joined: cloned from Bob's phone, the file's message in it
            while True:
                await owner._call("loadConversationMessages", owner.account_id, request.conversation, "", 0)
                await asyncio.sleep(0.3)
                files = [m for batch in loaded for m in batch if m.get("type") == DATA_TRANSFER]
                if files:
                    break
        [file] = files
        assert file["author"] == bob and file["displayName"] == name
        assert int(file["totalSize"]) == len(audio)

        kept = tmp_path / "downloaded.flac"
        assert await owner._call(
            "downloadFile", owner.account_id, request.conversation, file["id"], file["fileId"], str(kept)
        )
        async with asyncio.timeout(30):
            while (file["fileId"], FINISHED) not in transfers:
                await asyncio.sleep(0.1)
        done = time.monotonic() - started
        assert kept.read_bytes() == audio
        assert [p.read_bytes() for p in b.core.outbox.files()] == [audio]
    print(f"sendFile {sent:.2f} s; owner asked after {asked:.1f} s; downloaded after {done:.1f} s")


def test_the_pinned_methods_include_what_the_test_drives():
    # loadConversationMessages and downloadFile are the owner app's, not the phone's: not pinned,
    # but they must be in this daemon's interface as the test calls them.
    from .test_defs import signatures

    methods, signals = signatures(defs.CONFIGURATION_MANAGER[1])
    assert methods["loadConversationMessages"] == ("sssu", "u")
    assert methods["downloadFile"] == ("sssss", "b")
    assert signals["conversationLoaded"] == "ussaa{ss}"
    assert signals["dataTransferEvent"] == "ssssi"
