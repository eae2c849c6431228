"""The desktop simulator: a script drives the fakes, the real runtime runs in virtual time.

Script lines (``#`` starts a comment)::

    lift | hang | flash [SECONDS] | press KEYS | pulse DIGITS | wait SECONDS
    incoming CALLER            a contact's name, a URI, or any name (a stranger)
    remote answer|busy|fail|hangup   the far end of the latest call
    remote done|silent         a caller leaving a message presses # or goes quiet
    set KEY VALUE              a config value, e.g. set features.private_mode true
    trust URI                  a trust request arrives from URI
    crash                      the telephony core dies (and restarts)
    clock HH:MM [unsynced]     the local time of day is now HH:MM (quiet hours; none until set,
                               nor by a clock NTP has not set: unsynced)

Each observable change is one JSON object on a line, with ``t`` in virtual seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from appliance import __version__
from appliance.assembly import Assembly, assemble
from appliance.config.load import ConfigError, Layer, Loaded, parse_assignment
from appliance.fakes._watch import Watchable
from appliance.fakes.display import FakeDisplay
from appliance.fakes.hook import FakeHookSwitch
from appliance.fakes.keypad import FakeKeypad
from appliance.fakes.ringer import FakeRinger
from appliance.fakes.telephony import FakeSipAccount, FakeTelephony, fake_jami_id
from appliance.fakes.tones import FakeTones
from appliance.phone import effects as fx
from appliance.phone.dialplan import KEYS
from appliance.phone.events import ClockRead
from appliance.phone.model import DeviceInfo, Message
from appliance.ports import Telephony, TelephonyError
from appliance.runtime.supervisor import Ports

TRACED = ("tone", "announce", "ringer", "line", "call", "message", "display")


class ScriptError(ValueError):
    """A script line that cannot run; the message starts with its line number."""


@dataclass(frozen=True)
class Command:
    line: int
    verb: str
    arg: str = ""


_USAGE = {
    "lift": "lift",
    "hang": "hang",
    "flash": "flash [SECONDS between 0.05 and 5]",
    "press": "press KEYS (0-9 * # A-D)",
    "pulse": "pulse DIGITS (0-9)",
    "wait": "wait SECONDS",
    "incoming": "incoming CALLER",
    "remote": "remote answer|busy|fail|hangup|done|silent",
    "set": "set KEY VALUE",
    "trust": "trust URI",
    "invite": "invite SENDER (an invitation into a group conversation)",
    "crash": "crash",
    "clock": "clock HH:MM [unsynced]",
}


def parse_script(text: str) -> list[Command]:
    commands = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("press") else raw.strip()
        if raw.lstrip().startswith("#") or not line:
            continue
        verb, _, arg = line.partition(" ")
        verb, arg = verb.lower(), arg.strip()
        if verb not in _USAGE:
            raise ScriptError(
                f"line {number}: unknown command {verb!r}; expected one of: {', '.join(_USAGE)}"
            )
        if not _valid(verb, arg):
            raise ScriptError(f"line {number}: expected '{_USAGE[verb]}', got {line!r}")
        commands.append(Command(number, verb, arg))
    return commands


def _valid(verb: str, arg: str) -> bool:
    checks: dict[str, Callable[[str], bool]] = {
        "lift": lambda a: not a,
        "hang": lambda a: not a,
        "crash": lambda a: not a,
        "flash": lambda a: not a or (_number(a) is not None and 0.05 <= float(a) <= 5),
        "press": lambda a: bool(a) and all(k.upper() in KEYS for k in a),
        "pulse": lambda a: bool(re.fullmatch(r"[0-9]+", a)),
        "wait": lambda a: _number(a) is not None and float(a) >= 0,
        "incoming": bool,
        "remote": lambda a: a in ("answer", "busy", "fail", "hangup", "done", "silent"),
        "set": lambda a: len(a.split(None, 1)) == 2,
        "trust": bool,
        "invite": bool,
        "clock": lambda a: bool(re.fullmatch(r"([01]?[0-9]|2[0-3]):[0-5][0-9]( unsynced)?", a)),
    }
    return checks[verb](arg)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@dataclass
class Fakes:
    hook: FakeHookSwitch
    keypad: FakeKeypad
    ringer: FakeRinger
    tones: FakeTones
    display: FakeDisplay
    telephony: FakeTelephony  # or, in the Jami tests, the real daemon's adapter

    def ports(self) -> Ports:
        return Ports(self.hook, self.keypad, self.ringer, self.tones, self.display, self.telephony)

    @classmethod
    def of(cls, ports: Ports) -> Fakes:
        """The fakes of a simulated board's ports (the telephony core may be a real one)."""
        parts = (ports.hook, ports.keypad, ports.ringer, ports.tones, ports.display)
        kinds = (FakeHookSwitch, FakeKeypad, FakeRinger, FakeTones, FakeDisplay)
        if not all(isinstance(part, kind) for part, kind in zip(parts, kinds, strict=True)):
            raise ScriptError("the simulator drives fake hardware: use a simulated board (--board desktop)")
        telephony: Telephony = ports.telephony
        return cls(*parts, telephony)  # type: ignore[arg-type]


