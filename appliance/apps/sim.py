"""``appliance sim``: a script against the desktop phone, in virtual time, as JSON lines."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from appliance.runtime.virtual import run_virtual
from appliance.sim import parse_script, run_script

from .common import add_config_args, layers_for


def add_parser(sub: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    sim = sub.add_parser("sim", help="run a script against the desktop phone in virtual time")
    sim.add_argument("script", help="script file, or - for standard input")
    add_config_args(sim, data=False)
    sim.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    source = sys.stdin.read() if args.script == "-" else Path(args.script).read_text()
    commands = parse_script(source)
    layers = layers_for(args, None)  # nothing saved: a script's star codes stay in memory

    def emit(line: str) -> None:
        print(line, flush=False)

    run_virtual(run_script(commands, layers, emit))
    sys.stdout.flush()
    return 0
