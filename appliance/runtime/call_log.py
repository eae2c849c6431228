"""The call log's one owner: calls appended to a JSON-lines file in the data directory, bounded by size.

A call is one appended line (no rewrite, no fsync: a power cut loses at most the last line). A
last line a power cut left without its newline is cut off when the log is opened, so the next call
starts on a line of its own instead of being glued to it (and lost at the next read). Lines that
are not calls (wrong shape, another program's) are skipped when read, counted, and the owner told
once. When the file outgrows its bound it is compacted once to its newest half, atomically, so the
file and the list in memory stay bounded however long the phone runs. A full data partition loses
the call's line, never the call: the owner is told, and the entry stays in memory.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import deque
from pathlib import Path
from typing import Any

from appliance.durable import atomic_write, is_full
from appliance.notices import Notices, Severity
from appliance.phone import effects as fx

log = logging.getLogger(__name__)

Entry = dict[str, Any]
FILE = "calls.jsonl"
MAX_BYTES = 256 * 1024  # ~1,500 calls
NOTICE_SKIPPED = "call-log-skipped"
NOTICE_FULL = "call-log-full"
_TEXT = ("kind", "uri", "name", "reason")
_NUMBER = ("time", "duration_s")


def as_call(value: object) -> Entry | None:
    """``value`` as a call of the log, or None if it is not one (what the page can show safely)."""
    if not isinstance(value, dict):
        return None
    entry: Entry = {}
    for key in _NUMBER:
        number = value.get(key, 0.0 if key == "duration_s" else None)
        if isinstance(number, bool) or not isinstance(number, int | float) or number != number:  # noqa: PLR0124 - NaN
            return None
        entry[key] = number
    for key in _TEXT:
        text = value.get(key, "" if key in ("name", "reason") else None)
        if not isinstance(text, str):
            return None
        entry[key] = text
    return {"time": entry["time"], **{k: entry[k] for k in _TEXT}, "duration_s": entry["duration_s"]}


class CallLog:
    """Calls with their wall-clock time, newest last; ``path`` None keeps them in memory only."""

    def __init__(
        self, path: Path | None, *, max_bytes: int = MAX_BYTES, notices: Notices | None = None
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.notices = notices if notices is not None else Notices()
        self.skipped = 0  # lines read that were not calls
        self._entries: deque[tuple[Entry, int]] = deque()  # with each line's size in bytes
        self._bytes = 0
        self._glue = False  # the file still ends in a cut line: the next append starts with a newline
        if path is not None and path.exists():
            data = path.read_bytes()
            if data and not data.endswith(b"\n"):
                data = self._repair(path, data)
            self._read(data)
            self._trim()

    def entries(self) -> list[Entry]:
        """Newest first."""
        return [entry for entry, _ in reversed(self._entries)]

    def __len__(self) -> int:
        return len(self._entries)

    def _read(self, data: bytes) -> None:
        for line in data.splitlines():
            if not line.strip():
                continue
            try:
                entry = as_call(json.loads(line))
            except (ValueError, RecursionError):
                entry = None
            if entry is None:
                self.skipped += 1
                continue
            self._keep(entry, len(line) + 1)
        if self.skipped:
            where = self.path or "the restored call log"
            self.notices.raise_(
                NOTICE_SKIPPED,
                f"{where}: {self.skipped} line{'s' if self.skipped > 1 else ''} that "
                f"{'are not calls were' if self.skipped > 1 else 'is not a call was'} skipped "
                "(damaged, or written by something else); the other calls are shown.",
            )

    def _repair(self, path: Path, data: bytes) -> bytes:
        """A last line without its newline was cut by a power loss: cut it off the file, so the
        next append starts a line of its own (a truncate needs no free space)."""
        keep = data.rfind(b"\n") + 1
        try:
            with path.open("r+b") as handle:
                handle.truncate(keep)
                os.fsync(handle.fileno())
        except OSError as exc:
            log.warning("%s: a cut last line could not be removed (%s)", path, exc)
            self._glue = True
        else:
            log.warning("%s: removed a last line cut short (%d bytes)", path, len(data) - keep)
        return data[:keep]

    def add(self, call: fx.LogCall, at: float | None = None) -> Entry:
        entry = {
            "time": time.time() if at is None else at,
            "kind": call.kind,
            "uri": call.peer_uri,
            "name": call.peer_name,
            "reason": call.reason,
            "duration_s": round(call.duration_s, 1),
        }
        line = json.dumps(entry) + "\n"
        self._keep(entry, len(line.encode()))
        over = self._bytes > self.max_bytes
        if over:  # also in memory only (the simulator, a phone without a data partition)
            self._trim()
        if self.path is not None:
            try:
                if over:
                    self._rewrite()
                else:
                    self._append(line)
            except OSError as exc:  # the call itself is not affected, and stays in memory
                if is_full(exc):
                    self.notices.raise_(
                        NOTICE_FULL,
                        "The data partition is full: calls are not written to the call log "
                        "(they are shown until the phone restarts).",
                        Severity.ERROR,
                    )
                else:
                    log.exception("call log not written")
            else:
                self.notices.clear(NOTICE_FULL)
        return entry

    def _append(self, line: str) -> None:
        assert self.path is not None
        data = line.encode()
        if self._glue:
            data = b"\n" + data
        with self.path.open("ab") as handle:
            handle.write(data)
        self._glue = False

    def restore(self, data: bytes) -> None:
        """Take a backup's call log as this phone's (then bounded like any other)."""
        self._entries.clear()
        self._bytes = 0
        self.skipped = 0
        self._read(data)
        self._trim()
        if self.path is not None:
            self._rewrite()

    def _keep(self, entry: Entry, size: int) -> None:
        self._entries.append((entry, size))
        self._bytes += size

    def _trim(self) -> None:
        """Down to half the bound: a compaction then happens once per ~750 calls, not every call."""
        if self._bytes <= self.max_bytes:
            return
        while self._entries and self._bytes > self.max_bytes // 2:
            _, size = self._entries.popleft()
            self._bytes -= size

    def _rewrite(self) -> None:
        assert self.path is not None
        atomic_write(self.path, "".join(json.dumps(e) + "\n" for e, _ in self._entries).encode())
        self._glue = False
