"""The answering machine and ``*98``, event by event (pure: no audio, no disk)."""

from dataclasses import replace

import pytest

from appliance.phone import effects as fx
from appliance.phone.events import CallerFinished, CallState, GreetingEnded, MessagesChanged, TelephonyLost
from appliance.phone.model import AnsweringSettings, CallId, CallStatus, Message, Mode
from appliance.phone.phrases import phrase
from appliance.phone.tones import Tone
from appliance.phone.voicemail import GREETING_GUARD_S, announce

from .harness import ALICE, STRANGER, PhoneBench, of, with_settings

ON = AnsweringSettings(enabled=True, answer_after_s=20, max_s=60)


def machine(vm=ON, **settings):
    return PhoneBench(with_settings(voicemail=vm, **settings))


def answered(bench, call="in-1", uri=ALICE, name=""):
    """A call rings out its time; the machine answers and its media comes up."""
    bench.ring_in(call, uri, name)
    out = bench.advance(20)
    assert of(out, fx.Accept) == [fx.Accept(CallId(call))]
    return out + bench.state(call, CallState.CURRENT)


def test_off_by_default_a_call_rings_on():
    bench = PhoneBench()
    bench.ring_in()
    assert not of(bench.advance(600), fx.Accept)
    assert bench.ringing


def test_nobody_lifts_the_machine_answers_greets_beeps_and_records():
    bench = machine()
    bench.ring_in()
    assert not of(bench.advance(19.9), fx.Accept)
    assert bench.ringing
    out = bench.advance(0.1)
    assert of(out, fx.Accept) == [fx.Accept(CallId("in-1"))]
    assert fx.StopRinger() in out  # the bell stops when the machine answers
    assert bench.phone.mode is Mode.IDLE
    assert not of(out, fx.Greet)  # not before the media is up
    out = bench.state("in-1", CallState.CURRENT)
    assert of(out, fx.Greet) == [fx.Greet(CallId("in-1"), phrase("en", "greeting"), "en")]
    out = bench.send(GreetingEnded(CallId("in-1")))
    assert of(out, fx.Record) == [fx.Record(CallId("in-1"))]
    assert bench.phone.answering.phase == "recording"


def test_the_caller_hanging_up_ends_the_message_and_keeps_it():
    bench = machine()
    answered(bench, name="Alice")
    bench.send(GreetingEnded(CallId("in-1")))
    bench.advance(12)
    out = bench.state("in-1", CallState.HUNGUP)
    assert of(out, fx.StopRecording) == [fx.StopRecording(CallId("in-1"), True, ALICE, "Alice", "jami")]
    assert not of(out, fx.HangUp)  # already gone
    assert of(out, fx.LogCall) == [fx.LogCall("missed", ALICE, "Alice", "message recorded")]
    assert bench.phone.calls == () and bench.phone.answering is None
    assert bench.phone.missed == 1


@pytest.mark.parametrize("reason", ["silence", "#"])
def test_silence_or_pound_end_it_and_the_phone_hangs_up(reason):
    bench = machine()
    answered(bench)
    bench.send(GreetingEnded(CallId("in-1")))
    out = bench.send(CallerFinished(CallId("in-1"), reason))
    assert [type(e) for e in out if isinstance(e, fx.StopRecording | fx.HangUp)] == [
        fx.StopRecording,
        fx.HangUp,
    ]
    assert of(out, fx.StopRecording)[0].keep


def test_the_longest_message_is_cut_at_max_s():
    bench = machine()
    answered(bench)
    bench.send(GreetingEnded(CallId("in-1")))
    assert not of(bench.advance(59.9), fx.StopRecording)
    out = bench.advance(0.2)
    assert of(out, fx.StopRecording)[0].keep
    assert of(out, fx.HangUp) == [fx.HangUp(CallId("in-1"))]


@pytest.mark.parametrize("media_up", [False, True])
def test_a_greeting_that_never_ends_does_not_hold_the_caller_for_good(media_up):
    """The core refused the greeting or never said it ended (or the media never came up): after
    the guard the machine hangs up, logs the call, and the next caller rings again."""
    bench = machine()
    if media_up:
        answered(bench)
    else:
        bench.ring_in()
        bench.advance(20)
    assert not of(bench.advance(GREETING_GUARD_S - 1), fx.HangUp)
    out = bench.advance(1.1)
    assert of(out, fx.HangUp) == [fx.HangUp(CallId("in-1"))]
    assert not of(out, fx.StopRecording)  # nothing was recorded
    assert of(out, fx.LogCall)[0].reason == "answering machine: no message"
    assert bench.phone.answering is None and bench.phone.calls == ()
    bench.ring_in("in-2")
    assert bench.ringing  # not refused as busy


