"""Call forwarding, done by the phone: always, on busy, on no answer; set by star codes."""

import pytest

from appliance.phone import effects as fx
from appliance.phone.events import CallArrived, CallState, FeatureNotSaved, TelephonyLost
from appliance.phone.model import CallId, Feature, Forwarding, Mode
from appliance.phone.screens import screen

from .harness import ALICE, BOB, STRANGER, PhoneBench, of, with_settings

DANA = "d" * 40


def forwarding(**rules: object) -> PhoneBench:
    return PhoneBench(with_settings(forwarding=Forwarding(**rules)))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("to", "uri", "account"),
    [
        ("2", ALICE, "jami"),  # a speed dial
        ("2001", BOB, "jami"),  # a directory number
        (DANA, DANA, "jami"),  # a Jami ID
        ("dana-desk", "dana-desk", "jami"),  # a registered name
        ("sip:dana@pbx.example", "sip:dana@pbx.example", "sip1"),  # a SIP URI, on the SIP line
    ],
)
def test_forward_always_places_a_leg_and_never_rings(to, uri, account):
    bench = forwarding(always=to)
    out = bench.ring_in("in-1", STRANGER)
    assert fx.Forward(CallId("in-1"), uri) in out
    (leg,) = of(out, fx.PlaceCall)
    assert (leg.uri, leg.account) == (uri, account)
    assert not bench.ringing
    assert bench.phone.mode is Mode.IDLE
    assert bench.phone.calls == ()  # the phone itself stays free


def test_caller_is_answered_only_when_the_destination_answers_then_connected():
    bench = forwarding(always="2")
    (leg,) = of(bench.ring_in("in-1", STRANGER), fx.PlaceCall)
    assert of(bench.state(leg.call, CallState.RINGING), fx.Accept) == []  # the caller hears ringback
    assert of(bench.state(leg.call, CallState.CURRENT), fx.Accept) == [fx.Accept(CallId("in-1"))]
    out = bench.state("in-1", CallState.CURRENT)
    assert of(out, fx.Bridge) == [fx.Bridge((CallId("in-1"), leg.call))]
    assert of(out, fx.LogCall) == []
    assert bench.state("in-1", CallState.CURRENT) == []  # said once
    assert bench.phone.mode is Mode.IDLE  # the handset is not in it
    bench.advance(42.0)
    out = bench.state("in-1", CallState.HUNGUP)  # the caller hangs up: so does the destination's call
    assert of(out, fx.HangUp) == [fx.HangUp(leg.call)]
    (logged,) = of(out, fx.LogCall)
    assert (logged.kind, logged.peer_uri, logged.duration_s) == ("forwarded", STRANGER, 42.0)
    assert bench.phone.forwards == ()
    assert bench.state(leg.call, CallState.OVER) == []  # later news of the two changes nothing


def test_destination_hanging_up_a_connected_forward_hangs_up_the_caller():
    bench = forwarding(always="2")
    (leg,) = of(bench.ring_in("in-1", STRANGER), fx.PlaceCall)
    bench.state(leg.call, CallState.CURRENT)
    bench.state("in-1", CallState.CURRENT)
    out = bench.state(leg.call, CallState.HUNGUP)
    assert of(out, fx.HangUp) == [fx.HangUp(CallId("in-1"))]
    assert [e.kind for e in of(out, fx.LogCall)] == ["forwarded"]


@pytest.mark.parametrize("state", [CallState.PEER_BUSY, CallState.FAILURE, CallState.HUNGUP])
def test_destination_not_answering_refuses_the_caller(state):
    bench = forwarding(always="2")
    (leg,) = of(bench.ring_in("in-1", STRANGER), fx.PlaceCall)
    out = bench.state(leg.call, state)
    assert of(out, fx.Refuse) == [fx.Refuse(CallId("in-1"), "forward failed")]
    assert [e.kind for e in of(out, fx.LogCall)] == ["missed"]
    assert bench.phone.forwards == ()


def test_caller_hanging_up_ends_the_leg():
    bench = forwarding(always="2")
    (leg,) = of(bench.ring_in("in-1", STRANGER), fx.PlaceCall)
    out = bench.state("in-1", CallState.HUNGUP)
    assert of(out, fx.HangUp) == [fx.HangUp(leg.call)]
    assert bench.phone.forwards == ()


