"""An analog phone's line through an FXS SLIC (Silvertel Ag1171): ringing, caller ID, polarity.

From the Ag1171 datasheet (V1.0, 2006): RM high selects ringing and F/R toggled at the ringing
frequency makes the ring voltage (5.3); RM must be low at all other times. With RM low, F/R sets
the line's polarity: high is forward (Ring negative to Tip), low reversed (5.9). Audio on the line
while it is on hook (caller ID between rings) needs the module's on-hook transmission resistor,
20 kOhm between Ring and Tip (5.10); the board file says so.

Caller ID goes on the line in the order :mod:`appliance.line.spill` gives for the caller's
standard: the first ring cycle carries the data (with a line reversal or a ring pulse before it
where the standard says), then the plain cadence repeats. Lifting the handset stops all of it at
once: the ring, the data being played, and any reversal made for the data (the line goes back to
the answer-supervision polarity the phone core set).

Loop-current disconnect (the far end cleared while the phone is off hook): the Ag1171 has no
control for it (RM, F/R and SHK only; its line battery comes from its own DC/DC converter on
VPWR), so a board that wants it adds a switch, a FET in the module's supply or a relay in the Tip
lead, on ``loop_pin``. Without one (adapter-v1) the polarity's return alone tells the far-end clear.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from gpiozero import DigitalOutputDevice, PWMOutputDevice
from gpiozero.pins import Factory

from appliance.phone.callerid import CallerId, Presentation
from appliance.phone.tones import Cadence

if TYPE_CHECKING:  # numpy comes with spill: loaded with the first call, not at boot
    from appliance.line.spill import Step

WallClock = Callable[[], datetime]
log = logging.getLogger(__name__)


class LinePlayer(Protocol):
    """Plays line signals (8 kHz mono 16-bit PCM) into the SLIC's VIN, through the codec."""

    async def play(self, pcm: bytes, *, sent: Callable[[], None] | None = None) -> None:
        """Return once the samples have gone out; call ``sent`` (on the loop) as soon as they
        have, before any quiet the player adds."""
        ...

    def cancel(self) -> None:
        """Stop what plays now (the handset was lifted); ``play`` then returns early."""
        ...


