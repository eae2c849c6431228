"""The voice menu (``***``), key by key: what the handset hears, in the phone's language."""

from dataclasses import replace

import pytest

from appliance.phone import effects as fx
from appliance.phone.events import (
    AccessPointChanged,
    AccountChanged,
    DeviceInfoChanged,
    SetupCodeChanged,
    TelephonyLost,
)
from appliance.phone.model import DeviceInfo, Mode, Registration
from appliance.phone.phrases import LANGUAGES, language_for, phrase
from appliance.phone.screens import screen
from appliance.phone.tones import Tone
from appliance.phone.voicemenu import confirmation_code, dotted, grouped, spelled

from .harness import JAMI, ME, SIP, PhoneBench, of, with_settings

DEVICE = DeviceInfo(
    page="192.168.1.20:8080",
    local_name="phone-1a2b.local",
    links=(("eth0", "192.168.1.20"),),
    version="0.3.1",
)


def menu(language="en", device=DEVICE, **settings):
    bench = PhoneBench(with_settings(language=language, **settings))
    bench.send(DeviceInfoChanged(device))
    bench.lift()
    return bench


def said(out):
    return [e.text for e in of(out, fx.Say)]


def test_three_stars_open_the_menu_from_dial_tone():
    bench = menu()
    assert bench.press("*")[0] == fx.StopTone()  # dial tone off at the first key
    assert not of(bench.press("*"), fx.Say)  # on the way to ***: waits for the next key
    out = bench.press("*")
    assert said(out) == [phrase("en", "intro")]
    assert fx.ReadDevice() in out  # the address and links read again for what the menu says
    assert bench.phone.mode is Mode.MENU
    assert bench.tone is None  # speech, not a tone
    assert not of(out, fx.PlaceCall)


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("1", "The web page is at 192 dot 168 dot 1 dot 20, port 8080, or at phone-1a2b dot local."),
        ("4", "Firmware version 0 dot 3 dot 1."),
        ("5", "This phone is set up: there is no setup code."),
        ("7", "There is no item 7. " + phrase("en", "intro")),
    ],
)
def test_items_say_what_they_are_about(key, text):
    bench = menu()
    bench.press("***")
    assert said(bench.press(key)) == [text]


def test_identity_is_the_registered_name_else_the_id_in_groups_plus_sip_numbers():
    bench = menu()
    bench.press("***")
    assert said(bench.press("2")) == ["This phone's Jami name is desk. SIP number desk at pbx dot example."]
    bench.send(AccountChanged(replace(JAMI, name="")))
    bench.press("*")  # back to the menu
    text = said(bench.press("2"))[0]
    assert text.startswith("This phone's Jami ID is e e e e, e e e e,")
    assert text.count(",") == 9 + 0  # ten groups of four
    assert grouped(ME).replace(" ", "").replace(",", "") == ME


def test_state_in_plain_words():
    bench = menu(device=replace(DEVICE, links=(("eth0", "10.0.0.7"), ("wlan0", "10.0.1.8"))))
    bench.send(AccountChanged(replace(SIP, registration=Registration.ERROR)))
    bench.press("***")
    state = "Jami: connected to the network. SIP desk: not registered. Ethernet: 10 dot 0 dot 0 dot 7."
    assert said(bench.press("3")) == [state + " Wi-Fi: 10 dot 0 dot 1 dot 8."]
    out = bench.send(TelephonyLost("test"))  # the daemon died: the menu goes on, and says so
    assert bench.phone.mode is Mode.MENU
    assert not of(out, fx.PlayTone)
    assert said(bench.press("3")) == [
        "Phone service is restarting. Ethernet: 10 dot 0 dot 0 dot 7. Wi-Fi: 10 dot 0 dot 1 dot 8."
    ]


