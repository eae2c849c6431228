"""``appliance update``: signed A/B updates (keys and bundles on a build machine; verify, apply
and commit on a device, as root, from the update units)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from .exits import EXIT_INVALID


def add_parser(sub: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    upd = sub.add_parser("update", help="signed A/B updates of the system")
    upd.add_argument("--keys", help=f"trusted public keys (default: {'/usr/share/appliance/update-keys'})")
    upd_sub = upd.add_subparsers(dest="update_command", required=True)
    keygen = upd_sub.add_parser("keygen", help="make a signing key pair (keep the private one offline)")
    keygen.add_argument("private")
    keygen.add_argument("public")
    bundle = upd_sub.add_parser("bundle", help="sign a root image into an update bundle")
    bundle.add_argument("payload", help="the root file system image (squashfs)")
    bundle.add_argument("out")
    bundle.add_argument("--key", required=True, help="the private signing key")
    bundle.add_argument("--board", required=True)
    bundle.add_argument("--version", required=True)
    verify = upd_sub.add_parser("verify", help="check a bundle for this board")
    verify.add_argument("bundle")
    apply = upd_sub.add_parser("apply", help="write a bundle to the other slot")
    apply.add_argument("bundle", nargs="+", help="a bundle, or hand-over directories (the first ready one)")
    for cmd in (verify, apply):
        cmd.add_argument("--board", default=os.environ.get("APPLIANCE_BOARD", "desktop"))
    commit = upd_sub.add_parser("commit", help="keep the slot on trial once the phone is up, else fall back")
    commit.add_argument("--within", type=float, default=180.0, help="seconds the phone has to come up")
    upd.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Signed A/B updates (see appliance/update.py): make keys and bundles on a build machine;
    verify, apply and commit them on a device (as root, from the update units)."""
    from appliance import update, updater  # noqa: PLC0415 - cryptography only here

    keys_dir = Path(args.keys) if args.keys else update.KEYS_DIR
    try:
        match args.update_command:
            case "keygen":
                update.generate_key(Path(args.private), Path(args.public))
            case "bundle":
                header = update.make_bundle(Path(args.payload), Path(args.out), key=Path(args.key),
                                            board=args.board, version=args.version)  # fmt: skip
                print(f"{args.out}: {header.board} {header.version}, {header.payload_size} bytes")
            case "verify":
                header = update.verify(Path(args.bundle), update.trusted_keys(keys_dir), args.board)
                print(f"{args.bundle}: good, {header.board} {header.version}")
            case "apply":
                return updater.apply_handed_over([Path(b) for b in args.bundle], keys_dir, args.board)
            case "commit":
                return updater.commit_when_up(args.within)
    except update.UpdateError as exc:
        print(f"appliance update: {exc}", file=sys.stderr)
        return EXIT_INVALID
    return 0
