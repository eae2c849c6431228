"""Saving configuration so that a power cut at any instant leaves the old file or the new one, whole."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import tomli_w

from appliance.durable import atomic_write

from .load import ConfigError, Table, merge, read_toml

DATA_FILE = "config.toml"


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
        self.replace(updated)
        return updated

    def replace(self, table: Table) -> None:
        """Write ``table`` as the whole saved layer (already validated by the caller)."""
        try:
            data = tomli_w.dumps(table).encode()
            tomllib.loads(data.decode())  # never write what we could not read back
        except (TypeError, ValueError) as exc:
            raise ConfigError([f"{self.path}: cannot be written as TOML: {exc}"]) from exc
        atomic_write(self.path, data)
