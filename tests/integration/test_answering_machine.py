"""The answering machine through the real runtime on fakes: a caller's words kept on the data
partition, the stutter tone and count, ``*98`` playing the very file, and the page's API."""

from __future__ import annotations

import asyncio
import math
import struct

from appliance.assembly import assemble
from appliance.config.load import Layer
from appliance.phone.screens import Icon
from appliance.phone.tones import Tone

from .conftest import supervised

ALICE = "a" * 40
CONTACTS = [{"name": "Alice", "uri": ALICE, "speed_dial": "2"}]


def tone_pcm(seconds=1.5, hz=700):
    return b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / 8000)))
        for i in range(int(8000 * seconds))
    )


def test_a_message_is_recorded_kept_announced_and_played(virtual, tmp_path):
    async def scenario():
        table = {"contacts": CONTACTS, "voicemail": {"enabled": True, "answer_after_s": 5}}
        phone = assemble([Layer("defaults", {}), Layer("test", table)], tmp_path)
        async with supervised(phone.supervisor):
            ports, sup = phone.ports, phone.supervisor
            await asyncio.sleep(1)  # accounts registered
            call = ports.telephony.ring_in(ALICE)
            await asyncio.sleep(5.1)
            assert ("answer", call) in ports.telephony.commands
            assert not ports.ringer.ringing
            await asyncio.sleep(10)  # the greeting and beep
            assert ("record", call) in ports.telephony.commands
            said = tone_pcm()
            ports.telephony.caller_says(said, call)
            ports.telephony.remote_hangup(call)
            await asyncio.sleep(0.1)
            await sup.idle()
            [message] = phone.control.messages.box.all()
            assert (message.caller_name, message.caller_uri, message.duration_s) == ("Alice", ALICE, 1.5)
            assert phone.control.messages.box.audio(message.id)[0][44:] == said  # the caller's words, whole
            assert sup.phone.messages_waiting == 1
            assert (
                Icon.VOICEMAIL in sup.screen.icons
            )  # the display says so (the unclaimed idle screen shows the code)
            ports.hook.lift()
            await sup.settled()
            assert ports.tones.playing is Tone.STUTTER
            ports.keypad.press("*98")
            await sup.idle()
            assert ports.tones.saying.endswith(f"Message 1, from Alice, {message_day(message.at)}.")
            assert ports.tones.then == tmp_path / "messages" / f"{message.id}.wav"
            assert phone.control.messages.box.all()[0].heard
            assert sup.phone.messages_waiting == 0
            listed = await phone.control.call("messages.list", {})
            assert [m["id"] for m in listed] == [message.id] and listed[0]["heard"]
            audio = await phone.control.call("messages.audio", {"message_id": message.id})
            assert audio["type"] == "audio/wav" and audio["filename"].endswith("Alice.wav")
            await phone.control.call("messages.delete", {"message_id": message.id})
            assert list((tmp_path / "messages").iterdir()) == []

    virtual(scenario())


def message_day(at):
    import datetime as dt

    when = dt.datetime.fromisoformat(at)
    return f"{when:%A} at {when:%H:%M}"


def test_a_core_that_cannot_record_leaves_the_phone_ringing_and_says_so(virtual, tmp_path):
    async def scenario():
        from appliance.fakes.telephony import FakeTelephony

        class NoRecorder:  # the Jami driver, for now: every port method, no recorder
            def __init__(self):
                self._core = FakeTelephony()

            def __getattr__(self, name):
                if name in ("greet", "start_recording", "stop_recording"):
                    raise AttributeError(name)
                return getattr(self._core, name)

        table = {"voicemail": {"enabled": True, "answer_after_s": 5}}
        phone = assemble([Layer("defaults", {}), Layer("test", table)], tmp_path, telephony=NoRecorder())
        notices = [n.text for n in phone.notices.all()]
        assert any("cannot record calls yet" in text for text in notices)
        assert not phone.supervisor.phone.settings.voicemail.enabled

    virtual(scenario())


def test_the_star_code_is_saved_in_the_configuration(virtual, tmp_path):
    async def scenario():
        phone = assemble([Layer("defaults", {})], tmp_path)
        async with supervised(phone.supervisor):
            phone.ports.hook.lift()
            await phone.supervisor.settled()
            phone.ports.keypad.press("*94")
            await phone.supervisor.idle()
            assert phone.store.config.voicemail.enabled  # the page and the next start see it
            assert "[voicemail]\nenabled = true" in (tmp_path / "config.toml").read_text()

    virtual(scenario())


