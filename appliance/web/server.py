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
import io
import ipaddress
import json
import logging
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from appliance.config.profile import LOCKED_REASON, PASSWORD_HASH
from appliance.runtime.control import ChangeRejectedError, ControlAPI, NotFoundError, StorageFullError
from appliance.runtime.control.api import FILE, OPERATIONS, PROBLEMS, TEXT, Operation
from appliance.runtime.control_socket import ControlUnavailableError
from appliance.update import UpdateError

from .auth import (
    AdminPassword,
    Hashing,
    LoginLimiter,
    PasswordError,
    QuietLog,
    Session,
    Sessions,
    check_new_password,
    return_large_buffers_to_the_system,
)
from .firmware import FirmwareHandoff, NoUpdaterError
from .provisioned import ProvisionedPassword
from .push import END, StatusPump
from .schema import Schema, problems

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
COOKIE = "session"
BASIC_REMEMBER_S = 300
WRONG_CODE = "wrong or missing setup code: it is on the phone's display (a new one after 5 wrong tries)"
EVENTS_KEEPALIVE_S = 15.0  # a comment line on a quiet stream: proxies and browsers keep it open
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
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
        watch: ControlAPI | None = None,
        allowed_hosts: tuple[str, ...] = (),
    ) -> None:
        self.control = control
        self.firmware = firmware or FirmwareHandoff(None)
        return_large_buffers_to_the_system()
        self.password = AdminPassword(data_dir / "web" / "admin.scrypt")
        if password_file is not None and self.password.preset_from(password_file):
            log.info("web: admin password preset from %s", password_file)
        self.provisioned = ProvisionedPassword(control, self.password, self._end_sessions)
        self.clock = clock
        self._basic_key = secrets.token_bytes(32)
        self._basic_ok = (b"", 0.0)  # the HMAC of the last Basic password verified, and until when
        self._basic_checks: dict[bytes, asyncio.Future[web.Response | None]] = {}
        self.sessions = Sessions(idle_s=session_idle_s, clock=clock)
        self.limiter = LoginLimiter(clock=clock)
        self.hashing = Hashing()
        self._setting_up = asyncio.Lock()
        self.own_names = own_names(allowed_hosts)
        self.pump = StatusPump(watch or control)
        self._failed_logins = QuietLog(log, clock=clock)
        self.secure_cookie = secure_cookie
        self._static_info: dict[str, Any] | None = None
        self._page_handlers: dict[str, Handler] = {
            "system.factory_reset": self.factory_reset,  # the page forgets its password too
        }
        self.operations = list(OPERATIONS)
        self.app = web.Application(
            middlewares=[self._errors, self._auth],
            client_max_size=max(op.max_body for op in self.operations),
        )
        self.app.on_response_prepare.append(_security_headers)  # every answer: the router's 404s too
        self.app.on_shutdown.append(self._close_streams)
        self.app.on_startup.append(self._start_claim_sync)
        self._claim_sync: asyncio.Task[None] | None = None
        self._provisioned: asyncio.Task[None] | None = None
        for op in self.operations:
            if op.internal:
                continue  # between this process and the phone only
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
        except (ControlUnavailableError, StorageFullError) as exc:  # a full disk: 503, plain words
            return web.json_response({"error": str(exc)}, status=503, headers={"Retry-After": "2"})
        except web.HTTPException as exc:
            if exc.status >= 400 and request.path.startswith("/api/"):
                return web.json_response({"error": exc.reason}, status=exc.status, headers=_allow(exc))
            raise
        except Exception:
            log.exception("web: %s %s failed", request.method, request.path)
            return web.json_response({"error": "internal error"}, status=500)

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        op: Operation | None = getattr(request.match_info.handler, "operation", None)
        if request.path.startswith("/api/") and not self._own_host(request):
            # DNS rebinding: a page of evil.example whose name now resolves to this device sends
            # Host: evil.example. Only the device's own names and IP addresses are answered.
            return web.json_response({"error": f"not this device's name: {request.host!r}"}, status=403)
        if request.method not in SAFE_METHODS and _cross_site(request):
            # A page elsewhere may post a form here (no preflight without a JSON body), and a
            # browser adds the Basic credentials it remembers: only this page's own requests count.
            return web.json_response({"error": "cross-site request refused"}, status=403)
        if op is None or op.public:
            return await handler(request)
        if not self.password.is_set():
            await self.provisioned.refresh()  # the profile may bring one
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
        if request.method not in SAFE_METHODS and request.headers.get("X-CSRF-Token") != session.csrf:
            return web.json_response({"error": "missing or wrong X-CSRF-Token"}, status=403)
        request[SESSION] = session
        return await handler(request)

    async def _basic(self, request: web.Request, handler: Handler, header: str) -> web.StreamResponse:
        scheme, _, encoded = header.partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = password = ""
        # Basic sends the password with every request; scrypt each time would cost ~50 ms a call
        # (more on a Pi). A password verified in the last minutes is remembered as an HMAC under a
        # key that lives only in this process, and forgotten when the password changes.
        if scheme.lower() != "basic" or user != "admin":
            return _wrong_basic()
        mark = hmac.new(self._basic_key, password.encode(), "sha256").digest()
        if mark in self._basic_checks:  # an API client's burst: one check answers them all
            verdict = await asyncio.shield(self._basic_checks[mark])
        elif hmac.compare_digest(mark, self._basic_ok[0]) and self.clock() < self._basic_ok[1]:
            verdict = None
        else:
            check = asyncio.ensure_future(self._check_password(request, password))
            self._basic_checks[mark] = check
            try:
                verdict = await asyncio.shield(check)
            finally:
                self._basic_checks.pop(mark, None)
            if verdict is None:
                self._basic_ok = (mark, self.clock() + BASIC_REMEMBER_S)
        if verdict is not None:
            return verdict if verdict.status != 401 else _wrong_basic()
        return await handler(request)

    async def _check_password(self, request: web.Request, password: object) -> web.Response | None:
        """None when ``password`` is the admin password; else the answer to give: 429 while the
        client is braked or already has a guess being checked, 401 when wrong.

        The try is counted before it is hashed and the hashes are bounded (see auth.Hashing), so
        parallel guesses are braked like sequential ones and cannot starve the owner's login.
        """
        client = _client(request)
        if self.hashing.busy(client):
            return _too_many(1.0, "a password from this address is being checked")
        wait = self.limiter.attempt(client)
        if wait > 0:
            return _too_many(wait)
        await self.provisioned.refresh()  # checked against the profile's password if it brings a new one
        right = isinstance(password, str) and await self.hashing.run(
            client, lambda: self.password.verify(password)
        )
        if right is None:
            return _too_many(1.0, "a password from this address is being checked")
        if not right:
            self._failed_logins.warning("web: wrong password from %s", client)
            return web.json_response({"error": "wrong password"}, status=401)
        self.limiter.succeeded(client)
        return None

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

    def _own_host(self, request: web.Request) -> bool:
        """An IP address cannot be rebound: a page whose origin is the address is the device's
        own. A name must be one of the device's (no Host at all: HTTP/1.0 clients, allowed)."""
        name = _host_name(request.headers.get("Host", ""))
        if not name:
            return True
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return name in self.own_names or name.endswith(".localhost")
        return True

    async def _close_streams(self, _app: web.Application) -> None:
        await self.pump.stop()
        for task in (self._claim_sync, self._provisioned):
            if task is not None:
                task.cancel()

    async def _start_claim_sync(self, _app: web.Application) -> None:
        self._claim_sync = asyncio.get_running_loop().create_task(self._tell_the_phone_if_claimed())
        self._provisioned = asyncio.get_running_loop().create_task(self.provisioned.run())

    async def _tell_the_phone_if_claimed(self) -> None:
        """The phone shows the setup code while it counts itself unclaimed; this process holds the
        password. Make the two agree (a preset password, a lost page state), retrying while the
        phone is not answering yet."""
        while True:
            try:
                claimed = (await self.control.call("setup.state", {}))["claimed"]
                if claimed != self.password.is_set():
                    told = "setup.claimed" if self.password.is_set() else "setup.unclaimed"
                    await self.control.call(told, {})
            except ControlUnavailableError:
                await asyncio.sleep(2.0)
            else:
                return

    async def events(self, request: web.Request) -> web.StreamResponse:
        """The status as server-sent events: one message now, then one at each change (the
        display's clock ticks once a second in a call). Ends when the session does."""
        token = request.cookies.get(COOKIE) if SESSION in request else None
        stream = {"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
        response = web.StreamResponse(headers=stream)
        await response.prepare(request)
        updates = self.pump.subscribe()
        try:
            while True:
                try:
                    data = await asyncio.wait_for(updates.get(), EVENTS_KEEPALIVE_S)
                except TimeoutError:
                    data = None
                if data == END or (token is not None and self.sessions.get(token) is None):
                    break  # the server stops; or logged out, expired, or the password changed
                await response.write(b": still here\n\n" if data is None else b"data: " + data + b"\n\n")
        except (ConnectionError, asyncio.CancelledError):
            pass  # the page went away
        finally:
            self.pump.unsubscribe(updates)
        return response

    async def setup_state(self, request: web.Request) -> web.Response:
        await self.provisioned.refresh()  # a provisioned phone has its password before the first visit
        asks_code = (await self.control.call("setup.state", {}))["asks_code"]
        return web.json_response(
            {"password_set": self.password.is_set(), "board": (await self._info())["board"],
             "code_required": not self.password.is_set() and asks_code}
        )  # fmt: skip

    async def setup(self, request: web.Request) -> web.Response:
        try:
            password = check_new_password(request[BODY]["password"])
        except PasswordError as exc:
            raise ChangeRejectedError([("password", str(exc).partition(": ")[2])]) from exc
        await self.provisioned.refresh()
        async with self._setting_up:  # concurrent first runs: exactly one sets the password
            if self.password.is_set():
                return web.json_response({"error": "the admin password is already set"}, status=409)
            client = _client(request)
            wait = self.limiter.attempt(client)
            if wait > 0:
                return _too_many(wait, "too many wrong setup codes")
            code = request[BODY].get("code", "")
            if not (await self.control.call("setup.check_code", {"code": code}))["ok"]:
                self._failed_logins.warning("web: wrong setup code from %s", client)
                return web.json_response({"error": WRONG_CODE}, status=403)
            self.limiter.succeeded(client)
            try:
                await asyncio.to_thread(self.password.set, password)
            except BaseException:
                await self.control.call("setup.unclaimed", {})  # the code was spent: a fresh one
                raise
            await self.control.call("setup.claimed", {})
        log.info("web: admin password set on first run")
        return self._login_response(201)

    async def login(self, request: web.Request) -> web.Response:
        if not self.password.is_set():
            return web.json_response({"error": "set the admin password first"}, status=403)
        refused = await self._check_password(request, request[BODY]["password"])
        return refused if refused is not None else self._login_response()

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
        refused = await self._check_password(request, body["old"])  # a session must not guess freely
        if refused is not None and refused.status == 401:
            raise ChangeRejectedError([("old", "wrong password")])
        if refused is not None:
            return refused
        if self.provisioned.locked:
            raise ChangeRejectedError([(PASSWORD_HASH, LOCKED_REASON)])
        try:
            await asyncio.to_thread(self.password.set, check_new_password(body["new"]))
        except PasswordError as exc:
            raise ChangeRejectedError([("new", str(exc).partition(": ")[2])]) from exc
        self._end_sessions()
        return self._login_response() if SESSION in request else web.json_response({})

    def _end_sessions(self) -> None:
        """The password changed: every session ends, and a remembered Basic password is forgotten."""
        self.sessions.drop_all()
        self._basic_ok = (b"", 0.0)

    async def qr(self, request: web.Request) -> web.Response:
        accounts = (await self.control.call("status.status", {}))["accounts"]
        jami = next((a for a in accounts if a["type"] == "jami" and a["uri"]), None)
        if jami is None:
            raise NotFoundError("no Jami account yet")
        import segno  # noqa: PLC0415 - 8 MB of RSS imported; drawn a few times in the phone's life

        svg = io.BytesIO()  # a document of its own (with xmlns): an <img> shows nothing without it
        segno.make(jami["uri"], error="m").save(svg, kind="svg", scale=4, xmldecl=False)
        return web.Response(body=svg.getvalue(), content_type="image/svg+xml")

    async def factory_reset(self, request: web.Request) -> web.Response:
        await self.control.call("system.factory_reset", {"confirm": request[BODY]["confirm"]})
        # This page's own state goes too: the next visit is a first run again.
        self.password.clear()
        self.provisioned.forget()  # a fleet's phone takes the profile's password again
        self._end_sessions()
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
    raw = await _read_at_most(request, limit)
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


async def _read_at_most(request: web.Request, limit: int) -> bytes:
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


def _answer(op: Operation, result: Any) -> web.StreamResponse:  # noqa: ANN401 - JSON
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


def _problems(status: int, error: str, found: list[tuple[str, str]]) -> web.Response:
    return web.json_response(
        {"error": error, "problems": [{"field": f, "reason": r} for f, r in found]}, status=status
    )


def _wrong_basic() -> web.Response:
    return web.json_response(
        {"error": "wrong user or password"}, status=401, headers={"WWW-Authenticate": 'Basic realm="phone"'}
    )


def _too_many(wait: float, why: str = "too many wrong passwords") -> web.Response:
    seconds = max(1, round(wait))
    return web.json_response(
        {"error": f"{why}: try again in {seconds} s"},
        status=429,
        headers={"Retry-After": str(seconds)},
    )


def _allow(exc: web.HTTPException) -> dict[str, str]:
    return {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {}


def _client(request: web.Request) -> str:
    return request.remote or "unknown"


def own_names(extra: tuple[str, ...] = ()) -> frozenset[str]:
    """The names the page answers to: the hostname, HOSTNAME.local, the FQDN, localhost, and
    ``extra`` (``web.allowed_hosts``). IP addresses are answered too (see ``_own_host``)."""
    host = socket.gethostname().lower()
    short = host.partition(".")[0]
    names = {host, short, f"{short}.local", "localhost", socket.getfqdn().lower(), *extra}
    return frozenset(n for n in names if n)


def _host_name(host: str) -> str:
    """``host`` of a Host header without its port, brackets and trailing dot, lower case."""
    if host.startswith("["):
        return host[1:].partition("]")[0].lower()
    return host.rpartition(":")[0].lower().rstrip(".") if host.count(":") == 1 else host.lower().rstrip(".")


def _cross_site(request: web.Request) -> bool:
    """A browser's request made by a page of another origin (Origin names another host, or the
    browser says so in Sec-Fetch-Site). Clients that are not browsers send neither."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    scheme, _, authority = origin.partition("://")
    return origin == "null" or scheme != request.scheme or authority.lower() != request.host.lower()


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers["Server"] = "phone"  # not which Python and aiohttp, to whoever asks
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")


def openapi_document(operations: list[Operation], *, with_sim: bool) -> dict[str, Any]:
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


async def serve(webapp: WebApp, listen: str, ssl_context: Any = None) -> web.AppRunner:  # noqa: ANN401
    host, _, port = listen.rpartition(":")
    runner = web.AppRunner(webapp.app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host.strip("[]") or None, int(port), ssl_context=ssl_context)
    await site.start()
    log.info("web page on %s://%s", "https" if ssl_context else "http", listen)
    return runner
