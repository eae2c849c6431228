"""Root's side of the System page's SSH keys, on a temporary data partition: the page's request
taken, checked again and applied to authorized_keys; sshd turned on and off; hostile requests
(as a compromised page process could leave them) refused without writing anything."""

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.provision import sshaccess
from appliance.provision.sshaccess import MAX_KEYS, REQUEST, Paths, apply_pending, make_request, write_request

from .test_sshkeys import ED, KEYGEN, _string, keygen, keygen_fingerprint


def ed25519(seed: int, comment: str = "") -> str:
    body = base64.b64encode(_string(b"ssh-ed25519") + _string(bytes([seed]) * 32)).decode()
    return f"ssh-ed25519 {body} {comment}".strip()


class Sshd:
    def __init__(self) -> None:
        self.told: list[bool] = []

    def __call__(self, on: bool) -> str:
        self.told.append(on)
        return ""


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    for name in ("web/ssh", "state", "admin", "hostkeys"):
        (tmp_path / name).mkdir(parents=True)
    return Paths(tmp_path / "web/ssh", tmp_path / "state", tmp_path / "admin/.ssh/authorized_keys",
                 tmp_path / "hostkeys")  # fmt: skip


def ask(paths: Paths, sshd: Sshd, **change: str) -> dict:
    request_id, data = make_request(**change)
    write_request(paths.requests, data)
    state = apply_pending(paths, sshd)
    assert state["last"]["id"] == request_id
    assert not (paths.requests / REQUEST).exists()  # taken: the path unit does not start again
    assert json.loads((paths.state / "state.json").read_text()) == state  # what the page reads
    return state


def test_first_key_turns_ssh_on_last_removed_turns_it_off(paths):
    sshd = Sshd()
    state = ask(paths, sshd, add=ed25519(1, "alice@laptop") + "\n")
    assert state["last"]["ok"] and "SSH is on" in state["last"]["message"]
    assert state["enabled"] and [k["comment"] for k in state["keys"]] == ["alice@laptop"]
    assert paths.authorized_keys.read_text() == ed25519(1, "alice@laptop") + "\n"
    assert paths.authorized_keys.stat().st_mode & 0o777 == 0o600
    assert paths.authorized_keys.parent.stat().st_mode & 0o777 == 0o700
    assert sshd.told == [True]

    state = ask(paths, sshd, add=ed25519(2, "alice@phone"))
    assert [k["comment"] for k in state["keys"]] == ["alice@laptop", "alice@phone"]
    state = ask(paths, sshd, add=ed25519(2, "same key, other comment"))
    assert state["last"] == {**state["last"], "ok": True} and "already there" in state["last"]["message"]
    assert len(state["keys"]) == 2 and sshd.told == [True, True]  # nothing written, sshd not told

    first, second = state["keys"]
    state = ask(paths, sshd, remove=first["id"])
    assert state["enabled"] and [k["comment"] for k in state["keys"]] == ["alice@phone"]
    assert paths.authorized_keys.read_text() == ed25519(2, "alice@phone") + "\n"
    state = ask(paths, sshd, remove=second["id"])
    assert "SSH is off" in state["last"]["message"] and not state["enabled"] and state["keys"] == []
    assert not paths.authorized_keys.exists()  # ssh.service starts only where the file is
    assert sshd.told == [True, True, True, False]
    state = ask(paths, sshd, remove=second["id"])
    assert state["last"]["ok"] is False and state["last"]["message"] == "no such key"


def test_lines_written_by_hand_are_kept(paths):
    paths.authorized_keys.parent.mkdir()
    by_hand = f'# the owner\'s own\nfrom="10.0.0.0/8" ssh-ed25519 {ED} restricted\n'
    paths.authorized_keys.write_text(by_hand)
    state = ask(paths, Sshd(), add=ed25519(3))
    assert paths.authorized_keys.read_text() == by_hand + ed25519(3) + "\n"
    assert state["unread_lines"] == 1 and len(state["keys"]) == 1


def test_keys_are_bounded(paths):
    sshd = Sshd()
    for n in range(MAX_KEYS):
        ask(paths, sshd, add=ed25519(n + 1))
    state = ask(paths, sshd, add=ed25519(200))
    assert state["last"]["ok"] is False and f"at most {MAX_KEYS}" in state["last"]["message"]
    assert len(paths.authorized_keys.read_text().splitlines()) == MAX_KEYS


RID = "0" * 32


