"""The runtime: one queue of events, the pure machine, and the dispatch of its effects.

Events go up (drivers post, never block), commands go down (effects dispatched in order). The
telephony core gets its commands through one ordered worker so that a slow D-Bus call never holds
up the handset, and a command the core rejects comes back to the phone as a failed call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from appliance.config.profile import LockedError
from appliance.durable import is_full
from appliance.notices import Notices
from appliance.phone import effects as fx
from appliance.phone.events import (
    AlertSent,
    CallState,
    CallStateChanged,
    ClockRead,
    DeviceInfoChanged,
    Event,
    FeatureNotSaved,
    HandsetTestRequested,
    HookChanged,
    KeyPressed,
    NoticesChanged,
    OwnGreetingChanged,
    TimerExpired,
)
from appliance.phone.machine import step
from appliance.phone.model import CallStatus, DeviceInfo, Mode, Phone
from appliance.phone.screens import ScreenModel, screen
from appliance.phone.tones import PLANS, Cadence, TonePlan
from appliance.ports import (
    Display,
    HookSwitch,
    Keypad,
    Ringer,
    Telephony,
    TelephonyError,
    Tones,
)

from .call_log import CallLog
from .clock import read_local_clock
from .commands import telephony_command
from .debounce import HookDebouncer
from .greeting import GreetingStore
from .maintenance import Power
from .messages import MessageBox
from .recordings import GREETING_EFFECTS, Recordings

log = logging.getLogger(__name__)


@dataclass
class Ports:
    hook: HookSwitch
    keypad: Keypad
    ringer: Ringer
    tones: Tones
    display: Display
    telephony: Telephony


class FeatureStore(Protocol):
    """Persists what star codes change (do not disturb, private mode, call waiting):
    the :class:`~appliance.runtime.config_store.ConfigStore`."""

    async def save_feature(self, name: str, on: bool) -> None: ...

    async def save_forwarding(self, kind: str, to: str) -> None: ...


CLOCK_READ_S = 600.0  # the local time is read again this often (time set later, summer time)


PhoneListener = Callable[[Phone], None]
DeviceReader = Callable[[], DeviceInfo]
"""Reads the device's page address, links and version; quick (no network round trip): it runs on
the loop, in the command worker's turn."""
T = TypeVar("T")


@dataclass(frozen=True)
class _Request:
    """A command from the page for the telephony core, queued behind the phone's own."""

    work: Callable[[Telephony], Awaitable[Any]]
    answer: asyncio.Future[Any]


EffectListener = Callable[[fx.Effect, float], None]


