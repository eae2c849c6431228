"""NTT's caller ID handshake in the pure phone core: the CAR signal, the phone's primary response
(its loop closed, no lift), the data, reception complete (the loop open), then the ordinary ring."""

from __future__ import annotations

from appliance.phone import car
from appliance.phone import effects as fx
from appliance.phone.callerid import Alert, Standard
from appliance.phone.events import CallState, HookChanged
from appliance.phone.model import CallId, Mode

from .harness import BOB, PhoneBench, of, with_settings

WINDOW_S = (car.AFTER_REVERSAL_MS + car.WINDOW_MS) / 1000


def japan() -> PhoneBench:
    return PhoneBench(with_settings(country="JP", callerid_car=True))


def rings(effects: list[fx.Effect]) -> list[fx.Effect]:
    return [e for e in effects if isinstance(e, fx.StartRinger | fx.StopRinger)]


def loop(b: PhoneBench, closed: bool) -> list[fx.Effect]:
    return b.send(HookChanged(closed, b.now))


def test_a_japanese_caller_rings_the_car_signal_and_the_phone_answers_it_without_a_lift():
    b = japan()
    (start,) = rings(b.ring_in("in-1", BOB))
    assert start.caller is not None and start.caller.presentation.standard is Standard.NTT
    assert start.caller.presentation.alert is Alert.CAR and start.caller.number == "2001"
    assert b.phone.car == "car"
    b.advance(1.3)
    out = loop(b, closed=True)  # the primary response
    assert rings(out) == [fx.StopRinger()]
    assert of(out, fx.SendCaller) == [fx.SendCaller(start.caller)]
    assert of(out, fx.Accept) == [] and not b.phone.off_hook and b.tone is None
    b.advance(0.4)
    out = loop(b, closed=False)  # reception complete
    assert rings(out) == []  # 300 ms of rest first
    out = b.advance(0.3)
    assert rings(out) == [fx.StartRinger(caller=None)]  # the ordinary ring, no data again
    out = b.lift()  # now a person
    assert of(out, fx.Accept) == [fx.Accept(CallId("in-1"))]
    assert b.phone.car == ""


def test_a_phone_without_number_display_hears_six_seconds_of_car_then_the_ring():
    b = japan()
    b.ring_in("in-1", BOB)
    out = b.advance(WINDOW_S - 0.01)
    assert rings(out) == []
    out = b.advance(0.02)
    assert rings(out) == [fx.StartRinger(caller=None)]
    assert of(b.lift(), fx.Accept) == [fx.Accept(CallId("in-1"))]  # an ordinary lift after it


def test_a_person_lifting_during_the_car_signal_is_answered_when_the_loop_stays_closed():
    b = japan()
    b.ring_in("in-1", BOB)
    b.advance(0.7)
    out = loop(b, closed=True)  # a bell phone's handset: taken as the primary response
    assert of(out, fx.SendCaller) and not b.phone.off_hook
    out = b.advance(car.RELEASE_S - 0.01)
    assert of(out, fx.Accept) == []
    out = b.advance(0.02)  # the loop still closed 7 s after the data: a person
    assert of(out, fx.Accept) == [fx.Accept(CallId("in-1"))]
    assert b.phone.off_hook and b.phone.mode is Mode.TALKING and b.phone.car == ""
    b.state("in-1", CallState.CURRENT)
    assert of(b.hang(), fx.HangUp) == [fx.HangUp(CallId("in-1"))]  # and hangs up as any call


def test_the_caller_giving_up_ends_the_handshake_and_leaves_the_line_idle():
    b = japan()
    b.ring_in("in-1", BOB)
    loop(b, closed=True)
    b.state("in-1", CallState.HUNGUP)
    assert b.phone.car == "" and b.phone.deadline("car") is None
    out = loop(b, closed=False)  # the phone lets go of the line: nothing to do
    out += b.advance(8)
    assert rings(out) == [] and of(out, fx.Accept) == []
    assert b.phone.mode is Mode.IDLE and not b.phone.off_hook


def test_no_handshake_without_a_line_that_sees_the_loop():
    b = PhoneBench(with_settings(country="JP"))  # a bell or the desktop board: a lift is a lift
    b.ring_in("in-1", BOB)
    assert b.phone.car == ""
    assert of(b.lift(), fx.Accept) == [fx.Accept(CallId("in-1"))]


def test_other_countries_and_a_held_call_ringing_back_have_no_handshake():
    b = PhoneBench()  # US: Bellcore after the first ring
    b.ring_in("in-1", BOB)
    assert b.phone.car == ""
    assert of(b.lift(), fx.Accept) == [fx.Accept(CallId("in-1"))]  # the first lift answers
    b = japan()
    call = b.call_out()
    b.flash()  # held
    b.hang()  # it rings back (recall): no caller, no CAR
    assert b.phone.held is not None and b.phone.car == ""
    assert of(b.lift(), fx.Resume) == [fx.Resume(CallId(call))]


def test_edges_after_the_handshake_are_the_switchs_own():
    b = japan()
    b.ring_in("in-1", BOB)
    loop(b, closed=True)
    loop(b, closed=True)  # a bounce of the closed loop: still the handshake's
    b.advance(0.2)
    loop(b, closed=False)
    b.advance(0.1)
    assert of(b.lift(), fx.Accept) == [fx.Accept(CallId("in-1"))]  # in the 300 ms rest: a person
    assert of(b.effects, fx.SendCaller) and len(of(b.effects, fx.SendCaller)) == 1
