"""Lists of saved entries with ids (contacts, SIP accounts): one entry changed or removed, by id."""

from __future__ import annotations

from typing import Any

from .errors import NotFoundError

Table = dict[str, Any]


def changed(entries: list[Table], entry_id: str, changes: Table) -> tuple[list[Table], Table]:
    """The list with ``changes`` merged into the entry ``entry_id``, and that entry as it now is."""
    for i, entry in enumerate(entries):
        if entry["id"] == entry_id:
            updated = {**entry, **changes}
            return [*entries[:i], updated, *entries[i + 1 :]], updated
    raise NotFoundError(entry_id)


def without(entries: list[Table], entry_id: str) -> list[Table]:
    """The list less the entry ``entry_id``."""
    kept = [entry for entry in entries if entry["id"] != entry_id]
    if len(kept) == len(entries):
        raise NotFoundError(entry_id)
    return kept
