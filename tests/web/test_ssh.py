"""SSH keys on the System page through the API: the page hands each change to root's command
(run here as appliance-ssh.path runs it, on a temporary data partition) and shows its answer."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from appliance.provision.sshaccess import REQUEST, Paths
from appliance.web.ssh import OFF, SshAccess

from .conftest import Stack, running
from .test_api import login

KEYGEN = shutil.which("ssh-keygen")
pytestmark = pytest.mark.skipif(KEYGEN is None, reason="needs ssh-keygen (openssh-client)")


def keygen(directory: Path, name: str, kind: str = "ed25519", comment: str = "alice@laptop") -> Path:
    path = directory / name
    subprocess.run([KEYGEN, "-q", "-t", kind, "-N", "", "-C", comment, "-f", str(path)], check=True)
    return path.with_name(name + ".pub")


def fingerprint(pub: Path) -> str:
    return subprocess.run(
        [KEYGEN, "-lf", str(pub)], capture_output=True, text=True, check=True
    ).stdout.split()[1]


def ssh_paths(root: Path) -> Paths:
    paths = Paths(root / "appliance-web/ssh", root / "appliance-ssh", root / "admin/.ssh/authorized_keys",
                  root / "ssh")  # fmt: skip
    for directory in (paths.state, paths.host_keys):
        directory.mkdir(parents=True)
    return paths


@contextlib.asynccontextmanager
async def path_unit(paths: Paths) -> AsyncIterator[None]:
    """What appliance-ssh.path does: when the request appears, run the service's command."""
    command = [sys.executable, "-m", "appliance.apps.sshkeys", "apply", "--requests", str(paths.requests),
               "--state", str(paths.state), "--authorized-keys", str(paths.authorized_keys),
               "--host-keys", str(paths.host_keys), "--user", "no-such-user", "--sshd-unit", ""]  # fmt: skip

    async def watch() -> None:
        while True:
            if (paths.requests / REQUEST).exists():
                proc = await asyncio.create_subprocess_exec(*command, stdout=subprocess.DEVNULL)
                try:
                    await proc.wait()
                finally:
                    if proc.returncode is None:
                        proc.kill()
                        await proc.wait()
            await asyncio.sleep(0.05)

    task = asyncio.get_running_loop().create_task(watch())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def managed(tmp_path: Path) -> AsyncIterator[tuple[Stack, Paths]]:
    paths = ssh_paths(tmp_path / "var-lib")
    async with running(tmp_path / "data") as stack, path_unit(paths):
        stack.web.ssh = SshAccess(paths.requests, paths.state, answer_within_s=15)
        yield stack, paths


async def test_add_list_remove_and_the_last_key_turns_ssh_off(tmp_path):
    alice = keygen(tmp_path, "alice")
    bob = keygen(tmp_path, "bob", "ecdsa", "bob@desk")
    async with managed(tmp_path) as (stack, paths), stack.admin() as c:
        async with c.get("/api/v1/system/ssh") as r:
            assert r.status == 200
            assert await r.json() == {"managed": True, "enabled": False, "keys": [], "host_keys": [],
                                      "unread_lines": 0, "message": OFF}  # fmt: skip
        async with c.post("/api/v1/system/ssh/keys", json={"key": alice.read_text()}) as r:
            assert r.status == 201, await r.text()
            done = await r.json()
        assert done["ok"] and done["enabled"] and "SSH is on" in done["result"] and done["message"] == ""
        assert [(k["type"], k["comment"], k["fingerprint"]) for k in done["keys"]] == [
            ("ssh-ed25519", "alice@laptop", fingerprint(alice))
        ]
        assert paths.authorized_keys.read_text() == alice.read_text()
        # sshd's first start makes its host key; the page shows its fingerprint once it is there.
        host = keygen(paths.host_keys, "ssh_host_ed25519_key", comment="root@phone")
        async with c.post("/api/v1/system/ssh/keys", json={"key": bob.read_text()}) as r:
            assert r.status == 201
            done = await r.json()
        assert [k["comment"] for k in done["keys"]] == ["alice@laptop", "bob@desk"]
        assert done["host_keys"] == [{"type": "ssh-ed25519", "bits": 256, "fingerprint": fingerprint(host)}]
        async with c.get("/api/v1/system/ssh") as r:
            assert (await r.json())["keys"] == done["keys"]

        for key in done["keys"]:
            async with c.delete(f"/api/v1/system/ssh/keys/{key['id']}") as r:
                assert r.status == 200, await r.text()
                left = await r.json()
        assert left["keys"] == [] and not left["enabled"] and "SSH is off" in left["result"]
        assert left["message"] == OFF  # what the section says now
        assert left["host_keys"] == []  # shown only while SSH is on
        async with c.get("/api/v1/system/ssh") as r:
            assert (await r.json())["message"] == OFF
        assert not paths.authorized_keys.exists()
        async with c.delete(f"/api/v1/system/ssh/keys/{key['id']}") as r:
            assert r.status == 404


