"""Enrolment with the organisation's JAMS server: what the phone gives jamid 13.7 for it, and what it
says when the server does not enrol it.

At ``addAccount`` with ``Account.managerUri`` the daemon POSTs a CSR to ``<uri>/api/auth/device``
with the user and password as Basic auth, and takes its certificate chain and device receipt from
the answer (jami-daemon 13.7 src/jamidht/server_account_manager.cpp, initAuthentication). Over
HTTPS it trusts the CAs of ``CA_ROOT_FILE`` when that is set, else the system's (opendht 2.4.12
src/http.cpp, newTlsClientContext): a JAMS with a certificate from the organisation's own CA needs
that CA in a bundle beside the system's, for the daemon's other HTTPS (name server, DHT proxy)
still needs those.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from appliance.durable import atomic_write
from appliance.ports import TelephonyError

if TYPE_CHECKING:
    from appliance.config.schema import JamiSection

NOTICE_JAMS = "jami.jams"
TRUST_FILE = "jams-trust.pem"  # beside the daemon's data: the system's CAs and the JAMS's


@dataclass(frozen=True, slots=True)
class JamsEnrolment:
    """A Jami account from the organisation's JAMS server instead of a new identity of its own."""

    uri: str
    username: str
    password: str = field(default="", repr=False)
    ca_file: str = ""  # a PEM file of the CA the server's certificate is from; empty: the system's CAs

    @classmethod
    def of(cls, jami: JamiSection) -> JamsEnrolment | None:
        """The settings' enrolment (jami.manager_*), if they name a JAMS."""
        if not jami.manager_uri:
            return None
        return cls(jami.manager_uri, jami.manager_username, jami.manager_password, jami.manager_ca_file)


class EnrolmentRefused(TelephonyError):  # noqa: N818 - what the server did
    """The daemon made no account from the JAMS: it reports ERROR_GENERIC and removes the account
    alike for a refusal (any 4xx, a wrong password is a 401) and for a server it could not reach
    (jamiaccount.cpp: the AuthFailureCallback of loadAccount), so the two cannot be told apart."""

    def __init__(self, enrolment: JamsEnrolment, why: str) -> None:
        super().__init__(f"the JAMS server did not enrol this phone ({why})")
        self.words = (
            f"The JAMS server {enrolment.uri} did not enrol this phone as {enrolment.username}: a "
            "wrong user name or password, a server that refused it, or one the phone could not "
            "reach or does not trust. The phone has no Jami account until jami.manager_username, "
            "manager_password or manager_uri change (in the settings or the profile) or it restarts; "
            "it does not try again by itself."
        )


def trust_bundle(root: Path, ca_file: str) -> Path:
    """``root/jams-trust.pem``: the system's CAs and ``ca_file``'s, for the daemon's CA_ROOT_FILE
    (which replaces the system's CAs rather than adding to them)."""
    try:
        own = Path(ca_file).read_bytes()
    except OSError as exc:
        raise TelephonyError(f"jami.manager_ca_file {ca_file}: {exc.strerror}") from None
    if b"-----BEGIN CERTIFICATE-----" not in own:
        raise TelephonyError(f"jami.manager_ca_file {ca_file}: not a PEM certificate")
    system = ssl.get_default_verify_paths().cafile
    bundle = Path(system).read_bytes() if system and Path(system).is_file() else b""
    path = root / TRUST_FILE
    atomic_write(path, bundle.rstrip(b"\n") + b"\n" + own if bundle else own, 0o644)
    return path
