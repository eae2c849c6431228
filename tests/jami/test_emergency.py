"""An emergency number with real daemons: out on the SIP line to a SIP peer (sipp), with do not
disturb and private mode on and a digit map that would never dial it."""

import re
import shutil
from pathlib import Path

import pytest

from appliance.phone.model import AccountKind, Mode, Registration

from .conftest import appliance, requirements
from .test_sip import finish, sipp

pytestmark = [*requirements, pytest.mark.skipif(not shutil.which("sipp"), reason="needs sip-tester (sipp)")]

SCENARIO = Path(__file__).with_name("sipp") / "registrar_and_service.xml"
TABLE = {
    "phone": {"country": "DE"},
    "features": {"dnd": True, "private_mode": True},
    "dialplan": {"map": "[2-8]xxxxxx|*xx"},  # 112 is not in it
    "sip_accounts": [{"id": "line", "username": "desk", "registrar": "10.99.0.1:5090", "local_port": 5060}],
}


def registered(p) -> bool:
    return any(
        a.kind is AccountKind.SIP and a.registration is Registration.REGISTERED for a in p.phone.accounts
    )


async def test_112_reaches_the_sip_peer_with_dnd_and_private_mode_on(netns, dht, tmp_path):
    service = await sipp(netns, tmp_path, "-sf", str(SCENARIO), "-i", "10.99.0.1", "-p", "5090",
                         "-trace_msg", "-message_file", str(tmp_path / "sipp-messages.log"))  # fmt: skip
    try:
        async with appliance(netns, dht, tmp_path / "a", "Desk", TABLE) as a:
            await a.until(registered, 30)
            a.sim.fakes.hook.lift()
            a.sim.fakes.keypad.press("112")  # no '#': it goes at once
            await a.until(
                lambda p: p.phone.mode is Mode.TALKING and p.phone.active_call.connected_at is not None, 30
            )
            assert a.phone.active_call.peer_name == "Emergency 112"
            a.sim.fakes.hook.replace()
            await a.until(lambda p: p.phone.mode is Mode.IDLE and p.phone.calls == ())
        messages = (tmp_path / "sipp-messages.log").read_text(errors="replace")
        assert re.search(r"^INVITE sip:112@10\.99\.0\.1:5090", messages, re.MULTILINE), messages[-2000:]
        assert re.search(r"^BYE ", messages, re.MULTILINE)
    finally:
        service.kill()
        await finish(service, 5)
