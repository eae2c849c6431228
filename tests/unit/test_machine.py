"""What a person with a desk phone or an adapter expects, event by event."""

from dataclasses import replace

import pytest

from appliance.line import spill
from appliance.phone import effects as fx
from appliance.phone.callerid import Absence, Alert, Presentation, Standard
from appliance.phone.dialplan import DigitMap
from appliance.phone.events import (
    AccountChanged,
    AlertSent,
    CallArrived,
    CallState,
    ContactsChanged,
    TelephonyLost,
    TelephonyRestored,
    TimerExpired,
    TrustedContactsChanged,
    VoicemailChanged,
)
from appliance.phone.machine import step
from appliance.phone.model import CallId, Contact, Feature, Mode, Phone, Registration, Settings
from appliance.phone.tones import COUNTRIES, Tone

from .harness import ALICE, BOB, JAMI, STRANGER, PhoneBench, of, with_settings


def rings(effect: fx.Effect) -> bool:
    """The ringer starts for a call arriving (not a recall); its caller ID is checked on its own."""
    return isinstance(effect, fx.StartRinger) and not effect.recall


def test_lift_gives_dial_tone_first_and_first_digit_stops_it():
    bench = PhoneBench()
    out = bench.lift()
    assert out[0] == fx.PlayTone(Tone.DIAL)  # the tone is the first thing dispatched
    assert fx.ArmTimer("digit", 15.0) in out
    assert bench.press("5")[0] == fx.StopTone()
    assert bench.tone is None


def test_stutter_dial_tone_when_messages_wait():
    bench = PhoneBench()
    bench.send(VoicemailChanged("jami", 2))
    bench.lift()
    assert bench.tone == "stutter"
    bench.send(VoicemailChanged("jami", 0))
    assert bench.tone == "dial"


@pytest.mark.parametrize(
    ("keys", "wait", "uri", "account"),
    [
        ("2#", 0.0, ALICE, "jami"),  # speed dial, '#' sends now
        ("2", 2.0, ALICE, "jami"),  # speed dial after the short interdigit timer
        ("3", 2.0, BOB, "jami"),
        ("2001", 2.0, BOB, "jami"),  # directory number
        ("4#", 0.0, "sip:carol@pbx.example", "sip1"),  # SIP contact goes out on the SIP account
    ],
)
def test_dialing_resolves_through_speed_dials_and_directory(keys, wait, uri, account):
    bench = PhoneBench()
    bench.lift()
    out = bench.press(keys) + bench.advance(wait)
    placed = of(out, fx.PlaceCall)
    assert len(placed) == 1
    assert (placed[0].uri, placed[0].account) == (uri, account)
    assert bench.phone.mode is Mode.CALLING


def test_short_timer_waits_for_more_digits():
    bench = PhoneBench()
    bench.lift()
    bench.press("2")
    assert not of(bench.advance(1.9), fx.PlaceCall)
    bench.press("0")
    bench.press("0")
    bench.press("1")
    placed = of(bench.advance(2.0), fx.PlaceCall)
    assert placed[0].uri == BOB


def test_plain_numbers_go_to_the_digits_account():
    bench = PhoneBench(with_settings(digits_account="sip1"))
    bench.lift()
    placed = of(bench.press("5551234#"), fx.PlaceCall)
    assert placed == [fx.PlaceCall(CallId("out-1"), "sip1", "sip:5551234@pbx.example")]


@pytest.mark.parametrize(
    ("keys", "notice"),
    [
        ("7#", "No contact on speed dial 7"),
        ("55512#", "Number 55512 not found"),
    ],
)
def test_unknown_numbers_give_reorder_and_plain_words(keys, notice):
    bench = PhoneBench()
    bench.lift()
    bench.press(keys)
    assert bench.tone == "reorder"
    assert bench.phone.notice == notice


def test_digit_map_blocks_and_rejects():
    bench = PhoneBench(with_settings(digit_map=DigitMap.parse("[2-8]|1900x.!")))
    bench.lift()
    bench.press("1900")
    assert bench.phone.mode is Mode.REORDER
    assert "blocked" in bench.phone.notice
    bench.flash()
    bench.press("0")  # not "9": it may become 911, which no digit map stops
    assert bench.phone.notice == "Cannot dial 0"


def test_incomplete_number_times_out_to_reorder():
    bench = PhoneBench()
    bench.lift()
    bench.press("*7")
    bench.advance(5.0)
    assert bench.tone == "reorder"
    assert "incomplete" in bench.phone.notice


def test_outgoing_progress_tones_and_call_timer():
    bench = PhoneBench()
    call = bench.call_out("2#", answer=False)
    assert bench.tone == "ringback"
    bench.state(call, CallState.CURRENT)
    assert bench.tone is None
    assert bench.phone.mode is Mode.TALKING
    assert bench.phone.active_call.connected_at == bench.now


@pytest.mark.parametrize(
    ("state", "code", "tone", "notice"),
    [
        (CallState.BUSY, 0, "busy", "Alice is busy"),
        (CallState.PEER_BUSY, 0, "busy", "Alice is busy"),
        (CallState.FAILURE, 408, "reorder", "No answer"),
        (CallState.FAILURE, 0, "reorder", "Call failed"),
        (CallState.HUNGUP, 0, "busy", "Alice declined"),
    ],
)
def test_outgoing_failures(state, code, tone, notice):
    bench = PhoneBench()
    call = bench.call_out("2#", answer=False)
    bench.state(call, state, code)
    assert bench.tone == tone
    assert bench.phone.notice == notice
    assert bench.phone.calls == ()


def test_remote_hangup_in_a_call_gives_dial_tone_again():
    bench = PhoneBench()
    call = bench.call_out()
    bench.advance(30)
    out = bench.state(call, CallState.HUNGUP)
    assert bench.tone == "dial"
    assert bench.phone.notice == "Call ended"
    assert of(out, fx.LogCall)[0].duration_s == pytest.approx(30.0)


def test_a_call_that_fails_once_connected_is_lost_with_reorder():
    bench = PhoneBench()
    call = bench.call_out()
    bench.advance(30)
    out = bench.state(call, CallState.FAILURE, 104)  # jamid: its channel to the peer closed
    assert bench.tone == "reorder"
    assert bench.phone.notice == "Call lost"
    assert bench.phone.calls == ()
    assert of(out, fx.LogCall)[0].reason == "Call lost"


def test_incoming_rings_lift_answers_and_ringer_stops_first():
    bench = PhoneBench()
    out = bench.ring_in()
    assert rings(out[0])
    assert bench.phone.mode is Mode.RINGING
    out = bench.lift()
    assert out[0] == fx.StopRinger()
    assert fx.Accept(CallId("in-1")) in out
    bench.state("in-1", CallState.CURRENT)
    assert bench.phone.mode is Mode.TALKING


def test_caller_name_from_contacts_then_call_then_uri():
    bench = PhoneBench()
    bench.ring_in(uri=f"ring:{ALICE}@ring.dht", name="spoofed")
    assert bench.phone.waiting.peer_name == "Alice"
    bench.state("in-1", CallState.HUNGUP)
    bench.ring_in("in-2", STRANGER, "Dave")
    assert bench.phone.waiting.peer_name == "Dave"
    bench.state("in-2", CallState.HUNGUP)
    bench.ring_in("in-3", STRANGER, "")
    assert bench.phone.waiting.peer_name == "cccccccc…"


def test_unanswered_call_is_missed_and_ringer_stops():
    bench = PhoneBench()
    bench.ring_in()
    out = bench.state("in-1", CallState.HUNGUP)
    assert fx.StopRinger() in out
    assert bench.phone.missed == 1
    assert of(out, fx.LogCall)[0].kind == "missed"
    assert bench.phone.mode is Mode.IDLE


def test_private_mode_refuses_strangers_before_any_ring():
    bench = PhoneBench(with_settings(private_mode=True))
    out = bench.ring_in("in-1", STRANGER, "Mallory")
    assert out == [
        fx.Refuse(CallId("in-1"), "private mode"),
        fx.LogCall("refused", STRANGER, "Mallory", "private mode"),
    ]
    assert not bench.ringing
    out = bench.ring_in("in-2", ALICE)
    assert rings(out[0])


def test_private_mode_admits_contacts_of_the_core():
    bench = PhoneBench(with_settings(private_mode=True))
    bench.send(TrustedContactsChanged((Contact("", STRANGER),)))
    assert rings(bench.ring_in("in-1", STRANGER)[0])


def test_a_changed_certificate_is_refused_in_private_mode_and_said_otherwise():
    bench = PhoneBench(with_settings(private_mode=True))
    out = bench.send(CallArrived(CallId("in-1"), "jami", ALICE, "", identity_changed=True))
    assert out == [
        fx.Refuse(CallId("in-1"), "certificate changed"),
        fx.LogCall("refused", ALICE, "Alice", "certificate changed"),
    ]
    bench = PhoneBench()
    out = bench.send(CallArrived(CallId("in-1"), "jami", ALICE, "", identity_changed=True))
    assert rings(out[0])
    assert bench.phone.waiting.identity_changed


def test_do_not_disturb_refuses_everyone():
    bench = PhoneBench(with_settings(dnd=True))
    out = bench.ring_in()
    assert of(out, fx.Refuse) == [fx.Refuse(CallId("in-1"), "do not disturb")]


def test_call_waiting_tone_and_flash_swaps():
    bench = PhoneBench()
    first = bench.call_out()
    bench.ring_in("in-1", BOB)
    assert bench.tone == "call_waiting"
    out = bench.flash()
    assert fx.Hold(CallId(first)) in out
    assert fx.Accept(CallId("in-1")) in out
    bench.state("in-1", CallState.CURRENT)
    assert bench.phone.active == "in-1"
    assert bench.tone is None
    out = bench.flash()
    assert out[-2:] == [fx.Hold(CallId("in-1")), fx.Resume(CallId(first))]
    assert bench.phone.active == first


def test_call_waiting_off_and_cancelled_give_busy_to_the_caller():
    bench = PhoneBench(with_settings(call_waiting=False))
    bench.call_out()
    assert of(bench.ring_in("in-1", BOB), fx.Refuse) == [fx.Refuse(CallId("in-1"), "busy")]

    bench = PhoneBench()
    bench.lift()
    bench.press("*70")
    assert bench.tone == "confirm"
    bench.advance(1.3)
    assert bench.tone == "dial"
    bench.call_out("2#")
    assert of(bench.ring_in("in-1", BOB), fx.Refuse) == [fx.Refuse(CallId("in-1"), "busy")]
    bench.hang()
    assert rings(bench.ring_in("in-2", BOB)[0])  # only for that call


def test_three_way_conference_flash_dial_flash():
    bench = PhoneBench()
    first = bench.call_out("2#")
    out = bench.flash()
    assert fx.Hold(CallId(first)) in out
    assert bench.tone == "dial"  # second dial tone
    second = bench.call_out("3#")
    out = bench.flash()
    assert fx.Conference((CallId(first), CallId(second))) in out
    assert bench.phone.conference
    out = bench.hang()
    assert of(out, fx.HangUp) == [fx.HangUp(CallId(first)), fx.HangUp(CallId(second))]
    assert bench.phone.mode is Mode.IDLE


def test_flash_in_conference_drops_the_last_party():
    bench = PhoneBench()
    first = bench.call_out("2#")
    bench.flash()
    second = bench.call_out("3#")
    bench.flash()
    out = bench.flash()
    assert of(out, fx.HangUp) == [fx.HangUp(CallId(second))]
    assert not bench.phone.conference
    assert bench.phone.active == first


def test_flash_while_second_party_rings_returns_to_the_first():
    bench = PhoneBench()
    first = bench.call_out("2#")
    bench.flash()
    second = bench.call_out("3#", answer=False)
    out = bench.flash()
    assert fx.HangUp(CallId(second)) in out
    assert fx.Resume(CallId(first)) in out
    assert bench.phone.mode is Mode.TALKING


def test_no_digit_on_second_dial_tone_returns_to_held_call():
    bench = PhoneBench()
    first = bench.call_out()
    bench.flash()
    out = bench.advance(15.0)
    assert fx.Resume(CallId(first)) in out


def test_hanging_up_with_a_held_call_rings_back():
    bench = PhoneBench()
    first = bench.call_out()
    bench.flash()
    out = bench.hang()
    assert fx.StartRinger(recall=True) in out
    assert not of(out, fx.HangUp)
    out = bench.lift()
    assert fx.Resume(CallId(first)) in out


def test_hanging_up_with_a_waiting_call_rings_for_it():
    bench = PhoneBench()
    bench.call_out()
    bench.ring_in("in-1", BOB)
    out = bench.hang()
    assert any(rings(e) for e in out)
    assert fx.Accept(CallId("in-1")) in bench.lift()


def test_off_hook_too_long_reorder_howler_silence():
    bench = PhoneBench()
    bench.lift()
    bench.advance(15.0)
    assert bench.tone == "reorder"
    bench.advance(20.0)
    assert bench.tone == "howler"
    bench.advance(40.0)
    assert bench.tone is None
    assert bench.phone.mode is Mode.SILENT
    bench.hang()
    assert bench.phone.mode is Mode.IDLE
    assert bench.phone.timers == ()


@pytest.mark.parametrize(
    ("code", "field", "value"),
    [
        ("*78", "dnd", True),
        ("*60", "private_mode", True),
        ("*57", "call_waiting", False),
    ],
)
def test_star_codes_switch_features_and_are_saved(code, field, value):
    bench = PhoneBench()
    bench.lift()
    out = bench.press(code)
    assert fx.SaveFeature(field, value) in out
    assert getattr(bench.phone, field) is value
    assert bench.tone == "confirm"


def test_star_codes_switch_back_off():
    bench = PhoneBench(with_settings(dnd=True, private_mode=True))
    bench.lift()
    bench.press("*79")
    bench.advance(2)
    bench.press("*61")
    assert not bench.phone.dnd
    assert not bench.phone.private_mode


def test_redial_and_call_return():
    bench = PhoneBench()
    bench.lift()
    assert bench.press("*66") and bench.phone.notice == "Nothing to redial"
    bench.hang()
    call = bench.call_out("3#")
    bench.state(call, CallState.HUNGUP)
    bench.hang()
    bench.lift()
    assert of(bench.press("*66"), fx.PlaceCall)[0].uri == BOB
    bench.hang()
    bench.ring_in("in-1", ALICE)
    bench.state("in-1", CallState.HUNGUP)
    bench.lift()
    assert of(bench.press("*69"), fx.PlaceCall)[0].uri == ALICE


def test_star_codes_are_configurable():
    bench = PhoneBench(with_settings(star_codes=(("*11", Feature.DND_ON),)))
    bench.lift()
    bench.press("*11")
    assert bench.phone.dnd
    bench.flash()
    bench.press("*78")
    assert bench.phone.mode is Mode.REORDER  # no longer a code: not a number either


def test_dtmf_in_call():
    bench = PhoneBench()
    call = bench.call_out()
    assert bench.press("1#") == [fx.SendDtmf(CallId(call), "1"), fx.SendDtmf(CallId(call), "#")]


@pytest.mark.parametrize("state", [Registration.UNREGISTERED, Registration.ERROR])
def test_no_call_without_a_connected_account(state):
    bench = PhoneBench()
    bench.send(AccountChanged(replace(JAMI, registration=state)))
    bench.lift()
    bench.press("2#")
    assert bench.phone.notice == "Account not connected"
    assert bench.tone == "reorder"


def test_a_connecting_account_takes_the_call_and_the_core_holds_it():
    """Just after the daemon restarted the account is still TRYING: the first call a person makes
    goes out (the telephony core places it once the account is up), not reorder (issue 18)."""
    bench = PhoneBench()
    bench.send(AccountChanged(replace(JAMI, registration=Registration.TRYING)))
    bench.lift()
    out = bench.press("2#")
    (placed,) = of(out, fx.PlaceCall)
    assert (placed.uri, placed.account) == (ALICE, "jami")
    assert bench.phone.mode is Mode.CALLING


def test_telephony_loss_and_recovery_back_to_dial_tone():
    bench = PhoneBench()
    bench.call_out()
    out = bench.send(TelephonyLost("daemon died"))
    assert bench.phone.calls == ()
    assert bench.tone == "reorder"
    assert not of(out, fx.HangUp)  # the core is gone: nothing to tell it
    bench.send(TelephonyRestored())
    assert bench.tone == "dial"


def test_telephony_loss_while_ringing_stops_the_ringer():
    bench = PhoneBench()
    bench.ring_in()
    assert fx.StopRinger() in bench.send(TelephonyLost())
    bench.lift()
    assert bench.tone == "reorder"
    assert bench.phone.notice == "Phone service is starting"


def test_contacts_replaced_at_run_time():
    bench = PhoneBench()
    bench.send(ContactsChanged((Contact("Zed", STRANGER, speed_dial="9"),)))
    bench.lift()
    assert of(bench.press("9#"), fx.PlaceCall)[0].uri == STRANGER


def test_stale_timer_expiry_is_ignored():
    bench = PhoneBench()
    bench.lift()
    bench.now = 1.0
    assert bench.send(TimerExpired("digit")) == []  # armed for 15 s, fired early: stale
    assert bench.tone == "dial"


def test_flash_on_dial_tone_restarts_it():
    bench = PhoneBench()
    bench.lift()
    bench.press("55")
    bench.flash()
    assert bench.phone.digits == ""
    assert bench.tone == "dial"


def test_call_answered_on_another_device_stops_ringing():
    bench = PhoneBench()
    bench.ring_in()
    out = bench.state("in-1", CallState.CURRENT)
    assert fx.StopRinger() in out
    assert bench.phone.mode is Mode.IDLE
    assert bench.phone.missed == 0
    assert of(out, fx.LogCall)[0].reason == "Answered elsewhere"


def test_slow_rotary_zero_holds_the_interdigit_timer():
    bench = PhoneBench(with_settings(interdigit_short_s=1.0))
    bench.lift()
    bench.rotary("2", pps=8, gap=0.9)
    bench.rotary("0", pps=8, gap=0.3)  # 1.25 s of pulses: longer than the short timer
    assert bench.phone.digits == "20"


def test_hanging_up_a_conference_can_leave_the_others_talking():
    bench = PhoneBench(with_settings(conference_transfer=True))
    first = bench.call_out("2#")
    bench.flash()
    second = bench.call_out("3#")
    bench.flash()
    out = bench.hang()
    assert of(out, fx.Transfer) == [fx.Transfer((CallId(first), CallId(second)))]
    assert not of(out, fx.HangUp)
    assert [e.reason for e in of(out, fx.LogCall)] == ["transferred", "transferred"]
    assert bench.phone.mode is Mode.IDLE
    assert not bench.ringing


def test_the_handset_test_tone_is_the_machines_like_any_tone():
    from appliance.phone.events import HandsetTestRequested

    bench = PhoneBench()
    assert bench.send(HandsetTestRequested(3.0)) == [fx.ArmTimer("handset_test", 3.0)]  # on hook: silent
    bench.lift()
    assert bench.tone == "test"  # lifted within the test: the test tone instead of dial tone
    bench.advance(3.1)
    assert bench.tone == "dial"
    bench.send(HandsetTestRequested(3.0))
    assert bench.tone == "test"
    bench.press("5")
    assert bench.tone is None  # dialing: the test gives way


def test_a_call_during_the_handset_test_has_its_own_tones():
    from appliance.phone.events import HandsetTestRequested

    bench = PhoneBench()
    bench.send(HandsetTestRequested(3.0))
    bench.send(CallArrived(CallId("c1"), JAMI, ALICE, "Alice"))
    assert bench.phone.mode is Mode.RINGING
    bench.lift()  # answers the call: no test tone over it
    assert bench.phone.calls and bench.tone is None


def test_the_ringer_is_told_who_calls_and_how_the_line_presents_them():
    bench = PhoneBench()
    out = bench.ring_in("in-1", BOB, "Robert (from the call)")
    caller = out[0].caller
    assert (caller.number, caller.name, caller.number_absent, caller.name_absent) == (
        "2001",
        "Bob",
        None,
        None,
    )
    assert caller.presentation == Presentation(Standard.BELLCORE, Alert.AFTER_RING)  # US by default
    bench.state("in-1", CallState.HUNGUP)
    out = bench.ring_in("in-2", STRANGER, "")  # a Jami stranger: no number, and no name to show
    caller = out[0].caller
    assert (caller.number, caller.name) == ("", "")
    assert (caller.number_absent, caller.name_absent) == (Absence.UNAVAILABLE, Absence.UNAVAILABLE)


def test_caller_id_follows_the_country_and_the_override():
    bench = PhoneBench(with_settings(country="GB"))
    assert bench.ring_in()[0].caller.presentation == Presentation(Standard.ETSI_FSK, Alert.REVERSAL)
    bench = PhoneBench(with_settings(country="GB", callerid="etsi-dtmf"))
    assert bench.ring_in()[0].caller.presentation == Presentation(Standard.ETSI_DTMF, Alert.BEFORE_RING)
    bench = PhoneBench(with_settings(callerid="bellcore", callerid_sdmf=True))
    assert bench.ring_in()[0].caller.presentation.sdmf


def test_the_line_reverses_on_answer_and_back_when_the_far_end_hangs_up():
    bench = PhoneBench()
    bench.ring_in("in-1", BOB)
    out = bench.lift()
    assert fx.ReverseLine(on=True) not in out  # accepted, not connected yet
    out = bench.state("in-1", CallState.CURRENT)
    assert fx.ReverseLine(on=True) in out
    out = bench.state("in-1", CallState.HUNGUP)
    assert fx.ReverseLine(on=False) in out
    call = bench.call_out("2#", answer=False)
    assert not of(bench.effects, fx.ReverseLine)[2:]
    out = bench.state(call, CallState.CURRENT)
    assert fx.ReverseLine(on=True) in out  # the far end answered our call
    assert fx.ReverseLine(on=False) in bench.hang()


def test_the_message_lamp_follows_voicemail_on_an_idle_line_only():
    bench = PhoneBench()
    out = bench.send(VoicemailChanged("jami", 2))
    assert of(out, fx.ShowMessages) == [
        fx.ShowMessages(True, Presentation(Standard.BELLCORE, Alert.AFTER_RING))
    ]
    assert not of(bench.send(VoicemailChanged("jami", 3)), fx.ShowMessages)  # still on: nothing new
    bench.lift()
    assert not of(bench.send(VoicemailChanged("jami", 0)), fx.ShowMessages)  # off hook: not now
    assert of(bench.hang(), fx.ShowMessages)[0].on is False  # told once the line is idle again
    bench.ring_in()
    assert not of(bench.send(VoicemailChanged("jami", 1)), fx.ShowMessages)  # never over a ring
    assert of(bench.state("in-1", CallState.HUNGUP), fx.ShowMessages)[0].on is True


def test_the_lamp_goes_the_countrys_way():
    bench = PhoneBench(with_settings(country="GB"))
    (lamp,) = of(bench.send(VoicemailChanged("jami", 1)), fx.ShowMessages)
    assert lamp.presentation == Presentation(Standard.ETSI_FSK, Alert.REVERSAL)


def test_a_contact_rings_with_its_own_cadence_and_others_with_the_countrys():
    contacts = (Contact("Alice", ALICE, ring=(800, 400, 800, 4000)), Contact("Bob", BOB))
    bench = PhoneBench(contacts=contacts)
    assert bench.ring_in("in-1", ALICE)[0].cadence == (800, 400, 800, 4000)
    bench.state("in-1", CallState.HUNGUP)
    assert bench.ring_in("in-2", BOB)[0].cadence == ()


def test_caller_id_on_call_waiting_alert_ack_data_and_the_far_end_muted_meanwhile():
    bench = PhoneBench(with_settings(callerid_waiting=True))
    first = CallId(bench.call_out())
    out = bench.ring_in("in-1", BOB, "")
    assert fx.Mute(first, on=True) in out
    assert bench.tone == "call_waiting"
    out = bench.advance(0.3)  # the US call-waiting tone's burst
    assert of(out, fx.AlertWaiting) == [fx.AlertWaiting(Presentation(Standard.BELLCORE, Alert.AFTER_RING))]
    # A real line: the player opens its PCM (50 ms), plays the alert (80 ms) and the four periods
    # ALSA buffers (80 ms) before it reports it out; the phone waits 100 ms, its D is confirmed
    # 34 ms into it and reaches us at the end of the detector's 100 ms block.
    bench.advance(0.05 + 0.08 + 0.08)
    bench.send(AlertSent())
    bench.advance(0.1 + 0.034 + 0.1)
    out = bench.press("D")  # the phone can show it
    assert not of(out, fx.SendDtmf)  # the ack is not the far end's
    ((sent,),) = [(e.caller,) for e in of(out, fx.SendWaitingCaller)]
    assert (sent.number, sent.name) == ("2001", "Bob")
    assert of(bench.advance(0.8), fx.Mute) == [fx.Mute(first, on=False)]
    assert of(bench.press("D"), fx.SendDtmf) == [fx.SendDtmf(first, "D")]  # later a D is a digit again


def test_no_ack_no_data_and_a_waiting_caller_that_goes_ends_it():
    bench = PhoneBench(with_settings(callerid_waiting=True))
    first = CallId(bench.call_out())
    bench.ring_in("in-1", BOB)
    bench.advance(0.3)
    bench.advance(0.2)
    bench.send(AlertSent())
    assert not of(bench.advance(0.29), fx.Mute)
    out = bench.advance(0.02)  # 300 ms after the alert went out: no ack, the phone cannot show it
    assert of(out, fx.Mute) == [fx.Mute(first, on=False)]
    assert of(bench.press("D"), fx.SendDtmf) == [fx.SendDtmf(first, "D")]  # too late: a digit
    assert not of(bench.effects, fx.SendWaitingCaller)
    bench.state("in-1", CallState.HUNGUP)
    bench.ring_in("in-2", BOB)
    out = bench.state("in-2", CallState.HUNGUP)  # gone before the alert
    assert of(out, fx.Mute) == [fx.Mute(first, on=False)]
    assert not of(bench.advance(1.0), fx.AlertWaiting)


def test_the_call_muted_for_caller_id_is_unmuted_even_when_it_has_gone():
    """The far end's voice is muted for the whole device: the waiting call, answered next, must
    not be silent because the first one hung up meanwhile."""
    bench = PhoneBench(with_settings(callerid_waiting=True))
    first = CallId(bench.call_out())
    bench.ring_in("in-1", BOB)
    bench.advance(0.3)
    out = bench.state(first, CallState.HUNGUP)
    assert of(out, fx.Mute) == [fx.Mute(first, on=False)]


def test_an_alert_never_reported_out_gives_up_within_a_second():
    """A player that failed (or a line without a codec) never says the alert went out."""
    bench = PhoneBench(with_settings(callerid_waiting=True))
    first = CallId(bench.call_out())
    bench.ring_in("in-1", BOB)
    bench.advance(0.3)
    assert not of(bench.advance(0.99), fx.Mute)
    assert of(bench.advance(0.02), fx.Mute) == [fx.Mute(first, on=False)]
    assert not of(bench.send(AlertSent()), fx.SendWaitingCaller)  # a late report changes nothing
    assert not of(bench.press("D"), fx.SendWaitingCaller)


def test_no_caller_id_on_call_waiting_unless_the_line_can_take_it():
    for settings in (with_settings(), with_settings(callerid_waiting=True, callerid="etsi-dtmf")):
        bench = PhoneBench(settings)
        bench.call_out()
        out = bench.ring_in("in-1", BOB) + bench.advance(1.0)
        assert not of(out, fx.Mute)
        assert not of(out, fx.AlertWaiting)


def test_the_lamp_is_put_right_once_after_a_start():
    """Nobody knows what the phone's lamp shows after a restart: it is told at the first chance."""
    phone = Phone.initial(Settings())
    phone, out = step(phone, AccountChanged(JAMI), 0.0)
    assert of(out, fx.ShowMessages) == [
        fx.ShowMessages(False, Presentation(Standard.BELLCORE, Alert.AFTER_RING))
    ]
    phone, out = step(phone, AccountChanged(JAMI), 1.0)
    assert not of(out, fx.ShowMessages)


@pytest.mark.parametrize("country", COUNTRIES)
def test_a_fresh_start_with_no_messages_never_rings_the_bell_to_say_so(country):
    """France's lamp is told with a ring pulse: at every boot the bell would chirp for nothing."""
    phone = Phone.initial(Settings(country=country))
    sent = []
    for at, event in enumerate((AccountChanged(JAMI), AccountChanged(JAMI))):
        phone, out = step(phone, event, float(at))
        sent += of(out, fx.ShowMessages)
    rings = [s for m in sent for s in spill.lamp_steps(m.presentation, on=m.on) if isinstance(s, spill.Ring)]
    assert not rings
    assert all(m.presentation.alert is not Alert.RING_PULSE for m in sent)


def test_a_fresh_start_with_messages_still_lights_the_lamp_by_ring_pulse_in_france():
    phone = Phone.initial(Settings(country="FR"))
    phone, first = step(phone, VoicemailChanged(JAMI, 2), 0.0)
    phone, then = step(phone, AccountChanged(JAMI), 1.0)
    assert of(first + then, fx.ShowMessages) == [
        fx.ShowMessages(True, Presentation(Standard.ETSI_FSK, Alert.RING_PULSE))
    ]
