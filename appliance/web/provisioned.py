"""The admin password from a provisioning profile (``web.admin_password_hash``), kept by the page.

The phone holds the configuration; this process holds the password. The page asks the phone for
the configured hash (``setup.admin_password``, an internal operation) at start, every
:data:`POLL_S`, and before each password check, and takes it whenever it differs from the one it
took last (remembered in ``admin.provisioned``): a fleet's new password replaces the old one on
every phone, and, as a change on the page does, ends every session. A password the owner then
chooses on the page wins until the profile's hash changes again, unless the profile locks it: then
the page refuses changes and the profile's hash is the password whatever was chosen before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from appliance.durable import atomic_write
from appliance.runtime.control import ControlAPI
from appliance.runtime.control_socket import ControlUnavailableError

from .auth import AdminPassword

log = logging.getLogger(__name__)

POLL_S = 10.0  # a profile's new password ends the old one's sessions this soon at the latest


class ProvisionedPassword:
    """Takes the profile's hash into ``password`` when it changes; ``on_taken`` ends the sessions."""

    def __init__(self, control: ControlAPI, password: AdminPassword, on_taken: Callable[[], None]) -> None:
        self.control = control
        self.password = password
        self.taken = password.path.with_name("admin.provisioned")  # the hash taken last
        self.on_taken = on_taken
        self.locked = False  # the page refuses password changes while the profile locks it
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        """Ask the phone and take its hash if it is new (or locked and not the one kept)."""
        try:
            answer = await self.control.call("setup.admin_password", {})
        except ControlUnavailableError:
            return  # the phone restarts: the password stays as it was
        async with self._lock:
            self.locked = bool(answer["locked"])
            line = answer["hash"]
            if not line or (line == self._taken() and not (self.locked and line != self.password.line())):
                return
            await asyncio.to_thread(self._take, line)
        log.info("web: admin password taken from the provisioning profile")
        self.on_taken()
        if not (await self.control.call("setup.state", {}))["claimed"]:
            await self.control.call("setup.claimed", {})  # zero-touch: no setup code to show

    def forget(self) -> None:
        """A factory reset: the profile's hash is taken again at the next refresh."""
        with contextlib.suppress(FileNotFoundError):
            self.taken.unlink()

    async def run(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(POLL_S)

    def _taken(self) -> str:
        try:
            return self.taken.read_text().strip()
        except FileNotFoundError:
            return ""

    def _take(self, line: str) -> None:
        self.password.take(line)
        atomic_write(self.taken, f"{line}\n".encode(), mode=0o600)
