"""The API's door: the admin password checked for a login or for HTTP Basic, and the session
cookie a login gives.

The primitives (the scrypt hash, sessions, the brakes on guessing) are :mod:`.auth`'s; this is how
a request uses them. Basic sends the password with every request, so a password verified in the
last minutes is remembered (as an HMAC under a key of this process only) instead of hashed again.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from appliance.runtime.control import ControlAPI

from .auth import AdminPassword, Hashing, LoginLimiter, QuietLog, Sessions
from .provisioned import ProvisionedPassword

log = logging.getLogger(__name__)

COOKIE = "session"
BASIC_REMEMBER_S = 300
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class AdminLogin:
    """Who may use the API: the admin password in ``password_path`` (or a provisioning profile's,
    asked of the phone through ``control``) and the sessions it opens."""

    def __init__(
        self,
        control: ControlAPI,
        password_path: Path,
        *,
        session_idle_s: float = 30 * 60,
        secure_cookie: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.password = AdminPassword(password_path)
        self.provisioned = ProvisionedPassword(control, self.password, self.forget_all)
        self.clock = clock
        self._basic_key = secrets.token_bytes(32)
        self._basic_ok = (b"", 0.0)  # the HMAC of the last Basic password verified, and until when
        self._basic_checks: dict[bytes, asyncio.Future[web.Response | None]] = {}
        self.sessions = Sessions(idle_s=session_idle_s, clock=clock)
        self.limiter = LoginLimiter(clock=clock)
        self.hashing = Hashing()
        self.failed = QuietLog(log, clock=clock)
        self.secure_cookie = secure_cookie

    async def basic(self, request: web.Request, handler: Handler, header: str) -> web.StreamResponse:
        """``handler``'s answer if ``header`` (Authorization) holds the admin password, else a refusal."""
        scheme, _, encoded = header.partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = password = ""
        # Basic sends the password with every request; scrypt each time would cost ~50 ms a call
        # (more on a Pi). A password verified in the last minutes is remembered as an HMAC under a
        # key that lives only in this process, and forgotten when the password changes.
        if scheme.lower() != "basic" or user != "admin":
            return wrong_basic()
        mark = hmac.new(self._basic_key, password.encode(), "sha256").digest()
        if mark in self._basic_checks:  # an API client's burst: one check answers them all
            verdict = await asyncio.shield(self._basic_checks[mark])
        elif hmac.compare_digest(mark, self._basic_ok[0]) and self.clock() < self._basic_ok[1]:
            verdict = None
        else:
            check = asyncio.ensure_future(self.check_password(request, password))
            self._basic_checks[mark] = check
            try:
                verdict = await asyncio.shield(check)
            finally:
                self._basic_checks.pop(mark, None)
            if verdict is None:
                self._basic_ok = (mark, self.clock() + BASIC_REMEMBER_S)
        if verdict is not None:
            return verdict if verdict.status != 401 else wrong_basic()
        return await handler(request)

    async def check_password(self, request: web.Request, password: object) -> web.Response | None:
        """None when ``password`` is the admin password; else the answer to give: 429 while the
        client is braked or already has a guess being checked, 401 when wrong.

        The try is counted before it is hashed and the hashes are bounded (see auth.Hashing), so
        parallel guesses are braked like sequential ones and cannot starve the owner's login.
        """
        client = client_address(request)
        if self.hashing.busy(client):
            return too_many(1.0, "a password from this address is being checked")
        wait = self.limiter.attempt(client)
        if wait > 0:
            return too_many(wait)
        await self.provisioned.refresh()  # checked against the profile's password if it brings a new one
        right = isinstance(password, str) and await self.hashing.run(
            client, lambda: self.password.verify(password)
        )
        if right is None:
            return too_many(1.0, "a password from this address is being checked")
        if not right:
            self.failed.warning("web: wrong password from %s", client)
            return web.json_response({"error": "wrong password"}, status=401)
        self.limiter.succeeded(client)
        return None

    def logged_in(self, status: int = 200) -> web.Response:
        """A new session: its CSRF token in the body, its cookie set."""
        session = self.sessions.create()
        response = web.json_response({"csrf": session.csrf}, status=status)
        response.set_cookie(
            COOKIE, session.token, httponly=True, samesite="Strict", secure=self.secure_cookie,
            max_age=int(self.sessions.absolute_s), path="/",
        )  # fmt: skip
        return response

    def forget_all(self) -> None:
        """The password changed or went: every session ends, and a remembered Basic password is
        forgotten."""
        self.sessions.drop_all()
        self._basic_ok = (b"", 0.0)


def wrong_basic() -> web.Response:
    return web.json_response(
        {"error": "wrong user or password"}, status=401, headers={"WWW-Authenticate": 'Basic realm="phone"'}
    )


def too_many(wait: float, why: str = "too many wrong passwords") -> web.Response:
    seconds = max(1, round(wait))
    return web.json_response(
        {"error": f"{why}: try again in {seconds} s"},
        status=429,
        headers={"Retry-After": str(seconds)},
    )


def client_address(request: web.Request) -> str:
    return request.remote or "unknown"
