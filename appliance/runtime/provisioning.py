"""Fleet provisioning: the phone fetches its profile from the owner's web server and applies it.

At start the last good profile (kept on the data partition) is a layer of the config store, so
a phone whose server is down starts as it was provisioned. Then, after a random delay, and every
``provisioning.interval_s`` plus jitter (fifty phones must not ask at once), the common file and
this phone's file are fetched (conditionally: unchanged files are not downloaded again), parsed,
combined and validated whole against every other layer. A bad or unreachable profile changes
nothing and the status says why (the source, each field and its reason). A good one is kept
(written whole) at once, and applied when the phone is idle: never during a call, but as soon as
it ends. A change that only a start takes (SIP accounts, the Jami account) restarts the phone
then, if it can restart itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from appliance.config import dhcp, editable
from appliance.config import profile as profiles
from appliance.config.load import ConfigError, to_table
from appliance.config.profile import Profile
from appliance.config.schema import LIVE
from appliance.durable import atomic_write
from appliance.notices import Severity
from appliance.phone.model import Mode, Phone

from .config_store import ConfigStore
from .firmware import FirmwareUpdates
from .maintenance import Power
from .profile_fetch import Fetched, FetchError, Tls, fetch
from .supervisor import Supervisor

log = logging.getLogger(__name__)

Table = dict[str, Any]
KEPT_FILE = Path("provisioning") / "profile.json"
FIRST_FETCH_MAX_S = 30.0  # the start's fetch waits up to this (or jitter_s, if less): a power cut's herd
RETRY_S = 300.0  # after a failure, try again this soon (plus jitter), if interval_s is longer
# No server known yet (no url, and no DHCP hand-over, or one naming none): the hand-over is a local
# file the DHCP client's hook may write any moment after the start, so it is read again this soon.
NO_SERVER_S = 30.0
# Applied at once without a restart: what the page marks live, and the lists and tables the phone
# takes while running. Anything else (SIP accounts, the Jami account, volumes) waits for a start.
LIVE_SECTIONS = ("contacts", "star_codes", "provisioning")
LIVE_KEYS = (profiles.PASSWORD_HASH,)  # the page's process takes it (appliance/web/provisioned.py)
NOTICE = "provisioning"

Fetch = Callable[..., Awaitable[Fetched]]


@dataclass(frozen=True)
class Source:
    """One fetched file as kept: where from, the validators for a conditional GET, the text."""

    url: str
    etag: str
    last_modified: str
    text: str


class KeptProfile:
    """The last good profile's files on the data partition (None: in memory), written whole, so a
    power cut leaves the old set or the new one and the next start uses it with the server down."""

    def __init__(self, data_dir: Path | None) -> None:
        self.path = data_dir / KEPT_FILE if data_dir is not None else None
        self._memory: list[Source] = []

    def read(self) -> list[Source]:
        if self.path is None:
            return list(self._memory)
        try:
            raw = json.loads(self.path.read_text())
            return [Source(**entry) for entry in raw["sources"]]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("%s: not used (%s)", self.path, exc)
            return []

    def write(self, sources: list[Source]) -> None:
        self._memory = list(sources)
        if self.path is None:
            return
        self.path.parent.mkdir(mode=0o700, exist_ok=True)  # it holds SIP passwords: owner only
        data = json.dumps({"sources": [asdict(s) for s in sources]}, indent=1).encode()
        atomic_write(self.path, data, mode=0o600)


def profile_of(sources: list[Source]) -> Profile:
    """The sources' profiles combined in order (ConfigError naming the source or the field)."""
    return profiles.combine([profiles.parse(s.text, s.url) for s in sources])


def kept_profile(data_dir: Path | None) -> Profile | None:
    """The last good profile kept in ``data_dir``, for the config store at start (None: none)."""
    sources = KeptProfile(data_dir).read()
    if not sources:
        return None
    try:
        return profile_of(sources)
    except ConfigError as exc:
        log.warning("the kept provisioning profile is not used: %s", exc)
        return None


