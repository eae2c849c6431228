"""``appliance callerid OUT.wav``: what the adapter plays on the line for a caller, as a WAV file.

For installers and tests: the samples come from the same code the SLIC line driver plays
(:mod:`appliance.line`), 8 kHz mono 16-bit, so a caller ID box or a decoder can be checked
against them without a call.
"""

from __future__ import annotations

import argparse
import sys
import wave
from datetime import datetime
from pathlib import Path
from typing import Any

from appliance.phone.callerid import Absence, Alert, CallerId, Presentation, Standard

from .exits import EXIT_INVALID

STANDARDS = ("bellcore", "etsi-fsk", "etsi-dtmf", "ntt")
MAX_DIGITS = {"bellcore": 15, "etsi-fsk": 20, "etsi-dtmf": 20, "ntt": 20}
SDMF_DIGITS = 10


class InputError(ValueError):
    """A command-line value that cannot be sent; the message names the option."""


def add_parser(sub: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    cmd = sub.add_parser("callerid", help="render the caller ID the adapter sends, as an 8 kHz WAV")
    cmd.add_argument("out", metavar="OUT.wav", help="the WAV file to write")
    cmd.add_argument("--standard", required=True, choices=STANDARDS)
    cmd.add_argument("--number", default="", help="the caller's number, digits only (none: 'unavailable')")
    cmd.add_argument("--name", default="", help="the caller's name (none: 'unavailable')")
    cmd.add_argument("--private", action="store_true", help="send 'private' where number or name is missing")
    cmd.add_argument("--when", default="", help="date and time sent, MMDDHHMM (default: now)")
    cmd.add_argument("--sdmf", action="store_true", help="bellcore: the single-data-message format")
    cmd.add_argument(
        "--alert",
        choices=[a.value for a in Alert],
        default="",
        help="etsi-fsk: 'reversal' puts the 2130+2750 Hz alert tone first (default: after-ring); "
        "ntt always answers the CAR signal (the file holds the data the phone then gets)",
    )
    cmd.set_defaults(func=main)


def parse_when(text: str, now: datetime) -> datetime:
    """MMDDHHMM in the current year (29 February is checked against a leap year)."""
    if len(text) != 8 or not text.isdigit():
        raise InputError(f"--when: must be MMDDHHMM, eight digits (got {text!r})")
    month, day, hour, minute = (int(text[i : i + 2]) for i in range(0, 8, 2))
    year = now.year if month != 2 or day != 29 else 2028
    try:
        return datetime(year, month, day, hour, minute)  # noqa: DTZ001 - the line carries local time, unzoned
    except ValueError as exc:
        raise InputError(f"--when: {text} is not a date and time ({exc})") from None


def caller_of(args: argparse.Namespace) -> CallerId:
    number = args.number.strip()
    if number and not number.isdigit():
        raise InputError(f"--number: digits only (got {args.number!r})")
    limit = SDMF_DIGITS if args.sdmf else MAX_DIGITS[args.standard]
    if len(number) > limit:
        raise InputError(f"--number: at most {limit} digits for {args.standard} (got {len(number)})")
    if args.sdmf and args.standard != "bellcore":
        raise InputError("--sdmf: only with --standard bellcore")
    if any(not c.isprintable() for c in args.name):
        raise InputError(f"--name: printable characters only (got {args.name!r})")
    standard = Standard(args.standard)
    if standard is Standard.NTT and args.name:
        raise InputError("--name: NTT's Number Display frame carries no name (the number only)")
    ntt = standard is Standard.NTT
    if (ntt and args.alert not in ("", Alert.CAR.value)) or (not ntt and args.alert == Alert.CAR.value):
        raise InputError(f"--alert: {args.alert} is not for {args.standard} (car is NTT's, and its only one)")
    if standard is Standard.NTT:
        alert = Alert.CAR
    elif args.alert:
        alert = Alert(args.alert)
    else:
        alert = Alert.BEFORE_RING if standard is Standard.ETSI_DTMF else Alert.AFTER_RING
    absent = Absence.PRIVATE if args.private else Absence.UNAVAILABLE
    return CallerId(
        number=number,
        name=args.name,
        number_absent=None if number else absent,
        name_absent=None if args.name.strip() else absent,
        presentation=Presentation(standard, alert, sdmf=args.sdmf),
    )


def main(args: argparse.Namespace) -> int:
    from appliance.line import spill  # noqa: PLC0415 - numpy only when asked

    try:
        now = datetime.now()  # noqa: DTZ005 - local time, as the line shows it
        when = parse_when(args.when, now) if args.when else now
        caller = caller_of(args)
    except InputError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    samples = spill.data(caller, when)
    with wave.open(str(Path(args.out)), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(spill.pcm16(samples))
    print(f"{args.out}: {args.standard}, {len(samples) / 8000:.3f} s, {spill.describe(caller, when)}")
    return 0
