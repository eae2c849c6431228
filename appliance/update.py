"""Signed A/B updates of the root file system, with a fallback if the new one does not come up.

The card has two root slots (partitions 2 and 3). An update bundle is a root image signed with
Ed25519 by the release key; the device checks it against the public keys the image carries,
writes it to the slot it is not running from, reads it back, and marks that slot "on trial" in
``appliance-ab.txt`` on the boot partition. The initramfs (image/rootfs/.../appliance-ab) boots a
trial slot once; if the phone does not come up and commit the trial within its time, the next
boot falls back to the slot that worked. Nothing here trusts the bundle before its signature and
checksum have been checked, and the running slot is never written.

Bundle layout: ``MAGIC``, a 4-byte big-endian header length, the header (JSON: board, version,
payload size and SHA-256), a 64-byte Ed25519 signature over magic + header, then the payload.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import struct
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from appliance.durable import atomic_write

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

# cryptography (~7 MB of RSS) is imported by the functions that sign or verify, so the web page
# can use this module's names and checks without carrying it from its start.

MAGIC = b"JAMIPHONE-UPDATE-1\n"
SIGNATURE = 64
MAX_HEADER = 4096
CHUNK = 1024 * 1024
SLOTS = (2, 3)  # partition numbers of root A and root B
STATE_FILE = "appliance-ab.txt"
TRIAL_MARK = Path("/run/appliance-trial")  # left by the initramfs on a trial boot, until kept
KEYS_DIR = Path("/usr/share/appliance/update-keys")
MOUNT = "/bin/mount"


class UpdateError(ValueError):
    """A bundle refused, or a slot that cannot be written; the message says why in plain words."""


@dataclass(frozen=True)
class Header:
    board: str
    version: str
    payload_size: int
    payload_sha256: str
    created: float

    def to_bytes(self) -> bytes:
        return json.dumps(self.__dict__, sort_keys=True).encode()


# --- the hand-over to the updater (appliance-update.path watches for READY) ---------------------

HANDOFF_BUNDLE, HANDOFF_READY, HANDOFF_STATUS = "upload.bundle", "ready", "status.json"


def hand_over(directory: Path, checked: Path, header: Header) -> None:
    """Give a bundle already checked by :func:`verify` (``checked``, in ``directory``) to the
    updater: renamed into place, the status written, then ``ready``, which starts the update."""
    checked.replace(directory / HANDOFF_BUNDLE)
    status = {
        "state": "applying",
        "message": f"{header.version} checked, being written",
        "version": header.version,
    }
    atomic_write(directory / HANDOFF_STATUS, json.dumps(status).encode(), mode=0o640)
    atomic_write(directory / HANDOFF_READY, b"", mode=0o640)


# --- making and checking bundles --------------------------------------------------------------


def generate_key(private: Path, public: Path) -> None:
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: PLC0415

    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())  # fmt: skip
    atomic_write(private, raw, mode=0o600)
    atomic_write(public, _public_pem(key.public_key()), mode=0o644)


def _public_pem(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def make_bundle(payload: Path, out: Path, *, key: Path, board: str, version: str) -> Header:
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: PLC0415

    private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise UpdateError(f"{key}: not an Ed25519 private key")
    digest = hashlib.sha256()
    with payload.open("rb") as src:
        for chunk in iter(lambda: src.read(CHUNK), b""):
            digest.update(chunk)
    header = Header(board, version, payload.stat().st_size, digest.hexdigest(), time.time())
    head = header.to_bytes()
    with out.open("wb") as dst, payload.open("rb") as src:
        dst.write(MAGIC + struct.pack(">I", len(head)) + head)
        dst.write(private.sign(MAGIC + head))
        for chunk in iter(lambda: src.read(CHUNK), b""):
            dst.write(chunk)
    return header


def trusted_keys(directory: Path = KEYS_DIR) -> list[Ed25519PublicKey]:
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey  # noqa: PLC0415

    keys = []
    for path in sorted(directory.glob("*.pem")) if directory.is_dir() else []:
        key = serialization.load_pem_public_key(path.read_bytes())
        if isinstance(key, Ed25519PublicKey):
            keys.append(key)
    return keys


def read_header(bundle: BinaryIO, keys: list[Ed25519PublicKey]) -> Header:
    """The bundle's header, once its signature is checked; ``bundle`` is left at the payload."""
    if not keys:
        raise UpdateError("this device has no update key: it accepts no bundle")
    if bundle.read(len(MAGIC)) != MAGIC:
        raise UpdateError("not an update bundle")
    (size,) = struct.unpack(">I", bundle.read(4).rjust(4, b"\0"))
    if size > MAX_HEADER:
        raise UpdateError("not an update bundle (header too large)")
    head, signature = bundle.read(size), bundle.read(SIGNATURE)
    from cryptography.exceptions import InvalidSignature  # noqa: PLC0415

    for key in keys:
        try:
            key.verify(signature, MAGIC + head)
            break
        except InvalidSignature:
            continue
    else:
        raise UpdateError("the bundle's signature is not from a trusted key")
    try:
        return Header(**json.loads(head))
    except (ValueError, TypeError) as exc:
        raise UpdateError(f"the bundle's header is damaged ({exc})") from exc


