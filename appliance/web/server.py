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
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from appliance.runtime.control import ChangeRejectedError, ControlAPI, NotFoundError
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
MAX_BODY = 64 * 1024
RESTORE_MAX = 12 * 1024 * 1024  # base64 of the largest backup (8 MiB)
VCF_MAX = 1024 * 1024
BASIC_REMEMBER_S = 300
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
BODY = web.RequestKey("body", dict[str, Any])  # the request's JSON object, checked against its schema
SESSION = web.RequestKey("session", Session)


# --- schemas (published in the OpenAPI document and checked on every request) ------------------

PASSWORD: Schema = {"type": "string", "minLength": 8, "maxLength": 1024}
BACKUP_PASSWORD: Schema = {**PASSWORD, "description": "encrypts the backup; needed to restore it"}
CONTACT_PROPS: dict[str, Schema] = {
    "name": {"type": "string", "maxLength": 64, "description": "shown on the display"},
    "uri": {
        "type": "string",
        "maxLength": 256,
        "description": "a 40-hex Jami ID, a registered name or a sip: URI",
    },
    "speed_dial": {"type": "string", "maxLength": 2, "description": "one or two keys"},
    "number": {"type": "string", "maxLength": 12, "description": "a directory number dialed in full"},
    "account": {"type": "string", "maxLength": 64, "description": "force this account"},
}
CONTACT_IN: Schema = {
    "type": "object",
    "properties": CONTACT_PROPS,
    "required": ["name", "uri"],
    "additionalProperties": False,
}
CONTACT_PATCH: Schema = {"type": "object", "properties": CONTACT_PROPS, "additionalProperties": False}
IDENTITY: Schema = {
    "type": "object",
    "nullable": True,
    "description": "the contact's certificate as pinned at first contact; changed: it presented another",
    "properties": {
        "fingerprint": {"type": "string"},
        "pinned_at": {"type": "number"},
        "changed": {"type": "boolean"},
        "presented": {"type": "string"},
    },
}
CONTACT_OUT: Schema = {
    "type": "object",
    "properties": {"id": {"type": "string"}, **CONTACT_PROPS, "identity": IDENTITY},
    "required": ["id", "name", "uri", "speed_dial", "number", "account"],
}
SIP_PROPS: Schema = {
    "username": {"type": "string", "maxLength": 64, "description": "user part of the SIP URI"},
    "password": {"type": "string", "maxLength": 256, "description": "digest password (never shown again)"},
    "registrar": {"type": "string", "maxLength": 128, "description": "host[:port]; empty for IP-to-IP"},
    "local_port": {"type": "integer", "minimum": 1024, "maximum": 65535},
}
SIP_IN: Schema = {
    "type": "object",
    "properties": {"id": {"type": "string", "minLength": 1, "maxLength": 32}, **SIP_PROPS},
    "required": ["id", "username"],
    "additionalProperties": False,
}
SIP_PATCH: Schema = {"type": "object", "properties": SIP_PROPS, "additionalProperties": False}
SIP_OUT: Schema = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "username": {"type": "string"},
        "registrar": {"type": "string"},
        "local_port": {"type": "integer"},
        "password_set": {"type": "boolean"},
        "registration": {"type": "string"},
    },
}
SETTINGS_IN: Schema = {
    "type": "object",
    "description": "sections to change, each a table of keys; see GET /settings for what exists",
    "properties": {
        name: {"type": "object"}
        for name in ("phone", "dialplan", "timers", "features", "hook", "ringer", "audio")
    }
    | {"star_codes": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 32}}},
    "additionalProperties": False,
}
PROBLEMS: Schema = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
    "required": ["error"],
}
STATUS: Schema = {
    "type": "object",
    "properties": {
        "phone": {
            "type": "object",
            "properties": {
                "state": {"type": "string"},
                "tone": {"type": "string", "nullable": True},
                "ringer": {"type": "boolean"},
                "display": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["state", "tone", "ringer", "display"],
        },
        "accounts": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "type": {"type": "string"},
                    "uri": {"type": "string"},
                    "registration": {"type": "string"},
                },
                "required": ["id", "type", "uri", "registration"],
            },
        },
    },
    "required": ["phone", "accounts"],
}
DIGITS: Schema = {"type": "string", "pattern": "[0-9*#]{1,32}", "description": "1 to 32 keys of 0-9 * #"}


