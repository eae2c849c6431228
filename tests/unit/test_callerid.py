"""Caller ID as data and as bytes: who is presented, and the messages GR-30 and EN 300 659-3 define."""

import math
from datetime import datetime

import numpy as np
import pytest

from appliance.config.validators import ring_cadence
from appliance.line import messages, spill
from appliance.line.fsk import BELL_202, frame, modulate
from appliance.phone.callerid import (
    Absence,
    Alert,
    CallerId,
    Presentation,
    Standard,
    caller_id_for,
    number_of,
    presentation_for,
)
from appliance.phone.model import Contact
from appliance.phone.tones import PLANS, parse_cadence

WHEN = datetime(2026, 12, 3, 9, 5)  # noqa: DTZ001
BELL = Presentation(Standard.BELLCORE, Alert.AFTER_RING)


@pytest.mark.parametrize(
    ("uri", "contact_number", "expected"),
    [
        ("sip:+1 (555) 123-4567@pbx.example", "", ("15551234567", None)),
        ("tel:+4930123456;phone-context=x", "", ("4930123456", None)),
        ("sip:anonymous@anonymous.invalid", "", ("", Absence.PRIVATE)),
        ("sip:alice@pbx.example", "", ("", Absence.UNAVAILABLE)),  # a name, not a number
        ("a" * 40, "", ("", Absence.UNAVAILABLE)),  # a Jami ID has no number
        ("a" * 40, "20-01", ("2001", None)),  # the contact's directory number
    ],
)
def test_the_number_presented_is_digits_or_why_not(uri, contact_number, expected):
    assert number_of(uri, contact_number) == expected


def test_the_name_is_the_contacts_else_the_calls_never_the_uri():
    directory = (Contact("Alice", "a" * 40, number="2001"),)
    alice = caller_id_for(directory, f"ring:{'a' * 40}@ring.dht", "spoofed", BELL)
    assert (alice.name, alice.number) == ("Alice", "2001")
    stranger = caller_id_for(directory, "c" * 40, "  Dave ", BELL)
    assert (stranger.name, stranger.name_absent) == ("Dave", None)
    nobody = caller_id_for(directory, "sip:anonymous@x.invalid", "", BELL)
    assert (nobody.name, nobody.name_absent, nobody.number_absent) == ("", Absence.PRIVATE, Absence.PRIVATE)


def test_presentation_by_country_with_overrides():
    assert presentation_for("us") == Presentation(Standard.BELLCORE, Alert.AFTER_RING)
    assert presentation_for("NL") == Presentation(Standard.ETSI_DTMF, Alert.REVERSAL)
    assert presentation_for("FR") == Presentation(Standard.ETSI_FSK, Alert.RING_PULSE)
    assert presentation_for("US", "etsi-fsk") == Presentation(Standard.ETSI_FSK, Alert.REVERSAL)
    assert presentation_for("GB", "auto", "after-ring").alert is Alert.AFTER_RING
    assert presentation_for("JP") == Presentation(Standard.NTT, Alert.CAR)  # NTT's handshake
    assert presentation_for("JP", "auto", "reversal").alert is Alert.CAR  # NTT has no other alert
    assert presentation_for("US", "ntt") == Presentation(Standard.NTT, Alert.CAR)
    assert presentation_for("GB", "auto", "car").alert is Alert.REVERSAL  # CAR is NTT's only
    assert not presentation_for("GB", sdmf=True).sdmf  # SDMF is Bellcore's only


def test_ring_frequency_is_the_countrys():
    assert {c: p.ring.hz for c, p in PLANS.items()} == {
        "US": 20.0, "GB": 25.0, "DE": 25.0, "FR": 50.0, "NL": 25.0, "JP": 16.0,
    }  # fmt: skip


def test_mdmf_call_setup_byte_for_byte():
    caller = CallerId("5551234567", "Alice Example", None, None, BELL)
    msg = messages.call_setup(caller, WHEN)
    body = b"\x01\x0812030905" + b"\x02\x0a5551234567" + b"\x07\x0dAlice Example"
    assert msg[:2] == bytes((0x80, len(body)))
    assert msg[2:-1] == body
    assert sum(msg) % 256 == 0
    assert msg[-1] == (256 - sum(msg[:-1]) % 256) % 256


