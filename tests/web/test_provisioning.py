"""Fleet provisioning against a real web server: Debian's nginx over HTTPS with a CA made here.

The phone is assembled as ``appliance run`` assembles it (tests/web/conftest.py), with its data
directory, its page and the provisioning client; the profiles are files nginx serves by MAC.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance import update
from appliance.runtime.provisioning import idle
from tests.nginx import Authority, Nginx, serving

from .conftest import running

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
                                reason="nginx (nginx-light) is not installed: bash .ci/setup --dev")  # fmt: skip

MAC = "b827eb012345"  # a Raspberry Pi's OUI
COMMON = """
[dialplan]
map = "*xx|[2-9]xxx|0xxxxxxxxx"
[phone]
country = "GB"
"""
DEVICE = """
locked = ["features.dnd", "dialplan.map"]
[phone]
display_name = "Room 12"
[features]
dnd = false
[[contacts]]
name = "Reception"
uri = "sip:100@pbx.example"
speed_dial = "1"
"""


@pytest.fixture
def pki(tmp_path: Path) -> Authority:
    return Authority(tmp_path, "fleet-ca")


@pytest.fixture
def nginx(tmp_path: Path, pki: Authority) -> Iterator[Nginx]:
    with serving(tmp_path / "nginx", pki) as server:
        (server.www / "common.toml").write_text(COMMON)
        (server.www / f"{MAC}.toml").write_text(DEVICE)
        yield server


def fleet(server_url: str, ca: Path, **more: str) -> dict:
    return {"provisioning": {"url": f"{server_url}/{{mac}}.toml", "common_url": f"{server_url}/common.toml",
                             "ca_file": str(ca), "jitter_s": 0, **more}}  # fmt: skip


async def sync(stack) -> dict:
    async with stack.admin() as c, c.post("/api/v1/provisioning/sync") as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def status(stack) -> dict:
    async with stack.admin() as c, c.get("/api/v1/status") as r:
        return await r.json()


async def test_the_profile_is_fetched_by_mac_over_https_and_applied(tmp_path, nginx, pki):
    async with running(tmp_path / "data", table=fleet(nginx.url, pki.pem.cert), mac=MAC) as stack:
        answer = await sync(stack)
        assert answer["state"] == "ok", answer
        assert answer["source"] == f"{nginx.url}/{MAC}.toml"
        assert answer["last_error"] is None
        await stack.supervisor.idle()
        config = stack.store.config
        assert config.phone.display_name == "Room 12"  # the device's file
        assert config.phone.country == "GB"  # the common file
        assert config.dialplan.map == "*xx|[2-9]xxx|0xxxxxxxxx"
        assert stack.supervisor.phone.settings.country == "GB"  # the running phone took it
        assert [c.name for c in stack.supervisor.phone.contacts] == ["Reception"]
        seen = await status(stack)
        assert seen["system"]["mac"] == MAC
        assert seen["provisioning"]["locked"] == ["features.dnd", "dialplan.map"]
        assert seen["provisioning"]["last_success"] is not None
        kept = json.loads((tmp_path / "data" / "provisioning" / "profile.json").read_text())
        assert [s["url"] for s in kept["sources"]] == [f"{nginx.url}/common.toml", f"{nginx.url}/{MAC}.toml"]
        assert (tmp_path / "data" / "provisioning" / "profile.json").stat().st_mode & 0o077 == 0


async def test_a_locked_key_is_refused_from_the_page_and_an_unlocked_one_wins(tmp_path, nginx, pki):
    async with running(tmp_path / "data", table=fleet(nginx.url, pki.pem.cert), mac=MAC) as stack:
        await sync(stack)
        async with stack.admin() as c:
            async with c.put("/api/v1/settings", json={"features": {"dnd": True}}) as r:
                assert r.status == 400
                problems = (await r.json())["problems"]
                assert problems == [{"field": "features.dnd",
                                     "reason": "locked by the provisioning profile (change it on the server)"}]  # fmt: skip
            # The same value is no change: a page that sends the whole form still saves.
            body = {"features": {"dnd": False}, "phone": {"display_name": "Nurses' room"}}
            async with c.put("/api/v1/settings", json=body) as r:
                assert r.status == 200, await r.text()
        assert stack.store.config.phone.display_name == "Nurses' room"  # the owner's change wins
        await sync(stack)
        assert stack.store.config.phone.display_name == "Nurses' room"  # and outlives a resync
        assert not stack.store.config.features.dnd


async def test_a_star_code_on_a_locked_key_is_undone_in_plain_words(tmp_path, nginx, pki):
    async with running(tmp_path / "data", table=fleet(nginx.url, pki.pem.cert), mac=MAC) as stack:
        await sync(stack)
        await stack.supervisor.idle()
        stack.fakes.hook.lift()
        await asyncio.sleep(0.05)
        stack.fakes.keypad.press("*78")
        for _ in range(50):
            await stack.supervisor.idle()
            if "Not saved: locked" in (stack.supervisor.screen.lines if stack.supervisor.screen else ()):
                break
            await asyncio.sleep(0.01)
        assert "Not saved: locked" in stack.supervisor.screen.lines
        assert not stack.supervisor.phone.dnd  # undone
        assert not stack.store.config.features.dnd


async def test_a_bad_profile_keeps_the_last_good_one_and_names_the_field(tmp_path, nginx, pki):
    async with running(tmp_path / "data", table=fleet(nginx.url, pki.pem.cert), mac=MAC) as stack:
        await sync(stack)
        (nginx.www / f"{MAC}.toml").write_text(DEVICE.replace('display_name = "Room 12"',
                                                              'display_name = "Room 13"\ninterdigit_s = 99'))  # fmt: skip
        answer = await sync(stack)
        assert answer["state"] == "error"
        assert answer["last_error"]["problems"] == [{"field": "phone.interdigit_s", "reason": "unknown key"}]
        assert answer["last_error"]["source"] == f"{nginx.url}/{MAC}.toml"
        (nginx.www / f"{MAC}.toml").write_text(DEVICE + "\n[timers]\nhowler_s = 9999\n")
        answer = await sync(stack)
        assert answer["last_error"]["problems"] == [
            {"field": "timers.howler_s", "reason": "must be between 1 and 600"}
        ]
        (nginx.www / f"{MAC}.toml").write_text("[phone\nbroken")
        answer = await sync(stack)
        assert answer["last_error"]["problems"][0]["field"] == f"{nginx.url}/{MAC}.toml"
        assert "Expected" in answer["last_error"]["problems"][0]["reason"]
        assert stack.store.config.phone.display_name == "Room 12"  # the last good one
        seen = await status(stack)
        assert seen["provisioning"]["state"] == "error"
        notice = next(n for n in seen["notices"] if n["key"] == "provisioning")  # on every page
        assert notice["text"].startswith(f"Provisioning from {nginx.url}/{MAC}.toml failed: ")
        assert notice["text"].endswith("The phone keeps its last good profile.")
        (nginx.www / f"{MAC}.toml").write_text(DEVICE + "\n")
        assert (await sync(stack))["state"] == "ok"
        assert "provisioning" not in [n["key"] for n in (await status(stack))["notices"]]


async def test_with_the_server_down_a_restart_uses_the_kept_profile(tmp_path, pki):
    data = tmp_path / "data"
    with serving(tmp_path / "nginx", pki) as server:
        (server.www / "common.toml").write_text(COMMON)
        (server.www / f"{MAC}.toml").write_text(DEVICE)
        table = fleet(server.url, pki.pem.cert)
        async with running(data, table=table, mac=MAC) as stack:
            assert (await sync(stack))["state"] == "ok"
    # nginx is stopped: the phone starts again on the same data partition
    async with running(data, table=table, mac=MAC) as again:
        assert again.store.config.phone.display_name == "Room 12"
        assert again.supervisor.phone.settings.country == "GB"
        answer = await sync(again)
        assert answer["state"] == "error"
        assert "Connect" in answer["last_error"]["problems"][0]["reason"]
        assert again.store.config.phone.display_name == "Room 12"
        async with again.admin() as c, c.put("/api/v1/settings", json={"features": {"dnd": True}}) as r:
            assert r.status == 400  # still locked


async def test_a_server_the_pinned_ca_does_not_vouch_for_is_refused(tmp_path, nginx):
    other = Authority(tmp_path, "another-ca")
    async with running(tmp_path / "data", table=fleet(nginx.url, other.pem.cert), mac=MAC) as stack:
        answer = await sync(stack)
        assert answer["state"] == "error"
        assert "not trusted" in answer["last_error"]["problems"][0]["reason"]
        assert stack.store.config.phone.display_name == "Jami phone"
        assert nginx.requests() == []  # no request was sent to it


async def test_a_client_certificate_nginx_requires_is_given(tmp_path, nginx, pki):
    table = fleet(nginx.mtls_url, pki.pem.cert)
    async with running(tmp_path / "data", table=table, mac=MAC) as stack:
        answer = await sync(stack)
        assert answer["state"] == "error"
        assert "400" in answer["last_error"]["problems"][0]["reason"]  # nginx: no required certificate
    client = pki.issue("phone-b827eb012345", server=False)
    table["provisioning"] |= {"client_cert": str(client.cert), "client_key": str(client.key)}
    async with running(tmp_path / "data2", table=table, mac=MAC) as stack:
        answer = await sync(stack)
        assert answer["state"] == "ok", answer
        assert stack.store.config.phone.display_name == "Room 12"


async def test_never_applied_during_a_call_but_right_after(tmp_path, nginx, pki):
    async with running(tmp_path / "data", table=fleet(nginx.url, pki.pem.cert), mac=MAC) as stack:
        stack.fakes.telephony.ring_in("sip:200@pbx.example", "Visitor", account="jami")
        await stack.supervisor.idle()
        stack.fakes.hook.lift()
        await asyncio.sleep(0.05)
        await stack.supervisor.idle()
        assert stack.supervisor.phone.mode.value == "talking"
        answer = await sync(stack)
        assert answer["state"] == "pending"
        await asyncio.sleep(0.1)
        assert stack.store.config.phone.display_name == "Jami phone"  # not during the call
        stack.fakes.hook.replace()
        for _ in range(100):
            await asyncio.sleep(0.01)
            if stack.store.config.phone.display_name == "Room 12":
                break
        assert stack.store.config.phone.display_name == "Room 12"  # right after it
        assert (await status(stack))["provisioning"]["state"] == "ok"


async def test_an_unchanged_profile_is_not_downloaded_again(tmp_path, nginx, pki):
    async with running(tmp_path / "data", table=fleet(nginx.url, pki.pem.cert), mac=MAC) as stack:
        await sync(stack)
        await sync(stack)
        assert nginx.requests() == [
            ("/common.toml", 200),
            (f"/{MAC}.toml", 200),
            ("/common.toml", 304),
            (f"/{MAC}.toml", 304),
        ]
        assert stack.control.provisioning.provisioning.fetches == 2
        # nginx's ETag is the file's mtime (in seconds) and size: this edit changes the size.
        (nginx.www / f"{MAC}.toml").write_text(DEVICE.replace("Room 12", "Room 140"))
        await sync(stack)
        assert nginx.requests()[-2:] == [("/common.toml", 304), (f"/{MAC}.toml", 200)]
        assert stack.store.config.phone.display_name == "Room 140"


async def test_a_change_only_a_start_takes_restarts_the_phone_once_applied(tmp_path, nginx, pki):
    (nginx.www / f"{MAC}.toml").write_text(DEVICE + '\n[[sip_accounts]]\nid = "pbx"\nusername = "212"\n')
    async with running(tmp_path / "data", table=fleet(nginx.url, pki.pem.cert), mac=MAC) as stack:
        answer = await sync(stack)
        assert answer["state"] == "ok"
        assert stack.power.requests == ["restart"]  # the SIP account registers at the start
        await sync(stack)
        assert stack.power.requests == ["restart"]  # unchanged: no second restart
    async with running(tmp_path / "data", table=fleet(nginx.url, pki.pem.cert), mac=MAC) as again:
        assert [a.id for a in again.store.config.sip_accounts] == ["pbx"]
        await sync(again)
        assert again.power.requests == []  # the kept profile was in use from the start


async def test_the_server_from_dhcp_option_66_when_no_url_is_configured(tmp_path, nginx, pki):
    handed = tmp_path / "dhcp-provisioning"  # as the DHCP client's hook writes it
    handed.write_text(f"interface=eth0\noption_66={nginx.url.removeprefix('https://')}\n")
    table = {"provisioning": {"dhcp_file": str(handed), "ca_file": str(pki.pem.cert), "jitter_s": 0}}
    async with running(tmp_path / "data", table=table, mac=MAC) as stack:
        answer = await sync(stack)
        assert answer["state"] == "ok", answer
        assert (answer["from"], answer["source"]) == ("dhcp option 66", f"{nginx.url}/{MAC}.toml")
        assert stack.store.config.phone.display_name == "Room 12"
        assert stack.store.config.phone.country == "GB"  # its common.toml too
        handed.write_text("option_66=\n")  # a lease without the option: nothing to fetch, nothing lost
        answer = await sync(stack)
        assert (answer["state"], answer["last_error"]) == ("off", None)
        assert stack.store.config.phone.display_name == "Room 12"


def bundle(tmp_path: Path, www: Path, *, version: str, key: str = "release") -> Path:
    """A signed update bundle for the desktop board, served as /update.bundle; the key's public
    half in tmp_path/keys-<key> (what the image would carry)."""
    keys = tmp_path / f"keys-{key}"
    keys.mkdir(exist_ok=True)
    if not (keys / "release.pem").exists():
        update.generate_key(tmp_path / f"{key}.key", keys / "release.pem")
    payload = tmp_path / "root.img"
    payload.write_bytes(b"a root file system " * 5000)
    update.make_bundle(payload, www / "update.bundle", key=tmp_path / f"{key}.key", board="desktop",
                       version=version)  # fmt: skip
    return keys


async def test_firmware_from_the_profile_is_checked_and_handed_to_the_updater_when_idle(tmp_path, nginx, pki):
    keys = bundle(tmp_path, nginx.www, version="2.0")
    (nginx.www / f"{MAC}.toml").write_text(DEVICE + f'\n[firmware]\nurl = "{nginx.url}/update.bundle"\n'
                                           'window_from = "00:00"\nwindow_to = "00:00"\n')  # fmt: skip
    handoff = tmp_path / "update"
    async with running(tmp_path / "data", table=fleet(nginx.url, pki.pem.cert), mac=MAC, update_dir=handoff,
                       update_keys=keys) as stack:  # fmt: skip
        stack.fakes.hook.lift()  # off hook: the profile waits, and so does the firmware
        await asyncio.sleep(0.05)
        answer = await sync(stack)
        assert answer["firmware"]["state"] in ("off", "waiting")
        assert not (handoff / "ready").exists()
        stack.fakes.hook.replace()
        for _ in range(100):  # the profile, with firmware.url, applied once the phone is idle
            await asyncio.sleep(0.01)
            if stack.store.config.firmware.url:
                break
        answer = await sync(stack)
        assert answer["firmware"] == {
            "state": "applying",
            "version": "2.0",
            "source": f"{nginx.url}/update.bundle",
        }
        assert (handoff / "ready").exists()
        assert update.verify(handoff / "upload.bundle", update.trusted_keys(keys), "desktop").version == "2.0"
        assert json.loads((handoff / "status.json").read_text())["version"] == "2.0"


async def test_a_bundle_signed_by_another_key_is_refused_as_an_upload_would_be(tmp_path, nginx, pki):
    keys = bundle(tmp_path, nginx.www, version="2.0")
    bundle(tmp_path, nginx.www, version="2.0", key="stranger")  # served: signed by a key not in the image
    table = fleet(nginx.url, pki.pem.cert)
    table["firmware"] = {"url": f"{nginx.url}/update.bundle", "window_from": "00:00", "window_to": "00:00"}
    handoff = tmp_path / "update"
    async with running(
        tmp_path / "data", table=table, mac=MAC, update_dir=handoff, update_keys=keys
    ) as stack:
        stack.fakes.hook.lift()
        await asyncio.sleep(0.05)
        answer = await sync(stack)
        assert answer["firmware"]["state"] == "waiting"  # not while the handset is off hook
        assert nginx.requests()[-1][0] != "/update.bundle"
        stack.fakes.hook.replace()
        while not idle(stack.supervisor.phone):  # on hook once the hook-flash window has passed
            await asyncio.sleep(0.02)
        answer = await sync(stack)
        assert answer["firmware"]["state"] == "error"
        assert "signature" in answer["firmware"]["reason"]
        assert sorted(p.name for p in handoff.iterdir()) == []  # nothing handed over, nothing left


async def test_the_admin_password_hash_from_the_server_is_the_pages_password(tmp_path, nginx, pki):
    from appliance.web.auth import hash_line

    line = hash_line("the fleet's own password")
    (nginx.www / f"{MAC}.toml").write_text(DEVICE + f'\n[web]\nadmin_password_hash = "{line}"\n')
    async with running(tmp_path / "data", table=fleet(nginx.url, pki.pem.cert), mac=MAC) as stack:
        assert (await sync(stack))["state"] == "ok"
        async with (
            stack.session(basic=("admin", "the fleet's own password")) as c,
            c.get("/api/v1/status") as r,
        ):
            assert r.status == 200  # taken by the page without a restart
            assert line not in await r.text()
        assert stack.power.requests == []  # and no restart asked for it
