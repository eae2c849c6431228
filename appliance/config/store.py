"""Saving configuration so that a power cut at any instant leaves the old file or the new one, whole."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable
from pathlib import Path

import tomli_w

from appliance.durable import atomic_write, keep_aside

from . import salvage
from .load import ConfigError, Layer, Table, merge, read_toml

log = logging.getLogger(__name__)

DATA_FILE = "config.toml"


class DataConfig:
    """The device's own layer of configuration, in ``<data dir>/config.toml``: what the phone saves."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / DATA_FILE
        self.carried: Table = {}  # unknown keys of a newer firmware, written back with every save

    def read(self) -> Table:
        if not self.path.exists():
            return {}
        return read_toml(self.path)

    def read_lenient(self) -> Table:
        """The file's table, or an empty one if it cannot be read (nothing is moved: see load)."""
        table, _ = salvage.read(self.path)
        return table or {}

    def load(self, others: list[Layer], at: int, check: salvage.Check) -> salvage.Salvaged:
        """The file as far as the phone can use it with ``others`` (see :mod:`.salvage`).

        An unreadable file is renamed aside; a file with entries ignored is copied aside first
        (if the partition has room: otherwise it stays as it is until the next save).
        """
        table, why = salvage.read(self.path)
        if table is None:
            aside = keep_aside(self.path)
            return salvage.Salvaged({}, [salvage.Finding("", why)], aside=aside)
        out = salvage.usable(table, others, at, check)
        self.carried = out.carried
        if _dropped_values(out):  # carried keys survive saves; only a copy keeps the others
            try:
                out.aside = keep_aside(self.path, copy=True)
            except OSError as exc:
                log.warning("%s: no copy kept aside (%s)", self.path, exc)
        return out

    def save(self, changes: Table, validate: Callable[[Table], object], base: Table | None = None) -> Table:
        """Merge ``changes`` into the saved layer, validate the result, then write it atomically.

        ``base`` is the layer as the phone uses it (the file as read, if None); ``validate`` gets
        the new data layer and raises ConfigError if the merged configuration would be invalid;
        nothing is written then.
        """
        updated = merge(self.read() if base is None else base, changes)
        validate(updated)
        self.replace(updated, carry=True)
        return updated

    def replace(self, table: Table, *, carry: bool = False) -> None:
        """Write ``table`` as the whole saved layer (already validated by the caller); with
        ``carry``, the unknown keys of a newer firmware go with it."""
        if not carry:
            self.carried = {}
        try:
            data = tomli_w.dumps(merge(self.carried, table)).encode()
            tomllib.loads(data.decode())  # never write what we could not read back
        except (TypeError, ValueError) as exc:
            raise ConfigError([f"{self.path}: cannot be written as TOML: {exc}"]) from exc
        atomic_write(self.path, data)


def _dropped_values(out: salvage.Salvaged) -> bool:
    """Whether anything was ignored that is not carried through saves (so only a copy keeps it)."""
    return any("kept for the firmware" not in finding.reason for finding in out.findings)
