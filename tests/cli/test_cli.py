"""The ``appliance`` command as a person or a script uses it."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import appliance
from tests.net import free_port

BIN = Path(sys.executable).with_name("appliance")


def run(*args, stdin=None, env=None):
    return subprocess.run(
        [str(BIN), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def trace(script, *args):
    result = run("sim", "-", *args, stdin=script)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_version():
    result = run("--version")
    assert result.stdout.strip() == f"appliance {appliance.__version__}"


def test_config_check_ok_and_problems(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('[phone]\ncountry = "DE"\n')
    result = run("config", "check", str(good))
    assert result.returncode == 0
    bad = tmp_path / "bad.toml"
    bad.write_text('[dialplan]\ninterdigit_s = 45\nmap = "[2-"\n[phone]\ncontry = "DE"\n')
    result = run("config", "check", str(bad))
    assert result.returncode == 2
    assert result.stdout.splitlines() == [  # in schema order
        "phone.contry: unknown key (did you mean country?)",
        "dialplan.map: invalid digit map: '[2-' position 1: '[' without ']'",
        "dialplan.interdigit_s: must be between 0.5 and 30",
    ]


def test_config_check_syntax_error_names_file_and_line(tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text("[phone\ncountry = 1\n")
    result = run("config", "check", str(bad))
    assert result.returncode == 2
    assert str(bad) in result.stdout
    assert "line 1" in result.stdout


def test_config_dump_masks_secrets_and_shows_layers(tmp_path):
    system = tmp_path / "system.toml"
    system.write_text(
        '[[sip_accounts]]\nid = "pbx"\nusername = "desk"\npassword = "hunter2"\nregistrar = "pbx.lan"\n'
    )
    data = tmp_path / "data"
    data.mkdir()
    (data / "config.toml").write_text("[features]\ndnd = true\n")
    result = run("config", "dump", "--config", str(system), "--data", str(data), "--set", "phone.country=FR")
    assert result.returncode == 0, result.stderr
    assert "hunter2" not in result.stdout
    assert 'password = "********"' in result.stdout
    assert "dnd = true" in result.stdout
    assert 'country = "FR"' in result.stdout
    assert 'name = "desktop"' in result.stdout


def test_unknown_board_is_named(tmp_path):
    result = run("config", "dump", "--board", "nosuch")
    assert result.returncode == 2
    assert "no board named 'nosuch' (known: adapter-v1, deskphone-v1, desktop)" in result.stderr


SCRIPT = """
# Alice on speed dial 2; a stranger cannot ring in private mode
set contacts [{name="Alice", uri="aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", speed_dial="2"}]
wait 1
lift
press 2#
wait 1
remote answer
wait 3
hang
wait 2
set features.private_mode true
incoming Mallory
wait 1
incoming Alice
wait 5
lift
wait 1
remote hangup
wait 40
"""


def test_sim_trace():
    events = trace(SCRIPT)
    assert all(set(e) >= {"t", "event"} for e in events)
    kinds = [
        (e["event"], e.get("tone", e.get("on", e.get("action")))) for e in events if e["event"] != "display"
    ]
    assert kinds == [
        ("tone", "dial"),
        ("tone", None),
        ("call", "place"),
        ("tone", "ringback"),
        ("tone", None),
        ("call", "hangup"),
        ("call", "refuse"),  # Mallory, private mode: never rings
        ("ringer", True),  # Alice
        ("ringer", False),
        ("call", "answer"),
        ("tone", "dial"),  # Alice hung up: dial tone again
        ("tone", "reorder"),  # 15 s without dialing
        ("tone", "howler"),  # then the howler
    ]
    place = next(e for e in events if e.get("action") == "place")
    assert place["to"] == "a" * 40
    assert place["t"] == 1.0
    ringback = next(e for e in events if e.get("tone") == "ringback")
    assert ringback["t"] == pytest.approx(1.35)
    howler = next(e for e in events if e.get("tone") == "howler")
    assert howler["t"] == pytest.approx(events[-1]["t"])
    assert any(e["event"] == "display" and e["lines"][1:3] == ["Incoming call", "Alice"] for e in events)


def test_sim_runs_in_virtual_time():
    started = time.monotonic()
    events = trace("lift\nwait 3600\nhang\n")
    assert time.monotonic() - started < 5
    assert events[-1]["t"] == pytest.approx(3600.9, abs=0.01)


def test_sim_pulse_dialing_and_flash():
    events = trace(
        'set contacts [{name="Bob", uri="bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", speed_dial="3"}]\n'
        "wait 1\nlift\npulse 3\nwait 3\nremote answer\nflash\nwait 1\nflash\n"
    )
    actions = [e["action"] for e in events if e["event"] == "call"]
    assert actions == ["place", "hold", "resume"]


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("lift\npress\n", "line 2: expected 'press KEYS (0-9 * # A-D)', got 'press'"),
        ("lift\n\nwait soon\n", "line 3: expected 'wait SECONDS', got 'wait soon'"),
        ("dance\n", "line 1: unknown command 'dance'"),
        ("remote pickup\n", "line 1: expected 'remote answer|busy|fail|hangup|done|silent'"),
        ("remote answer\n", "line 1: remote answer: there is no call at the far end"),
        (
            "set dialplan.interdigit_s 99\n",
            "line 1: set dialplan.interdigit_s 99: dialplan.interdigit_s: must be between 0.5 and 30",
        ),
    ],
)
def test_bad_script_lines_name_the_line(script, message):
    result = run("sim", "-", stdin=script)
    assert result.returncode == 2
    assert message in result.stderr


def test_run_desktop_console_drives_the_phone(tmp_path):
    """The real-time appliance on the desktop board, driven from its console like a person would."""
    command = [
        str(BIN), "run", "--board", "desktop", "--data", str(tmp_path), "--console",
        "--listen", f"127.0.0.1:{free_port()}",  # never the default 8080: a running phone may hold it
        "--set", 'contacts=[{name="Alice", uri="aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", speed_dial="2"}]',
    ]  # fmt: skip
    # The with-block closes the pipes whatever happens, so nothing leaks into the next test.
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as proc:  # fmt: skip
        try:
            seen = ""
            while not seen.startswith("Desktop phone."):  # the console speaks once the phone is up
                seen = proc.stdout.readline()
                assert seen, "the phone exited before its console was up: " + proc.stderr.read()
            for line in ("lift", "press *78", "hang", "quit"):
                proc.stdin.write(line + "\n")
                proc.stdin.flush()
                time.sleep(1.2 if line == "hang" else 0.4)
            out, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, err
    assert "[tone] dial" in out
    assert "[tone] confirm" in out
    assert "[display] Jami phone | Do not disturb on" in out
    # The star code was saved to the data directory, atomically, and survives a restart.
    saved = (tmp_path / "config.toml").read_text()
    assert "dnd = true" in saved
    result = run("config", "dump", "--data", str(tmp_path))
    assert "dnd = true" in result.stdout


def test_sim_conference_and_transfer_on_hang_up():
    events = trace(
        'set contacts [{name="A", uri="aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", speed_dial="2"},'
        '{name="B", uri="bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", speed_dial="3"}]\n'
        "set features.conference_transfer true\nwait 1\nlift\npress 2#\nremote answer\n"
        "flash\npress 3#\nremote answer\nflash\nhang\n"
    )
    calls = [(e["action"], e.get("calls", e.get("call"))) for e in events if e["event"] == "call"]
    assert calls == [
        ("place", "out-1"),
        ("hold", "out-1"),
        ("place", "out-2"),
        ("conference", "out-1,out-2"),
        ("transfer", "out-1,out-2"),
    ]
    assert any(e["event"] == "display" and e["lines"][1:3] == ["Conference", "A + B"] for e in events)


def test_dht_bootstrap_option_is_validated(tmp_path):
    good = run("config", "dump", "--data", str(tmp_path))
    assert "bootstrap = []" in good.stdout  # the public Jami bootstrap by default
    proc = subprocess.run(
        [str(BIN), "run", "--data", str(tmp_path), "--dht-bootstrap", "10.0.0.5:4222,nowhere"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "jami.bootstrap: 'nowhere' must be HOST:PORT" in proc.stderr


def test_dht_node_check_follows_the_config(tmp_path):
    assert run("dht-node", "--check", "--data", str(tmp_path)).returncode == 1  # off by default
    assert run("dht-node", "--check", "--data", str(tmp_path), "--set", "jami.dht_node=true").returncode == 0