def test_no_network_and_no_account():
    bench = PhoneBench(with_settings())
    bench.send(AccountChanged(JAMI, removed=True))
    bench.send(AccountChanged(SIP, removed=True))
    bench.lift()
    bench.press("***")
    assert said(bench.press("3")) == ["No network: plug in the cable or set up Wi-Fi."]
    assert said(bench.press("2")) == ["This phone has no account yet."]
    assert said(bench.press("1")) == ["This phone has no network address yet."]
    assert said(bench.press("4")) == ["The firmware version is not known."]


def test_the_setup_code_while_unclaimed():
    bench = menu()
    bench.send(SetupCodeChanged("482913", "192.168.1.20:8080"))
    bench.press("***")
    assert said(bench.press("5")) == ["The setup code is 4 8 2, 9 1 3."]
    bench.send(SetupCodeChanged(""))
    assert said(bench.press("5")) == ["This phone is set up: there is no setup code."]


def test_the_phones_own_wifi_is_said_with_the_address_and_the_setup_code():
    bench = menu()
    bench.send(SetupCodeChanged("482913", "192.168.1.20:8080"))
    bench.send(AccessPointChanged("Jami-Phone-EE42", "123456789012"))
    bench.press("***")
    own = ("No network found: this phone has its own Wi-Fi, Jami Phone, E E 4 2, password 1 2 3, 4 5 6, 7 8 9, "
           "0 1 2. Join it, then open 10 dot 42 dot 0 dot 1.")  # fmt: skip
    assert said(bench.press("1")) == [own]
    assert said(bench.press("5")) == [own + " The setup code is 4 8 2, 9 1 3."]
    bench.send(AccessPointChanged(""))  # closed: the page is on the LAN again
    assert said(bench.press("1")) == [
        "The web page is at 192 dot 168 dot 1 dot 20, port 8080, or at phone-1a2b dot local."
    ]


def test_the_idle_screen_shows_the_phones_own_wifi_and_its_key():
    bench = PhoneBench()
    bench.send(AccessPointChanged("Jami-Phone-EE42", "123456789012"))
    assert screen(bench.phone, 0).lines[1:] == ("Wi-Fi Jami-Phone-EE42", "Key 123456789012", "Then 10.42.0.1")
    bench.send(SetupCodeChanged("482913", "10.42.0.1"))
    assert screen(bench.phone, 0).lines[-1] == "Setup code 482913"
    bench.send(AccessPointChanged(""))
    assert bench.phone.access_point_key == ""
    assert screen(bench.phone, 0).lines[1] == "Set me up at"


def test_pound_repeats_and_star_goes_back_then_out():
    bench = menu()
    bench.press("***")
    first = said(bench.press("4"))
    assert said(bench.press("#")) == first  # the same prompt again
    assert said(bench.press("#")) == first
    assert said(bench.press("*")) == [phrase("en", "intro")]  # back to the list
    out = bench.press("*")  # out of the menu: dial tone
    assert out[0] == fx.PlayTone(Tone.DIAL)
    assert bench.phone.mode is Mode.DIALING and bench.phone.menu is None
    assert of(bench.press("2#"), fx.PlaceCall)  # and it dials as ever


def test_a_key_cuts_a_prompt_short_and_hanging_up_silences_it():
    bench = menu()
    bench.press("***")
    out = bench.press("1")
    assert len(of(out, fx.Say)) == 1  # the new prompt replaces the list being read
    out = bench.hang()
    assert fx.StopTone() in out
    assert not of(out, fx.Say)
    assert bench.phone.menu is None
    bench.lift()
    assert bench.tone == "dial"  # the next lift is an ordinary dial tone


def test_restart_asks_again_then_says_goodbye_and_restarts():
    bench = menu()
    bench.press("***")
    assert said(bench.press("9")) == ["To restart the phone, press 9 again. Star goes back."]
    out = bench.press("9")
    assert said(out) == ["Restarting. Goodbye."]
    assert of(out, fx.StartOver) == [fx.StartOver(wipe=False, after_s=3.0)]
    assert not of(bench.press("9"), fx.StartOver)  # once


