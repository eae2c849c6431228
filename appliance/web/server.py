"""The web page's server: a JSON API under /api/v1 (described at /api/v1/openapi.json) and the page.

Authentication: the browser holds a session cookie (HttpOnly, SameSite=Strict, expiring) and sends
its CSRF token in ``X-CSRF-Token`` on every state-changing request; API clients use HTTP Basic
with user ``admin``. Until an admin password exists, only the set-up endpoints answer.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from appliance.runtime.control import ChangeRejectedError, ControlAPI, NotFoundError
from appliance.runtime.control.api import FILE, OPERATIONS, PROBLEMS, TEXT, Operation
from appliance.runtime.control_socket import ControlUnavailableError
from appliance.update import UpdateError

from .auth import (
    AdminPassword,
    LoginLimiter,
    PasswordError,
    Session,
    Sessions,
    check_new_password,
    return_large_buffers_to_the_system,
)
from .firmware import FirmwareHandoff, NoUpdaterError
from .schema import Schema, problems

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
COOKIE = "session"
BASIC_REMEMBER_S = 300
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
BODY = web.RequestKey("body", dict[str, Any])  # the request's JSON object, checked against its schema
SESSION = web.RequestKey("session", Session)


# --- the application ---------------------------------------------------------------------------


class WebApp:
    def __init__(
        self,
        control: ControlAPI,
        data_dir: Path,
        *,
        password_file: Path | None = None,
        session_idle_s: float = 30 * 60,
        secure_cookie: bool = False,
        clock: Callable[[], float] = time.monotonic,
        firmware: FirmwareHandoff | None = None,
    ) -> None:
        self.control = control
        self.firmware = firmware or FirmwareHandoff(None)
        return_large_buffers_to_the_system()
        self.password = AdminPassword(data_dir / "web" / "admin.scrypt")
        if password_file is not None and self.password.preset_from(password_file):
            log.info("web: admin password preset from %s", password_file)
        self.clock = clock
        self._basic_key = secrets.token_bytes(32)
        self._basic_ok = (b"", 0.0)  # the HMAC of the last Basic password verified, and until when
        self.sessions = Sessions(idle_s=session_idle_s, clock=clock)
        self.limiter = LoginLimiter(clock=clock)
        self.secure_cookie = secure_cookie
        self._static_info: dict[str, Any] | None = None
        self._page_handlers: dict[str, Handler] = {
            "system.factory_reset": self.factory_reset,  # the page forgets its password too
        }
        self.operations = list(OPERATIONS)
        self.app = web.Application(
            middlewares=[self._errors, self._headers, self._auth],
            client_max_size=max(op.max_body for op in self.operations),
        )
        for op in self.operations:
            self.app.router.add_route(op.method, op.path, self._wrap(op, self._handler(op)))
        self.app.router.add_get("/", self.page)
        self.app.router.add_static("/static/", STATIC, append_version=True)

    def _handler(self, op: Operation) -> Handler:
        """The page's own handler for its operations (and for the phone's that need the page's
        state too); every other operation is passed to the phone as it is declared."""
        own = getattr(self, op.function, None) if op.web else self._page_handlers.get(op.name)
        if own is not None:
            return own
        assert not op.web, op.name

        async def ask_the_phone(request: web.Request) -> web.StreamResponse:
            args: dict[str, Any] = dict(request.match_info)
            if op.body is not None:
                body = request[BODY]
                if op.body_as:
                    args[op.body_as] = body
                else:
                    args.update(body)
            return _answer(op, await self.control.call(op.name, args))

        return ask_the_phone

    # --- plumbing --------------------------------------------------------------------------------

    def _wrap(self, op: Operation, inner: Handler) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            if op.desktop_only and not (await self._info())["simulated"]:
                raise NotFoundError("the virtual phone exists on the desktop board only")
            if op.body is not None:
                request[BODY] = await _json_body(request, op.body, op.max_body)
            return await inner(request)

        handler.operation = op  # type: ignore[attr-defined]
        return handler

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ChangeRejectedError as exc:
            return _problems(400, "invalid input", exc.problems)
        except NotFoundError as exc:
            return web.json_response({"error": f"not found: {exc.args[0] if exc.args else ''}"}, status=404)
        except ControlUnavailableError as exc:
            return web.json_response({"error": str(exc)}, status=503, headers={"Retry-After": "2"})
        except web.HTTPException as exc:
            if exc.status >= 400 and request.path.startswith("/api/"):
                return web.json_response({"error": exc.reason}, status=exc.status, headers=_allow(exc))
            raise
        except Exception:
            log.exception("web: %s %s failed", request.method, request.path)
            return web.json_response({"error": "internal error"}, status=500)

    @web.middleware
    async def _headers(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
            "form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        op: Operation | None = getattr(request.match_info.handler, "operation", None)
        if op is None or op.public:
            return await handler(request)
        if not self.password.is_set():
            return web.json_response({"error": "set the admin password first"}, status=403)
        header = request.headers.get("Authorization", "")
        if header:
            return await self._basic(request, handler, header)
        session = self.sessions.get(request.cookies.get(COOKIE))
        if session is None:
            # No Basic challenge here: a browser would answer it with its own password dialog and
            # the page's fetch would hang behind it. API clients send Basic credentials up front.
            return web.json_response({"error": "log in first"}, status=401)
        if (
            request.method not in ("GET", "HEAD", "OPTIONS")
            and request.headers.get("X-CSRF-Token") != session.csrf
        ):
            return web.json_response({"error": "missing or wrong X-CSRF-Token"}, status=403)
        request[SESSION] = session
        return await handler(request)

    async def _basic(self, request: web.Request, handler: Handler, header: str) -> web.StreamResponse:
        client = _client(request)
        wait = self.limiter.retry_after(client)
        if wait > 0:
            return _too_many(wait)
        scheme, _, encoded = header.partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = password = ""
        if scheme.lower() != "basic" or user != "admin" or not await self._verify_basic(password):
            self.limiter.failed(client)
            return web.json_response(
                {"error": "wrong user or password"},
                status=401,
                headers={"WWW-Authenticate": 'Basic realm="phone"'},
            )
        self.limiter.succeeded(client)
        return await handler(request)

    async def _verify(self, password: str) -> bool:
        return await asyncio.to_thread(self.password.verify, password)  # scrypt: off the event loop

    async def _verify_basic(self, password: str) -> bool:
        """Basic sends the password with every request; scrypt each time would cost ~50 ms a call
        (more on a Pi). A password verified in the last minutes is remembered as an HMAC under a
        key that lives only in this process, and forgotten when the password changes."""
        mark = hmac.new(self._basic_key, password.encode(), "sha256").digest()
        now = self.clock()
        if hmac.compare_digest(mark, self._basic_ok[0]) and now < self._basic_ok[1]:
            return True
        if not await self._verify(password):
            return False
        self._basic_ok = (mark, now + BASIC_REMEMBER_S)
        return True

    def _login_response(self, status: int = 200) -> web.Response:
        session = self.sessions.create()
        response = web.json_response({"csrf": session.csrf}, status=status)
        response.set_cookie(
            COOKIE, session.token, httponly=True, samesite="Strict", secure=self.secure_cookie,
            max_age=int(self.sessions.absolute_s), path="/",
        )  # fmt: skip
        return response

    # --- handlers --------------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def openapi(self, request: web.Request) -> web.Response:
        return web.json_response(
            openapi_document(self.operations, with_sim=(await self._info())["simulated"])
        )

    async def setup_state(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"password_set": self.password.is_set(), "board": (await self._info())["board"]}
        )

    async def setup(self, request: web.Request) -> web.Response:
        if self.password.is_set():
            return web.json_response({"error": "the admin password is already set"}, status=409)
        try:
            password = check_new_password(request[BODY]["password"])
        except PasswordError as exc:
            raise ChangeRejectedError([("password", str(exc).partition(": ")[2])]) from exc
        await asyncio.to_thread(self.password.set, password)
        log.info("web: admin password set on first run")
        return self._login_response(201)

    async def login(self, request: web.Request) -> web.Response:
        client = _client(request)
        wait = self.limiter.retry_after(client)
        if wait > 0:
            return _too_many(wait)
        if not self.password.is_set():
            return web.json_response({"error": "set the admin password first"}, status=403)
        if not await self._verify(request[BODY]["password"]):
            self.limiter.failed(client)
            log.warning("web: failed login from %s", client)
            return web.json_response({"error": "wrong password"}, status=401)
        self.limiter.succeeded(client)
        return self._login_response()

    async def logout(self, request: web.Request) -> web.Response:
        self.sessions.drop(request.cookies.get(COOKIE))
        response = web.json_response({})
        response.del_cookie(COOKIE, path="/")
        return response

    async def session(self, request: web.Request) -> web.Response:
        session = request.get(SESSION)
        return web.json_response({"csrf": session.csrf if session else None})

    async def change_password(self, request: web.Request) -> web.Response:
        body = request[BODY]
        if not await self._verify(body["old"]):
            raise ChangeRejectedError([("old", "wrong password")])
        try:
            await asyncio.to_thread(self.password.set, check_new_password(body["new"]))
        except PasswordError as exc:
            raise ChangeRejectedError([("new", str(exc).partition(": ")[2])]) from exc
        self.sessions.drop_all()
        self._basic_ok = (b"", 0.0)
        return self._login_response() if SESSION in request else web.json_response({})

    async def qr(self, request: web.Request) -> web.Response:
        accounts = (await self.control.call("status.status", {}))["accounts"]
        jami = next((a for a in accounts if a["type"] == "jami" and a["uri"]), None)
        if jami is None:
            raise NotFoundError("no Jami account yet")
        import segno  # noqa: PLC0415 - 8 MB of RSS imported; drawn a few times in the phone's life

        svg = segno.make(jami["uri"], error="m").svg_inline(scale=4)
        return web.Response(text=svg, content_type="image/svg+xml")

    async def factory_reset(self, request: web.Request) -> web.Response:
        await self.control.call("system.factory_reset", {"confirm": request[BODY]["confirm"]})
        # This page's own state goes too: the next visit is a first run again.
        self.password.clear()
        self.sessions.drop_all()
        self._basic_ok = (b"", 0.0)
        response = web.json_response({"restarting": True})
        response.del_cookie(COOKIE, path="/")
        return response

    async def firmware_status(self, request: web.Request) -> web.Response:
        return web.json_response(self.firmware.status())

    async def upload_firmware(self, request: web.Request) -> web.Response:
        if request.content_type != "application/octet-stream":
            raise ChangeRejectedError(
                [("body", "must be the bundle file (Content-Type: application/octet-stream)")]
            )
        try:
            answer = await self.firmware.receive(request, (await self._info())["board"])
        except NoUpdaterError as exc:
            return web.json_response({"error": str(exc)}, status=409)
        except UpdateError as exc:
            raise ChangeRejectedError([("bundle", str(exc))]) from exc
        return web.json_response(answer, status=202)

    async def _info(self) -> dict[str, Any]:
        if self._static_info is None:
            self._static_info = await self.control.call("status.info", {})
        return self._static_info


async def _json_body(request: web.Request, schema: Schema, limit: int) -> Any:  # noqa: ANN401 - JSON
    if request.content_type != "application/json":
        raise ChangeRejectedError([("body", "must be JSON (Content-Type: application/json)")])
    raw = await request.content.read(limit + 1)  # each operation's own bound, not the largest one's
    if len(raw) > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(raw))
    try:
        body = json.loads(raw.decode(request.charset or "utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ChangeRejectedError([("body", f"not valid JSON: {exc}")]) from exc
    found = problems(schema, body)
    if found:
        raise ChangeRejectedError(found)
    return body


def _answer(op: Operation, result: Any) -> web.StreamResponse:  # noqa: ANN401 - JSON
    """The phone's answer as the operation declares it: JSON, a download, or text."""
    if op.ok == 204:
        return web.Response(status=204)
    if op.answer == FILE:
        return web.Response(
            body=base64.b64decode(result["data"]), content_type=op.produces,
            headers={"Content-Disposition": f'attachment; filename="{result["filename"]}"'},
        )  # fmt: skip
    if op.answer == TEXT:
        name = op.path.rpartition("/")[2]
        return web.Response(text=result, content_type=op.produces,
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip
    return web.json_response({} if result is None else result, status=op.ok)


def _problems(status: int, error: str, found: list[tuple[str, str]]) -> web.Response:
    return web.json_response(
        {"error": error, "problems": [{"field": f, "reason": r} for f, r in found]}, status=status
    )


def _too_many(wait: float) -> web.Response:
    seconds = max(1, round(wait))
    return web.json_response(
        {"error": f"too many failed logins: try again in {seconds} s"},
        status=429,
        headers={"Retry-After": str(seconds)},
    )


def _allow(exc: web.HTTPException) -> dict[str, str]:
    return {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {}


def _client(request: web.Request) -> str:
    return request.remote or "unknown"


def openapi_document(operations: list[Operation], *, with_sim: bool) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        if op.desktop_only and not with_sim:
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


async def serve(webapp: WebApp, listen: str, ssl_context: Any = None) -> web.AppRunner:  # noqa: ANN401
    host, _, port = listen.rpartition(":")
    runner = web.AppRunner(webapp.app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host.strip("[]") or None, int(port), ssl_context=ssl_context)
    await site.start()
    log.info("web page on %s://%s", "https" if ssl_context else "http", listen)
    return runner
