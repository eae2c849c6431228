"""The web page's server: a JSON API under /api/v1 (described at /api/v1/openapi.json) and the page.

Authentication: the browser holds a session cookie (HttpOnly, SameSite=Strict, expiring) and sends
its CSRF token in ``X-CSRF-Token`` on every state-changing request; API clients use HTTP Basic
with user ``admin`` (:mod:`.login`). Until an admin password exists, only the set-up endpoints
answer. Routes come from the declared operations; bodies in and answers out are :mod:`.bodies`'s,
the checks of where a request comes from :mod:`.origin`'s, the OpenAPI document :mod:`.openapi`'s.
"""

from __future__ import annotations

import asyncio
import io
import logging
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from appliance.config.profile import LOCKED_REASON, PASSWORD_HASH
from appliance.runtime.control import ChangeRejectedError, ControlAPI, NotFoundError, StorageFullError
from appliance.runtime.control.api import OPERATIONS, Operation
from appliance.runtime.control_socket import ControlUnavailableError
from appliance.update import UpdateError

from .auth import (
    AdminPassword,
    PasswordError,
    Session,
    Sessions,
    check_new_password,
    return_large_buffers_to_the_system,
)
from .bodies import answer, json_body, problems_response
from .firmware import FirmwareHandoff, NoUpdaterError
from .https import Certificates
from .login import COOKIE, AdminLogin, Handler, client_address, too_many
from .openapi import openapi_document
from .origin import cross_site, own_host, own_names, security_headers
from .provisioned import ProvisionedPassword
from .push import END, StatusPump
from .ssh import BadKeyError, NotManagedError, SshAccess, SshBusyError

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
WRONG_CODE = "wrong or missing setup code: it is on the phone's display (a new one after 5 wrong tries)"
EVENTS_KEEPALIVE_S = 15.0  # a comment line on a quiet stream: proxies and browsers keep it open
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
BODY = web.RequestKey("body", dict[str, Any])  # the request's JSON object, checked against its schema
SESSION = web.RequestKey("session", Session)


# --- the application ---------------------------------------------------------------------------