class SlicRinger:
    """The ring, caller ID and line polarity of an Ag1171-style SLIC.

    The ring frequency is ``ring_hz``, or the cadence's (the country's: 20, 25, 50 Hz) when 0.
    Without a ``player`` (a board with no codec on the line) the caller is not sent. ``loop_pin``
    drives the board's loop switch (the loop open while it is high, or low when not
    ``loop_active_high``); -1: the board has none.
    """

    def __init__(
        self,
        rm_pin: int,
        fr_pin: int,
        *,
        ring_hz: float = 0.0,
        player: LinePlayer | None = None,
        loop_pin: int = -1,
        loop_active_high: bool = True,
        factory: Factory | None = None,
        wall_clock: WallClock = datetime.now,
    ) -> None:
        self._ring_hz = ring_hz
        self._player = player
        self._wall_clock = wall_clock
        self._rm = DigitalOutputDevice(rm_pin, initial_value=False, pin_factory=factory)
        # F/R high at rest: forward polarity. PWM, as the ring toggles it at 20-50 Hz.
        self._fr = PWMOutputDevice(fr_pin, frequency=ring_hz or 20.0, initial_value=1, pin_factory=factory)
        self._reversed = False  # answer supervision, set by the phone core
        self._signal_reversed = False  # a signal reversed the line: a ring burst ends reversed too
        self._task: asyncio.Task[None] | None = None
        self._stopped: asyncio.Task[None] | None = None  # the last one cancelled, awaited on stop
        self._lamp_task: asyncio.Task[None] | None = None
        self._loop: DigitalOutputDevice | None = None  # the loop switch, closed (inactive) at rest
        if loop_pin >= 0:
            self._loop = DigitalOutputDevice(
                loop_pin, active_high=loop_active_high, initial_value=False, pin_factory=factory
            )
        else:
            log.info("no loop switch on this line: the far end's clear is told by the polarity alone")
        self._loop_task: asyncio.Task[None] | None = None
        self.cadence: Cadence | None = None
        self.caller: CallerId | None = None

    @property
    def ringing(self) -> bool:
        return self.cadence is not None

    @property
    def player(self) -> LinePlayer | None:
        """Where line signals are played (None: a board without a codec on the line)."""
        return self._player

    def start_ringing(self, cadence: Cadence, caller: CallerId | None = None) -> None:
        self._stop_lamp()  # a call wins over the message lamp
        self.stop_ringing()
        self.cadence, self.caller = cadence, caller
        self._task = asyncio.get_running_loop().create_task(self._run(cadence, caller))

    def stop_ringing(self) -> None:
        self.cadence = self.caller = None
        if self._task is not None:
            self._task.cancel()
            self._stopped, self._task = self._task, None
            if self._player is not None:
                self._player.cancel()
        self._rest()

    def show_messages(self, waiting: bool, presentation: Presentation, ring: Cadence) -> None:
        """The message lamp, sent now (the phone core tells only an idle line)."""
        if self._player is None or self.ringing:
            return
        from appliance.line import spill  # noqa: PLC0415

        self._stop_lamp()
        steps = spill.lamp_steps(presentation, on=waiting)
        self._lamp_task = asyncio.get_running_loop().create_task(self._signal(steps, ring))

    def _stop_lamp(self) -> None:
        if self._lamp_task is not None and not self._lamp_task.done():
            self._lamp_task.cancel()
            if self._player is not None:
                self._player.cancel()
            self._rest()

    async def _signal(self, steps: list[Step], ring: Cadence, sent: Callable[[], None] | None = None) -> None:
        try:
            for step in steps:
                await self._do(step, ring, sent)
        finally:
            if not self.ringing:
                self._rest()

    def alert_waiting(self, presentation: Presentation, sent: Callable[[], None]) -> None:
        del presentation  # the same alert tone for both FSK standards
        self._off_hook_signal(None, sent)

    def send_waiting_caller(self, caller: CallerId) -> None:
        self._off_hook_signal(caller)

    def send_caller(self, caller: CallerId) -> None:
        """NTT: the phone closed its loop for the caller (the CAR ring was stopped): the line
        reversed, the data 100 ms later, then the resting polarity."""
        if self._player is None:
            return
        from appliance.line import spill  # noqa: PLC0415

        self._stop_lamp()
        steps = spill.car_steps(caller, self._wall_clock())
        self._lamp_task = asyncio.get_running_loop().create_task(self._signal(steps, Cadence((0,), 0.0)))

    def _off_hook_signal(self, caller: CallerId | None, sent: Callable[[], None] | None = None) -> None:
        """Into the talking line: the alert tone (``sent`` once it is out), or (``caller``) the
        data 60 ms after the ack."""
        if self._player is None:
            return
        from appliance.line import spill  # noqa: PLC0415

        if caller is None:
            steps: list[Step] = [spill.Send(spill.waiting_alert())]
        else:
            steps = [spill.Pause(60), spill.Send(spill.waiting_data(caller, self._wall_clock()))]
        self._stop_lamp()
        signal = self._signal(steps, Cadence((0,), 0.0), sent)
        self._lamp_task = asyncio.get_running_loop().create_task(signal)

    def reverse_line(self, on: bool) -> None:
        self._reversed = on
        if not self.ringing:
            self._rest()

    def open_loop(self, ms: int) -> None:
        """The loop switch open for ``ms``, then closed. The phone core sets the line forward just
        before (its ReverseLine comes first), so the current returns at the idle polarity."""
        if self._loop is None:
            return
        if self._loop_task is not None:
            self._loop_task.cancel()  # a second clear restarts the interval
        self._loop_task = asyncio.get_running_loop().create_task(self._open_for(ms))

    async def _open_for(self, ms: int) -> None:
        assert self._loop is not None
        self._loop.on()
        try:
            await asyncio.sleep(ms / 1000)
        finally:
            self._loop.off()

    async def stop(self) -> None:
        task = self._task or self._stopped
        lamp = self._lamp_task
        self._stop_lamp()
        self.stop_ringing()
        if self._loop_task is not None:
            self._loop_task.cancel()
        for running in (task, lamp, self._loop_task):
            if running is not None:  # let its cleanup run before the pins close
                with contextlib.suppress(asyncio.CancelledError):
                    await running
        self._reversed = False
        self._rest()
        self._rm.close()
        self._fr.close()
        if self._loop is not None:
            self._loop.close()

    # --- the pins ---

    def _rest(self, *, reversed_: bool | None = None) -> None:
        """No ring: RM low first, then F/R at the polarity (the datasheet: F/R sets it while RM is low)."""
        if reversed_ is None:
            self._signal_reversed = False  # the signal is over: answer supervision's polarity
        self._rm.off()
        self._fr.value = 0 if (self._reversed if reversed_ is None else reversed_) else 1

    def _ring(self, cadence: Cadence) -> None:
        hz = self._ring_hz or cadence.hz
        if self._fr.frequency != hz:
            self._fr.frequency = hz
        self._rm.on()
        self._fr.value = 0.5  # a square wave at the ring frequency: the ring voltage

    # --- the sequence ---

    async def _run(self, cadence: Cadence, caller: CallerId | None) -> None:
        from appliance.line import spill  # noqa: PLC0415 - numpy, loaded with the first call

        if self._player is None:
            caller = None
        try:
            for step in spill.first_cycle(caller, cadence, self._wall_clock()):
                await self._do(step, cadence)
            plain = spill.first_cycle(None, cadence, self._wall_clock())
            while True:
                for step in plain:
                    await self._do(step, cadence)
        finally:
            self._rest()

    async def _do(self, step: Step, cadence: Cadence, sent: Callable[[], None] | None = None) -> None:
        from appliance.line import spill  # noqa: PLC0415

        match step:
            case spill.Ring(ms):
                self._ring(cadence)
                await asyncio.sleep(ms / 1000)
                self._rest(reversed_=True if self._signal_reversed else None)
            case spill.Pause(ms):
                await asyncio.sleep(ms / 1000)
            case spill.Polarity(reversed=reversed_):
                self._signal_reversed = reversed_
                self._rest(reversed_=reversed_)
            case spill.Send():
                assert self._player is not None
                await self._player.play(spill.pcm16(step.samples), sent=sent)
