"""The OpenAPI 3 document of the page's API, made from the declared operations
(:data:`appliance.runtime.control.api.OPERATIONS`): nothing is listed twice."""

from __future__ import annotations

from typing import Any

from appliance.runtime.control.api import PROBLEMS, Operation

from .login import COOKIE


def openapi_document(operations: list[Operation], *, with_sim: bool) -> dict[str, Any]:
    """The document for ``operations``; the virtual phone's only ``with_sim`` (the desktop board)."""
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        if (op.desktop_only and not with_sim) or op.internal:
            continue
        responses: dict[str, Any] = {
            str(op.ok): {"description": "done"}
            if op.ok == 204
            else {"description": "done", "content": {op.produces: {"schema": op.result}}},
            "400": {"description": "invalid input", "content": {"application/json": {"schema": PROBLEMS}}},
        }
        if not op.public:
            responses["401"] = {"description": "not logged in"}
            responses["403"] = {"description": "CSRF token missing, or no admin password yet"}
        if "{" in op.path:
            responses["404"] = {"description": "no such item"}
        entry: dict[str, Any] = {
            "summary": op.summary,
            "operationId": op.name.replace(".", "_"),
            "responses": responses,
        }
        if op.body is not None:
            entry["requestBody"] = {"required": True, "content": {"application/json": {"schema": op.body}}}
        elif op.consumes:
            raw = {"schema": {"type": "string", "format": "binary"}}
            entry["requestBody"] = {"required": True, "content": {op.consumes: raw}}
        params = [part[1:-1] for part in op.path.split("/") if part.startswith("{")]
        if params:
            entry["parameters"] = [
                {"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params
            ]
        if op.public:
            entry["security"] = []
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.0.3",
        "info": {"title": "Jami phone", "version": "1"},
        "components": {
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic", "description": "user admin"},
                "session": {"type": "apiKey", "in": "cookie", "name": COOKIE},
            }
        },
        "security": [{"basic": []}, {"session": []}],
        "paths": paths,
    }