OWNER = "0123456789abcdef0123456789abcdef01234567"


def test_each_new_message_is_sent_to_the_owners_account_when_set(virtual, tmp_path):
    async def scenario():
        table = {"contacts": CONTACTS, "voicemail": {"enabled": True, "answer_after_s": 5}}
        phone = assemble([Layer("defaults", {}), Layer("test", table)], tmp_path)
        async with supervised(phone.supervisor):
            core, sup = phone.ports.telephony, phone.supervisor

            async def message(said):
                call = core.ring_in(ALICE)
                await asyncio.sleep(15.1)  # answered after 5 s, then the greeting and beep
                core.caller_says(said, call)
                core.remote_hangup(call)
                await asyncio.sleep(0.1)
                await sup.idle()

            await asyncio.sleep(1)
            await message(tone_pcm(0.5))
            assert core.sent_files == []  # off by default
            await phone.control.settings.save({"voicemail": {"send_to": f"jami:{OWNER.upper()}"}})
            await sup.idle()
            said = tone_pcm(1.0)
            await message(said)
            [(to, name, data)] = core.sent_files
            newest = phone.control.messages.box.all()[-1]
            assert to == OWNER and data == phone.control.messages.box.audio(newest.id)[0]
            assert data[44:] == said
            assert name == f"Message from Alice {newest.at[:10]} {newest.at[11:16].replace(':', '.')}.wav"

    virtual(scenario())


def test_the_owners_account_must_be_a_jami_id(tmp_path):
    import pytest

    from appliance.config.load import ConfigError, load_layers

    with pytest.raises(ConfigError, match="40-hex Jami ID"):
        load_layers([Layer("defaults", {}), Layer("test", {"voicemail": {"send_to": "alice"}})])


def test_the_owner_records_a_greeting_through_the_handset_and_callers_hear_it(virtual, tmp_path):
    async def scenario():
        table = {"contacts": CONTACTS, "voicemail": {"enabled": True, "answer_after_s": 5}}
        phone = assemble([Layer("defaults", {}), Layer("test", table)], tmp_path)
        async with supervised(phone.supervisor):
            ports, sup = phone.ports, phone.supervisor
            kept = tmp_path / "greeting" / "greeting.wav"
            await asyncio.sleep(1)
            ports.hook.lift()
            await sup.settled()
            ports.keypad.press("*97")
            await sup.idle()
            assert ports.telephony.commands[-1][0] == "record-handset"  # the prompt, the beep, the mic
            await asyncio.sleep(8)
            said = tone_pcm(2.0)
            ports.telephony.owner_says(said)
            ports.keypad.press("#")
            await sup.idle()
            take = tmp_path / "greeting" / "greeting-take.wav"
            assert ports.tones.then == take and take.read_bytes()[44:] == said  # heard back
            assert not kept.exists()  # not yet: 1 keeps it
            ports.keypad.press("1")
            await sup.idle()
            assert kept.read_bytes()[44:] == said and not take.exists()
            assert sup.phone.own_greeting
            ports.hook.replace()
            await asyncio.sleep(2)  # past a hook flash: hung up

            call = ports.telephony.ring_in(ALICE)
            await asyncio.sleep(7)  # answered after 5 s, its media up
            await sup.idle()
            [greet] = [c for c in ports.telephony.commands if c[0] == "greet"]
            assert greet[1] == call and greet[-1] == str(kept)  # the owner's, not the spoken one
            ports.telephony.remote_hangup(call)
            await sup.idle()

            ports.hook.lift()
            await sup.settled()
            ports.keypad.press("*96")
            await sup.idle()
            assert not kept.exists() and not sup.phone.own_greeting

            ports.hook.replace()
            await asyncio.sleep(2)
            ports.hook.lift()
            await sup.settled()
            ports.keypad.press("*97")
            await sup.idle()
            await asyncio.sleep(8)
            ports.telephony.owner_says(said)
            ports.hook.replace()  # a take ended by hanging up is kept at once
            await asyncio.sleep(2)
            await sup.idle()
            assert kept.read_bytes()[44:] == said and sup.phone.own_greeting
        again = assemble([Layer("defaults", {}), Layer("test", table)], tmp_path)  # after a restart
        async with supervised(again.supervisor):
            await again.supervisor.idle()
            assert again.supervisor.phone.own_greeting

    virtual(scenario())
