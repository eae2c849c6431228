"""A real nginx (Debian's nginx-light) serving files over HTTPS on loopback, with a CA the test makes.

The phone's provisioning tests fetch from it as a fleet would from the owner's server. nginx runs
in the foreground with no master process (so the PID the test holds is the server), every path
under the test's directory, and is stopped by that PID whatever the test did.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.net import free_port, stop, wait_listening

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@dataclass(frozen=True)
class Pem:
    cert: Path
    key: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write(directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Pem:
    pem = Pem(directory / f"{stem}.pem", directory / f"{stem}.key")
    pem.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))  # fmt: skip
    return pem


class Authority:
    """A certificate authority made for one test, issuing the server's and clients' certificates."""

    def __init__(self, directory: Path, name: str) -> None:
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        self.cert = (
            x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(self.key, hashes.SHA256())
        )  # fmt: skip
        self.pem = _write(directory, name, self.cert, self.key)

    def issue(self, stem: str, *, server: bool) -> Pem:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder().subject_name(_name(stem)).issuer_name(self.cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )  # fmt: skip
        if server:
            names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return _write(self.directory, stem, builder.sign(self.key, hashes.SHA256()), key)


@dataclass
class Nginx:
    """A running nginx: ``url`` serves ``www``; ``mtls_url`` the same files to clients with a
    certificate from ``ca`` only. ``log`` is its access log (request, status, If-None-Match)."""

    url: str
    mtls_url: str
    www: Path
    log: Path
    process: subprocess.Popen[bytes]

    def requests(self) -> list[tuple[str, int]]:
        """``(path, status)`` of every request served so far."""
        return [(path, status) for path, status, _ in self.timed()]

    def timed(self) -> list[tuple[str, int, float]]:
        """``(path, status, time)`` of every request served so far (time: epoch seconds, to the ms)."""
        # nginx logs a request after its answer is sent: the client can have it before the line is
        # written (seen once in CI). Read until the log stays the same for 50 ms.
        text = self.log.read_text()
        for _ in range(40):
            time.sleep(0.05)
            again = self.log.read_text()
            if again == text:
                break
            text = again
        out = []
        for line in text.splitlines():
            if line.startswith("/"):  # not the readiness probe's bare connection
                path, status, at = line.split()[:3]
                out.append((path, int(status), float(at)))
        return out


CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log info;
events {{ worker_connections 256; }}
http {{
    types {{ text/plain toml; }}
    default_type application/octet-stream;
    log_format fleet '$uri $status $msec "$http_if_none_match" "$http_if_modified_since"';
    access_log {root}/access.log fleet;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    root {root}/www;
    server {{
        listen 127.0.0.1:{port} ssl;
    }}
    server {{
        listen 127.0.0.1:{mtls_port} ssl;
        ssl_client_certificate {ca};
        ssl_verify_client on;
    }}
}}
"""


@contextlib.contextmanager
def serving(root: Path, ca: Authority) -> Iterator[Nginx]:
    """nginx on two free loopback ports with a server certificate from ``ca``; stopped by PID."""
    (root / "www").mkdir(parents=True)
    (root / "tmp").mkdir()
    server = ca.issue("server", server=True)
    port, mtls_port = free_port(), free_port()
    conf = root / "nginx.conf"
    conf.write_text(CONF.format(root=root, cert=server.cert, key=server.key, port=port, mtls_port=mtls_port,
                                ca=ca.pem.cert))  # fmt: skip
    process = subprocess.Popen([NGINX, "-p", str(root), "-c", str(conf)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_listening(port, process, timeout=5)
        wait_listening(mtls_port, process, timeout=5)
        yield Nginx(f"https://127.0.0.1:{port}", f"https://127.0.0.1:{mtls_port}", root / "www",
                    root / "access.log", process)  # fmt: skip
    finally:
        stop(process, 5)
