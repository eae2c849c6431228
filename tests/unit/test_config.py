"""Configuration: validation names the key, layers merge, saves are atomic and survive power cuts."""

import contextlib
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import tomllib

import pytest

from appliance.assembly import check
from appliance.config.load import (
    SECRET_MASK,
    ConfigError,
    Layer,
    build,
    load_layers,
    parse_assignment,
    settings_of,
    to_table,
)
from appliance.config.store import DataConfig
from appliance.durable import atomic_write
from appliance.phone.model import Feature


def problems(table):
    """Every problem the phone finds, as ``appliance config check`` does (with the driver registry)."""
    with pytest.raises(ConfigError) as info:
        check([Layer("t", table)])
    return info.value.problems


def test_empty_config_is_valid_and_gives_the_defaults():
    config = build({})
    assert config.dialplan.interdigit_s == 5.0
    settings = settings_of(config)
    assert settings.flash_min_s == pytest.approx(0.1)
    assert settings.feature_for("*78") is Feature.DND_ON
    assert settings.feature_for("*72") is Feature.FORWARD_ALWAYS


def test_the_loop_disconnect_reaches_the_phone_only_with_a_loop_switch():
    slic = {"drivers": {"ringer": "slic"}, "ringer": {"rm_pin": 23, "fr_pin": 24}}
    assert settings_of(build(slic)).loop_disconnect_ms == 0  # adapter-v1: no switch, no open
    with_switch = {**slic, "ringer": {"rm_pin": 23, "fr_pin": 24, "loop_pin": 25}}
    assert settings_of(build(with_switch)).loop_disconnect_ms == 500  # Cisco's CPC duration
    with_switch["line"] = {"loop_disconnect_ms": 0}
    assert settings_of(build(with_switch)).loop_disconnect_ms == 0


def test_ntts_handshake_runs_on_a_slic_line_with_its_codec_only():
    slic = {"drivers": {"ringer": "slic"}, "ringer": {"rm_pin": 23, "fr_pin": 24}, "phone": {"country": "JP"}}
    assert not settings_of(build(slic)).callerid_car  # no codec: no data, so a lift stays a lift
    assert settings_of(build({**slic, "audio": {"card": "audioinjectorpi"}})).callerid_car
    assert not settings_of(build({"phone": {"country": "JP"}})).callerid_car  # the fake ringer


