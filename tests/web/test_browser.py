"""The page in a real browser (Debian's chromium, driven by Playwright), as an installer uses it.

Screenshots of the main pages are kept in ``build/artifacts/web`` (or ``$ARTIFACTS/web``).
"""

import os
import shutil
from pathlib import Path

import pytest

from appliance.phone.model import Mode

from .conftest import running

CHROMIUM = "/usr/bin/chromium"
JAMI_ID = "0123456789abcdef0123456789abcdef01234567"
CAROL = "fedcba9876543210fedcba9876543210fedcba98"
ARTIFACTS = Path(os.environ.get("ARTIFACTS", Path(__file__).parents[2] / "build" / "artifacts")) / "web"

pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium")


@pytest.fixture
async def browser():
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            await browser.close()


async def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def until(predicate, timeout: float = 5.0) -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_an_installer_sets_up_the_phone_from_the_browser(tmp_path, browser):
    from playwright.async_api import expect

    async with running(tmp_path, password=False) as stack:
        page = await browser.new_page(viewport={"width": 1000, "height": 900})
        errors: list[str] = []
        # The wrong password (401) and the bad address (400) are expected answers, not page errors.
        page.on(
            "console",
            lambda m: errors.append(m.text) if m.type == "error" and "status of 40" not in m.text else None,
        )
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(stack.url)

        # First run: choose the admin password (keyboard only: type, Tab, type, Enter).
        await expect(page.locator("#view-setup")).to_be_visible()
        await shot(page, "1-first-run")
        await page.get_by_label("Setup code").fill(stack.setup_code)  # read off the display
        await page.get_by_label("Choose an admin password").fill("correct horse battery")
        await page.keyboard.press("Tab")
        await page.keyboard.type("correct horse battery")
        await page.keyboard.press("Enter")
        await expect(page.locator("#view-status")).to_be_visible()

        # Log out, log back in.
        await page.get_by_role("link", name="System").click()
        await page.get_by_role("button", name="Log out").click()
        await expect(page.locator("#view-login")).to_be_visible()
        await page.get_by_label("Admin password", exact=True).fill("wrong guess")
        await page.keyboard.press("Enter")
        await expect(page.locator("#flash")).to_have_text("wrong password")
        await page.get_by_label("Admin password", exact=True).fill("correct horse battery")
        await page.keyboard.press("Enter")
        await expect(page.locator("#view-system")).to_be_visible()  # back where the session ended
        await page.get_by_role("link", name="Status").click()
        await expect(page.locator("#status-accounts")).to_contain_text("registered")
        await expect(page.locator("#qr")).to_be_visible()
        await shot(page, "2-status")

        # A contact with a speed dial.
        await page.get_by_role("link", name="Contacts").click()
        await page.get_by_label("Name", exact=True).fill("Bob")
        await page.get_by_label("Jami ID, registered name or SIP URI").fill(JAMI_ID)
        await page.get_by_label("Speed dial").fill("2")
        await page.get_by_role("button", name="Save contact").click()
        await expect(page.locator("#contacts")).to_contain_text("Bob")
        await page.get_by_label("Name", exact=True).fill("Eve")
        await page.get_by_label("Jami ID, registered name or SIP URI").fill("no such thing")
        await page.get_by_role("button", name="Save contact").click()
        # The field as the form names it, and marked in the form.
        await expect(page.locator("#flash")).to_contain_text(
            "Please check: Jami ID, registered name or SIP URI:"
        )
        await expect(page.get_by_label("Jami ID, registered name or SIP URI")).to_have_attribute(
            "aria-invalid", "true"
        )
        await page.get_by_role("button", name="Clear").click()
        await expect(page.get_by_label("Jami ID, registered name or SIP URI")).not_to_have_attribute(
            "aria-invalid", "true"
        )
        await shot(page, "3-contacts")
        assert [(c.name, c.speed_dial) for c in stack.supervisor.phone.contacts] == [("Bob", "2")]

        # A trust request arrives with its vCard; accept it.
        stack.fakes.telephony.receive_trust_request(CAROL, b"BEGIN:VCARD\r\nFN:Carol\r\nEND:VCARD\r\n")
        await page.get_by_role("link", name="Requests").click()
        await expect(page.locator("#requests")).to_contain_text("Carol")
        await shot(page, "4-requests")
        await page.get_by_role("button", name="Accept").click()
        await expect(page.locator("#requests")).to_contain_text("No requests waiting")
        await until(lambda: CAROL in [c.uri for c in stack.supervisor.phone.trusted])
        await page.get_by_label("Block a caller").fill("sip:5550100@pbx.example")  # a number, no request
        await page.get_by_role("button", name="Add to the list").click()
        await expect(page.locator("#blocked")).to_contain_text("sip:5550100@pbx.example")
        assert stack.store.config.screening.block == ["sip:5550100@pbx.example"]

        # Change the country: German tones from now on.
        await page.get_by_role("link", name="Settings").click()
        await expect(page.locator("#form-settings")).to_have_attribute("aria-busy", "false")  # loaded
        await page.get_by_label("Country (tones and ring)").select_option("DE")
        codes = page.locator("#star-codes")
        await codes.fill((await codes.input_value()) + "\n*88 dnd_on")  # a star code of one's own
        await page.get_by_label("Forward when busy to").fill("sip:desk@pbx.example")
        await page.get_by_label("Still ring during do not disturb").fill(f"{CAROL}\n\n 5551234 \n")
        await page.get_by_label("Quiet hours from").fill("22:00")
        await page.get_by_label("until").fill("07:00")
        await page.get_by_role("button", name="Save settings").click()
        await expect(page.locator("#flash")).to_have_text("Saved.")
        await until(lambda: stack.supervisor.plan.country == "DE")
        assert stack.store.config.star_codes["*88"] == "dnd_on"
        assert stack.supervisor.phone.forwarding.busy == "sip:desk@pbx.example"
        assert stack.store.config.dnd.allow == [CAROL, "5551234"]  # one a line, blanks dropped
        assert stack.supervisor.phone.settings.screening.quiet_to == 7 * 60
        await page.reload()  # and the form shows them again as saved
        await expect(page.locator("#form-settings")).to_have_attribute("aria-busy", "false")
        await expect(page.get_by_label("Still ring during do not disturb")).to_have_value(f"{CAROL}\n5551234")
        await page.get_by_label("Digits", exact=True).fill("5551234")
        await page.get_by_role("button", name="Test", exact=True).click()
        await expect(page.locator("#dialtest-result")).not_to_be_empty()
        await shot(page, "5-settings")

        # The virtual phone: lift the handset, dial Bob's speed dial from the keyboard.
        await page.get_by_role("link", name="Virtual phone").click()
        await page.get_by_role("button", name="Lift handset").click()
        await expect(page.locator("#lamp-tone")).to_have_text("tone: dial")
        await page.keyboard.press("2")
        await page.keyboard.press("#")
        await expect(page.locator("#oled")).to_contain_text("Bob")
        await until(lambda: stack.supervisor.phone.mode is Mode.CALLING)
        await shot(page, "6-virtual-phone")
        await page.get_by_role("button", name="Hang up").click()
        await until(lambda: stack.supervisor.phone.mode is Mode.IDLE)

        await page.get_by_role("link", name="Calls").click()
        await expect(page.locator("#calls")).to_contain_text("Bob")
        await shot(page, "7-calls")

        # A SIP account: saved (its password never comes back), applied at the next start.
        await page.get_by_role("link", name="Accounts").click()
        await expect(page.locator("#jami-facts")).to_contain_text("registered")
        await page.get_by_label("Account name").fill("office")
        await page.get_by_label("User", exact=True).fill("desk")
        await page.get_by_label("Password", exact=True).fill("digest-secret")
        await page.get_by_label("Registrar (empty: calls by IP address)").fill("pbx.lan")
        await page.get_by_role("button", name="Save account").click()
        await expect(page.locator("#sip-accounts")).to_contain_text("pbx.lan")
        await expect(page.locator("#sip-restart")).to_be_visible()
        await shot(page, "9-accounts")
        await page.get_by_role("link", name="System").click()
        await expect(page.locator("#form-backup")).to_be_visible()
        await shot(page, "10-system")

        # A warning read by the owner is dismissed from the banner (pushed to the page at once).
        stack.control.status.notices.raise_("jami.daemon", "The Jami daemon stopped and was restarted")
        await expect(page.locator("#notices")).to_contain_text("restarted")
        await page.get_by_role("button", name="Dismiss: The Jami daemon stopped and was restarted").click()
        await expect(page.locator("#notices")).to_be_hidden()
        assert "jami.daemon" not in stack.control.status.notices
        assert errors == []


