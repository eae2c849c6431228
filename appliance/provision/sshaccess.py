"""SSH keys from the System page: the page asks, root applies, both with :mod:`.sshkeys`' check.

The page runs as its own unprivileged user. It leaves one request (``request.json``: add this key
line, or remove the key with this id) in a directory of its own; ``appliance-ssh.path`` starts
``appliance-ssh.service`` (root), which takes the request (opened without following links, a
regular file, bounded, then removed), checks it again with the same code, rewrites the admin's
``authorized_keys`` on the data partition atomically, turns sshd on (a key) or off (none left),
and writes what the page shows (the keys, sshd's host key fingerprints, the request's outcome)
to ``state.json`` in a directory of root's that the page may only read. So whatever the page's
process does, root writes only key lines it re-made from a checked key, or removes one.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.durable import atomic_write

from .sshkeys import MAX_LINE, BadKeyError, PublicKey, fingerprint, parse_key

REQUEST = "request.json"
STATE = "state.json"
MAX_REQUEST = MAX_LINE + 256
MAX_KEYS = 32  # more is not a phone's owner; it also bounds what a request can make root write
MAX_AUTHORIZED = 1024 * 1024
_ID = re.compile(r"[0-9a-f]{32}")
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # SHA-256 in base64url without padding


class RequestError(ValueError):
    """A request root refuses (it is still taken away, so the path unit does not start again)."""


@dataclass(frozen=True)
class Request:
    id: str
    add: PublicKey | None = None
    remove: str | None = None  # a key's id (:attr:`.PublicKey.key_id`)


def make_request(*, add: str | None = None, remove: str | None = None) -> tuple[str, bytes]:
    """The page's side: a request for one change (checked here first), and its id."""
    request_id = secrets.token_hex(16)
    body: dict[str, str] = {"id": request_id}
    if add is not None:
        body["add"] = parse_key(add).line
    elif remove is not None:
        if not _KEY_ID.fullmatch(remove):
            raise BadKeyError("not a key's id")
        body["remove"] = remove
    return request_id, json.dumps(body).encode()


