"""Firmware upload: the page receives a bundle, checks it, and hands it to the image's updater.

The page runs unprivileged; writing a root slot is the updater's job (appliance-update.service,
root, started by a path unit when ``ready`` appears in the hand-off directory). The page streams
the upload to disk (a bundle is ~250 MB: never in memory), checks signature, board and checksum,
then leaves it for the updater, which reports back in ``status.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from appliance import update

log = logging.getLogger(__name__)

MAX_BUNDLE = 1024 * 1024 * 1024
BUNDLE, READY, STATUS = update.HANDOFF_BUNDLE, update.HANDOFF_READY, update.HANDOFF_STATUS


class NoUpdaterError(RuntimeError):
    """This board (the desktop one) has no slots to write."""


class FirmwareHandoff:
    def __init__(self, directory: Path | None, keys_dir: Path = update.KEYS_DIR) -> None:
        self.directory = directory
        self.keys_dir = keys_dir
        self._busy = asyncio.Lock()

    def status(self) -> dict[str, Any]:
        if self.directory is None:
            return {"state": "unavailable", "message": "this board has no update slots (desktop)"}
        try:
            answer = json.loads((self.directory / STATUS).read_text())
        except (OSError, ValueError):
            answer = {"state": "idle", "message": ""}
        if (self.directory / READY).exists():
            answer = {**answer, "state": "applying", "message": "writing the new system; the phone reboots"}
        return answer if isinstance(answer, dict) else {"state": "idle", "message": ""}

    async def receive(self, request: web.Request, board: str) -> dict[str, Any]:
        """Stream the body to disk, check it whole, then hand it over."""
        if self.directory is None:
            raise NoUpdaterError("this board has no update slots (the desktop board)")
        if self._busy.locked() or (self.directory / READY).exists():
            raise web.HTTPConflict(reason="an update is already under way")
        if update.TRIAL_MARK.exists():
            raise web.HTTPConflict(reason="the running system is itself on trial: try again once it is kept")
        async with self._busy:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o750)
            part = self.directory / (BUNDLE + ".part")
            try:
                await _save(request, part)
                keys = update.trusted_keys(self.keys_dir)
                header = await asyncio.to_thread(update.verify, part, keys, board)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    part.unlink()
                raise
            update.hand_over(self.directory, part, header)  # the updater's path unit starts now
            log.warning(
                "web: firmware %s for %s uploaded and checked; handed to the updater", header.version, board
            )
            return {"board": header.board, "version": header.version, "state": "applying"}


async def _save(request: web.Request, path: Path) -> int:
    size = 0
    with path.open("wb") as out:
        async for chunk in request.content.iter_chunked(1024 * 1024):
            size += len(chunk)
            if size > MAX_BUNDLE:
                raise web.HTTPRequestEntityTooLarge(max_size=MAX_BUNDLE, actual_size=size)
            await asyncio.to_thread(out.write, chunk)
    return size