async def test_the_page_fits_a_phone_screen(tmp_path, browser):
    from playwright.async_api import expect

    async with running(tmp_path) as stack:
        page = await browser.new_page(viewport={"width": 360, "height": 740}, is_mobile=True)
        await page.goto(stack.url)
        await page.get_by_label("Admin password", exact=True).fill("correct horse battery")
        await page.keyboard.press("Enter")
        for view in (
            "status",
            "network",
            "phone",
            "accounts",
            "contacts",
            "requests",
            "settings",
            "calls",
            "system",
        ):
            await page.goto(f"{stack.url}/#{view}")
            await expect(page.locator(f"#view-{view}")).to_be_visible()
            overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{view} scrolls sideways by {overflow}px"
        await shot(page, "8-phone-sized-settings")


async def test_what_a_first_time_installer_ran_into(tmp_path, browser):
    """Issue 18's page findings, each as it was seen: the menu before logging in, the QR code,
    the handset test, accepting a request, a SIP contact without a SIP account, the welcome, the
    Hang up button, and the pushed status."""
    from playwright.async_api import expect

    async with running(tmp_path, password=False) as stack:
        page = await browser.new_page(viewport={"width": 1000, "height": 700})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        await page.goto(stack.url)
        await expect(page.locator("#view-setup")).to_be_visible()
        await expect(page.locator("#nav")).to_be_hidden()  # no menu that does nothing
        await page.get_by_label("Setup code").fill(stack.setup_code)
        await page.get_by_label("Choose an admin password").fill("correct horse battery")
        await page.get_by_label("Again").fill("correct horse battery")
        await page.keyboard.press("Enter")
        await expect(page.locator("#view-status")).to_be_visible()
        await page.wait_for_timeout(300)
        await expect(page.locator("#flash")).to_have_text("Password set. Welcome.")  # not erased at once
        await expect(page.locator("#nav")).to_be_visible()

        # The QR code is an image the browser can draw.
        await expect(page.locator("#qr")).to_be_visible()
        await page.wait_for_function("document.getElementById('qr').naturalWidth > 0")

        # The status is pushed: a change on the phone shows without the page asking.
        polled = sum("/api/v1/status" in url for url in requests)
        stack.fakes.telephony.receive_trust_request(CAROL, b"BEGIN:VCARD\r\nFN:Carol\r\nEND:VCARD\r\n")
        await expect(page.locator("#badge-requests")).to_have_text("1")
        await page.wait_for_timeout(1500)
        assert sum("/api/v1/status" in url for url in requests) == polled  # no polling behind it

        # Accepting a request puts the person in Contacts.
        await page.get_by_role("link", name="Requests").click()
        await page.get_by_role("button", name="Accept").click()
        await expect(page.locator("#flash")).to_contain_text("now in Contacts")
        await page.get_by_role("link", name="Contacts").click()
        await expect(page.locator("#contacts")).to_contain_text("Carol")

        # A SIP contact with no SIP account: saved, with a warning that says why it cannot work.
        await page.get_by_label("Name", exact=True).fill("Bob")
        await page.get_by_label("Jami ID, registered name or SIP URI").fill("sip:bob@10.0.0.2")
        await page.get_by_role("button", name="Save contact").click()
        await expect(page.locator("#flash")).to_contain_text("no SIP account")
        await expect(page.locator("#contacts")).to_contain_text("no SIP account")

        # Both handset-test buttons work.
        await page.get_by_role("link", name="Settings").click()
        await page.get_by_role("button", name="Play test tone").click()
        await expect(page.locator("#flash")).to_contain_text("Test tone")
        await page.get_by_role("button", name="Measure microphone (3 s)").click()
        await expect(page.locator("#mic-level")).not_to_have_text("listening…", timeout=8000)
        await expect(page.locator("#flash")).not_to_have_class("bad")

        # Hang up: the button offers to lift the handset again at once, and does.
        await page.get_by_role("link", name="Virtual phone").click()
        await page.get_by_role("button", name="Lift handset").click()
        await expect(page.locator("#lamp-tone")).to_have_text("tone: dial")
        await page.get_by_role("button", name="Hang up").click()
        await expect(page.get_by_role("button", name="Lift handset")).to_be_visible(timeout=500)
        await page.get_by_role("button", name="Lift handset").click()
        await expect(page.get_by_role("button", name="Hang up")).to_be_visible(timeout=500)
        assert stack.fakes.hook.off_hook

        # At a phone's width the request buttons show and nothing scrolls sideways.
        stack.fakes.telephony.receive_trust_request(JAMI_ID, b"BEGIN:VCARD\r\nFN:Dave\r\nEND:VCARD\r\n")
        await page.set_viewport_size({"width": 390, "height": 800})
        await page.get_by_role("link", name="Requests").click()
        for name in ("Accept", "Discard", "Block"):
            await expect(page.get_by_role("button", name=name)).to_be_visible()
        await shot(page, "11-requests-phone-sized")
        for view in ("contacts", "requests", "accounts", "calls"):
            await page.goto(f"{stack.url}/#{view}")
            await expect(page.locator(f"#view-{view}")).to_be_visible()
            overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{view} scrolls sideways by {overflow}px"
        assert errors == []