def test_restart_can_be_called_off():
    bench = menu()
    bench.press("***")
    bench.press("9")
    assert said(bench.press("*")) == [phrase("en", "intro")]
    assert not of(bench.press("9") + bench.press("*"), fx.StartOver)


def test_factory_reset_needs_the_spoken_code():
    bench = menu()
    bench.press("***")
    out = bench.press("0")
    code = confirmation_code(bench.now)
    assert said(out) == [
        f"Factory reset erases everything on this phone. To go ahead, dial {spelled(code)}. Star goes back."
    ]
    wrong = "".join(str((int(d) + 1) % 10) for d in code)
    out = bench.press(wrong)
    assert said(out) == ["Wrong code: nothing was erased. " + phrase("en", "intro")]
    assert not of(out, fx.StartOver)
    bench.now += 5
    bench.press("0")
    code = bench.phone.menu.code
    assert code == confirmation_code(bench.now)
    out = bench.press(code)
    assert said(out) == ["Erasing everything. The phone starts again as new."]
    assert of(out, fx.StartOver) == [fx.StartOver(wipe=True, after_s=3.0)]


def test_the_confirmation_code_changes_each_time():
    codes = {confirmation_code(t / 10) for t in range(50)}
    assert len(codes) > 40
    assert all(len(c) == 4 and c.isdigit() for c in codes)


def test_rotary_pulses_work_the_menu_too():
    bench = menu()
    bench.press("***")  # stars from a keypad or DTMF (a rotary dial has none)
    out = bench.rotary("4")
    assert said(out) == ["Firmware version 0 dot 3 dot 1."]


def test_silence_closes_the_menu():
    bench = menu()
    bench.press("***")
    out = bench.advance(29)
    assert bench.phone.mode is Mode.MENU
    out = bench.advance(1.1)
    assert fx.PlayTone(Tone.DIAL) in out
    assert bench.phone.mode is Mode.DIALING


def test_a_call_during_the_menu_is_busy():
    bench = menu()
    bench.press("***")
    out = bench.ring_in()
    assert of(out, fx.Refuse)
    assert bench.phone.mode is Mode.MENU


@pytest.mark.parametrize(
    ("language", "intro_starts", "version"),
    [
        ("de", "Sprachmenü.", "Firmware-Version 0 Punkt 3 Punkt 1."),
        ("fr", "Menu vocal.", "Version du logiciel 0 point 3 point 1."),
        ("nl", "Spraakmenu.", "Firmwareversie 0 punt 3 punt 1."),
    ],
)
def test_the_menu_speaks_the_phones_language(language, intro_starts, version):
    bench = menu(language)
    out = bench.press("***")
    assert of(out, fx.Say)[0].language == language
    assert said(out)[0].startswith(intro_starts)
    assert said(bench.press("4")) == [version]


def test_every_language_has_every_phrase():
    for language, table in LANGUAGES.items():
        assert set(table) == set(LANGUAGES["en"]), language


def test_the_language_follows_the_country_unless_set():
    assert language_for("", "DE") == "de"
    assert language_for("", "FR") == "fr"
    assert language_for("", "US") == "en"
    assert language_for("fr", "DE") == "fr"
    assert language_for("", "JP") == "en"  # no Japanese prompts yet


def test_the_menu_code_is_configurable():
    from appliance.phone.model import Feature

    bench = menu(
        star_codes=(("*0", Feature.VOICE_MENU),),
        digit_map=__import__("appliance.phone.dialplan", fromlist=["DigitMap"]).DigitMap.parse("*x|xx."),
    )
    assert said(bench.press("*0")) == [phrase("en", "intro")]


def test_reading_out():
    assert spelled("123456") == "1 2 3, 4 5 6"
    assert grouped("a1b2c3d4") == "a 1 b 2, c 3 d 4"
    assert dotted("pbx.example.com", "de") == "pbx Punkt example Punkt com"
