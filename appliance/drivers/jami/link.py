"""The Jami adapter's two ends: D-Bus calls down to the daemon, events up to the phone.

Every call to the daemon goes through :meth:`DaemonLink._call`, which bounds it in time (a stopped
or deadlocked jamid must never hold a command, and the commands queued behind it, for ever) and
turns a D-Bus error into a TelephonyError that names the method, never its arguments.

The adapter is one object (its state is one daemon's), written in layers, each in a module named
for what it does: this link; the account bookkeeping (``accounts.py``); the daemon's state as read
and as signalled (``signals.py``); the lifecycle and the commands (``client.py``, ``JamiTelephony``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

from dbus_fast import DBusError
from dbus_fast.aio import MessageBus

from appliance.phone.events import Event
from appliance.ports import EventSink, TelephonyError

from . import defs

log = logging.getLogger(__name__)

CALL_TIMEOUT_S = 5.0  # a local daemon answers in milliseconds; past this it is stuck
# Methods that do real work before they answer: the archive is encrypted (key stretching) and
# written, or re-encrypted under a new password.
SLOW_CALL_TIMEOUT_S = {"exportToFile": 60.0, "changeAccountPassword": 60.0}


class NoAnswerError(TelephonyError):
    """The daemon did not answer a call in time (stopped, deadlocked: see liveness.py)."""


class DaemonLink:
    """The bus to the daemon, its two interfaces, the phone's sink and the adapter's background tasks."""

    def __init__(self) -> None:
        self._bus: MessageBus | None = None
        self._calls: Any = None  # dbus-fast proxy interfaces: CallManager, ConfigurationManager
        self._config: Any = None
        self._sink: EventSink | None = None
        self._tasks: set[asyncio.Task[Any]] = set()  # background reads, kept referenced until done
        self.call_timeout_s = CALL_TIMEOUT_S
        # The daemon is lost (dead or hung) and not back yet: the phone's commands are refused at
        # once instead of reaching the daemon that comes back, where they would be stale.
        self._down = False
        self._slow_calls = 0  # slow calls in flight (the daemon may not answer pings meanwhile)

    def _unanswered(self, member: str) -> None:
        """A call to ``member`` went unanswered (overridden by the lifecycle, which watches)."""

    async def _call(
        self,
        member: str,
        *args: object,
        within_s: float | None = None,
        counted: bool = True,
    ) -> Any:  # noqa: ANN401 - what the method returns
        """Call the daemon's D-Bus method ``member`` (its name in defs.METHODS), bounded by
        ``within_s`` (the method's own bound by default); a D-Bus error or no answer in time becomes
        a TelephonyError naming the method.

        The arguments never go into the error: some are passwords (changeAccountPassword's,
        exportToFile's, an archive's in addAccount, a SIP account's in its details), and the error's
        text is logged and shown on the web page. Should the daemon's own words repeat one, it is
        blotted out too. An unanswered call is ``counted`` towards a hung daemon.
        """
        interface = self._calls if member in defs.METHODS[defs.CALL_MANAGER[1]] else self._config
        if interface is None:
            raise TelephonyError("jamid is not running")
        method = getattr(interface, f"call_{_snake(member)}")
        slow = member in SLOW_CALL_TIMEOUT_S
        bound = within_s if within_s is not None else SLOW_CALL_TIMEOUT_S.get(member, self.call_timeout_s)
        bus = self._bus
        self._slow_calls += slow
        try:
            async with asyncio.timeout(bound):
                return await method(*args)
        except DBusError as exc:
            raise TelephonyError(f"jamid: {member} failed: {_without_arguments(exc.text, args)}") from None
        except TimeoutError:
            if counted:
                self._unanswered(member)
            raise NoAnswerError(f"jamid did not answer {member} in {bound:g} s") from None
        except Exception:
            if bus is not None and not bus.connected:  # the bus went down under the call
                raise TelephonyError(f"jamid went away during {member}") from None
            raise
        finally:
            self._slow_calls -= slow

    async def _call_expecting_true(self, member: str, *args: Any) -> None:  # noqa: ANN401
        """Call ``member``, a method answering whether it did it; False becomes a TelephonyError
        naming the method, never its arguments."""
        if not await self._call(member, *args):
            raise TelephonyError(f"jamid refused {member}")

    def _send(self, event: Event) -> None:
        if self._sink is not None:
            self._sink(event)

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run ``work`` in the background, kept referenced until done (the loop holds tasks only
        weakly) and cancelled by stop(); a failure is logged under the coroutine's name."""
        task = asyncio.get_running_loop().create_task(work, name=getattr(work, "__qualname__", None))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)


Self = TypeVar("Self", bound=DaemonLink)
P = ParamSpec("P")
R = TypeVar("R")


def command(
    method: Callable[Concatenate[Self, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[Self, P], Coroutine[Any, Any, R]]:
    """A command of the phone's (or the page's): refused at once while the daemon is lost, so none
    issued while it was dead or hung runs on the daemon that comes back, seconds or minutes late."""

    @functools.wraps(method)
    async def checked(self: Self, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if self._down:
            raise TelephonyError("the Jami service is restarting; try again in a moment")
        return await method(self, *args, **kwargs)

    return checked


def _without_arguments(text: str, args: tuple[Any, ...]) -> str:
    """``text`` with every string among ``args`` (and in their lists, and their dicts' values)
    blotted out."""
    words: list[str] = []
    pending: list[Any] = list(args)
    while pending:
        arg = pending.pop()
        if isinstance(arg, str) and arg:
            words.append(arg)
        elif isinstance(arg, dict):
            pending += arg.values()
        elif isinstance(arg, (list, tuple)):
            pending += arg
    for word in sorted(words, key=len, reverse=True):  # the longest first: one may hold another
        text = text.replace(word, "***")
    return text


def _snake(member: str) -> str:
    """A D-Bus member's name as dbus-fast spells its proxy method: placeCallWithMedia ->
    place_call_with_media, playDTMF -> play_dtmf."""
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", member)).lower()


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("%s failed: %s", task.get_name(), task.exception())
