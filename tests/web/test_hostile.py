"""What a hostile LAN did to the API (issue 18), each as a regression test: parallel guessing,
bodies that crashed the parser, bodies read in part, cross-site posts, the headers, the log."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import aiohttp
import pytest

from .conftest import PASSWORD


def from_address(stack, address: str, **kwargs) -> aiohttp.ClientSession:
    """A client on another loopback address: the brake is per address."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0), force_close=True)
    return aiohttp.ClientSession(stack.url, connector=connector, **kwargs)


class CountingHashes:
    """Wraps the admin password's check to count hashes, and how many ran at once."""

    def __init__(self, password) -> None:
        self.inner = password.verify
        self.lock = threading.Lock()
        self.running = self.most = self.calls = 0
        password.verify = self

    def __call__(self, candidate: str) -> bool:
        with self.lock:
            self.running += 1
            self.calls += 1
            self.most = max(self.most, self.running)
        try:
            return self.inner(candidate)
        finally:
            with self.lock:
                self.running -= 1


async def test_parallel_wrong_logins_are_braked_and_the_owner_still_gets_in(stack):
    hashes = CountingHashes(stack.web.password)

    async def guess(c: aiohttp.ClientSession, i: int) -> int:
        async with c.post("/api/v1/login", json={"password": f"guess {i}"}) as r:
            return r.status

    async with from_address(stack, "127.0.0.2") as attacker, from_address(stack, "127.0.0.3") as owner:
        flood = [asyncio.ensure_future(guess(attacker, i)) for i in range(40)]
        await asyncio.sleep(0)
        started = time.monotonic()
        async with owner.post("/api/v1/login", json={"password": PASSWORD}) as r:
            assert r.status == 200  # another address is not braked, and is not starved
        owner_s = time.monotonic() - started
        statuses = await asyncio.gather(*flood)
    assert statuses.count(401) <= 5 and statuses.count(429) >= 35, statuses
    assert statuses.count(401) + statuses.count(429) == 40
    assert hashes.calls <= 6 and hashes.most == 1  # 5 guesses and the owner, one at a time
    assert owner_s < 5.0, owner_s  # at most a few hashes ahead of it (5.3 s before, behind 40)


async def test_a_session_cannot_guess_the_old_password_freely(stack):
    async with stack.session() as c:
        async with c.post("/api/v1/login", json={"password": PASSWORD}) as r:
            csrf = (await r.json())["csrf"]
        statuses = []
        for i in range(8):
            body = {"old": f"guess {i}", "new": "a new long password"}
            async with c.put("/api/v1/password", json=body, headers={"X-CSRF-Token": csrf}) as r:
                statuses.append(r.status)
    assert statuses[:5] == [400] * 5 and set(statuses[5:]) == {429}, statuses
    assert stack.web.password.verify(PASSWORD)  # unchanged


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"[" * 5000, "application/json", "nested too deeply"),
        (b'{"password": "x"}', "application/json; charset=bogus-xyz", "unknown charset"),
        (b'{"password": "\xff"}', "application/json", "not utf-8 text"),
    ],
)
async def test_bodies_that_crashed_the_parser_are_refused_plainly(stack, caplog, body, content_type, reason):
    for path in ("/api/v1/login", "/api/v1/setup"):
        async with stack.session() as c, c.post(path, data=body, headers={"Content-Type": content_type}) as r:
            answer = await r.json()
            if path == "/api/v1/setup":
                assert r.status in (400, 409)  # the password is set: either refusal, never a 500
                continue
            assert r.status == 400, answer
            assert reason in answer["problems"][0]["reason"]
    assert "Traceback" not in caplog.text and "failed" not in caplog.text


async def test_a_large_body_is_read_whole_however_it_arrives(stack):
    """A 480 KB vCard import sent in small pieces (as a slow link delivers it)."""
    card = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person {i}\r\nIMPP:sip:p{i}@10.0.0.2\r\nNOTE:{pad}\r\nEND:VCARD\r\n"
    )
    vcf = "".join(card.format(i=i, pad="x" * 4000) for i in range(118))
    raw = json.dumps({"vcf": vcf}).encode()
    assert len(raw) > 450_000

    async def trickle():
        for start in range(0, len(raw), 16 * 1024):
            yield raw[start : start + 16 * 1024]
            await asyncio.sleep(0.002)

    async with (
        stack.admin() as c,
        c.post("/api/v1/contacts/import", data=trickle(), headers={"Content-Type": "application/json"}) as r,
    ):
        answer = await r.json()
    assert r.status == 200, answer
    assert answer["added"] == 118


