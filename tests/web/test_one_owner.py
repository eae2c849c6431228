"""One owner of the saved configuration: a star code, the page and a restart never undo each other.

The phone is assembled as `appliance run` assembles it (tests/web/conftest.py: the real config
store on a data directory); the star code is dialed on the handset, the page saves through its API,
and the restart is a new phone on the same data directory.
"""

import asyncio

import pytest

from .conftest import running

JAMI_ID = "0123456789abcdef0123456789abcdef01234567"
FEATURES = [("*78", "dnd", True), ("*60", "private_mode", True), ("*57", "call_waiting", False)]


async def dial(stack, keys: str) -> None:
    stack.fakes.hook.lift()
    await asyncio.sleep(0.05)
    stack.fakes.keypad.press(keys)
    await asyncio.sleep(0.05)
    await stack.supervisor.idle()
    stack.fakes.hook.replace()
    await asyncio.sleep(0.05)
    await stack.supervisor.idle()


async def page_settings(stack) -> dict:
    async with stack.admin() as c, c.get("/api/v1/settings") as r:
        assert r.status == 200
        return await r.json()


@pytest.mark.parametrize(("code", "feature", "value"), FEATURES)
async def test_a_star_code_survives_page_saves_and_a_restart(tmp_path, code, feature, value):
    async with running(tmp_path) as stack:
        await dial(stack, code)
        assert getattr(stack.supervisor.phone, feature) is value
        assert (await page_settings(stack))["features"][feature] is value  # the page shows it at once
        async with stack.admin() as c:
            async with c.put("/api/v1/settings", json={"phone": {"country": "GB"}}) as r:
                assert r.status == 200, await r.text()
                assert (await r.json())["settings"]["features"][feature] is value
            async with c.post(
                "/api/v1/contacts", json={"name": "Ann", "uri": JAMI_ID, "speed_dial": "4"}
            ) as r:
                assert r.status == 201
        await stack.supervisor.idle()
        assert getattr(stack.supervisor.phone, feature) is value  # the page's save did not undo it
        assert stack.supervisor.phone.settings.country == "GB"
    async with running(tmp_path) as again:  # a restart on the same data directory
        assert getattr(again.supervisor.phone, feature) is value
        settings = await page_settings(again)
        assert settings["features"][feature] is value
        assert settings["phone"]["country"] == "GB"
        assert [c.name for c in again.supervisor.phone.contacts] == ["Ann"]


async def test_a_page_save_then_a_star_code_then_the_page_again(tmp_path):
    """The other order: the page changes a feature, the handset changes it back, the page sees that."""
    async with running(tmp_path) as stack:
        async with stack.admin() as c, c.put("/api/v1/settings", json={"features": {"dnd": True}}) as r:
            assert r.status == 200
        await stack.supervisor.idle()
        assert stack.supervisor.phone.dnd
        await dial(stack, "*79")
        assert not stack.supervisor.phone.dnd
        assert (await page_settings(stack))["features"]["dnd"] is False
        async with stack.admin() as c, c.put("/api/v1/settings", json={"timers": {"confirm_s": 1.0}}) as r:
            assert r.status == 200
        await stack.supervisor.idle()
        assert not stack.supervisor.phone.dnd
    async with running(tmp_path) as again:
        assert not again.supervisor.phone.dnd
