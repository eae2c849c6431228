"""The runtime's command and snapshot interface: what the web page (or any other front end) may do.

It never touches a driver: it reads the supervisor's phone, posts events to it, asks the telephony
port about trust requests, and saves configuration through the validated data layer. Every save is
checked against the whole layered configuration first; a rejected change writes nothing.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import os
import secrets
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from appliance.config.load import ConfigError, Layer, Loaded, contacts_of, load_layers, settings_of, to_table
from appliance.config.store import DataConfig
from appliance.durable import atomic_write
from appliance.phone import effects as fx
from appliance.phone.dialplan import DigitMap, DigitMapError
from appliance.phone.directory import JAMI_ID, normalize_uri
from appliance.phone.events import ContactsChanged, SettingsChanged
from appliance.phone.machine import ringer_of, tone_of
from appliance.phone.model import AccountKind, Registration
from appliance.ports import PeerIdentity, TelephonyError

from . import vcard
from .maintenance import CALL_LOG_FILE, Maintenance, MaintenanceError, Power
from .supervisor import Supervisor

log = logging.getLogger(__name__)

Table = dict[str, Any]

# What the web page may change while the phone runs; the rest is the board's or needs a restart.
EDITABLE = ("phone", "dialplan", "timers", "features", "star_codes", "hook", "ringer", "audio")
LIVE = {"phone", "dialplan", "timers", "features", "star_codes", "hook"}  # applied without a restart
AUDIO_EDITABLE = {"handset_volume", "tone_level"}
HOOK_EDITABLE = {"flash_min_ms", "flash_max_ms", "pulse_dialing", "pulse_min_ms", "pulse_digit_gap_ms"}
RINGER_EDITABLE = {"volume"}
CONTACT_FIELDS = ("name", "uri", "speed_dial", "number", "account")
NETWORK_CACHE_S = 30.0
SETTLE_S = 0.03  # past the hook debouncer (10 ms) and a queue hop


class ChangeRejectedError(ValueError):
    """A change the configuration schema refused: ``problems`` are ``(field, reason)`` pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in problems))
        self.problems = problems


class NotFoundError(LookupError):
    pass


def _nothing() -> Table:
    return {}


def _no_node() -> Table | None:
    return None


@dataclass
class Probes:
    """Readings the application wires in from drivers (the control interface imports none):
    the network survey (blocking: run in a thread) and the device's own DHT node's report."""

    network: Callable[[], Table] = _nothing
    dht_node: Callable[[], Table | None] = _no_node
    mic_level: Callable[[float], float] | None = None  # dBFS over some seconds; None: no microphone


class ControlAPI(Protocol):
    """What a front end may ask of the phone: :class:`Control` in-process, or its socket client."""

    async def status(self) -> Table: ...
    async def info(self) -> Table: ...
    async def network(self) -> Table: ...
    async def contacts(self) -> list[Table]: ...
    async def contact(self, contact_id: str) -> Table: ...
    async def add_contact(self, fields: Table) -> Table: ...
    async def update_contact(self, contact_id: str, fields: Table) -> Table: ...
    async def delete_contact(self, contact_id: str) -> None: ...
    async def send_contact_request(self, contact_id: str) -> None: ...
    async def handset_test(self, tone: bool, listen_s: float) -> Table: ...
    async def export_contacts(self) -> str: ...
    async def import_contacts(self, vcf: str) -> Table: ...
    async def sip_accounts(self) -> list[Table]: ...
    async def add_sip_account(self, fields: Table) -> Table: ...
    async def update_sip_account(self, account_id: str, fields: Table) -> Table: ...
    async def delete_sip_account(self, account_id: str) -> None: ...
    async def export_account(self, password: str) -> Table: ...
    async def import_account(self, data: str, password: str) -> Table: ...
    async def backup(self, password: str) -> Table: ...
    async def restore(self, data: str, password: str) -> Table: ...
    async def factory_reset(self, confirm: str) -> None: ...
    async def restart(self) -> None: ...
    async def reboot(self) -> None: ...
    async def settings(self) -> Table: ...
    async def save_settings(self, changes: Table) -> Table: ...
    async def dial_test(self, digit_map: str | None, digits: str) -> Table: ...
    async def trust_requests(self) -> list[Table]: ...
    async def answer_trust_request(self, uri: str, answer: str) -> None: ...
    async def blocked(self) -> list[str]: ...
    async def unblock(self, uri: str) -> None: ...
    async def accept_identity(self, uri: str) -> Table: ...
    async def call_log(self) -> list[Table]: ...
    async def logs(self) -> list[str]: ...
    async def sim_hook(self, off_hook: bool) -> Table: ...
    async def sim_flash(self, seconds: float = 0.5) -> Table: ...
    async def sim_keys(self, keys: str) -> Table: ...


