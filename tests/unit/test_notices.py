"""Notices: what the owner must be told, by a stable key, until its cause is gone."""

from __future__ import annotations

import pytest

from appliance.notices import MAX_NOTICES, Notices, NoticeStaysError, Severity


def test_a_notice_stays_until_cleared_and_a_repeat_replaces_it() -> None:
    notices = Notices()
    changes: list[int] = []
    notices.on_change(lambda: changes.append(len(notices.all())))
    notices.raise_("disk", "The data partition is full")
    notices.raise_("disk", "The data partition is full")  # the same words: no change
    assert [n.text for n in notices.all()] == ["The data partition is full"]
    first = notices.all()[0].since
    notices.raise_("disk", "The data partition is still full", Severity.ERROR)
    (notice,) = notices.all()
    assert (notice.text, notice.severity, notice.since) == (
        "The data partition is still full",
        Severity.ERROR,
        first,
    )
    assert "disk" in notices
    notices.clear("disk")
    notices.clear("disk")  # clearing what is not there tells nobody
    assert notices.all() == [] and changes == [1, 1, 0]


def test_notices_are_bounded_oldest_first() -> None:
    notices = Notices()
    for i in range(MAX_NOTICES + 5):
        notices.raise_(f"k{i}", f"fault {i}")
    keys = [n.key for n in notices.all()]
    assert len(keys) == MAX_NOTICES and keys[0] == "k5" and keys[-1] == f"k{MAX_NOTICES + 4}"


def test_a_failing_listener_does_not_undo_the_notice() -> None:
    notices = Notices()

    def broken() -> None:
        raise RuntimeError("listener")

    notices.on_change(broken)
    notices.raise_("x", "something")
    assert [n.key for n in notices.all()] == ["x"]


def test_the_owner_dismisses_a_warning_but_an_error_stays_until_fixed() -> None:
    notices = Notices()
    changes: list[int] = []
    notices.on_change(lambda: changes.append(len(notices.all())))
    notices.raise_("jami.daemon", "The Jami daemon stopped and was restarted", Severity.WARNING)
    notices.raise_("storage-full", "The data partition is full", Severity.ERROR)
    assert notices.dismiss("jami.daemon") is True
    assert [n.key for n in notices.all()] == ["storage-full"] and changes == [1, 2, 1]
    assert notices.dismiss("jami.daemon") is False  # already gone: nothing to tell
    with pytest.raises(NoticeStaysError):
        notices.dismiss("storage-full")
    assert "storage-full" in notices and changes == [1, 2, 1]
    notices.raise_("jami.daemon", "The Jami daemon stopped and was restarted twice")  # a new fault: back
    assert "jami.daemon" in notices
