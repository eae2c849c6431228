"""The control interface over a Unix socket, so the web page can run as its own process.

On a device the supervisor (GPIO, audio, the daemon) and the web server (the network-facing part)
are separate services: a crash or a compromise of the page does not reach the phone's hardware, and
the supervisor stays small (aiohttp alone costs 16 MB of RSS, measured). One JSON object per line:
``{"id": 1, "op": "status.status", "args": {}}`` (the operations declared in
:mod:`appliance.runtime.control.api`) answered by ``{"id": 1, "ok": ...}`` or
``{"id": 1, "error": {"kind": "rejected", "problems": [[field, reason], ...]}}``.
The socket is created mode 0660 in a directory only the service users can enter.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import itertools
import json
import logging
import os
from pathlib import Path
from typing import Any

from .control import BadCallError, ChangeRejectedError, Controllers, NotFoundError, StorageFullError

log = logging.getLogger(__name__)

LIMIT = 16 * 1024 * 1024  # one request or answer (a backup, base64, is the largest)


class ControlServer:
    def __init__(self, control: Controllers, path: Path) -> None:
        self.control = control
        self.path = path
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        old = os.umask(0o117)  # the socket is born 0660: no window where others may connect
        try:
            self._server = await asyncio.start_unix_server(self._serve, path=str(self.path), limit=LIMIT)
        finally:
            os.umask(old)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                answer = await self._answer(line)
                writer.write(json.dumps(answer).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass  # the client went away, or sent a line over the limit
        finally:
            writer.close()

    async def _answer(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
            ident, op, args = request["id"], request["op"], request.get("args", {})
            if not isinstance(op, str) or not isinstance(args, dict):
                return {"id": ident, "error": {"kind": "bad", "message": "not a request"}}
        except (ValueError, KeyError, TypeError):
            return {"id": None, "error": {"kind": "bad", "message": "not a request"}}
        try:
            return {"id": ident, "ok": await self.control.call(op, args)}
        except ChangeRejectedError as exc:
            return {"id": ident, "error": {"kind": "rejected", "problems": exc.problems}}
        except NotFoundError as exc:
            return {
                "id": ident,
                "error": {"kind": "not_found", "message": str(exc.args[0] if exc.args else "")},
            }
        except BadCallError as exc:
            return {"id": ident, "error": {"kind": "bad", "message": str(exc)}}
        except StorageFullError as exc:  # the page answers it as unavailable, in these words
            return {"id": ident, "error": {"kind": "full", "message": str(exc)}}


class ControlUnavailableError(ConnectionError):
    """The supervisor is not answering (restarting, or not started yet)."""


class ControlClient:
    """The same interface as :class:`Controllers`, answered by the supervisor over its socket."""

    def __init__(self, path: Path, timeout_s: float = 10.0) -> None:
        self.path = path
        self.timeout_s = timeout_s
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()
        self._stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def call(self, op: str, args: dict[str, Any]) -> Any:  # noqa: ANN401 - JSON
        ident = next(self._ids)
        async with self._lock:  # one request at a time on the one connection
            for attempt in (1, 2):  # a supervisor restart drops the connection: reconnect once
                try:
                    reader, writer = await self._connect()
                    writer.write(json.dumps({"id": ident, "op": op, "args": args}).encode() + b"\n")
                    await writer.drain()
                    line = await asyncio.wait_for(reader.readline(), self.timeout_s)
                    if not line:
                        raise ConnectionResetError("closed")
                    break
                except (OSError, TimeoutError) as exc:
                    await self.close()
                    if attempt == 2:
                        raise ControlUnavailableError(f"the phone is not answering ({exc})") from exc
        answer = json.loads(line)
        if "error" in answer:
            error = answer["error"]
            if error["kind"] == "rejected":
                raise ChangeRejectedError([tuple(p) for p in error["problems"]])
            if error["kind"] == "not_found":
                raise NotFoundError(error["message"])
            if error["kind"] == "full":  # the page answers 503 in the phone's words, as in one process
                raise StorageFullError(errno.ENOSPC, error["message"])
            raise ControlUnavailableError(error["message"])
        return answer["ok"]

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._stream is None:
            self._stream = await asyncio.open_unix_connection(str(self.path), limit=LIMIT)
        return self._stream

    async def close(self) -> None:
        if self._stream is not None:
            self._stream[1].close()
            self._stream = None