@dataclass
class SimHandles:
    """The desktop board's fake hook switch and keypad, for the virtual phone panel."""

    hook: Any
    keypad: Any


def _problems(exc: ConfigError) -> list[tuple[str, str]]:
    out = []
    for problem in exc.problems:
        field, _, reason = problem.partition(": ")
        out.append((field, reason) if reason else ("", problem))
    return out


class CallLog:
    """Calls with their wall-clock time, kept in the data directory (bounded, one JSON per line)."""

    def __init__(self, path: Path, size: int = 500) -> None:
        self.path = path
        self.entries: deque[dict[str, Any]] = deque(maxlen=size)
        if path.exists():
            for line in path.read_text(errors="replace").splitlines():
                try:
                    self.entries.append(json.loads(line))
                except ValueError:
                    continue  # a line cut by a power loss: the rest stays readable

    def add(self, call: fx.LogCall, at: float) -> dict[str, Any]:
        entry = {
            "time": at,
            "kind": call.kind,
            "uri": call.peer_uri,
            "name": call.peer_name,
            "reason": call.reason,
            "duration_s": round(call.duration_s, 1),
        }
        self.entries.append(entry)
        if len(self.entries) == self.entries.maxlen:  # rewrite, bounded
            atomic_write(self.path, "".join(json.dumps(e) + "\n" for e in self.entries).encode())
        else:
            with self.path.open("a") as handle:
                handle.write(json.dumps(entry) + "\n")
        return entry


