"""HTTPS as the image serves it: the device's own CA, a certificate for its names and addresses
re-issued when they change, plain HTTP sent to HTTPS for its own names only, HSTS.

A real TLS client checks each chain: Python's ssl (OpenSSL) with the device's CA as its only
trust anchor, connecting to the listener on 127.0.0.1 and asking for each name the owner types
(SNI and the hostname check), so no DNS is needed.
"""

import asyncio
import contextlib
import datetime as dt
import ipaddress
import shutil
import socket
import ssl
import stat
import subprocess
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from appliance.apps.web import serve_web
from appliance.config.load import ConfigError, build
from appliance.web.https import Certificates
from appliance.web.server import serve_app
from appliance.web.tls import Identity, server_context
from tests.net import free_port

from .conftest import PASSWORD, running

HOST = "kitchen-phone"
LAN = "192.168.1.23"
ULA = "fd12:3456::23"
# Addresses the device has that a certificate must not name: link-local IPv6 (no URL can carry
# its zone), global ones (public), a public IPv4 address.
ADMIN = {"Authorization": aiohttp.encode_basic_auth("admin", PASSWORD)}
NOT_NAMED = ("fe80::1234", "2001:db8::23", "8.8.8.8")


class Device:
    """The address source the page reads: what DHCP and the owner gave, changed by the test."""

    def __init__(self) -> None:
        self.hostname = HOST
        self.addresses = [ipaddress.ip_address(a) for a in (LAN, ULA, *NOT_NAMED)]

    def __call__(self) -> Identity:
        return Identity.of(self.hostname, self.addresses)


