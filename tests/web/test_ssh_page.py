"""The System page's SSH section in Chromium: off until a key is pasted, the key listed with the
fingerprint ssh-keygen gives, a bad paste marked, the host key shown, the last key removed."""

import asyncio
import shutil

import pytest

from .test_browser import CHROMIUM, browser, shot  # noqa: F401 - browser is a fixture
from .test_ssh import fingerprint, keygen, managed

pytestmark = pytest.mark.skipif(
    not (shutil.which(CHROMIUM) and shutil.which("ssh-keygen")),
    reason="needs Debian's chromium and ssh-keygen",
)


async def test_an_owner_pastes_a_key_sees_it_and_removes_it(tmp_path, browser):  # noqa: F811
    from playwright.async_api import expect

    alice = keygen(tmp_path, "alice")
    async with managed(tmp_path) as (stack, paths):
        host = keygen(paths.host_keys, "ssh_host_ed25519_key", comment="root@phone")
        page = await browser.new_page(viewport={"width": 1000, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: asyncio.ensure_future(d.accept()))
        await page.goto(stack.url + "/#system")
        await page.get_by_label("Admin password", exact=True).fill("correct horse battery")
        await page.keyboard.press("Enter")
        await expect(page.locator("#ssh-state")).to_have_text("SSH is off: add a key to turn it on")
        await expect(page.locator("#ssh-keys")).to_be_hidden()
        await expect(page.locator("#ssh-host-keys")).to_be_empty()

        box = page.get_by_label("Public key")
        await box.fill('command="/bin/sh" ' + alice.read_text())
        await page.get_by_role("button", name="Add key").click()
        await expect(page.locator("#flash")).to_contain_text(
            "Please check: Public key: options before the key"
        )
        await expect(box).to_have_attribute("aria-invalid", "true")

        await box.fill(alice.read_text())
        await page.get_by_role("button", name="Add key").click()
        await expect(page.locator("#flash")).to_contain_text("added; SSH is on")
        await expect(page.locator("#ssh-state")).to_contain_text("SSH is on: ssh admin@127.0.0.1 (1 key)")
        row = page.locator("#ssh-key-rows tr")
        await expect(row).to_have_count(1)
        await expect(row).to_contain_text("alice@laptop")
        await expect(row).to_contain_text(fingerprint(alice))
        await expect(page.locator("#ssh-host-keys")).to_contain_text(fingerprint(host))
        await shot(page, "12-system-ssh")

        await page.set_viewport_size({"width": 360, "height": 740})
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the SSH section scrolls sideways by {overflow}px"

        await row.get_by_role("button", name="Remove").click()
        await expect(page.locator("#flash")).to_contain_text("removed; SSH is off")
        await expect(page.locator("#ssh-state")).to_have_text("SSH is off: add a key to turn it on")
        await expect(page.locator("#ssh-keys")).to_be_hidden()
        await expect(page.locator("#ssh-host-keys")).to_be_empty()
        assert not paths.authorized_keys.exists()
        assert errors == []
