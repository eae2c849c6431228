"""A key pasted on the System page logs in to a real sshd; a password never does.

The key goes the page's way (checked, a request, root's applier writing authorized_keys), then a
real sshd (Debian's, unpacked by .ci/setup) runs on a loopback port with the image's own settings
(image/rootfs/etc/ssh/sshd_config.d/10-appliance.conf) and that file. The client trusts only the
host key fingerprint root's state shows, so the page's fingerprint is also the one sshd presents.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.provision.sshaccess import Paths, apply_pending, make_request, write_request
from tests.net import free_port, stop

REPO = Path(__file__).parents[2]
DROPIN = REPO / "image/rootfs/etc/ssh/sshd_config.d/10-appliance.conf"
SBIN_PATH = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
SSHD = shutil.which("sshd", path=SBIN_PATH) or str(Path(sys.prefix) / "libexec" / "sshd")
SSH = shutil.which("ssh")
KEYGEN = shutil.which("ssh-keygen")
SETPRIV = shutil.which("setpriv")

pytestmark = pytest.mark.skipif(
    not (Path(SSHD).exists() and SSH and KEYGEN and SETPRIV),
    reason="needs sshd (bash .ci/setup --dev unpacks it), ssh, ssh-keygen and setpriv",
)


@pytest.fixture
def workdir() -> Iterator[Path]:
    # Not under pytest's tmp_path: as root, sshd runs as nobody, who must reach its files.
    path = Path(tempfile.mkdtemp(prefix="ssh-login-", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def keygen(path: Path, comment: str) -> Path:
    subprocess.run([KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)], check=True)
    return path.with_name(path.name + ".pub")


def sshd_config(d: Path, port: int, user: str, paths: Paths) -> Path:
    config = d / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {paths.host_keys}/ssh_host_ed25519_key\n"
        f"PidFile {d}/sshd.pid\nAuthorizedKeysFile {paths.authorized_keys}\nAllowUsers {user}\n"
        # /tmp above the key file is world-writable: sshd's StrictModes would refuse every key.
        "StrictModes no\n"
        # As Debian's sshd_config on the image (its UsePAM line comes after the drop-ins).
        "UsePAM yes\n"
        # The image's settings, as its sshd reads them (set once: the lines above come first,
        # sshd keeps the first value of each, and the image's set what they do not).
        f"Include {DROPIN}\n"
    )
    return config


def listening(port: int, proc: subprocess.Popen[bytes], log: Path, within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("sshd did not listen")


def ssh(port: int, user: str, d: Path, *options: str) -> subprocess.CompletedProcess[str]:
    command = [SSH, "-v", "-p", str(port), "-F", "/dev/null", "-o", "BatchMode=yes",
               "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={d}/known_hosts",
               "-o", "ConnectTimeout=10", *options, f"{user}@127.0.0.1", "echo", "logged-in"]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)


def test_the_pasted_key_logs_in_and_a_password_is_refused(workdir):
    d = workdir
    paths = Paths(d / "web-ssh", d / "state", d / "admin/.ssh/authorized_keys", d / "hostkeys")
    for directory in (paths.state, paths.host_keys):
        directory.mkdir()
    # sshd's first start on the device makes its host key (appliance-ssh-hostkeys does this).
    host_pub = keygen(paths.host_keys / "ssh_host_ed25519_key", "root@phone")
    owner_pub = keygen(d / "owner", "owner@laptop")
    keygen(d / "stranger", "stranger@elsewhere")

    _, request = make_request(add=owner_pub.read_text())
    write_request(paths.requests, request)
    state = apply_pending(paths, lambda on: "")
    assert state["last"]["ok"], state
    # The client trusts the fingerprint the page shows, nothing else.
    (shown,) = state["host_keys"]
    scanned = subprocess.run([KEYGEN, "-lf", str(host_pub)], capture_output=True, text=True, check=True)
    assert shown["fingerprint"] == scanned.stdout.split()[1]

    port = free_port()
    if os.geteuid() == 0:  # sshd as root needs its privilege separation set-up; as nobody it does not
        user = "nobody"
        entry = pwd.getpwnam(user)
        for path in (d, *d.rglob("*")):
            os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
        run_as = [SETPRIV, f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups"]
    else:
        user, run_as = pwd.getpwuid(os.geteuid()).pw_name, []
    (d / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_pub.read_text()}")
    config = sshd_config(d, port, user, paths)
    checked = subprocess.run([*run_as, SSHD, "-t", "-f", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr  # as the unit's ExecStartPre checks it

    log = d / "sshd.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([*run_as, SSHD, "-D", "-e", "-f", str(config)], stderr=out)
    try:
        listening(port, proc, log)
        key = ssh(port, user, d, "-i", str(d / "owner"), "-o", "IdentitiesOnly=yes")
        # nobody's shell refuses a session; the log says whether the key got in.
        assert f'Authenticated to 127.0.0.1 ([127.0.0.1]:{port}) using "publickey"' in key.stderr, (
            log.read_text()
        )
        if user != "nobody":
            assert key.stdout.strip() == "logged-in"

        password = ssh(port, user, d, "-o", "PubkeyAuthentication=no",
                       "-o", "PreferredAuthentications=password,keyboard-interactive")  # fmt: skip
        assert password.returncode == 255
        assert "Permission denied (publickey)" in password.stderr  # no other method is offered
        assert "Authenticated" not in password.stderr

        stranger = ssh(port, user, d, "-i", str(d / "stranger"), "-o", "IdentitiesOnly=yes")
        assert "Permission denied (publickey)" in stranger.stderr and "Authenticated" not in stranger.stderr

        # The owner removes the key on the page: it no longer gets in.
        _, request = make_request(remove=state["keys"][0]["id"])
        write_request(paths.requests, request)
        assert not apply_pending(paths, lambda on: "")["enabled"]
        gone = ssh(port, user, d, "-i", str(d / "owner"), "-o", "IdentitiesOnly=yes")
        assert "Permission denied (publickey)" in gone.stderr and "Authenticated" not in gone.stderr
    finally:
        stop(proc, 5)