def simulated_device() -> DeviceInfo:
    """The desktop phone as its voice menu reads it out: the same on every machine, so a script's
    trace is too (the page on loopback, as the desktop board serves it)."""
    return DeviceInfo(page="127.0.0.1:8080", local_name="desktop.local", links=(("lo", "127.0.0.1"),),
                      version=__version__)  # fmt: skip


def make_fakes(loaded: Loaded, *, seed: str = "desktop", bounce_ms: float = 0.0) -> Fakes:
    config = loaded.config
    sip = tuple(FakeSipAccount(a.id, a.username, a.registrar) for a in config.sip_accounts)
    jami_name = config.phone.display_name if config.jami.enabled else None
    return Fakes(
        FakeHookSwitch(bounce_ms=bounce_ms),
        FakeKeypad(),
        FakeRinger(),
        FakeTones(),
        FakeDisplay(),
        FakeTelephony(jami_name, sip, seed=seed),
    )


class Simulation:
    """Drives the fakes of an assembled phone from script commands around its supervisor."""

    def __init__(self, assembly: Assembly) -> None:
        self.assembly = assembly
        self.fakes = Fakes.of(assembly.ports)
        self.supervisor = assembly.supervisor
        self.store = assembly.store

    @property
    def loaded(self) -> Loaded:
        return self.store.loaded

    @classmethod
    def build(cls, loaded: Loaded | list[Layer]) -> Simulation:
        """The phone of these layers on fakes, nothing saved (star codes stay in memory)."""
        layers = list(loaded.layers) if isinstance(loaded, Loaded) else loaded
        return cls(assemble(layers, None, version=__version__, device=simulated_device, local_clock=None))

    def watch(self, sink: Callable[[dict[str, Any]], None]) -> None:
        for fake in (self.fakes.tones, self.fakes.ringer, self.fakes.telephony, self.fakes.display):
            if isinstance(fake, Watchable):  # the telephony core may be the real daemon
                fake.watch(sink)

        def phone_did(effect: fx.Effect, now: float) -> None:
            del now
            # A forwarding, which no fake sees as such (its leg is a plain "place").
            if isinstance(effect, fx.Forward):
                sink({"event": "call", "action": "forward", "call": effect.call, "to": effect.to})

        self.supervisor.on_effect(phone_did)

        def message(action: str, message: Message) -> None:
            sink({"event": "message", "action": action, "from": message.caller_name or message.caller_uri})

        self.supervisor.messages.on_change(message)

    async def execute(self, command: Command) -> None:
        try:
            await self._execute(command)
        except (TelephonyError, ConfigError) as exc:
            raise ScriptError(f"line {command.line}: {command.verb} {command.arg}: {exc}".rstrip()) from exc
        await self.supervisor.idle()

    async def _execute(self, command: Command) -> None:
        fakes, arg = self.fakes, command.arg
        if command.verb in ("incoming", "remote", "trust", "invite", "crash") and not isinstance(
            fakes.telephony, FakeTelephony
        ):
            raise TelephonyError("this command plays the far end: it needs the simulated telephony core")
        match command.verb:
            case "lift":
                fakes.hook.lift()
            case "hang":
                fakes.hook.replace()
            case "flash":
                await fakes.hook.flash(float(arg) if arg else 0.5)
            case "press":
                fakes.keypad.press(arg.upper())
            case "pulse":
                await fakes.hook.dial(arg)
            case "wait":
                await asyncio.sleep(float(arg))
            case "incoming":
                uri, name = self._caller(arg)
                sip = [a.id for a in self.loaded.config.sip_accounts]
                on_sip = uri.startswith("sip:") and sip  # a SIP caller rings on the SIP line
                fakes.telephony.ring_in(uri, name, account=sip[0] if on_sip else "jami")
            case "remote":
                far = fakes.telephony
                {"answer": far.remote_answer, "busy": far.remote_busy, "fail": far.remote_fail,
                 "hangup": far.remote_hangup, "done": far.remote_done,
                 "silent": far.remote_silent}[arg]()  # fmt: skip
            case "set":
                key, value = arg.split(None, 1)
                await self.store.set_live(parse_assignment(f"{key}={value}"))
            case "trust":
                fakes.telephony.receive_trust_request(arg, f"BEGIN:VCARD\nFN:{arg}\nEND:VCARD\n".encode())
            case "invite":
                uri, _ = self._caller(arg)
                fakes.telephony.receive_invitation(fake_jami_id(f"group of {uri} {command.line}"), uri)
            case "crash":
                fakes.telephony.crash()
            case "clock":  # HH:MM, then "unsynced" for a clock NTP has not set yet
                when, _, synced = arg.partition(" ")
                hours, minutes = when.split(":")
                seconds = int(hours) * 3600.0 + int(minutes) * 60.0
                self.supervisor.post(ClockRead(seconds, synced=synced.strip() != "unsynced"))

    def _caller(self, caller: str) -> tuple[str, str]:
        for contact in self.loaded.config.contacts:
            if contact.name.lower() == caller.lower():
                return contact.uri, ""
        if re.fullmatch(r"[0-9a-fA-F]{40}", caller) or caller.startswith(("sip:", "ring:", "jami:")):
            return caller, ""
        return fake_jami_id(f"stranger:{caller}"), caller


