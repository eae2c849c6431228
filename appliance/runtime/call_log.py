"""The call log's one owner: calls appended to a JSON-lines file in the data directory, bounded by size.

A call is one appended line (no rewrite, no fsync: a power cut loses at most the last line, and a
line it cut short is skipped when read). When the file outgrows its bound it is compacted once to
its newest half, atomically, so the file and the list in memory stay bounded however long the
phone runs.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from pathlib import Path
from typing import Any

from appliance.durable import atomic_write
from appliance.phone import effects as fx

log = logging.getLogger(__name__)

Entry = dict[str, Any]
FILE = "calls.jsonl"
MAX_BYTES = 256 * 1024  # ~1,500 calls


class CallLog:
    """Calls with their wall-clock time, newest last; ``path`` None keeps them in memory only."""

    def __init__(self, path: Path | None, *, max_bytes: int = MAX_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._entries: deque[tuple[Entry, int]] = deque()  # with each line's size in bytes
        self._bytes = 0
        if path is not None and path.exists():
            for line in path.read_bytes().splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line cut by a power loss: the rest stays readable
                if isinstance(entry, dict):
                    self._keep(entry, len(line) + 1)
            self._trim()

    def entries(self) -> list[Entry]:
        """Newest first."""
        return [entry for entry, _ in reversed(self._entries)]

    def __len__(self) -> int:
        return len(self._entries)

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
        if self.path is not None:
            try:
                if self._bytes > self.max_bytes:
                    self._trim()
                    self._rewrite()
                else:
                    with self.path.open("a") as handle:
                        handle.write(line)
            except OSError:
                log.exception("call log not written")  # the call itself is not affected
        return entry

    def restore(self, data: bytes) -> None:
        """Take a backup's call log as this phone's (then bounded like any other)."""
        self._entries.clear()
        self._bytes = 0
        for line in data.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                self._keep(entry, len(line) + 1)
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
