"""An operation over HTTP: its JSON body read (bounded) and checked against its schema, and the
phone's answer given as the operation declares it (JSON, a download, text)."""

from __future__ import annotations

import base64
import json
from typing import Any

from aiohttp import web

from appliance.runtime.control import ChangeRejectedError
from appliance.runtime.control.api import FILE, TEXT, Operation

from .schema import Schema, problems


async def json_body(request: web.Request, schema: Schema, limit: int) -> Any:  # noqa: ANN401 - JSON
    if request.content_type != "application/json":
        raise ChangeRejectedError([("body", "must be JSON (Content-Type: application/json)")])
    raw = await read_at_most(request, limit)
    try:
        text = raw.decode(request.charset or "utf-8")
    except LookupError:
        raise ChangeRejectedError([("body", f"unknown charset {request.charset!r}")]) from None
    except UnicodeDecodeError as exc:
        raise ChangeRejectedError(
            [("body", f"not {request.charset or 'utf-8'} text: {exc.reason}")]
        ) from None
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise ChangeRejectedError([("body", f"not valid JSON: {exc}")]) from None
    except RecursionError:
        raise ChangeRejectedError([("body", "JSON nested too deeply")]) from None
    found = problems(schema, body)
    if found:
        raise ChangeRejectedError(found)
    return body


async def read_at_most(request: web.Request, limit: int) -> bytes:
    """The whole body, refused past ``limit`` (each operation's own bound, not the largest one's).
    One read returns only what happens to be buffered: read until the end."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
        chunks.append(chunk)
    return b"".join(chunks)


def answer(op: Operation, result: Any) -> web.StreamResponse:  # noqa: ANN401 - JSON
    """The phone's answer as the operation declares it: JSON, a download, or text."""
    if op.ok == 204:
        return web.Response(status=204)
    if op.answer == FILE:
        return web.Response(
            body=base64.b64decode(result["data"]), content_type=result.get("type", op.produces),
            headers={"Content-Disposition": f'attachment; filename="{result["filename"]}"'},
        )  # fmt: skip
    if op.answer == TEXT:
        name = op.path.rpartition("/")[2]
        return web.Response(text=result, content_type=op.produces,
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip
    return web.json_response({} if result is None else result, status=op.ok)


def problems_response(status: int, error: str, found: list[tuple[str, str]]) -> web.Response:
    return web.json_response(
        {"error": error, "problems": [{"field": f, "reason": r} for f, r in found]}, status=status
    )
