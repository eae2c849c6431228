"""The Wi-Fi page's API on the desktop board's simulated radio: scan, join (a wrong password
refused with the reason, the key never answered or logged), forget, and each connection's
addressing checked field by field."""

import asyncio
import logging

from appliance.fakes.wifi import PASSWORDS

from .conftest import running

KEY = PASSWORDS["Home Net"]
WRONG = "not-the-key-42"


async def joined(client, ssid, timeout_s=5.0):
    """The join's outcome once it is no longer under way (the page polls the same way)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        async with client.get("/api/v1/wifi") as r:
            assert r.status == 200
            wifi = await r.json()
        if wifi["join"] and wifi["join"]["ssid"] == ssid and wifi["join"]["state"] != "joining":
            return wifi
        assert asyncio.get_running_loop().time() < deadline, wifi
        await asyncio.sleep(0.05)


async def test_scan_join_forget(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    async with running(tmp_path) as stack, stack.admin() as c:
        async with c.get("/api/v1/wifi") as r:
            wifi = await r.json()
        assert wifi["networks"] == [] and wifi["ethernet"] is True and wifi["wifi"] is False
        assert [s["type"] for s in wifi["saved"]] == ["ethernet"]
        assert wifi["access_point"] == {"open": False, "ssid": stack.control.network.keeper.ap_ssid}

        async with c.post("/api/v1/wifi/scan") as r:
            assert r.status == 200
            names = [n["ssid"] for n in (await r.json())["networks"]]
        assert names[:2] == ["Home Net", "Cafe Libre"]

        async with c.post("/api/v1/wifi/join", json={"ssid": "Home Net", "psk": WRONG}) as r:
            assert r.status == 202
            assert await r.json() == {"ssid": "Home Net", "state": "joining", "field": "", "reason": ""}
        wifi = await joined(c, "Home Net")
        assert wifi["join"] == {"ssid": "Home Net", "state": "failed", "field": "psk",
                                "reason": "wrong password: the network refused it"}  # fmt: skip
        assert not any(s["type"] == "wifi" for s in wifi["saved"])

        async with c.post("/api/v1/wifi/join", json={"ssid": "Home Net", "psk": KEY}) as r:
            assert r.status == 202
        wifi = await joined(c, "Home Net")
        assert wifi["join"]["state"] == "joined" and wifi["wifi"] is True
        home = next(s for s in wifi["saved"] if s["type"] == "wifi")
        assert home["ssid"] == "Home Net" and home["active"] is True
        assert home["ipv4"] == {"method": "auto", "address": "", "prefix": 0, "gateway": "", "dns": []}

        async with c.post("/api/v1/wifi/join", json={"ssid": "Not Here", "psk": KEY}) as r:
            assert r.status == 202
        assert (await joined(c, "Not Here"))["join"]["reason"] == "no network of that name is in range"

        async with c.delete(f"/api/v1/network/connections/{home['uuid']}") as r:
            assert r.status == 204
        async with c.delete(f"/api/v1/network/connections/{home['uuid']}") as r:
            assert r.status == 404
        async with c.get("/api/v1/wifi") as r:
            answer = await r.text()
    assert KEY not in answer
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "joining 'Home Net' failed: wrong password" in logged  # the log says what happened...
    assert KEY not in logged and WRONG not in logged  # ...never with the key


async def test_a_join_is_checked_before_the_radio_is_asked(stack):
    async with stack.admin() as c:
        for body, field in (({"ssid": "Home Net", "psk": "short"}, "psk"),
                            ({"ssid": "x" * 33}, "ssid"),
                            ({"ssid": "é" * 17, "psk": KEY}, "ssid"),
                            ({"ssid": "Home Net", "psk": "tab\there!"}, "psk")):  # fmt: skip
            async with c.post("/api/v1/wifi/join", json=body) as r:
                assert r.status == 400, body
                assert (await r.json())["problems"][0]["field"] == field
    assert stack.control.network.keeper.join_outcome is None


async def test_static_addressing_is_checked_and_kept(stack):
    async with stack.admin() as c:
        async with c.get("/api/v1/wifi") as r:
            wired = (await r.json())["saved"][0]
        path = f"/api/v1/network/connections/{wired['uuid']}/ipv4"
        bad = {
            "method": "manual",
            "address": "192.168.1.20",
            "prefix": 24,
            "gateway": "192.168.2.1",
            "dns": ["x"],
        }
        async with c.put(path, json=bad) as r:
            assert r.status == 400
            problems = {p["field"]: p["reason"] for p in (await r.json())["problems"]}
        assert problems == {
            "gateway": "192.168.2.1 is outside the subnet 192.168.1.0/24: the phone could not reach it",
            "dns": "'x' is not an IPv4 address",
        }
        async with c.put(path, json={"method": "manual", "address": "192.168.1.300", "prefix": 24}) as r:
            assert r.status == 400
            assert (await r.json())["problems"][0]["field"] == "address"
        good = {"method": "manual", "address": "192.168.1.20", "prefix": 24, "gateway": "192.168.1.1",
                "dns": ["192.168.1.1"]}  # fmt: skip
        async with c.put(path, json=good) as r:
            assert r.status == 200
        async with c.get("/api/v1/wifi") as r:
            assert (await r.json())["saved"][0]["ipv4"] == good
        async with c.put(path, json={"method": "auto"}) as r:
            assert r.status == 200
        async with c.put("/api/v1/network/connections/nope/ipv4", json={"method": "auto"}) as r:
            assert r.status == 404


async def test_the_wifi_page_needs_a_login(stack):
    async with stack.session() as c:
        for method, path in (
            ("GET", "/api/v1/wifi"),
            ("POST", "/api/v1/wifi/scan"),
            ("POST", "/api/v1/wifi/join"),
        ):
            async with c.request(method, path, json={"ssid": "Home Net"}) as r:
                assert r.status == 401, path
