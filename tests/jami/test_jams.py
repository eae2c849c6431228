"""Enrolment with a JAMS server, on the real daemon, against the stand-in of tests/jami/jams.py.

The phone's own account code makes the account from the settings (jami.manager_*); the daemon
enrols over HTTPS with the stand-in's CA trusted (jami.manager_ca_file), joins the test's DHT and
announces the device the server gave it. A restart loads the account again, which is when the
daemon checks the receipt's signature by the account key (AccountManager::useIdentity). A wrong
password: one 401, no account, the phone up and saying why.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from cryptography import x509

from appliance.config.load import build
from appliance.drivers.jami import defs
from appliance.drivers.jami.client import JamiTelephony, JamsEnrolment
from appliance.phone.events import AccountChanged
from appliance.phone.model import Registration
from tests.jami.jams import long_key_id
from tests.net import stop
from tests.recorder import Recorder

from .conftest import requirements

pytestmark = requirements

ROOT = Path(__file__).resolve().parents[2]
USER, PASSWORD = "room12", "right password"


@contextlib.contextmanager
def stand_in_jams(netns: str, directory: Path) -> Iterator[str]:
    """The stand-in JAMS in the daemon's namespace, on its loopback, with one user; its URI.
    Stopped by PID."""
    directory.mkdir()
    with (directory / "jams.log").open("wb") as log:
        proc = subprocess.Popen(
            ["ip", "netns", "exec", netns, sys.executable, "-m", "tests.jami.jams", str(directory), USER, PASSWORD],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=ROOT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 20
            while not (directory / "port").exists():
                assert proc.poll() is None, (
                    f"the stand-in JAMS exited: {(directory / 'jams.log').read_text()}"
                )
                assert time.monotonic() < deadline, "the stand-in JAMS did not listen"
                time.sleep(0.05)
            yield f"https://127.0.0.1:{(directory / 'port').read_text()}"
        finally:
            stop(proc)


def served(directory: Path) -> list[tuple[str, str, str, int]]:
    """What the stand-in was asked: (method, path, how the asker showed who it is, status)."""
    asked = []
    for line in (directory / "requests.jsonl").read_text().splitlines():
        r = json.loads(line)
        who = f"Basic {r['user']}" if r["auth"] == "Basic" else r["auth"]
        asked.append(
            (r["method"], r["path"], who or ("certificate" if r["client_certificate"] else ""), r["status"])
        )
    return asked


def phone(root: Path, netns: str, dht: str, uri: str, ca: Path, password: str) -> JamiTelephony:
    """The phone's Jami side with its settings' JAMS enrolment (as assembly/drivers.py makes it)."""
    settings = {"manager_uri": uri, "manager_username": USER, "manager_password": password}
    manager = JamsEnrolment.of(build({"jami": {**settings, "manager_ca_file": str(ca)}}).jami)
    return JamiTelephony(
        root, display_name="Desk", bootstrap=[dht], wrapper=["ip", "netns", "exec", netns], manager=manager
    )


def registered(event: object) -> bool:
    return isinstance(event, AccountChanged) and event.account.registration is Registration.REGISTERED


async def until_served(directory: Path, count: int, timeout: float = 10.0) -> list[tuple[str, str, str, int]]:
    async with asyncio.timeout(timeout):
        while len(asked := served(directory)) < count:
            await asyncio.sleep(0.05)
    return asked


ENROLMENT = [
    ("POST", "/api/auth/device", f"Basic {USER}", 200),  # the CSR, with the user's password
    ("POST", "/api/login", "certificate", 200),  # a device token, for the device certificate
]
SYNC = {("POST", "/api/auth/contacts", "Bearer", 200), ("GET", "/api/auth/devices", "Bearer", 200)}


async def test_the_phone_enrols_and_keeps_the_account_the_jams_gave(
    netns: str, dht: str, tmp_path: Path
) -> None:
    jams = tmp_path / "jams"
    with stand_in_jams(netns, jams) as uri:
        core = phone(tmp_path / "phone", netns, dht, uri, jams / "ca.pem", PASSWORD)
        events = Recorder()
        try:
            await core.start(events)
            await events.wait_for(registered, 30)
            user = json.loads((jams / "users.json").read_text())[USER]
            assert core.jami_id == user["jami_id"]  # the server's account key, not one of the phone's
            chain = x509.load_pem_x509_certificates(
                (core.daemon.account_dir(core.account_id) / "ring_device.crt").read_bytes()
            )
            device, account, ca = chain
            assert account == x509.load_pem_x509_certificate(user["certificate"].encode())
            assert ca == x509.load_pem_x509_certificate((jams / "ca.pem").read_bytes())
            device.verify_directly_issued_by(account)  # by the account key, which the server holds
            account.verify_directly_issued_by(ca)
            assert core.device_id == long_key_id(device.public_key()).hex()  # type: ignore[arg-type]
            asked = await until_served(jams, 4)
            assert asked[:2] == ENROLMENT and set(asked[2:]) == SYNC
            # The daemon names the account after the JAMS user (a volatile detail, jamiaccount.cpp).
            volatile = await core._call("getVolatileAccountDetails", core.account_id)
            assert volatile[defs.ACCOUNT_REGISTERED_NAME] == USER
        finally:
            await core.stop()
            assert core.daemon.pids() == []

        again = phone(tmp_path / "phone", netns, dht, uri, jams / "ca.pem", PASSWORD)
        events = Recorder()
        try:
            await again.start(events)  # the daemon checks the stored receipt and chain (useIdentity)
            await events.wait_for(registered, 30)
            assert (again.account_id, again.jami_id) == (core.account_id, core.jami_id)
            asked = await until_served(jams, 7)
            assert [a for a in asked if a[1] == "/api/auth/device"] == ENROLMENT[:1]  # not enrolled twice
            assert asked[4] == ENROLMENT[1] and set(asked[5:]) == SYNC
        finally:
            await again.stop()
            assert again.daemon.pids() == []


async def test_a_wrong_password_leaves_the_phone_without_a_jami_account_and_says_why(
    netns: str, dht: str, tmp_path: Path
) -> None:
    jams = tmp_path / "jams"
    with stand_in_jams(netns, jams) as uri:
        core = phone(tmp_path / "phone", netns, dht, uri, jams / "ca.pem", "wrong password")
        events = Recorder()
        try:
            await core.start(events)  # the phone comes up (its page, its SIP lines), without the account
            assert [e.account.registration for e in events.events if isinstance(e, AccountChanged)] == [
                Registration.ERROR
            ]
            assert served(jams) == [("POST", "/api/auth/device", f"Basic {USER}", 401)]
            # Nothing is left to try again: the daemon removed the account, the phone remembers none.
            assert await core._call("getAccountList") == []
            assert not (tmp_path / "phone" / "account-id").exists()
            [notice] = core.notices.all()
            assert notice.text.startswith(
                f"The JAMS server {uri} did not enrol this phone as {USER}: a wrong"
            )
        finally:
            await core.stop()
            assert core.daemon.pids() == []
