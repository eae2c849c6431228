"""A provisioning profile: a layer of configuration from the owner's own web server.

A profile is a TOML file in the config file's schema, plus one top-level key of its own::

    locked = ["features.dnd", "dialplan.map", "sip_accounts"]

``locked`` lists dotted keys (a section's key, or a whole section or list) whose profile value
wins over what the owner saved on the page or by a star code, and which the page and the star
codes then refuse to change. Every other value of the profile lies between the system file and
the data directory: the owner's own changes win over it. A common file and a per-device file
combine like any layers (the device's over the common one; ``locked`` is the union).

Pure: parsing and checking only; fetching and keeping are the runtime's (runtime/provisioning.py).
"""

from __future__ import annotations

import re
import tomllib
import typing
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from .load import ConfigError, Table, merge
from .schema import Config

LOCKED = "locked"
# Which board this is and which drivers run it are the image's: a profile shared by a fleet of
# mixed boards must not pick them (a wrong driver leaves a phone without audio or a hook).
NOT_PROVISIONED = ("board", "drivers")
LOCKED_REASON = "locked by the provisioning profile (change it on the server)"
PASSWORD_HASH = "web.admin_password_hash"  # noqa: S105 - the key's name; the page's process keeps it
_MACRO = re.compile(r"\{(mac|board|version)\}")


class LockedError(ConfigError):
    """A change to a key the provisioning profile locks; ``problems`` name each key."""


@dataclass(frozen=True)
class Profile:
    """A profile's configuration table and the dotted keys it locks."""

    table: Table
    locked: tuple[str, ...] = ()

    def locked_table(self) -> Table:
        """The locked keys with the profile's values: the layer laid over the saved one."""
        out: Table = {}
        for key in self.locked:
            found, value = lookup(self.table, key)
            if found:
                out = merge(out, nest(key, value))
        return out


def parse(text: str, where: str) -> Profile:
    """A profile from TOML text, its ``locked`` list checked; errors name ``where`` or the key."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{where}: {exc}"]) from exc
    raw = table.pop(LOCKED, [])
    problems = [f"{name}: a profile may not set this (it is the board's own)" for name in NOT_PROVISIONED
                if name in table]  # fmt: skip
    if not isinstance(raw, list) or not all(isinstance(k, str) for k in raw):
        problems.append(f'{LOCKED}: must be a list of dotted keys, such as ["features.dnd"]')
        raw = []
    for i, key in enumerate(raw):
        if (why := _not_a_key(key)) is not None:
            problems.append(f"{LOCKED}[{i}]: {why}")
    if problems:
        raise ConfigError(problems)
    return Profile(table, tuple(dict.fromkeys(raw)))


def combine(profiles: list[Profile]) -> Profile:
    """Profiles in order (the common one, then the device's): later values win, locks add up.
    A lock must have a value in one of them (a lock on nothing would lock the default unseen)."""
    table: Table = {}
    locked: list[str] = []
    for profile in profiles:
        table = merge(table, profile.table)
        locked += profile.locked
    unset = [key for key in dict.fromkeys(locked) if not lookup(table, key)[0]]
    if unset:
        raise ConfigError([f"{LOCKED}: {key} is locked but no profile sets it" for key in unset])
    return Profile(table, tuple(dict.fromkeys(locked)))


def covered(key: str, locked: tuple[str, ...]) -> bool:
    """Whether a lock covers dotted ``key`` (the key itself, or its section or list)."""
    return any(key == lock or key.startswith(f"{lock}.") for lock in locked)


def locked_changes(changes: Table, locked: tuple[str, ...], current: Table) -> list[str]:
    """The dotted keys of ``changes`` that a lock covers and whose value differs from ``current``
    (the effective configuration as a table): setting a locked key to what it is changes nothing."""
    out = []
    for key, value in _leaves(changes):
        if covered(key, locked) and lookup(current, key) != (True, value):
            out.append(key)
    return out


def refusal(keys: list[str]) -> LockedError:
    return LockedError([f"{key}: {LOCKED_REASON}" for key in keys])


def fill(url: str, *, mac: str, board: str, version: str) -> str:
    """``url`` with ``{mac}``, ``{board}`` and ``{version}`` filled in (validated by the schema)."""
    values = {"mac": mac, "board": board, "version": version}
    return _MACRO.sub(lambda m: values[m.group(1)], url)


def lookup(table: Table, key: str) -> tuple[bool, Any]:
    """``(True, value)`` at dotted ``key`` of ``table``, or ``(False, None)``."""
    node: Any = table
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def nest(key: str, value: Any) -> Table:  # noqa: ANN401 - a TOML value
    """``a.b`` and a value as ``{"a": {"b": value}}``."""
    parts = key.split(".")
    table: Table = {parts[-1]: value}
    for part in reversed(parts[:-1]):
        table = {part: table}
    return table


def _leaves(table: Table, prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in table.items():
        if isinstance(value, dict) and value:
            out += _leaves(value, f"{prefix}{key}.")
        else:
            out.append((f"{prefix}{key}", value))
    return out


def _not_a_key(key: str) -> str | None:
    """Why ``key`` names no section, list or section key of the schema, or None."""
    parts = key.split(".")
    hints = typing.get_type_hints(Config)
    top = {f.name for f in fields(Config)}
    if parts[0] not in top:
        return f"{key}: no such key in the configuration"
    if parts[0] in NOT_PROVISIONED:
        return f"{key}: not the profile's to set"
    section = hints[parts[0]]
    if len(parts) == 1:
        return None
    if len(parts) == 2 and is_dataclass(section) and parts[1] in {f.name for f in fields(section)}:
        return None
    return f"{key}: no such key in the configuration (a section, a list, or section.key)"
