"""The page over HTTPS: the certificate kept current, plain HTTP sent there, HSTS.

- :class:`Certificates` keeps the server certificate naming what the device is now (its
  hostname, ``HOSTNAME.local`` and addresses, read by a function given to it): a new DHCP address
  or hostname is re-issued and put into the listener's live TLS context, no restart.
- :func:`redirector` is the plain-HTTP listener's whole application: every request for one of
  the device's own names or addresses goes to the same URL over HTTPS; any other Host is refused
  as on the page itself (DNS rebinding).
- :func:`strict_transport` adds ``Strict-Transport-Security`` to the HTTPS page's answers.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from .origin import host_name, own_host, security_headers
from .tls import Identity, LocalCA, ServerCertificate, reload, server_context

log = logging.getLogger(__name__)

CHECK_EVERY_S = 10.0  # a sysfs listing, one ioctl per link and a small procfs file: nothing
# HSTS with a CA of the device's own: a browser that trusted the CA then remembers to use HTTPS,
# and with a certificate error (a reflashed device has a new CA; another device given the same
# .local name) it offers no way past it until max-age ends. A week keeps an owner who comes back
# weekly from being downgraded to HTTP, and bounds that lock-out; meanwhile the page is reachable
# at its IP address, which browsers never pin (RFC 6797 8.1.1). A browser that did not trust the
# certificate (a warning clicked through) ignores the header altogether.
HSTS_MAX_AGE_S = 7 * 24 * 3600


class Certificates:
    """The device's CA and server certificate in ``folder``, for the identity ``identity()``
    returns, and the TLS context that serves it."""

    def __init__(self, folder: Path, identity: Callable[[], Identity]) -> None:
        self.folder, self.identity = folder, identity
        now = identity()
        self.ca = LocalCA.ensure(folder, now)
        self.server = ServerCertificate(folder, self.ca)
        self.names = now
        if self.server.ensure(now):
            log.info("web: HTTPS certificate issued for %s", self._named(now))
        self.context = server_context(self.server.cert_path, self.server.key_path)
        self.on_change: list[Callable[[Identity], None]] = []

    def refresh(self) -> bool:
        """Re-issue and reload if the device's names or addresses changed (or the certificate
        nears its end); whether it did."""
        if not self.reissue():
            return False
        self.reload()
        return True

    def reissue(self) -> bool:
        """The files and names part of :meth:`refresh` (blocking: writes and fsyncs)."""
        now = self.identity()
        if self.server.fits(now):
            self.names = now
            return False
        self.server.issue(now)
        renamed = now.hostname != self.names.hostname
        self.names = now
        log.info("web: HTTPS certificate re-issued for %s", self._named(now))
        if renamed:
            for callback in self.on_change:
                callback(now)
        return True

    def reload(self) -> None:
        reload(self.context, self.server.cert_path, self.server.key_path)

    async def keep_current(self, every_s: float = CHECK_EVERY_S) -> None:
        """:meth:`refresh` every ``every_s`` until cancelled (a failure is logged, tried again):
        the files in a thread, the context changed in the event loop's, where the listener
        makes its TLS connections from it (OpenSSL does not lock a context being changed)."""
        while True:
            await asyncio.sleep(every_s)
            try:
                if await asyncio.to_thread(self.reissue):
                    self.reload()
            except Exception:
                log.exception("web: re-issuing the HTTPS certificate failed")

    def info(self) -> dict[str, object]:
        cert = self.server.current()
        return {
            "ca_fingerprint": self.ca.fingerprint,
            "ca_name": self.ca.certificate.subject.rfc4514_string(),
            "names": self.ca.signable(self.names),
            "addresses": [str(a) for a in self.names.addresses],
            "expires": cert.not_valid_after_utc.isoformat() if cert else None,
        }

    def _named(self, identity: Identity) -> str:
        return ", ".join([*self.ca.signable(identity), *(str(a) for a in identity.addresses)])


def strict_transport(max_age_s: int) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """An ``on_response_prepare`` hook: HSTS on answers over TLS (``max-age=0`` makes browsers
    forget it). No includeSubDomains: the device's names have no subdomains of its own."""
    value = f"max-age={max_age_s}"

    async def hsts(request: web.Request, response: web.StreamResponse) -> None:
        if request.secure:
            response.headers["Strict-Transport-Security"] = value

    return hsts


def redirector(names: Callable[[], frozenset[str]], https_port: int) -> web.Application:
    """Plain HTTP's application: GET and HEAD move (301) to the same URL over HTTPS, other
    methods too with their body (308); neither cached, so the page can go back to HTTP alone by
    configuration. A request for a name not the device's is refused (403)."""

    async def to_https(request: web.Request) -> web.StreamResponse:
        if not own_host(request, names()):
            return web.Response(status=403, text=f"not this device's name: {request.host!r}\n")
        host = host_name(request.headers.get("Host", "")) or _local_address(request)
        if ":" in host:
            host = f"[{host}]"
        port = "" if https_port == 443 else f":{https_port}"
        # The path and query as sent (an absolute-form target's own scheme and host dropped).
        location = f"https://{host}{port}{request.rel_url.raw_path_qs}"
        status = 301 if request.method in ("GET", "HEAD") else 308
        return web.Response(
            status=status, text=f"{location}\n",
            headers={"Location": location, "Cache-Control": "no-store"},
        )  # fmt: skip

    app = web.Application()
    app.on_response_prepare.append(security_headers)
    app.router.add_route("*", "/{path:.*}", to_https)
    return app


def _local_address(request: web.Request) -> str:
    """The address the client reached (an HTTP/1.0 request names no host)."""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if not sockname:
        return "localhost"
    address = ipaddress.ip_address(str(sockname[0]).partition("%")[0])
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return str(mapped or address)  # a dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d
