"""Issue 16's features as ``appliance sim`` scripts: the real runtime on fakes, in virtual time,
checked through the JSON trace a person would read."""

from __future__ import annotations

import json
from typing import Any

from appliance.config.load import Layer
from appliance.runtime.virtual import run_virtual
from appliance.sim import parse_script, run_script

ALICE = "a" * 40
BOB = "b" * 40
CONTACTS = [
    {"name": "Alice", "uri": ALICE, "speed_dial": "2"},
    {"name": "Bob", "uri": BOB, "speed_dial": "3"},
]
PBX = [{"id": "pbx", "username": "desk", "registrar": "pbx.example"}]


def trace(script: str, **table: Any) -> list[dict[str, Any]]:
    lines: list[str] = []
    layers = [Layer("defaults", {}), Layer("test", {"contacts": CONTACTS, **table})]
    run_virtual(run_script(parse_script(script), layers, lines.append))
    return [json.loads(line) for line in lines]


def calls(events: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    keys = ("call", "calls", "to")
    return [(e["action"], *(str(e[k]) for k in keys if k in e)) for e in events if e["event"] == "call"]


def shown(events: list[dict[str, Any]], words: str) -> bool:
    return any(e["event"] == "display" and words in " ".join(e["lines"]) for e in events)


def test_forward_always_by_star_code_then_a_call_reaches_speed_dial_3():
    events = trace(
        "wait 1\nlift\npress *723#\nhang\nwait 1\nincoming sip:x@pbx.example\nremote answer\nwait 5\n"
        "remote hangup\nwait 1\n"
    )
    assert calls(events) == [
        ("forward", "in-1", BOB),
        ("place", "fwd-1", BOB),
        ("answer", "in-1"),  # only once Bob answered
        ("bridge", "in-1,fwd-1"),  # the two talk through this phone, the handset not in it
        ("hangup", "in-1"),  # Bob hung up: the caller's call ends too
    ]
    assert not any(e["event"] == "ringer" and e["on"] for e in events)
    assert shown(events, "Forwarding all calls to 3")
    assert shown(events, "All calls forwarded")


def test_forward_busy_from_the_config():
    events = trace(
        "wait 1\nlift\npress 2#\nremote answer\nincoming Bob\nwait 1\n",
        forwarding={"busy": "sip:voicemail@pbx.example"},
        features={"call_waiting": False},
        sip_accounts=PBX,
    )
    assert ("forward", "in-1", "sip:voicemail@pbx.example") in calls(events)
    assert ("place", "fwd-2", "sip:voicemail@pbx.example") in calls(events)


def test_forward_on_no_answer_after_its_seconds():
    events = trace(
        "wait 1\nincoming sip:x@pbx.example\nwait 14\nremote busy\nwait 1\n",
        forwarding={"no_answer": "2", "no_answer_s": 12},
    )
    rings = [e["t"] for e in events if e["event"] == "ringer"]
    assert len(rings) == 2 and 11.9 < rings[1] - rings[0] < 12.1  # rang 12 s, then stopped
    forward = next(e for e in events if e.get("action") == "forward")
    assert forward["to"] == ALICE and abs(forward["t"] - rings[1]) < 0.01
    assert calls(events)[-1] == ("refuse", "in-1")  # Alice busy: the caller hears the call end


def test_warm_line_dials_after_the_silence_and_a_key_cancels_it():
    table = {"hotline": {"uri": "3", "delay_s": 4}}
    events = trace("wait 1\nlift\nwait 5\n", **table)
    (place,) = [e for e in events if e.get("action") == "place"]
    assert place["to"] == BOB and abs(place["t"] - 5.0) < 0.01
    events = trace("wait 1\nlift\nwait 2\npress 2#\nwait 5\n", **table)
    assert [e["to"] for e in events if e.get("action") == "place"] == [ALICE]


def test_hotline_at_once():
    events = trace("wait 1\nlift\n", hotline={"uri": "2"})
    assert calls(events) == [("place", "out-1", ALICE)]


def test_anonymous_and_blocked_callers_never_ring():
    events = trace(
        "wait 1\nincoming sip:anonymous@anonymous.invalid\nincoming sip:5551234@pbx.example\nwait 1\n",
        screening={"anonymous_reject": True, "block": ["5551234"]},
        sip_accounts=PBX,
    )
    assert calls(events) == [("refuse", "in-1"), ("refuse", "in-2")]
    assert not any(e["event"] == "ringer" for e in events)


def test_quiet_hours_let_contacts_ring_and_count_the_rest_as_missed():
    events = trace(
        "wait 1\nclock 23:15\nincoming Stranger\nwait 1\nincoming Alice\nwait 1\n",
        screening={"quiet_from": "22:00", "quiet_to": "07:00"},
    )
    assert calls(events)[0] == ("refuse", "in-1")
    assert any(e["event"] == "ringer" and e["on"] for e in events)  # Alice rang
    assert shown(events, "1 missed call")


def test_quiet_hours_wait_for_a_synchronised_clock():
    events = trace(
        "wait 1\nclock 23:15 unsynced\nincoming Stranger\nwait 1\n",
        screening={"quiet_from": "22:00", "quiet_to": "07:00"},
    )
    assert not any(c[0] == "refuse" for c in calls(events))
    assert any(e["event"] == "ringer" and e["on"] for e in events)  # the stranger rang


def test_dnd_allow_list_rings_through_dnd():
    events = trace(
        "wait 1\nincoming Stranger\nincoming Bob\nwait 1\n",
        features={"dnd": True},
        dnd={"allow": [BOB]},
    )
    assert calls(events) == [("refuse", "in-1")]
    assert any(e["event"] == "ringer" and e["on"] for e in events)


def test_emergency_number_goes_out_on_the_sip_line_through_dnd_private_mode_and_the_digit_map():
    events = trace(
        "wait 1\nlift\npress 112\nwait 1\n",
        phone={"country": "DE"},
        features={"dnd": True, "private_mode": True},
        dialplan={"map": "[2-8]xxxxxx|*xx"},
        sip_accounts=PBX,
    )
    assert calls(events) == [("place", "out-1", "sip:112@pbx.example")]


def test_emergency_number_without_a_line_is_refused_at_once_in_words():
    events = trace("wait 1\nlift\npress 911\nwait 1\n")
    assert calls(events) == []
    (said,) = [e for e in events if e["event"] == "announce"]  # spoken into the handset
    assert said["language"] == "en"
    assert said["text"].startswith("Emergency calls cannot be made from this phone now")
    reorder = next(e for e in events if e["event"] == "tone" and e["tone"] == "reorder")
    assert reorder["t"] == said["t"] == 1.0  # no timeout first
    assert shown(events, "No line for emergency calls: use another phone")


def test_emergency_refusal_is_spoken_in_the_phones_language():
    events = trace("wait 1\nlift\npress 110\nwait 1\n", phone={"country": "DE"})
    (said,) = [e for e in events if e["event"] == "announce"]
    assert said["language"] == "de"
    assert said["text"].startswith("Notrufe sind von diesem Telefon gerade nicht möglich")


def test_the_far_end_clearing_opens_the_loop_of_a_line_with_a_loop_switch():
    """Issue 15's loop-current disconnect through the real supervisor, on the fake line."""
    script = "wait 1\nlift\npress 2#\nremote answer\nwait 2\nremote hangup\nwait 1\nhang\n"
    events = trace(script, ringer={"loop_pin": 25})
    line = [e for e in events if e["event"] == "line"]
    assert [(e["t"], e["loop_open_ms"]) for e in line] == [(3.0, 500)]  # as the far end hung up
    assert any(e["event"] == "tone" and e["tone"] == "dial" and e["t"] == 3.0 for e in events)
    assert not any(e["event"] == "line" for e in trace(script))  # no switch: the polarity alone
