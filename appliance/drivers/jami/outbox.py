"""Files handed to the daemon's ``sendFile``: it reads them from a path, so they are written here first.

jamid 13.7 serves a sent file to the peer's devices from a link it makes in the conversation's
data (``<commit>_<tid>.<ext>``, a hard link when it can, else a symbolic one:
JamiAccount::sendFile, fileutils::createFileLink). This directory sits beside the daemon's own
data on the same partition, so the link is a hard one and the file outlives its copy here; the
copies are bounded all the same, the oldest going first, in case the link was a symbolic one.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import time
from pathlib import Path

from appliance.durable import atomic_write

KEEP = 20  # files kept here: a symbolic link's target stays for the last few messages at least
_UNSAFE = re.compile(r"[^\w .,()+-]+")


class Outbox:
    """A bounded directory of files waiting for (or already taken by) the daemon."""

    def __init__(self, directory: Path, keep: int = KEEP) -> None:
        self.directory = directory
        self.keep = keep

    def put(self, name: str, data: bytes) -> Path:
        """``data`` written whole under a unique file name ending in ``name`` (made safe)."""
        safe = _UNSAFE.sub("_", Path(name).name).strip(" .") or "file"
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.directory / f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}-{safe}"
        atomic_write(path, data, mode=0o600)
        self._trim()
        return path

    def files(self) -> list[Path]:
        return sorted(p for p in self.directory.iterdir() if p.is_file() and not p.name.startswith("."))

    def _trim(self) -> None:
        for path in self.files()[: -self.keep]:
            with contextlib.suppress(OSError):
                path.unlink()