class WebApp:
    """The page and its API over the phone's control interface; ``app`` is the aiohttp application
    (:func:`serve` runs it)."""

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
        ssh: SshAccess | None = None,
    ) -> None:
        self.control = control
        self.firmware = firmware or FirmwareHandoff(None)
        self.ssh = ssh or SshAccess(None, None)
        return_large_buffers_to_the_system()
        self.admin = AdminLogin(
            control, data_dir / "web" / "admin.scrypt",
            session_idle_s=session_idle_s, secure_cookie=secure_cookie, clock=clock,
        )  # fmt: skip
        if password_file is not None and self.password.preset_from(password_file):
            log.info("web: admin password preset from %s", password_file)
        self._setting_up = asyncio.Lock()
        self.own_names = own_names(allowed_hosts)
        self.certificates: Certificates | None = None  # HTTPS on: the device's CA and certificate
        self.pump = StatusPump(watch or control)
        self._static_info: dict[str, Any] | None = None
        self._page_handlers: dict[str, Handler] = {
            "system.factory_reset": self.factory_reset,  # the page forgets its password too
        }
        self.operations = list(OPERATIONS)
        self.app = web.Application(
            middlewares=[self._errors, self._auth],
            client_max_size=max(op.max_body for op in self.operations),
        )
        self.app.on_response_prepare.append(security_headers)  # every answer: the router's 404s too
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
            return answer(op, await self.control.call(op.name, args))

        return ask_the_phone

    def renamed(self, hostname: str, allowed_hosts: tuple[str, ...]) -> None:
        """The hostname is ``hostname`` (it changed): the names the page answers to follow it."""
        self.own_names = own_names(allowed_hosts, hostname) | own_names(allowed_hosts)

    @property
    def password(self) -> AdminPassword:
        return self.admin.password

    @property
    def sessions(self) -> Sessions:
        return self.admin.sessions

    @property
    def provisioned(self) -> ProvisionedPassword:
        return self.admin.provisioned

    # --- plumbing --------------------------------------------------------------------------------

    def _wrap(self, op: Operation, inner: Handler) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            if op.desktop_only and not (await self._info())["simulated"]:
                raise NotFoundError("the virtual phone exists on the desktop board only")
            if op.body is not None:
                request[BODY] = await json_body(request, op.body, op.max_body)
            return await inner(request)

        handler.operation = op  # type: ignore[attr-defined]
        return handler

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ChangeRejectedError as exc:
            return problems_response(400, "invalid input", exc.problems)
        except NotFoundError as exc:
            return web.json_response({"error": f"not found: {exc.args[0] if exc.args else ''}"}, status=404)
        except (
            ControlUnavailableError,
            StorageFullError,
            SshBusyError,
        ) as exc:  # a full disk: 503, plain words
            return web.json_response({"error": str(exc)}, status=503, headers={"Retry-After": "2"})
        except NotManagedError as exc:
            return web.json_response({"error": str(exc)}, status=409)
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
        if request.path.startswith("/api/") and not own_host(request, self.own_names):
            # DNS rebinding: a page of evil.example whose name now resolves to this device sends
            # Host: evil.example. Only the device's own names and IP addresses are answered.
            return web.json_response({"error": f"not this device's name: {request.host!r}"}, status=403)
        if request.method not in SAFE_METHODS and cross_site(request):
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
            return await self.admin.basic(request, handler, header)
        session = self.sessions.get(request.cookies.get(COOKIE))
        if session is None:
            # No Basic challenge here: a browser would answer it with its own password dialog and
            # the page's fetch would hang behind it. API clients send Basic credentials up front.
            return web.json_response({"error": "log in first"}, status=401)
        if request.method not in SAFE_METHODS and request.headers.get("X-CSRF-Token") != session.csrf:
            return web.json_response({"error": "missing or wrong X-CSRF-Token"}, status=403)
        request[SESSION] = session
        return await handler(request)

    # --- handlers --------------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def openapi(self, request: web.Request) -> web.Response:
        return web.json_response(
            openapi_document(self.operations, with_sim=(await self._info())["simulated"])
        )

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
            client = client_address(request)
            wait = self.admin.limiter.attempt(client)
            if wait > 0:
                return too_many(wait, "too many wrong setup codes")
            code = request[BODY].get("code", "")
            if not (await self.control.call("setup.check_code", {"code": code}))["ok"]:
                self.admin.failed.warning("web: wrong setup code from %s", client)
                return web.json_response({"error": WRONG_CODE}, status=403)
            self.admin.limiter.succeeded(client)
            try:
                await asyncio.to_thread(self.password.set, password)
            except BaseException:
                await self.control.call("setup.unclaimed", {})  # the code was spent: a fresh one
                raise
            await self.control.call("setup.claimed", {})
        log.info("web: admin password set on first run")
        return self.admin.logged_in(201)

    async def login(self, request: web.Request) -> web.Response:
        if not self.password.is_set():
            return web.json_response({"error": "set the admin password first"}, status=403)
        refused = await self.admin.check_password(request, request[BODY]["password"])
        return refused if refused is not None else self.admin.logged_in()

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
        refused = await self.admin.check_password(request, body["old"])  # a session must not guess freely
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
        self.admin.forget_all()
        return self.admin.logged_in() if SESSION in request else web.json_response({})

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
        self.admin.forget_all()
        response = web.json_response({"restarting": True})
        response.del_cookie(COOKIE, path="/")
        return response

    async def https(self, request: web.Request) -> web.Response:
        if self.certificates is None:
            return web.json_response({"enabled": False})
        return web.json_response({"enabled": True, **self.certificates.info()})

    async def ca_certificate(self, request: web.Request) -> web.Response:
        if self.certificates is None:
            raise NotFoundError("HTTPS is off (web.https): no certificate authority")
        name = self.certificates.names.short or "phone"
        return web.Response(
            body=self.certificates.ca.pem, content_type="application/x-x509-ca-cert",
            headers={"Content-Disposition": f'attachment; filename="{name}-ca.crt"'},
        )  # fmt: skip

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

    async def ssh_status(self, request: web.Request) -> web.Response:
        return web.json_response(self.ssh.status())

    async def ssh_add_key(self, request: web.Request) -> web.Response:
        try:
            done = await self.ssh.add(request[BODY]["key"])
        except BadKeyError as exc:
            raise ChangeRejectedError([("key", str(exc))]) from exc
        if not done["ok"]:  # root refused it (too many keys); said as a bad value
            raise ChangeRejectedError([("key", done["result"])])
        return web.json_response(done, status=201)

    async def ssh_remove_key(self, request: web.Request) -> web.Response:
        try:
            done = await self.ssh.remove(request.match_info["key_id"])
        except BadKeyError as exc:
            raise NotFoundError("no such key") from exc
        if not done["ok"]:
            raise NotFoundError(done["result"])
        return web.json_response(done)

    async def _info(self) -> dict[str, Any]:
        if self._static_info is None:
            self._static_info = await self.control.call("status.info", {})
        return self._static_info


def _allow(exc: web.HTTPException) -> dict[str, str]:
    return {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {}


async def serve(webapp: WebApp, listen: str, ssl_context: Any = None) -> web.AppRunner:  # noqa: ANN401
    return await serve_app(webapp.app, listen, ssl_context)


async def serve_app(app: web.Application, listen: str, ssl_context: Any = None) -> web.AppRunner:  # noqa: ANN401
    """``app`` on ``listen`` (HOST:PORT). ``[::]`` is every address of both families on one
    socket (IPv4 clients as ::ffff:a.b.c.d), as the kernel binds it unless told otherwise;
    without IPv6 in the kernel, every IPv4 address."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site: web.BaseSite
    dual = _dual_stack_socket(int(port)) if host == "::" else None
    if dual is not None:
        site = web.SockSite(runner, dual, ssl_context=ssl_context)
    else:
        site = web.TCPSite(runner, None if host in ("", "::") else host, int(port), ssl_context=ssl_context)
    await site.start()
    log.info("web page on %s://%s", "https" if ssl_context else "http", listen)
    return runner


def _dual_stack_socket(port: int) -> socket.socket | None:
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError:
        return None  # ipv6.disable=1
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(("::", port))
    except BaseException:
        sock.close()
        raise
    return sock
