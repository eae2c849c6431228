"""Hotline and warm line: lifting calls one destination, at once or after a silence."""

import pytest

from appliance.phone import effects as fx
from appliance.phone.model import Mode

from .harness import ALICE, PhoneBench, of, with_settings


def test_hotline_calls_at_once_on_lifting():
    bench = PhoneBench(with_settings(hotline_uri="2"))
    (placed,) = of(bench.lift(), fx.PlaceCall)
    assert placed.uri == ALICE
    assert bench.phone.mode is Mode.CALLING


@pytest.mark.parametrize(("uri", "account"), [("sip:door@pbx.example", "sip1"), (ALICE, "jami")])
def test_hotline_to_a_uri(uri, account):
    bench = PhoneBench(with_settings(hotline_uri=uri))
    (placed,) = of(bench.lift(), fx.PlaceCall)
    assert (placed.uri, placed.account) == (uri, account)


def test_warm_line_calls_after_the_silence():
    bench = PhoneBench(with_settings(hotline_uri="2", hotline_delay_s=4.0))
    bench.lift()
    assert bench.tone == "dial"
    assert of(bench.advance(3.9), fx.PlaceCall) == []
    (placed,) = of(bench.advance(0.2), fx.PlaceCall)
    assert placed.uri == ALICE


def test_any_key_before_the_warm_line_cancels_it():
    bench = PhoneBench(with_settings(hotline_uri="2", hotline_delay_s=4.0))
    bench.lift()
    bench.advance(1.0)
    bench.press("3")
    out = bench.advance(10.0)
    (placed,) = of(out, fx.PlaceCall)
    assert placed.uri == "b" * 40  # speed dial 3, what was dialed, not the warm line


def test_warm_line_not_on_a_second_dial_tone_nor_when_answering():
    bench = PhoneBench(with_settings(hotline_uri="2", hotline_delay_s=4.0))
    bench.ring_in()
    out = bench.lift()  # answers the ringing call
    assert of(out, fx.Accept)
    assert of(bench.advance(10), fx.PlaceCall) == []
    bench.flash()  # hold, second dial tone
    assert of(bench.advance(4.5), fx.PlaceCall) == []


def test_hanging_up_cancels_the_warm_line():
    bench = PhoneBench(with_settings(hotline_uri="2", hotline_delay_s=4.0))
    bench.lift()
    bench.hang()
    assert of(bench.advance(10), fx.PlaceCall) == []
    assert bench.phone.deadline("hotline") is None


def test_unreachable_hotline_says_why():
    bench = PhoneBench(with_settings(hotline_uri="7"))
    bench.lift()
    assert bench.phone.mode is Mode.REORDER
    assert bench.phone.notice == "No contact on speed dial 7"
