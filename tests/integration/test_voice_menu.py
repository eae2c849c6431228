"""The voice menu through the real runtime on fakes: what the tone player is told to say, the
device read for it, and the restart and factory reset it asks for."""

from __future__ import annotations

import asyncio

from appliance.assembly import assemble
from appliance.config.load import Layer
from appliance.phone.model import DeviceInfo

from .conftest import running, supervised


def test_the_menu_speaks_through_the_tone_player(virtual):
    async def scenario():
        async with running({"phone": {"country": "DE"}}) as sim:
            fakes = sim.fakes
            fakes.hook.lift()
            await sim.supervisor.settled()
            fakes.keypad.press("***")
            await sim.supervisor.idle()
            fakes.keypad.press("1")
            await sim.supervisor.idle()
            return list(fakes.tones.said), fakes.tones.playing

    said, playing = virtual(scenario())
    assert [lang for _, lang, _ in said] == ["de", "de"]  # the country's language, none set
    assert said[0][2].startswith("Sprachmenü. 1: Adresse der Webseite.")
    assert said[1][2] == (
        "Die Webseite ist unter 127 Punkt 0 Punkt 0 Punkt 1, Port 8080 erreichbar, oder unter desktop Punkt local."
    )
    assert playing is None


class Power:
    def __init__(self) -> None:
        self.asked: list[tuple[str, float]] = []

    def restart(self, *, wipe: bool = False) -> None:
        self.asked.append(("wipe" if wipe else "restart", asyncio.get_running_loop().time()))

    def reboot(self) -> None:
        self.asked.append(("reboot", asyncio.get_running_loop().time()))


def test_restart_and_factory_reset_from_the_handset_wait_for_the_goodbye(virtual, tmp_path):
    async def scenario():
        power = Power()
        read = []

        def device() -> DeviceInfo:
            read.append(1)
            return DeviceInfo(page="10.0.0.7:80", local_name="phone.local", links=(("eth0", "10.0.0.7"),))

        phone = assemble([Layer("defaults", {})], tmp_path, power=power, device=device)
        async with supervised(phone.supervisor):
            await phone.supervisor.idle()
            ports = phone.ports
            ports.hook.lift()
            await phone.supervisor.settled()
            at_start = len(read)
            ports.keypad.press("***")
            await phone.supervisor.idle()
            assert len(read) == at_start + 1  # read again as the menu opens
            ports.keypad.press("1")
            await phone.supervisor.idle()
            assert ports.tones.saying == "The web page is at 10 dot 0 dot 0 dot 7, or at phone dot local."
            ports.keypad.press("99")
            await phone.supervisor.idle()
            said_at = asyncio.get_running_loop().time()
            assert ports.tones.saying == "Restarting. Goodbye."
            assert power.asked == []
            await asyncio.sleep(3.1)
            assert [what for what, _ in power.asked] == ["reboot"]
            assert power.asked[0][1] - said_at >= 3.0
            ports.keypad.press("*0")  # the menu is done: nothing more is chosen
            await phone.supervisor.idle()
            ports.hook.replace()
            await asyncio.sleep(1)
            ports.hook.lift()
            await phone.supervisor.settled()
            ports.keypad.press("***0")
            await phone.supervisor.idle()
            code = phone.supervisor.phone.menu.code
            assert f"dial {' '.join(code[:3])}, {code[3]}." in ports.tones.saying
            ports.keypad.press(code)
            await phone.supervisor.idle()
            await asyncio.sleep(3.1)
            assert [what for what, _ in power.asked] == ["reboot", "wipe"]

    virtual(scenario())