def parse_request(data: bytes) -> Request:
    """Root's side: exactly ``{"id", "add"}`` or ``{"id", "remove"}``, every value checked again."""
    if len(data) > MAX_REQUEST:
        raise RequestError(f"the request is too large ({len(data)} bytes)")
    try:
        body = json.loads(data.decode())
    except (UnicodeDecodeError, ValueError):
        raise RequestError("the request is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("id"), str) or not _ID.fullmatch(body["id"]):
        raise RequestError("the request has no id")
    fields = set(body) - {"id"}
    if fields == {"add"} and isinstance(body["add"], str):
        try:
            return Request(body["id"], add=parse_key(body["add"]))
        except BadKeyError as exc:
            raise RequestError(str(exc)) from None
    if fields == {"remove"} and isinstance(body["remove"], str) and _KEY_ID.fullmatch(body["remove"]):
        return Request(body["id"], remove=body["remove"])
    raise RequestError("the request is neither one key to add nor one key's id to remove")


def write_request(directory: Path, data: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(directory / REQUEST, data, mode=0o600)  # whole when the path unit sees it


def take_request(directory: Path) -> bytes | None:
    """Read the page's request and remove it, whatever it is. None: there is none.

    The directory and the file belong to the page's user: neither is followed if it is a link,
    the file must be a regular one (a FIFO would hang, a device could be anything), and at most
    :data:`MAX_REQUEST` + 1 bytes are read."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RequestError(f"{directory} is not a plain directory ({exc.strerror})") from None
    try:
        try:
            fd = os.open(REQUEST, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            refused = "a link" if exc.errno == errno.ELOOP else exc.strerror
            raise RequestError(f"the request is not a plain file ({refused})") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise RequestError("the request is not a plain file")
            chunks: list[bytes] = []
            size = 0
            while size <= MAX_REQUEST and (chunk := os.read(fd, 65536)):
                chunks.append(chunk)
                size += len(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)
    finally:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
            os.unlink(REQUEST, dir_fd=dir_fd)  # never followed: unlink(2) removes the name
        with contextlib.suppress(OSError):
            os.rmdir(REQUEST, dir_fd=dir_fd)  # an empty directory in its place
        os.close(dir_fd)


# --- authorized_keys ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorizedKeys:
    """The file's lines: the keys the page manages, and what it keeps as it was (comments, lines
    written by hand that it does not read, such as keys with options)."""

    keys: tuple[PublicKey, ...] = ()
    kept: tuple[str, ...] = ()

    @property
    def unread(self) -> int:
        return sum(1 for line in self.kept if line.strip() and not line.lstrip().startswith("#"))

    def text(self) -> str:
        return "".join(f"{line}\n" for line in (*self.kept, *(key.line for key in self.keys)))


def read_authorized(path: Path) -> AuthorizedKeys:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return AuthorizedKeys()
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(errno.EINVAL, f"{path} is not a plain file")
        data = handle.read(MAX_AUTHORIZED + 1)
    if len(data) > MAX_AUTHORIZED:
        raise OSError(errno.EFBIG, f"{path} is larger than {MAX_AUTHORIZED} bytes")
    keys: list[PublicKey] = []
    kept: list[str] = []
    for line in data.decode("utf-8", "replace").splitlines():
        try:
            key = parse_key(line) if line.strip() and not line.lstrip().startswith("#") else None
        except BadKeyError:
            key = None
        if key is None:
            kept.append(line)
        elif all(k.blob != key.blob for k in keys):
            keys.append(key)
    return AuthorizedKeys(tuple(keys), tuple(kept))


def host_keys(directory: Path) -> list[dict[str, Any]]:
    """sshd's host keys' fingerprints (``ssh_host_*_key.pub``), once sshd's first start made them."""
    found = []
    with contextlib.suppress(FileNotFoundError):
        for path in sorted(directory.glob("ssh_host_*_key.pub")):
            try:
                key = parse_key(path.read_text(errors="replace")[:MAX_LINE])
            except (OSError, BadKeyError):
                continue
            found.append({"type": key.kind, "bits": key.bits, "fingerprint": fingerprint(key.blob)})
    return found


# --- root's side -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Paths:
    requests: Path  # the page's directory (it writes request.json)
    state: Path  # root's directory the page reads state.json from
    authorized_keys: Path  # the admin's, on the data partition
    host_keys: Path  # where sshd's host keys are made


Sshd = Callable[[bool], str]  # turn sshd on or off; a problem in words, or ""


def apply_pending(paths: Paths, sshd: Sshd, owner: tuple[int, int] | None = None) -> dict[str, Any]:
    """Take the page's request (if any), apply it, and write the state the page shows."""
    last: dict[str, Any] | None = None
    data: bytes | None = None
    request: Request | None = None
    try:
        data = take_request(paths.requests)
        request = parse_request(data) if data is not None else None
    except RequestError as exc:
        last = {"id": _id_of(data), "ok": False, "message": str(exc)}
    try:
        current = read_authorized(paths.authorized_keys)
    except OSError as exc:  # a link or a huge file in its place (the admin's own directory): left alone
        why = f"{paths.authorized_keys} cannot be read: {exc.strerror or exc}"
        last = {"id": request.id if request else _id_of(data), "ok": False, "message": why}
        return _write_state(paths, {"enabled": True, "keys": [], "unread_lines": 0}, last)
    if request is not None:
        ok, message, changed = _change(current, request)
        if changed != current:
            _write_authorized(paths.authorized_keys, changed, owner)
            problem = sshd(bool(changed.keys or changed.unread))
            if problem:
                ok, message = False, f"{message}; but {problem}"
            current = changed
        last = {"id": request.id, "ok": ok, "message": message}
    keys = {
        "enabled": bool(current.keys or current.unread),
        "keys": [key.describe() for key in current.keys],
        "unread_lines": current.unread,
    }
    return _write_state(paths, keys, last)


def _write_state(paths: Paths, keys: dict[str, Any], last: dict[str, Any] | None) -> dict[str, Any]:
    state = {**keys, "host_keys": host_keys(paths.host_keys), "last": last}
    atomic_write(paths.state / STATE, json.dumps(state).encode(), mode=0o644)
    return state


def _id_of(data: bytes | None) -> str:
    """A refused request's id, if it has a well-formed one (the page waits for its answer)."""
    with contextlib.suppress(Exception):
        found = json.loads((data or b"").decode()).get("id")
        if isinstance(found, str) and _ID.fullmatch(found):
            return found
    return ""


def _change(current: AuthorizedKeys, request: Request) -> tuple[bool, str, AuthorizedKeys]:
    if request.add is not None:
        key = request.add
        if any(k.blob == key.blob for k in current.keys):
            return True, f"{key.fingerprint} is already there", current
        if len(current.keys) >= MAX_KEYS:
            return False, f"at most {MAX_KEYS} keys: remove one first", current
        on = "" if current.keys else "; SSH is on"
        return (
            True,
            f"{key.kind} {key.fingerprint} added{on}",
            AuthorizedKeys((*current.keys, key), current.kept),
        )
    left = tuple(k for k in current.keys if k.key_id != request.remove)
    if len(left) == len(current.keys):
        return False, "no such key", current
    gone = next(k for k in current.keys if k.key_id == request.remove)
    off = "; SSH is off" if not left and not current.unread else ""
    return True, f"{gone.fingerprint} removed{off}", AuthorizedKeys(left, current.kept)


def _write_authorized(path: Path, keys: AuthorizedKeys, owner: tuple[int, int] | None) -> None:
    """The whole file at once, or none at all when no key is left (ssh.service starts only where
    it exists): a power cut leaves the old file or the new one."""
    text = keys.text()
    if not text.strip():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            _sync_dir(path.parent)
        return
    fresh = not path.parent.exists()
    if fresh:
        path.parent.mkdir(parents=True, mode=0o700)
        path.parent.chmod(0o700)  # mkdir's mode passes the umask
    atomic_write(path, text.encode(), mode=0o600)
    if owner is not None:
        if fresh:
            os.chown(path.parent, *owner, follow_symlinks=False)
        os.chown(path, *owner, follow_symlinks=False)


def _sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- the page's side: what root last wrote ------------------------------------------------------


def read_state(directory: Path) -> dict[str, Any]:
    try:
        state = json.loads((directory / STATE).read_bytes()[: 4 * MAX_AUTHORIZED])
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}
