"""The same drivers on a real board: run on the device with `pytest tests/device --board=<name>`.

Outputs are checked by the test (GPIO writes, ALSA periods, OLED frames); the hook switch and the
keypad ask the person at the phone to act.
"""

import asyncio

import pytest

from appliance.apps.common import board_layer
from appliance.assembly import build_ports
from appliance.config.load import Layer, load_layers
from appliance.phone.screens import ScreenModel
from appliance.phone.tones import PLANS, Tone


@pytest.fixture
def ports(board, tmp_path):
    if not board:
        pytest.skip("needs --board=<name> on the device")
    config = load_layers([Layer("defaults", {}), board_layer(board, None)]).config
    return build_ports(config, tmp_path)


async def test_tone_reaches_the_card(ports):
    ports.tones.play(Tone.DIAL, PLANS["US"].pattern(Tone.DIAL))
    await asyncio.sleep(1.0)
    assert getattr(ports.tones, "periods_written", 1) > 20
    await ports.tones.stop()


async def test_ringer_rings_one_cadence(ports):
    ports.ringer.start_ringing(PLANS["US"].ring)
    await asyncio.sleep(2.5)
    ports.ringer.stop_ringing()
    await ports.ringer.stop()


async def test_display_draws(ports):
    ports.display.show(ScreenModel(("Board test", "If you can read this,", "the display works")))
    await asyncio.sleep(1.0)
    assert getattr(ports.display, "failures", 0) == 0
    await ports.display.stop()


async def test_lift_the_handset(ports):
    edges = []
    await ports.hook.start(lambda level, at: edges.append(level))
    print("\nLift the handset within 15 s")
    for _ in range(150):
        if True in edges:
            break
        await asyncio.sleep(0.1)
    await ports.hook.stop()
    assert True in edges


async def test_the_analog_line_sends_caller_id_in_the_first_ring_pause(ports):
    """The adapter: a US ring with Bellcore caller ID. The periods written are checked here; the
    phone's display (or a caller ID box on the line) must show 555-123-4567 and Board test."""
    from appliance.drivers.slic import SlicRinger
    from appliance.phone.callerid import CallerId, presentation_for

    if not isinstance(ports.ringer, SlicRinger) or ports.ringer.player is None:
        pytest.skip("a board with a SLIC line and its codec")
    player = ports.ringer.player
    ports.ringer.start_ringing(PLANS["US"].ring, CallerId("5551234567", "Board test", None, None,
                                                           presentation_for("US")))  # fmt: skip
    await asyncio.sleep(7.0)  # the ring (2 s), 0.5 s, the data (0.74 s), to the second ring
    ports.ringer.stop_ringing()
    await ports.ringer.stop()
    print("\nThe phone should show 555-123-4567, Board test")
    assert getattr(player, "periods_written", 0) >= 0.7 / 0.02  # the burst reached the card
