"""Ports for servers the tests start: always a free one, never a fixed number (the README's own
``appliance run`` may be listening on 8080 beside the tests); and stopping what a test started."""

from __future__ import annotations

import socket
import subprocess
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[str] | subprocess.Popen[bytes] | None = None,
                   timeout: float = 10.0) -> None:  # fmt: skip
    """Until something accepts on ``port``; fails early if ``proc`` (the server) has exited."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
        except OSError:
            assert proc is None or proc.poll() is None, f"the server exited with {proc.returncode}"
            assert time.monotonic() < deadline, f"nothing listens on {port}"
            time.sleep(0.05)
        else:
            return


def stop(proc: subprocess.Popen[str] | subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if ``proc`` is still there after ``grace_s``; reaped either way."""
    proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
