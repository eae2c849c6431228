"""``appliance config check|dump|password-hash``: validate a file, print the effective
configuration, or hash an admin password for a provisioning profile."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

import tomli_w

from appliance.assembly import check
from appliance.config.load import ConfigError, Layer, read_toml, to_table

from .common import add_config_args, board_layer, layers_for
from .exits import EXIT_INVALID


def add_parser(sub: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    config = sub.add_parser("config", help="check or show configuration")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check_cmd = config_sub.add_parser("check", help="validate a config file")
    check_cmd.add_argument("file")
    check_cmd.add_argument("--board", default="desktop")
    check_cmd.add_argument("--board-dir")
    check_cmd.set_defaults(func=check_file)
    dump = config_sub.add_parser("dump", help="print the effective config, secrets masked")
    add_config_args(dump)
    dump.set_defaults(func=dump_config)
    hashing = config_sub.add_parser(
        "password-hash", help="hash an admin password (read from stdin) for web.admin_password_hash"
    )
    hashing.set_defaults(func=password_hash)


def check_file(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        check(
            [
                Layer("defaults", {}),
                board_layer(args.board, args.board_dir),
                Layer(str(path), read_toml(path)),
            ]
        )
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem)
        return EXIT_INVALID
    print(f"{path}: valid")
    return 0


def dump_config(args: argparse.Namespace) -> int:
    loaded = check(layers_for(args, Path(args.data) if args.data else None))
    sys.stdout.write(tomli_w.dumps(to_table(loaded.config, mask=True)))
    return 0


def password_hash(_args: argparse.Namespace) -> int:
    """The line a profile's ``web.admin_password_hash`` takes: the password never leaves this
    machine, and the same page check as a password chosen on the page (8 to 1024 characters)."""
    from appliance.web.auth import PasswordError, hash_line  # noqa: PLC0415 - only this command hashes

    if sys.stdin.isatty():
        password = getpass.getpass("Admin password: ")
        if getpass.getpass("Again: ") != password:
            print("the two passwords differ", file=sys.stderr)
            return EXIT_INVALID
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        print(hash_line(password))
    except PasswordError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    return 0