class Control:
    def __init__(
        self,
        supervisor: Supervisor,
        layers: list[Layer],
        data_dir: Path,
        *,
        sim: SimHandles | None = None,
        version: str = "",
        power: Power | None = None,
        probes: Probes | None = None,
    ) -> None:
        self.supervisor = supervisor
        self.probes = probes or Probes()
        self.layers = [layer for layer in layers if layer.name != "data"]
        self.data = DataConfig(data_dir)
        self.data_dir = data_dir
        self.sim = sim
        self.version = version
        self.started_at = time.time()
        self.loaded: Loaded = load_layers([*self.layers, Layer("data", self.data.read())])
        self.calls = CallLog(data_dir / CALL_LOG_FILE)
        self.log_lines: deque[str] = deque(maxlen=500)
        self._lock = asyncio.Lock()
        self._network: tuple[float, Table] | None = None
        self.maintenance = Maintenance(data_dir, self.layers, supervisor.ports.telephony, power, version)
        supervisor.on_effect(self._on_effect)

    def _on_effect(self, effect: fx.Effect, _now: float) -> None:
        if isinstance(effect, fx.LogCall):
            self.calls.add(effect, time.time())

    # --- snapshot -------------------------------------------------------------------------------

    async def status(self) -> Table:
        return self._status()

    async def network(self) -> Table:
        """Addresses, the router's UPnP gateway and outside address, a NAT hint, the DHT. UPnP
        discovery waits ~1.5 s for answers: the survey is kept for 30 s."""
        now = time.monotonic()
        if self._network is None or now - self._network[0] > NETWORK_CACHE_S:
            self._network = (now, await asyncio.to_thread(self.probes.network))
        return {**self._network[1], "dht": self._dht()}

    def _dht(self) -> Table:
        jami = next((a for a in self.supervisor.phone.accounts if a.kind is AccountKind.JAMI), None)
        node = self.probes.dht_node()
        return {
            # The adapter reports the Jami account registered only once the device is announced.
            "announced": bool(jami and jami.registration is Registration.REGISTERED),
            "bootstrap": self.loaded.config.jami.bootstrap or ["bootstrap.jami.net:4222 (public)"],
            "own_node": {"port": node["port"], "nodes_known": node["nodes"]} if node else None,
        }

    async def info(self) -> Table:
        """What does not change while the phone runs."""
        return {
            "board": self.loaded.config.board.name,
            "simulated": self.sim is not None,
            "system": _system(),
            "version": self.version,
        }

    def _status(self) -> Table:
        phone = self.supervisor.phone
        tone = tone_of(phone)
        screen = self.supervisor.screen
        active = phone.active_call
        return {
            "phone": {
                "state": phone.mode.value,
                "off_hook": phone.off_hook,
                "digits": phone.digits,
                "tone": tone.value if tone else None,
                "ringer": ringer_of(phone) is not None,
                "display": list(screen.lines) if screen else [],
                "call": None
                if active is None
                else {"peer": active.peer_name or active.peer_uri, "status": active.status.value},
                "calls": len(phone.calls),
                "dnd": phone.dnd,
                "private_mode": phone.private_mode,
                "call_waiting": phone.call_waiting,
                "trust_requests": phone.trust_pending,
                "missed": phone.missed,
                "telephony": phone.telephony_up,
            },
            "accounts": [
                {
                    "id": a.id,
                    "type": a.kind.value,
                    "uri": a.uri,
                    "registration": a.registration.value,
                    "name": a.name,
                    "device": a.device,
                }
                for a in phone.accounts
            ],
            "board": self.loaded.config.board.name,
            "simulated": self.sim is not None,
            "system": _system(),
            "uptime_s": round(time.time() - self.started_at),
            "version": self.version,
        }

    # --- configuration -------------------------------------------------------------------------

    async def settings(self) -> Table:
        return self._settings()

    def _settings(self) -> Table:
        table = to_table(self.loaded.config, mask=True)
        out: Table = {name: table[name] for name in EDITABLE}
        out["audio"] = {k: v for k, v in table["audio"].items() if k in AUDIO_EDITABLE}
        out["hook"] = {k: v for k, v in table["hook"].items() if k in HOOK_EDITABLE}
        out["ringer"] = {k: v for k, v in table["ringer"].items() if k in RINGER_EDITABLE}
        return out

    async def save_settings(self, changes: Table) -> Table:
        """Validate and save; answer the new settings and the sections that need a restart."""
        allowed = {"audio": AUDIO_EDITABLE, "hook": HOOK_EDITABLE, "ringer": RINGER_EDITABLE}
        problems = []
        for section, values in changes.items():
            if section not in EDITABLE:
                problems.append((section, "not a setting the web page may change"))
            elif section != "star_codes" and not isinstance(values, dict):
                problems.append((section, "must be an object"))
            elif section in allowed:
                problems += [
                    (f"{section}.{k}", "not editable here") for k in values if k not in allowed[section]
                ]
        if problems:
            raise ChangeRejectedError(problems)
        before = self._settings()
        await self._save(changes)
        after = self._settings()
        restart = sorted(s for s in set(changes) - LIVE if before[s] != after[s])
        return {"settings": after, "restart_required": restart}

    async def dial_test(self, digit_map: str | None, digits: str) -> Table:
        """What a digit map (by default the saved one) makes of some keys."""
        source = self.loaded.config.dialplan.map if digit_map is None else digit_map
        try:
            result = DigitMap.parse(source).match(digits)
        except DigitMapError as exc:
            raise ChangeRejectedError([("map", str(exc))]) from exc
        return {"result": result.kind.value, "number": result.number, "pattern": result.pattern,
                "dialable": result.dialable}  # fmt: skip

    async def call_log(self) -> list[Table]:
        """Newest first."""
        return list(reversed(self.calls.entries))

    async def logs(self) -> list[str]:
        return list(self.log_lines)

    async def _save(self, changes: Table | Callable[[], Table]) -> None:
        """Save under the lock; ``changes`` may be a function of the current configuration, so a
        read-modify-write (a contact added to the list) cannot lose a concurrent one."""

        def validate(table: Table) -> None:
            load_layers([*self.layers, Layer("data", table)])

        async with self._lock:
            table = changes() if callable(changes) else changes
            try:
                saved = await asyncio.to_thread(self.data.save, table, validate)
            except ConfigError as exc:
                raise ChangeRejectedError(_problems(exc)) from exc
            self.loaded = load_layers([*self.layers, Layer("data", saved)])
        config = self.loaded.config
        self.supervisor.post(SettingsChanged(settings_of(config)))
        if "contacts" in table:
            self.supervisor.post(ContactsChanged(contacts_of(config)))

    # --- contacts ----------------------------------------------------------------------------

    async def contacts(self) -> list[Table]:
        return [self._contact(entry) for entry in self._contact_table()]

    def _contact(self, entry: Table) -> Table:
        contact = {"id": entry["id"], **{k: entry.get(k, "") for k in CONTACT_FIELDS}}
        pinned = self.supervisor.ports.telephony.identities().get(normalize_uri(contact["uri"]))
        contact["identity"] = _identity(pinned) if pinned else None
        return contact

    def _contact_table(self) -> list[Table]:
        table = to_table(self.loaded.config)["contacts"]
        for entry in table:  # contacts from a config file may have no id yet: a stable one
            if not entry.get("id"):
                key = "\0".join((entry["name"], entry["uri"], entry["number"])).encode()
                entry["id"] = "c" + hashlib.sha256(key).hexdigest()[:8]
        return list(table)

    async def contact(self, contact_id: str) -> Table:
        for entry in self._contact_table():
            if entry["id"] == contact_id:
                return self._contact(entry)
        raise NotFoundError(contact_id)

    async def add_contact(self, fields: Table) -> Table:
        entry = {"id": secrets.token_hex(4), **_contact_fields(fields)}
        await self._save(lambda: {"contacts": [*self._contact_table(), entry]})
        # As a Jami client does: a new Jami contact gets a request with this phone's card, so they
        # can add it back (and a private-mode phone there lets it ring).
        if JAMI_ID.fullmatch(normalize_uri(entry["uri"])):
            try:
                await self._send_request(entry["uri"])
            except NotFoundError as exc:
                log.warning("contact request to %s not sent: %s", entry["uri"], exc)
        return self._contact(entry)

    async def send_contact_request(self, contact_id: str) -> None:
        """Send the contact a request carrying this phone's vCard (its display name)."""
        await self._send_request((await self.contact(contact_id))["uri"])

    async def _send_request(self, uri: str) -> None:
        jami_id = normalize_uri(uri)
        if not JAMI_ID.fullmatch(jami_id):
            raise ChangeRejectedError([("uri", "contact requests go to Jami IDs only")])
        name = self.loaded.config.phone.display_name.replace("\r", " ").replace("\n", " ")
        card = f"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:{name}\r\nEND:VCARD\r\n".encode()
        try:
            await self.supervisor.ports.telephony.send_trust_request(jami_id, card)
        except TelephonyError as exc:
            raise NotFoundError(str(exc)) from exc

    async def update_contact(self, contact_id: str, fields: Table) -> Table:
        changes = _contact_fields(fields, partial=True)
        updated: list[Table] = []

        def edit() -> Table:
            table = self._contact_table()
            for i, entry in enumerate(table):
                if entry["id"] == contact_id:
                    table[i] = {**entry, **changes}
                    updated.append(table[i])
                    return {"contacts": table}
            raise NotFoundError(contact_id)

        await self._save(edit)
        return self._contact(updated[0])

    async def delete_contact(self, contact_id: str) -> None:
        def delete() -> Table:
            table = self._contact_table()
            kept = [entry for entry in table if entry["id"] != contact_id]
            if len(kept) == len(table):
                raise NotFoundError(contact_id)
            return {"contacts": kept}

        await self._save(delete)

    async def export_contacts(self) -> str:
        return vcard.export([self._contact(entry) for entry in self._contact_table()])

    async def import_contacts(self, vcf: str) -> Table:
        """Add the cards' contacts (all or none: the whole directory is validated at once)."""
        found, skipped = vcard.parse(vcf)
        known = {normalize_uri(c["uri"]) for c in self._contact_table() if c["uri"]}
        new = [c for c in found if not c["uri"] or normalize_uri(c["uri"]) not in known]
        skipped += [f"{c['name']}: already a contact" for c in found if c not in new]
        entries = [{"id": secrets.token_hex(4), **_contact_fields(c)} for c in new]
        if entries:
            await self._save(lambda: {"contacts": [*self._contact_table(), *entries]})
        return {"added": len(entries), "skipped": skipped}

    # --- SIP accounts: the daemon takes them at its start, so a change asks for a restart -------

    async def sip_accounts(self) -> list[Table]:
        states = {a.id: a.registration.value for a in self.supervisor.phone.accounts}
        return [_sip_out(entry, states) for entry in to_table(self.loaded.config)["sip_accounts"]]

    async def add_sip_account(self, fields: Table) -> Table:
        entry = _sip_fields(fields)
        if any(a["id"] == entry.get("id") for a in to_table(self.loaded.config)["sip_accounts"]):
            raise ChangeRejectedError([("id", "an account with this name exists")])
        await self._save(lambda: {"sip_accounts": [*to_table(self.loaded.config)["sip_accounts"], entry]})
        return {"account": _sip_out(entry, {}), "restart_required": True}

    async def update_sip_account(self, account_id: str, fields: Table) -> Table:
        changes = _sip_fields(fields, partial=True)
        updated: list[Table] = []

        def edit() -> Table:
            table = to_table(self.loaded.config)["sip_accounts"]
            for i, entry in enumerate(table):
                if entry["id"] == account_id:
                    # An empty password in an edit keeps the one saved (the page never sees it).
                    keep = {k: v for k, v in changes.items() if not (k == "password" and v == "")}
                    table[i] = {**entry, **keep}
                    updated.append(table[i])
                    return {"sip_accounts": table}
            raise NotFoundError(account_id)

        await self._save(edit)
        return {"account": _sip_out(updated[0], {}), "restart_required": True}

    async def delete_sip_account(self, account_id: str) -> None:
        def delete() -> Table:
            table = to_table(self.loaded.config)["sip_accounts"]
            kept = [entry for entry in table if entry["id"] != account_id]
            if len(kept) == len(table):
                raise NotFoundError(account_id)
            return {"sip_accounts": kept}

        await self._save(delete)

    # --- the Jami account's archive ----------------------------------------------------------

    async def export_account(self, password: str) -> Table:
        """The Jami account (keys, contacts) encrypted with ``password``, as Jami's own archive."""
        if len(password) < MIN_ARCHIVE_PASSWORD:
            raise ChangeRejectedError([("password", f"at least {MIN_ARCHIVE_PASSWORD} characters")])
        with tempfile.TemporaryDirectory(dir=self.data_dir) as tmp:
            archive = Path(tmp) / "account.gz"
            try:
                await self.supervisor.ports.telephony.export_account(archive, password)
            except TelephonyError as exc:
                raise ChangeRejectedError([("account", str(exc))]) from exc
            data = archive.read_bytes()
        return {"filename": "jami-account.gz", "data": base64.b64encode(data).decode()}

    async def import_account(self, data: str, password: str) -> Table:
        """This phone takes the account in the archive (its own is removed)."""
        try:
            raw = base64.b64decode(data, validate=True)
        except ValueError:
            raise ChangeRejectedError([("data", "not base64")]) from None
        with tempfile.TemporaryDirectory(dir=self.data_dir) as tmp:
            archive = Path(tmp) / "account.gz"
            archive.write_bytes(raw)
            try:
                await self.supervisor.ports.telephony.import_account(archive, password)
            except TelephonyError as exc:
                raise ChangeRejectedError([("archive", str(exc))]) from exc
        return {"imported": True}

    # --- trust requests ----------------------------------------------------------------------

    async def trust_requests(self) -> list[Table]:
        return [
            {
                "uri": r.uri,
                "received": r.received_at,
                "name": _vcard_name(r.vcard),
                "vcard": r.vcard.decode(errors="replace"),
            }
            for r in self.supervisor.ports.telephony.trust_requests()
        ]

    async def answer_trust_request(self, uri: str, answer: str) -> None:
        """``answer``: accept (the sender becomes a contact), discard, or block (never again)."""
        telephony = self.supervisor.ports.telephony
        if uri not in {r.uri for r in telephony.trust_requests()}:
            raise NotFoundError(uri)
        actions = {
            "accept": telephony.accept_trust_request,
            "discard": telephony.discard_trust_request,
            "block": telephony.block,
        }
        if answer not in actions:
            raise ChangeRejectedError([("answer", "accept, discard or block")])
        try:
            await actions[answer](uri)
        except TelephonyError as exc:
            raise NotFoundError(str(exc)) from exc

    async def blocked(self) -> list[str]:
        return self.supervisor.ports.telephony.blocked()

    async def unblock(self, uri: str) -> None:
        telephony = self.supervisor.ports.telephony
        if uri not in telephony.blocked():
            raise NotFoundError(uri)
        try:
            await telephony.unblock(uri)
        except TelephonyError as exc:
            raise NotFoundError(str(exc)) from exc

    async def accept_identity(self, uri: str) -> Table:
        """A person checked a contact's new certificate (with them, out of band) and accepts it."""
        try:
            return _identity(await self.supervisor.ports.telephony.accept_identity(uri))
        except TelephonyError as exc:
            raise NotFoundError(str(exc)) from exc

    # --- the handset test ---------------------------------------------------------------------

    async def handset_test(self, tone: bool, listen_s: float) -> Table:
        """Play the test tone in the handset, and/or measure the microphone for ``listen_s``."""
        if tone:
            self.supervisor.play_test_tone()
        level = None
        if listen_s > 0 and self.probes.mic_level is not None:
            try:
                level = await asyncio.to_thread(self.probes.mic_level, min(listen_s, 5.0))
            except Exception as exc:
                raise ChangeRejectedError([("microphone", f"cannot be read: {exc}")]) from exc
        return {"tone": tone, "microphone": self.probes.mic_level is not None, "level_dbfs": level}

    # --- system ----------------------------------------------------------------------------------

    async def backup(self, password: str) -> Table:
        """The whole phone (configuration, Jami account, pins, call log), sealed with ``password``."""
        jami = next((a for a in self.supervisor.phone.accounts if a.kind is AccountKind.JAMI and a.uri), None)
        async with self._lock:  # no save half-way through the copy
            with _as_rejection():
                blob = await self.maintenance.backup(password, jami.uri if jami else "")
        stamp = time.strftime("%Y%m%d-%H%M", time.localtime())
        name = f"jami-phone-{self.loaded.config.board.name}-{stamp}.backup"
        return {"filename": name, "data": base64.b64encode(blob).decode()}

    async def restore(self, data: str, password: str) -> Table:
        try:
            blob = base64.b64decode(data, validate=True)
        except ValueError:
            raise ChangeRejectedError([("data", "not base64")]) from None
        async with self._lock:
            with _as_rejection():
                return await self.maintenance.restore(blob, password)

    async def factory_reset(self, confirm: str) -> None:
        with _as_rejection():
            self.maintenance.factory_reset(confirm)

    async def restart(self) -> None:
        with _as_rejection():
            self.maintenance.restart()

    async def reboot(self) -> None:
        with _as_rejection():
            self.maintenance.reboot()

    # --- virtual phone (desktop board) --------------------------------------------------------

    def _handles(self) -> SimHandles:
        if self.sim is None:
            raise NotFoundError("the virtual phone exists on the desktop board only")
        return self.sim

    async def sim_hook(self, off_hook: bool) -> Table:
        hook = self._handles().hook
        if off_hook:
            hook.lift()
        else:
            hook.replace()
        return await self._settled()

    async def sim_flash(self, seconds: float = 0.5) -> Table:
        await self._handles().hook.flash(seconds)
        return await self._settled()

    async def sim_keys(self, keys: str) -> Table:
        self._handles().keypad.press(keys)
        return await self._settled()

    async def _settled(self) -> Table:
        """The phone as it is once the press has gone through the debouncer and the machine."""
        await asyncio.sleep(SETTLE_S)
        await self.supervisor.idle()
        return self._status()


