"""OpenSSH public keys as the owner gives them: one line checked whole, and its fingerprint.

The one check every way in uses (Raspberry Pi Imager's settings, the boot partition, the System
page, and the root service that writes ``authorized_keys``): a line ``TYPE BASE64 [COMMENT]`` of
an allowed type, with no ``authorized_keys`` options before it (``command=``, ``from=``...), and
a body that is the SSH wire encoding of a key of that same type, read field by field to its end.
What comes out is re-made from the parts, so nothing but a checked key line is ever written.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import unicodedata
from dataclasses import dataclass

MAX_LINE = 16 * 1024  # a 16384-bit RSA key is 2.8 kB; Imager and the page never need more
MAX_COMMENT = 256
MIN_RSA_BITS = 2048
_CURVES = {"nistp256": 65, "nistp384": 97, "nistp521": 133}  # uncompressed points: 0x04 || X || Y
TYPES = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)


class BadKeyError(ValueError):
    """Not a key this device accepts; the message says why in plain words (never the whole input)."""


@dataclass(frozen=True)
class PublicKey:
    kind: str
    blob: bytes
    comment: str
    bits: int

    @property
    def line(self) -> str:
        """The key as written to ``authorized_keys``: made from the checked parts."""
        body = base64.b64encode(self.blob).decode()
        return f"{self.kind} {body} {self.comment}".rstrip()

    @property
    def fingerprint(self) -> str:
        """As ``ssh-keygen -l`` prints it: SHA256 of the body, base64 without padding."""
        return fingerprint(self.blob)

    @property
    def key_id(self) -> str:
        """The fingerprint as a URL path segment (base64url, no ``/`` or ``+``)."""
        return base64.urlsafe_b64encode(hashlib.sha256(self.blob).digest()).decode().rstrip("=")

    def describe(self) -> dict[str, object]:
        return {"type": self.kind, "bits": self.bits, "comment": self.comment,
                "fingerprint": self.fingerprint, "id": self.key_id}  # fmt: skip


def fingerprint(blob: bytes) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def parse_key(text: str) -> PublicKey:
    """The key on the one line ``text`` (surrounding blanks, as a paste brings them, are dropped)."""
    if len(text) > MAX_LINE:
        raise BadKeyError(f"too long for a public key ({len(text)} characters, at most {MAX_LINE})")
    line = text.strip()
    if "\n" in line or "\r" in line:
        raise BadKeyError("one key per line: this holds more than one line")
    for char in line:
        if 0xD800 <= ord(char) <= 0xDFFF:
            raise BadKeyError("the key is not valid UTF-8")
        if unicodedata.category(char) in {"Cc", "Cf", "Co", "Cn", "Zl", "Zp"}:  # a tab too: spaces only
            raise BadKeyError(f"the key holds a control character (U+{ord(char):04X})")
    parts = [p for p in line.split(" ") if p]
    kind = parts[0] if parts else ""
    if kind not in TYPES:
        if any(part in TYPES for part in parts[1:]):
            raise BadKeyError(
                "options before the key (command=, from=, restrict...) are not accepted: give the key alone"
            )
        if kind in {"ssh-dss", "ssh-dsa"}:
            raise BadKeyError("DSA keys are not accepted (OpenSSH turned them off): use ssh-ed25519")
        raise BadKeyError(
            f"not an OpenSSH public key (a line like 'ssh-ed25519 AAAA... you@laptop'; "
            f"it starts {line[:24]!r}); types: {', '.join(TYPES)}"
        )
    if len(parts) < 2:
        raise BadKeyError(f"the {kind} key has no body (the base64 after the type)")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise BadKeyError(f"the {kind} key's body is not base64") from None
    comment = " ".join(parts[2:])
    if len(comment) > MAX_COMMENT:
        raise BadKeyError(f"the comment is too long ({len(comment)} characters, at most {MAX_COMMENT})")
    return PublicKey(kind, blob, comment, _check_blob(kind, blob))


def _check_blob(kind: str, blob: bytes) -> int:
    """The key's size in bits, once its body is read as a ``kind`` key to the last byte."""
    wire = _Wire(blob, kind)
    named = wire.string()
    if named != kind.encode():
        shown = named[:40].decode("ascii", "replace")
        raise BadKeyError(f"the body is a {shown!r} key, not the {kind} the line says")
    bits: int
    if kind in {"ssh-ed25519", "sk-ssh-ed25519@openssh.com"}:
        if len(wire.string()) != 32:
            raise BadKeyError(f"the {kind} key's body is not a 32-byte Ed25519 key")
        bits = 256
    elif kind.startswith(("ecdsa-sha2-", "sk-ecdsa-sha2-")):
        curve = kind.removeprefix("sk-").removeprefix("ecdsa-sha2-").split("@")[0]
        if wire.string() != curve.encode():
            raise BadKeyError(f"the {kind} key's body names another curve")
        point = wire.string()
        if len(point) != _CURVES[curve] or point[0] != 4:
            raise BadKeyError(f"the {kind} key's body is not a {curve} point")
        bits = {"nistp256": 256, "nistp384": 384, "nistp521": 521}[curve]
    else:  # ssh-rsa: e, n
        exponent, modulus = wire.mpint(), wire.mpint()
        bits = modulus.bit_length()
        if exponent < 3 or exponent % 2 == 0:
            raise BadKeyError("the RSA key's exponent is not a usable one")
        if bits < MIN_RSA_BITS:
            raise BadKeyError(f"the RSA key has {bits} bits: at least {MIN_RSA_BITS} (or use ssh-ed25519)")
    if kind.startswith("sk-"):
        application = wire.string()
        if not application.startswith(b"ssh:"):
            raise BadKeyError(f"the {kind} key's body names no ssh: application")
    if not wire.done():
        raise BadKeyError(f"the {kind} key's body has bytes after the key")
    return bits


class _Wire:
    """RFC 4251 fields read from a key's body, each bounded by what is left."""

    def __init__(self, data: bytes, kind: str) -> None:
        self.data, self.at, self.kind = data, 0, kind

    def string(self) -> bytes:
        if self.at + 4 > len(self.data):
            raise BadKeyError(f"the {self.kind} key's body ends early")
        size = int.from_bytes(self.data[self.at : self.at + 4], "big")
        start = self.at + 4
        if start + size > len(self.data):
            raise BadKeyError(f"the {self.kind} key's body ends early")
        self.at = start + size
        return self.data[start : self.at]

    def mpint(self) -> int:
        raw = self.string()
        if raw and raw[0] & 0x80:
            raise BadKeyError(f"the {self.kind} key's body holds a negative number")
        return int.from_bytes(raw, "big")

    def done(self) -> bool:
        return self.at == len(self.data)
