"""Read what Raspberry Pi Imager's "OS customisation" wrote to the boot partition, as data.

Imager writes one of three forms (``src/customization_generator.cpp`` and, before 1.9, the QML
``OptionsPopup.qml``), each read by its own module and never run:

- **firstrun.sh** (``init_format`` "systemd"): :mod:`.firstrun`;
- **cloud-init** NoCloud (``cloudinit``): ``user-data``, ``network-config``, ``meta-data``:
  :mod:`.cloudinit`;
- **rpi-preseed.toml** (Imager 2.0.11 and later): :mod:`.preseed`.

Only the first form present is read (in that order), with the regulatory domain Imager puts on
``cmdline.txt``. Every file is opened without following a symlink, must be a regular file, and is
read to at most :data:`MAX_BYTES`. Names are matched without case (FAT). Each value is checked on
its own (:mod:`.raw`, :mod:`.settings`): a bad one is a :class:`~.settings.Problem` and the rest
are still used.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path

from .cloudinit import META_DATA, NETWORK_CONFIG, USER_DATA, read_network_config, read_user_data
from .firstrun import FIRSTRUN, read_firstrun
from .preseed import PRESEED, read_preseed
from .raw import Raw, checked
from .settings import ZONEINFO, Form, Problem, RefusedError, Report

__all__ = [
    "BOOT_FILES", "CMDLINE", "FIRSTRUN", "MAX_BYTES", "META_DATA", "NETWORK_CONFIG", "PRESEED", "USER_DATA",
    "boot_entries", "read_boot", "read_bounded",
]  # fmt: skip

MAX_BYTES = 1 << 20  # Imager's files are a few kilobytes; anything past a mebibyte is not one of them

CMDLINE = "cmdline.txt"
BOOT_FILES = (FIRSTRUN, USER_DATA, NETWORK_CONFIG, META_DATA, PRESEED)


# --- reading files ------------------------------------------------------------------------------


def boot_entries(boot: Path) -> dict[str, str]:
    """The boot directory's names by their lower-case form (FAT does not keep case)."""
    try:
        return {entry.name.lower(): entry.name for entry in os.scandir(boot)}
    except OSError:
        return {}


def read_bounded(path: Path, limit: int = MAX_BYTES) -> bytes:
    """A regular file's bytes, at most ``limit``; a symlink, a device or a FIFO is refused unopened."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RefusedError("is a symbolic link, not a file: not followed") from None
        raise RefusedError(f"cannot be opened ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise RefusedError("is not a regular file")
        if info.st_size > limit:
            raise RefusedError(f"is {info.st_size} bytes, more than the {limit} read")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise RefusedError(f"is more than the {limit} bytes read")
        return b"".join(chunks)
    finally:
        os.close(fd)


# --- the whole partition ------------------------------------------------------------------------


def _cmdline(text: str, raw: Raw) -> None:
    for word in text.split():
        if word.startswith("cfg80211.ieee80211_regdom="):
            raw.put(CMDLINE, "wifi.country", word.partition("=")[2])


_PARSERS: dict[str, Callable[[str, Raw], None]] = {
    FIRSTRUN: read_firstrun,
    USER_DATA: read_user_data,
    NETWORK_CONFIG: read_network_config,
    PRESEED: read_preseed,
    CMDLINE: _cmdline,
}
_FORMS = (
    (Form.FIRSTRUN, (FIRSTRUN,)),
    (Form.CLOUD_INIT, (USER_DATA, NETWORK_CONFIG, META_DATA)),
    (Form.PRESEED, (PRESEED,)),
)


def read_boot(boot: Path, zoneinfo: Path = ZONEINFO) -> Report:
    """Everything Imager left in ``boot``, checked; never raises for what the files hold."""
    entries = boot_entries(boot)
    raw = Raw()
    notes: list[str] = []
    form = Form.NONE
    used: list[str] = []
    for candidate, names in _FORMS:
        present = [name for name in names if name in entries]
        if not present:
            continue
        if form is not Form.NONE:
            notes.append(f"{', '.join(present)} ignored: the {form.value} form is read first")
            continue
        form = candidate
        for name in present:
            used.append(entries[name])
            _read_one(boot / entries[name], name, raw)
    if form is not Form.NONE and CMDLINE in entries:
        _read_one(boot / entries[CMDLINE], CMDLINE, raw)  # the regulatory domain Imager puts there
    settings = checked(raw, form, tuple(used), zoneinfo)
    return Report(settings, tuple(raw.problems), tuple(notes))


def _read_one(path: Path, name: str, raw: Raw) -> None:
    try:
        data = read_bounded(path)
        parser = _PARSERS.get(name)
        if parser is None:
            return
        if name == FIRSTRUN:
            text = data.decode("utf-8", "surrogateescape")  # a bad byte refuses its value, not the file
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise RefusedError(f"is not UTF-8 (byte {exc.start})") from None
        parser(text, raw)
    except RefusedError as exc:
        raw.problems.append(Problem(path.name, "file", str(exc)))