class LogLines(logging.Handler):
    """Keeps the recent log lines for the web page's System page."""

    def __init__(self, lines: deque[str]) -> None:
        super().__init__(logging.INFO)
        self.lines = lines
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextlib.contextmanager
def _as_rejection() -> Iterator[None]:
    """The System tools' refusals, answered like any rejected change (400, field and reason)."""
    try:
        yield
    except MaintenanceError as exc:
        raise ChangeRejectedError([(exc.field, exc.reason)]) from exc


def _identity(pinned: PeerIdentity) -> Table:
    return {
        "fingerprint": pinned.fingerprint,
        "pinned_at": pinned.pinned_at,
        "changed": pinned.changed,
        "presented": pinned.seen,
    }


SIP_FIELDS = ("id", "username", "password", "registrar", "local_port")
MIN_ARCHIVE_PASSWORD = 8


def _sip_fields(fields: Table, *, partial: bool = False) -> Table:
    unknown = set(fields) - set(SIP_FIELDS)
    if unknown:
        raise ChangeRejectedError([(f"sip_account.{name}", "unknown field") for name in sorted(unknown)])
    if partial and "id" in fields:
        raise ChangeRejectedError([("sip_account.id", "an account's name cannot change")])
    return dict(fields)


def _sip_out(entry: Table, states: dict[str, str]) -> Table:
    """An account as the page sees it: never its password, only whether it has one."""
    shown = {k: entry.get(k) for k in SIP_FIELDS if k != "password"}
    return {**shown, "password_set": bool(entry.get("password")), "registration": states.get(entry["id"], "")}


