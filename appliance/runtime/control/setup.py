"""The phone's side of claiming it: the setup code it shows, checked for the page, and the admin
password hash a provisioning profile brings, for the page that keeps the password."""

from __future__ import annotations

from typing import Any

from appliance.config import profile as profiles
from appliance.config.profile import PASSWORD_HASH
from appliance.runtime.claim import Claim
from appliance.runtime.config_store import ConfigStore

Table = dict[str, Any]


class SetupController:
    """Internal operations (the control socket only): the page asks whether a code is right and
    says when the password is set or gone; the code itself never leaves the phone."""

    def __init__(self, claim: Claim, store: ConfigStore | None = None) -> None:
        self.claim = claim
        self.store = store

    async def state(self) -> Table:
        return {"claimed": self.claim.claimed, "asks_code": self.claim.asks_code}

    async def check_code(self, code: str) -> Table:
        return {"ok": self.claim.check(code)}

    async def claimed(self) -> Table:
        self.claim.mark_claimed()
        return {"claimed": True}

    async def unclaimed(self) -> Table:
        self.claim.mark_unclaimed()
        return {"claimed": False}

    async def admin_password(self) -> Table:
        """The configured admin password hash ("" for none) and whether the profile locks it: for
        the page's process only (no HTTP route answers it)."""
        if self.store is None:
            return {"hash": "", "locked": False}
        locked = profiles.covered(PASSWORD_HASH, self.store.profile.locked)
        return {"hash": self.store.config.web.admin_password_hash, "locked": locked}