def handshake(port: int, name: str, ca: Path) -> x509.Certificate:
    """A TLS handshake with the listener asking for ``name``, the device's CA the only anchor;
    the certificate it verified."""
    context = ssl.create_default_context(cafile=str(ca))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=name) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def raw_request(port: int, request: str) -> str:
    """``request`` as bytes on the wire (what aiohttp's client would not send); the answer's head."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request.encode())
        return s.recv(65536).decode().partition("\r\n\r\n")[0] + "\r\n"


@contextlib.asynccontextmanager
async def https_page(tmp_path: Path, device: Device, **web: object):
    """The phone, and its page as the image serves it: HTTPS, and plain HTTP sent there."""
    https_port, http_port = free_port(), free_port()
    config = build({"web": {"https": True, "listen": f"127.0.0.1:{https_port}",
                            "http_listen": f"127.0.0.1:{http_port}", **web}})  # fmt: skip
    async with running(tmp_path / "phone") as stack:
        listeners = await serve_web(stack.control, config, tmp_path / "page", identity=device)
        listeners.webapp.password.set(PASSWORD)
        try:
            yield listeners, https_port, http_port
        finally:
            await listeners.cleanup()


async def test_the_certificate_is_trusted_for_the_name_the_local_name_and_the_addresses(tmp_path):
    async with https_page(tmp_path, Device()) as (listeners, port, _):
        ca = tmp_path / "page" / "web" / "ca.crt"
        for name in (f"{HOST}.local", HOST, "localhost", LAN, ULA, "127.0.0.1", "::1"):
            cert = await asyncio.to_thread(handshake, port, name, ca)
            assert cert.issuer == listeners.webapp.certificates.ca.certificate.subject
        for name in (*NOT_NAMED, "evil.example", f"other.{HOST}.local"):
            with pytest.raises(ssl.SSLCertVerificationError):
                await asyncio.to_thread(handshake, port, name, ca)
        # The System page shows the CA's fingerprint; the CA itself is public to download.
        async with aiohttp.ClientSession(f"https://127.0.0.1:{port}") as c:
            trust = ssl.create_default_context(cafile=str(ca))
            async with c.get("/api/v1/system/ca.crt", ssl=trust) as r:
                assert r.status == 200 and r.content_type == "application/x-x509-ca-cert"
                downloaded = x509.load_pem_x509_certificate(await r.read())
            async with c.get("/api/v1/system/https", ssl=trust, headers=ADMIN) as r:
                shown = await r.json()
    sha256 = ":".join(f"{b:02X}" for b in downloaded.fingerprint(hashes.SHA256()))
    assert shown["ca_fingerprint"] == sha256
    assert shown["names"][0] == f"{HOST}.local" and set(shown["addresses"]) == {LAN, ULA, "127.0.0.1", "::1"}


async def test_the_device_ca_cannot_sign_a_public_name(tmp_path):
    """Name constraints: the CA's key, taken off the SD card, still cannot impersonate a public
    site to a browser that trusts the CA."""
    certificates = Certificates(tmp_path, Device())
    ca = certificates.ca
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    forged = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bank.example")]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("bank.example"), x509.IPAddress(ipaddress.ip_address("8.8.8.8"))]
            ),
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())
    )
    (tmp_path / "forged.crt").write_bytes(forged.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "forged.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption())
    )  # fmt: skip
    from aiohttp import web

    port = free_port()
    runner = await serve_app(web.Application(), f"127.0.0.1:{port}",
                             server_context(tmp_path / "forged.crt", tmp_path / "forged.key"))  # fmt: skip
    try:
        for name in ("bank.example", "8.8.8.8"):
            with pytest.raises(ssl.SSLCertVerificationError, match=r"(?i)name constraint|permitted"):
                await asyncio.to_thread(handshake, port, name, tmp_path / "ca.crt")
    finally:
        await runner.cleanup()


async def test_plain_http_is_sent_to_https_for_the_devices_own_names_only(tmp_path):
    async with (
        https_page(tmp_path, Device()) as (_, https_port, http_port),
        aiohttp.ClientSession(f"http://127.0.0.1:{http_port}") as c,
    ):
        for host, target in ((f"{HOST}.local", f"{HOST}.local"), (f"{LAN}:{http_port}", LAN),
                             (f"[{ULA}]", f"[{ULA}]"), ("localhost", "localhost")):  # fmt: skip
            async with c.get("/status?x=1", headers={"Host": host}, allow_redirects=False) as r:
                assert r.status == 301
                assert r.headers["Location"] == f"https://{target}:{https_port}/status?x=1"
                assert r.headers["Cache-Control"] == "no-store"
                assert "Strict-Transport-Security" not in r.headers  # never over plain HTTP
        async with c.post(
            "/api/v1/login", json={}, headers={"Host": f"{HOST}.local"}, allow_redirects=False
        ) as r:
            assert r.status == 308  # the method and its body go along
            assert r.headers["Location"] == f"https://{HOST}.local:{https_port}/api/v1/login"
        # An absolute-form target keeps only its path; a request without Host goes to the address.
        for request, location in (
            (f"GET http://evil.example/x?y=1 HTTP/1.1\r\nHost: {HOST}.local\r\n\r\n", f"{HOST}.local"),
            ("GET /x?y=1 HTTP/1.0\r\n\r\n", "127.0.0.1"),
        ):
            head = await asyncio.to_thread(raw_request, http_port, request)
            assert f"\r\nLocation: https://{location}:{https_port}/x?y=1\r\n" in head
        for method in ("GET", "POST"):  # DNS rebinding: a foreign name is sent nowhere
            async with c.request(method, "/", headers={"Host": "evil.example"}, allow_redirects=False) as r:
                assert r.status == 403 and "Location" not in r.headers


async def test_hsts_on_every_https_answer(tmp_path):
    async with (
        https_page(tmp_path, Device(), hsts_max_age_s=3600) as (_, port, _http),
        aiohttp.ClientSession(f"https://127.0.0.1:{port}") as c,
    ):
        trust = ssl.create_default_context(cafile=str(tmp_path / "page" / "web" / "ca.crt"))
        for path in ("/", "/api/v1/setup", "/api/v1/status", "/no-such-page"):
            async with c.get(path, ssl=trust) as r:
                assert r.headers["Strict-Transport-Security"] == "max-age=3600", path


async def test_a_new_address_is_in_the_next_handshake_without_a_restart(tmp_path):
    device = Device()
    async with https_page(tmp_path, device) as (listeners, port, _):
        ca = tmp_path / "page" / "web" / "ca.crt"
        trust = ssl.create_default_context(cafile=str(ca))
        async with aiohttp.ClientSession(f"https://127.0.0.1:{port}") as open_before:
            async with open_before.get("/api/v1/setup", ssl=trust, server_hostname=LAN) as r:
                assert r.status == 200
            fingerprint = listeners.webapp.certificates.ca.fingerprint
            device.addresses = [ipaddress.ip_address("10.0.0.7")]  # DHCP gave another
            with pytest.raises(ssl.SSLCertVerificationError):
                await asyncio.to_thread(handshake, port, "10.0.0.7", ca)
            certificates = listeners.webapp.certificates
            keeper = asyncio.get_running_loop().create_task(certificates.keep_current(every_s=0.02))
            try:
                for _ in range(250):
                    if certificates.names.addresses[0] == ipaddress.ip_address("10.0.0.7"):
                        break
                    await asyncio.sleep(0.02)
                assert await asyncio.to_thread(handshake, port, "10.0.0.7", ca)
                with pytest.raises(ssl.SSLCertVerificationError):
                    await asyncio.to_thread(handshake, port, LAN, ca)  # the old address is gone
                async with open_before.get("/api/v1/setup", ssl=trust, server_hostname=LAN) as r:
                    assert r.status == 200  # the connection open before keeps going
                # The owner renames the phone: the new .local name, the same CA and key.
                device.hostname = "hall-phone"
                for _ in range(250):
                    if certificates.names.hostname == "hall-phone":
                        break
                    await asyncio.sleep(0.02)
                assert await asyncio.to_thread(handshake, port, "hall-phone.local", ca)
                assert certificates.ca.fingerprint == fingerprint
            finally:
                keeper.cancel()
        async with (
            aiohttp.ClientSession(f"http://127.0.0.1:{listeners.runners[1].addresses[0][1]}") as c,
            c.get("/", headers={"Host": "hall-phone.local"}, allow_redirects=False) as r,
        ):
            assert r.status == 301  # the page answers to its new name


def test_the_ca_and_keys_are_kept_across_restarts_and_private(tmp_path):
    device = Device()
    first = Certificates(tmp_path, device)
    issued = (tmp_path / "https.crt").read_bytes()
    for name in ("ca.key", "https.key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700
    again = Certificates(tmp_path, device)  # the service restarted
    assert again.ca.fingerprint == first.ca.fingerprint
    assert (tmp_path / "https.crt").read_bytes() == issued  # nothing changed: not re-issued
    device.addresses = [ipaddress.ip_address("10.1.2.3")]
    third = Certificates(tmp_path, device)  # restarted with another address
    assert third.ca.fingerprint == first.ca.fingerprint
    assert (tmp_path / "https.crt").read_bytes() != issued
    assert third.server.current().public_key() == first.server.current().public_key()


def test_a_certificate_near_its_end_or_for_an_earlier_key_is_issued_anew(tmp_path):
    device = Device()
    certificates = Certificates(tmp_path, device)
    cert = certificates.server.current()
    assert certificates.server.fits(device())
    assert not certificates.server.fits(device(), now=cert.not_valid_after_utc - dt.timedelta(days=29))
    assert not certificates.server.fits(device(), now=cert.not_valid_before_utc - dt.timedelta(days=1))
    # Before this CA, the page signed its own certificate: it is replaced, the key kept.
    (tmp_path / "https.crt").write_bytes(certificates.ca.pem)
    assert not certificates.server.fits(device())
    assert Certificates(tmp_path, device).server.fits(device())


@pytest.mark.parametrize(
    ("web", "problem"),
    [
        ({"http_listen": "0.0.0.0:80"}, "web.http_listen: only with web.https = true"),
        ({"https": True, "listen": "0.0.0.0:443", "http_listen": "[::]:443"}, "must be another port"),
        ({"https": True, "http_listen": "port 80"}, "web.http_listen: must be HOST:PORT"),
        ({"https": True, "hsts_max_age_s": -1}, "web.hsts_max_age_s:"),
        ({"https": "yes"}, "web.https:"),
    ],
)
def test_bad_https_settings_are_refused_by_name(web, problem):
    with pytest.raises(ConfigError, match=problem):
        build({"web": web})


CHROMIUM = "/usr/bin/chromium"


def trust_in_nss(nssdb: Path, ca: Path) -> None:
    """``ca`` as a trusted authority for websites in a browser profile's NSS store."""
    for args in (["-N", "--empty-password"], ["-A", "-t", "C,,", "-n", "phone CA", "-i", str(ca)]):
        subprocess.run(["certutil", "-d", f"sql:{nssdb}", *args], check=True, capture_output=True)


