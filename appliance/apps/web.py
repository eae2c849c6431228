"""``appliance web``: the web page as a process of its own, talking to the phone over its socket."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.assembly import check
from appliance.config.schema import Config
from appliance.runtime import sdnotify
from appliance.runtime.control import ControlAPI

from .common import add_config_args, data_dir_of, layers_for, serve_until_stopped

if TYPE_CHECKING:
    from appliance.web.server import WebApp
    from appliance.web.tls import Identity

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
    control: ControlAPI, config: Config, state_dir: Path, watch: ControlAPI | None = None,
    identity: Callable[[], Identity] | None = None,
) -> Listeners:  # fmt: skip
    """The page for ``control`` on ``web.listen``: over HTTPS with the device's own CA if
    ``web.https`` (the certificate kept naming ``identity()``, by default this host's name and
    addresses), and then plain HTTP on ``web.http_listen`` sent there. ``watch`` answers the
    status push's long polls (a connection of its own over a socket)."""
    from appliance.web.firmware import FirmwareHandoff  # noqa: PLC0415 - aiohttp only where served
    from appliance.web.server import WebApp, serve, serve_app  # noqa: PLC0415
    from appliance.web.ssh import SshAccess  # noqa: PLC0415

    web_config = config.web
    password_file = Path(web_config.admin_password_file) if web_config.admin_password_file else None
    # On the image the updater (appliance-update.path) picks up what the page hands over here.
    handoff = os.environ.get("APPLIANCE_UPDATE_DIR")
    firmware = FirmwareHandoff(Path(handoff) if handoff else None)
    # On the image appliance-ssh.path (root) applies the page's SSH key requests.
    ssh_requests, ssh_state = os.environ.get("APPLIANCE_SSH_REQUESTS"), os.environ.get("APPLIANCE_SSH_STATE")
    ssh = SshAccess(Path(ssh_requests) if ssh_requests else None, Path(ssh_state) if ssh_state else None)
    webapp = WebApp(control, state_dir, password_file=password_file, secure_cookie=web_config.https,
                    firmware=firmware, watch=watch, ssh=ssh,
                    allowed_hosts=tuple(web_config.allowed_hosts))  # fmt: skip
    if not web_config.https:
        return Listeners(webapp, [await serve(webapp, web_config.listen)])
    from appliance.web.https import Certificates, redirector, strict_transport  # noqa: PLC0415

    names = identity or this_host(web_config.listen, tuple(web_config.allowed_hosts))
    certificates = await asyncio.to_thread(Certificates, state_dir / "web", names)
    webapp.certificates = certificates
    extra = tuple(web_config.allowed_hosts)
    webapp.renamed(certificates.names.hostname, extra)
    certificates.on_change.append(lambda now: webapp.renamed(now.hostname, extra))
    webapp.app.on_response_prepare.append(strict_transport(web_config.hsts_max_age_s))
    log.info("web: this device's CA (SHA-256) %s", certificates.ca.fingerprint)
    runners = [await serve(webapp, web_config.listen, ssl_context=certificates.context)]
    if web_config.http_listen:
        https_port = int(web_config.listen.rpartition(":")[2])
        plain = redirector(lambda: webapp.own_names, https_port)
        runners.append(await serve_app(plain, web_config.http_listen))
    keeper = asyncio.get_running_loop().create_task(certificates.keep_current())
    return Listeners(webapp, runners, keeper)


def this_host(listen: str, extra_names: tuple[str, ...]) -> Callable[[], Identity]:
    """This host's name and the addresses ``listen`` answers on: every one for a wildcard (IPv4
    ones only for 0.0.0.0), else the one it names."""
    from appliance.drivers.network import host_addresses  # noqa: PLC0415 - ioctls, procfs
    from appliance.web.tls import Identity  # noqa: PLC0415

    host = listen.rpartition(":")[0].strip("[]")

    def read() -> Identity:
        if host in ("", "::"):
            found = host_addresses()
        elif host == "0.0.0.0":  # noqa: S104 - reading the setting, not binding
            found = [a for a in host_addresses() if a.version == 4]
        else:
            try:
                found = [ipaddress.ip_address(host)]
            except ValueError:
                found = []  # a name: the certificate names it if the CA may (web.allowed_hosts)
        return Identity.of(static_hostname(), found, extra_names)

    return read


def static_hostname(etc_hostname: Path = Path("/etc/hostname")) -> str:
    """The name hostnamectl (and the boot's Imager settings) wrote, else the kernel's. The web
    unit's ProtectHostname= gives it a UTS namespace of its own: gethostname() there stays
    what it was when the unit started."""
    try:
        name = etc_hostname.read_text().strip().splitlines()[0].strip()
    except (OSError, UnicodeDecodeError, IndexError):
        name = ""
    return name if name and all(c.isalnum() or c in "-." for c in name) else socket.gethostname()


class Listeners:
    """The page (``webapp``) on its listeners, and the task keeping its certificate current:
    stopped together."""

    def __init__(self, webapp: WebApp, runners: list[Any], keeper: asyncio.Task[None] | None = None) -> None:
        self.webapp, self.runners, self.keeper = webapp, runners, keeper

    async def cleanup(self) -> None:
        if self.keeper is not None:
            self.keeper.cancel()
        for runner in reversed(self.runners):
            await runner.cleanup()


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