def test_absence_codes_and_the_name_cut_to_fifteen_printable_characters():
    caller = CallerId("", "Ève\tde\x07 la Fontaine-Dupont", Absence.PRIVATE, None, BELL)
    fields = messages.parse(messages.call_setup(caller, WHEN)).fields
    assert fields[messages.NUMBER_ABSENT] == b"P"
    assert fields[messages.NAME] == b"Eve de la Fonta"  # accents dropped, controls gone, 15 characters
    etsi = messages.parse(messages.call_setup(caller, WHEN, Standard.ETSI_FSK)).fields
    assert etsi[messages.NAME] == b"Eve de la Fontaine-Dupont"  # EN 300 659-3 allows 50
    nameless = CallerId("2001", "", None, Absence.UNAVAILABLE, BELL)
    assert messages.parse(messages.call_setup(nameless, WHEN)).fields[messages.NAME_ABSENT] == b"O"


def test_sdmf_and_message_waiting():
    sdmf = messages.sdmf_call_setup(CallerId("15551234567", "x", None, None, BELL), WHEN)
    assert sdmf[:2] == bytes((0x04, 18))
    assert sdmf[2:-1] == b"120309055551234567"  # ten digits: the number's end
    assert sum(sdmf) % 256 == 0
    assert messages.sdmf_call_setup(CallerId(presentation=BELL), WHEN)[2:-1] == b"12030905O"
    assert messages.message_waiting(on=True) == bytes(
        (0x82, 3, 0x0B, 1, 0xFF, (-(0x82 + 3 + 0x0B + 1 + 0xFF)) & 0xFF)
    )
    assert messages.message_waiting(on=False, sdmf=True)[:5] == bytes((0x06, 3, 0x6F, 0x6F, 0x6F))


def test_a_number_with_letters_is_refused_by_name():
    with pytest.raises(messages.MessageError, match="number"):
        messages.call_setup(CallerId("555-1234", "", None, None, BELL), WHEN)


def test_a_damaged_message_is_caught_by_its_checksum():
    msg = bytearray(messages.call_setup(CallerId("2001", "Bob", None, None, BELL), WHEN))
    msg[5] ^= 0x01
    with pytest.raises(messages.MessageError, match="checksum"):
        messages.parse(bytes(msg))


def test_bytes_are_framed_lsb_first_with_start_and_stop_bits():
    assert frame(b"\x80") == [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]
    assert frame(b"\x01\x80") == [0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]


def test_the_fsk_never_jumps_phase():
    bits = [0, 1] * 50 + [1] * 20 + frame(b"\xa5\x5a\x00\xff")
    out = modulate(bits, BELL_202, level=1.0)
    assert len(out) == math.ceil(len(bits) * 8000 / 1200)
    # A sine of amplitude 1 at up to 2200 Hz moves at most 2 sin(pi 2200 / 8000) between samples;
    # a phase jump at a bit boundary (each bit's tone restarted at its peak) moves further.
    assert np.max(np.abs(np.diff(out))) <= 2 * math.sin(math.pi * 2200 / 8000) + 1e-9
    restarted = np.concatenate(
        [np.cos(2 * np.pi * (1200 if b else 2200) * np.arange(7) / 8000) for b in bits]
    )
    assert np.max(np.abs(np.diff(restarted))) > 2 * math.sin(math.pi * 2200 / 8000)  # the check can fail


def test_dtmf_caller_id_keys():
    dtmf = Presentation(Standard.ETSI_DTMF, Alert.BEFORE_RING)
    assert spill.dtmf_keys(CallerId("0612345678", "", None, None, dtmf)) == "A0612345678C"
    assert spill.dtmf_keys(CallerId("", "", Absence.PRIVATE, None, dtmf)) == "D1#"
    assert spill.dtmf_keys(CallerId("", "", Absence.UNAVAILABLE, None, dtmf)) == "D3#"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ()),
        ("DR2", (800, 400, 800, 4000)),
        ("dr1", (2000, 4000)),
        ("500,500,1000,3000", (500, 500, 1000, 3000)),
    ],
)
def test_distinctive_rings_by_name_or_times(text, expected):
    assert parse_cadence(text) == expected


@pytest.mark.parametrize("text", ["dr9", "500", "500,20", "a,b"])
def test_a_bad_distinctive_ring_is_refused_in_words(text):
    assert ring_cadence(text)


def test_a_contacts_ring_in_the_config_reaches_the_phone():
    from appliance.config.load import contacts_of
    from appliance.config.schema import Config, ContactEntry

    config = Config(contacts=[ContactEntry(name="Alice", uri="a" * 40, ring="dr3")])
    assert contacts_of(config)[0].ring == (400, 200, 400, 200, 800, 4000)
