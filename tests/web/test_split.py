"""The device's layout: the phone (`appliance run --no-web`) and the web page (`appliance web`) as
two processes joined by the control socket; the page survives the phone restarting."""

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.net import free_port, stop, wait_listening

BIN = Path(sys.executable).with_name("appliance")
PASSWORD = "two processes"


def call(url: str, method: str = "GET", body: dict | None = None) -> tuple[int, dict]:
    import base64

    headers = {"Authorization": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data, headers, method=method), timeout=10
        ) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def stop_all(procs) -> None:
    """Stop every process by its PID: SIGTERM, SIGKILL after 10 s (also when the test failed)."""
    for proc in procs:
        stop(proc)


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_web_page_as_its_own_process(tmp_path):
    sock = tmp_path / "run" / "control.sock"
    (tmp_path / "pw").write_text(PASSWORD)
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/v1"
    phone_cmd = [str(BIN), "run", "--board", "desktop", "--data", str(tmp_path / "phone"), "--no-web",
                 "--control", str(sock)]  # fmt: skip
    web_cmd = [str(BIN), "web", "--board", "desktop", "--data", str(tmp_path / "web"), "--control", str(sock),
               "--listen", f"127.0.0.1:{port}", "--admin-password-file", str(tmp_path / "pw")]  # fmt: skip
    procs = [subprocess.Popen(phone_cmd, stdin=subprocess.DEVNULL)]
    try:
        wait_for(sock.exists)
        assert sock.stat().st_mode & 0o777 == 0o660
        procs.append(subprocess.Popen(web_cmd, stdin=subprocess.DEVNULL))
        wait_listening(port, procs[-1])
        status, answer = call(f"{url}/status")
        assert status == 200 and answer["board"] == "desktop" and answer["simulated"]
        status, bob = call(
            f"{url}/contacts", "POST", {"name": "Bob", "uri": "sip:bob@10.0.0.2", "speed_dial": "2"}
        )
        assert status == 201
        status, answer = call(f"{url}/contacts", "POST", {"name": "Eve", "uri": "not an address"})
        assert (
            status == 400 and answer["problems"][0]["field"] == "contacts[2].uri"
        )  # errors cross the socket
        status, answer = call(f"{url}/sim/hook", "POST", {"off_hook": True})
        assert answer["phone"]["tone"] == "dial"
        assert not (tmp_path / "phone" / "web").exists()

        # The phone restarts (a crash, an update): the page says so, then carries on.
        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait()
        status, answer = call(f"{url}/status")
        assert status == 503 and "not answering" in answer["error"]
        procs[0] = subprocess.Popen(phone_cmd, stdin=subprocess.DEVNULL)
        wait_for(lambda: call(f"{url}/status")[0] == 200)
        status, contacts = call(f"{url}/contacts")
        assert [c["name"] for c in contacts] == ["Alice", "Bob"]  # the demo contact and Bob, not lost
        assert call(f"{url}/contacts/{bob['id']}")[0] == 200
    finally:
        stop_all(procs)
