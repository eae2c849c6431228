"""A stand-in for a JAMS server (Jami Account Management Server), as far as jamid 13.7 talks to one.

JAMS itself is a Java server not packaged for Debian, and its source could not be read here: what
this stand-in answers is shaped by what the daemon sends and reads (jami-daemon 13.7.0,
src/jamidht/server_account_manager.cpp and account_manager.cpp; opendht 2.4.12 for the HTTP client,
the value format and the signatures). It holds each user's account key, as JAMS does, so the user's
Jami ID is the server's to give:

- ``POST /api/auth/device`` (Basic auth, JSON ``{"csr", "deviceName"}``): the CSR's key gets a device
  certificate signed by the user's account key; the account certificate is signed by the server's
  CA. The answer carries the chain (device, account, CA: the daemon takes the device's issuer as
  the account), ``deviceReceipt`` (JSON: the account ID, the device's key ID, ``eth``, and
  ``announce``: the device announcement the daemon puts on the DHT, an opendht value signed by the
  account key) and ``receiptSignature`` (the receipt signed by the account key, checked at every
  later start by AccountManager::useIdentity). A wrong password is a 401.
- ``POST /api/login`` with the device's certificate as TLS client certificate: a device token
  (``access_token``, ``scope`` DEVICE, ``expires_in``).
- ``POST /api/auth/contacts`` (the device's contacts, Bearer): the user's contacts, here as kept.
- ``GET /api/auth/devices`` (Bearer): the user's devices (``deviceId``: the 256-bit key ID, ``alias``).

Every request is logged (a JSON line each in ``requests.jsonl``). Run as
``python -m tests.jami.jams DIR USER PASSWORD``: it makes its CA and TLS certificate in DIR,
listens on 127.0.0.1 (a free port, written to DIR/port once it listens) and answers until SIGTERM.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import ipaddress
import json
import secrets
import signal
import ssl
import sys
from dataclasses import dataclass, field
from pathlib import Path

import msgpack
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPublicKeyTypes
from cryptography.x509.oid import NameOID

TOKEN_LIFETIME_S = 3600
_DAY = dt.timedelta(days=1)


def key_id(public_key: CertificateIssuerPublicKeyTypes) -> bytes:
    """opendht's PublicKey::getId (gnutls_pubkey_get_key_id, SHA-1): a Jami ID, a device's InfoHash."""
    return hashlib.sha1(_spki(public_key)).digest()


def long_key_id(public_key: CertificateIssuerPublicKeyTypes) -> bytes:
    """opendht's PublicKey::getLongId (the SHA-256 key ID): the daemon's Account.deviceID."""
    return hashlib.sha256(_spki(public_key)).digest()


def _spki(public_key: CertificateIssuerPublicKeyTypes) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def sign(key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    """opendht's PrivateKey::sign: RSA PKCS#1 v1.5 over SHA-512 (checked with GNUTLS_SIGN_RSA_SHA512)."""
    return key.sign(data, padding.PKCS1v15(), hashes.SHA512())


def device_announcement(account_key: rsa.RSAPrivateKey, device_key: rsa.RSAPublicKey) -> bytes:
    """The packed, signed dht::Value of a DeviceAnnouncement (jami_contact.h: a map of ``dev``, the
    device's key ID, and ``pk``, its public key), as ArchiveAccountManager::makeReceipt makes it.

    The signature covers opendht's Value::msgpack_pack_to_sign: a map of seq, owner (the signer's
    public key, DER), type (USER_DATA, 0) and data, in that order; the daemon unpacks the value,
    packs that part again and checks it (parseAnnounce, then checkSignature).
    """
    data = msgpack.packb({"dev": key_id(device_key), "pk": _spki(device_key)}, use_bin_type=True)
    body = {"seq": 0, "owner": _spki(account_key.public_key()), "type": 0, "data": data}
    signature = sign(account_key, msgpack.packb(body, use_bin_type=True))
    return msgpack.packb({"id": 0, "dat": {"body": body, "sig": signature}}, use_bin_type=True)


