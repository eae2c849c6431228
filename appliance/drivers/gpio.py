"""GPIO drivers through gpiozero: the hook switch, a matrix keypad, a bell (the SLIC is in slic.py).

gpiozero calls back on its own thread (lgpio); every callback comes back to the event loop with
``call_soon_threadsafe``. gpiozero's ``bounce_time`` is not used: debouncing is done once, in the
appliance, for every driver alike (mock pins ignore it anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from gpiozero import DigitalInputDevice, DigitalOutputDevice
from gpiozero.pins import Factory

from appliance.ports import HookEdge, KeyListener

from .cadence import CadenceRinger

log = logging.getLogger(__name__)

Clock = Callable[[], float]


def pin_factory(name: str) -> Factory:
    """The gpiozero pin factory by name: 'lgpio' on a Pi (3, 4 and 5), 'mock' anywhere else."""
    if name == "mock":
        from gpiozero.pins.mock import MockFactory, MockPWMPin  # noqa: PLC0415

        return MockFactory(pin_class=MockPWMPin)  # PWM-capable, like lgpio's pins (the SLIC's F/R line)
    from gpiozero.pins.lgpio import LGPIOFactory  # noqa: PLC0415 - lgpio only exists on the device

    return LGPIOFactory()


class GpioHookSwitch:
    """A cradle switch between a GPIO and ground (pull-up) or 3V3 (pull-down).

    ``normally_closed``: the contact is closed while the handset rests (opens when lifted).
    """

    def __init__(
        self,
        pin: int,
        *,
        normally_closed: bool = False,
        pull_up: bool = True,
        factory: Factory | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self._device = DigitalInputDevice(pin, pull_up=pull_up, bounce_time=None, pin_factory=factory)
        self._lifted_when_closed = not normally_closed
        self._clock = clock
        self._on_edge: HookEdge | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def off_hook(self) -> bool:
        return bool(self._device.is_active) == self._lifted_when_closed

    async def start(self, on_edge: HookEdge) -> None:
        self._loop = asyncio.get_running_loop()
        self._on_edge = on_edge
        self._device.when_activated = self._changed
        self._device.when_deactivated = self._changed

    async def stop(self) -> None:
        self._device.when_activated = self._device.when_deactivated = None
        self._device.close()

    def _changed(self) -> None:  # on gpiozero's thread
        at = self._clock()
        level = self.off_hook
        if self._loop is not None and self._on_edge is not None:
            self._loop.call_soon_threadsafe(self._on_edge, level, at)


class MatrixKeypad:
    """A matrix keypad: rows driven by GPIOs, columns read with pull-ups.

    At rest every row is driven low, so any key pulls its column low and wakes the driver (no
    polling while idle). It then scans row by row every ``scan_s`` until all keys are up. A key
    counts once it is seen down in ``debounce_scans`` scans in a row. With three or more keys
    down at once the matrix can show a key that is not pressed (a ghost at the fourth corner of a
    rectangle), so no new key is reported from such a scan.
    """

    def __init__(
        self,
        rows: list[int],
        cols: list[int],
        layout: list[str],
        *,
        scan_s: float = 0.01,
        debounce_scans: int = 2,
        factory: Factory | None = None,
    ) -> None:
        self._rows = [
            DigitalOutputDevice(p, active_high=False, initial_value=True, pin_factory=factory) for p in rows
        ]
        self._cols = [
            DigitalInputDevice(p, pull_up=True, bounce_time=None, pin_factory=factory) for p in cols
        ]
        self._layout = [row.upper() for row in layout]
        self._scan_s = scan_s
        self._debounce = debounce_scans
        self._seen: dict[str, int] = {}
        self._reported: set[str] = set()
        self._on_key: KeyListener | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scanner: asyncio.Task[None] | None = None
        self.scans = 0  # how many scans ran (idle costs none)

    async def start(self, on_key: KeyListener) -> None:
        self._loop = asyncio.get_running_loop()
        self._on_key = on_key
        for col in self._cols:
            col.when_activated = self._woken

    def listen(self, active: bool) -> None:
        del active  # the matrix costs nothing at rest: it wakes on a key

    async def stop(self) -> None:
        if self._scanner:
            self._scanner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._scanner
        for device in (*self._rows, *self._cols):
            device.close()

    def _woken(self) -> None:  # gpiozero's thread: a column went low at rest
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        if self._scanner is None or self._scanner.done():
            assert self._loop is not None
            self._scanner = self._loop.create_task(self._scan_until_released())

    def scan(self) -> set[str]:
        """The keys down now: drive one row low at a time and read the columns."""
        down = set()
        for r, row in enumerate(self._rows):
            for other in self._rows:
                other.value = other is row
            for c, col in enumerate(self._cols):
                if col.is_active:
                    down.add(self._layout[r][c])
        for row in self._rows:  # back to rest: all rows low, ready to wake on any key
            row.on()
        self.scans += 1
        return down

    async def _scan_until_released(self) -> None:
        quiet = 0
        while quiet < 2:
            down = self.scan()
            quiet = 0 if down else quiet + 1
            self._seen = {k: self._seen.get(k, 0) + 1 for k in down}
            self._reported &= down
            if len(down) <= 2:
                for key, count in self._seen.items():
                    if count >= self._debounce and key not in self._reported:
                        self._reported.add(key)
                        if self._on_key:
                            self._on_key(key)
            await asyncio.sleep(self._scan_s)


class GpioBell(CadenceRinger):
    """A bell or ringer chip switched by one GPIO (through a driver transistor or relay)."""

    def __init__(self, pin: int, *, active_high: bool = True, factory: Factory | None = None) -> None:
        super().__init__()
        self._out = DigitalOutputDevice(
            pin, active_high=active_high, initial_value=False, pin_factory=factory
        )

    def _burst(self, *, on: bool) -> None:
        self._out.value = on

    def _close(self) -> None:
        self._out.close()
