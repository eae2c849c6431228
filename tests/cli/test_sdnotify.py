"""`appliance run` under systemd's notify protocol: READY=1 once the ports are up, then the watchdog."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).with_name("appliance")


def test_ready_then_watchdog_pings(tmp_path):
    address = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(address)
        sock.settimeout(15)
        env = {**os.environ, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": "400000"}
        env.pop("WATCHDOG_PID", None)
        started = time.monotonic()
        proc = subprocess.Popen(
            [str(BIN), "run", "--board", "desktop", "--data", str(tmp_path / "data"), "--no-web"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            messages = []
            while len([m for m in messages if m == "WATCHDOG=1"]) < 3:
                messages.append(sock.recv(256).decode())
            ready_after = time.monotonic() - started
        finally:
            proc.terminate()
            proc.wait(10)
    assert messages[0].startswith("WATCHDOG=1") or "READY=1" in messages[0]
    assert any("READY=1" in m for m in messages)
    print(f"READY=1 {ready_after:.2f} s after exec (3 watchdog pings included)")
