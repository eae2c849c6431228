"""The one check of an OpenSSH public key (the System page, root's service, Imager's settings):
keys made by the real ssh-keygen pass with its fingerprint; hostile lines are refused, saying why."""

import base64
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from appliance.provision.sshkeys import MAX_LINE, BadKeyError, parse_key

KEYGEN = shutil.which("ssh-keygen")
needs_keygen = pytest.mark.skipif(KEYGEN is None, reason="needs ssh-keygen (openssh-client)")

MADE = [("ed25519", None), ("ecdsa", 256), ("ecdsa", 384), ("ecdsa", 521), ("rsa", 2048), ("rsa", 3072)]


def keygen(directory: Path, kind: str, bits: int | None, comment: str = "alice@laptop") -> Path:
    path = directory / f"id_{kind}_{bits}"
    size = ["-b", str(bits)] if bits else []
    subprocess.run([KEYGEN, "-q", "-t", kind, *size, "-N", "", "-C", comment, "-f", str(path)], check=True)
    return path.with_suffix(".pub")


def keygen_fingerprint(pub: Path) -> tuple[int, str, str]:
    """``ssh-keygen -lf``: bits, SHA256:..., and the rest (comment and type)."""
    bits, fp, rest = subprocess.run(
        [KEYGEN, "-lf", str(pub)], capture_output=True, text=True, check=True
    ).stdout.split(" ", 2)
    return int(bits), fp, rest.strip()


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[tuple[str, int | None], Path]:
    if KEYGEN is None:
        pytest.skip("needs ssh-keygen")
    directory = tmp_path_factory.mktemp("keys")
    return {(kind, bits): keygen(directory, kind, bits) for kind, bits in MADE}


@needs_keygen
@pytest.mark.parametrize(("kind", "bits"), MADE, ids=str)
def test_keys_made_by_ssh_keygen_pass_with_its_fingerprint(keys, kind, bits):
    pub = keys[(kind, bits)]
    line = pub.read_text()
    key = parse_key(line)
    made_bits, fingerprint, _ = keygen_fingerprint(pub)
    assert key.fingerprint == fingerprint
    assert key.bits == made_bits
    assert key.comment == "alice@laptop"
    assert key.line == line.strip()  # re-made from the parts, the same line


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


@needs_keygen
@pytest.mark.parametrize("kind", ["sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com"])
def test_security_key_types_pass_and_ssh_keygen_agrees(tmp_path, kind):
    # No FIDO token here: the body is laid out by hand as OpenSSH's sshkey.c writes it, and
    # ssh-keygen reading it back to the same fingerprint shows the layout is the real one.
    if kind.startswith("sk-ssh-ed25519"):
        body = _string(kind.encode()) + _string(bytes(range(32)))
    else:  # a point on the curve (ssh-keygen checks it)
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        point = (
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        )
        body = _string(kind.encode()) + _string(b"nistp256") + _string(point)
    line = f"{kind} {base64.b64encode(body + _string(b'ssh:')).decode()} yubikey"
    (tmp_path / "sk.pub").write_text(line + "\n")
    key = parse_key(line)
    assert key.fingerprint == keygen_fingerprint(tmp_path / "sk.pub")[1]
    with pytest.raises(BadKeyError, match="no ssh: application"):
        parse_key(f"{kind} {base64.b64encode(body + _string(b'web:')).decode()}")


def test_a_pasted_line_keeps_one_key_and_its_comment():
    body = base64.b64encode(_string(b"ssh-ed25519") + _string(bytes(32))).decode()
    key = parse_key(f"  ssh-ed25519 {body}  Alice's laptop  \n")
    assert key.comment == "Alice's laptop"
    assert key.line == f"ssh-ed25519 {body} Alice's laptop"


ED = base64.b64encode(_string(b"ssh-ed25519") + _string(bytes(32))).decode()


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (f'command="/bin/sh" ssh-ed25519 {ED} x', "options before the key"),
        (f'from="10.0.0.0/8",no-pty ssh-ed25519 {ED}', "options before the key"),
        (f"restrict ssh-ed25519 {ED}", "options before the key"),
        (f"ssh-ed25519 {ED} a\nssh-ed25519 {ED} b", "more than one line"),
        (f"ssh-ed25519 {ED} a\rcommand=x", "more than one line"),
        (f"ssh-ed25519 {ED[:-4]}!!!!", "not base64"),
        (f"ssh-ed25519 {ED[:-2]}", "not base64"),
        ("ssh-ed25519", "no body"),
        (f"ssh-rsa {ED}", "is a 'ssh-ed25519' key, not the ssh-rsa"),
        (f"ecdsa-sha2-nistp256 {ED}", "not the ecdsa-sha2-nistp256"),
        ("ssh-ed25519 " + base64.b64encode(_string(b"ssh-ed25519") + _string(bytes(31))).decode(), "32-byte"),
        (
            "ssh-ed25519 " + base64.b64encode(_string(b"ssh-ed25519") + _string(bytes(32)) + b"x").decode(),
            "bytes after the key",
        ),
        ("ssh-ed25519 " + base64.b64encode(b"\xff\xff\xff\xff").decode(), "ends early"),
        ("ssh-dss AAAAB3NzaC1kc3MAAACBAP", "DSA keys are not accepted"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "not an OpenSSH public key"),
        ("", "not an OpenSSH public key"),
        (f"ssh-ed25519 {ED} tab\there", "control character"),
        (f"ssh-ed25519 {ED} \x1b[31mred", "control character"),
        (
            f"ssh-ed25519 {ED} " + "\udcff",
            "not valid UTF-8",
        ),  # a byte that was not UTF-8, decoded as Python does
        (f"ssh-ed25519 {ED} " + "c" * 300, "comment is too long"),
        ("ssh-ed25519 " + "A" * MAX_LINE, "too long"),
    ],
    ids=lambda v: v[:30] if isinstance(v, str) else v,
)
def test_hostile_lines_are_refused_saying_why(line, why):
    with pytest.raises(BadKeyError, match=why.replace("(", r"\(").replace("'", "'")):
        parse_key(line)


def _rsa(bits: int, exponent: int = 65537) -> str:
    modulus = (1 << (bits - 1)) | 1

    def mpint(n: int) -> bytes:
        raw = n.to_bytes((n.bit_length() + 8) // 8, "big")  # a leading zero keeps it positive
        return _string(raw)

    return "ssh-rsa " + base64.b64encode(_string(b"ssh-rsa") + mpint(exponent) + mpint(modulus)).decode()


@needs_keygen
def test_rsa_under_2048_bits_is_refused_also_when_ssh_keygen_made_it(tmp_path):
    short = keygen(tmp_path, "rsa", 1024)
    with pytest.raises(BadKeyError, match="1024 bits: at least 2048"):
        parse_key(short.read_text())


def test_rsa_sizes_and_exponents():
    assert parse_key(_rsa(2048)).bits == 2048
    with pytest.raises(BadKeyError, match="2047 bits"):
        parse_key(_rsa(2047))
    with pytest.raises(BadKeyError, match="exponent"):
        parse_key(_rsa(2048, exponent=65536))


def test_bytes_that_are_not_utf8_are_refused():
    data = f"ssh-ed25519 {ED} caf".encode() + b"\xe9"
    with pytest.raises(BadKeyError, match="not valid UTF-8"):
        parse_key(data.decode("utf-8", "surrogateescape"))
