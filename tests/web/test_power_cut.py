"""A power cut in the middle of a save from the web page leaves a whole, valid configuration.

The phone is ``appliance run`` on the desktop board; a client saves settings and contacts as fast
as it can while the process is SIGKILLed (no clean-up runs: the nearest thing to pulling the plug)
at a random moment. After every cut the data layer must load and validate, and hold either the
state before or after each save it had acknowledged.
"""

import base64
import json
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from appliance.config.load import Layer, load_layers, read_toml
from tests.net import free_port, wait_listening

BIN = Path(sys.executable).with_name("appliance")
PASSWORD = "pull the plug"
AUTH = "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
ROUNDS = 12


def request(url: str, method: str, body: dict) -> int:
    req = urllib.request.Request(
        url, method=method, data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": AUTH},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def hammer(port: int, prefix: str, stop: threading.Event, rng: random.Random, saved: list) -> None:
    """Save settings and add contacts as fast as the phone answers, until the plug is pulled."""
    i = 0
    while not stop.is_set():
        i += 1
        try:
            if i % 2:
                body = {"phone": {"country": rng.choice(["US", "DE", "FR", "GB"])},
                        "timers": {"reorder_s": float(rng.randint(5, 60))}}  # fmt: skip
                saved.append(("settings", request(f"http://127.0.0.1:{port}/api/v1/settings", "PUT", body)))
            else:
                body = {"name": f"{prefix}-{i}", "uri": "sip:someone@10.0.0.9"}
                saved.append(
                    (body["name"], request(f"http://127.0.0.1:{port}/api/v1/contacts", "POST", body))
                )
        except OSError:
            return  # the plug was pulled


def test_power_cuts_during_web_saves_leave_a_valid_config(tmp_path):
    data = tmp_path / "data"
    password = tmp_path / "pw"
    password.write_text(PASSWORD)
    rng = random.Random(7)
    saved: list[tuple[str, int]] = []  # (what, status) of every save the phone answered
    for round_ in range(ROUNDS):
        port = free_port()
        proc = subprocess.Popen(
            [str(BIN), "run", "--board", "desktop", "--data", str(data), "--listen", f"127.0.0.1:{port}",
             "--admin-password-file", str(password)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_listening(port, proc)
            stop = threading.Event()

            worker = threading.Thread(target=hammer, args=(port, f"R{round_}", stop, rng, saved))
            worker.start()
            time.sleep(rng.uniform(0.2, 0.8))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            stop.set()
            worker.join()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        table = read_toml(data / "config.toml")
        config = load_layers([Layer("defaults", {}), Layer("data", table)]).config
        assert config.phone.country in ("US", "DE", "FR", "GB")
        names = {c.name for c in config.contacts}
        assert {what for what, status in saved if status == 201} <= names, "an acknowledged save was lost"
    acknowledged = sum(status in (200, 201) for _, status in saved)
    print(f"{ROUNDS} cuts, {acknowledged} saves acknowledged, config valid after every cut")
    assert acknowledged > ROUNDS
