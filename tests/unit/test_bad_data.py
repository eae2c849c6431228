"""Bad data on the data partition: the saved config.toml as far as the phone can use it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from appliance.assembly import check
from appliance.config.load import ConfigError, Layer, read_toml
from appliance.config.store import DATA_FILE
from appliance.notices import Notices
from appliance.runtime.config_store import NOTICE_IGNORED, ConfigStore

BOARD = Layer("board desktop", {"board": {"name": "desktop", "simulated": True}})


def store_for(data: Path, *layers: Layer) -> tuple[ConfigStore, Notices]:
    notices = Notices()
    return ConfigStore([Layer("defaults", {}), BOARD, *layers], data, check=check, notices=notices), notices


def notice(notices: Notices) -> str:
    (found,) = [n for n in notices.all() if n.key == NOTICE_IGNORED]
    return found.text


def test_garbage_is_kept_aside_and_the_phone_runs_on_the_other_layers(tmp_path):
    garbage = bytes(range(256)) * 3
    (tmp_path / DATA_FILE).write_bytes(garbage)
    store, notices = store_for(tmp_path)
    assert store.config.timers.reorder_s == 20.0
    assert not (tmp_path / DATA_FILE).exists()
    (aside,) = tmp_path.glob(f"{DATA_FILE}.bad-*")
    assert aside.read_bytes() == garbage  # nothing lost
    text = notice(notices)
    assert str(tmp_path / DATA_FILE) in text
    assert "not text" in text
    assert aside.name in text


def test_toml_syntax_error_is_kept_aside_too(tmp_path):
    (tmp_path / DATA_FILE).write_text("[timers\nreorder_s = ")
    store, notices = store_for(tmp_path)
    assert store.saved == {}
    assert "not valid TOML" in notice(notices)


def test_a_value_out_of_range_is_ignored_the_rest_kept_and_the_file_copied_aside(tmp_path):
    original = '[timers]\nreorder_s = 9999\nhowler_s = 30\n[phone]\ncountry = "GB"\n'
    (tmp_path / DATA_FILE).write_text(original)
    store, notices = store_for(tmp_path)
    assert store.config.timers.reorder_s == 20.0
    assert store.config.timers.howler_s == 30.0
    assert store.config.phone.country == "GB"
    (aside,) = tmp_path.glob(f"{DATA_FILE}.bad-*")
    assert aside.read_text() == original
    assert (tmp_path / DATA_FILE).read_text() == original  # untouched until a save
    text = notice(notices)
    assert "timers.reorder_s" in text
    assert "between" in text
    assert str(tmp_path / DATA_FILE) in text


def test_unknown_keys_of_a_newer_firmware_survive_a_save_by_this_one(tmp_path):
    (tmp_path / DATA_FILE).write_text("[features]\ndnd = true\nfuture = 3\n[newer]\nx = 1\n")
    store, notices = store_for(tmp_path)
    assert store.config.features.dnd is True
    assert "features.future" in notice(notices)
    assert "newer" in notice(notices)
    assert not list(tmp_path.glob(f"{DATA_FILE}.bad-*"))  # carried, so no copy is needed

    asyncio.run(store.save_feature("private_mode", True))
    written = tomllib.loads((tmp_path / DATA_FILE).read_text())
    assert written == {"features": {"dnd": True, "future": 3, "private_mode": True}, "newer": {"x": 1}}
    assert store.config.features.private_mode is True
    again, notices = store_for(tmp_path)  # the next start: still running, still told
    assert again.config.features.private_mode is True
    assert "features.future" in notice(notices)


def test_a_contact_with_a_bad_field_loses_that_field_only(tmp_path):
    (tmp_path / DATA_FILE).write_text(
        '[[contacts]]\nname = "Alice"\nuri = "sip:alice@10.0.0.1"\nspeed_dial = "2"\n'
        '[[contacts]]\nname = "Bob"\nuri = "sip:bob@10.0.0.2"\nspeed_dial = "2"\n'
    )
    store, notices = store_for(tmp_path)
    assert [(c.name, c.speed_dial) for c in store.config.contacts] == [("Alice", "2"), ("Bob", "")]
    assert "contacts[1].speed_dial" in notice(notices)


def test_a_good_file_raises_no_notice(tmp_path):
    (tmp_path / DATA_FILE).write_text("[features]\ndnd = true\n")
    store, notices = store_for(tmp_path)
    assert store.config.features.dnd is True
    assert notices.all() == []
    assert not list(tmp_path.glob(f"{DATA_FILE}.bad-*"))


def test_a_bad_system_file_still_refuses_but_names_the_file(tmp_path):
    system = Layer("/etc/appliance/config.toml", {"timers": {"reorder_s": 9999}})
    with pytest.raises(ConfigError) as caught:
        store_for(tmp_path, system)
    assert caught.value.problems[0].startswith("/etc/appliance/config.toml: timers.reorder_s")


def test_a_system_file_of_garbage_names_the_file(tmp_path):
    path = tmp_path / "system.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError) as caught:
        read_toml(path)
    assert caught.value.problems[0].startswith(f"{path}: is not text")


@pytest.mark.parametrize(
    "content",
    [
        bytes(range(256)),
        b"[timers]\nreorder_s = 9999\n",
        b"[features]\ndnd = true\nfrom_a_newer_firmware = 1\n",
    ],
    ids=["garbage", "out-of-range", "unknown-key"],
)
def test_appliance_run_starts_with_dial_tone_on_a_bad_saved_file(tmp_path, content):
    data = tmp_path / "data"
    data.mkdir()
    (data / DATA_FILE).write_bytes(content)
    appliance = Path(sys.executable).with_name("appliance")
    run = subprocess.run(
        [str(appliance), "run", "--board", "desktop", "--data", str(data), "--no-web",
         "--control", str(tmp_path / "control.sock"), "--console"],
        input="lift\nhang\nquit\n", capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    out = run.stdout + run.stderr
    assert "ready" in out
    assert "[tone] dial" in out
    assert str(data / DATA_FILE) in out  # the notice, logged, names the file
    assert "Traceback" not in out