def test_hanging_up_during_the_greeting_leaves_no_message():
    bench = machine()
    answered(bench)
    out = bench.state("in-1", CallState.HUNGUP)
    assert not of(out, fx.StopRecording)
    assert of(out, fx.LogCall)[0].reason == "answering machine: no message"


def test_lifting_takes_the_call_over_and_drops_the_message_so_far():
    bench = machine()
    answered(bench)
    bench.send(GreetingEnded(CallId("in-1")))
    out = bench.lift()
    assert of(out, fx.StopRecording) == [fx.StopRecording(CallId("in-1"), keep=False)]
    assert not of(out, fx.Accept)  # it is answered already
    assert bench.phone.mode is Mode.TALKING and bench.phone.active == "in-1"
    assert bench.tone is None  # talking, not dial tone
    assert bench.phone.answering is None
    assert not of(bench.advance(120), fx.StopRecording)  # the limit is gone with it


def test_lifting_while_it_rings_is_an_ordinary_answer():
    bench = machine()
    bench.ring_in()
    bench.advance(10)
    out = bench.lift()
    assert of(out, fx.Accept) == [fx.Accept(CallId("in-1"))]
    assert not of(bench.advance(30), fx.Greet)


def test_private_mode_refusals_never_reach_it():
    bench = machine(private_mode=True, vm=replace(ON, when_dnd=True, when_busy=True))
    out = bench.ring_in(uri=STRANGER)
    assert of(out, fx.Refuse) and not of(out, fx.Accept)
    assert not of(bench.advance(60), fx.Accept)


def test_do_not_disturb_refuses_unless_it_should_answer():
    bench = machine(dnd=True)
    assert of(bench.ring_in(), fx.Refuse)
    bench = machine(dnd=True, vm=replace(ON, when_dnd=True))
    out = bench.ring_in()
    assert of(out, fx.Accept) and not of(out, fx.Refuse)  # at once, no ring
    assert not bench.ringing
    assert of(bench.state("in-1", CallState.CURRENT), fx.Greet)


def test_busy_calls_go_to_it_when_asked_and_survive_the_hang_up():
    bench = machine(vm=replace(ON, when_busy=True))
    bench.lift()
    bench.press("5")  # dialing: off hook, no call on the handset
    out = bench.ring_in("in-9")
    assert of(out, fx.Accept) == [fx.Accept(CallId("in-9"))] and not of(out, fx.Refuse)
    assert bench.phone.mode is Mode.DIALING and bench.phone.digits == "5"  # the person dials on
    bench.state("in-9", CallState.CURRENT)
    bench.send(GreetingEnded(CallId("in-9")))
    out = bench.hang()  # the machine's call goes on recording without the handset
    assert not of(out, fx.HangUp)
    assert bench.phone.answering is not None
    assert of(bench.state("in-9", CallState.HUNGUP), fx.StopRecording)


def test_a_second_call_during_a_call_is_not_taken_from_the_person():
    bench = machine(vm=replace(ON, when_busy=True), call_waiting=False)
    bench.call_out()
    out = bench.ring_in("in-9")
    assert of(out, fx.Refuse) and not of(out, fx.Accept)


def test_one_message_at_a_time():
    bench = machine(vm=replace(ON, when_busy=True))
    answered(bench)
    out = bench.ring_in("in-2", STRANGER)
    assert of(out, fx.Refuse)


def test_the_owners_greeting_text_is_spoken_instead():
    bench = machine(vm=replace(ON, greeting="Bob's phone. Talk."))
    out = answered(bench)
    assert of(out, fx.Greet)[0].text == "Bob's phone. Talk."


def test_the_daemon_dying_drops_the_machines_call():
    bench = machine()
    answered(bench)
    bench.send(TelephonyLost("test"))
    assert bench.phone.answering is None and bench.phone.calls == ()


# --- *98 ---

MESSAGES = (
    Message("m1", ALICE, "Alice", "2026-12-01T14:05:00", 8.0, heard=True, account="jami"),
    Message("m2", STRANGER, "", "2026-12-02T09:30:00", 20.0, account="jami"),
)


