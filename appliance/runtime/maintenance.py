"""The System page's tools: backup and restore, factory reset, restart and reboot, firmware hand-off.

The phone's process cannot reboot the machine or start over by itself from inside a request: it
asks its :class:`Power`, which the application provides (after the answer has gone out, the
supervisor stops cleanly, then the process starts again, on a device through systemd).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from appliance.config.editable import not_saved_by_the_phone
from appliance.config.load import ConfigError, read_toml_text
from appliance.config.store import DATA_FILE
from appliance.durable import atomic_write
from appliance.ports import Telephony, TelephonyError

from . import backup as sealed
from .call_log import FILE as CALL_LOG_FILE
from .call_log import CallLog
from .config_store import ConfigStore

log = logging.getLogger(__name__)

Table = dict[str, Any]
PINS_FILE = Path("jami") / "pins.json"
RESET_PHRASE = "factory reset"


class Power(Protocol):
    """What the application does when asked to start over."""

    def restart(self, *, wipe: bool = False) -> None:
        """Stop the phone and start it again (``wipe``: with the data directory emptied first)."""
        ...

    def reboot(self) -> None: ...


class MaintenanceError(ValueError):
    """A request the tools refuse: ``field`` and a reason, for a 400 answer."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


class Maintenance:
    """Backup and restore of the data directory, factory reset, restart and reboot.

    A restore writes through the owners of what it restores: the configuration through the
    config store (checked against this board first), the call log through its owner.
    """

    def __init__(self, data_dir: Path, store: ConfigStore, call_log: CallLog, *, telephony: Telephony,
                 power: Power | None, version: str) -> None:  # fmt: skip
        self.data_dir = data_dir
        self.store = store
        self.call_log = call_log
        self.telephony = telephony
        self.power = power
        self.version = version

    def _data_files(self) -> dict[str, Path]:
        """The backup's members that are files of the data directory, and where they live."""
        return {
            "config.toml": self.data_dir / DATA_FILE,
            "pins.json": self.data_dir / PINS_FILE,
            "calls.jsonl": self.data_dir / CALL_LOG_FILE,
        }

    def _power(self) -> Power:
        if self.power is None:
            raise MaintenanceError("power", "this phone cannot restart itself here")
        return self.power

    async def backup(self, password: str, jami_id: str) -> bytes:
        _check_password(password)
        files: dict[str, bytes] = {
            "manifest.json": json.dumps(
                {"format": 1, "version": self.version, "created": time.time(), "jami_id": jami_id}
            ).encode()
        }
        for name, path in self._data_files().items():
            if path.exists():
                files[name] = path.read_bytes()
        if jami_id:
            with tempfile.TemporaryDirectory(dir=self.data_dir) as tmp:
                archive = Path(tmp) / "account.gz"
                try:
                    await self.telephony.export_account(archive, password)
                except TelephonyError as exc:
                    raise MaintenanceError("account", f"not exported: {exc}") from exc
                files["account.gz"] = archive.read_bytes()
        return await asyncio.to_thread(lambda: sealed.seal(sealed.pack(files), password))

    async def restore(self, blob: bytes, password: str) -> Table:
        """Check the backup whole, take its account, write its files, then restart the phone."""
        try:
            files = await asyncio.to_thread(lambda: sealed.unpack(sealed.unseal(blob, password)))
        except sealed.BackupError as exc:
            raise MaintenanceError("backup", str(exc)) from exc
        manifest = _manifest(files["manifest.json"])
        config = self._check_config(files["config.toml"]) if "config.toml" in files else None
        power = self._power()
        if "account.gz" in files:
            with tempfile.TemporaryDirectory(dir=self.data_dir) as tmp:
                archive = Path(tmp) / "account.gz"
                archive.write_bytes(files["account.gz"])
                try:
                    await self.telephony.import_account(archive, password)
                except TelephonyError as exc:
                    raise MaintenanceError("account", f"not imported: {exc}") from exc
        if config is not None:
            await self.store.replace_saved(config)
        if "calls.jsonl" in files:
            self.call_log.restore(files["calls.jsonl"])
        if "pins.json" in files:  # the daemon's adapter reads them at its next start, just below
            atomic_write(self.data_dir / PINS_FILE, files["pins.json"])
        power.restart()
        return {"restored": sorted(files), "jami_id": manifest.get("jami_id", ""), "restarting": True}

    def _check_config(self, data: bytes) -> Table:
        """The backup's configuration must load here, on this board, before anything is written."""
        try:
            table = read_toml_text(data.decode(), "the backup's config.toml")
            _only_what_the_phone_saves(table)
            self.store.check_data(table)
        except ConfigError as exc:
            raise MaintenanceError(
                "backup", "configuration not valid here: " + "; ".join(exc.problems)
            ) from exc
        except UnicodeDecodeError as exc:
            raise MaintenanceError("backup", f"configuration not text: {exc}") from exc
        return table

    def factory_reset(self, confirm: str) -> None:
        if confirm.strip().lower() != RESET_PHRASE:
            raise MaintenanceError("confirm", f"type {RESET_PHRASE!r} to erase everything")
        self._power().restart(wipe=True)

    def restart(self) -> None:
        self._power().restart()

    def reboot(self) -> None:
        self._power().reboot()


def _manifest(data: bytes) -> Table:
    try:
        manifest = json.loads(data)
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != 1:
        raise MaintenanceError("backup", "a backup format this firmware does not know")
    return manifest


def _check_password(password: str) -> None:
    if len(password) < sealed.MIN_PASSWORD:
        raise MaintenanceError("password", f"at least {sealed.MIN_PASSWORD} characters")


class ProcessPower:
    """Restart and reboot for the System page. A restart stops the supervisor once the answer has
    gone out; the process then starts again (:func:`start_over`). A reboot on the image is asked of
    systemd through a file its path unit watches (``reboot_request``); elsewhere it is a restart."""

    def __init__(self, stop: Callable[[], object], reboot_request: Path | None) -> None:
        self._stop = stop
        self._reboot_request = reboot_request
        self.requested = ""  # "", "restart" or "wipe"

    def restart(self, *, wipe: bool = False) -> None:
        log.warning("%s requested", "factory reset" if wipe else "restart")
        self.requested = "wipe" if wipe or self.requested == "wipe" else "restart"
        asyncio.get_running_loop().call_later(0.3, self._stop)  # the answer first

    def reboot(self) -> None:
        if self._reboot_request is None:
            self.restart()
            return
        log.warning("reboot requested")
        atomic_write(self._reboot_request, b"reboot\n", mode=0o644)


def start_over(data_dir: Path, argv: list[str], *, wipe: bool) -> None:
    """After a clean stop: empty the data directory (factory reset), then run again. Under systemd
    the unit's Restart= does that; elsewhere the process replaces itself with a fresh one."""
    if wipe:
        for entry in data_dir.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        log.warning("factory reset: %s emptied", data_dir)
    if os.environ.get("INVOCATION_ID"):  # started by systemd
        return
    os.execv(sys.executable, [sys.executable, "-m", "appliance", *argv])  # noqa: S606 - ourselves again


def _only_what_the_phone_saves(table: Table) -> None:
    """A backup holds what the phone saved, never the board's wiring or the page's address."""
    foreign = not_saved_by_the_phone(table)
    if foreign:
        raise ConfigError([f"{name}: {why}" for name, why in foreign])
