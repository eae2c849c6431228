"""SIP interop: the appliance's SIP account against sipp, a real SIP peer, both ways."""

import asyncio
import re
import shutil
import time
from pathlib import Path

import pytest

from appliance.phone.events import ContactsChanged
from appliance.phone.model import AccountKind, Contact, Mode, Registration

from .conftest import appliance, requirements

pytestmark = [*requirements, pytest.mark.skipif(not shutil.which("sipp"), reason="needs sip-tester (sipp)")]

LAN = {"sip_accounts": [{"id": "lan", "username": "desk", "local_port": 5060}]}
LINE = {
    "sip_accounts": [{"id": "line", "username": "desk", "registrar": "10.99.0.1:5090", "local_port": 5060}]
}
LOSING_REGISTRAR = Path(__file__).with_name("sipp") / "registrar_losing_the_first_register.xml"


async def sipp(netns: str, tmp_path, *args: str) -> asyncio.subprocess.Process:
    with (tmp_path / "sipp.log").open("wb") as log:  # the child keeps its own copy of the descriptor
        return await asyncio.create_subprocess_exec(
            "ip", "netns", "exec", netns, "sipp", *args, "-nostdin", "-trace_err",
            "-error_file", str(tmp_path / "sipp-errors.log"), cwd=tmp_path, stdout=log, stderr=log,
        )  # fmt: skip


async def finish(proc: asyncio.subprocess.Process, timeout: float = 30) -> int:
    try:
        return await asyncio.wait_for(proc.wait(), timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def sip_ready(p) -> bool:
    return any(
        a.kind is AccountKind.SIP and a.registration is Registration.REGISTERED for a in p.phone.accounts
    )


async def test_sipp_calls_the_appliance(netns, dht, tmp_path):
    async with appliance(netns, dht, tmp_path / "a", "Desk", LAN) as a:
        await a.until(sip_ready, 15)
        # The daemon binds its SIP transport to the address it picks (10.99.0.2); sipp sits at the
        # other end of the veth pair.
        uac = await sipp(netns, tmp_path, "-sn", "uac", "-s", "desk", "10.99.0.2:5060", "-i", "10.99.0.1",
                         "-p", "5070", "-aa", "-m", "1", "-d", "2000")  # fmt: skip
        try:
            await a.until(lambda p: p.sim.fakes.ringer.ringing, 20)
            assert a.phone.waiting.peer_uri == "sipp@10.99.0.1"  # the caller as the daemon reports it
            a.sim.fakes.hook.lift()
            await a.until(
                lambda p: p.phone.mode is Mode.TALKING and p.phone.active_call.connected_at is not None
            )
            assert await finish(uac) == 0  # sipp saw its call answered, then hung up after 2 s
        finally:
            if uac.returncode is None:
                uac.kill()
                await uac.wait()
        await a.until(lambda p: p.phone.mode is Mode.DIALING and p.phone.calls == ())


async def test_the_appliance_calls_sipp(netns, dht, tmp_path):
    async with appliance(netns, dht, tmp_path / "a", "Desk", LAN) as a:
        await a.until(sip_ready)
        uas = await sipp(netns, tmp_path, "-sn", "uas", "-i", "10.99.0.1", "-p", "5080", "-aa", "-m", "1")
        try:
            a.sim.supervisor.post(
                ContactsChanged(
                    (Contact("Service", "sip:service@10.99.0.1:5080", speed_dial="5", account="lan"),)
                )
            )
            a.sim.fakes.hook.lift()
            a.sim.fakes.keypad.press("5#")
            await a.until(
                lambda p: p.phone.mode is Mode.TALKING and p.phone.active_call.connected_at is not None, 20
            )
            assert a.sim.supervisor.screen.lines[1] == "Service"
            a.sim.fakes.hook.replace()
            await a.until(lambda p: p.phone.mode is Mode.IDLE)
            assert await finish(uas) == 0  # sipp's UAS got INVITE, ACK and BYE in order
        finally:
            if uas.returncode is None:
                uas.kill()
                await uas.wait()


async def test_a_line_left_registering_is_registered_again(netns, dht, tmp_path):
    """The registrar never answers the first REGISTER, so the daemon sits at TRYING as when it
    drops a registrar's answer (accounts.py). Alone it would wait out pjsip's 32 s transaction
    timeout before trying again; the adapter has it register again after 2 s."""
    messages = tmp_path / "sipp-messages.log"
    registrar = await sipp(netns, tmp_path, "-sf", str(LOSING_REGISTRAR), "-i", "10.99.0.1", "-p", "5090",
                           "-trace_msg", "-message_file", str(messages))  # fmt: skip
    try:
        async with appliance(netns, dht, tmp_path / "a", "Desk", LINE) as a:
            started = time.monotonic()
            await a.until(sip_ready, 20)
            print(f"registered {time.monotonic() - started:.1f} s after the appliance was up")
    finally:
        registrar.kill()
        await finish(registrar, 5)
    registers = re.findall(r"^REGISTER .*?^Call-ID: (\S+)", messages.read_text(), re.MULTILINE | re.DOTALL)
    assert len(set(registers)) >= 2, registers  # a second registration, not the first one's retransmission
