"""The telephony port on the Jami daemon: commands down as D-Bus calls, signals up as phone events.

``JamiTelephony`` is the daemon's lifecycle (started, watched, restarted) and the phone's commands;
it stands on the layers below it, each a module of its own: ``signals.py`` (the daemon's state as
signalled and read), ``accounts.py`` (the identity and the SIP accounts), ``link.py`` (the bounded
D-Bus calls and the phone's sink).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from dbus_fast import BusType, DBusError
from dbus_fast.aio import MessageBus
from dbus_fast.introspection import Node

from appliance.notices import Notices
from appliance.phone.events import ConferenceFormed, TelephonyLost, TelephonyRestored, TrustRequestsChanged
from appliance.phone.model import CallId, Registration
from appliance.ports import EventSink, PeerIdentity, TelephonyError, TrustRequest

from . import defs
from .accounts import SipAccountSpec
from .audio import PrivatePulseAudio
from .daemon import JamiDaemon
from .dhtnode import DhtNodeProcess
from .signals import JamiSignals, peer_uri

__all__ = ["JamiTelephony", "SipAccountSpec", "peer_uri"]

log = logging.getLogger(__name__)


class JamiTelephony(JamiSignals):
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
    ) -> None:
        env = {**(daemon_env or {}), **(pulse.env if pulse else {})}
        super().__init__(
            root=root,
            daemon=JamiDaemon(root, wrapper=wrapper, extra_env=env),
            display_name=display_name,
            # With a node of its own, the daemon joins the DHT through it (the node joins the rest).
            bootstrap=[dht_node.address] if dht_node else (bootstrap or []),
            sip_accounts=sip_accounts,
            announce_timeout_s=announce_timeout_s,
            notices=notices if notices is not None else Notices(),
            on_step=on_step,
        )
        self.dht_node = dht_node
        self.pulse = pulse
        self.restart_delay_s = restart_delay_s
        self._watcher: asyncio.Task[None] | None = None
        self._stopping = False
        self.restarts = 0

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
        await self._disconnect()
        await self.daemon.stop()
        if self.dht_node is not None:
            await self.dht_node.stop()
        if self.pulse is not None:
            await self.pulse.stop()

    async def _bring_up(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        await self.daemon.start()
        self._bus = await MessageBus(bus_address=self.daemon.address, bus_type=BusType.SESSION).connect()
        await self._wait_for_daemon()
        self._calls = self._interface(*defs.CALL_MANAGER)
        self._config = self._interface(*defs.CONFIGURATION_MANAGER)
        self._subscribe()  # before reading any state: nothing may slip between the two
        await self._ensure_account()
        await self._ensure_sip_accounts()
        await self._read_state()
        self._settler = asyncio.get_running_loop().create_task(self._settle_registration())

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
        """The daemon died: report it, restart it, re-subscribe, re-read state, report it back."""
        while not self._stopping:
            code = await self.daemon.wait_exit()
            if self._stopping:
                return
            log.error("jamid exited (%s); restarting it", code)
            self._local.clear()
            self._daemon_id.clear()
            self._early.clear()
            self._admitting.clear()
            self._send(TelephonyLost(f"jamid exited with {code}"))
            await self._disconnect()
            await self.daemon.stop()
            while not self._stopping:
                await asyncio.sleep(self.restart_delay_s)
                try:
                    await self._bring_up()
                    break
                except (TelephonyError, DBusError, OSError):
                    log.exception("restarting jamid failed")
                    await self.daemon.stop()
            self.restarts += 1
            self._send(TelephonyRestored())

    # --- commands ------------------------------------------------------------------------------

    async def place_call(self, call: CallId, account: str, uri: str) -> None:
        daemon_call = await self._call("placeCallWithMedia", account, uri, defs.AUDIO_ONLY)
        if not daemon_call:
            raise TelephonyError(f"jamid would not call {uri}")
        self._call_account[call] = account
        self._bind_call_id(daemon_call, call)
        self._replay_early_states(daemon_call)

    async def accept(self, call: CallId) -> None:
        await self._call_expecting_true(
            "acceptWithMedia", self._account(call), self._id(call), defs.AUDIO_ONLY
        )

    async def refuse(self, call: CallId) -> None:
        await self._call_expecting_true("refuse", self._account(call), self._id(call))

    async def hang_up(self, call: CallId) -> None:
        await self._call_expecting_true("hangUp", self._account(call), self._id(call))

    async def hold(self, call: CallId) -> None:
        await self._call_expecting_true("hold", self._account(call), self._id(call))

    async def resume(self, call: CallId) -> None:
        await self._call_expecting_true("unhold", self._account(call), self._id(call))

    async def conference(self, calls: tuple[CallId, ...]) -> None:
        first, *others = calls
        for other in others:
            await self._call_expecting_true(
                "joinParticipant",
                self._account(first),
                self._id(first),
                self._account(other),
                self._id(other),
            )
        self._send(ConferenceFormed(calls))

    async def transfer(self, calls: tuple[CallId, CallId]) -> None:
        a, b = calls
        await self._call_expecting_true("attendedTransfer", self._account(a), self._id(a), self._id(b))

    async def send_dtmf(self, call: CallId, key: str) -> None:
        del call  # jamid's playDTMF acts on the current call
        await self._call("playDTMF", key)

    def trust_requests(self) -> list[TrustRequest]:
        return list(self._requests.values())

    async def block(self, uri: str) -> None:
        if uri in self._requests:
            await self.discard_trust_request(uri)
        await self._call("removeContact", self.account_id, uri, True)
        self._blocked.add(uri)
        self._refresh_contacts()

    async def unblock(self, uri: str) -> None:
        # A ban is lifted by removing the contact again without one.
        await self._call("removeContact", self.account_id, uri, False)
        self._blocked.discard(uri)
        self._refresh_contacts()

    def blocked(self) -> list[str]:
        return sorted(self._blocked)

    def identities(self) -> dict[str, PeerIdentity]:
        return self.pins.all()

    async def accept_identity(self, uri: str) -> PeerIdentity:
        try:
            return self.pins.accept(uri)
        except KeyError:
            raise TelephonyError(f"no changed certificate for {uri}") from None

    async def accept_trust_request(self, uri: str) -> None:
        await self._call_expecting_true("acceptTrustRequest", self.account_id, uri)
        self._requests.pop(uri, None)
        self._send(TrustRequestsChanged(len(self._requests)))
        self._spawn(self._check_certificate(uri))  # the request was signed: its sender is known

    async def discard_trust_request(self, uri: str) -> None:
        await self._call_expecting_true("discardTrustRequest", self.account_id, uri)
        self._requests.pop(uri, None)
        self._send(TrustRequestsChanged(len(self._requests)))

    async def send_trust_request(self, uri: str, vcard: bytes) -> None:
        await self._call("sendTrustRequest", self.account_id, uri, vcard)
