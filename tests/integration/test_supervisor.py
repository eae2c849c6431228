"""The runtime around the machine: ports, timers, the core's failures, shutdown."""

import asyncio
from dataclasses import replace

import pytest

from appliance.config.load import Layer, load_layers
from appliance.fakes.ringer import FakeRinger
from appliance.phone.events import SettingsChanged
from appliance.phone.model import Mode
from appliance.ports import TelephonyError
from appliance.sim import Simulation

from .conftest import running


def test_call_round_trip_on_fakes(virtual):
    async def main():
        async with running() as sim:
            sim.fakes.hook.lift()
            assert sim.fakes.tones.current is None  # the event is queued, not handled inline
            await sim.supervisor.idle()
            assert sim.fakes.tones.current.value == "dial"
            sim.fakes.keypad.press("2#")
            await asyncio.sleep(0.5)
            assert sim.fakes.tones.current.value == "ringback"
            assert sim.supervisor.screen.lines[1:] == ("Ringing", "Alice")
            sim.fakes.telephony.remote_answer()
            await asyncio.sleep(61)
            assert sim.supervisor.screen.lines[1:] == ("Alice", "01:01")
            sim.fakes.hook.replace()
            await asyncio.sleep(1)
            assert sim.fakes.telephony.commands[-1][0] == "hangup"
            assert sim.supervisor.phone.mode is Mode.IDLE
            newest = sim.supervisor.call_log.entries()[0]
            assert newest["kind"] == "outgoing"
            assert newest["duration_s"] == pytest.approx(61.9, abs=0.01)

    virtual(main())


def test_incoming_rings_with_the_country_cadence(virtual):
    async def main():
        async with running({"phone": {"country": "GB"}}) as sim:
            sim.fakes.telephony.ring_in("a" * 40)
            await sim.supervisor.idle()
            assert sim.fakes.ringer.cadence.on_off_ms == (400, 200, 400, 2000)
            assert sim.fakes.ringer.cadence.hz == 25.0
            caller = sim.fakes.ringer.caller  # what a SLIC sends as caller ID: BT's, by the country
            assert (caller.name, caller.presentation.standard.value) == ("Alice", "etsi-fsk")
            assert sim.supervisor.screen.lines[1:] == ("Incoming call", "Alice", "Lift to answer")
            sim.fakes.hook.lift()
            await sim.supervisor.idle()
            assert not sim.fakes.ringer.ringing
            await asyncio.sleep(0.5)  # the core connects the accepted call
            assert sim.fakes.ringer.reversed  # answer supervision on an analog line
            sim.fakes.telephony.remote_hangup()
            await sim.supervisor.idle()
            assert not sim.fakes.ringer.reversed  # the far end hung up

    virtual(main())


def test_core_crash_mid_call_recovers_to_dial_tone(virtual):
    async def main():
        async with running() as sim:
            sim.fakes.hook.lift()
            sim.fakes.keypad.press("2#")
            await asyncio.sleep(0.5)
            sim.fakes.telephony.remote_answer()
            await asyncio.sleep(5)
            sim.fakes.telephony.crash()
            await sim.supervisor.idle()
            assert sim.fakes.tones.current.value == "reorder"
            assert sim.supervisor.screen.lines[1:] == (
                "Phone service is",
                "restarting",
                "Hang up to try again",
            )
            await asyncio.sleep(1.0)
            assert sim.fakes.tones.current.value == "dial"
            await asyncio.sleep(1.0)  # accounts register again
            sim.fakes.keypad.press("3#")
            await asyncio.sleep(0.5)
            assert sim.fakes.telephony.commands[-1][:1] == ("place",)
            assert sim.fakes.tones.current.value == "ringback"

    virtual(main())


def test_core_crash_while_ringing_silences_the_ringer(virtual):
    async def main():
        async with running() as sim:
            sim.fakes.telephony.ring_in("b" * 40)
            await sim.supervisor.idle()
            assert sim.fakes.ringer.ringing
            sim.fakes.telephony.crash()
            await sim.supervisor.idle()
            assert not sim.fakes.ringer.ringing

    virtual(main())


def test_a_command_the_core_refuses_fails_the_call(virtual):
    async def main():
        async with running() as sim:

            async def broken(*args):
                raise TelephonyError("org.freedesktop.DBus.Error.NoReply")

            sim.fakes.telephony.place_call = broken
            sim.fakes.hook.lift()
            sim.fakes.keypad.press("2#")
            await asyncio.sleep(0.1)
            assert sim.fakes.tones.current.value == "reorder"
            assert sim.supervisor.phone.notice == "Call failed"

    virtual(main())


async def ringing_phone() -> tuple[Simulation, asyncio.Task[None]]:
    """A desktop phone whose run task the test owns (to cancel it or see it fail), ringing for a call."""
    sim = Simulation.build(load_layers([Layer("defaults", {})]))
    task = asyncio.get_running_loop().create_task(sim.supervisor.run())
    await sim.supervisor.started()
    await asyncio.sleep(1)  # accounts register
    sim.fakes.telephony.ring_in("c" * 40)
    await sim.supervisor.idle()
    return sim, task


