"""The owner's greeting: the take recorded through the handset, and the one kept.

A take waits as ``greeting-take<suffix>`` while the owner hears it back; kept, it becomes
``greeting<suffix>`` by one rename (the take was written and synced first), so a power cut leaves
the old greeting or the new one, never half of one. ``directory`` None keeps both in memory
(the simulator), where there is no file to play: the spoken greeting stands in.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from appliance.durable import atomic_write
from appliance.ports import Recording

log = logging.getLogger(__name__)

DIRECTORY = "greeting"  # its own: the message box removes audio files it has no description of
SUFFIXES = (".flac", ".wav")
SHORTEST_S = 0.5  # a take shorter than this is nothing and is not kept (as the core judges it)


class GreetingStore:
    """One kept greeting at most, and one take waiting to be kept or dropped."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._take: Recording | None = None
        self._kept: Recording | None = None  # in memory only
        if directory is not None:
            for suffix in SUFFIXES:  # a take left by a power cut is no greeting
                with contextlib.suppress(FileNotFoundError):
                    (directory / f"greeting-take{suffix}").unlink()

    @property
    def recorded(self) -> bool:
        return self._kept is not None or self.path() is not None

    def path(self) -> Path | None:
        """The kept greeting's file (None: none, or kept in memory)."""
        if self.directory is None:
            return None
        return next((p for s in SUFFIXES if (p := self.directory / f"greeting{s}").exists()), None)

    def take_path(self) -> Path | None:
        """The waiting take's file, to play it back."""
        if self.directory is None or self._take is None:
            return None
        return self.directory / f"greeting-take{self._take.suffix}"

    def take(self, recording: Recording) -> None:
        """``recording`` waits as the take (blocking: written and synced; a thread may do it)."""
        if recording.suffix not in SUFFIXES:
            raise ValueError(
                f"greeting: a {recording.suffix!r} recording is not one of {', '.join(SUFFIXES)}"
            )
        self.drop()
        self._take = recording
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = self.take_path()
            assert path is not None
            atomic_write(path, recording.data)

    def keep(self) -> bool:
        """The take is the greeting from now on; False when there was none worth keeping."""
        take, self._take = self._take, None
        if take is None or take.duration_s < SHORTEST_S:
            self._remove_take(take)
            return False
        if self.directory is None:
            self._kept = take
            return True
        old = self.path()
        new = self.directory / f"greeting{take.suffix}"
        (self.directory / f"greeting-take{take.suffix}").replace(new)  # atomic: old or new
        _sync_directory(self.directory)
        if old is not None and old != new:
            old.unlink(missing_ok=True)
        log.info("greeting: the owner's (%.1f s) kept", take.duration_s)
        return True

    def drop(self) -> None:
        take, self._take = self._take, None
        self._remove_take(take)

    def clear(self) -> None:
        """Back to the spoken greeting."""
        self._kept = None
        if self.directory is not None:
            for suffix in SUFFIXES:
                with contextlib.suppress(FileNotFoundError):
                    (self.directory / f"greeting{suffix}").unlink()

    def _remove_take(self, take: Recording | None) -> None:
        if take is not None and self.directory is not None:
            with contextlib.suppress(FileNotFoundError):
                (self.directory / f"greeting-take{take.suffix}").unlink()


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
