"""Saving configuration so that a power cut at any instant leaves the old file or the new one, whole."""

from __future__ import annotations

import contextlib
import os
import tomllib
from collections.abc import Callable
from pathlib import Path

import tomli_w

from .load import ConfigError, Table, merge, read_toml

DATA_FILE = "config.toml"


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` via a temporary file, fsync, rename, fsync of the directory.

    rename(2) within one file system is atomic, so readers (and the next boot) see either the old
    file or the new one; the fsyncs order the data before the rename on journaled file systems.
    """
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob(f".{path.name}.*.tmp"):  # left by a write cut short by a power loss
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
    tmp = directory / f".{path.name}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)  # noqa: PTH105 - the atomic rename(2), spelled as such
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class DataConfig:
    """The device's own layer of configuration, in ``<data dir>/config.toml``: what the phone saves."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / DATA_FILE

    def read(self) -> Table:
        if not self.path.exists():
            return {}
        return read_toml(self.path)

    def save(self, changes: Table, validate: Callable[[Table], object]) -> Table:
        """Merge ``changes`` into the saved layer, validate the result, then write it atomically.

        ``validate`` gets the new data layer and raises ConfigError if the merged configuration
        would be invalid; nothing is written then.
        """
        updated = merge(self.read(), changes)
        validate(updated)
        try:
            data = tomli_w.dumps(updated).encode()
            tomllib.loads(data.decode())  # never write what we could not read back
        except (TypeError, ValueError) as exc:
            raise ConfigError([f"{self.path}: cannot be written as TOML: {exc}"]) from exc
        atomic_write(self.path, data)
        return updated