def _contact_fields(fields: Table, *, partial: bool = False) -> Table:
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise ChangeRejectedError([(f"contact.{name}", "unknown field") for name in sorted(unknown)])
    bad = [(f"contact.{k}", "must be a string") for k, v in fields.items() if not isinstance(v, str)]
    if bad:
        raise ChangeRejectedError(bad)
    if not partial:
        return {k: fields.get(k, "") for k in CONTACT_FIELDS}
    return dict(fields)


def _vcard_name(vcard: bytes) -> str:
    for line in vcard.decode(errors="replace").splitlines():
        key, _, value = line.partition(":")
        if key.split(";")[0].upper() == "FN":
            return value.strip()
    return ""


def _system() -> Table:
    """The device as an installer checks it: the root read-only, memory left, load."""
    facts: Table = {"root_read_only": bool(os.statvfs("/").f_flag & os.ST_RDONLY)}
    try:
        meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
        facts["memory_available_mb"] = int(meminfo["MemAvailable"].split()[0]) // 1024
        facts["load"] = float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, KeyError, ValueError):
        pass
    try:  # the system slot the initramfs booted (A/B updates), on the image
        ab = dict(line.split("=", 1) for line in Path("/run/appliance-ab").read_text().split() if "=" in line)
        facts["slot"] = {"2": "A", "3": "B"}.get(ab.get("BOOTED", ""), "?")
        facts["slot_on_trial"] = Path("/run/appliance-trial").exists()  # an update not yet kept
    except OSError:
        pass
    return facts
