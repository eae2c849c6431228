"""Who rings: anonymous callers, the block list, quiet hours, and do not disturb's allow list."""

import pytest

from appliance.phone import effects as fx
from appliance.phone.events import CallArrived, CallState, ClockRead
from appliance.phone.model import CallId, Screening
from appliance.phone.screening import in_window, is_anonymous, matches

from .harness import ALICE, STRANGER, PhoneBench, of, with_settings


def screened(rules: Screening, **settings: object) -> PhoneBench:
    return PhoneBench(with_settings(screening=rules, **settings))


def sip_call(bench: PhoneBench, uri: str, name: str = "") -> list[fx.Effect]:
    return bench.send(CallArrived(CallId("in-1"), "sip1", uri, name))


@pytest.mark.parametrize(
    ("entry", "uri", "same"),
    [
        ("5551234", "sip:5551234@pbx.example", True),  # a bare number: the SIP caller's user part
        ("sip:5551234@pbx.example", "<sip:5551234@pbx.example>", True),
        ("5551234", "sip:5551235@pbx.example", False),
        (ALICE.upper(), "ring:" + ALICE, True),  # Jami IDs in any case, with or without a scheme
        (ALICE, STRANGER, False),
        ("spammer", "spammer", True),  # a registered name
        ("", "sip:@pbx", False),
    ],
)
def test_list_entries_match_callers(entry, uri, same):
    assert matches(entry, uri) is same


@pytest.mark.parametrize(
    ("uri", "name", "anonymous"),
    [
        ("sip:anonymous@anonymous.invalid", "Anonymous", True),
        ("sip:restricted@pbx.example", "", True),
        ("", "", True),
        ("sip:5551234@pbx.example", "", False),
        (ALICE, "", False),
    ],
)
def test_anonymous_callers(uri, name, anonymous):
    assert is_anonymous(uri, name) is anonymous


@pytest.mark.parametrize(
    ("start", "end", "minute", "inside"),
    [
        (22 * 60, 7 * 60, 23 * 60, True),  # across midnight
        (22 * 60, 7 * 60, 3 * 60, True),
        (22 * 60, 7 * 60, 7 * 60, False),  # the end is not in it
        (22 * 60, 7 * 60, 12 * 60, False),
        (13 * 60, 14 * 60, 13 * 60 + 30, True),
        (13 * 60, 14 * 60, 12 * 60, False),
        (0, 0, 600, False),  # no window
    ],
)
def test_quiet_hours_window(start, end, minute, inside):
    assert in_window(start, end, minute) is inside


def test_anonymous_rejection_refuses_before_any_ring():
    bench = screened(Screening(anonymous_reject=True))
    out = sip_call(bench, "sip:anonymous@anonymous.invalid", "Anonymous")
    assert of(out, fx.Refuse) == [fx.Refuse(CallId("in-1"), "anonymous")]
    assert [(e.kind, e.reason) for e in of(out, fx.LogCall)] == [("refused", "anonymous")]
    assert not bench.ringing


def test_anonymous_callers_ring_unless_rejected():
    bench = PhoneBench()
    sip_call(bench, "sip:anonymous@anonymous.invalid", "Anonymous")
    assert bench.ringing


@pytest.mark.parametrize("uri", ["sip:5551234@pbx.example", STRANGER])
def test_block_list_refuses_numbers_and_ids(uri):
    bench = screened(Screening(block=("5551234", STRANGER)))
    out = sip_call(bench, uri)
    assert of(out, fx.Refuse) == [fx.Refuse(CallId("in-1"), "blocked")]
    assert not bench.ringing


def test_blocked_contact_is_refused_even_in_its_own_directory():
    bench = screened(Screening(block=(ALICE,)))
    assert of(bench.ring_in("in-1", ALICE), fx.Refuse) == [fx.Refuse(CallId("in-1"), "blocked")]


def test_dnd_allow_list_still_rings():
    bench = screened(Screening(dnd_allow=(ALICE,)), dnd=True)
    bench.ring_in("in-1", ALICE)
    assert bench.ringing
    bench.send(CallArrived(CallId("in-2"), "jami", STRANGER, ""))
    assert of(bench.effects, fx.Refuse) == [fx.Refuse(CallId("in-2"), "do not disturb")]


QUIET = Screening(quiet_from=22 * 60, quiet_to=7 * 60)


def at(bench: PhoneBench, hours: int, minutes: int = 0) -> None:
    bench.send(ClockRead(hours * 3600 + minutes * 60, synced=True))


def test_quiet_hours_let_only_contacts_ring_and_log_the_rest_as_missed():
    bench = screened(QUIET)
    at(bench, 23, 30)
    out = bench.ring_in("in-1", STRANGER)
    assert of(out, fx.Refuse) == [fx.Refuse(CallId("in-1"), "quiet hours")]
    assert [(e.kind, e.reason) for e in of(out, fx.LogCall)] == [("missed", "quiet hours")]
    assert bench.phone.missed == 1  # the idle screen tells in the morning
    bench.ring_in("in-2", ALICE)
    assert bench.ringing


def test_quiet_hours_apply_only_by_a_synchronised_clock():
    """A Pi boots with the time it last saved, hours off, until NTP sets it: by such a clock every
    call rings (a wrong refusal loses a call nobody heard; a wrong ring wakes someone once)."""
    bench = screened(QUIET)
    bench.send(ClockRead(23 * 3600 + 30 * 60, synced=False))
    out = bench.ring_in("in-1", STRANGER)
    assert bench.ringing and not of(out, fx.Refuse) and not of(out, fx.LogCall)
    bench.state("in-1", CallState.HUNGUP)
    at(bench, 23, 31)  # NTP has set the clock: the next reading is known right
    assert of(bench.ring_in("in-2", STRANGER), fx.Refuse) == [fx.Refuse(CallId("in-2"), "quiet hours")]
    bench.send(ClockRead(23 * 3600 + 40 * 60, synced=False))  # NTP gone for hours: unsynchronised again
    bench.ring_in("in-3", STRANGER)
    assert bench.ringing


def test_quiet_hours_follow_the_clock_between_readings():
    bench = screened(QUIET)
    at(bench, 21, 59)
    bench.advance(30)
    bench.ring_in("in-1", STRANGER)
    assert bench.ringing  # 21:59:30
    bench.state("in-1", CallState.HUNGUP)
    bench.advance(60)
    assert of(bench.ring_in("in-2", STRANGER), fx.Refuse) == [fx.Refuse(CallId("in-2"), "quiet hours")]
    bench.advance(9 * 3600)  # 07:00:30 the next morning
    bench.ring_in("in-3", STRANGER)
    assert bench.ringing


def test_quiet_hours_over_in_the_morning():
    bench = screened(QUIET)
    at(bench, 7, 0)
    bench.ring_in("in-1", STRANGER)
    assert bench.ringing


def test_quiet_hours_allow_list_only():
    bench = screened(
        Screening(quiet_from=22 * 60, quiet_to=7 * 60, quiet_allow="allow_list", allow=(STRANGER,))
    )
    at(bench, 1)
    assert of(bench.ring_in("in-1", ALICE), fx.Refuse) == [fx.Refuse(CallId("in-1"), "quiet hours")]
    bench.ring_in("in-2", STRANGER)
    assert bench.ringing


def test_quiet_hours_need_a_clock():
    bench = screened(QUIET)  # never read: the time of day is unknown
    bench.ring_in("in-1", STRANGER)
    assert bench.ringing
