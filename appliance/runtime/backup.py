"""Encrypted backups of the whole phone: its saved configuration, Jami account, pins and call log.

A backup is a tar archive sealed with a key derived from the person's password (scrypt, 16 MiB,
as the admin password) and AES-256-GCM: the archive cannot be read or altered without it. A
restore reads it whole and checks every member before anything is written.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import zlib

MAGIC = b"JAMIPHONE-BACKUP-1\n"
_SALT, _NONCE = 16, 12
MAX_BACKUP = 8 * 1024 * 1024
MIN_PASSWORD = 8

# What a backup may hold: member name -> largest size accepted.
MEMBERS = {
    "manifest.json": 4096,
    "config.toml": 512 * 1024,
    "account.gz": 4 * 1024 * 1024,  # the Jami account archive (itself encrypted by the daemon)
    "pins.json": 512 * 1024,
    "calls.jsonl": 1024 * 1024,
}


class BackupError(ValueError):
    """Not a backup of ours, a wrong password, or a damaged file."""


def _key(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, maxmem=64 * 1024 * 1024, dklen=32)


def seal(payload: bytes, password: str) -> bytes:
    # cryptography costs ~7 MB of RSS: loaded when a backup is made, not by every phone at start.
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415

    salt, nonce = os.urandom(_SALT), os.urandom(_NONCE)
    return MAGIC + salt + nonce + AESGCM(_key(password, salt)).encrypt(nonce, payload, MAGIC)


def unseal(blob: bytes, password: str) -> bytes:
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + _SALT + _NONCE + 16:
        raise BackupError("not a backup of this phone's kind")
    if len(blob) > MAX_BACKUP:
        raise BackupError("too large for a backup")
    from cryptography.exceptions import InvalidTag  # noqa: PLC0415
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415

    head = len(MAGIC)
    salt, nonce = blob[head : head + _SALT], blob[head + _SALT : head + _SALT + _NONCE]
    try:
        return AESGCM(_key(password, salt)).decrypt(nonce, blob[head + _SALT + _NONCE :], MAGIC)
    except InvalidTag:
        raise BackupError("wrong password, or the file is damaged") from None


def pack(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o600
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


# The whole archive, unzipped: every member at its largest, and room for the tar headers. A bound
# on the members alone let a 60 MB PAX header through (tarfile reads a header whole: RSS +230 MB).
MAX_ARCHIVE = sum(MEMBERS.values()) + 64 * 1024


def unpack(data: bytes) -> dict[str, bytes]:
    """The members, each a regular file with a known name and a bounded size (no paths, no links)."""
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(_gunzip(data, MAX_ARCHIVE)), mode="r:") as tar:
            for info in tar:
                limit = MEMBERS.get(info.name)
                if limit is None or not info.isfile() or info.size > limit or info.name in files:
                    raise BackupError(f"unexpected member {info.name!r} in the backup")
                member = tar.extractfile(info)
                assert member is not None
                files[info.name] = member.read(limit + 1)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise BackupError(f"the backup's archive is damaged ({exc})") from None
    if "manifest.json" not in files:
        raise BackupError("the backup has no manifest")
    return files


def _gunzip(data: bytes, limit: int) -> bytes:
    """``data`` unzipped, refused when it would be longer than ``limit`` (never unzipped past it)."""
    unzip = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    out = unzip.decompress(data, limit + 1)
    if len(out) > limit or unzip.unconsumed_tail:
        raise BackupError(f"the backup's archive is larger than {limit // (1024 * 1024)} MiB unpacked")
    if not unzip.eof:
        raise BackupError("the backup's archive is cut short")
    return out
