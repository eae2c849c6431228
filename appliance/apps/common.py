"""What every command shares: the config layers from the command line, logging, running until stopped."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from appliance.config import salvage
from appliance.config.load import ConfigError, Layer, load_layers, parse_assignment, read_toml
from appliance.config.store import DataConfig

from .exits import EXIT_INVALID  # noqa: F401 - still importable from here, as before

SYSTEM_CONFIG = Path("/etc/appliance/config.toml")
SYSTEM_BOARDS = Path("/usr/share/appliance/board")
Table = dict[str, Any]


def board_dirs(explicit: str | None) -> list[Path]:
    dirs = [Path(explicit)] if explicit else []
    if env := os.environ.get("APPLIANCE_BOARD_DIR"):
        dirs.append(Path(env))
    dirs += [Path(__file__).resolve().parents[2] / "board", SYSTEM_BOARDS]
    return dirs


def board_layer(name: str, board_dir: str | None) -> Layer:
    for directory in board_dirs(board_dir):
        path = directory / name / "board.toml"
        if path.is_file():
            table = read_toml(path)
            table.setdefault("board", {})["name"] = name
            return Layer(f"board {path}", table)
    known = sorted(
        {p.parent.name for d in board_dirs(board_dir) if d.is_dir() for p in d.glob("*/board.toml")}
    )
    raise ConfigError([f"board: no board named {name!r} (known: {', '.join(known) or 'none'})"])


def default_data_dir() -> Path:
    if os.geteuid() == 0 and Path("/var/lib/appliance").parent.is_dir() and not os.environ.get("HOME"):
        return Path("/var/lib/appliance")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "appliance"


def data_dir_of(args: argparse.Namespace) -> Path:
    return Path(args.data) if getattr(args, "data", None) else default_data_dir()


def layers_for(args: argparse.Namespace, data_dir: Path | None) -> list[Layer]:
    """defaults -> board -> system file -> the data directory's saves -> command line -> --set."""
    layers = [Layer("defaults", {}), board_layer(args.board, args.board_dir)]
    system = Path(args.config) if args.config else (SYSTEM_CONFIG if SYSTEM_CONFIG.is_file() else None)
    if system is not None:
        layers.append(Layer(str(system), read_toml(system)))
    if data_dir is not None:
        # As far as it can be used, nothing moved: `appliance run`'s config store keeps a bad file
        # aside and tells the owner; other commands need only not to fail on what a newer
        # firmware saved. A bad file of the image's own (board, system) is refused here, named.
        saved = DataConfig(data_dir).read_lenient()
        layers.append(Layer("data", salvage.usable(saved, layers, len(layers), load_layers).table))
    cli: Table = {}
    if getattr(args, "listen", None):
        cli = {"web": {"listen": args.listen}}
    if getattr(args, "admin_password_file", None):
        path = Path(args.admin_password_file)
        if not path.is_file() or not os.access(path, os.R_OK):
            raise ConfigError([f"--admin-password-file: {path} is not a readable file"])
        cli.setdefault("web", {})["admin_password_file"] = str(path)
    if getattr(args, "dht_bootstrap", None):
        nodes = [node.strip() for node in args.dht_bootstrap.split(",") if node.strip()]
        cli.setdefault("jami", {})["bootstrap"] = nodes
    if cli:
        layers.append(Layer("command line", cli))
    layers.extend(Layer(f"--set {item}", parse_assignment(item)) for item in getattr(args, "set", None) or [])
    return layers


def add_config_args(parser: argparse.ArgumentParser, *, data: bool = True) -> None:
    parser.add_argument("--board", default="desktop", help="board definition (default: desktop)")
    parser.add_argument("--board-dir", help="where board definitions live")
    parser.add_argument("--config", help=f"system config file (default: {SYSTEM_CONFIG} if present)")
    if data:
        parser.add_argument("--data", help="the device's data directory (config saves, account)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config value")


def log_to_stderr(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def serve_until_stopped(main: Coroutine[Any, Any, int], verbose: bool) -> int:
    """A long-running command: log to stderr (the journal on a device), run until stopped."""
    log_to_stderr(verbose)
    code = 0
    with contextlib.suppress(KeyboardInterrupt):
        code = asyncio.run(main)
    return code
