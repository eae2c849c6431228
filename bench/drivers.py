"""Driver figures, side by side with the event loop's own cost, in one run.

- hook edge -> phone event: a GPIO edge on a mock pin, raised from another thread as lgpio's
  callback thread does, through the driver, debouncer and machine, to the tone start dispatched;
- key -> OLED frame drawn: a key press through the machine to the frame finished by the OLED
  driver's thread, on luma's dummy device and on the real SSD1306 driver whose I2C bus is
  modelled at 400 kHz (9 bit times per byte: the 1024-byte frame alone takes ~23 ms).

Run: .venv/bin/python bench/drivers.py [--events 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from gpiozero.pins.mock import MockFactory, MockPWMPin
from luma.core.device import dummy
from luma.oled.device import ssd1306

sys.path.insert(0, str(Path(__file__).resolve().parent))
from phone_core import queue_hop_baseline, row

from appliance.config.load import Layer, contacts_of, load_layers, settings_of
from appliance.drivers.gpio import GpioHookSwitch
from appliance.drivers.oled import OledDisplay
from appliance.phone.model import Phone
from appliance.runtime.call_log import CallLog
from appliance.runtime.config_store import ConfigStore
from appliance.runtime.supervisor import Supervisor
from appliance.sim import make_fakes


class I2cBus:
    """luma's serial interface with the time a 400 kHz I2C bus takes to move the bytes."""

    HZ = 400_000

    def command(self, *cmd: int) -> None:
        time.sleep((len(cmd) + 2) * 9 / self.HZ)

    def data(self, data: list[int]) -> None:
        for start in range(0, len(data), 32):  # luma sends blocks of 32 bytes, each with address and control
            time.sleep((len(data[start : start + 32]) + 2) * 9 / self.HZ)

    def cleanup(self) -> None:
        pass


def supervisor_with(hook=None, display=None):
    loaded = load_layers([Layer("defaults", {}), Layer("bench", {"hook": {"debounce_ms": 0}})])
    fakes = make_fakes(loaded)
    fakes.telephony.register_delay_s = 0.0
    ports = fakes.ports()
    if hook is not None:
        ports.hook = hook
    if display is not None:
        ports.display = display
    settings = replace(settings_of(loaded.config), flash_min_s=0.0005, flash_max_s=0.001, pulse_dialing=False)
    phone = Phone.initial(settings, contacts_of(loaded.config))
    # The bench's flash window is below what the config allows: the phone is built by hand here.
    store, log = ConfigStore(list(loaded.layers), None), CallLog(None)
    return fakes, Supervisor(ports, phone, debounce_s=0.0, features=store, call_log=log)


async def hook_to_event(n: int) -> list[int]:
    factory = MockFactory(pin_class=MockPWMPin)
    pin = factory.pin(17)
    hook = GpioHookSwitch(17, factory=factory)
    fakes, supervisor = supervisor_with(hook=hook)
    samples: list[int] = []
    sent: list[int] = []
    fakes.tones.watch(
        lambda c: samples.append(time.perf_counter_ns() - sent[-1]) if c.get("tone") == "dial" else None
    )
    task = asyncio.get_running_loop().create_task(supervisor.run())
    await supervisor.started()
    for _ in range(n):

        def lift() -> None:
            sent.append(time.perf_counter_ns())
            pin.drive_low()

        threading.Thread(target=lift).start()
        await asyncio.sleep(0.001)
        threading.Thread(target=pin.drive_high).start()
        await asyncio.sleep(0.003)
        await supervisor.idle()
    task.cancel()
    return samples


async def key_to_frame(n: int, device_factory) -> list[int]:
    samples: list[int] = []
    pending: dict[str, int] = {}  # the digits we wait to see drawn -> when the key was pressed

    def drawn(screen) -> None:
        for digits, pressed in list(pending.items()):
            if digits in screen.lines:
                samples.append(time.perf_counter_ns() - pressed)
                pending.pop(digits)

    display = OledDisplay(device_factory, on_drawn=drawn)
    fakes, supervisor = supervisor_with(display=display)
    task = asyncio.get_running_loop().create_task(supervisor.run())
    await supervisor.started()

    async def quiet() -> None:
        await supervisor.idle()
        frames = -1
        while frames != display.frames:  # no frame drawn for 60 ms: the display is idle
            frames = display.frames
            await asyncio.sleep(0.06)

    digits = ""
    while len(samples) < n:
        if len(digits) % 8 == 0:  # a fresh number now and then
            fakes.hook.replace()
            await asyncio.sleep(0.01)
            await supervisor.idle()
            fakes.hook.lift()
            digits = ""
            await quiet()
        key = str(len(samples) % 10)
        digits += key
        pending[digits] = time.perf_counter_ns()
        fakes.keypad.press(key)
        while digits in pending:
            await asyncio.sleep(0.0005)
        await quiet()
    task.cancel()
    await display.stop()
    return samples


async def main_async(n: int) -> None:
    baseline = await queue_hop_baseline(n)
    hook = await hook_to_event(n)
    frame_dummy = await key_to_frame(max(200, n // 10), lambda: dummy(width=128, height=64, mode="1"))
    frame_i2c = await key_to_frame(max(200, n // 10), lambda: ssd1306(I2cBus(), width=128, height=64))
    print("Driver latency, real-time asyncio loop (targets: key -> OLED frame p95 <= 30 ms)")
    print(row("baseline: asyncio.Queue hop", baseline))
    print(row("GPIO hook edge (thread) -> tone start", hook))
    print(row("key -> OLED frame drawn (luma dummy)", frame_dummy))
    print(row("key -> SSD1306 frame sent (I2C 400 kHz)", frame_i2c))
    extra = statistics.median(frame_i2c) / 1e6 - statistics.median(frame_dummy) / 1e6
    print(f"  the modelled I2C bus adds {extra:.1f} ms per frame (median)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    asyncio.run(main_async(parser.parse_args().events))


if __name__ == "__main__":
    main()