async def test_what_the_provisioning_profile_locks_is_shown_read_only_with_the_reason(tmp_path, browser):
    """A phone provisioned with locks: the locked fields cannot be typed into and say why; the rest
    of the form saves as before."""
    from playwright.async_api import expect

    from appliance.runtime.provisioning import KeptProfile, Source

    profile = ('locked = ["features.dnd", "dialplan", "contacts"]\n[features]\ndnd = true\n'
               '[dialplan]\nmap = "[2-9]xxx"\n[[contacts]]\nid = "desk"\nname = "Front desk"\n'
               'uri = "sip:100@pbx.example"\n')  # fmt: skip
    KeptProfile(tmp_path).write([Source("https://prov.example/b827eb012345.toml", "", "", profile)])
    reason = "Locked by the provisioning profile: change it on the provisioning server."
    async with running(tmp_path) as stack:
        page = await browser.new_page(viewport={"width": 1000, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(stack.url)
        await page.get_by_label("Admin password", exact=True).fill("correct horse battery")
        await page.keyboard.press("Enter")
        await page.get_by_role("link", name="Settings").click()
        await expect(page.locator("#form-settings")).to_have_attribute("aria-busy", "false")
        dnd = page.locator("input[name='features.dnd']")
        await expect(dnd).to_be_disabled()
        await expect(dnd).to_be_checked()
        await expect(page.locator("label", has=dnd)).to_contain_text(reason)
        for name in ("dialplan.map", "dialplan.interdigit_s", "dialplan.pound_sends"):  # the whole section
            await expect(page.locator(f"[name='{name}']")).to_be_disabled()
        await expect(page.get_by_label("Name callers see")).to_be_enabled()
        await expect(page.locator("label", has=page.get_by_label("Name callers see"))).not_to_contain_text(
            reason
        )
        await page.get_by_label("Name callers see").fill("Room 12")
        await page.get_by_role("button", name="Save settings").click()
        await expect(page.locator("#flash")).to_have_text("Saved.")
        assert stack.store.config.phone.display_name == "Room 12"
        assert stack.store.config.features.dnd and stack.store.config.dialplan.map == "[2-9]xxx"
        await shot(page, "12-settings-locked")

        # The contacts are the profile's: listed, but no form to change them, and no Edit or Delete.
        await page.get_by_role("link", name="Contacts").click()
        await expect(page.locator("#contacts")).to_contain_text("Front desk")
        await expect(page.locator("#view-contacts .locked-note").first).to_have_text(reason)
        await expect(page.get_by_role("button", name="Save contact")).to_be_disabled()
        await expect(page.locator("#contacts").get_by_role("button", name="Delete")).to_have_count(0)
        # Not locked: the SIP accounts' form is there as ever.
        await page.get_by_role("link", name="Accounts").click()
        await expect(page.get_by_role("button", name="Save account")).to_be_enabled()
        await expect(page.locator("#view-accounts .locked-note")).to_have_count(0)
        assert errors == []


async def test_the_wifi_section_on_the_simulated_radio(tmp_path, browser):
    """Scan, a wrong password said and its field marked, the right one joins, a static address
    with a gateway outside the subnet refused by field; then, with no network at all, the phone's
    own access point and the page on it opening on the Wi-Fi section."""
    from playwright.async_api import expect

    from appliance.fakes.wifi import PASSWORDS
    from appliance.network.fallback import OPEN_AFTER_BOOT_S, Fallback

    async with running(tmp_path) as stack:
        keeper = stack.control.network.keeper
        page = await browser.new_page(viewport={"width": 1000, "height": 1100})
        errors: list[str] = []
        page.on(
            "console",
            lambda m: errors.append(m.text) if m.type == "error" and "status of 40" not in m.text else None,
        )
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(stack.url)
        await page.get_by_label("Admin password", exact=True).fill("correct horse battery")
        await page.keyboard.press("Enter")
        await page.get_by_role("link", name="Network").click()
        await expect(page.locator("#network-links")).to_contain_text("Ethernet")
        await page.get_by_role("button", name="Scan for networks").click()
        row = page.locator("#wifi-networks tr", has_text="Home Net")
        await expect(row).to_be_visible()
        await row.get_by_role("button", name="Join…").click()
        await expect(page.get_by_label("Network name (SSID)")).to_have_value("Home Net")
        await page.get_by_label("Wi-Fi password").fill("not the password")
        await page.keyboard.press("Enter")
        await expect(page.locator("#flash")).to_have_text(
            "Could not join Home Net: wrong password: the network refused it", timeout=10_000
        )
        await expect(page.get_by_label("Wi-Fi password")).to_have_attribute("aria-invalid", "true")
        await page.get_by_label("Wi-Fi password").fill(PASSWORDS["Home Net"])
        await page.get_by_role("button", name="Join", exact=True).click()
        await expect(page.locator("#flash")).to_have_text("Joined Home Net.", timeout=10_000)
        await expect(page.get_by_label("Wi-Fi password")).to_have_value("")  # not kept in the page
        saved = page.locator("#wifi-saved tr", has_text="Home Net (in use)")
        await expect(saved).to_be_visible()

        await saved.get_by_role("button", name="Addressing…").click()
        await page.locator("#form-ipv4").get_by_label("Addressing").select_option("manual")
        await page.get_by_label("Address", exact=True).fill("192.168.1.20")
        await page.get_by_label("Prefix length").fill("24")
        await page.get_by_label("Gateway (router)").fill("192.168.2.1")
        await page.get_by_role("button", name="Save addressing").click()
        await expect(page.locator("#flash")).to_contain_text(
            "Gateway (router): 192.168.2.1 is outside the subnet"
        )
        await expect(page.get_by_label("Gateway (router)")).to_have_attribute("aria-invalid", "true")
        await page.get_by_label("Gateway (router)").fill("192.168.1.1")
        await page.get_by_role("button", name="Save addressing").click()
        await expect(page.locator("#flash")).to_contain_text("Addressing saved")
        await expect(saved).to_contain_text("192.168.1.20/24, gateway 192.168.1.1")
        await shot(page, "13-wifi")

        # Started with no cable and no Wi-Fi known, long enough ago: the access point opens, the
        # display shows its key, and the page (opened anew, as on a laptop that joined it) starts
        # on the Wi-Fi section.
        radio = keeper.network
        await radio.forget(next(iter(radio.connections)))
        radio.unplug()
        keeper.fallback = Fallback(started=keeper.clock() - OPEN_AFTER_BOOT_S)
        await keeper.look()
        assert radio.access_point == (keeper.ap_ssid, keeper.ap_key)
        await stack.supervisor.idle()
        assert stack.supervisor.screen is not None
        assert stack.supervisor.screen.lines[1:3] == (f"Wi-Fi {keeper.ap_ssid}", f"Key {keeper.ap_key}")
        await page.goto(stack.url)
        await expect(page.locator("#view-network")).to_be_visible()
        await expect(page.locator("#ap-note")).to_contain_text(f"this phone's own Wi-Fi ({keeper.ap_ssid})")
        await shot(page, "14-wifi-on-the-access-point")
        assert errors == []