def test_shutdown_leaves_ringer_and_tone_off(virtual):
    async def main():
        sim, task = await ringing_phone()
        assert sim.fakes.ringer.ringing
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not sim.fakes.ringer.ringing
        assert sim.fakes.tones.current is None

    virtual(main())


def test_a_bug_in_the_loop_crashes_loudly_and_silences_the_bell(virtual):
    async def main():
        sim, task = await ringing_phone()

        def explode(screen):
            raise RuntimeError("display driver bug")

        sim.fakes.display.show = explode
        sim.fakes.hook.lift()
        with pytest.raises(RuntimeError, match="display driver bug"):
            await task
        assert not sim.fakes.ringer.ringing

    virtual(main())


def test_star_code_is_saved_through_the_feature_store(virtual):
    async def main():
        async with running() as sim:
            sim.fakes.hook.lift()
            sim.fakes.keypad.press("*78")
            await sim.supervisor.idle()
            assert sim.supervisor.features.saved == {"features": {"dnd": True}}
            sim.fakes.telephony.ring_in("a" * 40)
            await sim.supervisor.idle()
            assert sim.fakes.telephony.commands[-1][0] == "refuse"

    virtual(main())


def test_trust_request_accepted_lets_a_stranger_ring_in_private_mode(virtual):
    async def main():
        stranger = "d" * 40
        async with running({"features": {"private_mode": True}}) as sim:
            core = sim.fakes.telephony
            core.ring_in(stranger, "Dave")
            await sim.supervisor.idle()
            assert core.commands[-1][0] == "refuse"
            assert not sim.fakes.ringer.ringing
            core.receive_trust_request(stranger, b"BEGIN:VCARD\nFN:Dave\nEND:VCARD\n")
            await sim.supervisor.idle()
            assert "1 contact request" in sim.supervisor.screen.lines
            await core.accept_trust_request(stranger)
            await sim.supervisor.idle()
            core.ring_in(stranger, "Dave")
            await sim.supervisor.idle()
            assert sim.fakes.ringer.ringing

    virtual(main())


def test_keypad_listens_only_off_hook(virtual):
    async def main():
        async with running() as sim:
            assert sim.fakes.keypad.listening is False
            sim.fakes.hook.lift()
            await sim.supervisor.idle()
            assert sim.fakes.keypad.listening is True
            sim.fakes.hook.replace()
            await asyncio.sleep(1.0)
            assert sim.fakes.keypad.listening is False

    virtual(main())


def test_a_group_invitation_is_declined_through_the_core_in_private_mode(virtual):
    async def main():
        async with running({"features": {"private_mode": True}}) as sim:
            core = sim.fakes.telephony
            core.receive_invitation("c" * 40, "d" * 40)
            await sim.supervisor.idle()
            assert core.commands[-1] == ("decline-invitation", "c" * 40)
            assert core.invitations() == []
            assert sim.supervisor.phone.invitations == ()

    virtual(main())


def test_a_contact_with_a_distinctive_ring_rings_with_it(virtual):
    async def main():
        contacts = [{"name": "Alice", "uri": "a" * 40, "ring": "dr2"}]
        async with running({"phone": {"country": "GB"}, "contacts": contacts}) as sim:
            sim.fakes.telephony.ring_in("a" * 40)
            await sim.supervisor.idle()
            assert sim.fakes.ringer.cadence.on_off_ms == (800, 400, 800, 4000)
            assert sim.fakes.ringer.cadence.hz == 25.0  # still the country's ring frequency

    virtual(main())


def test_caller_id_on_call_waiting_through_the_runtime(virtual):
    """The phone's ack arrives as a key from the line (the DTMF keypad); the far end is muted
    through the telephony core meanwhile."""

    async def main():
        async with running() as sim:
            # As settings_of gives an adapter's SLIC line; the fakes stand for its drivers.
            analog = replace(sim.supervisor.phone.settings, callerid_waiting=True)
            sim.supervisor.post(SettingsChanged(analog))
            sim.fakes.hook.lift()
            sim.fakes.keypad.press("2#")
            await asyncio.sleep(0.5)
            sim.fakes.telephony.remote_answer()
            await sim.supervisor.idle()
            sim.fakes.telephony.ring_in("b" * 40)
            await asyncio.sleep(0.31)  # the call-waiting tone's burst, then the alert
            assert len(sim.fakes.ringer.waiting_alerts) == 1
            # The fake line reports the alert out after a real one's delays; the phone acks as
            # late as it may (100 ms), heard at the end of the DTMF detector's 100 ms block.
            await asyncio.sleep(FakeRinger.ALERT_OUT_S + 0.1 + 0.034 + 0.1)
            sim.fakes.keypad.press("D")
            await sim.supervisor.idle()
            assert [c.name for c in sim.fakes.ringer.waiting_callers] == ["Bob"]
            await asyncio.sleep(1.0)
            mutes = [c[1:] for c in sim.fakes.telephony.commands if c[0] == "mute"]
            dtmf = [c for c in sim.fakes.telephony.commands if c[0] == "dtmf"]
            assert [on for _, on in mutes] == ["on", "off"]
            assert dtmf == []  # the ack never reached the far end

    virtual(main())
