"""Ringing with the phone core's cadence, whatever makes the sound."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from appliance.phone.callerid import CallerId, Presentation
from appliance.phone.tones import Cadence


class CadenceRinger:
    """Rings with the phone core's cadence; subclasses say how to ring for one burst."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self.cadence: Cadence | None = None

    @property
    def ringing(self) -> bool:
        return self.cadence is not None

    def start_ringing(self, cadence: Cadence, caller: CallerId | None = None) -> None:
        del caller  # a bell or a speaker has no display to show it on
        self.stop_ringing()
        self.cadence = cadence
        self._task = asyncio.get_running_loop().create_task(self._run(cadence))

    def reverse_line(self, on: bool) -> None:
        del on  # a bell or a speaker has no line

    def open_loop(self, ms: int) -> None:
        del ms  # nor a loop

    def alert_waiting(self, presentation: Presentation, sent: Callable[[], None]) -> None:
        del presentation, sent  # no line to send it on

    def send_waiting_caller(self, caller: CallerId) -> None:
        del caller

    def send_caller(self, caller: CallerId) -> None:
        del caller

    def show_messages(self, waiting: bool, presentation: Presentation, ring: Cadence) -> None:
        del waiting, presentation, ring  # nor a message lamp (the stutter dial tone still says it)

    def stop_ringing(self) -> None:
        self.cadence = None
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._burst(on=False)

    async def stop(self) -> None:
        self.stop_ringing()
        self._close()

    async def _run(self, cadence: Cadence) -> None:
        try:
            while True:
                for i, span in enumerate(cadence.on_off_ms):
                    self._burst(on=i % 2 == 0)
                    await asyncio.sleep(span / 1000)
        finally:
            self._burst(on=False)

    def _burst(self, *, on: bool) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError
