"""The owner's greeting recorded through the handset (``*97``) and the spoken one again (``*96``),
event by event (pure: no audio, no disk)."""

from appliance.phone import effects as fx
from appliance.phone.events import CallState, GreetingTaken, OwnGreetingChanged
from appliance.phone.greeting import MAX_S, TAKE
from appliance.phone.model import AnsweringSettings, CallId, Mode
from appliance.phone.phrases import phrase
from appliance.phone.tones import Tone

from .harness import PhoneBench, of, with_settings

RECORD = fx.RecordGreeting(phrase("en", "greeting_record"), "en")


def recording():
    bench = PhoneBench()
    bench.lift()
    out = bench.press("*97")
    assert of(out, fx.RecordGreeting) == [RECORD]  # the prompt and beep, then the handset's mic
    assert fx.StopTone() in out and bench.tone is None  # no dial tone over it
    assert bench.phone.mode is Mode.MENU and bench.phone.menu.level == "greeting"
    assert not of(out, fx.Say)  # the recorder says the prompt, right before it records
    return bench


def reviewed(seconds=4.0):
    bench = recording()
    out = bench.press("#")
    assert of(out, fx.StopGreeting) == [fx.StopGreeting()] and not of(out, fx.Say)
    out = bench.send(GreetingTaken(seconds))
    assert of(out, fx.Say) == [fx.Say(phrase("en", "greeting_review"), "en", TAKE)]  # then the take
    return bench


def test_pound_ends_the_take_which_is_played_back_and_kept_with_1():
    bench = reviewed()
    assert bench.phone.menu.level == "greeting_review"
    out = bench.press("#")  # heard again
    assert of(out, fx.Say) == [fx.Say(phrase("en", "greeting_review"), "en", TAKE)]
    out = bench.press("1")
    assert fx.KeepGreeting() in out
    assert of(out, fx.Say) == [fx.Say(phrase("en", "greeting_kept"), "en")]
    bench.send(OwnGreetingChanged(True))  # the runtime kept it
    assert bench.phone.own_greeting
    out = bench.press("*")
    assert bench.tone == Tone.DIAL.value and bench.phone.menu is None
    assert not of(out, fx.DropGreeting)


def test_2_records_again_and_star_keeps_the_old_greeting():
    bench = reviewed()
    out = bench.press("2")
    assert of(out, fx.DropGreeting) and of(out, fx.RecordGreeting) == [RECORD]
    assert bench.phone.menu.level == "greeting"
    bench.press("#")
    bench.send(GreetingTaken(3.0))
    out = bench.press("*")
    assert fx.DropGreeting() in out and not of(out, fx.KeepGreeting)
    assert bench.tone == Tone.DIAL.value


def test_hanging_up_while_recording_ends_the_take_and_keeps_it():
    bench = recording()
    bench.advance(5)
    out = bench.hang()
    assert of(out, fx.StopGreeting) == [fx.StopGreeting()] and of(out, fx.KeepGreeting)
    assert out.index(fx.StopGreeting()) < out.index(
        fx.KeepGreeting()
    )  # the runtime keeps the take it stopped
    assert bench.phone.menu is None and bench.phone.mode is Mode.IDLE
    assert not of(bench.send(GreetingTaken(5.0)), fx.Say)  # on hook: no review


def test_hanging_up_while_reviewing_keeps_it_but_not_an_empty_take():
    bench = reviewed()
    assert of(bench.hang(), fx.KeepGreeting)
    bench = recording()
    bench.press("#")
    out = bench.send(GreetingTaken(0.2))  # '#' during the prompt: nothing recorded
    assert of(out, fx.Say) == [fx.Say(phrase("en", "greeting_none"), "en")]
    assert not of(bench.press("1"), fx.KeepGreeting)  # nothing to keep
    out = bench.hang()
    assert of(out, fx.DropGreeting) and not of(out, fx.KeepGreeting)


def test_the_longest_greeting_ends_by_itself():
    bench = recording()
    assert not of(bench.advance(MAX_S - 0.1), fx.StopGreeting)
    out = bench.advance(0.1)
    assert of(out, fx.StopGreeting) == [fx.StopGreeting()]
    assert bench.phone.menu.level == "greeting_wait"
    out = bench.send(GreetingTaken(MAX_S))
    assert of(out, fx.Say) == [fx.Say(phrase("en", "greeting_review"), "en", TAKE)]
    assert not of(bench.advance(MAX_S + 1), fx.StopGreeting)  # reviewed: the timer is gone


def test_star_while_recording_drops_the_take():
    bench = recording()
    out = bench.press("*")
    assert out.index(fx.StopGreeting()) < out.index(fx.DropGreeting())
    assert bench.tone == Tone.DIAL.value


def test_the_machine_plays_the_owners_greeting_once_kept_and_the_spoken_one_after_star_96():
    bench = PhoneBench(with_settings(voicemail=AnsweringSettings(enabled=True, answer_after_s=5)))
    bench.send(OwnGreetingChanged(True))  # read at start
    bench.ring_in()
    bench.advance(5)
    out = bench.state("in-1", CallState.CURRENT)
    assert of(out, fx.Greet) == [fx.Greet(CallId("in-1"), phrase("en", "greeting"), "en", own=True)]
    bench.state("in-1", CallState.HUNGUP)
    bench.lift()
    out = bench.press("*96")
    assert fx.DefaultGreeting() in out and bench.tone == Tone.CONFIRM.value
    assert not bench.phone.own_greeting
    bench.hang()
    bench.ring_in("in-2")
    bench.advance(5)
    out = bench.state("in-2", CallState.CURRENT)
    assert of(out, fx.Greet) == [fx.Greet(CallId("in-2"), phrase("en", "greeting"), "en", own=False)]


def test_every_language_has_the_greeting_prompts():
    from appliance.phone.phrases import LANGUAGES

    for table in LANGUAGES.values():
        for key in ("greeting_record", "greeting_review", "greeting_none", "greeting_kept"):
            assert (table[key] and table[key] != LANGUAGES["en"][key]) or table is LANGUAGES["en"]
