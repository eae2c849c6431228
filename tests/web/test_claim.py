"""Claiming a new phone: only whoever reads the setup code off the device sets its password."""

from __future__ import annotations

from .conftest import PASSWORD, running


async def setup(stack, body: dict) -> tuple[int, dict]:
    async with stack.session() as c, c.post("/api/v1/setup", json=body) as r:
        return r.status, await r.json()


async def test_the_display_shows_where_and_the_code_until_claimed(fresh):
    code = fresh.setup_code
    assert len(code) == 6 and code.isdigit()
    lines = fresh.supervisor.screen.lines
    assert lines[1] == "Set me up at" and lines[-1] == f"Setup code {code}"  # under the status bar
    async with fresh.session() as c, c.get("/api/v1/setup") as r:
        answer = await r.json()
        assert answer["code_required"] is True and code not in str(answer)  # the page never tells it
    async with fresh.session() as c, c.get("/api/v1/openapi.json") as r:
        assert "setup.check_code" not in str(await r.json())  # internal: no HTTP route


async def test_a_missing_or_wrong_code_is_refused_and_the_right_one_claims(fresh):
    code = fresh.setup_code
    assert (await setup(fresh, {"password": PASSWORD}))[0] == 403
    status, answer = await setup(fresh, {"password": PASSWORD, "code": "000000" if code != "000000" else "1"})
    assert status == 403 and "display" in answer["error"]
    assert not fresh.web.password.is_set()
    status, _ = await setup(fresh, {"password": PASSWORD, "code": code})
    assert status == 201 and fresh.web.password.verify(PASSWORD)
    assert (fresh.data / "claimed").exists() and fresh.setup_code == ""
    assert (await setup(fresh, {"password": "another password", "code": code}))[0] == 409


async def test_five_wrong_codes_replace_it_and_the_brake_holds(fresh):
    first = fresh.setup_code
    wrong = "111111" if first != "111111" else "222222"
    statuses = [(await setup(fresh, {"password": PASSWORD, "code": wrong}))[0] for _ in range(5)]
    assert statuses == [403] * 5
    assert fresh.setup_code != first  # a new code on the display
    assert (await setup(fresh, {"password": PASSWORD, "code": fresh.setup_code}))[0] == 429  # braked
    fresh.clock.now += 3  # the brake's first wait is 2 s
    assert (await setup(fresh, {"password": PASSWORD, "code": first}))[0] == 403  # the old code is dead
    fresh.clock.now += 5
    assert (await setup(fresh, {"password": PASSWORD, "code": fresh.setup_code}))[0] == 201


async def test_a_preset_password_claims_the_phone(tmp_path):
    async with running(tmp_path) as stack:  # the password set before the page starts
        await stack.supervisor.idle()
        assert stack.setup_code == "" and (tmp_path / "claimed").exists()
        assert not any("Setup code" in line for line in stack.supervisor.screen.lines)


async def test_a_board_without_a_display_speaks_its_code(tmp_path):
    """An adapter has no display: the voice menu reads the setup code into the handset (``***`` 5),
    so its first run asks for the code like any other board's."""
    import asyncio
    import contextlib

    import aiohttp

    from appliance.assembly import assemble
    from appliance.config.load import Layer
    from appliance.web.server import WebApp, serve
    from tests.net import free_port

    board = {"board": {"name": "desktop", "simulated": False}, "drivers": {"display": "none"}}
    phone = assemble([Layer("defaults", {}), Layer("board", board)], tmp_path, version="test")
    task = asyncio.get_running_loop().create_task(phone.supervisor.run())
    await phone.supervisor.started()
    port = free_port()
    runner = await serve(WebApp(phone.control, tmp_path), f"127.0.0.1:{port}")
    try:
        phone.ports.hook.lift()
        await phone.supervisor.settled()
        phone.ports.keypad.press("***5")
        await phone.supervisor.idle()
        spoken = phone.ports.tones.saying
        code = phone.supervisor.phone.setup_code
        assert spoken == f"The setup code is {' '.join(code[:3])}, {' '.join(code[3:])}."
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as c:
            async with c.get("/api/v1/setup") as r:
                assert (await r.json())["code_required"] is True
            async with c.post(
                "/api/v1/setup",
                json={"password": PASSWORD, "code": "000000" if code != "000000" else "111111"},
            ) as r:
                assert r.status == 403
            async with c.post("/api/v1/setup", json={"password": PASSWORD, "code": code}) as r:
                assert r.status == 201
    finally:
        await runner.cleanup()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