def _object(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    """A JSON object with exactly these properties (all required unless ``required`` says)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


@dataclass
class Operation:
    method: str
    path: str
    handler: Handler
    summary: str
    body: Schema | None = None
    ok: int = 200
    result: Schema = field(default_factory=lambda: {"type": "object"})
    public: bool = False  # reachable without logging in
    desktop_only: bool = False
    max_body: int = MAX_BODY
    produces: str = "application/json"
    consumes: str = ""  # a raw body of this type (the handler streams it), instead of JSON


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
        self.operations = self._operations()
        self.app = web.Application(
            middlewares=[self._errors, self._headers, self._auth],
            client_max_size=max(op.max_body for op in self.operations),
        )
        for op in self.operations:
            self.app.router.add_route(op.method, op.path, self._wrap(op))
        self.app.router.add_get("/", self.page)
        self.app.router.add_static("/static/", STATIC, append_version=True)

    def _operations(self) -> list[Operation]:
        op = Operation
        contact_id = "/api/v1/contacts/{id}"
        return [
            op("GET", "/api/v1/openapi.json", self.openapi, "This document", public=True),
            op("GET", "/api/v1/setup", self.setup_state, "Whether the admin password is set", public=True),
            op("POST", "/api/v1/setup", self.setup, "Set the admin password on first run (then log in)",
               _object({"password": PASSWORD}), ok=201, public=True),
            op("POST", "/api/v1/login", self.login, "Log in: a session cookie and its CSRF token",
               _object({"password": {"type": "string", "maxLength": 1024}}), public=True),
            op("POST", "/api/v1/logout", self.logout, "End this session", public=True),
            op("GET", "/api/v1/session", self.session, "This session's CSRF token"),
            op("PUT", "/api/v1/password", self.change_password, "New admin password (ends other sessions)",
               _object({"old": {"type": "string", "maxLength": 1024}, "new": PASSWORD})),
            op("GET", "/api/v1/status", self.status, "The phone, its accounts, uptime", result=STATUS),
            op("GET", "/api/v1/network", self.network,
               "Addresses, the router's UPnP gateway and outside address, a NAT hint, DHT connectivity"),
            op("GET", "/api/v1/contacts", self.list_contacts, "The directory",
               result={"type": "array", "items": CONTACT_OUT}),
            op("POST", "/api/v1/contacts", self.add_contact, "Add a contact", CONTACT_IN, ok=201,
                result=CONTACT_OUT),
            op("GET", "/api/v1/contacts.vcf", self.export_contacts, "The directory as a vCard file",
               produces="text/vcard", result={"type": "string"}),
            op("POST", "/api/v1/contacts/import", self.import_contacts,
               "Add the contacts of a vCard file (Jami, SIP and number entries); known ones are skipped",
               _object({"vcf": {"type": "string", "maxLength": VCF_MAX}}), max_body=VCF_MAX + 4096),
            op("GET", contact_id, self.get_contact, "One contact", result=CONTACT_OUT),
            op("PUT", contact_id, self.update_contact, "Change a contact", CONTACT_PATCH, result=CONTACT_OUT),
            op("DELETE", contact_id, self.delete_contact, "Delete a contact", ok=204),
            op("POST", contact_id + "/request", self.send_contact_request,
               "Send the contact a request with this phone's vCard (done on add for Jami IDs)"),
            op("GET", "/api/v1/sip-accounts", self.sip_accounts, "SIP accounts, with their registration",
               result={"type": "array", "items": SIP_OUT}),
            op("POST", "/api/v1/sip-accounts", self.add_sip_account, "Add a SIP account (applied at restart)",
               SIP_IN, ok=201),
            op("PUT", "/api/v1/sip-accounts/{id}", self.update_sip_account,
               "Change a SIP account (an empty password keeps the saved one)", SIP_PATCH),
            op("DELETE", "/api/v1/sip-accounts/{id}", self.delete_sip_account, "Remove a SIP account",
               ok=204),
            op("POST", "/api/v1/account/export", self.export_account,
               "The Jami account's archive (its keys), encrypted with the password given",
               _object({"password": BACKUP_PASSWORD}), produces="application/octet-stream",
               result={"type": "string", "format": "binary"}),
            op("POST", "/api/v1/account/import", self.import_account,
               "Make the account in an archive (base64) this phone's Jami account",
               _object({"password": {"type": "string", "maxLength": 1024},
                        "data": {"type": "string", "maxLength": RESTORE_MAX}}), max_body=RESTORE_MAX + 4096),
            op("POST", "/api/v1/handset/test", self.handset_test,
               "Handset test: the test tone (1004 Hz, 3 s) in the earpiece, and/or the microphone's level",
               _object({"tone": {"type": "boolean"},
                        "listen_s": {"type": "number", "minimum": 0, "maximum": 5}})),
            op("GET", "/api/v1/settings", self.get_settings, "The phone's settings"),
            op("PUT", "/api/v1/settings", self.put_settings, "Change settings (all or nothing)", SETTINGS_IN),
            op("POST", "/api/v1/dialplan/test", self.test_dialplan, "What a digit map makes of some keys",
               _object({"map": {"type": "string", "maxLength": 512}, "digits": DIGITS}, required=["digits"])),
            op("GET", "/api/v1/trust-requests", self.trust_requests, "Pending contact requests",
               result={"type": "array", "items": {"type": "object"}}),
            op("POST", "/api/v1/trust-requests/{uri}/accept", self.accept_request,
               "Accept: the sender becomes a contact"),
            op("POST", "/api/v1/trust-requests/{uri}/discard", self.discard_request, "Discard a request"),
            op("POST", "/api/v1/trust-requests/{uri}/block", self.block_request,
               "Block the sender: no more requests or calls from it"),
            op("GET", "/api/v1/blocked", self.blocked, "Blocked peers",
               result={"type": "array", "items": {"type": "string"}}),
            op("DELETE", "/api/v1/blocked/{uri}", self.unblock, "Unblock a peer", ok=204),
            op("POST", "/api/v1/identities/{uri}/accept", self.accept_identity,
               "Accept the new certificate a contact presented (after checking it with them)"),
            op("GET", "/api/v1/calls", self.call_log, "The call log, newest first",
               result={"type": "array", "items": {"type": "object"}}),
            op("GET", "/api/v1/account/qr.svg", self.qr, "The Jami ID as a QR code (SVG)",
               produces="image/svg+xml", result={"type": "string"}),
            op("GET", "/api/v1/logs", self.get_logs, "Recent log lines",
               result={"type": "array", "items": {"type": "string"}}),
            op("POST", "/api/v1/system/backup", self.backup,
               "A backup of the whole phone (configuration, Jami account, pins, call log), encrypted with "
               "the password given", _object({"password": BACKUP_PASSWORD}),
               produces="application/octet-stream", result={"type": "string", "format": "binary"}),
            op("POST", "/api/v1/system/restore", self.restore,
               "Restore a backup (base64 of the file), then restart",
               _object({"password": BACKUP_PASSWORD, "data": {"type": "string", "maxLength": RESTORE_MAX}}),
               max_body=RESTORE_MAX + 4096),
            op("POST", "/api/v1/system/factory-reset", self.factory_reset,
               "Erase configuration, account and password, then start as new",
               _object({"confirm": {"type": "string", "maxLength": 64,
                                    "description": "the words 'factory reset'"}})),
            op("GET", "/api/v1/system/firmware", self.firmware_status, "Where a firmware update stands"),
            op("POST", "/api/v1/system/firmware", self.upload_firmware,
               "Upload a signed update bundle: checked, then written to the other system slot; the "
               "phone reboots into it and goes back if it does not come up", ok=202,
               consumes="application/octet-stream"),
            op("POST", "/api/v1/system/restart", self.restart, "Restart the phone's software"),
            op("POST", "/api/v1/system/reboot", self.reboot, "Reboot the device"),
            op("POST", "/api/v1/sim/hook", self.sim_hook, "Virtual phone: lift or replace the handset",
               _object({"off_hook": {"type": "boolean"}}), desktop_only=True),
            op("POST", "/api/v1/sim/flash", self.sim_flash, "Virtual phone: hook flash", desktop_only=True),
            op("POST", "/api/v1/sim/keys", self.sim_keys, "Virtual phone: press keys",
               _object({"keys": DIGITS}), desktop_only=True),
        ]  # fmt: skip

    # --- plumbing --------------------------------------------------------------------------------

    def _wrap(self, op: Operation) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            if op.desktop_only and not (await self._info())["simulated"]:
                raise NotFoundError("the virtual phone exists on the desktop board only")
            if op.body is not None:
                request[BODY] = await _json_body(request, op.body, op.max_body)
            return await op.handler(request)

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

    async def status(self, request: web.Request) -> web.Response:
        return web.json_response(await self.control.status())

    async def network(self, request: web.Request) -> web.Response:
        return web.json_response(await self.control.network())

    async def list_contacts(self, request: web.Request) -> web.Response:
        return web.json_response(await self.control.contacts())

    async def add_contact(self, request: web.Request) -> web.Response:
        return web.json_response(await self.control.add_contact(request[BODY]), status=201)

    async def get_contact(self, request: web.Request) -> web.Response:
        return web.json_response(await self.control.contact(request.match_info["id"]))

    async def update_contact(self, request: web.Request) -> web.Response:
        return web.json_response(await self.control.update_contact(request.match_info["id"], request[BODY]))

    async def delete_contact(self, request: web.Request) -> web.Response:
        await self.control.delete_contact(request.match_info["id"])
        return web.Response(status=204)

    async def send_contact_request(self, request: web.Request) -> web.Response:
        await self.control.send_contact_request(request.match_info["id"])
        return web.json_response({})

    async def export_contacts(self, request: web.Request) -> web.Response:
        return web.Response(
            text=await self.control.export_contacts(), content_type="text/vcard",
            headers={"Content-Disposition": 'attachment; filename="contacts.vcf"'},
        )  # fmt: skip

    async def import_contacts(self, request: web.Request) -> web.Response:
        return web.json_response(await self.control.import_contacts(request[BODY]["vcf"]))

    async def sip_accounts(self, request: web.Request) -> web.Response:
        return web.json_response(await self.control.sip_accounts())

    async def add_sip_account(self, request: web.Request) -> web.Response:
        return web.json_response(await self.control.add_sip_account(request[BODY]), status=201)

    async def update_sip_account(self, request: web.Request) -> web.Response:
        answer = await self.control.update_sip_account(request.match_info["id"], request[BODY])
        return web.json_response(answer)

    async def delete_sip_account(self, request: web.Request) -> web.Response:
        await self.control.delete_sip_account(request.match_info["id"])
        return web.Response(status=204)

    async def export_account(self, request: web.Request) -> web.Response:
        made = await self.control.export_account(request[BODY]["password"])
        return web.Response(
            body=base64.b64decode(made["data"]), content_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{made["filename"]}"'},
        )  # fmt: skip

    async def import_account(self, request: web.Request) -> web.Response:
        body = request[BODY]
        return web.json_response(await self.control.import_account(body["data"], body["password"]))

    async def handset_test(self, request: web.Request) -> web.Response:
        body = request[BODY]
        answer = await self.control.handset_test(
            bool(body.get("tone", False)), float(body.get("listen_s", 0))
        )
        return web.json_response(answer)

    async def get_settings(self, request: web.Request) -> web.Response:
        return web.json_response(await self.control.settings())

    async def put_settings(self, request: web.Request) -> web.Response:
        return web.json_response(await self.control.save_settings(request[BODY]))

    async def test_dialplan(self, request: web.Request) -> web.Response:
        body = request[BODY]
        return web.json_response(await self.control.dial_test(body.get("map"), body["digits"]))

    async def trust_requests(self, request: web.Request) -> web.Response:
        return web.json_response(await self.control.trust_requests())

    async def accept_request(self, request: web.Request) -> web.Response:
        await self.control.answer_trust_request(request.match_info["uri"], "accept")
        return web.json_response({})

    async def discard_request(self, request: web.Request) -> web.Response:
        await self.control.answer_trust_request(request.match_info["uri"], "discard")
        return web.json_response({})

    async def block_request(self, request: web.Request) -> web.Response:
        await self.control.answer_trust_request(request.match_info["uri"], "block")
        return web.json_response({})

    async def blocked(self, request: web.Request) -> web.Response:
        return web.json_response(await self.control.blocked())

    async def unblock(self, request: web.Request) -> web.Response:
        await self.control.unblock(request.match_info["uri"])
        return web.Response(status=204)

    async def accept_identity(self, request: web.Request) -> web.Response:
        return web.json_response(await self.control.accept_identity(request.match_info["uri"]))

    async def call_log(self, request: web.Request) -> web.Response:
        return web.json_response(await self.control.call_log())

    async def qr(self, request: web.Request) -> web.Response:
        accounts = (await self.control.status())["accounts"]
        jami = next((a for a in accounts if a["type"] == "jami" and a["uri"]), None)
        if jami is None:
            raise NotFoundError("no Jami account yet")
        import segno  # noqa: PLC0415 - 8 MB of RSS imported; drawn a few times in the phone's life

        svg = segno.make(jami["uri"], error="m").svg_inline(scale=4)
        return web.Response(text=svg, content_type="image/svg+xml")

    async def backup(self, request: web.Request) -> web.Response:
        made = await self.control.backup(request[BODY]["password"])
        return web.Response(
            body=base64.b64decode(made["data"]),
            content_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{made["filename"]}"'},
        )

    async def restore(self, request: web.Request) -> web.Response:
        body = request[BODY]
        return web.json_response(await self.control.restore(body["data"], body["password"]))

    async def factory_reset(self, request: web.Request) -> web.Response:
        await self.control.factory_reset(request[BODY]["confirm"])
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

    async def restart(self, request: web.Request) -> web.Response:
        await self.control.restart()
        return web.json_response({"restarting": True})

    async def reboot(self, request: web.Request) -> web.Response:
        await self.control.reboot()
        return web.json_response({"rebooting": True})

    async def get_logs(self, request: web.Request) -> web.Response:
        return web.json_response(await self.control.logs())

    async def sim_hook(self, request: web.Request) -> web.Response:
        return web.json_response(await self.control.sim_hook(request[BODY]["off_hook"]))

    async def sim_flash(self, request: web.Request) -> web.Response:
        return web.json_response(await self.control.sim_flash())

    async def sim_keys(self, request: web.Request) -> web.Response:
        return web.json_response(await self.control.sim_keys(request[BODY]["keys"]))

    async def _info(self) -> dict[str, Any]:
        if self._static_info is None:
            self._static_info = await self.control.info()
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
            "operationId": op.method.lower() + re.sub(r"[^a-z0-9]+", "_", op.path.removeprefix("/api/v1")),
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