def test_destination_hanging_up_while_the_caller_is_accepted_hangs_up_the_caller():
    bench = forwarding(always="2")
    (leg,) = of(bench.ring_in("in-1", STRANGER), fx.PlaceCall)
    bench.state(leg.call, CallState.CURRENT)
    out = bench.state(leg.call, CallState.HUNGUP)
    assert of(out, fx.HangUp) == [fx.HangUp(CallId("in-1"))]


def test_unreachable_destination_rings_here_instead():
    bench = forwarding(always="7")  # no speed dial 7
    out = bench.ring_in("in-1", STRANGER)
    assert of(out, fx.PlaceCall) == []
    assert bench.ringing


def test_forward_busy_only_when_busy():
    bench = forwarding(busy="3")
    bench.ring_in("in-1", ALICE)
    assert bench.ringing  # not busy: it rings
    out = bench.ring_in("in-2", STRANGER)  # busy (no call waiting on hook): forwarded
    assert fx.Forward(CallId("in-2"), BOB) in out
    assert of(out, fx.Refuse) == []


def test_busy_without_forwarding_is_refused_as_before():
    bench = PhoneBench()
    bench.ring_in("in-1", ALICE)
    out = bench.ring_in("in-2", STRANGER)
    assert of(out, fx.Refuse) == [fx.Refuse(CallId("in-2"), "busy")]


def test_forward_on_no_answer_after_the_configured_ring():
    bench = forwarding(no_answer="3", no_answer_s=12.0)
    bench.ring_in("in-1", STRANGER)
    assert of(bench.advance(11.9), fx.PlaceCall) == []
    assert bench.ringing
    out = bench.advance(0.2)
    assert fx.Forward(CallId("in-1"), BOB) in out
    assert fx.StopRinger() in out
    assert not bench.ringing
    assert bench.phone.mode is Mode.IDLE
    assert [e.kind for e in of(out, fx.LogCall)] == []  # not missed: being forwarded


def test_answering_in_time_cancels_the_no_answer_forward():
    bench = forwarding(no_answer="3", no_answer_s=12.0)
    bench.ring_in("in-1", STRANGER)
    bench.advance(5)
    bench.lift()
    assert of(bench.advance(30), fx.PlaceCall) == []
    assert bench.phone.mode is Mode.TALKING


def test_lifting_while_a_no_answer_forward_rings_there_takes_the_caller_here():
    bench = forwarding(no_answer="3", no_answer_s=12.0)
    bench.ring_in("in-1", STRANGER)
    (leg,) = of(bench.advance(12.1), fx.PlaceCall)
    bench.state(leg.call, CallState.RINGING)
    out = bench.lift()  # the person reached the phone just after it stopped ringing
    assert of(out, fx.HangUp) == [fx.HangUp(leg.call)]
    assert of(out, fx.Accept) == [fx.Accept(CallId("in-1"))]
    assert bench.phone.forwards == ()
    assert bench.phone.mode is Mode.TALKING and bench.phone.active_call.id == "in-1"
    assert bench.state(leg.call, CallState.OVER) == []  # the hung-up leg's end changes nothing


@pytest.mark.parametrize("answered_there", [False, True])
def test_lifting_during_an_always_forward_or_a_connected_one_gives_dial_tone(answered_there):
    bench = forwarding(always="2", no_answer="3")
    (leg,) = of(bench.ring_in("in-1", STRANGER), fx.PlaceCall)
    if answered_there:
        bench.state(leg.call, CallState.CURRENT)
        bench.state("in-1", CallState.CURRENT)
    out = bench.lift()  # never rang here: the lift is for a call of one's own
    assert of(out, fx.HangUp) == [] and of(out, fx.Accept) == []
    assert bench.phone.mode is Mode.DIALING
    assert len(bench.phone.forwards) == 1  # the forward goes on


def test_no_answer_forward_of_a_waiting_call_stops_the_call_waiting_tone():
    bench = forwarding(no_answer="3", no_answer_s=10.0)
    bench.call_out()
    bench.ring_in("in-1", STRANGER)
    assert bench.tone == "call_waiting"
    out = bench.advance(10.1)
    assert fx.Forward(CallId("in-1"), BOB) in out
    assert bench.tone is None
    assert bench.phone.mode is Mode.TALKING


