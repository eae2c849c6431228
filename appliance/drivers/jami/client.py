"""The telephony port on the Jami daemon: commands down as D-Bus calls, signals up as phone events.

``JamiTelephony`` is the daemon's lifecycle (started, watched, restarted) and the answering machine;
it stands on the layers below it, each a module of its own: ``contacts.py`` (trust requests,
invitations, blocking, messages to the owner), ``calls.py`` (the phone's call commands),
``signals.py`` (the daemon's state as signalled and read), ``accounts.py`` (the identity and the
SIP accounts), ``link.py`` (the bounded D-Bus calls and the phone's sink).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from dbus_fast import BusType, DBusError
from dbus_fast.aio import MessageBus
from dbus_fast.introspection import Node

from appliance.drivers.speech import EspeakSpeech, PromptCache
from appliance.notices import Notices, Severity
from appliance.phone.events import (
    TelephonyLost,
    TelephonyRestored,
)
from appliance.phone.model import CallId, Registration
from appliance.ports import EventSink, Recording, TelephonyError

from . import defs, farend, liveness, processing
from .accounts import SipAccountSpec
from .answering import CallAudio
from .audio import PrivatePulseAudio
from .calls import HOLD_CALL_S
from .contacts import JamiContacts
from .daemon import JamiDaemon
from .dhtnode import DhtNodeProcess
from .farend import FarEndWatch, read_clock
from .jams import JamsEnrolment, trust_bundle
from .link import NoAnswerError, command
from .liveness import Liveness
from .outbox import Outbox
from .signals import peer_uri

__all__ = ["JamiTelephony", "JamsEnrolment", "SipAccountSpec", "peer_uri"]

log = logging.getLogger(__name__)


class JamiTelephony(JamiContacts):
    """The Jami daemon as the phone's telephony core, with its lifecycle.

    The daemon's data lives under ``root``; the account created on first run is remembered in
    ``root/account-id`` so a restart (or a crash) finds it again. ``notices`` is where the owner is
    told of what the adapter found wrong (a damaged file kept aside, a daemon that stopped answering).
    """

    def __init__(
        self,
        root: Path,
        *,
        display_name: str,
        bootstrap: list[str] | None = None,
        wrapper: list[str] | None = None,
        pulse: PrivatePulseAudio | None = None,
        sip_accounts: tuple[SipAccountSpec, ...] = (),
        daemon_env: dict[str, str] | None = None,
        dht_node: DhtNodeProcess | None = None,
        restart_delay_s: float = 1.0,
        announce_timeout_s: float = 60.0,
        notices: Notices | None = None,
        on_step: Callable[[str, str], Awaitable[None]] | None = None,
        noise_reduction: str | None = None,  # audio.noise_reduction; None: the daemon's own
        loss_recovery: bool = True,  # opus_fec preloaded into jamid; off only to measure without
        manager: JamsEnrolment | None = None,  # a JAMS server gives the account at first run
    ) -> None:
        env = {**(daemon_env or {}), **(pulse.env if pulse else {})}
        super().__init__(
            root=root,
            daemon=JamiDaemon(root, wrapper=wrapper, extra_env=env, loss_recovery=loss_recovery),
            display_name=display_name,
            # With a node of its own, the daemon joins the DHT through it (the node joins the rest).
            bootstrap=[dht_node.address] if dht_node else (bootstrap or []),
            sip_accounts=sip_accounts,
            announce_timeout_s=announce_timeout_s,
            notices=notices if notices is not None else Notices(),
            on_step=on_step,
            manager=manager,
        )
        self.dht_node = dht_node
        self.pulse = pulse
        self.noise_reduction = noise_reduction
        self.restart_delay_s = restart_delay_s
        self.ping_interval_s = liveness.PING_INTERVAL_S
        self.ping_timeout_s = liveness.PING_TIMEOUT_S
        self._liveness: Liveness | None = None
        self._losses = {True: 0, False: 0}  # the daemon hung / exited, since this start
        self._watcher: asyncio.Task[None] | None = None
        self._stopping = False
        self.restarts = 0
        self.hold_call_s = HOLD_CALL_S
        self.far_end_beacons = True  # off only to measure the daemon's own 40 s (bench/daemon_kills.py)
        self.far_end = FarEndWatch()
        self._held: set[CallId] = set()  # calls placed before their account was registered
        self.outbox = Outbox(root / "outbox")  # files for sendFile, beside the daemon's data
        # The answering machine needs the daemon's own PulseAudio to move its streams off the handset.
        self._machine = (
            CallAudio(pulse, self._send, EspeakSpeech(PromptCache(root / "prompts"))) if pulse else None
        )

    @property
    def can_record(self) -> bool:
        """Whether calls can be taken for the answering machine (with the daemon's own PulseAudio)."""
        return self._machine is not None

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self, sink: EventSink) -> None:
        self._sink = sink
        if self.pulse is not None:
            await self.pulse.start()
        if self.dht_node is not None:
            await self.dht_node.start()
        await self._bring_up()
        self._watcher = asyncio.get_running_loop().create_task(self._watch(), name="jamid-watch")

    async def stop(self) -> None:
        self._stopping = True
        if self._watcher:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        for task in list(self._tasks):
            task.cancel()
        if self._machine is not None:
            await self._machine.stop()
        await self._disconnect()
        await self.daemon.stop()
        if self.dht_node is not None:
            await self.dht_node.stop()
        if self.pulse is not None:
            await self.pulse.stop()

    async def _bring_up(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._trust_the_jams()
        await self.daemon.start()
        self._bus = await MessageBus(bus_address=self.daemon.address, bus_type=BusType.SESSION).connect()
        await self._wait_for_daemon()
        self._calls = self._interface(*defs.CALL_MANAGER)
        self._config = self._interface(*defs.CONFIGURATION_MANAGER)
        self._subscribe()  # before reading any state: nothing may slip between the two
        await processing.apply_noise_reduction(self._call, self.noise_reduction)
        await self._ensure_account()
        await self._ensure_sip_accounts()
        await self._read_state()
        self._settler = asyncio.get_running_loop().create_task(self._settle_registration())
        self._spawn(self._watch_far_ends())

    def _trust_the_jams(self) -> None:
        """The daemon's CA_ROOT_FILE: the system's CAs and the JAMS's own (jami.manager_ca_file).
        Never one that could not be written: the daemon's HTTP client throws on a missing file."""
        if self.manager is None or not self.manager.ca_file:
            return
        try:
            self.daemon.extra_env["CA_ROOT_FILE"] = str(trust_bundle(self.root, self.manager.ca_file))
        except TelephonyError as exc:  # the enrolment then fails (an untrusted server) and says so
            log.error("%s", exc)  # noqa: TRY400 - the reason is the whole message

    async def _wait_for_daemon(self) -> None:
        assert self._bus is not None
        introspection = await self._bus.introspect("org.freedesktop.DBus", "/org/freedesktop/DBus")
        dbus = self._bus.get_proxy_object("org.freedesktop.DBus", "/org/freedesktop/DBus", introspection)
        iface: Any = dbus.get_interface("org.freedesktop.DBus")
        for _ in range(600):
            if await iface.call_name_has_owner(defs.SERVICE):
                return
            if self.daemon.jamid is not None and self.daemon.jamid.returncode is not None:
                break
            await asyncio.sleep(0.05)
        raise TelephonyError(f"jamid did not come up (see {self.root / 'log' / 'jamid.log'})")

    def _interface(self, path: str, name: str) -> Any:  # noqa: ANN401 - a dbus-fast proxy interface
        assert self._bus is not None
        proxy = self._bus.get_proxy_object(defs.SERVICE, path, Node.parse(defs.interface_xml(name)))
        return proxy.get_interface(name)

    async def _disconnect(self) -> None:
        if self._settler is not None:
            self._settler.cancel()
            self._settler = None
        self._reported = Registration.UNREGISTERED
        if self._bus is not None:
            self._bus.disconnect()
            with contextlib.suppress(Exception):
                await self._bus.wait_for_disconnect()  # type: ignore[no-untyped-call]
        self._bus = self._calls = self._config = None

    async def _watch(self) -> None:
        """The daemon died or stopped answering: report it lost, (kill and) restart it, re-subscribe,
        re-read state, report it back."""
        while not self._stopping:
            hung = await self._until_lost()
            if self._stopping:
                return
            code = self.daemon.jamid.returncode if self.daemon.jamid is not None else None
            why = "stopped answering" if hung else f"exited with {code}"
            log.error("jamid %s; restarting it", why)
            self._lose(f"jamid {why}")
            self.notices.raise_(NOTICE_DAEMON, _LOST_WORDS[hung], Severity.ERROR)
            if hung:
                self.daemon.kill()  # SIGKILL takes a stopped process too; what it had queued dies with it
            await self._disconnect()
            await self.daemon.stop()
            while not self._stopping:
                await asyncio.sleep(self.restart_delay_s)
                try:
                    await self._bring_up()
                    break
                except (TelephonyError, DBusError, OSError):
                    log.exception("restarting jamid failed")
                    self.daemon.kill()
                    await self.daemon.stop()
            self.restarts += 1
            self._losses[hung] += 1
            self.notices.raise_(NOTICE_DAEMON, self._recovered_words(), Severity.WARNING)
            self._down = False
            self._send(TelephonyRestored())

    async def _until_lost(self) -> bool:
        """Wait until the daemon exits (False) or stops answering (True)."""
        liveness = Liveness(self._ping, interval_s=self.ping_interval_s, excused=lambda: self._slow_calls > 0)
        self._liveness = liveness
        loop = asyncio.get_running_loop()
        exited = loop.create_task(self.daemon.wait_exit(), name="jamid-exit")
        hung = loop.create_task(liveness.until_hung(), name="jamid-liveness")
        try:
            await asyncio.wait((exited, hung), return_when=asyncio.FIRST_COMPLETED)
            return not exited.done()
        finally:
            self._liveness = None
            for task in (exited, hung):
                task.cancel()
            await asyncio.gather(exited, hung, return_exceptions=True)

    async def _ping(self) -> bool:
        """A cheap call: whether the daemon answered it in time (an error is an answer too)."""
        try:
            await self._call("getAccountList", within_s=self.ping_timeout_s, counted=False)
        except NoAnswerError:
            return False
        except TelephonyError:
            pass
        return True

    async def _watch_far_ends(self) -> None:
        """While the daemon has Jami calls, ask it for a beacon when a far end goes quiet, so a
        vanished one is noticed in seconds (see farend.py)."""
        while True:
            await asyncio.sleep(farend.POLL_S)
            if not (self.far_end_beacons and self._jami_calls_only()):
                continue
            streams = await asyncio.to_thread(read_clock, self.daemon.media_clock)
            now = time.monotonic()  # the clock's CLOCK_MONOTONIC
            quiet = self.far_end.due(streams, now)
            if quiet is None:
                continue
            log.info("no audio from a far end for %.1f s: asking jamid whether its peers are there",
                     now - quiet.quiet_since())  # fmt: skip
            with contextlib.suppress(TelephonyError):
                await self._call("connectivityChanged")

    def _jami_calls_only(self) -> bool:
        """Whether the daemon has calls and all are on the Jami account (a beacon would also
        re-register the SIP accounts, under a SIP call)."""
        calls = list(self._local.values())
        return bool(calls) and all(self._account(c) == self.account_id for c in calls)

    def _unanswered(self, member: str) -> None:
        if self._liveness is not None:
            self._liveness.unanswered(member)

    def _lose(self, why: str) -> None:
        """The daemon is lost: from now on commands are refused, calls forgotten, the phone told."""
        self._down = True
        self._local.clear()
        self._daemon_id.clear()
        self._early.clear()
        self._admitting.clear()
        self._call_account.clear()
        self._held.clear()
        for task in list(self._tasks):  # reads and held calls of the daemon that is gone
            task.cancel()
        # Invitations are read again at the restart and then new to the phone: one whose decline
        # died with the daemon is declined again.
        self._invitations = {}
        self._send_invitations()
        self._send(TelephonyLost(why))

    def _recovered_words(self) -> str:
        hangs, exits = self._losses[True], self._losses[False]
        what = [f"stopped answering {_times(hangs)}"] if hangs else []
        what += [f"stopped {_times(exits)}"] if exits else []
        return (
            f"The phone's Jami service {' and '.join(what)} (last at {time.strftime('%H:%M')}) and was "
            "restarted; calls in progress then were cut off. Calls work again."
        )

    # --- the answering machine (CallRecorder) ------------------------------------------------

    @command
    async def greet(self, call: CallId, text: str, language: str, recorded: Path | None = None) -> None:
        self._id(call)  # a call the daemon has
        await self._recorder().greet(call, text, language, recorded)

    @command
    async def start_recording(self, call: CallId) -> None:
        await self._recorder().start_recording(call)

    async def stop_recording(self, call: CallId) -> Recording | None:
        return await self._recorder().stop_recording(call)

    # --- the owner's greeting through the handset (HandsetRecorder) -----------------------------

    async def record_handset(self, prompt: str, language: str) -> None:
        await self._recorder().record_handset(prompt, language)

    async def stop_handset(self) -> Recording | None:
        return await self._recorder().stop_handset()

    def _recorder(self) -> CallAudio:
        if self._machine is None:
            raise TelephonyError("the answering machine needs the daemon's own PulseAudio (none here)")
        return self._machine


NOTICE_DAEMON = "jami.daemon"
_LOST_WORDS = {
    True: "The phone's Jami service stopped answering. It is being restarted; calls are not possible "
    "until it is back (a few seconds).",
    False: "The phone's Jami service stopped. It is being restarted; calls are not possible until it "
    "is back (a few seconds).",
}


def _times(n: int) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"
