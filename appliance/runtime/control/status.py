"""What the page shows of the running phone: its state, the device, the network, calls, logs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.notices import Notices, NoticeStaysError
from appliance.phone.model import AccountKind, Registration
from appliance.phone.outputs import ringer_of, tone_of
from appliance.runtime.call_log import CallLog
from appliance.runtime.config_store import ConfigStore
from appliance.runtime.supervisor import Supervisor

from .errors import ChangeRejectedError, NotFoundError

Table = dict[str, Any]
NETWORK_CACHE_S = 30.0


def _nothing() -> Table:
    return {}


def _no_node() -> Table | None:
    return None


def _no_mac() -> str:
    return ""


def _off() -> Table:
    return {"state": "off"}


@dataclass
class Probes:
    """Readings the application wires in from drivers (the controllers import none): the network
    survey (blocking: run in a thread), the device's own DHT node's report, the microphone level."""

    network: Callable[[], Table] = _nothing
    dht_node: Callable[[], Table | None] = _no_node
    mic_level: Callable[[float], float] | None = None  # dBFS over some seconds; None: no microphone
    mac: Callable[[], str] = _no_mac  # the MAC address provisioning knows the phone by


class LogLines(logging.Handler):
    """Keeps the recent log lines for the web page's System page."""

    def __init__(self, size: int = 500) -> None:
        super().__init__(logging.INFO)
        self.lines: deque[str] = deque(maxlen=size)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


class StatusController:
    """The phone as it is now (from the supervisor's snapshot), and facts about the device."""

    def __init__(self, store: ConfigStore, supervisor: Supervisor, call_log: CallLog, *, simulated: bool,
                 version: str, probes: Probes, log_lines: LogLines,
                 notices: Notices | None = None,
                 provisioning: Callable[[], Table] | None = None) -> None:  # fmt: skip
        self.store = store
        self.supervisor = supervisor
        self.calls = call_log
        self.simulated = simulated
        self.version = version
        self.probes = probes
        self.log_lines = log_lines
        self.notices = notices if notices is not None else Notices()
        self.provisioning = provisioning or _off  # where fleet provisioning stands
        self.started_at = time.time()
        self._network: tuple[float, Table] | None = None
        # What the page's push waits on: a count of changes, and an event set at each one.
        self._version = 0
        self._changed = asyncio.Event()
        supervisor.on_phone(lambda _phone: self._bump())
        # The display, tones, the ringer; a notice reaches the phone as NoticesChanged, a step.
        supervisor.on_effect(lambda _effect, _at: self._bump())

    async def status(self) -> Table:
        phone = self.supervisor.phone
        tone = tone_of(phone)
        screen = self.supervisor.screen
        active = phone.active_call
        return {
            "phone": {
                "state": phone.mode.value,
                "off_hook": phone.off_hook,
                # The switch itself: just after the handset goes down the phone still counts it off
                # hook (it may be a flash), while the page's button must already offer to lift it.
                "handset_lifted": self.supervisor.ports.hook.off_hook,
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
                "loop_disconnect_ms": phone.settings.loop_disconnect_ms,
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
            "notices": [n.as_table() for n in self.notices.all()],
            # The phone's own Wi-Fi while it is open (its key is on the display, not here).
            "access_point": phone.access_point,
            "provisioning": self.provisioning(),
            **await self.info(),
            "uptime_s": round(time.time() - self.started_at),
        }

    async def watch(self, since: int = 0, timeout_s: float = 1.0) -> Table:
        """The status as soon as it has changed since version ``since``, or after ``timeout_s``
        (at most 25 s) if nothing did: what the page's push (and a long-polling client) waits on."""
        if since == self._version:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), max(0.0, min(timeout_s, 25.0)))
        return {"version": self._version, "status": await self.status()}

    def _bump(self) -> None:
        self._version += 1
        self._changed.set()  # wakes every watcher waiting on this event; later ones wait on the next
        self._changed = asyncio.Event()

    async def info(self) -> Table:
        """What does not change while the phone runs."""
        return {
            "board": self.store.config.board.name,
            "simulated": self.simulated,
            "system": {**system_facts(), "mac": self.probes.mac()},
            "version": self.version,
        }

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
            "bootstrap": self.store.config.jami.bootstrap or ["bootstrap.jami.net:4222 (public)"],
            "own_node": {"port": node["port"], "nodes_known": node["nodes"]} if node else None,
        }

    async def call_log(self) -> list[Table]:
        """Newest first."""
        return self.calls.entries()

    async def logs(self) -> list[str]:
        return list(self.log_lines.lines)

    async def dismiss_notice(self, key: str) -> None:
        """The owner read a warning on the page: it leaves the page and the idle screen's count."""
        try:
            if not self.notices.dismiss(key):
                raise NotFoundError(f"no notice {key!r}")
        except NoticeStaysError as exc:
            raise ChangeRejectedError(
                [("notice", "an error stays until its cause is fixed; only warnings can be dismissed")]
            ) from exc

    async def handset_test(self, tone: bool = False, listen_s: float = 0.0) -> Table:
        """Play the test tone in the handset, and/or measure the microphone for ``listen_s``."""
        if tone:
            self.supervisor.play_test_tone()
            await self.supervisor.idle()  # playing when this answers
        level = None
        if listen_s > 0 and self.probes.mic_level is not None:
            try:
                level = await asyncio.to_thread(self.probes.mic_level, min(listen_s, 5.0))
            except Exception as exc:
                raise ChangeRejectedError([("microphone", f"cannot be read: {exc}")]) from exc
        return {"tone": tone, "microphone": self.probes.mic_level is not None, "level_dbfs": level}


def system_facts() -> Table:
    """The device as an installer checks it: the root read-only, memory left, load, the slot."""
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
