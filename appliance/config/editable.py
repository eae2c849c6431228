"""What the web page may change, read from the schema's ``page`` metadata (no lists kept elsewhere).

A field marked ``page=LIVE`` is applied by the running phone at once; ``page=RESTART`` at the next
start; unmarked fields (drivers, pins, the board's wiring) are not the page's to change.
"""

from __future__ import annotations

import typing
from dataclasses import fields, is_dataclass
from typing import Any

from .load import to_table
from .schema import LIVE, RESTART, Config

Table = dict[str, Any]
Schema = dict[str, Any]


def page_fields() -> dict[str, dict[str, str] | str]:
    """``{section: {key: LIVE|RESTART}}``, or ``{name: LIVE|RESTART}`` for a top-level table field."""
    out: dict[str, dict[str, str] | str] = {}
    hints = typing.get_type_hints(Config)
    for spec in fields(Config):
        section = hints[spec.name]
        if is_dataclass(section):
            marked = {f.name: f.metadata["page"] for f in fields(section) if f.metadata.get("page")}
            if marked:
                out[spec.name] = marked
        elif spec.metadata.get("page"):
            out[spec.name] = spec.metadata["page"]
    return out


def settings_of_page(config: Config) -> Table:
    """The page's settings: every field it may change, secrets masked."""
    table = to_table(config, mask=True)
    out: Table = {}
    for name, keys in page_fields().items():
        out[name] = table[name] if isinstance(keys, str) else {k: table[name][k] for k in keys}
    return out


def refused(changes: Table) -> list[tuple[str, str]]:
    """``(field, reason)`` for each part of ``changes`` the page may not make."""
    allowed = page_fields()
    problems: list[tuple[str, str]] = []
    for section, values in changes.items():
        keys = allowed.get(section)
        if keys is None:
            problems.append((section, "not a setting the web page may change"))
        elif isinstance(keys, dict):
            if not isinstance(values, dict):
                problems.append((section, "must be an object"))
            else:
                problems += [(f"{section}.{k}", "not editable here") for k in values if k not in keys]
    return problems


def needing_restart(before: Table, after: Table) -> list[str]:
    """The sections whose changed values take effect only at the next start."""
    out = set()
    for name, keys in page_fields().items():
        if isinstance(keys, str):
            if keys == RESTART and before[name] != after[name]:
                out.add(name)
            continue
        if any(how == RESTART and before[name][k] != after[name][k] for k, how in keys.items()):
            out.add(name)
    return sorted(out)


def live(name: str) -> bool:
    """Whether every page field of section ``name`` applies at once."""
    keys = page_fields().get(name)
    if isinstance(keys, dict):
        return all(how == LIVE for how in keys.values())
    return keys == LIVE


_JSON = {str: "string", bool: "boolean", int: "integer", float: "number"}
MAX_LIST = 500  # entries of a list setting (a block list) in one save


def body_schema(
    cls: type, *, max_length: int = 256, lengths: dict[str, int] | None = None
) -> dict[str, Schema]:
    """JSON-schema properties for a config table's fields (type and doc from the schema)."""
    hints = typing.get_type_hints(cls)
    props: dict[str, Schema] = {}
    for spec in fields(cls):
        hint = hints[spec.name]
        if hint == list[str]:  # a list of entries (a block list): one schema for each
            items: Schema = {"type": "string", "maxLength": (lengths or {}).get(spec.name, max_length)}
            props[spec.name] = {"type": "array", "items": items, "maxItems": MAX_LIST}
            if spec.metadata.get("doc"):
                props[spec.name]["description"] = spec.metadata["doc"]
            continue
        kind = _JSON.get(hint)
        if kind is None:
            continue
        prop: Schema = {"type": kind}
        if spec.metadata.get("doc"):
            prop["description"] = spec.metadata["doc"]
        if kind == "string":
            prop["maxLength"] = (lengths or {}).get(spec.name, max_length)
        props[spec.name] = prop
    return props


def settings_body_schema() -> Schema:
    """The body of a settings change: the page's sections, each with its own keys' types."""
    hints = typing.get_type_hints(Config)
    props: dict[str, Schema] = {}
    for name, keys in page_fields().items():
        if isinstance(keys, str):  # a table of strings (the star codes)
            props[name] = {"type": "object", "additionalProperties": {"type": "string", "maxLength": 32}}
            continue
        section = body_schema(hints[name], max_length=512)
        props[name] = {"type": "object", "properties": {k: section[k] for k in keys if k in section}}
    return {
        "type": "object",
        "description": "sections to change, each a table of keys; see GET /settings for what exists",
        "properties": props,
        "additionalProperties": False,
    }


# Saved by their own forms (contacts, SIP accounts), not by the settings form.
LISTS = ("contacts", "sip_accounts")


def not_saved_by_the_phone(table: Table) -> list[tuple[str, str]]:
    """``(field, reason)`` for each part of a data layer that neither the page nor a star code
    writes: what a restored backup may not bring (the board's wiring, the page's address)."""
    return refused({k: v for k, v in table.items() if k not in LISTS})
