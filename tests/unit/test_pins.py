"""Certificates pinned at first contact: the store the Jami adapter keeps."""

import json

import pytest

from appliance.drivers.jami.pins import CertificatePins
from appliance.phone.trust import Verdict

ALICE = "a" * 40


def test_first_contact_pins_then_a_change_is_flagged_until_accepted(tmp_path):
    pins = CertificatePins(tmp_path / "pins.json")
    assert pins.check(ALICE, "AB" * 20) is Verdict.NEW
    assert pins.check(ALICE, "ab" * 20) is Verdict.SAME  # fingerprints compare without case
    assert pins.check(ALICE, "cd" * 20) is Verdict.CHANGED
    assert pins.check(ALICE, "cd" * 20) is Verdict.CHANGED  # still flagged: never taken silently
    flagged = CertificatePins(tmp_path / "pins.json").all()[ALICE]  # and it survives a restart
    assert (flagged.fingerprint, flagged.seen, flagged.changed) == ("ab" * 20, "cd" * 20, True)
    accepted = pins.accept(ALICE)
    assert (accepted.fingerprint, accepted.changed) == ("cd" * 20, False)
    assert pins.check(ALICE, "cd" * 20) is Verdict.SAME


def test_a_damaged_pin_file_is_kept_aside_not_trusted_away(tmp_path):
    path = tmp_path / "pins.json"
    path.write_text("{not json")
    pins = CertificatePins(path)
    assert pins.all() == {}
    assert (tmp_path / "pins.damaged").read_text() == "{not json"
    pins.check(ALICE, "ab" * 20)
    assert json.loads(path.read_text())[ALICE]["fingerprint"] == "ab" * 20


def test_accepting_without_a_change_is_refused(tmp_path):
    pins = CertificatePins(tmp_path / "pins.json")
    pins.check(ALICE, "ab" * 20)
    with pytest.raises(KeyError):
        pins.accept(ALICE)  # nobody presented another certificate
