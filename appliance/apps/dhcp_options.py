"""``appliance dhcp-options IFACE ADDRESS``: the DHCP server's provisioning options, handed over.

Run as root by the image's NetworkManager dispatcher hook
(``/etc/NetworkManager/dispatcher.d/50-appliance-provisioning``) once an interface has its address:
asks the server with a DHCPINFORM (:mod:`appliance.drivers.dhcp_inform`) and writes the file the
phone reads the server from (``provisioning.dhcp_file``). No answer: the file stays as it was.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path
from typing import Any

from appliance.durable import atomic_write

from .exits import EXIT_INVALID

HAND_OVER = "/run/appliance/dhcp-provisioning"  # provisioning.dhcp_file's default


def add_parser(sub: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    cmd = sub.add_parser(
        "dhcp-options", help="ask the DHCP server for the provisioning options (66, 160, 43)"
    )
    cmd.add_argument("interface", help="the interface with a lease, e.g. eth0")
    cmd.add_argument("address", help="its leased IPv4 address (NetworkManager's DHCP4_IP_ADDRESS)")
    cmd.add_argument("--write", default=HAND_OVER, help=f"the hand-over file (default: {HAND_OVER})")
    cmd.add_argument("--tries", type=int, default=3, help="DHCPINFORMs sent, 2 s apart (default: 3)")
    cmd.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from appliance.drivers.dhcp_inform import InformError, ask, hand_over  # noqa: PLC0415 - this command only

    try:
        ipaddress.IPv4Address(args.address)
    except ValueError:
        print(f"dhcp-options: {args.address!r} is not an IPv4 address", file=sys.stderr)
        return EXIT_INVALID
    try:
        answer = ask(args.interface, args.address, tries=max(1, args.tries))
    except InformError as exc:
        print(f"dhcp-options: {exc}; {args.write} left as it was", file=sys.stderr)
        return 1
    text = hand_over(args.interface, answer)
    path = Path(args.write)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(
        path, text.encode(), mode=0o644
    )  # a server's name, nothing secret: the phone's user reads it
    print(text, end="")
    return 0