@pytest.mark.skipif(
    not (shutil.which(CHROMIUM) and shutil.which("certutil")),
    reason="needs chromium and certutil (libnss3-tools)",
)
async def test_chromium_trusting_the_device_ca_opens_the_page_without_a_warning(tmp_path):
    """The owner's browser after trusting the CA once: Chromium with the CA in its profile's NSS
    store (as its certificate settings import it), HOSTNAME.local resolved to the listener."""
    from playwright.async_api import Error, async_playwright, expect

    async with https_page(tmp_path, Device()) as (listeners, https_port, http_port):
        home = tmp_path / "home"
        nssdb = home / ".pki" / "nssdb"
        nssdb.mkdir(parents=True)
        ca = tmp_path / "page" / "web" / "ca.crt"
        await asyncio.to_thread(trust_in_nss, nssdb, ca)
        names = f"MAP {HOST}.local 127.0.0.1, MAP stranger.example 127.0.0.1"
        async with async_playwright() as p:
            browser = await p.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", f"--host-resolver-rules={names}"],
                env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
            )  # fmt: skip
            try:
                page = await browser.new_page()
                # Typed as plain HTTP: sent to HTTPS, the certificate trusted, HSTS given.
                answer = await page.goto(f"http://{HOST}.local:{http_port}/")
                assert page.url == f"https://{HOST}.local:{https_port}/"
                assert answer is not None and answer.ok
                assert answer.headers["strict-transport-security"] == "max-age=604800"
                await page.get_by_label("Admin password", exact=True).fill(PASSWORD)
                await page.keyboard.press("Enter")
                await page.get_by_role("link", name="System").click()
                fingerprint = listeners.webapp.certificates.ca.fingerprint
                await expect(page.locator("#https-facts")).to_contain_text(fingerprint)
                await expect(page.locator("#https-facts")).to_contain_text(f"{HOST}.local")
                assert (await page.goto(f"https://127.0.0.1:{https_port}/")).ok  # the address
                with pytest.raises(Error, match="ERR_CERT_COMMON_NAME_INVALID"):
                    await page.goto(f"https://stranger.example:{https_port}/")  # a name not its own
            finally:
                await browser.close()
