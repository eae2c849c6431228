"""Files written whole or not at all: the one helper every part of the appliance saves through.

A leaf module (standard library only), so the phone's drivers, runtime, web page and updater all
use the same durable write; a power cut at any instant leaves the old file or the new one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import time
from pathlib import Path

FULL = frozenset({errno.ENOSPC, errno.EDQUOT})  # the data partition (or its quota) has no room


class StorageFullError(OSError):
    """A write found the data partition full: nothing was written, the old file is whole."""

    def __str__(self) -> str:  # plain words for the page, without "[Errno 28]"
        return self.strerror or "the data partition is full"


def is_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in FULL


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` via a temporary file, fsync, rename, fsync of the directory.

    rename(2) within one file system is atomic, so readers (and the next boot) see either the old
    file or the new one; the fsyncs order the data before the rename on journaled file systems.
    """
    try:
        _atomic_write(path, data, mode)
    except OSError as exc:
        if is_full(exc) and not isinstance(exc, StorageFullError):
            why = f"the data partition is full ({exc.strerror}): {path.name} not saved"
            raise StorageFullError(exc.errno, why) from exc
        raise


def keep_aside(path: Path, why: str = "bad", *, copy: bool = False) -> Path:
    """Put ``path`` out of the way as ``<name>.<why>-<UTC time>`` for a person to look at.

    A rename (``copy`` False) needs no space, so it works on a full partition too; a copy leaves
    the file in place (written atomically like any other). The directory is synced either way.
    """
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    aside = path.with_name(f"{path.name}.{why}-{stamp}")
    for n in range(2, 100):
        if not aside.exists():
            break
        aside = path.with_name(f"{path.name}.{why}-{stamp}-{n}")
    if copy:
        atomic_write(aside, path.read_bytes())
        return aside
    os.replace(path, aside)  # noqa: PTH105 - the atomic rename(2), spelled as such
    _sync_dir(path.parent)
    return aside


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    _remove_stale(directory, path.name)
    # A name of its own per write: two writers of one file (threads, processes) never share one.
    tmp = directory / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
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
    _sync_dir(directory)


def _sync_dir(directory: Path) -> None:
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _remove_stale(directory: Path, name: str) -> None:
    """Temporary files left by a write cut short (a power loss, a kill): those of processes gone."""
    for stale in directory.glob(f".{name}.*.tmp"):
        pid = stale.name.removeprefix(f".{name}.").split(".")[0]
        if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
            continue  # another live process is writing it now
        if pid.isdigit() and int(pid) == os.getpid():
            continue  # a write of ours in another thread
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
