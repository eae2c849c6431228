"""The phone's settings as the page edits them, and the digit-map tester."""

from __future__ import annotations

from typing import Any

from appliance.config import editable
from appliance.phone.dialplan import DigitMap, DigitMapError
from appliance.runtime.config_store import ConfigStore, Origin

from .errors import ChangeRejectedError, as_rejection

Table = dict[str, Any]


class SettingsController:
    """Reads and saves the settings the schema marks for the page, all or nothing, through the
    one config store (so a star code's change and a page save can never undo each other)."""

    def __init__(self, store: ConfigStore) -> None:
        self.store = store

    async def get(self) -> Table:
        return editable.settings_of_page(self.store.config)

    async def save(self, changes: Table) -> Table:
        """Validate and save; answer the new settings and the sections that need a restart."""
        problems = editable.refused(changes)
        if problems:
            raise ChangeRejectedError(problems)
        before = editable.settings_of_page(self.store.config)
        with as_rejection():
            await self.store.save(changes, origin=Origin.PAGE)
        after = editable.settings_of_page(self.store.config)
        return {"settings": after, "restart_required": editable.needing_restart(before, after)}

    async def dial_test(self, digits: str, map: str | None = None) -> Table:  # noqa: A002 - the API's name
        """What a digit map (by default the saved one) makes of some keys."""
        source = self.store.config.dialplan.map if map is None else map
        try:
            result = DigitMap.parse(source).match(digits)
        except DigitMapError as exc:
            raise ChangeRejectedError([("map", str(exc))]) from exc
        return {"result": result.kind.value, "number": result.number, "pattern": result.pattern,
                "dialable": result.dialable}  # fmt: skip
