"""The trust decisions, as tables: both telephony adapters (the daemon's and the fake) apply these."""

import pytest

from appliance.phone.trust import (
    MAX_VCARD,
    Admission,
    PeerIdentity,
    TrustRequest,
    Verdict,
    accept_identity,
    admit_call,
    bounded_vcard,
    pin,
    take_request,
)

ALICE, MALLORY = "a" * 40, "m" * 40
PINNED = {ALICE: PeerIdentity(ALICE, "11" * 20, 100.0)}
FLAGGED = {ALICE: PeerIdentity(ALICE, "11" * 20, 100.0, seen="22" * 20)}


@pytest.mark.parametrize(
    ("uri", "blocked", "jami", "admission"),
    [
        (ALICE, set(), True, Admission.CHECK_CERTIFICATE),
        (ALICE, {ALICE}, True, Admission.REFUSE),
        ("sip:bob@pbx", set(), False, Admission.ANNOUNCE),
        ("sip:bob@pbx", {"sip:bob@pbx"}, False, Admission.REFUSE),
        (MALLORY, {ALICE}, True, Admission.CHECK_CERTIFICATE),
    ],
)
def test_which_calls_reach_the_phone(uri, blocked, jami, admission):
    assert admit_call(uri, blocked=blocked, jami=jami) is admission


@pytest.mark.parametrize(
    ("pins", "presented", "verdict", "stored"),
    [
        ({}, "AB" * 20, Verdict.NEW, PeerIdentity(ALICE, "ab" * 20, 200.0)),  # first contact, lower case
        (PINNED, "11" * 20, Verdict.SAME, None),
        (PINNED, "22" * 20, Verdict.CHANGED, PeerIdentity(ALICE, "11" * 20, 100.0, seen="22" * 20)),
        (FLAGGED, "22" * 20, Verdict.CHANGED, None),  # already flagged: nothing to store again
        (FLAGGED, "33" * 20, Verdict.CHANGED, PeerIdentity(ALICE, "11" * 20, 100.0, seen="33" * 20)),
        (FLAGGED, "11" * 20, Verdict.SAME, None),  # the pinned one again
    ],
)
def test_certificates_are_pinned_at_first_contact_and_changes_flagged(pins, presented, verdict, stored):
    assert pin(pins, ALICE, presented, now=200.0) == (verdict, stored)


def test_a_person_accepts_a_changed_certificate():
    assert accept_identity(FLAGGED, ALICE, now=300.0) == PeerIdentity(ALICE, "22" * 20, 300.0)
    with pytest.raises(KeyError):
        accept_identity(PINNED, ALICE, now=300.0)  # nothing changed
    with pytest.raises(KeyError):
        accept_identity({}, MALLORY, now=300.0)


def test_a_request_flood_keeps_the_newest_and_names_the_dropped():
    pending: dict[str, TrustRequest] = {}
    dropped_all = []
    for i in range(40):
        pending, dropped = take_request(pending, TrustRequest(f"{i:040x}", float(i)), limit=32)
        dropped_all += dropped
    assert len(pending) == 32
    assert [r.received_at for r in dropped_all] == [float(i) for i in range(8)]
    again, dropped = take_request(pending, TrustRequest(f"{39:040x}", 99.0, b"FN:x\r\n"))
    assert len(again) == 32 and dropped == []  # the same sender again replaces its request
    assert again[f"{39:040x}"].received_at == 99.0


def test_vcards_lose_their_photo_and_are_bounded():
    card = (
        b"BEGIN:VCARD\r\nFN:Alice\r\nPHOTO;ENCODING=b:"
        + b"x" * 1000
        + b"\r\n "
        + b"y" * 1000
        + b"\r\nEND:VCARD\r\n"
    )
    assert bounded_vcard(card) == b"BEGIN:VCARD\r\nFN:Alice\r\nEND:VCARD\r\n"
    assert len(bounded_vcard(b"NOTE:" + b"z" * 100_000)) == MAX_VCARD
    stored, _ = take_request({}, TrustRequest(ALICE, 1.0, card))
    assert stored[ALICE].vcard == b"BEGIN:VCARD\r\nFN:Alice\r\nEND:VCARD\r\n"
