"""The telephony port on the Jami daemon: commands down as D-Bus calls, signals up as phone events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbus_fast import BusType, DBusError
from dbus_fast.aio import MessageBus
from dbus_fast.introspection import Node

from appliance.durable import atomic_write
from appliance.phone import trust
from appliance.phone.directory import JAMI_ID
from appliance.phone.events import (
    AccountChanged,
    CallIncoming,
    CallState,
    CallStateChanged,
    ConferenceFormed,
    Event,
    TelephonyLost,
    TelephonyRestored,
    TrustedContactsChanged,
    TrustRequestsChanged,
    VoicemailChanged,
)
from appliance.phone.model import AccountInfo, AccountKind, CallId, Contact, Registration
from appliance.phone.trust import Verdict
from appliance.ports import EventSink, PeerIdentity, TelephonyError, TrustRequest

from . import defs
from .audio import PrivatePulseAudio
from .daemon import JamiDaemon
from .dhtnode import DhtNodeProcess
from .pins import CertificatePins

log = logging.getLogger(__name__)

_REGISTRATION = {
    "REGISTERED": Registration.REGISTERED,
    "TRYING": Registration.TRYING,
    "INITIALIZING": Registration.TRYING,
    "UNREGISTERED": Registration.UNREGISTERED,
}
_STATES = {state.value: state for state in CallState}


@dataclass(frozen=True, slots=True)
class SipAccountSpec:
    """A SIP account from the config: with a registrar (digest credentials) or IP-to-IP."""

    id: str
    username: str
    password: str = field(default="", repr=False)  # never in a log line or an error
    registrar: str = ""
    local_port: int = 5060


def peer_uri(raw: str) -> str:
    """'ring:<id>@ring.dht' or '<id>@ring.dht' -> '<id>'; SIP URIs unchanged."""
    text = raw.strip().strip("<>")
    for prefix in ("ring:", "jami:"):
        text = text.removeprefix(prefix)
    return text.removesuffix("@ring.dht")


class JamiTelephony:
    """The Jami daemon as the phone's telephony core, with its lifecycle.

    The daemon's data lives under ``root``; the account created on first run is remembered in
    ``root/account-id`` so a restart (or a crash) finds it again.
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
        on_step: Callable[[str, str], Awaitable[None]] | None = None,
    ) -> None:
        self.root = root
        self.display_name = display_name
        self.dht_node = dht_node
        # With a node of its own, the daemon joins the DHT through it (the node joins the rest).
        self.bootstrap = [dht_node.address] if dht_node else (bootstrap or [])
        self.pulse = pulse
        self.sip_accounts = sip_accounts
        self._sip: dict[str, SipAccountSpec] = {}  # daemon account id -> its spec
        env = {**(daemon_env or {}), **(pulse.env if pulse else {})}
        self.daemon = JamiDaemon(root, wrapper=wrapper, extra_env=env)
        self.restart_delay_s = restart_delay_s
        self.announce_timeout_s = announce_timeout_s
        self.account_id = ""
        self.jami_id = ""
        self.registered_name = ""  # a name on the Jami name server, when the account has one
        self.device_id = ""  # this device's certificate fingerprint (one account, many devices)
        self._sink: EventSink | None = None
        self._bus: MessageBus | None = None
        self._calls: Any = None
        self._config: Any = None
        self._local: dict[str, CallId] = {}  # daemon call id -> our call id
        self._daemon_id: dict[CallId, str] = {}  # our call id -> daemon call id
        self._early: dict[str, list[Event]] = {}  # states of calls not named yet
        self._call_account: dict[CallId, str] = {}  # our call id -> the daemon account it is on
        self._requests: dict[str, TrustRequest] = {}
        self._blocked: set[str] = set()
        self.pins = CertificatePins(root / "pins.json")
        self._tasks: set[asyncio.Task[Any]] = set()  # background reads, kept referenced until done
        self._admitting: set[str] = set()  # incoming calls whose caller's certificate is being checked
        self._announced = False
        self._last_state = "TRYING"
        self._account_signals = 0  # signals seen about our account, to tell a stale read from a fresh one
        self._reported = Registration.UNREGISTERED  # what the phone was last told of the account
        self._settler: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._stopping = False
        self.restarts = 0
        # Tests only: awaited at each step of making the account, with the step and the account
        # ("adding", "added", "made", "remembered"); a power cut is injected there.
        self._on_step = on_step

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

    # --- accounts ------------------------------------------------------------------------------

    async def _ensure_account(self) -> None:
        """This phone's one Jami account: the one ``root/account-id`` names; or, when that file is
        missing or names an account the daemon does not have, the Jami account the daemon already
        has (its data directory is this phone's alone, so it can only be ours: a first run cut short
        between the daemon making it and the file being written); or else a new one.

        An account is remembered only once the daemon has made its identity and its files are
        synced to disk, so account-id never names an account a power cut could take back.
        """
        jami = await self._jami_accounts()
        remembered = self.root / "account-id"
        wanted = remembered.read_text().strip() if remembered.exists() else ""
        if wanted in jami:
            self.account_id = wanted
            for stray in [a for a in jami if a != wanted]:
                # Only an account switch cut short leaves one: the old account after the new one was
                # remembered (its removal was next), or a new one never remembered (undone here).
                log.warning("removing Jami account %s: not this phone's (account-id names %s)", stray, wanted)
                try:
                    await self._call("removeAccount", stray)
                except TelephonyError as exc:
                    log.warning("Jami account %s not removed: %s", stray, exc)
        else:
            self.account_id = await self._adopt_or_create(jami, wanted)
        details = await self._config.call_get_account_details(self.account_id)
        self.jami_id = details.get(defs.ACCOUNT_USERNAME, "").removeprefix("ring:")
        wanted_hosts = ";".join(self.bootstrap) if self.bootstrap else defs.PUBLIC_BOOTSTRAP
        if details.get(defs.ACCOUNT_HOSTNAME) != wanted_hosts:  # the bootstrap setting changed since
            log.info("DHT bootstrap of the account: %s", wanted_hosts)
            await self._call(
                "setAccountDetails", self.account_id, {**details, defs.ACCOUNT_HOSTNAME: wanted_hosts}
            )

    async def _jami_accounts(self) -> dict[str, dict[str, str]]:
        """The daemon's Jami (RING) accounts and their details, in getAccountList's order."""
        accounts = {}
        for account in await self._call("getAccountList"):
            details = await self._call("getAccountDetails", account)
            if details.get(defs.ACCOUNT_TYPE) == "RING":
                accounts[account] = details
        return accounts

    async def _adopt_or_create(self, jami: dict[str, dict[str, str]], wanted: str) -> str:
        made = [a for a, details in jami.items() if details.get(defs.ACCOUNT_USERNAME)]
        # One without its identity yet is one the daemon is still loading (it rebuilds an account
        # whose config.yml is empty from its archive): it gets its chance, after the made ones.
        for account in made + [a for a in jami if a not in made]:
            others = [a for a in jami if a != account]
            log.warning(
                "adopting the daemon's Jami account %s (account-id named %s)%s", account, wanted or "none",
                f"; also there, left as they are: {', '.join(others)}" if others else "",
            )  # fmt: skip
            try:
                await self._take_account(account)
            except TelephonyError as exc:
                log.warning("Jami account %s not usable (%s): removing it", account, exc)
                await self._call("removeAccount", account)
                continue
            return account
        details = {**defs.JAMI_ACCOUNT, defs.ACCOUNT_DISPLAY_NAME: self.display_name}
        if self.bootstrap:
            details[defs.ACCOUNT_HOSTNAME] = ";".join(self.bootstrap)
        await self._step("adding", "")
        created: str = await self._call("addAccount", details)
        if not created:
            raise TelephonyError("jamid would not make a Jami account")
        log.info("created Jami account %s", created)
        await self._step("added", created)
        await self._take_account(created)
        return created

    async def _take_account(self, account: str) -> str:
        """Wait for the daemon to make ``account``'s identity, sync its files, then remember it as
        this phone's; its Jami ID."""
        jami_id = await self._wait_for_identity(account)
        await asyncio.to_thread(self.daemon.sync_account, account)
        await self._step("made", account)
        self._remember_account(account)
        await self._step("remembered", account)
        return jami_id

    async def _wait_for_identity(self, account: str) -> str:
        """``account``'s Jami ID once the daemon has made (or loaded) it: its keys and archive are
        written before the ID shows. An account the daemon gives up on (an archive that does not
        open: it reports an error and removes the account) raises TelephonyError."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.announce_timeout_s
        while True:
            if account not in await self._call("getAccountList"):
                raise TelephonyError("jamid dropped the account (an archive it could not open?)")
            details: dict[str, str] = await self._call("getAccountDetails", account)
            if jami_id := details.get(defs.ACCOUNT_USERNAME, "").removeprefix("ring:"):
                return jami_id
            volatile = await self._call("getVolatileAccountDetails", account)
            state = volatile.get("Account.registrationStatus", "")
            if state.startswith("ERROR"):
                raise TelephonyError(f"jamid could not make the account ({state})")
            if loop.time() > deadline:
                raise TelephonyError(f"jamid made no identity in {self.announce_timeout_s:.0f} s")
            await asyncio.sleep(0.1)

    async def _step(self, step: str, account: str) -> None:
        if self._on_step is not None:
            await self._on_step(step, account)

    def _remember_account(self, account: str) -> None:
        """``root/account-id``: which of the daemon's accounts is this phone's (durably: a power cut
        leaves the old name or the new one, never an empty file)."""
        atomic_write(self.root / "account-id", (account + "\n").encode())

    async def _ensure_sip_accounts(self) -> None:
        """One daemon account per configured SIP account, found again by its config id (from
        sip-accounts.json, or by its alias when a start was cut short before that file was written);
        the daemon's other SIP accounts are ones the config no longer has, and are removed."""
        remembered = self.root / "sip-accounts.json"
        known: dict[str, str] = json.loads(remembered.read_text()) if remembered.exists() else {}
        existing: dict[str, str] = {}  # the daemon's SIP accounts -> their alias (our config id)
        for account in await self._call("getAccountList"):
            details = await self._call("getAccountDetails", account)
            if details.get(defs.ACCOUNT_TYPE) == "SIP":
                existing[account] = details.get("Account.alias", "")
        mapping: dict[str, str] = {}
        for spec in self.sip_accounts:
            details = {
                "Account.type": "SIP",
                "Account.alias": spec.id,
                "Account.displayName": self.display_name,
                "Account.username": spec.username,
                "Account.password": spec.password,
                "Account.hostname": spec.registrar,
                "Account.localPort": str(spec.local_port),
                "Account.ringtoneEnabled": "false",
                "Account.videoEnabled": "false",
                "Account.upnpEnabled": "false",
                # SIP accounts default to SRTP only; most SIP phones and PBXes speak plain RTP.
                # These two keys are write-only (measured): they never show in getAccountDetails.
                "SRTP.keyExchange": "",
                "SRTP.rtpFallback": "true",
            }
            account = known.get(spec.id, "")
            if account not in existing:
                taken = set(mapping.values())
                account = next(
                    (a for a, alias in existing.items() if alias == spec.id and a not in taken), ""
                )
            if account:
                await self._call("setAccountDetails", account, details)  # carries the SIP password
            else:
                account = await self._call("addAccount", details)
                log.info("created SIP account %s (%s)", spec.id, account)
            mapping[spec.id] = account
            self._sip[account] = spec
        for stale in set(existing) - set(mapping.values()):
            log.info("removing SIP account %s (%s): not in the config", existing[stale], stale)
            await self._call("removeAccount", stale)
        atomic_write(remembered, json.dumps(mapping).encode())

    async def _read_state(self) -> None:
        seen = self._account_signals
        volatile = await self._config.call_get_volatile_account_details(self.account_id)
        # Signal handlers run as messages arrive, but this coroutine resumes later: a signal that came
        # in right behind the reply is newer than it and must not be overwritten by it (that left a
        # just-announced account stuck at TRYING, once in ~20 starts).
        if self._account_signals == seen:
            self._take_volatile(volatile)
            self._report_account(self._last_state)
        self._take_contacts(await self._config.call_get_contacts(self.account_id))
        for account in self._sip:
            volatile = await self._config.call_get_volatile_account_details(account)
            self._report_sip(account, volatile.get("Account.registrationStatus", "TRYING"))
        self._requests = {}
        for r in await self._config.call_get_trust_requests(self.account_id):
            if "from" in r:
                request = TrustRequest(r["from"], float(r.get("received", 0)), r.get("payload", "").encode())
                self._requests, dropped = trust.take_request(self._requests, request)
                self._discard_in_daemon(dropped)
        self._send(TrustRequestsChanged(len(self._requests)))

    def _report_account(self, daemon_state: str) -> None:
        registration = _REGISTRATION.get(daemon_state, Registration.ERROR)
        if registration is Registration.REGISTERED and not self._announced:
            registration = Registration.TRYING  # on the DHT, but calls to it would hang until announced
        self._reported = registration
        if registration is Registration.REGISTERED:
            log.info("Jami account %s ready: %s", self.account_id, self.jami_id)
        details_name = self.registered_name or self.display_name
        self._send(
            AccountChanged(
                AccountInfo(
                    self.account_id,
                    AccountKind.JAMI,
                    self.jami_id,
                    registration,
                    details_name,
                    device=self.device_id,
                )
            )
        )

    async def _settle_registration(self) -> None:
        """Until the account is reported ready, re-read its state now and then. Signals carry it, but
        a new account's first signals race its creation and the first read (seen: an announced
        account left at TRYING, about 1 start in 20); the daemon's own state is the truth."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.announce_timeout_s
        while self._reported is not Registration.REGISTERED and loop.time() < deadline:
            await asyncio.sleep(1.0)
            with contextlib.suppress(DBusError, AttributeError):
                volatile = await self._config.call_get_volatile_account_details(self.account_id)
                if not self.jami_id:
                    details = await self._config.call_get_account_details(self.account_id)
                    self.jami_id = details.get(defs.ACCOUNT_USERNAME, "").removeprefix("ring:")
                self._take_volatile(volatile)
                if self._announced and self.jami_id:
                    self._report_account(self._last_state)

    def _report_sip(self, account: str, daemon_state: str) -> None:
        spec = self._sip[account]
        # An IP-to-IP account has nothing to register with: it is ready once the daemon has it.
        registration = _REGISTRATION.get(daemon_state, Registration.ERROR)
        if not spec.registrar and daemon_state in ("READY", "UNREGISTERED", "REGISTERED"):
            registration = Registration.REGISTERED
        uri = f"{spec.username}@{spec.registrar}" if spec.registrar else spec.username
        self._send(
            AccountChanged(AccountInfo(account, AccountKind.SIP, uri, registration, spec.id, spec.registrar))
        )

    # --- signals -------------------------------------------------------------------------------

    def _subscribe(self) -> None:
        calls, config = self._calls, self._config
        calls.on_call_state_changed(self._on_call_state)
        calls.on_incoming_call_with_media(self._on_incoming)
        calls.on_conference_created(self._on_conference)
        calls.on_voice_mail_notify(self._on_voicemail)
        config.on_registration_state_changed(self._on_registration)
        config.on_volatile_account_details_changed(self._on_volatile)
        config.on_incoming_trust_request(self._on_trust_request)
        config.on_contact_added(self._on_contact_added)
        config.on_contact_removed(self._on_contact_removed)

    def _on_registration(self, account: str, state: str, code: int, detail: str) -> None:
        if account in self._sip:
            self._report_sip(account, state)
            return
        if account != self.account_id:
            return
        self._account_signals += 1
        self._last_state = state
        if self.jami_id:
            self._report_account(state)
        else:  # a new account has its ID once its keys exist: read it before telling anyone
            self._spawn(self._read_id_then_report(state))

    async def _read_id_then_report(self, state: str) -> None:
        with contextlib.suppress(DBusError, AttributeError):
            details = await self._config.call_get_account_details(self.account_id)
            self.jami_id = details.get(defs.ACCOUNT_USERNAME, "").removeprefix("ring:")
        self._report_account(state)

    def _on_volatile(self, account: str, details: dict[str, str]) -> None:
        if account != self.account_id:
            return
        self._account_signals += 1
        if self._take_volatile(details):
            self._report_account(self._last_state)

    def _take_volatile(self, details: dict[str, str]) -> bool:
        """Take the account's volatile details (a read or a signal); True when the announcement,
        the registered name or the device certificate changed."""
        shown = (self._announced, self.registered_name, self.device_id)
        self._announced = details.get(defs.DEVICE_ANNOUNCED) == "true"
        self.registered_name = details.get(defs.ACCOUNT_REGISTERED_NAME, self.registered_name)
        self.device_id = details.get(defs.ACCOUNT_DEVICE_ID, self.device_id)
        self._last_state = details.get("Account.registrationStatus", self._last_state)
        return shown != (self._announced, self.registered_name, self.device_id)

    def _on_call_state(self, account: str, call: str, state: str, code: int) -> None:
        known = _STATES.get(state)
        if known is None:
            return
        local = self._local.get(call)
        if local is None:
            if (
                known is CallState.OVER and call not in self._admitting
            ):  # a call we were never told of (another client's): forget it
                self._early.pop(call, None)
            else:
                self._early.setdefault(call, []).append(CallStateChanged(CallId(call), known, code))
            return
        self._send(CallStateChanged(local, known, code))
        if known is CallState.CURRENT and self._call_account.get(local) == self.account_id:
            self._spawn(self._pin_call_peer(call))  # first contact by calling them pins them too
        if known is CallState.OVER:
            self._forget(call)

    def _on_incoming(self, account: str, call: str, caller: str, media: list[dict[str, str]]) -> None:
        uri = peer_uri(caller)
        jami = account == self.account_id and bool(JAMI_ID.fullmatch(uri))
        admission = trust.admit_call(uri, blocked=self._blocked, jami=jami)
        if admission is trust.Admission.REFUSE:  # the daemon keeps the ban for requests only
            log.info("call from blocked %s refused", uri)
            self._spawn(self._calls.call_refuse(account, call))
            return
        if admission is trust.Admission.CHECK_CERTIFICATE:
            # The caller's certificate is checked against its pin before the phone hears of the
            # call, so a changed one is known before any ring (one local D-Bus round trip).
            self._admitting.add(call)
            self._spawn(self._admit(account, call, uri))
        else:
            self._announce_incoming(account, call, uri, identity_changed=False)

    async def _admit(self, account: str, call: str, uri: str) -> None:
        try:
            verdict = await self._check_certificate(uri)
        finally:
            self._admitting.discard(call)
        self._announce_incoming(account, call, uri, identity_changed=verdict is Verdict.CHANGED)

    def _announce_incoming(self, account: str, call: str, uri: str, *, identity_changed: bool) -> None:
        local = CallId(call)
        self._call_account[local] = account
        self._bind_call_id(call, local)
        self._send(CallIncoming(local, account, uri, "", identity_changed=identity_changed))
        self._replay_early_states(call)

    async def _check_certificate(self, uri: str) -> Verdict | None:
        """Pin ``uri``'s account certificate at first contact; report whether it changed since."""
        try:
            async with asyncio.timeout(1.0):
                details = await self._call("getCertificateDetails", uri)
        except (TelephonyError, TimeoutError) as exc:
            log.warning("certificate of %s not readable: %s", uri, exc)
            return None
        fingerprint = details.get(defs.CERT_SHA1_FINGERPRINT, "")
        if not fingerprint or details.get(defs.CERT_PUBLIC_KEY_ID) != uri:
            return None  # not known to the daemon (yet), or not this peer's account certificate
        return self.pins.check(uri, fingerprint)

    async def _pin_call_peer(self, daemon_call: str) -> None:
        with contextlib.suppress(TelephonyError):
            details = await self._call("getCallDetails", self.account_id, daemon_call)
            uri = peer_uri(details.get("PEER_NUMBER", ""))
            if JAMI_ID.fullmatch(uri):
                await self._check_certificate(uri)

    def _on_conference(self, account: str, conference: str) -> None:
        del account, conference  # the phone learns of it from joinParticipant's success

    def _on_voicemail(self, account: str, new: int, old: int, urgent: int) -> None:
        self._send(VoicemailChanged(account, new))

    def _on_trust_request(
        self, account: str, conversation: str, sender: str, payload: bytes, when: int
    ) -> None:
        if account != self.account_id:
            return
        # Anyone may send a request, so a flood must not grow without end (the daemon keeps them on
        # disk too): past the bound the oldest are discarded, in the daemon as well.
        request = TrustRequest(sender, float(when), bytes(payload))
        self._requests, dropped = trust.take_request(self._requests, request)
        self._discard_in_daemon(dropped)
        self._send(TrustRequestsChanged(len(self._requests)))

    def _discard_in_daemon(self, dropped: list[TrustRequest]) -> None:
        for oldest in dropped:
            log.warning("trust request from %s discarded: more than %d pending", oldest.uri,
                        trust.MAX_TRUST_REQUESTS)  # fmt: skip
            if self._config is not None:
                self._spawn(self._config.call_discard_trust_request(self.account_id, oldest.uri))

    def _on_contact_added(self, account: str, uri: str, confirmed: bool) -> None:
        self._refresh_contacts()

    def _on_contact_removed(self, account: str, uri: str, banned: bool) -> None:
        self._refresh_contacts()

    def _refresh_contacts(self) -> None:
        async def read() -> None:
            with contextlib.suppress(DBusError, AttributeError):
                self._take_contacts(await self._config.call_get_contacts(self.account_id))

        self._spawn(read())

    def _take_contacts(self, contacts: list[dict[str, str]]) -> None:
        # A banned contact stays in the daemon's list, marked: it must never count as trusted.
        self._blocked = {c["id"] for c in contacts if "id" in c and c.get("banned") == "true"}
        trusted = (c["id"] for c in contacts if "id" in c and c.get("banned") != "true")
        self._send(TrustedContactsChanged(tuple(Contact("", uri) for uri in trusted)))

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

    async def export_account(self, path: Path, password: str) -> None:
        """Write the Jami account's archive (its keys and contacts), encrypted with ``password``.

        jamid encrypts the archive with the account's own password, so that password becomes
        ``password`` first; the one the account has is kept (0600) beside the daemon's data.
        """
        kept = self.root / "account-password"
        current = kept.read_text() if kept.exists() else ""  # a new account has none
        if password != current:
            await self._call_expecting_true("changeAccountPassword", self.account_id, current, password)
            # The daemon rewrote its archive under the new password: on disk before the kept one is.
            await asyncio.to_thread(self.daemon.sync_account, self.account_id)
            atomic_write(kept, password.encode())
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # noqa: ASYNC240 - one local unlink
        await self._call_expecting_true("exportToFile", self.account_id, str(path), password)
        # jamid answers true even when it could not write the destination (it never checks).
        if not path.is_file() or not path.stat().st_size:  # noqa: ASYNC240 - one local stat
            raise TelephonyError(f"jamid wrote no archive to {path}")

    async def import_account(self, path: Path, password: str) -> None:
        """Make the account in ``path`` this phone's Jami account (the one it had is removed).

        Returns once the daemon has opened the archive and made the account (a TelephonyError, and
        the old account kept, if the password does not open it); the account is then reported like
        a new one: TRYING, then REGISTERED once announced. It becomes this phone's only when it is
        made and on disk, so a power cut at any point leaves the old account or the new one.
        """
        details = {
            **defs.JAMI_ACCOUNT,
            defs.ACCOUNT_DISPLAY_NAME: self.display_name,
            "Account.archivePath": str(path),
            "Account.archivePassword": password,
        }
        if self.bootstrap:
            details[defs.ACCOUNT_HOSTNAME] = ";".join(self.bootstrap)
        new = await self._call("addAccount", details)
        if not new:
            raise TelephonyError("jamid would not take the archive")
        try:
            jami_id = await self._wait_for_identity(new)
        except TelephonyError:
            with contextlib.suppress(TelephonyError):
                if new in await self._call("getAccountList"):
                    await self._call("removeAccount", new)
            raise TelephonyError(
                "the archive did not open: a wrong password, or not a Jami account archive"
            ) from None
        await asyncio.to_thread(self.daemon.sync_account, new)
        self._remember_account(new)
        atomic_write(self.root / "account-password", password.encode())  # the imported one's
        old, self.account_id, self.jami_id, self._announced = self.account_id, new, jami_id, False
        if old and old != new:
            await self._call("removeAccount", old)
        self._report_account("TRYING")

    def trust_requests(self) -> list[TrustRequest]:
        return list(self._requests.values())

    def _spawn(self, work: Any) -> None:  # noqa: ANN401 - a coroutine
        """Run ``work`` in the background, kept referenced until done (the loop holds tasks only
        weakly) and cancelled by stop(); a failure is logged under the coroutine's name."""
        task = asyncio.get_running_loop().create_task(work, name=getattr(work, "__qualname__", None))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)

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

    # --- plumbing ------------------------------------------------------------------------------

    def _account(self, call: CallId) -> str:
        return self._call_account.get(call, self.account_id)

    def _id(self, call: CallId) -> str:
        try:
            return self._daemon_id[call]
        except KeyError:
            raise TelephonyError(f"no call {call}") from None

    def _bind_call_id(self, daemon_call: str, local: CallId) -> None:
        """Tie the daemon's id of a call to the phone's, both ways."""
        self._local[daemon_call] = local
        self._daemon_id[local] = daemon_call

    def _replay_early_states(self, daemon_call: str) -> None:
        """Send the states the daemon reported for a call before it had the phone's id."""
        local = self._local[daemon_call]
        for event in self._early.pop(daemon_call, []):
            assert isinstance(event, CallStateChanged)
            self._send(CallStateChanged(local, event.state, event.code))
            if event.state is CallState.OVER:
                self._forget(daemon_call)

    def _forget(self, daemon_call: str) -> None:
        local = self._local.pop(daemon_call, None)
        if local is not None:
            self._daemon_id.pop(local, None)
            self._call_account.pop(local, None)

    async def _call(self, member: str, *args: Any) -> Any:  # noqa: ANN401 - what the method returns
        """Call the daemon's D-Bus method ``member`` (its name in defs.METHODS); a D-Bus error
        becomes a TelephonyError naming the method.

        The arguments never go into the error: some are passwords (changeAccountPassword's,
        exportToFile's, an archive's in addAccount, a SIP account's in its details), and the error's
        text is logged and shown on the web page. Should the daemon's own words repeat one, it is
        blotted out too.
        """
        if self._bus is None:
            raise TelephonyError("jamid is not running")
        interface = self._calls if member in defs.METHODS[defs.CALL_MANAGER[1]] else self._config
        method = getattr(interface, f"call_{_snake(member)}")
        try:
            return await method(*args)
        except DBusError as exc:
            raise TelephonyError(f"jamid: {member} failed: {_without_arguments(exc.text, args)}") from None

    async def _call_expecting_true(self, member: str, *args: Any) -> None:  # noqa: ANN401
        """Call ``member``, a method answering whether it did it; False becomes a TelephonyError
        naming the method, never its arguments."""
        if not await self._call(member, *args):
            raise TelephonyError(f"jamid refused {member}")

    def _send(self, event: Event) -> None:
        if self._sink is not None:
            self._sink(event)


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
