"""The status pushed to the page (server-sent events) and the long poll behind it."""

from __future__ import annotations

import asyncio
import json

from appliance.notices import Severity

from .conftest import PASSWORD


async def next_status(response, timeout: float = 3.0) -> dict:
    """The next ``data:`` message of an event stream (comment lines skipped)."""
    while True:
        line = await asyncio.wait_for(response.content.readline(), timeout)
        assert line, "the stream ended"
        if line.startswith(b"data: "):
            return json.loads(line[6:])


async def test_the_stream_needs_a_login(stack):
    async with stack.session() as c, c.get("/api/v1/events") as r:
        assert r.status == 401


async def test_a_change_on_the_phone_is_pushed_at_once_and_logout_ends_the_stream(stack):
    async with stack.session() as c:
        async with c.post("/api/v1/login", json={"password": PASSWORD}) as r:
            csrf = (await r.json())["csrf"]
        async with c.get("/api/v1/events") as stream:
            assert stream.status == 200 and stream.content_type == "text/event-stream"
            first = await next_status(stream)
            assert first["phone"]["state"] == "idle" and not first["phone"]["handset_lifted"]
            loop = asyncio.get_running_loop()
            lifted_at = loop.time()
            stack.fakes.hook.lift()
            while not (status := await next_status(stream))["phone"]["off_hook"]:
                pass
            assert status["phone"]["tone"] == "dial" and status["phone"]["handset_lifted"]
            assert loop.time() - lifted_at < 0.5  # pushed by the change, not by a timer
            async with c.post("/api/v1/logout", headers={"X-CSRF-Token": csrf}) as r:
                assert r.status == 200
            stack.fakes.hook.replace()  # a change wakes the stream, which finds no session
            rest = await asyncio.wait_for(stream.content.read(), 5)
            assert b"data:" not in rest.split(b"\n\n")[-1]


async def test_the_long_poll_answers_when_something_changes(stack):
    async with stack.admin() as c:
        async with c.post("/api/v1/status/watch", json={}) as r:
            version = (await r.json())["version"]

        async def wait() -> dict:
            async with c.post("/api/v1/status/watch", json={"since": version, "timeout_s": 10}) as r:
                return await r.json()

        waiting = asyncio.ensure_future(wait())
        await asyncio.sleep(0.2)
        assert not waiting.done()  # nothing changed: it waits
        stack.fakes.hook.lift()
        answer = await asyncio.wait_for(waiting, 2)
        assert answer["version"] > version and answer["status"]["phone"]["handset_lifted"]
        async with c.post("/api/v1/status/watch", json={"since": 0, "timeout_s": 30}) as r:
            assert r.status == 400  # at most 25 s


async def test_a_notice_raised_from_another_thread_is_pushed(stack):
    import threading

    async with stack.admin() as c, c.get("/api/v1/events") as stream:
        await next_status(stream)
        notices = stack.control.status.notices
        threading.Thread(target=notices.raise_, args=("disk", "The data partition is full")).start()
        while not (status := await next_status(stream))["notices"]:
            pass
        assert status["notices"][0]["text"] == "The data partition is full"
        assert "1 notice: see page" in status["phone"]["display"]  # and on the idle screen


async def test_the_owner_dismisses_a_warning_from_the_page(stack):
    notices = stack.control.status.notices
    notices.raise_("jami.daemon", "The Jami daemon stopped and was restarted", Severity.WARNING)
    notices.raise_("storage-full", "The data partition is full", Severity.ERROR)
    async with stack.session() as c:
        async with c.post("/api/v1/notices/jami.daemon/dismiss") as r:
            assert r.status == 401  # not without a login
        async with c.post("/api/v1/login", json={"password": PASSWORD}) as r:
            csrf = (await r.json())["csrf"]
        async with c.post("/api/v1/notices/jami.daemon/dismiss") as r:
            assert r.status == 403  # nor without the page's token
        assert "jami.daemon" in notices
        token = {"X-CSRF-Token": csrf}
        async with c.post("/api/v1/notices/jami.daemon/dismiss", headers=token) as r:
            assert r.status == 204
        async with c.post("/api/v1/notices/storage-full/dismiss", headers=token) as r:
            assert r.status == 400
            assert "until its cause is fixed" in json.dumps(await r.json())
        async with c.post("/api/v1/notices/no-such/dismiss", headers=token) as r:
            assert r.status == 404
        async with c.get("/api/v1/status") as r:
            status = await r.json()
    assert [n["key"] for n in status["notices"]] == ["storage-full"]
    assert "1 notice: see page" in status["phone"]["display"]  # the idle screen's count too
