"""The loop-current disconnect (CPC) in the pure phone core: only when the far end ends the last
connected call and the phone stays off hook; hook edges while the loop is open are only noted."""

from __future__ import annotations

from appliance.phone import effects as fx
from appliance.phone.events import CallState, HookChanged, TelephonyLost
from appliance.phone.line import SETTLE_S
from appliance.phone.model import Mode

from .harness import BOB, PhoneBench, of, with_settings

MS = 500


def bench() -> PhoneBench:
    return PhoneBench(with_settings(loop_disconnect_ms=MS))


def opens(effects: list[fx.Effect]) -> list[fx.Effect]:
    return of(effects, fx.OpenLoop)


def test_the_far_end_hanging_up_a_connected_call_opens_the_loop_after_the_polarity_returns():
    b = bench()
    b.ring_in("in-1", BOB)
    b.lift()
    b.state("in-1", CallState.CURRENT)
    out = b.state("in-1", CallState.HUNGUP)
    line = [e for e in out if isinstance(e, fx.ReverseLine | fx.OpenLoop)]
    assert line == [fx.ReverseLine(on=False), fx.OpenLoop(MS)]  # forward first, then the open
    assert fx.ArmTimer("loop", MS / 1000 + SETTLE_S) in out
    assert b.phone.off_hook and b.tone == "dial"


def test_an_answered_outgoing_call_and_a_lost_service_open_it_too():
    b = bench()
    call = b.call_out()
    assert opens(b.state(call, CallState.HUNGUP)) == [fx.OpenLoop(MS)]
    b.advance(1)
    b.call_out()
    assert opens(b.send(TelephonyLost())) == [fx.OpenLoop(MS)]  # the call is gone all the same


def test_no_open_when_the_user_hangs_up_or_the_call_never_connected():
    b = bench()
    b.call_out()
    assert opens(b.hang()) == []
    for ending in (CallState.HUNGUP, CallState.BUSY, CallState.FAILURE):
        call = b.call_out(answer=False)  # ringing at the far end, never answered
        assert opens(b.state(call, ending)) == []
        b.hang()
    b.ring_in("in-1", BOB)
    assert opens(b.state("in-1", CallState.CURRENT)) == []  # answered on another device
    assert opens(b.effects) == []


def test_no_open_while_a_waiting_call_remains_then_one_when_the_last_call_ends():
    b = bench()
    first = b.call_out()
    b.ring_in("in-1", BOB)  # call waiting
    assert opens(b.state(first, CallState.HUNGUP)) == []  # the waiting call still rings in
    assert b.phone.waiting is not None
    b.flash()  # take it
    b.state("in-1", CallState.CURRENT)
    assert opens(b.state("in-1", CallState.HUNGUP)) == [fx.OpenLoop(MS)]


def test_no_open_while_a_held_call_remains():
    b = bench()
    first = b.call_out()
    b.flash()  # hold, second dial tone
    second = b.call_out("3#")
    assert opens(b.state(second, CallState.HUNGUP)) == []  # the first call is still held
    assert opens(b.state(first, CallState.HUNGUP)) == [fx.OpenLoop(MS)]  # and then it goes too

    b = bench()
    first = b.call_out()
    b.flash()
    b.call_out("3#", answer=False)  # dialling the second party
    assert opens(b.state(first, CallState.HUNGUP)) == []  # a call is still being made


def test_a_conference_opens_the_loop_only_when_its_last_party_leaves():
    b = bench()
    first = b.call_out()
    b.flash()
    second = b.call_out("3#")
    b.flash()  # join
    assert b.phone.conference
    assert opens(b.state(first, CallState.HUNGUP)) == []
    assert opens(b.state(second, CallState.HUNGUP)) == [fx.OpenLoop(MS)]
    assert opens(b.effects) == [fx.OpenLoop(MS)]


def test_no_open_without_a_loop_switch():
    b = PhoneBench()  # loop_disconnect_ms 0: the board has none
    call = b.call_out()
    out = b.state(call, CallState.HUNGUP)
    assert fx.ReverseLine(on=False) in out
    assert opens(out) == []


def test_hook_edges_while_the_loop_is_open_are_no_flash_and_the_phone_stays_off_hook():
    b = bench()
    call = b.call_out()
    b.state(call, CallState.HUNGUP)
    b.advance(0.01)
    out = b.send(HookChanged(False, b.now))  # no loop current: the SLIC reads on hook
    out += b.advance(MS / 1000)
    out += b.send(HookChanged(True, b.now))  # the current is back, the phone still off hook
    out += b.advance(1.5)
    assert of(out, fx.HangUp) == []
    assert b.phone.off_hook and b.phone.mode is Mode.DIALING and b.tone == "dial"
    assert not b.phone.loop_open and b.phone.deadline("hook") is None


def test_a_hang_up_during_the_open_counts_once_the_loop_is_closed():
    b = bench()
    b.ring_in("in-1", BOB)
    b.lift()
    b.state("in-1", CallState.CURRENT)
    b.ring_in("in-2", BOB)
    assert opens(b.state("in-2", CallState.HUNGUP)) == []  # a waiting caller gave up first
    assert opens(b.state("in-1", CallState.HUNGUP)) == [fx.OpenLoop(MS)]
    b.advance(0.01)
    b.send(HookChanged(False, b.now))  # the loop opens; then the user puts the handset down
    b.advance(MS / 1000 + SETTLE_S - 0.02)
    assert b.phone.off_hook  # not yet: the switch cannot be read while the loop is open
    b.advance(0.02)
    assert not b.phone.off_hook and b.phone.mode is Mode.IDLE and b.tone is None
    assert b.lift() and b.tone == "dial"  # and it is an ordinary phone again


def test_a_lift_during_the_open_after_the_switch_had_opened_counts_after_it():
    b = bench()
    call = b.call_out()
    b.send(HookChanged(False, b.now))  # the user starts hanging up just as the far end does
    b.state(call, CallState.HUNGUP)
    assert opens(b.effects) == [fx.OpenLoop(MS)]
    b.advance(0.3)
    b.send(HookChanged(True, b.now))  # picked up again while the loop is open: only noted
    b.advance(MS / 1000 + SETTLE_S)  # the loop closes before the hang-up timer (0.9 s) runs out
    assert b.phone.off_hook and b.tone == "dial"
    b.advance(2)
    assert b.phone.off_hook and b.phone.deadline("hook") is None
    assert opens(b.effects) == [fx.OpenLoop(MS)]
    assert of(b.effects, fx.HangUp) == []
