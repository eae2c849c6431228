"""Fleet provisioning as the page and API clients see it: where it stands, and a sync now."""

from __future__ import annotations

from typing import Any

from appliance.runtime.provisioning import Provisioning

Table = dict[str, Any]


class ProvisioningController:
    """Over the runtime's :class:`~appliance.runtime.provisioning.Provisioning` (None: the phone
    was assembled without it, e.g. the simulator)."""

    def __init__(self, provisioning: Provisioning | None) -> None:
        self.provisioning = provisioning

    async def sync(self) -> Table:
        """Fetch the profile now (applied at once if the phone is idle, else when it is)."""
        if self.provisioning is None:
            return {"state": "off"}
        return await self.provisioning.sync()

    def status(self) -> Table:
        return {"state": "off"} if self.provisioning is None else self.provisioning.status()