class Supervisor:
    """Runs the phone: start the ports, feed the machine, dispatch effects, stop cleanly.

    Crash loudly: an unexpected error in the loop ends :meth:`run` with that error (the service
    manager restarts the process); the ringer and tone are stopped on the way out.
    """

    def __init__(
        self,
        ports: Ports,
        phone: Phone,
        *,
        debounce_s: float = 0.010,
        features: FeatureStore,
        call_log: CallLog,
        notices: Notices | None = None,
        device: DeviceReader | None = None,
        power: Power | None = None,
        local_clock: Callable[[], ClockRead] | None = read_local_clock,
        messages: MessageBox | None = None,
        greeting: GreetingStore | None = None,
    ) -> None:
        self.ports = ports
        self._local_clock = local_clock  # None: the time of day comes as ClockRead events (simulator)
        self._clock_read: asyncio.TimerHandle | None = None
        self._read_device = device
        self._power = power  # the voice menu's restart and factory reset
        self.messages = messages if messages is not None else MessageBox(None)
        self.greeting = greeting if greeting is not None else GreetingStore(None)
        self.recordings = Recordings(
            self.messages, self.greeting, lambda: self.ports.telephony,
            lambda: self.phone.settings.voicemail.send_to, self.post,
        )  # fmt: skip
        self.messages.on_change(lambda _action, _message: self.recordings.tell_messages())
        self.phone = phone
        self._loop: asyncio.AbstractEventLoop | None = None
        if notices is not None:  # the idle screen counts them; raised from any thread
            self.phone = replace(phone, notices=len(notices.all()))
            notices.on_change(lambda: self.post_threadsafe(NoticesChanged(len(notices.all()))))
        self.features = features
        self.call_log = call_log
        self._debouncer = HookDebouncer(debounce_s, self._hook_settled)
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._commands: asyncio.Queue[fx.Effect | _Request] = asyncio.Queue()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tick: asyncio.TimerHandle | None = None
        self._screen: ScreenModel | None = None
        self._phone_listeners: list[PhoneListener] = []
        self._effect_listeners: list[EffectListener] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._started = asyncio.Event()

    # --- public API (web page, console, simulator) ---------------------------------------------

    def post(self, event: Event) -> None:
        """Queue an event; safe from any callback on the loop."""
        self._events.put_nowait(event)

    def post_threadsafe(self, event: Event) -> None:
        """Queue an event from any thread (a driver's, a worker's)."""
        loop = self._loop
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if loop is None or here is loop:
            self.post(event)
        else:
            loop.call_soon_threadsafe(self.post, event)

    def on_phone(self, listener: PhoneListener) -> None:
        """Call ``listener`` with the new phone after every step."""
        self._phone_listeners.append(listener)

    def on_effect(self, listener: EffectListener) -> None:
        """Call ``listener`` with every effect as it is dispatched (benchmarks, traces)."""
        self._effect_listeners.append(listener)

    async def ask_telephony(self, work: Callable[[Telephony], Awaitable[T]]) -> T:
        """Run ``work`` on the telephony core in the same ordered worker as the phone's commands
        (a contact request from the page never overtakes a hang-up); its result or error comes back."""
        answer: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._commands.put_nowait(_Request(work, answer))
        return await answer

    @property
    def plan(self) -> TonePlan:
        return PLANS[self.phone.settings.country]

    @property
    def screen(self) -> ScreenModel | None:
        return self._screen

    async def started(self) -> None:
        await self._started.wait()

    async def idle(self) -> None:
        """Wait until every queued event and command has been handled (tests, simulator)."""
        while self._events._unfinished_tasks or self._commands._unfinished_tasks:  # type: ignore[attr-defined]  # noqa: SLF001
            await self._events.join()
            await self._commands.join()

    async def settled(self) -> None:
        """Until the hook debouncer's window has closed (an edge held back in it is reported when
        it ends) and every queued event and command has been handled: the phone as it now is."""
        loop = asyncio.get_running_loop()
        while (wait := self._debouncer.quiet_at - loop.time()) > 0:
            await asyncio.sleep(wait)
            await asyncio.sleep(0)  # the window's own settle callback, scheduled for that instant
        await self.idle()

    async def run(self) -> None:
        """Start the ports and run until cancelled or until a task fails."""
        try:
            await self._start()
            done, _ = await asyncio.wait(self._tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
        finally:
            await self._shutdown()

    # --- lifecycle -----------------------------------------------------------------------------

    async def _start(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._event_loop(), name="phone-events"),
            loop.create_task(self._command_loop(), name="telephony-commands"),
        ]
        self._refresh_display()
        self._debouncer.reset(self.ports.hook.off_hook)
        await self.ports.hook.start(self._debouncer.edge)
        await self.ports.keypad.start(lambda key: self.post(KeyPressed(key)))
        await self.ports.telephony.start(self.post)
        self._commands.put_nowait(fx.ReadDevice())  # the voice menu's facts, refreshed when it opens
        self.recordings.tell_messages()
        self.post(OwnGreetingChanged(self.greeting.recorded))
        if self.ports.hook.off_hook:
            self.post(HookChanged(off_hook=True, at=loop.time()))
        self._read_clock()
        self._started.set()

    def _read_clock(self) -> None:
        if self._local_clock is None:
            return
        self.post(self._local_clock())
        self._clock_read = asyncio.get_running_loop().call_later(CLOCK_READ_S, self._read_clock)

    async def _shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for handle in self._timers.values():
            handle.cancel()
        if self._tick:
            self._tick.cancel()
        if self._clock_read:
            self._clock_read.cancel()
        # Never leave a bell ringing or a tone playing behind us.
        self.ports.ringer.stop_ringing()
        self.ports.tones.stop_tone()
        for stop in (
            self.ports.hook.stop,
            self.ports.keypad.stop,
            self.ports.telephony.stop,
            self.ports.ringer.stop,
            self.ports.tones.stop,
            self.ports.display.stop,
        ):
            try:
                await stop()
            except Exception:
                log.exception("stopping %s failed", stop)

    # --- the loop ------------------------------------------------------------------------------

    def _hook_settled(self, off_hook: bool, at: float) -> None:
        self.post(HookChanged(off_hook, at))

    async def _event_loop(self) -> None:
        while True:
            event = await self._events.get()
            try:
                self.handle(event)
            finally:
                self._events.task_done()

    def handle(self, event: Event) -> None:
        """Step the machine with one event and dispatch its effects (synchronously)."""
        now = asyncio.get_running_loop().time()
        self.phone, effects = step(self.phone, event, now)
        for effect in effects:
            self._dispatch(effect, now)
        self._refresh_display()
        for listener in self._phone_listeners:
            listener(self.phone)

    def play_test_tone(self, seconds: float = 3.0) -> None:
        """The handset test: the telephone test tone for a while (the machine decides, as for any
        tone: a call that arrives meanwhile has its own)."""
        self.post(HandsetTestRequested(seconds))

    def _dispatch(self, effect: fx.Effect, now: float) -> None:
        match effect:
            case fx.PlayTone(tone):
                self.ports.tones.play(tone, self.plan.pattern(tone))
            case fx.Say(text, language, message):
                self.ports.tones.say(text, language, self.recordings.recorded(message))
            case fx.MessageHeard(message):
                self.recordings.keep_going(self.messages.mark_heard, message)
            case fx.DeleteMessage(message):
                self.recordings.keep_going(self.messages.delete, message)
            case fx.StartOver(wipe, after_s):
                asyncio.get_running_loop().call_later(after_s, self._start_over, wipe)
            case fx.StopTone():
                self.ports.tones.stop_tone()
            case fx.StartRinger(caller=caller, cadence=own):
                ring = self.plan.ring
                self.ports.ringer.start_ringing(Cadence(own, ring.hz) if own else ring, caller)
            case fx.StopRinger():
                self.ports.ringer.stop_ringing()
            case fx.ReverseLine(on):
                self.ports.ringer.reverse_line(on)
            case fx.OpenLoop(ms):
                self.ports.ringer.open_loop(ms)
            case fx.ShowMessages(on, presentation):
                self.ports.ringer.show_messages(on, presentation, self.plan.ring)
            case fx.AlertWaiting(presentation):
                self.ports.ringer.alert_waiting(presentation, lambda: self.post(AlertSent()))
            case fx.SendWaitingCaller(caller):
                self.ports.ringer.send_waiting_caller(caller)
            case fx.SendCaller(caller):
                self.ports.ringer.send_caller(caller)
            case fx.ListenForDigits(on):
                self.ports.keypad.listen(on)
            case fx.ArmTimer(name, seconds):
                self._cancel_timer(name)
                loop = asyncio.get_running_loop()
                self._timers[name] = loop.call_later(seconds, self.post, TimerExpired(name))
            case fx.CancelTimer(name):
                self._cancel_timer(name)
            case fx.Forward(call, to):
                log.info("call %s forwarded to %s", call, to)
            case fx.LogCall():
                try:
                    self.call_log.add(effect)  # one appended line, no fsync
                except Exception:  # a call log that cannot be written never takes the phone down
                    log.exception("call not logged")
            case _:  # telephony commands and feature saves, in order, off the handset's path
                self._commands.put_nowait(effect)
        for listener in self._effect_listeners:
            listener(effect, now)

    def _cancel_timer(self, name: str) -> None:
        handle = self._timers.pop(name, None)
        if handle is not None:
            handle.cancel()

    async def _command_loop(self) -> None:
        while True:
            effect = await self._commands.get()
            if isinstance(effect, _Request):
                await self._answer(effect)
                self._commands.task_done()
                continue
            if isinstance(effect, fx.SaveFeature | fx.SaveForwarding):
                await self._save_feature(effect)
                self._commands.task_done()
                continue
            if isinstance(effect, fx.ReadDevice):
                self._device_read()
                self._commands.task_done()
                continue
            if isinstance(effect, GREETING_EFFECTS):
                await self.recordings.greeting_effect(effect)
                self._commands.task_done()
                continue
            if isinstance(effect, fx.StopRecording):
                await self.recordings.stop_recording(effect)
                self._commands.task_done()
                continue
            try:
                await telephony_command(self.ports.telephony, effect, self.recordings)
                self._commands.task_done()
            except TelephonyError as exc:
                log.warning("%s refused: %s", type(effect).__name__, exc)
                if isinstance(effect, fx.PlaceCall | fx.Accept):
                    self.post(CallStateChanged(effect.call, CallState.FAILURE))
                self._commands.task_done()
            except OSError:
                log.exception("%s failed", type(effect).__name__)
                self._commands.task_done()

    def _device_read(self) -> None:
        if self._read_device is None:
            return
        try:
            info = self._read_device()
        except OSError:  # the menu then says what it last knew
            log.exception("device not read")
            return
        self.post(DeviceInfoChanged(info))

    def _start_over(self, wipe: bool) -> None:
        """The voice menu's restart or factory reset, once its goodbye has been said."""
        if self._power is None:
            log.warning("%s asked from the handset: this phone cannot restart itself here",
                        "factory reset" if wipe else "restart")  # fmt: skip
        elif wipe:
            self._power.restart(wipe=True)  # the data directory emptied, then the phone starts as new
        else:
            self._power.reboot()

    async def _save_feature(self, effect: fx.SaveFeature | fx.SaveForwarding) -> None:
        """A star code's change, saved; if it cannot be, the phone undoes it and says so."""
        try:
            if isinstance(effect, fx.SaveForwarding):
                name = f"forwarding.{effect.kind}"
                await self.features.save_forwarding(effect.kind, effect.to)
            else:
                name = effect.name
                await self.features.save_feature(effect.name, effect.on)
        except Exception as exc:  # noqa: BLE001 - whatever it was, the change would not outlive a restart
            log.warning("%s not saved: %s", name, exc)
            why = "storage full" if is_full(exc) else "locked" if isinstance(exc, LockedError) else "error"
            self.post(FeatureNotSaved(name, effect.was, why))

    async def _answer(self, request: _Request) -> None:
        try:
            result = await request.work(self.ports.telephony)
        except Exception as exc:  # noqa: BLE001 - handed to the one who asked, whatever it is
            if not request.answer.done():
                request.answer.set_exception(exc)
        else:
            if not request.answer.done():
                request.answer.set_result(result)

    # --- the display ---------------------------------------------------------------------------

    def _refresh_display(self) -> None:
        loop = asyncio.get_running_loop()
        current = screen(self.phone, loop.time())
        if current != self._screen:
            self._screen = current
            self.ports.display.show(current)
        active = self.phone.active_call
        talking = self.phone.mode is Mode.TALKING and active and active.status is CallStatus.CONNECTED
        if talking and self._tick is None and active and active.connected_at is not None:
            # Redraw when the call timer turns to its next whole second.
            into = (loop.time() - active.connected_at) % 1.0
            delay = 1.0 - into
            # Just short of a whole second, the float remainder can leave a delay too small to move
            # the clock (found in virtual time: the tick rescheduled itself at the same instant
            # forever): a millisecond at least, past the turn.
            delay = max(delay, 0.001)
            self._tick = loop.call_later(delay, self._on_tick)

    def _on_tick(self) -> None:
        self._tick = None
        self._refresh_display()