def test_feature_sections_reach_the_phone():
    settings = settings_of(
        build(
            {
                "forwarding": {"busy": "sip:desk@pbx.example", "no_answer": "2", "no_answer_s": 15},
                "hotline": {"uri": "door-phone", "delay_s": 4},
                "screening": {"block": ["5551234"], "quiet_from": "22:30", "quiet_to": "06:45"},
                "dnd": {"allow": ["a" * 40]},
                "emergency": {"numbers": ["112", "144"], "callback_min": 10},
            }
        )
    )
    assert settings.forwarding.busy == "sip:desk@pbx.example"
    assert (settings.forwarding.no_answer, settings.forwarding.no_answer_s) == ("2", 15)
    assert (settings.hotline_uri, settings.hotline_delay_s) == ("door-phone", 4)
    screening = settings.screening
    assert (screening.block, screening.quiet_from, screening.quiet_to) == (
        ("5551234",),
        22 * 60 + 30,
        6 * 60 + 45,
    )
    assert screening.dnd_allow == ("a" * 40,)
    assert (settings.emergency.numbers, settings.emergency.callback_s) == (("112", "144"), 600)


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"dialplan": {"interdigit_s": 45}}, "dialplan.interdigit_s: must be between 0.5 and 30"),
        ({"dialplan": {"interdigit_s": "5"}}, "dialplan.interdigit_s: must be a number"),
        ({"dialplan": {"map": "[2-"}}, "dialplan.map: invalid digit map: '[2-' position 1: '[' without ']'"),
        ({"phone": {"country": "XX"}}, "phone.country: must be one of DE, FR, GB, JP, NL, US (got 'XX')"),
        ({"phone": {"contry": "GB"}}, "phone.contry: unknown key (did you mean country?)"),
        ({"hook": {"pulse_dialing": "yes"}}, "hook.pulse_dialing: must be true or false"),
        ({"hook": {"debounce_ms": 2.5}}, "hook.debounce_ms: must be a whole number"),
        (
            {"hook": {"flash_min_ms": 900, "flash_max_ms": 500}},
            "hook.flash_min_ms: must be less than hook.flash_max_ms",
        ),
        ({"hook": {"debounce_ms": 30}}, "hook.debounce_ms: must be less than hook.pulse_min_ms"),
        ({"contacts": [{"name": "A", "uri": "not a uri!"}]}, "contacts[0].uri: must be a 40-hex Jami ID"),
        (
            {
                "contacts": [
                    {"name": "A", "uri": "a" * 40, "speed_dial": "2"},
                    {"name": "B", "uri": "b" * 40, "speed_dial": "2"},
                ]
            },
            "contacts[1].speed_dial: 2 is already used by A",
        ),
        ({"star_codes": {"*99": "launch"}}, "star_codes: *99: unknown feature 'launch'"),
        ({"star_codes": {"*123": "dnd_on"}}, "star_codes.*123: the dial plan never completes this code"),
        ({"web": {"listen": "nowhere"}}, "web.listen: must be HOST:PORT"),
        ({"dialplan": {"digits_account": "pbx"}}, "dialplan.digits_account: no SIP account named 'pbx'"),
        ({"drivers": {"hook": "gpioo"}}, "drivers.hook: must be one of fake, gpio (got 'gpioo')"),
        ({"phone": "GB"}, "phone: must be a table"),
        ({"forwarding": {"always": "not a uri!"}}, "forwarding.always: must be a speed dial or number"),
        ({"forwarding": {"no_answer_s": 2}}, "forwarding.no_answer_s: must be between 5 and 120"),
        ({"hotline": {"uri": "sip:"}}, "hotline.uri: must be a speed dial or number"),
        ({"hotline": {"delay_s": 60}}, "hotline.delay_s: must be between 0 and 30"),
        ({"screening": {"quiet_from": "25:00", "quiet_to": "07:00"}}, "screening.quiet_from: must be HH:MM"),
        ({"screening": {"quiet_from": "22:00"}}, "screening.quiet_to: quiet hours need both"),
        (
            {"screening": {"quiet_allow": "friends"}},
            "screening.quiet_allow: must be one of contacts, allow_list",
        ),
        ({"screening": {"block": ["okay", "no spaces!"]}}, "screening.block: 'no spaces!' must be a number"),
        ({"dnd": {"allow": [""]}}, "dnd.allow: '' must be a number"),
        ({"emergency": {"numbers": ["11a"]}}, "emergency.numbers: '11a' must be 2 to 6 digits"),
        ({"emergency": {"account": "pbx"}}, "emergency.account: no SIP account named 'pbx'"),
        (
            {"audio": {"noise_reduction": "low"}},
            "audio.noise_reduction: must be one of off, high (got 'low')",
        ),
    ],
)
def test_each_problem_names_its_key(table, problem):
    found = problems(table)
    assert any(p.startswith(problem) for p in found), found


def test_every_problem_is_reported_at_once():
    found = problems({"dialplan": {"interdigit_s": 0, "first_digit_s": 0}, "ringer": {"volume": 101}})
    assert len(found) == 3


def test_layers_merge_tables_and_replace_lists():
    loaded = load_layers(
        [
            Layer("defaults", {}),
            Layer("board", {"hook": {"debounce_ms": 5}, "contacts": [{"name": "A", "uri": "a" * 40}]}),
            Layer("system", {"hook": {"flash_max_ms": 800}}),
            Layer("data", {"contacts": [{"name": "B", "uri": "b" * 40}]}),
            Layer("--set", parse_assignment("phone.country=GB")),
        ]
    )
    config = loaded.config
    assert (config.hook.debounce_ms, config.hook.flash_max_ms) == (5, 800)
    assert [c.name for c in config.contacts] == ["B"]
    assert config.phone.country == "GB"


