"""Keypads that are Linux input devices: USB keypads, gpio-keys from a device tree, HID handsets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import evdev
from evdev import ecodes

from appliance.ports import KeyListener

log = logging.getLogger(__name__)

DEFAULT_KEYMAP: dict[int, str] = {
    **{getattr(ecodes, f"KEY_{d}"): str(d) for d in range(10)},
    **{getattr(ecodes, f"KEY_KP{d}"): str(d) for d in range(10)},
    **{getattr(ecodes, f"KEY_NUMERIC_{d}"): str(d) for d in range(10)},
    ecodes.KEY_NUMERIC_STAR: "*",
    ecodes.KEY_NUMERIC_POUND: "#",
    ecodes.KEY_KPASTERISK: "*",
    ecodes.KEY_KPDOT: "#",  # USB number pads have no '#': the key under '3' stands in
    ecodes.KEY_KPENTER: "#",
    ecodes.KEY_NUMERIC_A: "A",
    ecodes.KEY_NUMERIC_B: "B",
    ecodes.KEY_NUMERIC_C: "C",
    ecodes.KEY_NUMERIC_D: "D",
}


class InputDevice(Protocol):
    name: str

    def async_read_loop(self) -> AsyncIterator[Any]: ...

    def close(self) -> None: ...


def open_by_name(name: str) -> InputDevice:
    """The first input device whose name contains ``name`` (names are stable, /dev/input/eventN is not)."""
    for path in evdev.list_devices():
        device = evdev.InputDevice(path)
        if name.lower() in device.name.lower():
            return device
        device.close()
    raise FileNotFoundError(f"no input device named like {name!r}")


class EvdevKeypad:
    """Reports key-down events of an input device as phone keys; reopens it when it comes back."""

    RETRY_S = 2.0

    def __init__(
        self,
        name: str,
        keymap: dict[int, str] | None = None,
        opener: Callable[[str], InputDevice] = open_by_name,
    ) -> None:
        self.name = name
        self.keymap = keymap or DEFAULT_KEYMAP
        self._opener = opener
        self._task: asyncio.Task[None] | None = None

    async def start(self, on_key: KeyListener) -> None:
        self._task = asyncio.get_running_loop().create_task(self._read(on_key))

    def listen(self, active: bool) -> None:
        del active  # keys are keys, on hook or off

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _read(self, on_key: KeyListener) -> None:
        while True:
            try:
                device = self._opener(self.name)
            except OSError as exc:
                log.warning("keypad %r: %s; retrying", self.name, exc)
                await asyncio.sleep(self.RETRY_S)
                continue
            try:
                async for event in device.async_read_loop():
                    if event.type == ecodes.EV_KEY and event.value == 1 and event.code in self.keymap:
                        on_key(self.keymap[event.code])
            except OSError as exc:  # unplugged
                log.warning("keypad %r went away: %s", self.name, exc)
            finally:
                device.close()
            await asyncio.sleep(self.RETRY_S)
