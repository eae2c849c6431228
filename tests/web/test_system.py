"""The System page's tools on real processes, laid out as on the device (`appliance run --no-web`
plus `appliance web`): a backup, a factory reset that really empties the phone, a restore that
brings everything back. The phone process starts over by replacing itself (on the image, systemd
restarts it), so the same PID answers again."""

import base64
import json
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.net import free_port, wait_listening

from .test_split import BIN, stop_all, wait_for

JAMI_ID = "0123456789abcdef0123456789abcdef01234567"


class Page:
    def __init__(self, url: str, password: str) -> None:
        self.url, self.password = url, password

    def call(self, method: str, path: str, body: dict | None = None, *, auth: bool = True):
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = "Basic " + base64.b64encode(f"admin:{self.password}".encode()).decode()
        data = json.dumps(body).encode() if body is not None else None
        try:
            with urllib.request.urlopen(
                urllib.request.Request(self.url + path, data, headers, method=method), timeout=30
            ) as r:
                raw = r.read()
                return r.status, raw if r.headers.get_content_type() != "application/json" else json.loads(
                    raw
                )
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")
        except (urllib.error.URLError, ConnectionError):
            return 503, None


def setup_code(sock: Path) -> str:
    """The setup code on the phone's display, read over its control socket (as a person reads the
    display: the page itself never tells it)."""
    import asyncio
    import re

    from appliance.runtime.control_socket import ControlClient, ControlUnavailableError

    async def display() -> list[str]:
        client = ControlClient(sock)
        try:
            return (await client.call("status.status", {}))["phone"]["display"]
        except ControlUnavailableError:  # restarting: no code to read yet
            return []
        finally:
            await client.close()

    found = re.search(r"Setup code (\d{6})", "\n".join(asyncio.run(display())))
    return found.group(1) if found else ""


def names(answer: tuple[int, object]) -> list[str] | None:
    """The contacts' names in an answer of GET /contacts; None while the phone is not answering."""
    status, contacts = answer
    return [c["name"] for c in contacts] if status == 200 and isinstance(contacts, list) else None


def test_backup_factory_reset_restore(tmp_path):
    sock = tmp_path / "run" / "control.sock"
    data = tmp_path / "phone"
    port = free_port()
    page = Page(f"http://127.0.0.1:{port}/api/v1", "first password")
    phone_cmd = [
        str(BIN),
        "run",
        "--board",
        "desktop",
        "--data",
        str(data),
        "--no-web",
        "--control",
        str(sock),
    ]
    web_cmd = [str(BIN), "web", "--board", "desktop", "--data", str(tmp_path / "web"), "--control", str(sock),
               "--listen", f"127.0.0.1:{port}"]  # fmt: skip
    phone = subprocess.Popen(phone_cmd, stdin=subprocess.DEVNULL)
    procs = [phone]
    try:
        wait_for(sock.exists)
        procs.append(subprocess.Popen(web_cmd, stdin=subprocess.DEVNULL))
        wait_listening(port, procs[-1])
        code = setup_code(sock)
        assert page.call("POST", "/setup", {"password": page.password}, auth=False)[0] == 403  # no code
        assert page.call("POST", "/setup", {"password": page.password, "code": code}, auth=False)[0] == 201
        status, _ = page.call("POST", "/contacts", {"name": "Carol", "uri": JAMI_ID, "speed_dial": "2"})
        assert status == 201
        assert page.call("PUT", "/settings", {"phone": {"country": "DE"}})[0] == 200
        wait_for(lambda: page.call("GET", "/status")[1]["accounts"][0]["registration"] == "registered")
        jami_id = page.call("GET", "/status")[1]["accounts"][0]["uri"]

        assert page.call("POST", "/system/backup", {"password": "short"})[0] == 400
        status, backup = page.call("POST", "/system/backup", {"password": "backup secret"})
        assert status == 200 and isinstance(backup, bytes) and JAMI_ID.encode() not in backup  # sealed

        assert page.call("POST", "/system/factory-reset", {"confirm": "yes"})[0] == 400  # the words
        assert (data / "config.toml").exists()
        status, answer = page.call("POST", "/system/factory-reset", {"confirm": "factory reset"})
        assert status == 200 and answer == {"restarting": True}
        # The phone stops, empties its data, and comes back as new: first run again.
        wait_for(lambda: page.call("GET", "/setup", auth=False)[1]["password_set"] is False, 10)
        wait_for(
            lambda: (
                page.call(
                    "POST", "/setup", {"password": "second password", "code": setup_code(sock)}, auth=False
                )[0]
                == 201
            ),
            20,
        )
        page.password = "second password"
        # Once the fresh phone answers: the desktop board's demo contact only.
        wait_for(lambda: names(page.call("GET", "/contacts")) == ["Alice"], 20)
        wait_for(lambda: page.call("GET", "/status")[1]["accounts"][0]["uri"] not in ("", jami_id), 20)
        assert phone.poll() is None  # the same process, replaced by a fresh image of itself

        blob = base64.b64encode(backup).decode()
        wrong = page.call("POST", "/system/restore", {"password": "not the one", "data": blob})
        assert wrong[0] == 400 and "wrong password" in json.dumps(wrong[1])
        damaged = base64.b64encode(backup[:-5] + b"xxxxx").decode()
        assert page.call("POST", "/system/restore", {"password": "backup secret", "data": damaged})[0] == 400
        status, answer = page.call("POST", "/system/restore", {"password": "backup secret", "data": blob})
        assert status == 200 and answer["restarting"] and answer["jami_id"] == jami_id
        time.sleep(0.5)
        wait_for(lambda: page.call("GET", "/contacts")[0] == 200, 20)
        wait_for(lambda: names(page.call("GET", "/contacts")) == ["Alice", "Carol"], 20)
        assert page.call("GET", "/settings")[1]["phone"]["country"] == "DE"
        # The fake core's account came back too (a real daemon's: tests/jami/test_adapter.py).
        wait_for(lambda: page.call("GET", "/status")[1]["accounts"][0]["uri"] == jami_id, 20)
    finally:
        stop_all(procs)