def _payload(bundle: BinaryIO, header: Header) -> Iterator[bytes]:
    """The payload in chunks; raises at the end if its length or SHA-256 is not the signed one (a
    slot written from it is only put on trial after that)."""
    digest, left = hashlib.sha256(), header.payload_size
    while left:
        chunk = bundle.read(min(CHUNK, left))
        if not chunk:
            raise UpdateError("the bundle is cut short")
        digest.update(chunk)
        left -= len(chunk)
        yield chunk
    if bundle.read(1):
        raise UpdateError("the bundle is longer than its header says")
    if digest.hexdigest() != header.payload_sha256:
        raise UpdateError("the bundle's content does not match its signed checksum (damaged or altered)")


def verify(bundle: Path, keys: list[Ed25519PublicKey], board: str) -> Header:
    """Check a whole bundle without writing anything."""
    with bundle.open("rb") as src:
        header = read_header(src, keys)
        _check_board(header, board)
        for _ in _payload(src, header):
            pass
    return header


def _check_board(header: Header, board: str) -> None:
    if header.board != board:
        raise UpdateError(f"the bundle is for board {header.board!r}, this phone is {board!r}")


# --- the slots ----------------------------------------------------------------------------------


@dataclass
class SlotState:
    """``appliance-ab.txt``: the slot that works, the one on trial and the boots it was given."""

    active: int = SLOTS[0]
    trying: int | None = None
    tries: int = 0
    failed: int | None = None

    @classmethod
    def read(cls, path: Path) -> SlotState:
        values: dict[str, str] = {}
        if path.exists():
            for line in path.read_text().splitlines():
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip()

        def slot(name: str) -> int | None:
            text = values.get(name, "")
            return int(text) if text.isdigit() and int(text) in SLOTS else None

        return cls(
            slot("ACTIVE") or SLOTS[0], slot("TRY"), int(values.get("TRIES", "0") or 0), slot("FAILED")
        )

    def write(self, path: Path) -> None:
        text = (f"ACTIVE={self.active}\nTRY={self.trying or ''}\nTRIES={self.tries}\n"
                f"FAILED={self.failed or ''}\n")  # fmt: skip
        atomic_write(path, text.encode(), mode=0o644)


