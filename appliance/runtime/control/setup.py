"""The phone's side of claiming it: the setup code it shows, checked for the page."""

from __future__ import annotations

from typing import Any

from appliance.runtime.claim import Claim

Table = dict[str, Any]


class SetupController:
    """Internal operations (the control socket only): the page asks whether a code is right and
    says when the password is set or gone; the code itself never leaves the phone."""

    def __init__(self, claim: Claim) -> None:
        self.claim = claim

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