async def run_script(
    commands: list[Command], loaded: Loaded | list[Layer], emit: Callable[[str], None]
) -> None:
    """Run a parsed script in the current (virtual-time) loop, emitting JSON lines."""
    sim = Simulation.build(loaded)
    loop = asyncio.get_running_loop()
    start = loop.time()

    tracing = True

    def trace(change: dict[str, Any]) -> None:
        if tracing and change.get("event") in TRACED:
            emit(
                json.dumps(
                    {"t": round(loop.time() - start, 3), **change}, separators=(",", ":"), ensure_ascii=False
                )
            )

    sim.watch(trace)
    task = loop.create_task(sim.supervisor.run())
    await sim.supervisor.started()
    await sim.supervisor.idle()
    try:
        for command in commands:
            await sim.execute(command)
            if task.done():
                task.result()
        # Let a hang-up or a rotary digit still being timed complete, as the handset would: first the
        # debounce window (an edge inside it is reported when it ends), then the hook timers.
        await asyncio.sleep(sim.loaded.config.hook.debounce_ms / 1000 + 0.001)
        await sim.supervisor.idle()
        for name in ("hook", "pulse"):
            deadline = sim.supervisor.phone.deadline(name)
            if deadline is not None:
                await asyncio.sleep(max(0.0, deadline - loop.time()) + 0.001)
                await sim.supervisor.idle()
    finally:
        tracing = False  # the teardown silencing the phone is not part of the script
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
