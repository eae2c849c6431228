"""HTTPS for the web page: the device's own certificate authority, and the server certificate it
issues for the names and addresses the device has now.

A phone on a LAN has no name a public CA would sign. So the device makes a CA of its own once
(EC P-256, its key 0600, kept across restarts and factory resets like an SSH host key); the owner
trusts it once (downloaded from the System page, its fingerprint compared), and from then on the
browser trusts every server certificate it issues: for the hostname, ``HOSTNAME.local``,
``localhost`` and the device's addresses, re-issued when DHCP gives a new one, with no new
warning to click through.

The CA is name-constrained (RFC 5280 4.2.1.10, enforced by OpenSSL, NSS and Chrome for a
trusted root too): it can sign only ``.local``, ``localhost`` and home-network names and private,
loopback and link-local addresses. Whoever takes the key off the SD card cannot use the owner's
trust in it to impersonate a public site.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from appliance.durable import atomic_write

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
CA_LIFETIME = dt.timedelta(days=20 * 365)  # the device's life: trusted once
# Apple refuses server certificates of more than 825 days even from a root the user added; 397
# is what every browser accepts. Re-issued a month before the end (or once the clock, set by NTP
# after a boot without a battery-backed clock, says so).
SERVER_LIFETIME = dt.timedelta(days=397)
RENEW_BEFORE = dt.timedelta(days=30)
BACKDATE = dt.timedelta(days=1)  # a client whose clock is a little behind still accepts it

# The suffixes a LAN's own DNS gives (RFC 6762 mDNS, RFC 8375, ICANN's .internal, OpenWrt's and
# many routers' .lan): the CA may sign names under them, and nothing public.
LAN_DOMAINS = ("local", "localhost", "home.arpa", "internal", "lan")
# Addresses a browser on the LAN can type: private, CGNAT (a VPN such as Tailscale), IPv4
# link-local (a laptop cabled straight to the adapter, no DHCP), loopback, IPv6 unique local.
# IPv6 link-local (fe80::/10) is left out: a URL cannot carry its zone (%eth0) in today's
# browsers, so nobody can reach the page there. Global IPv6 addresses are left out too: nobody
# types one, the ISP's prefix and privacy addresses change, and a CA trusted for public
# addresses is a CA that can impersonate them.
LAN_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16",
        "127.0.0.0/8", "::1/128", "fc00::/7",
    )
)  # fmt: skip
LOOPBACK = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))


def lan_address(address: IPAddress) -> bool:
    """Whether the certificate may name ``address`` (see :data:`LAN_NETWORKS`)."""
    return any(address.version == n.version and address in n for n in LAN_NETWORKS)


@dataclass(frozen=True)
class Identity:
    """What the server certificate names: the device's hostname, the other names it answers to
    (``web.allowed_hosts``) and its current addresses."""

    hostname: str
    addresses: tuple[IPAddress, ...] = ()
    extra_names: tuple[str, ...] = ()

    @classmethod
    def of(cls, hostname: str, addresses: Iterable[IPAddress], extra_names: Iterable[str] = ()) -> Identity:
        """Normalised: lower case, the addresses a browser can reach (:func:`lan_address`) and
        loopback, sorted, so two readings of the same device compare equal."""
        usable = {a for a in addresses if lan_address(a)} | set(LOOPBACK)
        return cls(
            hostname.lower().rstrip("."),
            tuple(sorted(usable, key=lambda a: (a.version, int(a)))),
            tuple(sorted({n.lower() for n in extra_names})),
        )

    @property
    def short(self) -> str:
        return self.hostname.partition(".")[0]

    def names(self) -> tuple[str, ...]:
        """The DNS names: ``HOSTNAME.local`` first (what the page is advertised as)."""
        found = [f"{self.short}.local", self.short, self.hostname, "localhost", *self.extra_names]
        return tuple(dict.fromkeys(n for n in found if n))


class LocalCA:
    """The device's CA: ``ca.key`` (0600) and ``ca.crt`` in ``folder``, made on the first start."""

    def __init__(self, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
        self.certificate, self.key = certificate, key

    @classmethod
    def ensure(cls, folder: Path, identity: Identity) -> LocalCA:
        """The CA kept in ``folder``, or a new one (for ``identity``'s names) written there."""
        cert_path, key_path = folder / "ca.crt", folder / "ca.key"
        if cert_path.exists() and key_path.exists():
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            assert isinstance(key, ec.EllipticCurvePrivateKey), key_path
            return cls(x509.load_pem_x509_certificate(cert_path.read_bytes()), key)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        name = x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Jami phone"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{identity.short} local CA {now:%Y-%m-%d}"),
        ])  # fmt: skip
        # Besides the LAN's suffixes, the names the device has at its first start: a bare
        # hostname (a router's DNS) or an office name from web.allowed_hosts is no suffix's.
        dns = dict.fromkeys([*LAN_DOMAINS, *(n for n in identity.names() if not _under_lan_domain(n))])
        constraints = x509.NameConstraints(
            permitted_subtrees=[
                *(x509.DNSName(n) for n in dns),
                *(x509.IPAddress(n) for n in LAN_NETWORKS),
            ],
            excluded_subtrees=None,
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + CA_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(cert_sign=True), critical=True)
            .add_extension(constraints, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        atomic_write(key_path, _pem_key(key), mode=0o600)
        atomic_write(cert_path, certificate.public_bytes(serialization.Encoding.PEM), mode=0o644)
        log.info("web: made this device's certificate authority, SHA-256 %s", fingerprint(certificate))
        return cls(certificate, key)

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.certificate)

    def permits(self, name: str) -> bool:
        """Whether the CA's name constraints allow it to sign the DNS name ``name``."""
        constraints = self.certificate.extensions.get_extension_for_class(x509.NameConstraints).value
        dns = [s.value for s in constraints.permitted_subtrees or () if isinstance(s, x509.DNSName)]
        return any(name == d or name.endswith(f".{d}") for d in dns)

    def signable(self, identity: Identity) -> list[str]:
        """``identity``'s names this CA may sign (all, unless the hostname changed since)."""
        return [n for n in identity.names() if self.permits(n)]

    def issue(self, identity: Identity, key: ec.EllipticCurvePublicKey) -> x509.Certificate:
        """A server certificate for ``identity``'s names the CA may sign and its addresses."""
        names = self.signable(identity)
        left_out = [n for n in identity.names() if n not in names]
        if left_out:  # a hostname or allowed_hosts name given after the CA was made
            log.warning("web: the certificate cannot name %s (not this device's CA's names)", left_out)
        now = dt.datetime.now(dt.UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(self.certificate.subject)
            .public_key(key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(min(now + SERVER_LIFETIME, self.certificate.not_valid_after_utc))
            .add_extension(
                x509.SubjectAlternativeName(
                    [*(x509.DNSName(n) for n in names), *(x509.IPAddress(a) for a in identity.addresses)]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )


class ServerCertificate:
    """``https.key`` (0600, made once) and ``https.crt`` (the certificate, then the CA's: the
    browser's certificate viewer shows the CA and its fingerprint) in ``folder``."""

    def __init__(self, folder: Path, ca: LocalCA) -> None:
        self.cert_path, self.key_path = folder / "https.crt", folder / "https.key"
        self.ca = ca
        self._key = self._kept_key()

    def _kept_key(self) -> ec.EllipticCurvePrivateKey:
        if self.key_path.exists():
            key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
            if isinstance(key, ec.EllipticCurvePrivateKey):
                return key
        key = ec.generate_private_key(ec.SECP256R1())
        atomic_write(self.key_path, _pem_key(key), mode=0o600)
        self.cert_path.unlink(missing_ok=True)  # whatever it was, it is not for this key
        return key

    def current(self) -> x509.Certificate | None:
        try:
            return x509.load_pem_x509_certificate(self.cert_path.read_bytes())
        except (OSError, ValueError):
            return None

    def fits(self, identity: Identity, now: dt.datetime | None = None) -> bool:
        """Whether the certificate kept is this CA's, for this key, names ``identity`` and is
        not about to end (nor, after the clock was set, begins later)."""
        cert = self.current()
        if cert is None or cert.issuer != self.ca.certificate.subject:
            return False
        try:
            cert.verify_directly_issued_by(self.ca.certificate)
        except (ValueError, TypeError, InvalidSignature):
            return False
        if cert.public_key() != self._key.public_key():
            return False
        now = now or dt.datetime.now(dt.UTC)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc - RENEW_BEFORE:
            return False
        return _names_of(cert) == (frozenset(self.ca.signable(identity)), frozenset(identity.addresses))

    def issue(self, identity: Identity) -> x509.Certificate:
        cert = self.ca.issue(identity, self._key.public_key())
        chain = cert.public_bytes(serialization.Encoding.PEM) + self.ca.pem
        atomic_write(self.cert_path, chain, mode=0o644)
        return cert

    def ensure(self, identity: Identity) -> bool:
        """Issue a certificate unless the kept one fits; whether it issued one."""
        if self.fits(identity):
            return False
        self.issue(identity)
        return True


def _names_of(cert: x509.Certificate) -> tuple[frozenset[str], frozenset[IPAddress]]:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    addresses = [a for a in san.get_values_for_type(x509.IPAddress) if isinstance(a, IPAddress)]
    return frozenset(san.get_values_for_type(x509.DNSName)), frozenset(addresses)


def _under_lan_domain(name: str) -> bool:
    return any(name == d or name.endswith(f".{d}") for d in LAN_DOMAINS)


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign, crl_sign=cert_sign,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """TLS 1.2 and later; :func:`reload` puts a re-issued certificate in for new handshakes."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def reload(context: ssl.SSLContext, cert: Path, key: Path) -> None:
    """OpenSSL's SSL_CTX_use_certificate on the live context: connections open keep the
    certificate they shook hands with, each new handshake gets this one; no listener restarts."""
    context.load_cert_chain(cert, key)


def fingerprint(cert: x509.Certificate | Path) -> str:
    """SHA-256 of the certificate, as a browser's certificate viewer shows it."""
    if isinstance(cert, Path):
        cert = x509.load_pem_x509_certificate(cert.read_bytes())
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))
