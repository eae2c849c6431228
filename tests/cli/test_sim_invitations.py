"""Group invitations in simulator scripts: ``invite SENDER`` plays one arriving."""

import pytest

from .test_cli import trace


def declined(script: str) -> list[tuple[float, str]]:
    return [(e["t"], e["conversation"]) for e in trace(script) if e.get("action") == "decline-invitation"]


def test_private_mode_declines_an_invitation_pending_and_each_new_one():
    got = declined("invite Erin\nwait 1\nset features.private_mode true\nwait 1\ninvite Mallory\nwait 1\n")
    assert [t for t, _ in got] == [pytest.approx(1.0), pytest.approx(2.0)]
    assert len({c for _, c in got}) == 2  # two conversations, each declined once


def test_without_private_mode_invitations_are_left_alone():
    assert declined("invite Erin\nwait 1\ninvite Mallory\nwait 1\n") == []
