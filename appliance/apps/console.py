"""The desktop phone driven from the terminal with the simulator's commands, in real time."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

from appliance.assembly import Assembly
from appliance.sim import ScriptError, Simulation, parse_script

log = logging.getLogger(__name__)


def console_for(phone: Assembly, stop: asyncio.Event) -> asyncio.Task[None]:
    """The console as a task of the running phone; ``quit`` stops the phone (the end of input
    only ends the console: a phone started from a script keeps running)."""
    task = asyncio.get_running_loop().create_task(_console(phone, stop), name="console")
    task.add_done_callback(_report_failure)
    return task


def _say(text: str) -> None:
    print(text, flush=True)  # a line at a time, also when another program reads the console


def _show(change: dict[str, Any]) -> None:
    kind = change.pop("event")
    if kind == "display":
        _say("  [display] " + " | ".join(change["lines"]))
    elif kind == "tone":
        _say(f"  [tone] {change['tone'] or 'silence'}")
    elif kind == "ringer":
        _say(f"  [ringer] {'ringing' if change['on'] else 'off'}")
    elif kind == "call":
        _say("  [call] " + " ".join(f"{k}={v}" for k, v in change.items()))


async def _console(phone: Assembly, stop: asyncio.Event) -> None:
    await phone.supervisor.started()
    sim = Simulation(phone)  # the far-end commands say so when the core is the real daemon
    sim.watch(_show)
    _say("Desktop phone. Commands: lift, hang, flash, press 123#, pulse 5, incoming NAME,")
    _say("remote answer|busy|fail|hangup, trust URI, crash, set KEY VALUE, quit.")
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while not stop.is_set():
        raw = await reader.readline()
        if not raw:
            break
        text = raw.decode(errors="replace").strip()
        if text in ("quit", "exit"):
            stop.set()
            break
        if not text:
            continue
        try:
            for command in parse_script(text):
                await sim.execute(command)
        except ScriptError as exc:
            _say(f"  ! {str(exc).replace('line 1: ', '')}")


def _report_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("console failed: %r", task.exception())
