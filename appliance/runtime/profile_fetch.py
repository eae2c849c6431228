"""Fetching a provisioning profile from a standard web server (nginx, Apache, any HTTPS server).

aiohttp's client: HTTPS checked against the system's CAs or one pinned CA, an optional client
certificate, a timeout, a size bound, and conditional requests (``If-None-Match`` with the ETag,
``If-Modified-Since`` with the date the server gave), so a fleet resyncing an unchanged file
downloads nothing.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

import aiohttp

NOT_MODIFIED = 304


class FetchError(Exception):
    """A profile that could not be fetched; the message says why in plain words."""


@dataclass(frozen=True)
class Tls:
    """Whom the phone trusts and how it shows itself: PEM file paths, empty for none."""

    ca_file: str = ""  # the only CA trusted; empty: the system's
    client_cert: str = ""
    client_key: str = ""

    def context(self) -> ssl.SSLContext:
        try:
            # With a cafile, create_default_context loads that file only: the CA is pinned.
            context = ssl.create_default_context(cafile=self.ca_file or None)
            if self.client_cert:
                context.load_cert_chain(self.client_cert, self.client_key or None)
        except (OSError, ssl.SSLError) as exc:
            raise FetchError(f"the TLS files cannot be used: {exc}") from exc
        return context


@dataclass(frozen=True)
class Fetched:
    """What the server answered: the body, or None when it was not modified since last time."""

    url: str
    body: bytes | None
    etag: str = ""
    last_modified: str = ""


async def fetch(
    url: str, *, tls: Tls, etag: str = "", last_modified: str = "", timeout_s: float = 15.0,
    max_bytes: int = 256 * 1024,
) -> Fetched:  # fmt: skip
    """GET ``url``; a 304 gives ``body=None``. Anything but 200 or 304, a body over ``max_bytes``,
    a certificate the CA does not vouch for, or a timeout raises FetchError naming the reason."""
    headers = {"User-Agent": "jami-phone provisioning"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    context = tls.context() if url.startswith("https:") else None
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, headers=headers, ssl=context or True, allow_redirects=True) as reply,
        ):
            if reply.status == NOT_MODIFIED:
                return Fetched(url, None, etag, last_modified)
            if reply.status != 200:
                raise FetchError(f"{url}: the server answered {reply.status} {reply.reason or ''}".rstrip())
            if reply.content_length is not None and reply.content_length > max_bytes:
                raise FetchError(f"{url}: {reply.content_length} bytes, more than the {max_bytes} allowed")
            body = bytearray()
            async for chunk in reply.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > max_bytes:  # a server that sends no length, or lies about it
                    raise FetchError(f"{url}: more than the {max_bytes} bytes allowed")
            got = reply.headers
            return Fetched(url, bytes(body), got.get("ETag", ""), got.get("Last-Modified", ""))
    except aiohttp.ClientConnectorCertificateError as exc:
        raise FetchError(f"{url}: the server's certificate is not trusted ({exc.certificate_error})") from exc
    except aiohttp.ClientSSLError as exc:
        raise FetchError(f"{url}: TLS failed ({exc})") from exc
    except aiohttp.ClientError as exc:
        raise FetchError(f"{url}: {exc or type(exc).__name__}") from exc
    except TimeoutError as exc:
        raise FetchError(f"{url}: no answer in {timeout_s:g} s") from exc
