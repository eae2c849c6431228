"""Emergency numbers: the country's by default, on a SIP line, through anything that screens or
blocks, and refused at once in plain words when no line can carry them."""

from dataclasses import replace

import pytest

from appliance.phone import effects as fx
from appliance.phone.dialplan import DigitMap
from appliance.phone.events import AccountChanged, CallArrived
from appliance.phone.model import AccountInfo, AccountKind, CallId, Emergency, Mode, Registration, Screening
from appliance.phone.screens import screen

from .harness import SIP, STRANGER, PhoneBench, of, with_settings

NO_LINE = "No line for emergency calls: use another phone"


@pytest.mark.parametrize(
    ("country", "number"),
    [
        ("US", "911"),
        ("GB", "999"),
        ("GB", "112"),
        ("DE", "112"),
        ("DE", "110"),
        ("FR", "112"),
        ("FR", "15"),
        ("FR", "17"),
        ("FR", "18"),
        ("NL", "112"),
        ("JP", "110"),
        ("JP", "119"),
    ],
)
def test_each_countrys_numbers_go_out_at_once_on_the_sip_line(country, number):
    bench = PhoneBench(with_settings(country=country))
    bench.lift()
    out = bench.press(number)  # no '#', no interdigit wait
    (placed,) = of(out, fx.PlaceCall)
    assert (placed.account, placed.uri) == ("sip1", f"sip:{number}@pbx.example")
    assert bench.phone.mode is Mode.CALLING


@pytest.mark.parametrize(("country", "number"), [("US", "112"), ("GB", "911"), ("NL", "110")])
def test_other_countries_numbers_are_ordinary_digits(country, number):
    bench = PhoneBench(with_settings(country=country))
    bench.lift()
    bench.press(number)
    assert bench.phone.mode is not Mode.CALLING


def test_configured_numbers_replace_the_countrys():
    bench = PhoneBench(with_settings(emergency=Emergency(numbers=("144",))))
    bench.lift()
    assert of(bench.press("144"), fx.PlaceCall)
    bench.hang()
    bench.lift()
    assert of(bench.press("911"), fx.PlaceCall) == []


@pytest.mark.parametrize(
    "digit_map",
    [
        "[2-8]xxxxxx",  # a map that cannot even start it
        "9x.!",  # a map that blocks everything starting with 9
        "xxxxxxxxxx",  # a map that would wait for ten digits
    ],
)
def test_no_digit_map_stands_in_the_way(digit_map):
    bench = PhoneBench(with_settings(digit_map=DigitMap.parse(digit_map)))
    bench.lift()
    (placed,) = of(bench.press("911"), fx.PlaceCall)
    assert placed.uri == "sip:911@pbx.example"


def test_not_blocked_by_dnd_private_mode_or_screening():
    settings = with_settings(
        dnd=True, private_mode=True, screening=Screening(anonymous_reject=True, block=("911",))
    )
    bench = PhoneBench(settings)
    bench.lift()
    assert of(bench.press("911"), fx.PlaceCall)


def test_no_line_is_refused_at_once_in_plain_words():
    bench = PhoneBench()
    bench.send(AccountChanged(SIP, removed=True))
    bench.lift()
    out = bench.press("911")
    assert of(out, fx.PlaceCall) == []
    assert any(isinstance(e, fx.Say) and "no phone line is connected" in e.text for e in out)
    assert bench.phone.mode is Mode.REORDER
    assert bench.tone == "reorder"
    assert screen(bench.phone, bench.now).lines[1:3] == ("No line for emergency", "calls: use another")


def test_a_jami_account_cannot_carry_it():
    bench = PhoneBench()
    bench.send(AccountChanged(replace(SIP, registration=Registration.ERROR)))
    bench.lift()
    out = bench.press("911")
    assert any(isinstance(e, fx.Say) and "no phone line is connected" in e.text for e in out)


def test_configured_account_is_used_and_a_registrar_line_preferred():
    direct = AccountInfo("direct", AccountKind.SIP, "desk", Registration.REGISTERED)
    other = AccountInfo(
        "other", AccountKind.SIP, "d@carrier", Registration.REGISTERED, host="carrier.example"
    )
    bench = PhoneBench()
    bench.send(AccountChanged(direct))
    bench.send(AccountChanged(other))
    bench.lift()
    (placed,) = of(bench.press("911"), fx.PlaceCall)
    assert placed.account in ("sip1", "other")  # lines with a registrar first
    bench = PhoneBench(with_settings(emergency=Emergency(account="direct")))
    bench.send(AccountChanged(direct))
    bench.lift()
    (placed,) = of(bench.press("911"), fx.PlaceCall)
    assert (placed.account, placed.uri) == ("direct", "sip:911")


def test_the_service_calling_back_rings_through_dnd_and_private_mode():
    bench = PhoneBench(with_settings(dnd=True, private_mode=True))
    bench.lift()
    assert of(bench.press("911"), fx.PlaceCall)
    bench.hang()
    bench.advance(600)
    bench.send(CallArrived(CallId("in-1"), "sip1", "sip:psap@pbx.example", ""))
    assert bench.ringing
    # On another line (the Jami account), a stranger is screened as usual.
    assert of(bench.ring_in("in-2", STRANGER), fx.Refuse) == [fx.Refuse(CallId("in-2"), "private mode")]
    bench.lift()
    bench.hang()
    bench.advance(1800)  # past the window: screened again
    out = bench.send(CallArrived(CallId("in-3"), "sip1", "sip:psap@pbx.example", ""))
    assert of(out, fx.Refuse) == [fx.Refuse(CallId("in-3"), "private mode")]
