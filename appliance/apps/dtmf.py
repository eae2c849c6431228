"""``appliance dtmf decode``: the DTMF digits in a line recording, for installers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .exits import EXIT_INVALID


def add_parser(sub: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    dtmf = sub.add_parser("dtmf", help="DTMF tools for installers")
    dtmf_sub = dtmf.add_subparsers(dest="dtmf_command", required=True)
    decode = dtmf_sub.add_parser("decode", help="print the DTMF digits in a WAV recording (any rate)")
    decode.add_argument("file")
    decode.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from appliance.drivers.dtmf import WavError, decode_file  # noqa: PLC0415 - numpy only when asked

    try:
        print(decode_file(Path(args.file)))
    except WavError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    return 0
