"""``appliance dht-node``: the device's own OpenDHT node (LAN discovery), a process of its own."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from appliance.assembly import check

from .common import add_config_args, data_dir_of, layers_for, log_to_stderr


def add_parser(sub: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    node = sub.add_parser("dht-node", help="the device's own DHT node (LAN discovery)")
    add_config_args(node)
    node.add_argument("--port", type=int, help="UDP port (default: jami.dht_port from the config)")
    node.add_argument("--bootstrap", metavar="HOST:PORT[,HOST:PORT]", help="nodes to join (default: public)")
    node.add_argument("--status", help="where to report the node's state")
    node.add_argument("--no-discovery", action="store_true", help="no multicast LAN discovery")
    node.add_argument("--check", action="store_true", help="exit 0 if the config enables the node, else 1")
    node.add_argument("-v", "--verbose", action="store_true")
    node.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """From explicit options (as the supervisor starts it), else from the configuration (as its
    systemd unit does); ``--check`` only says whether it is enabled."""
    from appliance.drivers.jami.dhtnode import serve  # noqa: PLC0415

    log_to_stderr(args.verbose)
    if args.port is not None:
        bootstrap = [b.strip() for b in (args.bootstrap or "").split(",") if b.strip()]
        status = Path(args.status) if args.status else None
        return serve(args.port, bootstrap, discovery=not args.no_discovery, status=status)
    jami = check(layers_for(args, Path(args.data) if args.data else None)).config.jami
    if args.check:
        return 0 if jami.enabled and jami.dht_node else 1
    return serve(jami.dht_port, jami.bootstrap, discovery=not args.no_discovery,
                 status=data_dir_of(args) / "jami" / "dhtnode.json")  # fmt: skip