async def test_bad_keys_are_refused_by_the_page_naming_the_field(tmp_path):
    alice = keygen(tmp_path, "alice").read_text()
    async with managed(tmp_path) as (stack, paths), stack.admin() as c:
        for body, status in (
            ({"key": f'command="/bin/sh" {alice}'}, 400),
            ({"key": alice + alice}, 400),
            ({"key": "ssh-rsa " + alice.split()[1]}, 400),
            ({"key": "ssh-ed25519 " + "A" * 20000}, 400),
            ({"key": alice, "options": "no-pty"}, 400),
        ):
            async with c.post("/api/v1/system/ssh/keys", json=body) as r:
                answer = await r.json()
                assert r.status == status, answer
                assert answer["problems"][0]["field"] in {"key", "options"}, answer
        async with c.post("/api/v1/system/ssh/keys", data=b"x" * 100_000,
                          headers={"Content-Type": "application/json"}) as r:  # fmt: skip
            assert r.status == 413
        async with c.post("/api/v1/system/ssh/keys", data=b'{"key": "ssh-ed25519 \xff"}',
                          headers={"Content-Type": "application/json"}) as r:  # fmt: skip
            assert r.status == 400
        assert not paths.authorized_keys.exists() and not (paths.requests / REQUEST).exists()


async def test_only_the_logged_in_owner_from_this_page(tmp_path):
    alice = keygen(tmp_path, "alice").read_text()
    async with managed(tmp_path) as (stack, paths):
        async with stack.session() as c:
            async with c.get("/api/v1/system/ssh") as r:
                assert r.status == 401
            async with c.post("/api/v1/system/ssh/keys", json={"key": alice}) as r:
                assert r.status == 401
            csrf = await login(c)
            async with c.post("/api/v1/system/ssh/keys", json={"key": alice}) as r:
                assert r.status == 403  # no CSRF token
            async with c.post("/api/v1/system/ssh/keys", json={"key": alice},
                              headers={"X-CSRF-Token": csrf, "Origin": "http://evil.example"}) as r:  # fmt: skip
                assert r.status == 403
            async with c.post(
                "/api/v1/system/ssh/keys", json={"key": alice}, headers={"X-CSRF-Token": csrf}
            ) as r:
                assert r.status == 201
        async with stack.session() as c, c.delete("/api/v1/system/ssh/keys/" + "A" * 43) as r:
            assert r.status == 401
        async with (
            stack.admin() as c,
            c.post(
                "/api/v1/system/ssh/keys", json={"key": alice}, headers={"Sec-Fetch-Site": "cross-site"}
            ) as r,
        ):
            assert r.status == 403
        assert paths.authorized_keys.read_text() == alice


async def test_where_the_page_does_not_manage_ssh(stack):
    async with stack.admin() as c:
        async with c.get("/api/v1/system/ssh") as r:
            assert (await r.json())["managed"] is False
        async with c.post("/api/v1/system/ssh/keys", json={"key": "ssh-ed25519 AAAA"}) as r:
            assert r.status == 409 and "not managed" in (await r.json())["error"]
        async with c.get("/api/v1/openapi.json") as r:
            paths = (await r.json())["paths"]
        assert {"get"} <= set(paths["/api/v1/system/ssh"])
        assert (
            "post" in paths["/api/v1/system/ssh/keys"]
            and "delete" in paths["/api/v1/system/ssh/keys/{key_id}"]
        )


async def test_no_answer_from_the_system_is_said_and_the_request_taken_back(tmp_path):
    alice = keygen(tmp_path, "alice").read_text()
    paths = ssh_paths(tmp_path / "var-lib")
    async with running(tmp_path / "data") as stack, stack.admin() as c:
        stack.web.ssh = SshAccess(paths.requests, paths.state, answer_within_s=0.5)  # no path unit
        async with c.post("/api/v1/system/ssh/keys", json={"key": alice}) as r:
            assert r.status == 503 and "did not apply" in (await r.json())["error"]
        assert not (paths.requests / REQUEST).exists()
