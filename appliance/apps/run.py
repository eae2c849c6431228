"""``appliance run``: the phone, its control socket, and (unless ``--no-web``) its web page."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from appliance import __version__
from appliance.assembly import Assembly, assemble, check
from appliance.config.schema import Config
from appliance.notices import Notices
from appliance.runtime import sdnotify
from appliance.runtime.config_store import ConfigStore
from appliance.runtime.control import LogLines, Probes
from appliance.runtime.control_socket import ControlServer
from appliance.runtime.maintenance import ProcessPower, start_over
from appliance.runtime.provisioning import kept_profile

from .common import add_config_args, data_dir_of, layers_for, serve_until_stopped

log = logging.getLogger("appliance")


def add_parser(sub: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    run = sub.add_parser("run", help="run the phone")
    add_config_args(run)
    run.add_argument("--listen", help="HOST:PORT of the web page")
    run.add_argument("--admin-password-file", help="preset the admin password from this file")
    run.add_argument(
        "--dht-bootstrap", metavar="HOST:PORT[,HOST:PORT]", help="DHT nodes to join (default: public)"
    )
    run.add_argument("--console", action="store_true", help="read commands from stdin even if not a terminal")
    run.add_argument("--no-web", action="store_true", help="no web page here (it runs as `appliance web`)")
    run.add_argument("--control", help="path of the control socket (default: DATA/control.sock)")
    run.add_argument("-v", "--verbose", action="store_true")
    run.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    data_dir = data_dir_of(args)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    power: list[ProcessPower] = []
    code = serve_until_stopped(_run(args, data_dir, power), args.verbose)
    if power and power[0].requested:  # the System page asked to start over
        start_over(data_dir, args.argv, wipe=power[0].requested == "wipe")
    return code


def probes_for(config: Config, data_dir: Path) -> Probes:
    """The readings the Status and Settings pages show, from the drivers that take them."""
    from appliance.drivers.jami.dhtnode import read_status  # noqa: PLC0415
    from appliance.drivers.network import survey  # noqa: PLC0415

    probes = Probes(network=survey, dht_node=lambda: read_status(data_dir / "jami" / "dhtnode.json"))
    if config.audio.card:  # a board with a sound card has a handset microphone to measure
        from appliance.drivers.alsa import capture_device, capture_level  # noqa: PLC0415

        mic = capture_device(config.audio.card, config.audio.capture)
        probes.mic_level = lambda seconds: capture_level(mic, seconds)
    return probes


def update_dir() -> Path | None:
    """The updater's hand-over directory on the image, where firmware.url's bundles go."""
    handoff = os.environ.get("APPLIANCE_UPDATE_DIR")
    return Path(handoff) if handoff else None


def _start_keepers(phone: Assembly) -> None:
    phone.provisioning.start()  # the kept profile is in use already; the server's comes when idle
    phone.network.start()  # the access point fallback and the link watchdog


async def _run(args: argparse.Namespace, data_dir: Path, power_out: list[ProcessPower]) -> int:
    layers = layers_for(args, data_dir)
    notices = Notices()  # before the store: what it could not use of the saved file is told there
    store = ConfigStore(layers, data_dir, check=check, notices=notices, profile=kept_profile(data_dir))
    config = store.config
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    reboot = os.environ.get("APPLIANCE_REBOOT_REQUEST")
    power = ProcessPower(stop.set, Path(reboot) if reboot else None)
    power_out.append(power)
    log_lines = LogLines()
    logging.getLogger().addHandler(log_lines)
    phone = assemble(layers, data_dir, version=__version__, power=power,
                     probes=probes_for(config, data_dir), log_lines=log_lines, notices=notices,
                     store=store, update_dir=update_dir())  # fmt: skip
    task = loop.create_task(phone.supervisor.run())
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("board %s, data in %s, country %s", config.board.name, data_dir, config.phone.country)
    control = ControlServer(phone.control, Path(args.control) if args.control else data_dir / "control.sock")
    await control.start()
    web_runner = None
    if not args.no_web:
        from .web import serve_web  # noqa: PLC0415 - aiohttp only where the page is served

        web_runner = await serve_web(phone.control, config, data_dir)
    ready = loop.create_task(phone.supervisor.started())
    await asyncio.wait({ready, task}, return_when=asyncio.FIRST_COMPLETED)  # a failed start ends below
    if ready.done():
        sdnotify.notify(
            "READY=1\nSTATUS=dial tone ready"
        )  # the ports are up: a lifted handset gets dial tone
        log.info("ready")
    else:
        ready.cancel()
    _start_keepers(phone)
    watchdog = loop.create_task(sdnotify.watchdog())
    console: asyncio.Task[None] | None = None
    if phone.sim is not None and (args.console or sys.stdin.isatty()):
        from .console import console_for  # noqa: PLC0415

        console = console_for(phone, stop)
    stopping = loop.create_task(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for side in (watchdog, stopping, *([console] if console else [])):
            side.cancel()
        if not task.done():
            task.cancel()
        if web_runner is not None:
            await web_runner.cleanup()
        await control.stop()
        await asyncio.gather(phone.provisioning.stop(), phone.network.stop())
    try:
        await task  # a crash of the loop ends the process loudly (systemd restarts it)
    except asyncio.CancelledError:
        log.info("stopped")
    return 0


__all__ = ["Assembly", "add_parser", "main", "probes_for"]
