"""Firmware from the owner's server: ``firmware.url``, fetched when idle in the maintenance window.

The bundle is streamed to the update hand-over directory (never held in memory), then checked
exactly as a page upload is (:func:`appliance.update.verify`: the signature against the image's
keys, the board, the payload's SHA-256), and handed to the root updater the same way
(:func:`appliance.update.hand_over`), which writes the other slot, reboots and falls back if the
new system does not come up. A bundle of the version already running is left alone; an unchanged
one is not downloaded again (its ETag is kept).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from pathlib import Path
from typing import Any

import aiohttp

from appliance import update
from appliance.config import profile as profiles
from appliance.config.load import minutes

from .config_store import ConfigStore
from .profile_fetch import NOT_MODIFIED, Tls
from .supervisor import Supervisor

log = logging.getLogger(__name__)

Table = dict[str, Any]
MAX_BUNDLE = 1024 * 1024 * 1024
SEEN_FILE = "firmware-seen.json"  # the last bundle's URL, ETag and version, in the hand-over directory


class FirmwareUpdates:
    """Checks ``firmware.url`` (see the module's docstring).

    Args:
        store: the configuration (``firmware`` and ``provisioning``'s TLS settings).
        supervisor: whether the phone is idle, and the local time of day.
        handoff: the updater's hand-over directory (None: this board has no update slots).
        keys_dir: the public keys bundles must be signed with.
    """

    def __init__(
        self, store: ConfigStore, supervisor: Supervisor, handoff: Path | None, *, mac: str, board: str,
        version: str, keys_dir: Path = update.KEYS_DIR,
    ) -> None:  # fmt: skip
        self.store, self.supervisor, self.handoff = store, supervisor, handoff
        self.mac, self.board, self.version = mac, board, version
        self.keys_dir = keys_dir
        self.state: Table = {"state": "off"}

    def in_window(self) -> bool:
        """Within the maintenance window, by the local clock (unknown clock: not in it)."""
        cfg = self.store.config.firmware
        if cfg.window_from == cfg.window_to:
            return True
        now = self.supervisor.phone.local_minute(asyncio.get_running_loop().time())
        if now is None:
            return False
        start, end = minutes(cfg.window_from), minutes(cfg.window_to)
        return start <= now < end if start < end else now >= start or now < end

    async def check(self, *, idle: bool) -> Table:
        """Fetch, check and hand over the bundle if there is a new one and the time is right."""
        cfg = self.store.config.firmware
        if not cfg.url:
            self.state = {"state": "off"}
        elif self.handoff is None:
            self.state = {"state": "unavailable", "reason": "this board has no update slots"}
        elif not idle or not self.in_window():
            self.state = {
                **self.state,
                "state": "waiting",
                "reason": "for the phone to be idle in the window",
            }
        else:
            url = profiles.fill(cfg.url, mac=self.mac, board=self.board, version=self.version)
            try:
                self.state = await self._fetch(url)
            except (update.UpdateError, aiohttp.ClientError, TimeoutError, OSError) as exc:
                self.state = {"state": "error", "source": url, "reason": str(exc) or type(exc).__name__,
                              "at": time.time()}  # fmt: skip
                log.warning("firmware: %s: %s", url, self.state["reason"])
        return self.state

    async def _fetch(self, url: str) -> Table:
        assert self.handoff is not None
        directory = self.handoff
        if (directory / update.HANDOFF_READY).exists():
            return {"state": "applying", "reason": "an update is already being written"}
        seen = self._seen()
        headers = {"If-None-Match": seen["etag"]} if seen.get("url") == url and seen.get("etag") else {}
        prov = self.store.config.provisioning
        tls = Tls(prov.ca_file, prov.client_cert, prov.client_key)
        part = directory / (update.HANDOFF_BUNDLE + ".part")
        timeout = aiohttp.ClientTimeout(total=None, sock_read=prov.timeout_s, sock_connect=prov.timeout_s)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(
                url, headers=headers, ssl=tls.context() if url.startswith("https:") else True
            ) as reply,
        ):
            if reply.status == NOT_MODIFIED:
                return {"state": "current", "version": seen.get("version", ""), "source": url}
            if reply.status != 200:
                raise update.UpdateError(f"the server answered {reply.status} {reply.reason or ''}".rstrip())
            directory.mkdir(parents=True, exist_ok=True, mode=0o750)
            try:
                await self._save(reply, part)
                keys = update.trusted_keys(self.keys_dir)
                header = await asyncio.to_thread(update.verify, part, keys, self.board)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    part.unlink()
                raise
            etag = reply.headers.get("ETag", "")
        self._remember({"url": url, "etag": etag, "version": header.version})
        if header.version == self.version:
            part.unlink()
            return {"state": "current", "version": header.version, "source": url}
        update.hand_over(directory, part, header)
        log.warning("firmware: %s for %s fetched from %s and checked; handed to the updater",
                    header.version, self.board, url)  # fmt: skip
        return {"state": "applying", "version": header.version, "source": url}

    async def _save(self, reply: aiohttp.ClientResponse, path: Path) -> None:
        size = 0
        with path.open("wb") as out:
            async for chunk in reply.content.iter_chunked(1024 * 1024):
                size += len(chunk)
                if size > MAX_BUNDLE:
                    raise update.UpdateError(f"more than {MAX_BUNDLE} bytes: not a bundle")
                await asyncio.to_thread(out.write, chunk)

    def _seen(self) -> Table:
        assert self.handoff is not None
        try:
            seen = json.loads((self.handoff / SEEN_FILE).read_text())
        except (OSError, ValueError):
            return {}
        return seen if isinstance(seen, dict) else {}

    def _remember(self, seen: Table) -> None:
        assert self.handoff is not None
        from appliance.durable import atomic_write  # noqa: PLC0415

        atomic_write(self.handoff / SEEN_FILE, json.dumps(seen).encode(), mode=0o640)