async def test_cross_site_posts_are_refused_also_with_basic_credentials(stack):
    async with stack.admin() as c:
        for headers in (
            {"Origin": "http://evil.example"},
            {"Sec-Fetch-Site": "cross-site"},
            {"Origin": "null"},
        ):
            async with c.post("/api/v1/sim/flash", headers=headers) as r:
                assert r.status == 403, headers
                assert (await r.json())["error"] == "cross-site request refused"
        host = stack.url.removeprefix("http://")
        async with c.post("/api/v1/sim/flash", headers={"Origin": f"http://{host}"}) as r:
            assert r.status == 200  # the page's own origin
        async with c.get("/api/v1/status", headers={"Origin": "http://evil.example"}) as r:
            assert r.status == 200  # reading is the browser's CORS business, not a change
    async with stack.session() as c, c.post("/api/v1/login", json={"password": PASSWORD},
                                            headers={"Origin": "http://evil.example"}) as r:  # fmt: skip
        assert r.status == 403  # no logging in from another site's page either


async def test_every_answer_has_the_security_headers_and_no_server_version(stack):
    async with stack.session() as c:
        for path in ("/", "/api/v1/setup", "/no/such/page", "/api/v1/no-such", "/static/no-such.js"):
            async with c.get(path) as r:
                assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"], path
                assert r.headers["X-Content-Type-Options"] == "nosniff", path
                assert "aiohttp" not in r.headers.get("Server", "") and "Python" not in r.headers.get(
                    "Server", ""
                )


async def test_strangers_guessing_do_not_push_the_log_out(stack, caplog):
    for n in range(3):
        async with from_address(stack, f"127.0.1.{n + 1}") as stranger:
            for i in range(5):
                async with stranger.post("/api/v1/login", json={"password": f"guess {i}"}) as r:
                    assert r.status == 401
    failed = [r.getMessage() for r in caplog.records if "wrong password" in r.getMessage()]
    assert len(failed) == 5, failed  # 15 failures, 5 lines this minute; the next minute counts the rest
    stack.clock.now += 60
    async with (
        from_address(stack, "127.0.1.9") as stranger,
        stranger.post("/api/v1/login", json={"password": "one more"}) as r,
    ):
        assert r.status == 401
    assert "10 more failed logins not logged" in caplog.text


def _sealed_tar(build) -> bytes:
    """A backup sealed with "backup secret" whose tar ``build(tar)`` writes."""
    import io
    import tarfile

    from appliance.runtime import backup

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        build(tar)
    return backup.seal(out.getvalue(), "backup secret")


async def _restore(stack, blob: bytes) -> tuple[int, dict]:
    import base64

    async with stack.admin() as c:
        body = {"password": "backup secret", "data": base64.b64encode(blob).decode()}
        async with c.post("/api/v1/system/restore", json=body) as r:
            return r.status, await r.json()


async def test_a_backup_with_a_huge_tar_header_is_refused_without_reading_it(stack):
    import io
    import tarfile
    import tracemalloc

    def huge_header(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo("manifest.json")
        data = b'{"format": 1}'
        info.size = len(data)
        info.pax_headers = {"comment": "x" * 60_000_000}  # 60 MB, gzipped to ~60 KB
        tar.addfile(info, io.BytesIO(data))

    blob = _sealed_tar(huge_header)
    assert len(blob) < 1_000_000
    tracemalloc.start()
    try:
        status, answer = await _restore(stack, blob)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert status == 400 and "larger than" in json.dumps(answer), answer
    assert peak < 30_000_000, peak  # the unzipped archive is bounded (~6.6 MB), not 60 MB
    assert stack.control.system.maintenance.power.requests == []


async def test_a_backup_may_not_bring_what_no_save_writes(stack):
    import io
    import tarfile

    def with_config(config: bytes):
        def build(tar: tarfile.TarFile) -> None:
            for name, data in (("manifest.json", b'{"format": 1}'), ("config.toml", config)):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))

        return build

    before = (stack.data / "config.toml").read_bytes() if (stack.data / "config.toml").exists() else None
    for config, field in (
        (b'[web]\nlisten = "0.0.0.0:80"\n', "web"),
        (b'[drivers]\nhook = "gpio"\n', "drivers"),
        (b"[hook]\npin = 5\n", "hook.pin"),
    ):
        status, answer = await _restore(stack, _sealed_tar(with_config(config)))
        assert status == 400 and field in json.dumps(answer), (config, answer)
    after = (stack.data / "config.toml").read_bytes() if (stack.data / "config.toml").exists() else None
    assert before == after and stack.control.system.maintenance.power.requests == []
    ok = b'[features]\ndnd = true\n[[contacts]]\nid = "a1"\nname = "Alice"\nuri = "sip:alice@10.0.0.2"\n'
    status, answer = await _restore(stack, _sealed_tar(with_config(ok)))
    assert status == 200 and answer["restarting"], answer  # what the page and star codes save is fine


