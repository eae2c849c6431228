"""The setup code: single use, replaced after 5 wrong tries, kept claimed across restarts."""

from __future__ import annotations

import itertools

from appliance.runtime import claim as claim_module
from appliance.runtime.claim import MAX_WRONG, Claim, new_code, page_address


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


def test_the_page_address_drops_only_the_schemes_own_port(monkeypatch):
    monkeypatch.setattr(claim_module, "_lan_address", lambda: "192.168.1.20")
    assert page_address("0.0.0.0:80") == "192.168.1.20"
    assert page_address("[::]:443", https=True) == "192.168.1.20"  # the image: HTTPS, 80 redirects
    assert page_address("[::]:443") == "192.168.1.20:443"
    assert page_address("0.0.0.0:80", https=True) == "192.168.1.20:80"
    assert page_address("127.0.0.1:8080") == "127.0.0.1:8080"
    assert page_address("[fd00::5]:8443", https=True) == "[fd00::5]:8443"
    monkeypatch.setattr(claim_module, "_lan_address", lambda: "")  # no network yet: the mDNS name
    monkeypatch.setattr(claim_module.socket, "gethostname", lambda: "kitchen-phone")
    assert page_address("[::]:443", https=True) == "kitchen-phone.local"
