import asyncio

import pytest
from evdev import InputEvent, ecodes

from appliance.drivers.evdev_keypad import EvdevKeypad
from appliance.drivers.gpio import MatrixKeypad
from appliance.fakes.keypad import FakeKeypad
from appliance.runtime.virtual import run_virtual

from .conftest import KeyMatrix

ROWS, COLS = [5, 6, 13, 19], [12, 16, 20, 21]
LAYOUT = ["123A", "456B", "789C", "*0#D"]


class FakeRig:
    def __init__(self, factory):
        self.keypad = FakeKeypad()

    async def tap(self, key):
        self.keypad.press(key)


class MatrixRig:
    def __init__(self, factory):
        self.matrix = KeyMatrix(factory, ROWS, COLS, LAYOUT)
        self.keypad = MatrixKeypad(ROWS, COLS, LAYOUT, scan_s=0.01, debounce_scans=2, factory=factory)

    async def tap(self, key, hold=0.08):
        self.matrix.press(key)
        await asyncio.sleep(hold)
        self.matrix.release(key)
        await asyncio.sleep(0.05)


class EvdevRig:
    """An input device whose events are injected (no /dev/uinput in containers)."""

    def __init__(self, factory):
        self.queue = asyncio.Queue()
        rig = self

        class Device:
            name = "USB Keypad"

            async def async_read_loop(self):
                while True:
                    yield await rig.queue.get()

            def close(self):
                pass

        self.keypad = EvdevKeypad("keypad", opener=lambda name: Device())

    async def tap(self, key):
        code = {"*": ecodes.KEY_KPASTERISK, "#": ecodes.KEY_KPDOT}.get(key) or getattr(ecodes, f"KEY_KP{key}")
        for value in (1, 2, 0):  # down, autorepeat, up
            self.queue.put_nowait(InputEvent(0, 0, ecodes.EV_KEY, code, value))
        await asyncio.sleep(0.01)


@pytest.fixture(params=["fake", "matrix", "evdev"])
def rig(request, mock_factory):
    return {"fake": FakeRig, "matrix": MatrixRig, "evdev": EvdevRig}[request.param](mock_factory)


def run(rig, body):
    async def main():
        keys = []
        await rig.keypad.start(keys.append)
        await asyncio.sleep(0)
        await body()
        await asyncio.sleep(0.1)
        await rig.keypad.stop()
        return "".join(keys)

    return run_virtual(main())


def test_each_key_is_reported_once(rig):
    async def body():
        for key in "5551234*0#":
            await rig.tap(key)

    assert run(rig, body) == "5551234*0#"


def test_matrix_reads_all_sixteen_keys(mock_factory):
    rig = MatrixRig(mock_factory)

    async def body():
        for key in "123A456B789C*0#D":
            await rig.tap(key)

    assert run(rig, body) == "123A456B789C*0#D"


def test_matrix_contact_bounce_is_one_key(mock_factory):
    rig = MatrixRig(mock_factory)

    async def body():
        loop = asyncio.get_running_loop()
        for i, t in enumerate([0.0, 0.002, 0.003, 0.006, 0.007, 0.009, 0.011]):  # chatter, then down
            loop.call_later(t, rig.matrix.press if i % 2 == 0 else rig.matrix.release, "8")
        await asyncio.sleep(0.2)
        rig.matrix.release("8")

    assert run(rig, body) == "8"


def test_matrix_reports_no_ghost_key(mock_factory):
    """1, 2 and 4 held together make 5 look pressed (4th corner): 5 is never reported."""
    rig = MatrixRig(mock_factory)

    async def body():
        rig.matrix.press("1")
        await asyncio.sleep(0.05)
        rig.matrix.press("2")
        await asyncio.sleep(0.05)
        rig.matrix.press("4")
        await asyncio.sleep(0.1)
        for key in "124":
            rig.matrix.release(key)
        await asyncio.sleep(0.05)

    assert run(rig, body) == "12"


def test_matrix_does_not_scan_at_rest(mock_factory):
    rig = MatrixRig(mock_factory)

    async def body():
        await asyncio.sleep(10)
        assert rig.keypad.scans == 0
        await rig.tap("7")
        scans = rig.keypad.scans
        await asyncio.sleep(10)
        assert rig.keypad.scans == scans
        assert scans < 20

    assert run(rig, body) == "7"


def test_evdev_keypad_comes_back_after_unplug(mock_factory):
    opened = []
    queue = asyncio.Queue()

    class Device:
        name = "USB Keypad"

        def __init__(self, n):
            self.n = n

        async def async_read_loop(self):
            while True:
                event = await queue.get()
                if event is None:
                    raise OSError(19, "No such device")
                yield event

        def close(self):
            pass

    def opener(name):
        opened.append(name)
        if len(opened) == 2:
            raise FileNotFoundError("not plugged in yet")
        return Device(len(opened))

    keypad = EvdevKeypad("keypad", opener=opener)

    async def main():
        keys = []
        await keypad.start(keys.append)
        await asyncio.sleep(0)
        queue.put_nowait(InputEvent(0, 0, ecodes.EV_KEY, ecodes.KEY_3, 1))
        await asyncio.sleep(0.01)
        queue.put_nowait(None)  # unplugged
        await asyncio.sleep(5)
        queue.put_nowait(InputEvent(0, 0, ecodes.EV_KEY, ecodes.KEY_NUMERIC_POUND, 1))
        await asyncio.sleep(0.01)
        await keypad.stop()
        return "".join(keys)

    assert run_virtual(main()) == "3#"
    assert len(opened) == 3
