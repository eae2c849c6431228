"""The System page's tools, answered as the page expects: backup, restore, reset, power."""

from __future__ import annotations

import base64
import time
from typing import Any

from appliance.phone.model import AccountKind
from appliance.runtime.config_store import ConfigStore
from appliance.runtime.maintenance import Maintenance
from appliance.runtime.supervisor import Supervisor

from .errors import ChangeRejectedError, as_rejection

Table = dict[str, Any]


class SystemController:
    """Thin over :class:`~appliance.runtime.maintenance.Maintenance`: files in base64, refusals as
    ``(field, reason)``. Saved files are written whole (atomically), so a copy never sees half a save."""

    def __init__(self, store: ConfigStore, supervisor: Supervisor, maintenance: Maintenance) -> None:
        self.store = store
        self.supervisor = supervisor
        self.maintenance = maintenance

    async def backup(self, password: str) -> Table:
        """The whole phone (configuration, Jami account, pins, call log), sealed with ``password``."""
        phone = self.supervisor.phone
        jami = next((a for a in phone.accounts if a.kind is AccountKind.JAMI and a.uri), None)
        with as_rejection():
            blob = await self.maintenance.backup(password, jami.uri if jami else "")
        stamp = time.strftime("%Y%m%d-%H%M", time.localtime())
        name = f"jami-phone-{self.store.config.board.name}-{stamp}.backup"
        return {"filename": name, "data": base64.b64encode(blob).decode()}

    async def restore(self, data: str, password: str) -> Table:
        try:
            blob = base64.b64decode(data, validate=True)
        except ValueError:
            raise ChangeRejectedError([("data", "not base64")]) from None
        with as_rejection():
            return await self.maintenance.restore(blob, password)

    async def factory_reset(self, confirm: str) -> Table:
        with as_rejection():
            self.maintenance.factory_reset(confirm)
        return {"restarting": True}

    async def restart(self) -> Table:
        with as_rejection():
            self.maintenance.restart()
        return {"restarting": True}

    async def reboot(self) -> Table:
        with as_rejection():
            self.maintenance.reboot()
        return {"rebooting": True}