def listening(messages=MESSAGES):
    bench = PhoneBench()
    bench.send(MessagesChanged(messages))
    bench.lift()
    return bench, bench.press("*98")


def said(out):
    return [(e.text, e.message) for e in of(out, fx.Say)]


def test_no_messages():
    bench, out = listening(())
    assert said(out) == [("You have no messages.", "")]
    assert bench.phone.mode is Mode.MENU


def test_the_first_unheard_plays_after_the_count_and_who_and_when():
    bench, out = listening()
    keys = phrase("en", "message_keys")
    assert said(out) == [
        (f"You have 2 messages. {keys} Message 2, from an unknown caller, Wednesday at 09:30.", "m2")
    ]
    assert of(out, fx.MessageHeard) == [fx.MessageHeard("m2")]
    bench.advance(45)  # a long message plays out: the menu stays open for it
    assert bench.phone.mode is Mode.MENU


def test_repeat_next_and_the_end():
    bench, _ = listening()
    again = said(bench.press("5"))
    assert again == [("Message 2, from an unknown caller, Wednesday at 09:30.", "m2")]
    assert said(bench.press("6")) == [("No more messages.", "")]
    out = bench.press("*")
    assert out[0] == fx.PlayTone(Tone.DIAL)


def test_delete_goes_to_the_next():
    bench, _ = listening(
        (*MESSAGES, Message("m3", ALICE, "Alice", "2026-12-03T08:00:00", 3.0, account="jami"))
    )
    bench.press("6")  # from m2 (the first unheard) to m3
    out = bench.press("7")
    assert of(out, fx.DeleteMessage) == [fx.DeleteMessage("m3")]
    assert said(out) == [("Message deleted. No more messages.", "")]


def test_delete_then_the_next_message_plays():
    bench = PhoneBench()
    bench.send(MessagesChanged(tuple(replace(m, heard=False) for m in MESSAGES)))
    bench.lift()
    bench.press("*98")  # m1 first: the oldest unheard
    out = bench.press("7")
    assert of(out, fx.DeleteMessage) == [fx.DeleteMessage("m1")]
    assert said(out) == [("Message deleted. Message 2, from an unknown caller, Wednesday at 09:30.", "m2")]


def test_call_back_places_a_call_to_the_caller():
    bench, _ = listening()
    out = bench.press("8")
    placed = of(out, fx.PlaceCall)
    assert [(p.uri, p.account) for p in placed] == [(STRANGER, "jami")]
    assert bench.phone.mode is Mode.CALLING


def test_messages_in_german():
    assert announce(MESSAGES[0], 1, "de") == "Nachricht 1, von Alice, Dienstag um 14:05."
    assert announce(replace(MESSAGES[0], at="?"), 1, "fr") == "Message 1, de Alice."


def test_the_stutter_tone_and_display_count_come_from_voicemail_changed():
    from appliance.phone.events import VoicemailChanged

    bench = PhoneBench()
    bench.send(VoicemailChanged("answering-machine", 1))
    bench.lift()
    assert bench.tone == "stutter"


def test_ringing_status_is_tracked():
    bench = machine()
    bench.ring_in()
    assert bench.phone.calls[0].status is CallStatus.RINGING_IN


def test_star_codes_switch_it_on_and_off_and_save_it():
    bench = PhoneBench()
    bench.lift()
    out = bench.press("*94")
    assert of(out, fx.SaveFeature) == [fx.SaveFeature("voicemail.enabled", True)]
    assert bench.phone.settings.voicemail.enabled
    assert bench.tone == "confirm"
    bench.hang()
    bench.ring_in()
    assert of(bench.advance(20), fx.Accept)  # it takes calls now
    bench.state("in-1", CallState.HUNGUP)
    bench.lift()
    bench.press("*95")
    assert not bench.phone.settings.voicemail.enabled


def test_a_switch_that_could_not_be_saved_is_undone():
    from appliance.phone.events import FeatureNotSaved

    bench = PhoneBench()
    bench.lift()
    bench.press("*94")
    out = bench.send(FeatureNotSaved("voicemail.enabled", False, "storage full"))
    assert not bench.phone.settings.voicemail.enabled
    assert not of(out, fx.SaveFeature)
    assert bench.tone == "reorder"
