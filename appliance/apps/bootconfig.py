"""``appliance bootconfig``: apply what Raspberry Pi Imager's OS customisation left on the boot
partition (hostname, Wi-Fi, SSH keys, time zone), read as data, never run.

Exit 0 when everything found was applied (or there was nothing), 2 when something was refused
(each reason on stderr; what could be applied still was). The boot files are put aside only when
nothing was refused, so a corrected card is read again at the next boot.

``python -m appliance.apps.bootconfig ARGS`` is the same command without the other commands'
imports: the image runs it at the first boot, before the network and the phone start.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import errno
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from appliance.provision.bootfiles import read_boot
from appliance.provision.render import LAYOUTS, Targets, apply, consume, plan
from appliance.provision.settings import ZONEINFO, BootSettings

from .exits import EXIT_INVALID

MOUNT = "/bin/mount"


def add_parser(sub: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    command = sub.add_parser(
        "bootconfig", help="apply Raspberry Pi Imager's settings from the boot partition (read, never run)"
    )
    command.add_argument(
        "--boot", required=True, type=Path, help="the boot (FAT) partition, e.g. /boot/firmware"
    )
    command.add_argument(
        "--root", required=True, type=Path, help="the root to write the system's files under"
    )
    command.add_argument("--dry-run", action="store_true", help="say what would be written; write nothing")
    command.add_argument(
        "--layout",
        choices=sorted(LAYOUTS),
        default="debian",
        help="where the files go: a Debian root's /etc (debian), or the SD card image's data "
        "partition, which its read-only /etc links to (image)",
    )
    command.add_argument(
        "--set-hostname", action="store_true", help="also give the running system the new host name"
    )
    command.add_argument(
        "--zoneinfo", type=Path, default=ZONEINFO, help="the time zone database to check against"
    )
    command.add_argument("--ssh-user", default=Targets.ssh_user, help="the account SSH keys are for")
    command.add_argument("--ssh-home", default=Targets.ssh_home, help="its home, relative to --root")
    command.add_argument("--keep-boot-files", action="store_true", help="do not put Imager's files aside")
    command.add_argument(
        "--remount-boot",
        action="store_true",
        help="the boot partition is mounted read-only: remount it read-write to put the files aside, "
        "then read-only again",
    )
    command.set_defaults(func=main)


def describe(settings: BootSettings) -> list[str]:
    """What was found, for people: never a key or a password."""
    lines = [f"found: {', '.join(settings.files)} ({settings.form.value} form)"]
    if settings.hostname:
        lines.append(f"hostname: {settings.hostname}")
    if settings.wifi:
        wifi = settings.wifi
        key = "open network" if wifi.open else ("WPA key" if wifi.psk else "WPA passphrase") + ", not shown"
        lines.append(f"wifi: {wifi.ssid_text!r} ({key}{', hidden' if wifi.hidden else ''})")
    if settings.country:
        lines.append(f"wifi country: {settings.country}")
    if settings.ssh_enabled:
        kinds = ", ".join(key.split()[0] for key in settings.ssh_keys) or "no key"
        lines.append(f"ssh: on, {len(settings.ssh_keys)} key(s) ({kinds}), password login off")
    if settings.timezone:
        lines.append(f"time zone: {settings.timezone}")
    if settings.keyboard:
        lines.append(f"keyboard: {settings.keyboard} (recorded; the phone has no keyboard)")
    if settings.user:
        lines.append(f"user: {settings.user} (recorded; no account is made from the boot partition)")
    return lines


def main(args: argparse.Namespace) -> int:
    report = read_boot(args.boot, args.zoneinfo)
    settings = report.settings
    for note in report.notes:
        print(f"note: {note}")
    if not settings.files:
        for problem in report.problems:
            print(f"refused: {problem}", file=sys.stderr)
        print(f"nothing from Raspberry Pi Imager in {args.boot}")
        return EXIT_INVALID if report.problems else 0
    for line in describe(settings):
        print(line)
    targets = dataclasses.replace(
        LAYOUTS[args.layout], ssh_user=args.ssh_user, ssh_home=str(args.ssh_home).lstrip("/")
    )
    writes, unmet = plan(settings, args.root, targets)
    problems = [*report.problems, *unmet]
    if settings.ssh_password_auth:
        print("note: SSH password login was asked for; it is never turned on (keys only)")
    verb = "would write" if args.dry_run else "wrote"
    if not args.dry_run:
        apply(writes, args.root)
    for write in writes:
        shown = f" -> {write.link}" if write.link else f" (mode {write.mode:04o})"
        print(f"{verb} /{write.path}{shown}: {write.what}")
    if args.set_hostname and settings.hostname and not args.dry_run:
        # The boot's own set-up named the host before this ran (appliance-boot); later boots
        # take the name from the file just written.
        socket.sethostname(settings.hostname)
        print(f"host name now {settings.hostname}")
    for problem in problems:
        print(f"refused: {problem}", file=sys.stderr)
    if problems:
        print(f"boot files left in place: correct them and boot again ({len(problems)} refused)")
        return EXIT_INVALID
    if not args.dry_run and not args.keep_boot_files:
        try:
            done = consume(args.boot, settings)
        except OSError as exc:
            if exc.errno != errno.EROFS or not args.remount_boot:
                raise
            # Nothing was changed: the first write (the aside copy's temporary file) failed.
            with _writable(args.boot):
                done = consume(args.boot, settings)
        for line in done:
            print(f"boot partition: {line}")
    return 0


@contextlib.contextmanager
def _writable(boot: Path) -> Iterator[None]:
    """The boot partition read-write for a moment, read-only again however it ends. (Remounted here,
    in the unit's own mount namespace: a remount before it started did not reach it; the update
    does the same, appliance/update.py.)"""
    subprocess.run([MOUNT, "-o", "remount,rw", str(boot)], check=True)  # noqa: S603
    try:
        yield
    finally:
        subprocess.run([MOUNT, "-o", "remount,ro", str(boot)], check=True)  # noqa: S603


if __name__ == "__main__":
    _top = argparse.ArgumentParser(prog="appliance")
    add_parser(_top.add_subparsers(dest="command", required=True))
    _args = _top.parse_args(["bootconfig", *sys.argv[1:]])
    try:
        sys.exit(main(_args))
    except OSError as _exc:
        print(f"appliance bootconfig: {_exc}", file=sys.stderr)
        sys.exit(1)