@dataclass
class Device:
    """Where the slots and the boot partition are: the card's, or files in tests."""

    boot_dir: Path  # the boot partition, mounted
    slot_path: dict[int, Path]  # partition number -> its block device
    booted: int  # the slot running now

    @classmethod
    def this_one(cls, boot_dir: Path = Path("/boot/firmware")) -> Device:
        """From what the initramfs left in /run/appliance-ab (the disk signature and the slot)."""
        facts = dict(
            line.split("=", 1) for line in Path("/run/appliance-ab").read_text().split() if "=" in line
        )
        sig, booted = facts["SIG"], int(facts["BOOTED"])
        slots = {n: Path(f"/dev/disk/by-partuuid/{sig}-{n:02d}") for n in SLOTS}
        return cls(boot_dir, slots, booted)

    @property
    def state_path(self) -> Path:
        return self.boot_dir / STATE_FILE

    def inactive(self) -> int:
        return next(n for n in SLOTS if n != self.booted)


def apply(bundle: Path, device: Device, keys: list[Ed25519PublicKey], board: str) -> Header:
    """Write a checked bundle to the slot not in use and put that slot on trial for the next boot."""
    target = device.inactive()
    path = device.slot_path[target]
    if SlotState.read(device.state_path).trying == device.booted:
        # Writing the other slot now would leave nothing known to work to fall back to.
        raise UpdateError("the running system is itself on trial: try again once it is kept (minutes)")
    with bundle.open("rb") as src:
        header = read_header(src, keys)
        _check_board(header, board)
        capacity = _size_of(path)
        if capacity and header.payload_size > capacity:
            raise UpdateError(
                f"the new system ({header.payload_size} bytes) does not fit its slot ({capacity})"
            )
        # Mark the slot unusable first: a power cut while writing leaves a slot nobody boots.
        state = SlotState.read(device.state_path)
        state.trying, state.tries = None, 0
        _write_boot(device, state)
        with path.open("r+b" if path.exists() else "wb") as dst:
            for chunk in _payload(src, header):
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
    if _digest(path, header.payload_size) != header.payload_sha256:
        raise UpdateError(f"slot {target} does not read back what was written")
    state.trying, state.tries, state.failed = target, 0, None
    _write_boot(device, state)
    return header


def commit(device: Device) -> bool:
    """The slot on trial came up: it becomes the one to boot. False if nothing was on trial."""
    state = SlotState.read(device.state_path)
    if state.trying is None or state.trying != device.booted:
        return False
    state.active, state.trying, state.tries = device.booted, None, 0
    _write_boot(device, state)
    return True


def _write_boot(device: Device, state: SlotState) -> None:
    """The boot partition is mounted read-only in use: writable only for this one write. (Whether
    it is cannot be asked of access(2): in a unit with ReadWritePaths the mount says writable while
    the file system is not — the QEMU update test caught it. So: try, and remount on EROFS.)"""
    if _written(device, state):
        return
    subprocess.run([MOUNT, "-o", "remount,rw", str(device.boot_dir)], check=True)  # noqa: S603
    try:
        if not _written(device, state):
            raise UpdateError(
                f"the boot partition stayed read-only after remount: {_mount_line(device.boot_dir)}"
            )
    finally:
        subprocess.run([MOUNT, "-o", "remount,ro", str(device.boot_dir)], check=True)  # noqa: S603


def _written(device: Device, state: SlotState) -> bool:
    """Write the A/B state: False if the boot partition is read-only (EROFS); other errors raise."""
    try:
        state.write(device.state_path)
    except OSError as exc:
        if exc.errno != errno.EROFS:
            raise
        return False
    return True


def _mount_line(path: Path) -> str:
    """How ``path`` is mounted as this process sees it (its line in /proc/self/mountinfo)."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError as exc:
        return f"mountinfo unreadable: {exc}"
    found = [line for line in lines if line.split()[4:5] == [str(path)]]
    return " | ".join(found) or f"{path} is not a mount point here"


def _size_of(path: Path) -> int:
    """A block device's size (0 for a regular file, which grows)."""
    if not path.exists():
        return 0
    with path.open("rb") as handle:
        return handle.seek(0, os.SEEK_END) if not path.is_file() else 0


def _digest(path: Path, size: int) -> str:
    digest, left = hashlib.sha256(), size
    with path.open("rb") as src:
        while left and (chunk := src.read(min(CHUNK, left))):
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()