@pytest.mark.parametrize(
    ("text", "table"),
    [
        ("a.b=4", {"a": {"b": 4}}),
        ("a=true", {"a": True}),
        ('a="x y"', {"a": "x y"}),
        ("a=hello world", {"a": "hello world"}),
        ("a=[1, 2]", {"a": [1, 2]}),
    ],
)
def test_set_assignments(text, table):
    assert parse_assignment(text) == table


def test_bad_set_assignment():
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_assignment("novalue")


def test_secrets_are_masked_in_dumps():
    config = build(
        {
            "sip_accounts": [{"id": "pbx", "username": "desk", "password": "hunter2"}],
        }
    )
    dumped = to_table(config, mask=True)
    assert dumped["sip_accounts"][0]["password"] == SECRET_MASK
    assert "hunter2" not in repr(dumped)
    assert to_table(config)["sip_accounts"][0]["password"] == "hunter2"


def test_save_validates_first_and_keeps_the_old_file(tmp_path):
    store = DataConfig(tmp_path)
    store.save({"features": {"dnd": True}}, build)
    before = store.path.read_bytes()
    with pytest.raises(ConfigError, match=r"dialplan\.interdigit_s"):
        store.save({"dialplan": {"interdigit_s": 99}}, build)
    assert store.path.read_bytes() == before
    assert tomllib.loads(before.decode()) == {"features": {"dnd": True}}


def test_saved_file_is_private_and_leaves_no_temp_files(tmp_path):
    store = DataConfig(tmp_path)
    store.save({"sip_accounts": [{"id": "pbx", "password": "x"}]}, build)
    assert store.path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]


def test_failed_write_removes_the_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "config.toml"
    atomic_write(target, b"a = 1\n")

    def boom(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="No space"):
        atomic_write(target, b"a = 2\n")
    assert target.read_bytes() == b"a = 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]


# One warm process forks a saver per cut (a fork costs ~1 ms, a fresh interpreter that imports the
# config code ~90 ms): each saver saves in a loop until it is SIGKILLed, as a power cut would stop it.
SAVERS = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from appliance.config.load import build
    from appliance.config.store import DataConfig

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # killed savers are reaped at once, no zombies
    for line in sys.stdin:
        i = int(line)
        pid = os.fork()
        if pid == 0:
            store = DataConfig(Path(sys.argv[1]))
            os.write(1, f"{os.getpid()}\\n".encode())
            while True:
                i += 1
                contacts = [{"name": f"C{i}-{n}", "uri": "a" * 40, "number": str(1000 + n)} for n in range(40)]
                store.save({"contacts": contacts, "features": {"dnd": i % 2 == 0}}, build)
    """
)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_power_cut_during_saves_always_leaves_a_valid_config(tmp_path):
    """SIGKILL a process that saves in a loop, at random moments: the file is always whole and valid."""
    rng = random.Random(1)
    cuts = int(os.environ.get("POWER_CUTS", "200"))
    mid_write = 0
    savers = subprocess.Popen(
        [sys.executable, "-c", SAVERS, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    saver = 0
    try:
        for cut in range(cuts):
            savers.stdin.write(f"{cut * 1_000_000}\n")
            savers.stdin.flush()
            saver = int(savers.stdout.readline())
            time.sleep(rng.uniform(0.0, 0.03))
            os.kill(saver, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while not _gone(saver):
                assert time.monotonic() < deadline, f"saver {saver} outlived SIGKILL"
                time.sleep(0.001)
            mid_write += any(tmp_path.glob(".config.toml.*.tmp"))
            path = tmp_path / "config.toml"
            if path.exists():
                config = build(tomllib.loads(path.read_text()))
                assert len(config.contacts) == 40
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(saver, signal.SIGKILL)
        savers.kill()
        savers.wait()
        savers.stdin.close()
        savers.stdout.close()
    # Enough cuts landed in the middle of a write (a temp file was left) to make the point.
    assert mid_write >= cuts // 40, mid_write


KILL_AT = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from appliance.config.load import build
    from appliance.config.store import DataConfig

    stage = sys.argv[2]
    real = {"fsync": os.fsync, "replace": os.replace}
    calls = {"fsync": 0}

    def fsync(fd):
        real["fsync"](fd)
        calls["fsync"] += 1
        if (stage, calls["fsync"]) in (("after-file-fsync", 1), ("after-dir-fsync", 2)):
            os._exit(9)

    def replace(a, b):
        if stage == "before-rename":
            os._exit(9)
        real["replace"](a, b)
        if stage == "after-rename":
            os._exit(9)

    os.fsync, os.replace = fsync, replace
    DataConfig(Path(sys.argv[1])).save({"phone": {"country": "DE"}}, build)
    """
)


