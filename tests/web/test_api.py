"""The JSON API: first run, sessions, CSRF, the login brake, and what each endpoint does to the phone."""

import asyncio
import base64
import json
import stat

import aiohttp

from appliance.phone.model import Mode
from appliance.web.auth import LoginLimiter

from .conftest import PASSWORD, running

JAMI_ID = "0123456789abcdef0123456789abcdef01234567"


async def login(client: aiohttp.ClientSession, password: str = PASSWORD) -> str:
    async with client.post("/api/v1/login", json={"password": password}) as r:
        assert r.status == 200, await r.text()
        return (await r.json())["csrf"]


# --- first run ------------------------------------------------------------------------------------


async def test_first_run_nothing_but_setup_until_a_password_is_chosen(fresh):
    async with fresh.session() as c:
        for path in ("/api/v1/status", "/api/v1/contacts", "/api/v1/settings"):
            async with c.get(path) as r:
                assert r.status == 403
                assert "password" in (await r.json())["error"]
        async with c.get("/api/v1/setup") as r:
            assert (await r.json())["password_set"] is False
        async with c.post("/api/v1/login", json={"password": "anything at all"}) as r:
            assert r.status == 403  # no default password to guess
        async with c.post("/api/v1/setup", json={"password": "short"}) as r:
            assert r.status == 400
            assert (await r.json())["problems"][0]["field"] == "password"
        code = fresh.setup_code
        assert any(code in line for line in fresh.supervisor.screen.lines)  # shown on the display
        async with c.post("/api/v1/setup", json={"password": PASSWORD, "code": code}) as r:
            assert r.status == 201
            csrf = (await r.json())["csrf"]
        await fresh.supervisor.idle()
        assert not any(code in line for line in fresh.supervisor.screen.lines)  # claimed: gone
        async with c.get("/api/v1/status") as r:  # the set-up logged this browser in
            assert r.status == 200
        async with c.post("/api/v1/setup", json={"password": "someone else's", "code": code}) as r:
            assert r.status == 409  # only once
    assert csrf
    stored = fresh.data / "web" / "admin.scrypt"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert PASSWORD not in stored.read_text() and stored.read_text().startswith("scrypt$16384$8$1$")


async def test_a_password_file_presets_the_password(tmp_path):
    from appliance.web.auth import AdminPassword

    source = tmp_path / "pw"
    source.write_text(PASSWORD + "\n")
    store = AdminPassword(tmp_path / "web" / "admin.scrypt")
    assert store.preset_from(source)
    assert store.verify(PASSWORD)
    assert not store.verify(PASSWORD + "x")
    assert not store.preset_from(source)  # never overrides a password set on the page


# --- sessions, CSRF, Basic ---------------------------------------------------------------------


