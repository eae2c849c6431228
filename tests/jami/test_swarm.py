"""A current Jami app's contact request (a swarm: a one-to-one conversation and its request) between
two real daemons, made as such an app makes it: ``addContact``, then ``sendTrustRequest`` with the
vCard (jami-daemon's own tests of conversation requests do the same).

The phone is Bob's, in private mode; Alice is the other app (an appliance too, whose daemon the
test drives directly for what a phone never sends). Bob answers through the page's control API.
"""

import asyncio
import os
import time

from appliance.phone.events import ContactsChanged
from appliance.phone.model import Contact, Mode

from .conftest import appliance, dht_node, dial, dial_until_ringing, network_namespace, requirements

pytestmark = requirements

PRIVATE = {"features": {"private_mode": True}}
VCARD = b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Alice\r\nEND:VCARD\r\n"


async def ask_as_a_current_app(alice, bob_id: str) -> None:
    await alice.core._call("addContact", alice.core.account_id, bob_id)  # makes the conversation
    await alice.core._call("sendTrustRequest", alice.core.account_id, bob_id, VCARD)


async def listed(phone, uri: str, timeout: float) -> dict:
    """The request from ``uri`` as the page lists it, once it is."""
    async with asyncio.timeout(timeout):
        while True:
            for request in await phone.sim.assembly.control.trust.requests():
                if request["uri"] == uri:
                    return request
            await asyncio.sleep(0.05)


async def test_a_swarm_request_is_accepted_and_its_sender_then_rings_in_private_mode(tmp_path):
    with network_namespace(f"swarm-{os.getpid()}") as ns, dht_node(ns, tmp_path / "dht.log") as dht:
        async with (
            appliance(ns, dht, tmp_path / "b", "Bob", PRIVATE) as b,
            appliance(ns, dht, tmp_path / "a", "Alice") as a,
        ):
            alice, bob = a.core.jami_id, b.core.jami_id
            declined: list[str] = []
            b.core._config.on_conversation_request_declined(lambda account, c: declined.append(c))
            a.sim.supervisor.post(ContactsChanged((Contact("Bob", bob, speed_dial="2"),)))

            await ask_as_a_current_app(a, bob)
            # Alice calls at once, her request perhaps not there yet: a stranger all the same.
            await dial(a, lambda p: p.phone.mode is Mode.BUSY)
            assert not any(on for _, on in b.sim.fakes.ringer.history)
            assert b.sim.supervisor.call_log.entries()[0]["reason"] == "private mode"
            a.sim.fakes.hook.replace()
            await a.until(lambda p: p.phone.mode is Mode.IDLE)

            request = await listed(b, alice, 30)
            assert request["name"] == "Alice"
            [pending] = b.core.trust_requests()
            [in_daemon] = await b.core._call("getConversationRequests", b.core.account_id)
            assert pending.conversation == in_daemon["id"]  # the swarm's, as jamid holds it

            await b.sim.assembly.control.trust.accept(alice)
            await b.until(lambda p: any(c.uri == alice for c in p.phone.trusted), 10)
            assert await b.core._call("getConversationRequests", b.core.account_id) == []
            assert await b.core._call("getTrustRequests", b.core.account_id) == []
            async with asyncio.timeout(20):  # the conversation is joined: cloned from Alice
                while pending.conversation not in await b.core._call("getConversations", b.core.account_id):
                    await asyncio.sleep(0.1)

            await dial_until_ringing(a, b)  # a contact now: Bob's phone rings
            a.sim.fakes.hook.replace()
            await a.until(lambda p: p.phone.mode is Mode.IDLE)

            # A group Alice makes and invites Bob to: declined, Bob's phone being private.
            group = await a.core._call("startConversation", a.core.account_id)
            await a.core._call("addConversationMember", a.core.account_id, group, bob)
            async with asyncio.timeout(30):
                while group not in declined:
                    await asyncio.sleep(0.05)
            assert await b.core._call("getConversationRequests", b.core.account_id) == []
            assert b.core.invitations() == []
            assert b.phone.trust_pending == 0  # never shown as a contact request


async def test_a_request_sent_while_the_phone_was_stopped_is_listed_once_it_starts_then_discarded(tmp_path):
    with network_namespace(f"swarm-{os.getpid()}") as ns, dht_node(ns, tmp_path / "dht.log") as dht:
        async with appliance(ns, dht, tmp_path / "b", "Bob", PRIVATE) as b:
            bob = b.core.jami_id  # Bob's phone has been on the network once, then it is stopped
        async with appliance(ns, dht, tmp_path / "a", "Alice") as a:
            alice = a.core.jami_id
            await ask_as_a_current_app(a, bob)
            await asyncio.sleep(2.0)  # the request is put on the DHT for Bob's device
            loop = asyncio.get_running_loop()
            started = loop.time()
            async with appliance(ns, dht, tmp_path / "b", "Bob", PRIVATE) as b:
                up = loop.time() - started
                request = await listed(b, alice, 60)
                shown = loop.time() - started
                assert request["name"] == "Alice"
                assert abs(request["received"] - time.time()) < 120
                assert b.phone.trust_pending == 1
                print(f"started in {up:.1f} s; the request listed {shown:.1f} s after the start")
                # Discarded from the page: declining its conversation discards the trust request too.
                await b.sim.assembly.control.trust.discard(alice)
                assert await b.core._call("getConversationRequests", b.core.account_id) == []
                assert await b.core._call("getTrustRequests", b.core.account_id) == []
                await b.until(lambda p: p.phone.trust_pending == 0, 5)
                assert not any(c.uri == alice for c in b.phone.trusted)
