"""Who may use the web page: the admin password, browser sessions, and a brake on guessing.

No default password exists: until one is set (on the first visit, or from a file given to
``appliance run --admin-password-file``) only the set-up form is reachable. The password is kept
as a scrypt hash (memory-hard: 16 MiB per guess), in a file only the service can read.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from appliance.durable import atomic_write

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
_N, _R, _P = 2**14, 8, 1  # 128 * N * r bytes = 16 MiB


class PasswordError(ValueError):
    pass


def check_new_password(password: object) -> str:
    if not isinstance(password, str):
        raise PasswordError("password: must be a string")
    if len(password) < MIN_PASSWORD:
        raise PasswordError(f"password: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise PasswordError(f"password: at most {MAX_PASSWORD} characters")
    return password


def return_large_buffers_to_the_system() -> None:
    """Each verification allocates scrypt's 16 MiB. glibc raises its mmap threshold after the first
    such free, so the next one stays in the heap for good (measured: +16.5 MB RSS for the rest of
    the process's life). A fixed threshold keeps big buffers in mmap, returned on free."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-3, 1024 * 1024)  # M_MMAP_THRESHOLD: 1 MiB
    except (OSError, AttributeError):
        pass  # not glibc: nothing to tune


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


def hash_line(password: str) -> str:
    """``password`` as the page keeps it: ``scrypt$N$r$p$salt$hash`` (hex), a fresh salt."""
    check_new_password(password)
    salt = secrets.token_bytes(16)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${_scrypt(password, salt, _N, _R, _P).hex()}"


class AdminPassword:
    """The hash in ``path``: ``scrypt$N$r$p$salt$hash`` (hex), mode 0600."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def is_set(self) -> bool:
        return self.path.exists()

    def set(self, password: str) -> None:
        self.take(hash_line(password))

    def take(self, line: str) -> None:
        """Keep a hash made elsewhere (a provisioning profile's, checked by the config schema)."""
        atomic_write(self.path, f"{line}\n".encode(), mode=0o600)

    def line(self) -> str:
        """The hash kept now ("" for none)."""
        try:
            return self.path.read_text().strip()
        except FileNotFoundError:
            return ""

    def clear(self) -> None:
        """Forget the password (factory reset): the next visit is a first run."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def verify(self, password: str) -> bool:
        if not self.path.exists() or not isinstance(password, str) or len(password) > MAX_PASSWORD:
            return False
        try:
            kind, n, r, p, salt, digest = self.path.read_text().strip().split("$")
            expected = bytes.fromhex(digest)
            got = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
        except ValueError:
            return False
        return kind == "scrypt" and hmac.compare_digest(got, expected)

    def preset_from(self, source: Path) -> bool:
        """Take the password from a file (headless installs) when none is set yet."""
        if self.is_set():
            return False
        self.set(source.read_text().strip("\r\n"))
        return True


@dataclass
class Session:
    token: str
    csrf: str
    created: float
    seen: float


@dataclass
class Sessions:
    """Browser sessions in memory: a reboot logs everyone out, which is what a phone should do."""

    idle_s: float = 30 * 60
    absolute_s: float = 12 * 3600
    limit: int = 32
    clock: Callable[[], float] = time.monotonic
    _by_token: dict[str, Session] = field(default_factory=dict)

    def _now(self) -> float:
        return self.clock()

    def create(self) -> Session:
        now = self._now()
        self._expire(now)
        while len(self._by_token) >= self.limit:  # the oldest session makes room
            oldest = min(self._by_token.values(), key=lambda s: s.seen)
            del self._by_token[oldest.token]
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), now, now)
        self._by_token[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        now = self._now()
        self._expire(now)
        session = self._by_token.get(token)
        if session is not None:
            session.seen = now
        return session

    def drop(self, token: str | None) -> None:
        if token:
            self._by_token.pop(token, None)

    def drop_all(self) -> None:
        self._by_token.clear()

    def _expire(self, now: float) -> None:
        for token, s in list(self._by_token.items()):
            if now - s.seen > self.idle_s or now - s.created > self.absolute_s:
                del self._by_token[token]


@dataclass
class LoginLimiter:
    """Password guesses per client: 5 free tries, then a wait that doubles with every failure (max
    15 min), forgotten after an hour without one.

    A try is counted *before* its password is hashed, as a failure until it proves right: forty
    guesses sent at once are not all evaluated, because the sixth already finds the client braked.
    The brake holds one address only; the owner still gets in from any other device at once, or
    from the same one when the wait is over or after the phone restarts (it is kept in memory).
    """

    free: int = 5
    base_s: float = 2.0
    max_s: float = 15 * 60
    forget_s: float = 3600
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, tuple[int, float]] = field(default_factory=dict)

    def _now(self) -> float:
        return self.clock()

    def retry_after(self, client: str) -> float:
        """Seconds this client must wait before its next try (0: may try now)."""
        count, last = self._failures.get(client, (0, 0.0))
        if count < self.free or self._now() - last > self.forget_s:
            return 0.0
        wait = min(self.max_s, self.base_s * 2.0 ** (count - self.free))
        return max(0.0, last + wait - self._now())

    def attempt(self, client: str) -> float:
        """Count a try now: 0 when it may go on (call :meth:`succeeded` if the password was
        right), else the seconds to wait, and the try is not counted."""
        wait = self.retry_after(client)
        if wait == 0:
            self.failed(client)
        return wait

    def failed(self, client: str) -> int:
        """Count a failure; the client's count of failures in a row."""
        now = self._now()
        if len(self._failures) > 10_000:  # a flood of addresses: forget the stale ones
            self._failures = {c: v for c, v in self._failures.items() if now - v[1] < self.forget_s}
        count, last = self._failures.get(client, (0, now))
        if now - last > self.forget_s:
            count = 0
        self._failures[client] = (count + 1, now)
        return count + 1

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)


class Hashing:
    """At most ``slots`` scrypt hashes at once (16 MiB each), one per client, ``queue`` waiting.

    Without it a flood of guesses from many connections ran every hash at once: RSS rose to 140 MB
    and the owner's own login waited 5 s behind them. A client already hashing, or a full queue,
    is told to come back instead of waiting in memory.
    """

    def __init__(self, slots: int = 1, queue: int = 4) -> None:
        self._slots = asyncio.Semaphore(slots)
        self._limit = slots + queue
        self._inside = 0
        self._clients: set[str] = set()

    def busy(self, client: str) -> bool:
        return client in self._clients or self._inside >= self._limit

    async def run(self, client: str, work: Callable[[], bool]) -> bool | None:
        """``work()`` in a thread when a slot is free; None when the client must come back later."""
        if self.busy(client):
            return None
        self._clients.add(client)
        self._inside += 1
        try:
            async with self._slots:
                return await asyncio.to_thread(work)
        finally:
            self._inside -= 1
            self._clients.discard(client)


class QuietLog:
    """At most ``per_minute`` lines a minute about failed logins, then one line counting the rest:
    strangers guessing must not push the owner's own log lines out of the page's 500."""

    def __init__(self, logger: logging.Logger, per_minute: int = 5,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.logger = logger
        self.per_minute = per_minute
        self.clock = clock
        self._minute = -1.0
        self._count = 0

    def warning(self, message: str, *args: object) -> None:
        minute = self.clock() // 60
        if minute != self._minute:
            if self._count > self.per_minute:
                self.logger.warning("web: %d more failed logins not logged", self._count - self.per_minute)
            self._minute, self._count = minute, 0
        self._count += 1
        if self._count <= self.per_minute:
            self.logger.warning(message, *args)
