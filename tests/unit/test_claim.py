"""The setup code: single use, replaced after 5 wrong tries, kept claimed across restarts."""

from __future__ import annotations

import itertools

from appliance.runtime.claim import MAX_WRONG, Claim, new_code


def codes():
    numbers = itertools.count(111111, 111111)
    return lambda: f"{next(numbers):06d}"


def test_a_new_phone_shows_a_code_that_is_spent_once(tmp_path):
    seen: list[str] = []
    claim = Claim(tmp_path, codes())
    claim.on_change(seen.append)
    assert not claim.claimed and claim.code == "111111"
    assert not claim.check("000000") and claim.wrong == 1
    assert claim.check("111111")
    assert not claim.check("111111")  # single use
    claim.mark_claimed()
    assert seen == ["", ""] and (tmp_path / "claimed").exists()
    again = Claim(tmp_path, codes())  # the phone restarts: still claimed, no code
    assert again.claimed and again.code == "" and not again.check("")


def test_the_fifth_wrong_try_replaces_the_code(tmp_path):
    claim = Claim(tmp_path, codes())
    for _ in range(MAX_WRONG - 1):
        assert not claim.check("999999")
    assert claim.code == "111111"
    assert not claim.check("999999")
    assert claim.code == "222222" and claim.wrong == 0
    assert not claim.check("111111")  # the old one is worth nothing now
    assert claim.check("222222")


def test_a_lost_password_makes_the_phone_claimable_again(tmp_path):
    claim = Claim(tmp_path, codes())
    claim.mark_claimed()
    claim.mark_unclaimed()
    assert not claim.claimed and claim.code == "222222" and not (tmp_path / "claimed").exists()
    claim.mark_unclaimed()  # already showing a code: it stays
    assert claim.code == "222222"


def test_codes_are_six_digits():
    assert all(len(c) == 6 and c.isdigit() for c in (new_code() for _ in range(200)))
