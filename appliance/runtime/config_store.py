"""The one owner of the running phone's configuration.

It holds the loaded layers (defaults, board, system file, the provisioning profile, the data
directory's ``config.toml``, the profile's locked keys, command line), takes every change under one
lock — star codes, the web page, the console's ``set``, a restored backup and a provisioning
profile — validates the whole layered result before anything is written, writes the data file
atomically, and tells its listeners what changed.
Nobody else writes ``config.toml``; nobody keeps a copy of the configuration that can go stale.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.config import profile as profiles
from appliance.config.load import ConfigError, Layer, Loaded, load_layers, merge, to_table
from appliance.config.profile import Profile
from appliance.config.salvage import Salvaged
from appliance.config.schema import Config
from appliance.config.store import DataConfig
from appliance.durable import StorageFullError
from appliance.notices import Notices, Severity

log = logging.getLogger(__name__)

Table = dict[str, Any]
DATA = "data"  # the name of the layer this store saves
PROFILE = "provisioning"  # the profile from the owner's server: under the saved layer
LOCKED = "provisioning locked"  # the keys it locks: over the saved layer
NOTICE_PROFILE = "provisioning-stored"  # the kept profile could not be used at this start
LIVE = "live"  # changes made for this run only (the console's and the simulator's ``set``)
NOTICE_IGNORED = "config-ignored"  # what of the saved configuration this start could not use
NOTICE_FULL = "storage-full"  # a save found the data partition full
FULL_TEXT = (
    "The data partition is full: changes cannot be saved (the call log, a firmware upload or a "
    "backup may take the room). The phone works; what is changed now is lost at a restart."
)


class Origin:
    """Who made a change; the phone does not need to hear back about its own star codes."""

    PHONE = "phone"
    PAGE = "page"
    CONSOLE = "console"
    RESTORE = "restore"
    PROVISIONING = "provisioning"


@dataclass(frozen=True)
class ConfigChange:
    """The configuration after a change, the top-level sections it touched, and who made it."""

    loaded: Loaded
    sections: frozenset[str]
    origin: str

    @property
    def config(self) -> Config:
        return self.loaded.config


ChangeListener = Callable[[ConfigChange], None]
Check = Callable[[list[Layer]], Loaded]


class ConfigStore:
    """Layers in, one validated configuration out; saves to the data directory (or memory).

    Args:
        layers: the layers in their order of precedence. The one named ``data`` is the data
            directory's file; it is added after the system file if missing.
        data_dir: where ``config.toml`` lives; None keeps saves in memory (the simulator).
        check: builds a configuration from layers or raises ConfigError; the application passes one
            that also checks the driver names against its registry.
        notices: where the owner is told what of the saved file was ignored, and of a full disk.

    With a ``data_dir``, the saved layer is read here, as far as it can be used: an unreadable
    file is kept aside, entries the schema refuses are ignored and named (:mod:`appliance.config.salvage`);
    only the image's own files (board, system) may still refuse a start.
    """

    def __init__(
        self,
        layers: list[Layer],
        data_dir: Path | None,
        *,
        check: Check = load_layers,
        notices: Notices | None = None,
        profile: Profile | None = None,
    ) -> None:
        self._file = DataConfig(data_dir) if data_dir is not None else None
        self._check = check
        self._lock = asyncio.Lock()
        self._listeners: list[ChangeListener] = []
        self.notices = notices if notices is not None else Notices()
        names = [layer.name for layer in layers]
        given: Table = {}
        if DATA in names:
            at = names.index(DATA)
            given = layers[at].table
            layers = [layer for layer in layers if layer.name != DATA]
        else:
            at = next(
                (i for i, n in enumerate(names) if n == "command line" or n.startswith("--set")), len(names)
            )
        self._profile = self._usable_profile(profile or Profile({}), layers, at)
        layers = [*layers[:at], Layer(PROFILE, self._profile.table), *layers[at:]]
        at += 1
        table = self._salvaged(self._file.load(layers, at, check)) if self._file is not None else given
        locked = Layer(LOCKED, self._profile.locked_table())
        self._layers = [*layers[:at], Layer(DATA, table), locked, *layers[at:]]
        self._loaded = check(self._layers)

    @property
    def loaded(self) -> Loaded:
        return self._loaded

    @property
    def config(self) -> Config:
        return self._loaded.config

    @property
    def saved(self) -> Table:
        """The data layer as it is on disk."""
        return dict(self._layer(DATA).table)

    @property
    def profile(self) -> Profile:
        """The provisioning profile in use (empty: none)."""
        return self._profile

    def layers_except_data(self) -> list[Layer]:
        """Every layer but the saved one: what a restored ``config.toml`` is checked against."""
        return [layer for layer in self._layers if layer.name != DATA]

    def on_change(self, listener: ChangeListener) -> None:
        """Call ``listener`` after every change that took effect."""
        self._listeners.append(listener)

    def check_data(self, table: Table) -> Loaded:
        """What the configuration would be with ``table`` as the data layer (ConfigError if invalid)."""
        return self._check(self._with(DATA, table))

    def check_profile(self, profile: Profile) -> Loaded:
        """What the configuration would be with ``profile`` (ConfigError naming each field if invalid)."""
        layers = self._with(PROFILE, profile.table)
        return self._check([Layer(LOCKED, profile.locked_table()) if x.name == LOCKED else x for x in layers])

    async def apply_profile(self, profile: Profile) -> frozenset[str]:
        """Make ``profile`` the provisioning layer, validated whole first; the sections it changed."""
        async with self._lock:
            self.check_profile(profile)
            before = to_table(self.config)
            self._layers = self._with(PROFILE, profile.table)
            self._replace(LOCKED, profile.locked_table())
            self._profile = profile
            after = to_table(self.config)
        sections = frozenset(k for k in after if before.get(k) != after[k])
        if sections:
            self._publish(sections, Origin.PROVISIONING)
        return sections

    async def save(self, changes: Table | Callable[[Config], Table], origin: str = Origin.PAGE) -> Loaded:
        """Merge ``changes`` into the saved layer, validate the whole, write it, tell the listeners.

        ``changes`` may be a function of the current configuration, called under the lock, so a
        read-modify-write (a contact added to the list) cannot lose a concurrent one. A change to a
        key the provisioning profile locks is refused (:class:`~appliance.config.profile.LockedError`).
        """
        async with self._lock:
            table = changes(self.config) if callable(changes) else changes
            locks = self._profile.locked
            if locks and (locked := profiles.locked_changes(table, locks, to_table(self.config))):
                raise profiles.refusal(locked)
            saved = self._layer(DATA).table

            def validate(updated: Table) -> None:
                self.check_data(updated)

            if self._file is not None:
                with self._full_disk():
                    updated = await asyncio.to_thread(self._file.save, table, validate, saved)
            else:
                updated = merge(saved, table)
                validate(updated)
            self._replace(DATA, updated)
        self._publish(frozenset(table), origin)
        return self._loaded

    async def replace_saved(self, table: Table, origin: str = Origin.RESTORE) -> Loaded:
        """Make ``table`` the whole saved layer (a restored backup), validated first."""
        async with self._lock:
            self.check_data(table)
            if self._file is not None:
                with self._full_disk():
                    await asyncio.to_thread(self._file.replace, table)
            before = self._layer(DATA).table
            self._replace(DATA, table)
        self._publish(frozenset(set(before) | set(table)), origin)
        return self._loaded

    async def save_feature(self, name: str, on: bool) -> None:
        """A star code switched a feature: saved like any change, so the page and a restart see it.
        ``name`` is a key of ``features`` or a dotted key elsewhere (``voicemail.enabled``)."""
        section, _, key = name.rpartition(".")
        await self.save({section or "features": {key: on}}, origin=Origin.PHONE)

    async def save_forwarding(self, kind: str, to: str) -> None:
        """A star code set (or cleared, ``to`` empty) where calls are forwarded."""
        await self.save({"forwarding": {kind: to}}, origin=Origin.PHONE)

    async def set_live(self, changes: Table, origin: str = Origin.CONSOLE) -> Loaded:
        """Change values for this run only (over every other layer); nothing is written."""
        async with self._lock:
            names = [layer.name for layer in self._layers]
            current = self._layer(LIVE).table if LIVE in names else {}
            layers = self._with(LIVE, merge(current, changes))
            self._loaded = self._check(layers)
            self._layers = layers
        self._publish(frozenset(changes), origin)
        return self._loaded

    # --- internals ---------------------------------------------------------------------------

    def _usable_profile(self, profile: Profile, layers: list[Layer], at: int) -> Profile:
        """The kept profile, if this firmware and board can use it (a newer firmware's profile, or
        a board it does not suit, is left out and the owner told; the next fetch may bring a good one)."""
        if not profile.table:
            return profile
        try:
            self._check([*layers[:at], Layer(PROFILE, profile.table), Layer(LOCKED, profile.locked_table()),
                         *layers[at:]])  # fmt: skip
        except ConfigError as exc:
            why = "; ".join(exc.problems)
            self.notices.raise_(NOTICE_PROFILE, f"The kept provisioning profile is not used: {why}.",
                                Severity.WARNING)  # fmt: skip
            return Profile({})
        self.notices.clear(NOTICE_PROFILE)
        return profile

    def _salvaged(self, found: Salvaged) -> Table:
        """The usable table; what was ignored is told to the owner, naming the file and each field."""
        if not found.findings:
            self.notices.clear(NOTICE_IGNORED)
            return found.table
        assert self._file is not None
        kept = f" The file as it was is kept as {found.aside.name}." if found.aside else ""
        if len(found.findings) == 1 and not found.findings[0].field and found.aside is not None:
            what = f"{found.findings[0].reason}: not used, the phone runs on its built-in and board settings"
        else:
            what = "ignored " + "; ".join(str(finding) for finding in found.findings)
        text = f"{self._file.path}: {what}.{kept}"
        self.notices.raise_(NOTICE_IGNORED, text, Severity.WARNING)
        return found.table

    @contextlib.contextmanager
    def _full_disk(self) -> Iterator[None]:
        """A save that found the partition full is refused as such, and the owner told until one works."""
        try:
            yield
        except StorageFullError:
            self.notices.raise_(NOTICE_FULL, FULL_TEXT, Severity.ERROR)
            raise
        self.notices.clear(NOTICE_FULL)

    def _layer(self, name: str) -> Layer:
        return next(layer for layer in self._layers if layer.name == name)

    def _with(self, name: str, table: Table) -> list[Layer]:
        if name not in (layer.name for layer in self._layers):
            return [*self._layers, Layer(name, table)]
        return [Layer(name, table) if layer.name == name else layer for layer in self._layers]

    def _replace(self, name: str, table: Table) -> None:
        layers = self._with(name, table)
        self._loaded = self._check(layers)
        self._layers = layers

    def _publish(self, sections: frozenset[str], origin: str) -> None:
        change = ConfigChange(self._loaded, sections, origin)
        for listener in self._listeners:
            try:
                listener(change)
            except Exception:
                log.exception("a configuration listener failed")


__all__ = ["ConfigChange", "ConfigError", "ConfigStore", "Origin"]