def test_a_second_call_rings_while_one_is_forwarded():
    bench = forwarding(no_answer="3", no_answer_s=10.0)
    bench.ring_in("in-1", STRANGER)
    bench.advance(10.1)
    bench.ring_in("in-2", ALICE)
    assert bench.ringing


def test_screened_callers_are_never_forwarded():
    bench = PhoneBench(with_settings(forwarding=Forwarding(always="2"), private_mode=True))
    out = bench.ring_in("in-1", STRANGER)
    assert of(out, fx.PlaceCall) == []
    assert of(out, fx.Refuse) == [fx.Refuse(CallId("in-1"), "private mode")]


def test_phone_service_lost_ends_forwardings_in_the_log():
    bench = forwarding(always="2")
    bench.ring_in("in-1", STRANGER)
    out = bench.send(TelephonyLost())
    assert [(e.kind, e.reason) for e in of(out, fx.LogCall)] == [("missed", "phone service lost")]
    assert bench.phone.forwards == ()


def test_a_leg_id_is_never_taken_for_a_new_call():
    bench = forwarding(always="2")
    (leg,) = of(bench.ring_in("in-1", STRANGER), fx.PlaceCall)
    assert bench.send(CallArrived(leg.call, "jami", BOB)) == []


@pytest.mark.parametrize(
    ("keys", "kind", "to", "words"),
    [
        ("*723#", "always", "3", "Forwarding all calls to 3"),
        ("*902001#", "busy", "2001", "Forwarding when busy to 2001"),
        ("*9245#", "no_answer", "45", "Forwarding on no answer to 45"),
    ],
)
def test_star_code_then_number_sets_forwarding(keys, kind, to, words):
    bench = PhoneBench()
    bench.lift()
    out = bench.press(keys)
    assert fx.SaveForwarding(kind, to) in out
    assert getattr(bench.phone.forwarding, kind) == to
    assert bench.phone.mode is Mode.CONFIRM
    assert bench.phone.notice == words


def test_star_code_number_ends_with_a_pause_too():
    bench = PhoneBench()
    bench.lift()
    bench.press("*722")
    assert bench.phone.mode is Mode.DIALING  # still collecting the number
    out = bench.advance(5.0)
    assert fx.SaveForwarding("always", "2") in out
    # And a call now goes to speed dial 2.
    bench.hang()
    assert fx.Forward(CallId("in-1"), ALICE) in bench.ring_in("in-1", STRANGER)


@pytest.mark.parametrize(("code", "kind"), [("*73", "always"), ("*91", "busy"), ("*93", "no_answer")])
def test_star_code_clears_forwarding(code, kind):
    bench = forwarding(**{kind: "2"})
    bench.lift()
    out = bench.press(code)
    assert fx.SaveForwarding(kind, "") in out
    assert getattr(bench.phone.forwarding, kind) == ""


def test_code_without_a_number_is_reorder():
    bench = PhoneBench()
    bench.lift()
    bench.press("*72#")
    assert bench.phone.mode is Mode.REORDER
    assert bench.phone.notice == "Dial the code, then the number"


def test_forwarding_codes_are_configurable():
    bench = PhoneBench(with_settings(star_codes=(("*21", Feature.FORWARD_ALWAYS),)))
    bench.lift()
    bench.press("*213#")
    assert bench.phone.forwarding.always == "3"


def test_forwarding_not_saved_is_undone():
    bench = forwarding(always="2")
    bench.lift()
    (save,) = of(bench.press("*73"), fx.SaveForwarding)
    assert bench.phone.forwarding.always == ""
    bench.send(FeatureNotSaved("forwarding.always", save.was, "storage full"))
    assert bench.phone.forwarding.always == "2"
    assert bench.phone.mode is Mode.REORDER
    assert bench.phone.notice == "Not saved: storage full"


def test_idle_screen_says_calls_are_forwarded():
    bench = forwarding(always="2")
    assert "All calls forwarded" in screen(bench.phone, 0.0).lines