@pytest.mark.parametrize(
    ("request_bytes", "why"),
    [
        (
            json.dumps({"id": RID, "add": f'command="/bin/sh -c evil" ssh-ed25519 {ED}'}),
            "options before the key",
        ),
        (json.dumps({"id": RID, "add": f"ssh-ed25519 {ED}\nssh-ed25519 {ED}"}), "more than one line"),
        (json.dumps({"id": RID, "add": f"ssh-ed25519 {ED} a\rcommand=x"}), "more than one line"),
        (json.dumps({"id": RID, "add": ed25519(1), "remove": "x" * 43}), "neither one key"),
        (json.dumps({"id": RID, "add": ed25519(1), "options": "command=x"}), "neither one key"),
        (json.dumps({"id": RID, "remove": "../../etc/passwd"}), "neither one key"),
        (json.dumps({"id": "../x", "add": ed25519(1)}), "no id"),
        ("not json", "not JSON"),
        (b"\xff\xfe{}", "not JSON"),
        (json.dumps({"id": RID, "add": "A" * (sshaccess.MAX_REQUEST + 10)}), "too large"),
    ],
    ids=[
        "options",
        "two-keys",
        "carriage-return",
        "add-and-remove",
        "extra-field",
        "path",
        "bad-id",
        "not-json",
        "not-utf8",
        "huge",
    ],
)
def test_a_hostile_request_is_refused_and_nothing_written(paths, request_bytes, why):
    paths.requests.joinpath(REQUEST).write_bytes(
        request_bytes if isinstance(request_bytes, bytes) else request_bytes.encode()
    )
    sshd = Sshd()
    state = apply_pending(paths, sshd)
    assert state["last"]["ok"] is False and why in state["last"]["message"]
    assert not paths.authorized_keys.exists() and sshd.told == []
    assert not (paths.requests / REQUEST).exists()


def test_a_request_that_is_a_link_fifo_or_directory_is_not_followed(paths, tmp_path):
    secret = tmp_path / "root-only"
    secret.write_text(json.dumps({"id": RID, "add": ed25519(9)}))
    sshd = Sshd()
    (paths.requests / REQUEST).symlink_to(secret)
    state = apply_pending(paths, sshd)
    assert "not a plain file (a link)" in state["last"]["message"] and secret.exists()
    os.mkfifo(paths.requests / REQUEST)
    state = apply_pending(paths, sshd)  # returns at once: never blocks on a FIFO
    assert "not a plain file" in state["last"]["message"]
    (paths.requests / REQUEST).mkdir()
    apply_pending(paths, sshd)
    assert not (paths.requests / REQUEST).exists() and not paths.authorized_keys.exists() and sshd.told == []
    # The page's directory itself replaced by a link (to the admin's .ssh, say): not followed.
    shutil.rmtree(paths.requests)
    paths.requests.symlink_to(tmp_path / "hostkeys")
    state = apply_pending(paths, sshd)
    assert "not a plain directory" in state["last"]["message"]


@pytest.mark.skipif(KEYGEN is None, reason="needs ssh-keygen")
def test_host_key_fingerprints_as_ssh_keygen_prints_them(paths):
    for kind, bits in (("ed25519", None), ("ecdsa", 256)):
        subprocess.run([KEYGEN, "-q", "-t", kind, *(["-b", str(bits)] if bits else []), "-N", "", "-C", "host",
                        "-f", str(paths.host_keys / f"ssh_host_{kind}_key")], check=True)  # fmt: skip
    state = apply_pending(paths, Sshd())
    assert state["last"] is None  # no request: the state only (as at boot)
    expected = sorted(keygen_fingerprint(p)[1] for p in paths.host_keys.glob("*.pub"))
    assert sorted(h["fingerprint"] for h in state["host_keys"]) == expected
    assert {h["type"] for h in state["host_keys"]} == {"ssh-ed25519", "ecdsa-sha2-nistp256"}


@pytest.mark.skipif(KEYGEN is None, reason="needs ssh-keygen")
def test_the_units_command_applies_a_real_key(paths, tmp_path):
    pub = keygen(tmp_path, "ed25519", None, "bob@desk")
    _, data = make_request(add=pub.read_text())
    write_request(paths.requests, data)
    command = [sys.executable, "-m", "appliance.apps.sshkeys", "apply", "--requests", str(paths.requests),
               "--state", str(paths.state), "--authorized-keys", str(paths.authorized_keys),
               "--host-keys", str(paths.host_keys), "--user", "nobody-here", "--sshd-unit", ""]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "done: ssh-ed25519 SHA256:" in done.stdout and "SSH on, 1 key(s)" in done.stdout
    assert paths.authorized_keys.read_text() == pub.read_text()
    state = sshaccess.read_state(paths.state)
    assert state["keys"][0]["fingerprint"] == keygen_fingerprint(pub)[1]
    (paths.requests / REQUEST).write_text(json.dumps({"id": RID, "add": f"no-pty {pub.read_text()}"}))
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "refused: options before the key" in done.stdout


def test_an_authorized_keys_that_is_a_link_is_neither_read_nor_replaced(paths, tmp_path):
    # The admin owns ~/.ssh: a link put there must not make root read (and list) another file.
    other = tmp_path / "elsewhere"
    other.write_text(ed25519(5) + "\n")
    paths.authorized_keys.parent.mkdir()
    paths.authorized_keys.symlink_to(other)
    sshd = Sshd()
    request_id, data = make_request(add=ed25519(6))
    write_request(paths.requests, data)
    state = apply_pending(paths, sshd)
    assert state["last"] == {"id": request_id, "ok": False, "message": state["last"]["message"]}
    assert "cannot be read" in state["last"]["message"] and state["keys"] == []
    assert paths.authorized_keys.is_symlink() and other.read_text() == ed25519(5) + "\n" and sshd.told == []
