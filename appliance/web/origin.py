"""Which requests the page answers: only those for the device's own names (against DNS
rebinding), state changes only from the page's own origin (against cross-site requests), and the
headers every answer carries so a browser keeps the page to itself."""

from __future__ import annotations

import ipaddress
import socket

from aiohttp import web


def own_host(request: web.Request, names: frozenset[str]) -> bool:
    """An IP address cannot be rebound: a page whose origin is the address is the device's
    own. A name must be one of ``names`` (no Host at all: HTTP/1.0 clients, allowed)."""
    name = host_name(request.headers.get("Host", ""))
    if not name:
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return name in names or name.endswith(".localhost")
    return True


def own_names(extra: tuple[str, ...] = (), hostname: str | None = None) -> frozenset[str]:
    """The names the page answers to: the hostname (this host's unless given), HOSTNAME.local,
    the FQDN, localhost, and ``extra`` (``web.allowed_hosts``). IP addresses are answered too
    (see :func:`own_host`)."""
    host = (hostname or socket.gethostname()).lower()
    short = host.partition(".")[0]
    fqdn = socket.getfqdn().lower() if hostname is None else host
    names = {host, short, f"{short}.local", "localhost", fqdn, *extra}
    return frozenset(n for n in names if n)


def host_name(host: str) -> str:
    """``host`` of a Host header without its port, brackets and trailing dot, lower case."""
    if host.startswith("["):
        return host[1:].partition("]")[0].lower()
    return host.rpartition(":")[0].lower().rstrip(".") if host.count(":") == 1 else host.lower().rstrip(".")


def cross_site(request: web.Request) -> bool:
    """A browser's request made by a page of another origin (Origin names another host, or the
    browser says so in Sec-Fetch-Site). Clients that are not browsers send neither."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    scheme, _, authority = origin.partition("://")
    return origin == "null" or scheme != request.scheme or authority.lower() != request.host.lower()


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers["Server"] = "phone"  # not which Python and aiohttp, to whoever asks
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")
