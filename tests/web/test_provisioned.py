"""What a provisioning profile fixes, as the page and the API see it: locked keys refused by every
operation that writes them, and the admin password a profile brings (``web.admin_password_hash``).

The profile is the one a last good sync kept on the data partition (``provisioning/profile.json``,
read at start as on a phone whose server is down); a new profile is applied through the config
store as a sync applies it. Fetching from a real nginx is tests/web/test_provisioning.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from appliance.config import profile as profiles
from appliance.config.load import ConfigError
from appliance.runtime.provisioning import KeptProfile, Source
from appliance.web.auth import AdminPassword, hash_line

from .conftest import PASSWORD, running

FLEET = "fleet password one"
FLEET_2 = "fleet password two"
LOCKED_REASON = "locked by the provisioning profile (change it on the server)"


def kept(data: Path, text: str) -> None:
    """``text`` as the profile the last good sync kept."""
    KeptProfile(data).write([Source("https://prov.example/b827eb012345.toml", '"1"', "", text)])


def with_hash(line: str, *, locked: bool = False) -> str:
    lock = 'locked = ["web.admin_password_hash"]\n' if locked else ""
    return f'{lock}[web]\nadmin_password_hash = "{line}"\n'


async def can_log_in(stack, password: str) -> bool:
    async with stack.session(basic=("admin", password)) as c, c.get("/api/v1/status") as r:
        return r.status == 200


async def test_every_operation_that_writes_a_locked_key_refuses_it_naming_the_key(tmp_path):
    kept(tmp_path, 'locked = ["features.dnd", "contacts", "sip_accounts"]\n[features]\ndnd = true\n'
         '[[contacts]]\nid = "reception"\nname = "Reception"\nuri = "sip:100@pbx.example"\n'
         '[[sip_accounts]]\nid = "pbx"\nusername = "212"\n')  # fmt: skip
    async with running(tmp_path) as stack, stack.admin() as c:
        async with c.get("/api/v1/status") as r:
            assert (await r.json())["provisioning"]["locked"] == ["features.dnd", "contacts", "sip_accounts"]
        refused = [
            (c.put("/api/v1/settings", json={"features": {"dnd": False}}), "features.dnd"),
            (c.post("/api/v1/contacts", json={"name": "Bob", "uri": "sip:200@pbx.example"}), "contacts"),
            (c.delete("/api/v1/contacts/reception"), "contacts"),
            (c.post("/api/v1/sip-accounts", json={"id": "home", "username": "me"}), "sip_accounts"),
            (c.put("/api/v1/sip-accounts/pbx", json={"registrar": "pbx2.example"}), "sip_accounts"),
        ]
        for request, field in refused:
            async with request as r:
                assert r.status == 400, (field, await r.text())
                assert (await r.json())["problems"] == [{"field": field, "reason": LOCKED_REASON}], field
        # Unlocked keys still save, and so does a locked one sent as it is (the page's whole form).
        async with c.put("/api/v1/settings", json={"features": {"dnd": True, "call_waiting": False}}) as r:
            assert r.status == 200, await r.text()
    assert [c.name for c in stack.store.config.contacts] == ["Reception"]
    assert [a.id for a in stack.store.config.sip_accounts] == ["pbx"]
    assert stack.store.config.features.dnd and not stack.store.config.features.call_waiting


async def test_a_profiles_password_claims_a_new_phone_and_is_never_shown(tmp_path):
    line = hash_line(FLEET)
    kept(tmp_path, with_hash(line))
    async with running(tmp_path, password=False) as stack:
        async with stack.session() as c, c.get("/api/v1/setup") as r:
            assert (await r.json())["password_set"]  # no setup form, no setup code to read
        assert stack.control.setup.claim.claimed
        assert await can_log_in(stack, FLEET)
        assert not await can_log_in(stack, PASSWORD)
        async with stack.session(basic=("admin", FLEET)) as c:
            for path in ("/api/v1/settings", "/api/v1/status", "/api/v1/info", "/api/v1/openapi.json"):
                async with c.get(path) as r:
                    text = await r.text()
                assert r.status == 200 and line not in text and line.split("$")[-1] not in text, path


async def test_the_owners_password_wins_until_the_profile_brings_another(tmp_path):
    kept(tmp_path, with_hash(hash_line(FLEET)))
    async with running(tmp_path, password=False) as stack:
        assert await can_log_in(stack, FLEET)
        async with (
            stack.session(basic=("admin", FLEET)) as c,
            c.put("/api/v1/password", json={"old": FLEET, "new": "the owner's own"}) as r,
        ):
            assert r.status == 200, await r.text()
        await stack.web.provisioned.refresh()  # the same hash again: the owner's password stays
        assert await can_log_in(stack, "the owner's own")
        async with stack.session() as browser:
            async with browser.post("/api/v1/login", json={"password": "the owner's own"}) as r:
                assert r.status == 200
            await stack.store.apply_profile(profiles.parse(with_hash(hash_line(FLEET_2)), "p"))
            await stack.web.provisioned.refresh()  # what the page's poll does every few seconds
            async with browser.get("/api/v1/status") as r:
                assert r.status == 401  # a new password ends the sessions, as a change on the page does
        assert await can_log_in(stack, FLEET_2)
        assert not await can_log_in(stack, "the owner's own")


async def test_a_locked_password_is_the_profiles_and_the_page_refuses_changes(tmp_path):
    async with running(tmp_path) as stack:  # the owner chose PASSWORD before the profile came
        await stack.store.apply_profile(profiles.parse(with_hash(hash_line(FLEET), locked=True), "p"))
        assert await can_log_in(stack, FLEET)  # taken at the page's next look: this password check
        async with (
            stack.session(basic=("admin", FLEET)) as c,
            c.put("/api/v1/password", json={"old": FLEET, "new": "the owner's own"}) as r,
        ):
            assert r.status == 400
            assert (await r.json())["problems"] == [
                {"field": "web.admin_password_hash", "reason": LOCKED_REASON}
            ]
        assert await can_log_in(stack, FLEET)


async def test_a_hash_that_is_not_one_refuses_the_profile_whole(tmp_path):
    async with running(tmp_path) as stack:
        for bad, reason in [
            (FLEET, "must be scrypt$N$r$p$salt$hash"),  # the password itself, pasted by mistake
            (hash_line(FLEET).replace("$16384$", "$1000$"), "scrypt costs out of range"),
            (hash_line(FLEET).replace("$16384$8$", "$1048576$8$"), "MiB per check"),
        ]:
            profile = profiles.parse(f'[phone]\ndisplay_name = "Room 12"\n{with_hash(bad)}', "p")
            with pytest.raises(ConfigError) as refused:
                stack.store.check_profile(profile)
            (problem,) = refused.value.problems
            assert problem.startswith("web.admin_password_hash: ") and reason in problem
        assert await can_log_in(stack, PASSWORD)


def test_a_dump_masks_the_hash(tmp_path):
    line = hash_line(FLEET)
    system = tmp_path / "system.toml"
    system.write_text(with_hash(line))
    dump = subprocess.run([sys.executable, "-m", "appliance", "config", "dump", "--config", str(system)],
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert 'admin_password_hash = "********"' in dump.stdout and line not in dump.stdout


def test_the_command_line_hashes_a_password_the_page_verifies(tmp_path):
    made = subprocess.run([sys.executable, "-m", "appliance", "config", "password-hash"],
                          input=f"{FLEET}\n", capture_output=True, text=True, check=True)  # fmt: skip
    line = made.stdout.strip()
    assert FLEET not in made.stdout
    password = AdminPassword(tmp_path / "admin.scrypt")
    password.take(line)
    assert password.verify(FLEET) and not password.verify(FLEET_2)
    short = subprocess.run([sys.executable, "-m", "appliance", "config", "password-hash"],
                           input="short\n", capture_output=True, text=True, check=False)  # fmt: skip
    assert short.returncode != 0 and "at least 8 characters" in short.stderr