async def test_session_cookie_is_httponly_strict_and_state_changes_need_the_csrf_token(stack):
    async with stack.session() as c:
        async with c.post("/api/v1/login", json={"password": PASSWORD}) as r:
            cookie = r.headers["Set-Cookie"]
            csrf = (await r.json())["csrf"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age" in cookie
        contact = {"name": "Bob", "uri": JAMI_ID, "speed_dial": "2"}
        async with c.post("/api/v1/contacts", json=contact) as r:
            assert r.status == 403  # no token: a cross-site form cannot do this
        async with c.post("/api/v1/contacts", json=contact, headers={"X-CSRF-Token": "guess"}) as r:
            assert r.status == 403
        async with c.get("/api/v1/contacts") as r:
            assert await r.json() == []  # nothing changed
        async with c.post("/api/v1/contacts", json=contact, headers={"X-CSRF-Token": csrf}) as r:
            assert r.status == 201


async def test_sessions_expire_when_idle_and_on_logout(stack):
    async with stack.session() as c:
        await login(c)
        async with c.get("/api/v1/status") as r:
            assert r.status == 200
        stack.clock.now += 29 * 60
        async with c.get("/api/v1/status") as r:
            assert r.status == 200  # use keeps it alive
        stack.clock.now += 31 * 60
        async with c.get("/api/v1/status") as r:
            assert r.status == 401
        await login(c)
        async with c.post("/api/v1/logout") as r:
            assert r.status == 200
        async with c.get("/api/v1/status") as r:
            assert r.status == 401


async def test_basic_auth_for_api_clients(stack):
    async with stack.admin() as c, c.get("/api/v1/status") as r:
        assert r.status == 200
    async with (
        stack.session(basic=("root", PASSWORD)) as c,
        c.get("/api/v1/status") as r,
    ):
        assert r.status == 401
    async with stack.session(basic=("admin", "wrong password")) as c, c.get("/api/v1/status") as r:
        assert r.status == 401
        assert r.headers["WWW-Authenticate"].startswith("Basic")


async def test_failed_logins_are_braked_per_client(stack):
    async with stack.session() as c:
        for _ in range(5):
            async with c.post("/api/v1/login", json={"password": "not it"}) as r:
                assert r.status == 401
        async with c.post("/api/v1/login", json={"password": PASSWORD}) as r:
            assert r.status == 429  # even the right password waits
            assert int(r.headers["Retry-After"]) >= 1
        async with stack.session(basic=("admin", PASSWORD)) as basic, basic.get("/api/v1/status") as r:
            assert r.status == 429  # Basic shares the brake
        stack.clock.now += 3
        await login(c)  # the wait is over; success clears the count


def test_the_brake_doubles_and_is_capped():
    now = [0.0]
    limiter = LoginLimiter(clock=lambda: now[0])
    waits = []
    for _ in range(20):
        limiter.failed("10.0.0.9")
        waits.append(limiter.retry_after("10.0.0.9"))
    assert waits[:4] == [0, 0, 0, 0]
    assert waits[4:8] == [2, 4, 8, 16]
    assert max(waits) == 15 * 60
    assert limiter.retry_after("10.0.0.10") == 0  # another client is not affected


async def test_password_change_needs_the_old_one_and_ends_other_sessions(stack):
    async with stack.session() as a, stack.session() as b:
        csrf = await login(a)
        await login(b)
        async with a.put(
            "/api/v1/password", json={"old": "wrong!!!", "new": "a new pass"}, headers={"X-CSRF-Token": csrf}
        ) as r:
            assert r.status == 400
        async with a.put(
            "/api/v1/password", json={"old": PASSWORD, "new": "a new pass"}, headers={"X-CSRF-Token": csrf}
        ) as r:
            assert r.status == 200
            assert (await r.json())["csrf"]  # this browser stays logged in
        async with b.get("/api/v1/status") as r:
            assert r.status == 401
        async with a.get("/api/v1/status") as r:
            assert r.status == 200


# --- what the endpoints do ---------------------------------------------------------------------------


async def registered(stack) -> None:
    """The fake core registers its account a moment after start, as the daemon does."""
    for _ in range(200):
        if stack.supervisor.phone.accounts and all(
            a.registration.value == "registered" for a in stack.supervisor.phone.accounts
        ):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("account never registered")


async def test_status_reports_phone_and_accounts(stack):
    await registered(stack)
    async with stack.admin() as c, c.get("/api/v1/status") as r:
        status = await r.json()
    assert status["phone"] == status["phone"] | {"state": "idle", "tone": None, "ringer": False}
    assert status["phone"]["display"][0]
    (jami,) = status["accounts"]
    assert jami["type"] == "jami" and len(jami["uri"]) == 40 and jami["registration"] == "registered"


async def test_contacts_crud_reaches_the_phone_and_the_config_file(stack):
    async with stack.admin() as c:
        async with c.post("/api/v1/contacts", json={"name": "Bob", "uri": JAMI_ID, "speed_dial": "2"}) as r:
            assert r.status == 201
            bob = await r.json()
        assert any(x.uri == JAMI_ID and x.speed_dial == "2" for x in stack.supervisor.phone.contacts)
        async with c.put(f"/api/v1/contacts/{bob['id']}", json={"speed_dial": "3"}) as r:
            assert (await r.json())["speed_dial"] == "3"
        async with c.get(f"/api/v1/contacts/{bob['id']}") as r:
            assert (await r.json())["name"] == "Bob"
        assert 'speed_dial = "3"' in (stack.data / "config.toml").read_text()
        async with c.delete(f"/api/v1/contacts/{bob['id']}") as r:
            assert r.status == 204
        async with c.get(f"/api/v1/contacts/{bob['id']}") as r:
            assert r.status == 404
        await stack.supervisor.idle()
        assert stack.supervisor.phone.contacts == ()


async def test_bad_input_names_the_field_and_saves_nothing(stack):
    async with stack.admin() as c:
        async with c.post("/api/v1/contacts", json={"name": "Bob", "uri": JAMI_ID, "speed_dial": "2"}) as r:
            assert r.status == 201
        before = (stack.data / "config.toml").read_bytes()
        cases = [
            ("/api/v1/contacts", "POST", {"name": "Eve", "uri": "not an address"}, "contacts[1].uri"),
            (
                "/api/v1/contacts",
                "POST",
                {"name": "Eve", "uri": JAMI_ID, "speed_dial": "2"},
                "contacts[1].speed_dial",
            ),
            ("/api/v1/contacts", "POST", {"name": "Eve"}, "uri"),
            ("/api/v1/contacts", "POST", {"name": "Eve", "uri": JAMI_ID, "pin": "1"}, "pin"),
            ("/api/v1/settings", "PUT", {"phone": {"country": "XX"}}, "phone.country"),
            ("/api/v1/settings", "PUT", {"dialplan": {"map": "[9-"}}, "dialplan.map"),
            ("/api/v1/settings", "PUT", {"hook": {"pin": 4}}, "hook.pin"),
            ("/api/v1/settings", "PUT", {"drivers": {"hook": "gpio"}}, "drivers"),
            ("/api/v1/settings", "PUT", {"timers": {"reorder_s": "soon"}}, "timers.reorder_s"),
        ]
        for path, method, body, field in cases:
            async with c.request(method, path, json=body) as r:
                answer = await r.json()
                assert r.status == 400, (body, answer)
                assert any(p["field"] == field for p in answer["problems"]), (field, answer)
        async with c.post(
            "/api/v1/contacts", data="{not json", headers={"Content-Type": "application/json"}
        ) as r:
            assert r.status == 400
        async with c.post("/api/v1/contacts", data="name=Eve") as r:
            assert r.status == 400
    assert (stack.data / "config.toml").read_bytes() == before
    assert stack.supervisor.phone.settings.country == "US"


async def test_settings_change_the_running_phone(stack):
    async with stack.admin() as c:
        async with c.put(
            "/api/v1/settings", json={"phone": {"country": "DE"}, "features": {"private_mode": True}}
        ) as r:
            assert r.status == 200, await r.text()
            answer = await r.json()
        assert answer["restart_required"] == []
        assert answer["settings"]["phone"]["country"] == "DE"
        async with c.put("/api/v1/settings", json={"ringer": {"volume": 40}}) as r:
            assert (await r.json())["restart_required"] == ["ringer"]
        async with c.put(
            "/api/v1/settings", json={"ringer": {"volume": 40}, "hook": {"flash_max_ms": 700}}
        ) as r:
            assert (await r.json())["restart_required"] == []  # unchanged, and the hook timing applies live
    await stack.supervisor.idle()
    assert stack.supervisor.phone.settings.country == "DE"
    assert stack.supervisor.plan.country == "DE"
    assert stack.supervisor.phone.private_mode


async def test_secrets_are_never_returned(tmp_path):
    table = {
        "sip_accounts": [
            {"id": "office", "username": "desk", "password": "s3cret-digest", "registrar": "pbx.lan"}
        ]
    }
    async with running(tmp_path, table=table) as stack, stack.admin() as c:
        for path in ("/api/v1/settings", "/api/v1/status", "/api/v1/openapi.json", "/api/v1/contacts"):
            async with c.get(path) as r:
                text = await r.text()
            assert "s3cret" not in text, path


async def test_dial_plan_tester(stack):
    async with stack.admin() as c:
        async with c.post(
            "/api/v1/dialplan/test", json={"map": "[2-9]xxxxxx|1[2-9]xx[2-9]xxxxxx", "digits": "5551234"}
        ) as r:
            assert (await r.json())["result"] == "complete"
        async with c.post("/api/v1/dialplan/test", json={"map": "[2-9]xxxxxx", "digits": "555"}) as r:
            assert (await r.json())["result"] == "partial"
        async with c.post("/api/v1/dialplan/test", json={"map": "[2-", "digits": "5"}) as r:
            assert r.status == 400


async def test_trust_requests_accepted_and_discarded(stack):
    vcard = b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Carol\r\nEND:VCARD\r\n"
    stack.fakes.telephony.receive_trust_request(JAMI_ID, vcard)
    stack.fakes.telephony.receive_trust_request("f" * 40, conversation="")  # an app's before swarms
    async with stack.admin() as c:
        async with c.get("/api/v1/trust-requests") as r:
            pending = await r.json()
        assert {p["uri"]: p["name"] for p in pending} == {JAMI_ID: "Carol", "f" * 40: ""}
        conversations = {p["uri"]: p["conversation"] for p in pending}
        assert len(conversations[JAMI_ID]) == 40
        assert conversations["f" * 40] == ""
        async with c.post(f"/api/v1/trust-requests/{JAMI_ID}/accept") as r:
            assert r.status == 200
        async with c.post(f"/api/v1/trust-requests/{'f' * 40}/discard") as r:
            assert r.status == 200
        async with c.post(f"/api/v1/trust-requests/{'f' * 40}/discard") as r:
            assert r.status == 404
    await stack.supervisor.idle()
    assert [x.uri for x in stack.supervisor.phone.trusted] == [JAMI_ID]
    assert stack.supervisor.phone.trust_pending == 0


async def test_virtual_phone_dials_and_the_call_is_logged(stack):
    await registered(stack)
    async with stack.admin() as c:
        async with c.post("/api/v1/contacts", json={"name": "Bob", "uri": JAMI_ID, "speed_dial": "2"}) as r:
            assert r.status == 201
        async with c.post("/api/v1/sim/hook", json={"off_hook": True}) as r:
            status = await r.json()
        assert status["phone"]["state"] == "dialing" and status["phone"]["tone"] == "dial"
        async with c.post("/api/v1/sim/keys", json={"keys": "2#"}) as r:
            status = await r.json()
        assert status["phone"]["state"] == "calling"
        assert stack.fakes.telephony.commands[-1][0] == "place"
        stack.fakes.telephony.remote_answer()
        await stack.supervisor.idle()
        async with c.post("/api/v1/sim/hook", json={"off_hook": False}) as r:
            assert r.status == 200
        for _ in range(300):  # on hook longer than a flash (0.9 s) is a hang-up
            if stack.supervisor.phone.mode is Mode.IDLE:
                break
            await asyncio.sleep(0.01)
        async with c.get("/api/v1/status") as r:
            assert (await r.json())["phone"]["state"] == "idle"
        async with c.get("/api/v1/calls") as r:
            (call,) = await r.json()
    assert call["kind"] == "outgoing" and call["uri"] == JAMI_ID and call["name"] == "Bob"
    lines = (stack.data / "calls.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["uri"] == JAMI_ID  # kept across restarts


async def test_virtual_phone_exists_only_on_the_desktop_board(tmp_path):
    async with running(tmp_path, desktop=False) as stack, stack.admin() as c:
        async with c.post("/api/v1/sim/hook", json={"off_hook": True}) as r:
            assert r.status == 404
        async with c.get("/api/v1/openapi.json") as r:
            assert "/api/v1/sim/hook" not in (await r.json())["paths"]
    assert stack.supervisor.phone.mode is Mode.IDLE


async def test_page_and_headers(stack):
    async with stack.session() as c:
        async with c.get("/") as r:
            assert r.status == 200
            assert "Content-Security-Policy" in r.headers
            page = await r.text()
        assert "/static/app.js" in page and "<script>" not in page  # no inline script: CSP holds
        async with c.get("/api/v1/openapi.json") as r:
            doc = await r.json()
        assert doc["openapi"].startswith("3.")
        assert {
            "/api/v1/contacts",
            "/api/v1/contacts/{contact_id}",
            "/api/v1/status",
            "/api/v1/sim/keys",
        } <= set(doc["paths"])


async def test_qr_code_of_the_jami_id(stack):
    async with stack.admin() as c, c.get("/api/v1/account/qr.svg") as r:
        assert r.status == 200
        assert r.content_type == "image/svg+xml"
        assert (await r.text()).startswith("<svg")


async def test_concurrent_saves_all_land(stack):
    async with stack.admin() as c:

        async def add(i: int) -> int:
            async with c.post(
                "/api/v1/contacts", json={"name": f"P{i}", "uri": JAMI_ID, "speed_dial": f"{i}"}
            ) as r:
                return r.status

        assert await asyncio.gather(*(add(i) for i in range(10))) == [201] * 10
        async with c.get("/api/v1/contacts") as r:
            assert sorted(x["speed_dial"] for x in await r.json()) == [str(i) for i in range(10)]
    assert (stack.data / "config.toml").stat().st_mode & 0o077 == 0


async def test_a_remembered_basic_password_is_forgotten_when_the_password_changes(stack):
    async with stack.admin() as basic:
        async with basic.get("/api/v1/status") as r:
            assert r.status == 200  # verified once, then remembered
        async with basic.put("/api/v1/password", json={"old": PASSWORD, "new": "another one"}) as r:
            assert r.status == 200
        async with basic.get("/api/v1/status") as r:
            assert r.status == 401


async def test_block_a_sender_then_unblock(stack):
    stack.fakes.telephony.receive_trust_request(JAMI_ID)
    async with stack.admin() as c:
        async with c.post(f"/api/v1/trust-requests/{JAMI_ID}/block") as r:
            assert r.status == 200
        async with c.get("/api/v1/blocked") as r:
            assert await r.json() == [JAMI_ID]
        assert stack.fakes.telephony.ring_in(JAMI_ID) == ""  # refused, no call
        assert not stack.fakes.ringer.ringing
        async with c.delete(f"/api/v1/blocked/{JAMI_ID}") as r:
            assert r.status == 204
        async with c.delete(f"/api/v1/blocked/{JAMI_ID}") as r:
            assert r.status == 404
        async with c.get("/api/v1/blocked") as r:
            assert await r.json() == []


async def test_one_block_list_for_numbers_and_jami_ids(stack):
    async with stack.admin() as c:
        for uri in ("5551234", JAMI_ID.upper()):
            async with c.post("/api/v1/blocked", json={"uri": uri}) as r:
                assert r.status == 204, await r.text()
        async with c.post("/api/v1/blocked", json={"uri": "no spaces!"}) as r:
            assert r.status == 400
            assert (await r.json())["problems"][0]["field"] == "screening.block"
        async with c.get("/api/v1/blocked") as r:
            assert await r.json() == sorted(["5551234", JAMI_ID])
        assert stack.fakes.telephony.blocked() == [JAMI_ID]  # a Jami ID is banned in the core too
        async with c.get("/api/v1/settings") as r:
            assert (await r.json())["screening"]["block"] == ["5551234", JAMI_ID]
        await stack.supervisor.idle()
        assert stack.fakes.telephony.ring_in("sip:5551234@pbx.example", account="jami") != ""
        await stack.supervisor.idle()
        assert not stack.fakes.ringer.ringing  # the phone refused it: on the block list
        assert stack.fakes.telephony.commands[-1][0] == "refuse"
        async with c.delete(f"/api/v1/blocked/{JAMI_ID}") as r:
            assert r.status == 204
        async with c.get("/api/v1/blocked") as r:
            assert await r.json() == ["5551234"]
        assert stack.fakes.telephony.blocked() == []


async def test_forwarding_and_screening_from_the_page(stack):
    changes = {
        "forwarding": {"always": "sip:desk@pbx.example", "no_answer_s": 15},
        "hotline": {"uri": "", "delay_s": 0},
        "screening": {"anonymous_reject": True, "quiet_from": "22:00", "quiet_to": "07:00"},
        "dnd": {"allow": [JAMI_ID]},
        "emergency": {"numbers": ["112"]},
    }
    async with stack.admin() as c:
        async with c.put("/api/v1/settings", json=changes) as r:
            assert r.status == 200, await r.text()
            assert (await r.json())["restart_required"] == []
        async with c.put("/api/v1/settings", json={"forwarding": {"busy": "not a uri!"}}) as r:
            assert r.status == 400
            assert (await r.json())["problems"][0]["field"] == "forwarding.busy"
        async with c.put("/api/v1/settings", json={"dnd": {"allow": "one"}}) as r:
            assert r.status == 400  # a list, not a string
    await stack.supervisor.idle()
    phone = stack.supervisor.phone
    assert phone.forwarding.always == "sip:desk@pbx.example"
    assert (phone.settings.screening.quiet_from, phone.settings.screening.dnd_allow) == (22 * 60, (JAMI_ID,))
    assert phone.settings.emergency.numbers == ("112",)


async def test_a_contacts_certificate_shown_flagged_when_changed_and_accepted(stack):
    telephony = stack.fakes.telephony
    async with stack.admin() as c:
        async with c.post("/api/v1/contacts", json={"name": "Alice", "uri": JAMI_ID}) as r:
            contact = await r.json()
            assert contact["identity"] is None  # no contact yet: nothing pinned
        telephony.ring_in(JAMI_ID, certificate="ab" * 20)
        telephony.remote_hangup()
        async with c.get(f"/api/v1/contacts/{contact['id']}") as r:
            identity = (await r.json())["identity"]
        assert identity["fingerprint"] == "ab" * 20 and not identity["changed"]
        async with c.post(f"/api/v1/identities/{JAMI_ID}/accept") as r:
            assert r.status == 404  # nothing changed: nothing to accept
        telephony.ring_in(JAMI_ID, certificate="cd" * 20)
        await stack.supervisor.idle()
        assert stack.supervisor.screen.lines[-1] == "Certificate changed!"
        telephony.remote_hangup()
        async with c.get(f"/api/v1/contacts/{contact['id']}") as r:
            identity = (await r.json())["identity"]
        assert identity == {**identity, "fingerprint": "ab" * 20, "changed": True, "presented": "cd" * 20}
        async with c.post(f"/api/v1/identities/{JAMI_ID}/accept") as r:
            assert (await r.json())["fingerprint"] == "cd" * 20
        async with c.get("/api/v1/contacts") as r:
            assert (await r.json())[0]["identity"]["changed"] is False


async def test_a_new_jami_contact_gets_a_request_with_this_phones_card(stack):
    telephony = stack.fakes.telephony
    async with stack.admin() as c:
        async with c.post("/api/v1/contacts", json={"name": "Alice", "uri": JAMI_ID}) as r:
            contact = await r.json()
        assert telephony.sent_requests == [
            (JAMI_ID, b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Jami phone\r\nEND:VCARD\r\n")
        ]
        async with c.post(f"/api/v1/contacts/{contact['id']}/request") as r:
            assert r.status == 200
        assert len(telephony.sent_requests) == 2
        async with c.post("/api/v1/contacts", json={"name": "Desk", "uri": "sip:desk@pbx.lan"}) as r:
            sip = await r.json()
        assert len(telephony.sent_requests) == 2  # SIP contacts get none
        async with c.post(f"/api/v1/contacts/{sip['id']}/request") as r:
            assert r.status == 400


async def test_backup_and_restore_through_the_api(stack):
    power = stack.control.system.maintenance.power
    async with stack.admin() as c:
        async with c.post("/api/v1/contacts", json={"name": "Alice", "uri": JAMI_ID}) as r:
            assert r.status == 201
        async with c.post("/api/v1/system/backup", json={"password": "backup secret"}) as r:
            assert r.status == 200 and r.content_type == "application/octet-stream"
            assert r.headers["Content-Disposition"].startswith('attachment; filename="jami-phone-desktop-')
            blob = await r.read()
        async with c.delete("/api/v1/contacts/" + (await (await c.get("/api/v1/contacts")).json())[0]["id"]):
            pass
        data = base64.b64encode(blob).decode()
        async with c.post("/api/v1/system/restore", json={"password": "wrong password", "data": data}) as r:
            assert r.status == 400 and power.requests == []
        async with c.post("/api/v1/system/restore", json={"password": "backup secret", "data": "%%"}) as r:
            assert r.status == 400
        async with c.post("/api/v1/system/restore", json={"password": "backup secret", "data": data}) as r:
            answer = await r.json()
        assert answer["restarting"] and "account.gz" in answer["restored"] and power.requests == ["restart"]
        assert "Alice" in (stack.data / "config.toml").read_text()  # written, read at the restart


async def test_a_backup_whose_config_does_not_fit_this_board_is_refused_whole(stack):
    from appliance.runtime import backup

    bad = backup.seal(
        backup.pack({"manifest.json": b'{"format": 1}', "config.toml": b'[phone]\ncountry = "XX"\n'}),
        "backup secret",
    )
    before = (stack.data / "config.toml").read_bytes() if (stack.data / "config.toml").exists() else None
    async with stack.admin() as c:
        body = {"password": "backup secret", "data": base64.b64encode(bad).decode()}
        async with c.post("/api/v1/system/restore", json=body) as r:
            assert r.status == 400
            assert "phone.country" in json.dumps(await r.json())
    after = (stack.data / "config.toml").read_bytes() if (stack.data / "config.toml").exists() else None
    assert before == after and stack.control.system.maintenance.power.requests == []


async def test_factory_reset_needs_the_words_and_forgets_the_password(stack):
    power = stack.control.system.maintenance.power
    async with stack.admin() as c:
        async with c.post("/api/v1/system/factory-reset", json={"confirm": "yes please"}) as r:
            assert r.status == 400 and power.requests == []
        async with c.post("/api/v1/system/factory-reset", json={"confirm": "Factory reset"}) as r:
            assert r.status == 200
    assert power.requests == ["wipe"]
    async with stack.session() as c, c.get("/api/v1/setup") as r:
        assert (await r.json())["password_set"] is False


async def test_restart_and_reboot_are_asked_of_the_power(stack):
    async with stack.admin() as c:
        assert (await c.post("/api/v1/system/restart")).status == 200
        assert (await c.post("/api/v1/system/reboot")).status == 200
    assert stack.control.system.maintenance.power.requests == ["restart", "reboot"]


async def test_firmware_upload_checked_then_handed_to_the_updater(tmp_path):
    from appliance import update
    from appliance.web.firmware import FirmwareHandoff

    update.generate_key(tmp_path / "release.key", tmp_path / "keys" / "release.pem")
    payload = tmp_path / "root.squashfs"
    payload.write_bytes(b"hsqs" + b"\1" * 300_000)
    good = tmp_path / "good.bundle"
    update.make_bundle(payload, good, key=tmp_path / "release.key", board="desktop", version="2.0")
    other = tmp_path / "other.bundle"
    update.make_bundle(payload, other, key=tmp_path / "release.key", board="adapter-v1", version="2.0")
    handoff = tmp_path / "update"
    async with running(tmp_path / "data") as stack:
        stack.web.firmware = FirmwareHandoff(handoff, tmp_path / "keys")
        raw = {"Content-Type": "application/octet-stream"}
        async with stack.admin() as c:
            for bad, why in ((other.read_bytes(), "adapter-v1"), (good.read_bytes()[:-7], "cut short"),
                             (b"hello", "not an update bundle")):  # fmt: skip
                async with c.post("/api/v1/system/firmware", data=bad, headers=raw) as r:
                    assert r.status == 400 and why in json.dumps(await r.json())
                assert not (handoff / "ready").exists() and not list(handoff.glob("*.bundle*"))
            async with c.post("/api/v1/system/firmware", data=good.read_bytes(), headers=raw) as r:
                assert r.status == 202 and (await r.json())["version"] == "2.0"
            assert (handoff / "upload.bundle").read_bytes() == good.read_bytes()
            assert (handoff / "ready").exists()  # appliance-update.path starts the updater now
            async with c.get("/api/v1/system/firmware") as r:
                assert (await r.json())["state"] == "applying"
            async with c.post("/api/v1/system/firmware", data=good.read_bytes(), headers=raw) as r:
                assert r.status == 409  # one at a time


async def test_the_desktop_board_has_no_slots_to_update(stack):
    async with stack.admin() as c:
        async with c.get("/api/v1/system/firmware") as r:
            assert (await r.json())["state"] == "unavailable"
        headers = {"Content-Type": "application/octet-stream"}
        async with c.post("/api/v1/system/firmware", data=b"x", headers=headers) as r:
            assert r.status == 409


async def test_contacts_as_vcard_files_both_ways(stack):
    vcf = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Alice\r\nIMPP:jami:"
        + JAMI_ID
        + "\r\nX-SPEED-DIAL:2\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\nVERSION:2.1\nFN:Front\n desk\nTEL;CELL:ring:"
        + "b"
        * 40
        + "\nEND:VCARD\n"  # folded, Jami's own
        "BEGIN:VCARD\nVERSION:4.0\nFN:Pizza\nTEL;TYPE=voice:5551234\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:4.0\nFN:Office\nIMPP:sip:office@pbx.lan\nEND:VCARD\n"
        "BEGIN:VCARD\nFN:Nobody\nEMAIL:n@example.org\nEND:VCARD\n"
    )
    async with stack.admin() as c:
        async with c.post("/api/v1/contacts/import", json={"vcf": vcf}) as r:
            answer = await r.json()
        assert r.status == 200, answer
        assert answer["added"] == 3 and [s.split(" (")[0] for s in answer["skipped"]] == ["Pizza", "Nobody"]
        async with c.post("/api/v1/contacts/import", json={"vcf": vcf}) as r:
            assert (await r.json())["added"] == 0  # known ones are skipped
        async with c.get("/api/v1/contacts") as r:
            contacts = {x["name"]: x for x in await r.json()}
        assert contacts["Alice"]["uri"] == JAMI_ID and contacts["Alice"]["speed_dial"] == "2"
        assert contacts["Frontdesk"]["uri"] == "b" * 40
        assert contacts["Office"]["uri"] == "sip:office@pbx.lan"
        async with c.get("/api/v1/contacts.vcf") as r:
            assert r.content_type == "text/vcard"
            exported = await r.text()
        assert f"IMPP:jami:{JAMI_ID}" in exported and "X-SPEED-DIAL:2" in exported
        bad = "BEGIN:VCARD\nFN:Two\nIMPP:jami:" + "c" * 40 + "\nX-SPEED-DIAL:2\nEND:VCARD\n"
        async with c.post("/api/v1/contacts/import", json={"vcf": bad}) as r:
            assert r.status == 400  # speed dial 2 is Alice's: the directory stays valid, nothing added


async def test_sip_accounts_never_show_their_password(stack):
    async with stack.admin() as c:
        body = {"id": "office", "username": "desk", "password": "digest-s3cret", "registrar": "pbx.lan"}
        async with c.post("/api/v1/sip-accounts", json=body) as r:
            answer = await r.json()
        assert r.status == 201 and answer["restart_required"] and answer["account"]["password_set"]
        async with c.post("/api/v1/sip-accounts", json=body) as r:
            assert r.status == 400  # the name is taken
        async with c.put("/api/v1/sip-accounts/office", json={"password": "", "registrar": "pbx2.lan"}) as r:
            assert r.status == 200
        async with c.get("/api/v1/sip-accounts") as r:
            text = await r.text()
        assert "s3cret" not in text and json.loads(text)[0]["registrar"] == "pbx2.lan"
        assert "digest-s3cret" in (stack.data / "config.toml").read_text()  # kept (0600 file)
        async with c.put("/api/v1/sip-accounts/office", json={"local_port": 80}) as r:
            assert r.status == 400
        async with c.delete("/api/v1/sip-accounts/office") as r:
            assert r.status == 204
        async with c.delete("/api/v1/sip-accounts/office") as r:
            assert r.status == 404


async def test_the_jami_account_archive_out_and_in(stack):
    async with stack.admin() as c:
        async with c.post("/api/v1/account/export", json={"password": "archive secret"}) as r:
            assert r.status == 200
            archive = await r.read()
        data = base64.b64encode(archive).decode()
        async with c.post("/api/v1/account/import", json={"password": "wrong one", "data": data}) as r:
            assert r.status == 400
        async with c.post("/api/v1/account/import", json={"password": "archive secret", "data": data}) as r:
            assert r.status == 200
    assert stack.fakes.telephony.commands[-1][0] == "import-account"


async def test_handset_test_tone_then_back_to_dial_tone(stack):
    from appliance.phone.tones import Tone

    stack.fakes.hook.lift()
    await asyncio.sleep(0.1)
    assert stack.fakes.tones.current is Tone.DIAL
    async with stack.admin() as c, c.post("/api/v1/handset/test", json={"tone": True, "listen_s": 1}) as r:
        answer = await r.json()
    assert answer == {"tone": True, "microphone": False, "level_dbfs": None}  # the desktop has no microphone
    assert stack.fakes.tones.current is Tone.TEST
    await asyncio.sleep(3.2)
    assert stack.fakes.tones.current is Tone.DIAL  # the test tone gives way to what the phone plays


async def test_messages_listed_played_downloaded_and_deleted(stack):
    from appliance.ports import Recording

    box = stack.supervisor.messages
    wav = b"RIFF" + bytes(40) + bytes(1600)
    message = box.add(Recording(wav, ".wav", 0.1), "a" * 40, "Alice", "jami")
    async with stack.admin() as c:
        async with c.get("/api/v1/messages") as r:
            listed = await r.json()
        assert [(m["id"], m["caller_name"], m["heard"]) for m in listed] == [(message.id, "Alice", False)]
        async with c.get(f"/api/v1/messages/{message.id}/audio") as r:
            assert r.status == 200
            assert r.content_type == "audio/wav"  # what the recorder made: the browser plays it in place
            assert "attachment" in r.headers["Content-Disposition"]
            assert await r.read() == wav
        async with c.get("/api/v1/messages/nope/audio") as r:
            assert r.status == 404
        async with c.delete(f"/api/v1/messages/{message.id}") as r:
            assert r.status == 204
        async with c.get("/api/v1/messages") as r:
            assert await r.json() == []
        async with c.delete(f"/api/v1/messages/{message.id}") as r:
            assert r.status == 404