@pytest.mark.parametrize("stage", ["after-file-fsync", "before-rename", "after-rename", "after-dir-fsync"])
def test_power_cut_at_each_stage_of_a_save(tmp_path, stage):
    """Die at each step of the save: the config is the old one or the new one, never anything else."""
    DataConfig(tmp_path).save({"phone": {"country": "GB"}}, build)
    result = subprocess.run([sys.executable, "-c", KILL_AT, str(tmp_path), stage], capture_output=True)
    assert result.returncode == 9
    country = build(tomllib.loads((tmp_path / "config.toml").read_text())).phone.country
    assert country == ("GB" if stage in ("after-file-fsync", "before-rename") else "DE")
    DataConfig(tmp_path).save({"ringer": {"volume": 10}}, build)  # the next save cleans up after the cut
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"drivers": {"hook": "gpio"}}, "hook.pin: the gpio hook driver needs a GPIO number"),
        ({"drivers": {"keypad": "matrix"}}, "keypad.rows: the matrix keypad needs row and column GPIOs"),
        (
            {"drivers": {"keypad": "matrix"}, "keypad": {"rows": [1, 2, 3, 4], "cols": [5, 6, 7]}},
            "keypad.layout: 4x4 keys for 4 rows and 3 columns",
        ),
        ({"keypad": {"layout": ["123", "45"]}}, "keypad.layout: every row must have the same number of keys"),
        ({"keypad": {"layout": ["12X"]}}, "keypad.layout: 'X' is not a phone key"),
        ({"keypad": {"rows": [5, 5]}}, "keypad.rows: lists a GPIO twice"),
        (
            {"drivers": {"ringer": "slic"}, "ringer": {"rm_pin": 5}},
            "ringer.rm_pin: the SLIC ringer needs rm_pin and fr_pin",
        ),
        (
            {"drivers": {"hook": "gpio"}, "hook": {"pin": 17}, "ringer": {"pin": 17}},
            "ringer.pin: GPIO 17 is already used by hook.pin",
        ),
        (
            {"drivers": {"ringer": "bell"}, "ringer": {"pin": 18, "loop_pin": 25}},
            "ringer.loop_pin: a bell ringer has no line loop to open",
        ),
        (
            {"drivers": {"ringer": "slic"}, "ringer": {"rm_pin": 23, "fr_pin": 24, "loop_pin": 24}},
            "ringer.loop_pin: GPIO 24 is already used by ringer.fr_pin",
        ),
        ({"ringer": {"loop_pin": 64}}, "ringer.loop_pin: must be between -1 and 63"),
        ({"line": {"loop_disconnect_ms": 50}}, "line.loop_disconnect_ms: must be 0 or between 100 and 2000"),
        (
            {"line": {"loop_disconnect_ms": 2500}},
            "line.loop_disconnect_ms: must be 0 or between 100 and 2000",
        ),
        ({"display": {"rotate": 5}}, "display.rotate: must be one of 0, 1, 2, 3"),
        ({"hook": {"switch": "sometimes"}}, "hook.switch: must be one of normally_open, normally_closed"),
    ],
)
def test_hardware_problems_name_their_key(table, problem):
    found = problems(table)
    assert any(p.startswith(problem) for p in found), found
