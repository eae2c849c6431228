"""The display: fake and OLED driver alike, golden PNGs of every screen, failures survived."""

import asyncio
import os
import time
from pathlib import Path

import pytest
from luma.core.device import dummy
from luma.oled.device import sh1106, ssd1306
from PIL import Image, ImageChops

from appliance.drivers.oled import OledDisplay, render
from appliance.fakes.display import FakeDisplay
from appliance.phone.events import (
    CallState,
    NoticesChanged,
    SetupCodeChanged,
    TelephonyLost,
    TrustRequestsChanged,
    VoicemailChanged,
)
from appliance.phone.screens import ScreenModel, screen
from tests.unit.harness import BOB, STRANGER, PhoneBench, with_settings

GOLDEN = Path(__file__).parents[1] / "golden"


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


class FakeRig:
    def __init__(self):
        self.display = FakeDisplay()

    def drawn(self, expected):
        return self.display.current == expected


class OledRig:
    def __init__(self):
        self.device = dummy(width=128, height=64, mode="1")
        self.display = OledDisplay(lambda: self.device)

    def drawn(self, expected):
        return self.device.image is not None and self.device.image.tobytes() == render(expected).tobytes()


@pytest.fixture(params=["fake", "oled"])
def rig(request):
    return FakeRig() if request.param == "fake" else OledRig()


async def test_shows_the_latest_screen(rig):
    first = ScreenModel(("Jami phone", "Ready"), dim=True)
    second = ScreenModel(("Jami phone", "Dialing", "555"))
    rig.display.show(first)
    rig.display.show(second)
    wait_for(lambda: rig.drawn(second))
    await rig.display.stop()


async def test_a_missing_display_never_stops_the_phone():
    attempts = []

    def absent():
        attempts.append(1)
        if len(attempts) < 3:
            raise OSError(121, "Remote I/O error")  # what i2c says when nothing answers
        return dummy(width=128, height=64, mode="1")

    oled = OledDisplay(absent)
    model = ScreenModel(("x", "Ready"))
    for _ in range(4):
        oled.show(model)  # never raises
        await asyncio.sleep(0.6)
    wait_for(lambda: oled.frames >= 1)
    assert oled.failures == 2
    await oled.stop()


class Serial:
    def __init__(self):
        self.commands, self.data_bytes = [], 0

    def command(self, *cmd):
        self.commands.append(cmd)

    def data(self, data):
        self.data_bytes += len(data)

    def cleanup(self):
        pass


@pytest.mark.parametrize("kind", [ssd1306, sh1106])
async def test_real_controller_drivers_send_frames_and_dim(kind):
    serial = Serial()
    oled = OledDisplay(lambda: kind(serial, width=128, height=64))
    oled.show(ScreenModel(("Jami phone", "Alice", "00:01")))
    wait_for(lambda: oled.frames == 1)
    assert serial.data_bytes >= 1024  # one full frame of 128x64 pixels
    oled.show(ScreenModel(("Jami phone", "Ready"), dim=True))
    wait_for(lambda: oled.frames == 2)
    assert (0x81, 40) in serial.commands  # contrast lowered when idle
    await oled.stop()
    assert (0xAE,) in serial.commands  # display off on the way out


def states():
    """The screens a person sees, each produced by the real machine."""
    out = {}
    bench = PhoneBench()
    out["idle"] = bench.phone
    b = PhoneBench()
    b.send(SetupCodeChanged("482913", "kitchen-phone.local"))  # flashed, nobody has claimed it yet
    out["unclaimed"] = b.phone
    b = PhoneBench(with_settings(dnd=True, private_mode=True))
    b.send(VoicemailChanged("jami", 2))
    b.send(TrustRequestsChanged(1))
    b.ring_in("in-9", STRANGER, "Eve")
    b.state("in-9", CallState.HUNGUP)
    out["idle-with-everything"] = b.phone
    b = PhoneBench()
    b.send(NoticesChanged(2))  # a file kept aside, a full disk: the owner should look at the page
    out["idle-with-notices"] = b.phone
    b = PhoneBench()
    b.lift()
    out["dial-tone"] = b.phone
    b.press("200")
    out["dialing"] = b.phone
    b = PhoneBench()
    b.call_out("2#", answer=False)
    out["ringback"] = b.phone
    b = PhoneBench()
    b.ring_in("in-1", BOB)
    out["incoming"] = b.phone
    b = PhoneBench()
    b.call_out("2#")
    b.advance(83)
    out["in-call"] = b.phone
    b.ring_in("in-2", BOB)
    out["call-waiting"] = b.phone
    b = PhoneBench()
    b.call_out("2#")
    b.flash()
    out["held-second-dial-tone"] = b.phone
    b.call_out("3#")
    b.flash()
    b.advance(5)
    out["conference"] = b.phone
    b = PhoneBench()
    call = b.call_out("3#", answer=False)
    b.state(call, CallState.BUSY)
    out["busy"] = b.phone
    b = PhoneBench()
    b.lift()
    b.press("7#")
    out["no-such-speed-dial"] = b.phone
    b.advance(25)
    out["howler"] = b.phone
    b = PhoneBench()
    b.call_out("2#")
    b.send(TelephonyLost())
    out["service-restarting"] = b.phone
    return out


@pytest.mark.parametrize("name", list(states()))
def test_golden_screens(name):
    phone = states()[name]
    image = render(
        screen(
            phone,
            now=phone.active_call.connected_at + 83
            if phone.active_call and phone.active_call.connected_at is not None
            else 0.0,
        )
    )
    path = GOLDEN / f"{name}.png"
    if os.environ.get("UPDATE_GOLDEN") or not path.exists():
        image.save(path)
        big = image.convert("L").resize((384, 192), Image.NEAREST)
        big.save(GOLDEN / f"{name}.x3.png")
    golden = Image.open(path).convert("L")
    diff = ImageChops.difference(golden, image.convert("L")).getbbox()
    assert diff is None, f"{name} differs from {path} in {diff} (UPDATE_GOLDEN=1 to accept a change)"