def idle(phone: Phone) -> bool:
    """On hook, nothing ringing, no call of any kind (forwarded, or the answering machine's)."""
    return (phone.mode is Mode.IDLE and not phone.off_hook and not phone.calls and not phone.forwards
            and phone.answering is None)  # fmt: skip


def needs_restart(before: Table, after: Table) -> list[str]:
    """The dotted keys changed from ``before`` to ``after`` that the running phone does not take."""
    marked = editable.page_fields()
    out = []
    for section in sorted(set(before) | set(after)):
        old, new = before.get(section), after.get(section)
        if old == new or section in LIVE_SECTIONS:
            continue
        keys = marked.get(section)
        if isinstance(old, dict) and isinstance(new, dict):
            for key in sorted(set(old) | set(new)):
                live = (isinstance(keys, dict) and keys.get(key) == LIVE) or f"{section}.{key}" in LIVE_KEYS
                if old.get(key) != new.get(key) and not live:
                    out.append(f"{section}.{key}")
        elif keys != LIVE:
            out.append(section)
    return out


class Provisioning:
    """Keeps the phone's profile in step with the owner's server (see the module's docstring).

    Args:
        store: the config store, whose provisioning layer this sets.
        supervisor: tells when the phone is idle.
        data_dir: where the last good profile is kept (None: in memory).
        mac, board, version: what ``{mac}``, ``{board}`` and ``{version}`` become in the URLs.
        power: restarts the phone for a change only a start takes (None: the status says so).
        fetch: the HTTP client (:func:`~.profile_fetch.fetch`).
    """

    def __init__(
        self, store: ConfigStore, supervisor: Supervisor, data_dir: Path | None, *, mac: str, board: str,
        version: str, power: Power | None = None, fetch: Fetch = fetch,
        rng: Callable[[], float] = random.random, firmware: FirmwareUpdates | None = None,
    ) -> None:  # fmt: skip
        self.store, self.supervisor = store, supervisor
        self.kept = KeptProfile(data_dir)
        self.mac, self.board, self.version = mac, board, version
        self.power = power
        self._fetch = fetch
        self.firmware = firmware  # firmware.url, checked after each sync
        self._rng = rng
        self._sync_lock = asyncio.Lock()
        self._pending: tuple[Profile, list[Source]] | None = None
        self._applying: asyncio.Task[None] | None = None
        self._schedule: asyncio.Task[None] | None = None
        self.last_success: float | None = None
        self.last_attempt: float | None = None
        self.last_error: Table | None = None
        self.applied_at: float | None = None
        self.restart_for: list[str] = []  # keys applied that need a start the phone could not make
        self._dhcp_server: dhcp.DhcpServer | None = None  # as the DHCP client's file said at the last sync
        self.fetches = 0  # files downloaded (not counting 304s): what a fleet costs the server
        self.not_modified = 0
        supervisor.on_phone(self._phone_changed)
        store.on_change(lambda change: self._reschedule() if "provisioning" in change.sections else None)

    # --- public --------------------------------------------------------------------------------

    def start(self) -> None:
        """Fetch soon after the start (a random part of a jitter), then every interval."""
        self._reschedule()

    async def stop(self) -> None:
        for task in (self._schedule, self._applying):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def urls(self) -> list[str]:
        """The common file's URL and this phone's, macros filled in: the configured ones, else
        those the DHCP server named at the last sync (empty: no provisioning server known)."""
        return self._where()[0]

    def _where(self) -> tuple[list[str], str]:
        """The URLs and where they came from ("config", "dhcp option 66"...; "" for nowhere)."""
        cfg = self.store.config.provisioning
        common, url, origin = cfg.common_url, cfg.url, "config"
        if not url and cfg.dhcp_file:
            server = self._dhcp_server
            if server is None:
                return [], ""
            common, url, origin = server.common_url, server.url, f"dhcp option {server.option}"
        if not url:
            return [], ""
        return [profiles.fill(u, mac=self.mac, board=self.board, version=self.version)
                for u in (common, url) if u], origin  # fmt: skip

    def _dhcp(self, path: Path) -> dhcp.DhcpServer | None:
        try:
            text = path.read_text()  # a few lines on /run (tmpfs): read on the loop
        except FileNotFoundError:
            return None  # no lease yet, or a network without these options
        except (OSError, UnicodeDecodeError) as exc:
            self.last_error = _error(str(path), f"cannot be read ({exc})")
            return None
        try:
            return dhcp.parse(text, str(path))
        except ConfigError as exc:
            self.last_error = {"at": time.time(), "source": str(path), "problems": _problems(exc)}
            return None

    async def sync(self) -> Table:
        """Fetch, check and keep the profile now; applied at once if idle, else when idle.
        Answers the status block (its ``last_error`` says what went wrong, if anything did)."""
        async with self._sync_lock:
            await self._sync()
            await self._check_firmware()
        return self.status()

    async def _check_firmware(self) -> None:
        if self.firmware is not None:
            await self.firmware.check(idle=idle(self.supervisor.phone))

    def status(self) -> Table:
        urls, origin = self._where()
        if not urls:
            state = "off" if self.last_error is None else "error"
        elif self._pending is not None:
            state = "pending"  # fetched and good, waiting for the phone to be idle
        elif self.last_error is not None:
            state = "error"
        elif self.last_success is not None:
            state = "ok"
        else:
            state = "starting"
        return {
            "state": state,
            "from": origin,
            "source": urls[-1] if urls else "",
            "common": urls[0] if len(urls) > 1 else "",
            "last_success": self.last_success,
            "last_attempt": self.last_attempt,
            "last_error": self.last_error,
            "applied_at": self.applied_at,
            "pending": self._pending is not None,
            "locked": list(self.store.profile.locked),
            "restart_required": list(self.restart_for),
            "firmware": self.firmware.state if self.firmware is not None else {"state": "off"},
        }

    # --- fetching ------------------------------------------------------------------------------

    async def _sync(self) -> None:
        try:
            await self._sync_once()
        finally:
            self._tell_owner()

    def _tell_owner(self) -> None:
        """A failure is also a notice: on every page and counted on the idle screen, until a sync works."""
        error = self.last_error
        if error is None:
            self.store.notices.clear(NOTICE)
            return
        why = "; ".join(
            f"{p['field']}: {p['reason']}" if p["field"] else p["reason"] for p in error["problems"]
        )
        where = f" from {error['source']}" if error.get("source") else ""
        text = f"Provisioning{where} failed: {why}. The phone keeps its last good profile."
        self.store.notices.raise_(NOTICE, text, Severity.WARNING)

    async def _sync_once(self) -> None:
        self.last_attempt = time.time()
        self.last_error = None
        cfg = self.store.config.provisioning
        # The hand-over file is read here only (the status, asked at every push, uses what was read).
        self._dhcp_server = self._dhcp(Path(cfg.dhcp_file)) if cfg.dhcp_file and not cfg.url else None
        urls = self.urls()
        if not urls:
            if self.last_error is None and not self.store.config.provisioning.dhcp_file:
                self.last_error = _error("provisioning.url", "not set: there is nothing to fetch")
            return
        kept = {s.url: s for s in self.kept.read()}
        try:
            sources = [await self._get(url, kept.get(url)) for url in urls]
        except FetchError as exc:
            url, _, why = str(exc).partition(": ")
            self.last_error = _error(url if why else "", why or str(exc), source=url)
            log.warning("provisioning: %s", exc)
            return
        try:
            profile = profile_of(sources)
            self.store.check_profile(profile)
        except ConfigError as exc:
            self.last_error = {"at": time.time(), "source": urls[-1], "problems": _problems(exc)}
            log.warning("provisioning: the profile is not used: %s", "; ".join(exc.problems))
            return
        self.last_error = None
        self.last_success = time.time()
        if sources != list(kept.values()) or profile != self.store.profile:
            if self.kept.path is None:
                self.kept.write(sources)
            else:  # fsyncs: off the loop
                await asyncio.to_thread(self.kept.write, sources)
            self._pending = (profile, sources)
            if idle(self.supervisor.phone):
                await self._apply()  # at once: the answer to a sync says it was applied

    async def _get(self, url: str, kept: Source | None) -> Source:
        cfg = self.store.config.provisioning
        got = await self._fetch(
            url, tls=Tls(cfg.ca_file, cfg.client_cert, cfg.client_key),
            etag=kept.etag if kept else "", last_modified=kept.last_modified if kept else "",
            timeout_s=cfg.timeout_s, max_bytes=cfg.max_kb * 1024,
        )  # fmt: skip
        if got.body is None:
            if kept is None:
                raise FetchError(f"{url}: the server says not modified, but no copy is kept")
            self.not_modified += 1
            return kept
        self.fetches += 1
        try:
            text = got.body.decode()
        except UnicodeDecodeError as exc:
            raise FetchError(f"{url}: is not UTF-8 text (byte {exc.start})") from exc
        return Source(url, got.etag, got.last_modified, text)

    # --- applying ------------------------------------------------------------------------------

    def _phone_changed(self, phone: Phone) -> None:
        if self._pending is not None and idle(phone):
            self._apply_when_idle()

    def _apply_when_idle(self) -> None:
        if self._pending is None or not idle(self.supervisor.phone):
            return
        if self._applying is None or self._applying.done():
            self._applying = asyncio.get_running_loop().create_task(self._apply(), name="provisioning-apply")

    async def _apply(self) -> None:
        pending = self._pending
        if pending is None or not idle(self.supervisor.phone):
            return
        profile, _ = pending
        before = to_table(self.store.config)
        try:
            sections = await self.store.apply_profile(profile)
        except ConfigError as exc:  # the saved layer changed since it was checked
            self._pending = None
            source = (self.urls() or [""])[-1]
            self.last_error = {"at": time.time(), "source": source, "problems": _problems(exc)}
            self._tell_owner()
            return
        self._pending = None
        self.applied_at = time.time()
        restart = needs_restart(before, to_table(self.store.config))
        log.info("provisioning: profile applied (%s)", ", ".join(sorted(sections)) or "no change")
        if restart and self.power is not None:
            log.info("provisioning: restarting for %s", ", ".join(restart))
            self.power.restart()
        else:
            self.restart_for = restart

    # --- the schedule --------------------------------------------------------------------------

    def _reschedule(self) -> None:
        if self._schedule is not None:
            self._schedule.cancel()
        cfg = self.store.config.provisioning
        if not cfg.url and not cfg.dhcp_file:
            self._schedule = None
            return
        self._schedule = asyncio.get_running_loop().create_task(self._run(), name="provisioning")

    async def _run(self) -> None:
        cfg = self.store.config.provisioning
        await asyncio.sleep(self._rng() * min(cfg.jitter_s, FIRST_FETCH_MAX_S))
        while True:
            async with self._sync_lock:
                await self._sync()
                await self._check_firmware()
            cfg = self.store.config.provisioning
            if not self.urls():  # no server known (yet): DHCP may name one with the next lease
                await asyncio.sleep(NO_SERVER_S + self._rng() * min(cfg.jitter_s, NO_SERVER_S))
                continue
            if cfg.interval_s == 0 and self.last_error is None:
                return
            base = cfg.interval_s if self.last_error is None else min(cfg.interval_s or RETRY_S, RETRY_S)
            await asyncio.sleep(base + self._rng() * cfg.jitter_s)


def _error(field: str, reason: str, *, source: str = "") -> Table:
    return {"at": time.time(), "source": source, "problems": [{"field": field, "reason": reason}]}


def _problems(exc: ConfigError) -> list[Table]:
    out = []
    for problem in exc.problems:
        field, _, reason = problem.partition(": ")
        out.append({"field": field, "reason": reason} if reason else {"field": "", "reason": problem})
    return out


__all__ = ["KeptProfile", "Provisioning", "Source", "idle", "kept_profile"]