def _name(common: str, uid: str = "") -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COMMON_NAME, common)]
    if uid:
        parts.append(x509.NameAttribute(NameOID.USER_ID, uid))
    return x509.Name(parts)


def _certificate(
    subject: x509.Name,
    public_key: CertificateIssuerPublicKeyTypes,
    issuer: x509.Name,
    issuer_key: rsa.RSAPrivateKey,
    *,
    ca: bool,
    san: x509.GeneralName | None = None,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _DAY)
        .not_valid_after(now + 365 * _DAY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName([san]), critical=False)
    return builder.sign(issuer_key, hashes.SHA512())


def _pem(*certificates: x509.Certificate) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certificates)


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class User:
    """A JAMS user: a password, and the account (its key, its certificate) the server keeps."""

    name: str
    password: str = field(repr=False)
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    devices: dict[str, str] = field(default_factory=dict)  # long key ID (hex) -> device name
    contacts: list[dict[str, object]] = field(default_factory=list)

    @property
    def jami_id(self) -> str:
        return key_id(self.key.public_key()).hex()


class StandInJams:
    """The server's state: its CA, its users, the device tokens it gave."""

    def __init__(self, directory: Path, users: dict[str, str]) -> None:
        self.directory = directory
        self.ca_key = _new_key()
        ca_name = _name("JAMS stand-in CA")
        self.ca = _certificate(ca_name, self.ca_key.public_key(), ca_name, self.ca_key, ca=True)
        self.users = {name: self._user(name, password) for name, password in users.items()}
        self.tokens: dict[str, User] = {}
        self.log = (directory / "requests.jsonl").open("a", buffering=1)

    def _user(self, name: str, password: str) -> User:
        key = _new_key()
        jami_id = key_id(key.public_key()).hex()
        # An account certificate is a CA: it issues its devices' certificates.
        cert = _certificate(_name(name, jami_id), key.public_key(), self.ca.subject, self.ca_key, ca=True)
        return User(name, password, key, cert)

    def tls(self) -> ssl.SSLContext:
        """The server's TLS: a certificate for 127.0.0.1 from its CA; a client certificate from
        its CA (a device's, for /api/login) is asked for, not required."""
        key = _new_key()
        cert = _certificate(
            _name("127.0.0.1"), key.public_key(), self.ca.subject, self.ca_key, ca=False,
            san=x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        )  # fmt: skip
        (self.directory / "ca.pem").write_text(_pem(self.ca))
        (self.directory / "tls.pem").write_text(_pem(cert, self.ca))
        (self.directory / "tls.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=self.directory / "ca.pem")
        context.load_cert_chain(self.directory / "tls.pem", self.directory / "tls.key")
        context.verify_mode = ssl.CERT_OPTIONAL
        return context

    # --- the endpoints ------------------------------------------------------------------------

    async def enrol_device(self, request: web.Request) -> web.Response:
        user = self._basic_user(request)
        if user is None:
            return web.json_response({"error": "wrong user or password"}, status=401)
        try:
            body = await request.json()
            csr = x509.load_pem_x509_csr(body["csr"].encode())
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return web.json_response({"error": f"bad request: {exc}"}, status=400)
        device_key = csr.public_key()
        if not csr.is_signature_valid or not isinstance(device_key, rsa.RSAPublicKey):
            return web.json_response({"error": "the CSR is not signed by an RSA key"}, status=400)
        device = _certificate(csr.subject, device_key, user.certificate.subject, user.key, ca=False)
        user.devices[long_key_id(device_key).hex()] = str(body.get("deviceName", ""))
        # The receipt as ArchiveAccountManager::makeReceipt writes it (useIdentity reads id and dev).
        receipt = json.dumps(
            {
                "id": user.jami_id,
                "dev": key_id(device_key).hex(),
                "eth": "",
                "announce": base64.b64encode(device_announcement(user.key, device_key)).decode(),
            },
            separators=(",", ":"),
        )
        return web.json_response(
            {
                "certificateChain": _pem(device, user.certificate, self.ca),
                "deviceReceipt": receipt,
                "receiptSignature": base64.b64encode(sign(user.key, receipt.encode())).decode(),
                "displayName": user.name,
            }
        )

    async def login(self, request: web.Request) -> web.Response:
        user = self._device_user(request)
        if user is None:
            return web.json_response({"error": "no enrolled device certificate"}, status=401)
        token = secrets.token_urlsafe(24)
        self.tokens[token] = user
        return web.json_response({"access_token": token, "scope": "DEVICE", "expires_in": TOKEN_LIFETIME_S})

    async def contacts(self, request: web.Request) -> web.Response:
        user = self._bearer_user(request)
        if user is None:
            return web.json_response({"error": "no token"}, status=401)
        sent = await request.json()
        if not isinstance(sent, list):
            return web.json_response({"error": "contacts: not a list"}, status=400)
        known = {c.get("uri"): c for c in user.contacts}
        known.update({c.get("uri"): c for c in sent if isinstance(c, dict)})
        user.contacts = list(known.values())
        return web.json_response(user.contacts)

    async def devices(self, request: web.Request) -> web.Response:
        user = self._bearer_user(request)
        if user is None:
            return web.json_response({"error": "no token"}, status=401)
        return web.json_response([{"deviceId": d, "alias": a} for d, a in user.devices.items()])

    async def unknown(self, request: web.Request) -> web.Response:
        return web.json_response({"error": "not a JAMS endpoint here"}, status=404)

    # --- who asks -------------------------------------------------------------------------------

    def _basic_user(self, request: web.Request) -> User | None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Basic":
            return None
        try:
            name, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except ValueError:
            return None
        user = self.users.get(name)
        if user is None or not secrets.compare_digest(user.password, password):
            return None
        return user

    def _bearer_user(self, request: web.Request) -> User | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return self.tokens.get(token) if scheme == "Bearer" else None

    def _device_user(self, request: web.Request) -> User | None:
        """The user whose enrolled device the TLS client certificate is (verified by the TLS
        layer against the CA: device, then account, then CA)."""
        tls = request.transport.get_extra_info("ssl_object") if request.transport else None
        der = tls.getpeercert(binary_form=True) if tls is not None else None
        if not der:
            return None
        device = x509.load_der_x509_certificate(der).public_key()
        device_id = long_key_id(device).hex()  # type: ignore[arg-type]
        return next((u for u in self.users.values() if device_id in u.devices), None)

    @web.middleware
    async def logged(self, request: web.Request, handler: web.RequestHandler) -> web.StreamResponse:
        response = await handler(request)
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        who = ""
        if scheme == "Basic":
            who = base64.b64decode(value).decode(errors="replace").partition(":")[0]
        tls = request.transport.get_extra_info("ssl_object") if request.transport else None
        entry = {
            "method": request.method,
            "path": request.path_qs,
            "auth": scheme,
            "user": who,
            "client_certificate": bool(tls is not None and tls.getpeercert(binary_form=True)),
            "user_agent": request.headers.get("User-Agent", ""),
            "status": response.status,
        }
        self.log.write(json.dumps(entry) + "\n")
        return response

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.logged])
        app.router.add_post("/api/auth/device", self.enrol_device)
        app.router.add_post("/api/login", self.login)
        app.router.add_post("/api/auth/contacts", self.contacts)
        app.router.add_get("/api/auth/devices", self.devices)
        app.router.add_route("*", "/{tail:.*}", self.unknown)
        return app


async def serve(directory: Path, users: dict[str, str]) -> None:
    jams = StandInJams(directory, users)
    (directory / "users.json").write_text(
        json.dumps(
            {u.name: {"jami_id": u.jami_id, "certificate": _pem(u.certificate)} for u in jams.users.values()}
        )
    )
    runner = web.AppRunner(jams.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=jams.tls())
    await site.start()
    port = runner.addresses[0][1]
    (directory / "port.tmp").write_text(str(port))
    (directory / "port.tmp").rename(directory / "port")
    stopped = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    await stopped.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1]), {sys.argv[2]: sys.argv[3]}))
