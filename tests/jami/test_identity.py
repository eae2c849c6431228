"""Identity in plain words, on real daemons: a contact's certificate pinned at first contact, a
changed one flagged (and refused in private mode), and blocking."""

import asyncio
import json
from dataclasses import replace

from appliance.drivers.jami.pins import CertificatePins
from appliance.phone.events import SettingsChanged
from appliance.phone.model import Mode

from .conftest import appliance, dial, dial_until_ringing, requirements
from .test_phone import speed_dial

pytestmark = requirements

PRIVATE = {"features": {"private_mode": True}}


async def own_certificate(a) -> str:
    details = await a.core._config.call_get_certificate_details(a.core.jami_id)
    return details["SHA1_FINGERPRINT"]


async def test_certificate_pinned_at_first_contact_and_a_change_flagged(netns, dht, tmp_path):
    async with (
        appliance(netns, dht, tmp_path / "b", "Bob", PRIVATE) as b,
        appliance(netns, dht, tmp_path / "a", "Alice") as a,
    ):
        a.sim.supervisor.post(speed_dial("Bob", b.core.jami_id))
        await a.core.send_trust_request(b.core.jami_id, b"BEGIN:VCARD\r\nFN:Alice\r\nEND:VCARD\r\n")
        await b.until(lambda p: p.phone.trust_pending == 1)
        await b.core.accept_trust_request(a.core.jami_id)
        await b.until(lambda p: a.core.jami_id in p.core.identities())
        pinned = b.core.identities()[a.core.jami_id]
        assert pinned.fingerprint == await own_certificate(a)  # what Alice's own daemon says it is
        assert not pinned.changed

        await dial_until_ringing(a, b)  # a contact, same certificate: rings in private mode
        assert b.sim.supervisor.screen.lines[-1] == "Lift to answer"
        a.sim.fakes.hook.replace()
        await b.until(lambda p: p.phone.mode is Mode.IDLE)
        await a.until(lambda p: p.phone.mode is Mode.IDLE)

        # Bob's phone had pinned another certificate for Alice (as if hers had been re-issued,
        # or someone holding her key made a new one): her next call is flagged, not taken silently.
        pins = tmp_path / "b" / "pins.json"
        table = json.loads(pins.read_text())
        table[a.core.jami_id]["fingerprint"] = "0" * 40
        pins.write_text(json.dumps(table))
        b.core.pins = CertificatePins(pins)
        rings = len(b.sim.fakes.ringer.history)
        await dial(a, lambda p: p.phone.mode is Mode.BUSY)  # refused before any ring
        assert len(b.sim.fakes.ringer.history) == rings
        assert b.sim.supervisor.call_log.entries()[0]["reason"] == "certificate changed"
        flagged = b.core.identities()[a.core.jami_id]
        assert (
            flagged.changed and flagged.seen == await own_certificate(a) and flagged.fingerprint == "0" * 40
        )
        a.sim.fakes.hook.replace()
        await a.until(lambda p: p.phone.mode is Mode.IDLE)

        # Outside private mode the call rings, and the display says so before the answer.
        b.sim.supervisor.post(SettingsChanged(replace(b.phone.settings, private_mode=False)))
        await dial_until_ringing(a, b)
        assert b.sim.supervisor.screen.lines[-1] == "Certificate changed!"
        a.sim.fakes.hook.replace()
        await b.until(lambda p: p.phone.mode is Mode.IDLE)
        await a.until(lambda p: p.phone.mode is Mode.IDLE)

        accepted = await b.core.accept_identity(a.core.jami_id)  # checked with Alice, accepted
        assert accepted.fingerprint == await own_certificate(a) and not accepted.changed
        assert json.loads(pins.read_text())[a.core.jami_id]["fingerprint"] == accepted.fingerprint


async def test_a_blocked_peer_never_rings(netns, dht, tmp_path):
    async with (
        appliance(netns, dht, tmp_path / "b", "Bob") as b,
        appliance(netns, dht, tmp_path / "m", "Mallory") as m,
    ):
        m.sim.supervisor.post(speed_dial("Bob", b.core.jami_id))
        await m.core.send_trust_request(b.core.jami_id, b"BEGIN:VCARD\r\nFN:Mallory\r\nEND:VCARD\r\n")
        await b.until(lambda p: p.phone.trust_pending == 1)
        await b.core.block(m.core.jami_id)
        await b.until(lambda p: p.phone.trust_pending == 0)
        await b.until(lambda p: p.core.blocked() == [m.core.jami_id])
        assert not any(c.uri == m.core.jami_id for c in b.phone.trusted)
        m.sim.fakes.hook.lift()
        m.sim.fakes.keypad.press("2#")
        await asyncio.sleep(8)  # the daemon drops a banned peer's call without an answer
        assert not b.sim.fakes.ringer.history and b.phone.calls == ()
        m.sim.fakes.hook.replace()
        await m.until(lambda p: p.phone.mode is Mode.IDLE)
        await b.core.unblock(m.core.jami_id)
        assert b.core.blocked() == []
        await dial_until_ringing(m, b)  # unblocked: the same call now rings
