"""The answering machine's message box: files on the data partition, atomic, bounded."""

import json

import pytest

from appliance.ports import Recording
from appliance.runtime.messages import MessageBox

ALICE = "a" * 40


def rec(size=1000, suffix=".wav"):
    return Recording(b"RIFF" + bytes(size - 4), suffix, size / 16000)


def test_a_message_is_its_audio_and_its_description(tmp_path):
    box = MessageBox(tmp_path)
    message = box.add(rec(), ALICE, "Alice", "jami")
    assert (tmp_path / f"{message.id}.wav").read_bytes()[:4] == b"RIFF"
    described = json.loads((tmp_path / f"{message.id}.json").read_text())
    assert described["caller_name"] == "Alice" and described["account"] == "jami" and not described["heard"]
    again = MessageBox(tmp_path)  # after a restart (a power cut after the save: the same)
    assert again.all() == (message,)
    assert again.unheard() == 1


def test_heard_survives_a_restart_and_delete_removes_both_files(tmp_path):
    box = MessageBox(tmp_path)
    message = box.add(rec(), ALICE, "Alice", "jami")
    box.mark_heard(message.id)
    assert MessageBox(tmp_path).all()[0].heard
    assert box.delete(message.id)
    assert list(tmp_path.iterdir()) == []
    assert not box.delete(message.id)


def test_a_power_cut_mid_save_leaves_no_half_message(tmp_path):
    box = MessageBox(tmp_path)
    kept = box.add(rec(), ALICE, "Alice", "jami")
    (tmp_path / "20261203T100000-abcdef.flac").write_bytes(b"fLaC")  # audio written, never described
    (tmp_path / ".x.json.123.ab.tmp").write_bytes(b"{")  # a write's temporary file
    (tmp_path / "20261203T100001-abcdef.json").write_text("{not json")
    (tmp_path / "20261203T100002-abcdef.json").write_text(
        json.dumps({**json.loads((tmp_path / f"{kept.id}.json").read_text()), "id": "20261203T100002-abcdef"})
    )  # described, no audio
    assert MessageBox(tmp_path).all() == (kept,)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"{kept.id}.wav", f"{kept.id}.json"])


def test_bounded_by_count_oldest_heard_first(tmp_path):
    box = MessageBox(tmp_path, max_messages=3)
    seen = []
    box.on_change(lambda action, m: seen.append((action, m.caller_name)))
    first = box.add(rec(), ALICE, "one", "jami")
    second = box.add(rec(), ALICE, "two", "jami")
    box.add(rec(), ALICE, "three", "jami")
    box.mark_heard(second.id)
    box.add(rec(), ALICE, "four", "jami")
    assert [m.caller_name for m in box.all()] == ["one", "three", "four"]  # "two" was heard: it went
    box.add(rec(), ALICE, "five", "jami")
    assert [m.caller_name for m in box.all()] == ["three", "four", "five"]  # then the oldest
    assert ("deleted", "two") in seen and ("deleted", "one") in seen
    assert box.get(first.id) is None


def test_bounded_by_size_but_the_newest_is_kept(tmp_path):
    box = MessageBox(tmp_path, max_bytes=5000)
    box.add(rec(2000), ALICE, "one", "jami")
    box.add(rec(2000), ALICE, "two", "jami")
    box.add(rec(2000), ALICE, "three", "jami")
    assert [m.caller_name for m in box.all()] == ["two", "three"]
    box.add(rec(9000), ALICE, "big", "jami")
    assert [m.caller_name for m in box.all()] == ["big"]  # over the bound alone, still kept


def test_in_memory_for_the_simulator():
    box = MessageBox(None)
    message = box.add(rec(), ALICE, "Alice", "jami")
    assert box.audio(message.id)[1] == ".wav"
    assert box.path(message.id) is None


def test_only_audio_files_it_can_play():
    with pytest.raises(ValueError, match=r"'\.mp3' recording"):
        MessageBox(None).add(rec(suffix=".mp3"), ALICE, "Alice", "jami")