@pytest.mark.parametrize("bad", ["Bob\x00", "Bob\x1b[2J", "Bell\x07", "Bob\n", "Bob\ud800"])
async def test_names_and_uris_are_plain_text(stack, bad):
    async with stack.admin() as c:
        for body, field in (({"name": bad, "uri": "sip:bob@10.0.0.2"}, "name"),
                            ({"name": "Bob", "uri": "sip:bob@10.0.0.2" + bad[3:]}, "uri")):  # fmt: skip
            raw = json.dumps(body).encode()  # a lone surrogate goes as JSON's \\ud800 escape
            async with c.post(
                "/api/v1/contacts", data=raw, headers={"Content-Type": "application/json"}
            ) as r:
                answer = await r.json()
                assert r.status == 400, answer
                (problem,) = answer["problems"]
                assert problem["field"].endswith(field), answer
                assert "/" not in problem["reason"] and str(stack.data) not in json.dumps(answer)
        async with c.get("/api/v1/contacts.vcf") as r:
            assert bad[3:] not in await r.text()


async def test_two_sip_accounts_cannot_share_a_port(stack):
    async with stack.admin() as c:
        async with c.post(
            "/api/v1/sip-accounts",
            json={"id": "one", "username": "a", "password": "", "registrar": "pbx.lan", "local_port": 5070},
        ) as r:
            assert r.status == 201
        async with c.post(
            "/api/v1/sip-accounts",
            json={"id": "two", "username": "b", "password": "", "registrar": "pbx.lan", "local_port": 5070},
        ) as r:
            answer = await r.json()
            assert r.status == 400 and "already the port of one" in json.dumps(answer), answer


async def test_the_directory_is_bounded_and_an_import_of_exactly_the_bound_is_whole(stack):
    card = "BEGIN:VCARD\r\nFN:P{i}\x07\r\nIMPP:sip:p{i}@10.0.0.2\r\nEND:VCARD\r\n"
    async with stack.admin() as c:
        body = {"vcf": "".join(card.format(i=i) for i in range(1000))}
        async with c.post("/api/v1/contacts/import", json=body) as r:
            answer = await r.json()
        assert answer == {"added": 1000, "skipped": []}  # control characters cleaned, not refused
        async with c.post("/api/v1/contacts", json={"name": "One more", "uri": "sip:more@10.0.0.2"}) as r:
            answer = await r.json()
            assert r.status == 400 and "at most 1000 contacts" in json.dumps(answer), answer
        body = {"vcf": "".join(card.format(i=i) for i in range(1000, 2001))}
        async with c.post("/api/v1/contacts/import", json=body) as r:
            answer = await r.json()
        assert (
            "more than 1000 cards: the rest was not read" in answer.get("skipped", [""])[-1]
            or r.status == 400
        )
    assert len(stack.store.config.contacts) == 1000


async def test_concurrent_first_runs_give_exactly_one_owner(fresh):
    code = fresh.setup_code

    async def claim(i: int) -> tuple[int, str]:
        async with (
            fresh.session() as c,
            c.post("/api/v1/setup", json={"password": f"password number {i}", "code": code}) as r,
        ):
            return r.status, (await r.json()).get("csrf", "")

    answers = await asyncio.gather(*(claim(i) for i in range(20)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * 19, statuses
    (winner,) = [i for i, (status, _) in enumerate(answers) if status == 201]
    assert fresh.web.password.verify(f"password number {winner}")
    assert len(fresh.web.sessions._by_token) == 1  # one working session, the owner's


async def test_a_rebound_name_is_refused_and_the_devices_own_names_are_answered(stack):
    import socket

    short = socket.gethostname().partition(".")[0].lower()
    async with stack.session() as c:
        for host in ("evil.example", "evil.example:8080", "phone.evil.example.", "10.0.0.5.nip.io"):
            async with c.post("/api/v1/login", json={"password": PASSWORD}, headers={"Host": host}) as r:
                assert r.status == 403 and "not this device's name" in (await r.json())["error"], host
            async with c.get("/api/v1/setup", headers={"Host": host}) as r:
                assert r.status == 403, host
        for host in (f"{short}.local", short, "localhost:8080", "127.0.0.1", "[::1]:8080", "10.0.0.5"):
            async with c.get("/api/v1/setup", headers={"Host": host}) as r:
                assert r.status == 200, host
    assert not stack.web.sessions._by_token  # no login got through


async def test_names_the_owner_allows(tmp_path):
    from appliance.web.server import WebApp

    from .conftest import running

    async with running(tmp_path) as stack:
        web = WebApp(stack.control, tmp_path / "other", allowed_hosts=("phone.office.lan",))
        assert "phone.office.lan" in web.own_names and "evil.example" not in web.own_names
