"""Request bodies checked against the same JSON Schemas the OpenAPI document publishes.

A small subset of JSON Schema (object, string, boolean, number, integer, array, minLength,
maxLength, minimum, maximum, pattern, enum, required, additionalProperties) is enough for this
API, and keeps the document and the checks from drifting apart: both are this one dict.
"""

from __future__ import annotations

import re
from typing import Any

Schema = dict[str, Any]

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
}


def problems(schema: Schema, value: object, where: str = "") -> list[tuple[str, str]]:
    """Where ``value`` breaks ``schema``, as ``(field, reason)`` pairs; empty when it conforms."""
    kind = schema.get("type")
    if kind is not None:
        expected = _TYPES[kind]
        if not isinstance(value, expected) or (kind in ("integer", "number") and isinstance(value, bool)):
            return [(where or "body", f"must be {'an' if kind[0] in 'aeiou' else 'a'} {kind}")]
    if "enum" in schema and value not in schema["enum"]:
        return [(where or "body", f"must be one of {', '.join(map(str, schema['enum']))}")]
    out: list[tuple[str, str]] = []
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            out.append((where or "body", f"at least {schema['minimum']}"))
        if "maximum" in schema and value > schema["maximum"]:
            out.append((where or "body", f"at most {schema['maximum']}"))
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            out.append((where, f"at least {schema['minLength']} characters"))
        if len(value) > schema.get("maxLength", 10**6):
            out.append((where, f"at most {schema['maxLength']} characters"))
        if "pattern" in schema and not re.fullmatch(schema["pattern"], value):
            out.append((where, schema.get("description") or f"must match {schema['pattern']}"))
    if isinstance(value, dict):
        props: dict[str, Schema] = schema.get("properties", {})
        out.extend(
            (_join(where, name), "required") for name in schema.get("required", []) if name not in value
        )
        for name, item in value.items():
            if name in props:
                out += problems(props[name], item, _join(where, name))
            elif schema.get("additionalProperties") is False:
                out.append((_join(where, name), "unknown field"))
            elif isinstance(schema.get("additionalProperties"), dict):
                out += problems(schema["additionalProperties"], item, _join(where, name))
    if isinstance(value, list) and "items" in schema:
        if len(value) > schema.get("maxItems", 10**6):
            out.append((where, f"at most {schema['maxItems']} items"))
        out.extend(
            p for i, item in enumerate(value) for p in problems(schema["items"], item, f"{where}[{i}]")
        )
    return out


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name
