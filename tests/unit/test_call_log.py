"""The call log on a damaged data partition: a line cut by a power loss, lines that are not calls."""

from __future__ import annotations

import json

from appliance.notices import Notices
from appliance.phone import effects as fx
from appliance.phone.events import FeatureNotSaved, KeyPressed, NoticesChanged
from appliance.phone.model import Mode, Phone
from appliance.phone.screens import screen
from appliance.runtime.call_log import NOTICE_SKIPPED, CallLog
from tests.unit.harness import PhoneBench

CALL = fx.LogCall("outgoing", "a" * 40, "Alice", "hung up", 12.0)


def test_a_cut_last_line_is_removed_so_the_next_call_survives_a_restart(tmp_path):
    path = tmp_path / "calls.jsonl"
    log = CallLog(path)
    log.add(CALL, at=1.0)
    with path.open("ab") as handle:  # the power went while the second line was written
        handle.write(b'{"time": 2.0, "kind": "incom')
    log = CallLog(path)
    assert len(log) == 1
    assert path.read_bytes().endswith(b"\n")
    log.add(CALL, at=3.0)
    again = CallLog(path)
    assert [e["time"] for e in again.entries()] == [3.0, 1.0]
    assert again.skipped == 0


def test_lines_that_are_not_calls_are_skipped_counted_and_told_once(tmp_path):
    path = tmp_path / "calls.jsonl"
    good = {"time": 1.0, "kind": "missed", "uri": "b" * 40, "name": "Bob", "reason": "", "duration_s": 0}
    lines = [good, [1, 2], {"time": "yesterday", "kind": "missed", "uri": "x"}, 7, {"kind": "in"}, "x"]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines) + "not json\n")
    notices = Notices()
    log = CallLog(path, notices=notices)
    assert log.entries() == [good]
    assert log.skipped == 6
    (notice,) = notices.all()
    assert notice.key == NOTICE_SKIPPED
    assert "6 lines" in notice.text
    assert str(path) in notice.text


def test_a_star_code_whose_save_failed_is_undone_with_reorder():
    bench = PhoneBench()
    bench.lift()
    out = []
    for key in "*78":
        out += bench.send(KeyPressed(key))
    (save,) = [e for e in out if isinstance(e, fx.SaveFeature)]
    assert save == fx.SaveFeature("dnd", True)
    assert save.was is False
    assert bench.phone.dnd
    bench.send(FeatureNotSaved("dnd", save.was, "storage full"))
    assert bench.phone.dnd is False
    assert bench.phone.mode is Mode.REORDER
    assert bench.phone.notice == "Not saved: storage full"
    assert bench.tone == "reorder"


def test_the_idle_screen_counts_notices_and_is_unchanged_without():
    phone = Phone()
    plain = screen(phone, 0.0)
    assert "notice" not in " ".join(plain.lines)
    bench = PhoneBench()
    bench.send(NoticesChanged(2))
    lines = screen(bench.phone, 0.0).lines
    assert lines[2] == "2 notices: see page"


def test_the_log_is_bounded_in_memory_too_and_on_disk_the_same(tmp_path):
    """The simulator and a phone without a data partition keep calls in memory only: the same bound
    holds there (a soak of 10,000 cycles grew 1.25 MB per 1000 cycles before it did)."""
    in_memory, on_disk = CallLog(None, max_bytes=4000), CallLog(tmp_path / "calls.jsonl", max_bytes=4000)
    line = len(json.dumps(in_memory.add(CALL, at=0.0)).encode()) + 1
    on_disk.add(CALL, at=0.0)
    for i in range(1, 1000):
        in_memory.add(CALL, at=float(i))
        on_disk.add(CALL, at=float(i))
    assert len(in_memory) <= 4000 // line
    assert [e["time"] for e in in_memory.entries()] == [e["time"] for e in on_disk.entries()]
    assert in_memory.entries()[0]["time"] == 999.0  # newest kept, oldest gone
