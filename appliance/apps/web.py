"""``appliance web``: the web page as a process of its own, talking to the phone over its socket."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from pathlib import Path
from typing import Any

from appliance.assembly import check
from appliance.config.schema import Config
from appliance.runtime import sdnotify
from appliance.runtime.control import ControlAPI

from .common import add_config_args, data_dir_of, layers_for, serve_until_stopped

log = logging.getLogger("appliance")


def add_parser(sub: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    web_cmd = sub.add_parser("web", help="serve the web page for a phone running with --no-web")
    add_config_args(web_cmd)
    web_cmd.add_argument("--control", required=True, help="the phone's control socket")
    web_cmd.add_argument("--listen", help="HOST:PORT of the web page")
    web_cmd.add_argument("--admin-password-file", help="preset the admin password from this file")
    web_cmd.add_argument("-v", "--verbose", action="store_true")
    web_cmd.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """The web page alone, talking to a running phone over its control socket."""
    return serve_until_stopped(_web(args), args.verbose)


async def serve_web(
    control: ControlAPI, config: Config, state_dir: Path, watch: ControlAPI | None = None
) -> Any:  # noqa: ANN401 - a runner
    """The page for ``control`` on ``web.listen`` (HTTPS with the device's own certificate if set);
    ``watch`` answers the status push's long polls (a connection of its own over a socket)."""
    from appliance.web.firmware import FirmwareHandoff  # noqa: PLC0415 - aiohttp only where served
    from appliance.web.server import WebApp, serve  # noqa: PLC0415
    from appliance.web.ssh import SshAccess  # noqa: PLC0415

    password_file = Path(config.web.admin_password_file) if config.web.admin_password_file else None
    # On the image the updater (appliance-update.path) picks up what the page hands over here.
    handoff = os.environ.get("APPLIANCE_UPDATE_DIR")
    firmware = FirmwareHandoff(Path(handoff) if handoff else None)
    # On the image appliance-ssh.path (root) applies the page's SSH key requests.
    ssh_requests, ssh_state = os.environ.get("APPLIANCE_SSH_REQUESTS"), os.environ.get("APPLIANCE_SSH_STATE")
    ssh = SshAccess(Path(ssh_requests) if ssh_requests else None, Path(ssh_state) if ssh_state else None)
    webapp = WebApp(control, state_dir, password_file=password_file, secure_cookie=config.web.https,
                    firmware=firmware, watch=watch, ssh=ssh,
                    allowed_hosts=tuple(config.web.allowed_hosts))  # fmt: skip
    context = None
    if config.web.https:
        from appliance.web.tls import ensure_certificate, fingerprint, server_context  # noqa: PLC0415

        cert, key = ensure_certificate(state_dir / "web")
        context = server_context(cert, key)
        log.info("web: HTTPS certificate fingerprint (SHA-256) %s", fingerprint(cert))
    return await serve(webapp, config.web.listen, ssl_context=context)


async def _web(args: argparse.Namespace) -> int:
    from appliance.runtime.control_socket import ControlClient  # noqa: PLC0415

    config = check(layers_for(args, None)).config
    state_dir = data_dir_of(args)
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    client = ControlClient(Path(args.control))
    # The push's long polls wait up to a second each: on the one connection they would hold up
    # every request of the page behind them.
    watcher = ControlClient(Path(args.control))
    runner = await serve_web(client, config, state_dir, watch=watcher)
    sdnotify.notify("READY=1")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await client.close()
        await watcher.close()
    return 0
