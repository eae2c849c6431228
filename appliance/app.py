"""The command line: ``appliance <command>``, each command a module of :mod:`appliance.apps`.

The composition of a running phone is :func:`appliance.assembly.assemble`; this module only
parses arguments, hands them to the command, and turns its refusals into exit codes.
"""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .apps import bootconfig, callerid, config, dhcp_options, dht_node, dtmf, run, sim, sshkeys, update, web
from .apps.exits import EXIT_INVALID
from .config.load import ConfigError
from .sim import ScriptError

COMMANDS = (run, web, dht_node, update, config, dtmf, callerid, sim, bootconfig, dhcp_options, sshkeys)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="appliance", description="Jami phone firmware")
    top.add_argument("--version", action="version", version=f"appliance {__version__}")
    sub = top.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return top


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # to start again as the same command
    try:
        code = args.func(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        code = EXIT_INVALID
    except ScriptError as exc:
        print(f"{getattr(args, 'script', 'script')}: {exc}", file=sys.stderr)
        code = EXIT_INVALID
    except OSError as exc:
        print(f"appliance: {exc}", file=sys.stderr)
        code = 1
    sys.exit(code)
