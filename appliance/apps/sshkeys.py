"""``appliance ssh-keys``: the System page's SSH keys, applied as root (appliance-ssh.service).

``apply`` takes the page's request (if any) from its directory, checks it again, rewrites the
admin's ``authorized_keys``, turns sshd on or off, and writes the state the page reads
(:mod:`appliance.provision.sshaccess`). With no request it only writes the state: the unit also
runs at boot, after sshd made its host keys. ``check`` says whether a line is a key accepted here.

``python -m appliance.apps.sshkeys ARGS`` is the same command without the other commands' imports.
"""

from __future__ import annotations

import argparse
import pwd
import subprocess
import sys
from pathlib import Path
from typing import Any

from appliance.provision.sshaccess import Paths, apply_pending
from appliance.provision.sshkeys import BadKeyError, parse_key

from .exits import EXIT_INVALID

SYSTEMCTL = "/bin/systemctl"


def add_parser(sub: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    command = sub.add_parser("ssh-keys", help="the System page's SSH keys (applied as root)")
    verbs = command.add_subparsers(dest="ssh_command", required=True)
    apply = verbs.add_parser("apply", help="apply the page's request, turn sshd on or off, write the state")
    apply.add_argument("--requests", type=Path, default=Path("/var/lib/appliance-web/ssh"),
                       help="where the page leaves its request")  # fmt: skip
    apply.add_argument("--state", type=Path, default=Path("/var/lib/appliance-ssh"),
                       help="where the state the page reads is written")  # fmt: skip
    apply.add_argument("--user", default="admin", help="the account the keys are for")
    apply.add_argument("--authorized-keys", type=Path, default=Path("/var/lib/admin/.ssh/authorized_keys"))
    apply.add_argument("--host-keys", type=Path, default=Path("/var/lib/ssh"), help="sshd's host keys")
    apply.add_argument("--sshd-unit", default="ssh.service",
                       help="started with a key, stopped without ('' to leave it alone)")  # fmt: skip
    check = verbs.add_parser("check", help="check public key lines (one per line on stdin)")
    check.set_defaults(func=main)
    apply.set_defaults(func=main)
    command.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    if args.ssh_command == "check":
        return _check(sys.stdin.read().splitlines())
    paths = Paths(args.requests, args.state, args.authorized_keys, args.host_keys)
    owner = _owner(args.user)
    state = apply_pending(paths, _sshd(args.sshd_unit), owner)
    last = state["last"]
    if last is not None:
        print(f"ssh-keys: {'done' if last['ok'] else 'refused'}: {last['message']}")
    print(f"ssh-keys: SSH {'on' if state['enabled'] else 'off'}, {len(state['keys'])} key(s)")
    return 0 if last is None or last["ok"] else EXIT_INVALID


def _owner(user: str) -> tuple[int, int] | None:
    """The keys' owner (sshd reads them as that user), when run as root and the user exists."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def _sshd(unit: str) -> Any:  # noqa: ANN401 - an sshaccess.Sshd
    def turn(on: bool) -> str:
        if not unit:
            return ""
        verb = "start" if on else "stop"
        # Blocking: the host keys exist once the start returns (ExecStartPre makes them). A stop
        # ends the listener; sessions already open stay (Debian's ssh.service: KillMode=process).
        done = subprocess.run([SYSTEMCTL, verb, unit], capture_output=True, text=True, check=False)  # noqa: S603
        return "" if done.returncode == 0 else f"sshd did not {verb}: {done.stderr.strip()[:200]}"

    return turn


def _check(lines: list[str]) -> int:
    bad = 0
    for n, line in enumerate(lines, 1):
        try:
            key = parse_key(line)
        except BadKeyError as exc:
            print(f"line {n}: refused: {exc}", file=sys.stderr)
            bad += 1
        else:
            print(f"{key.bits} {key.fingerprint} {key.comment or 'no comment'} ({key.kind})")
    return EXIT_INVALID if bad else 0


if __name__ == "__main__":
    _top = argparse.ArgumentParser(prog="appliance")
    add_parser(_top.add_subparsers(dest="command", required=True))
    _args = _top.parse_args(["ssh-keys", *sys.argv[1:]])
    try:
        sys.exit(main(_args))
    except OSError as _exc:
        print(f"appliance ssh-keys: {_exc}", file=sys.stderr)
        sys.exit(1)
