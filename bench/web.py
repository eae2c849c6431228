"""The web page's cost: API latency, page weight, server memory.

Starts `appliance run --board desktop` (the supervisor with its web server) and measures, in one run:
- latency of GET /api/v1/status (session cookie, and Basic), PUT /api/v1/settings (validated,
  fsynced save) and POST /api/v1/sim/keys, next to a static file from the same server (the floor:
  aiohttp with no logic of ours);
- page weight: what a first visit downloads, raw and gzip-compressed;
- resident memory of the whole appliance process after the run, next to a bare interpreter that
  has imported aiohttp (the floor any aiohttp server pays).

Run: .venv/bin/python bench/web.py [--requests 300]
"""

from __future__ import annotations

import argparse
import base64
import gzip
import http.client
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

APPLIANCE = Path(sys.executable).with_name("appliance")
STATIC = Path(__file__).parents[1] / "appliance" / "web" / "static"
PASSWORD = "benchmark password"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(
    conn: http.client.HTTPConnection, method: str, path: str, headers: dict, body: object = None
) -> float:
    data = None if body is None else json.dumps(body).encode()
    hdrs = dict(headers)
    if data is not None:
        hdrs["Content-Type"] = "application/json"
    start = time.perf_counter()
    conn.request(method, path, body=data, headers=hdrs)
    response = conn.getresponse()
    response.read()
    elapsed = time.perf_counter() - start
    assert response.status < 300, (method, path, response.status)
    return elapsed * 1000


def summary(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100)
    return f"p50 {statistics.median(samples):6.2f}  p95 {q[94]:6.2f}  max {max(samples):6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pw").write_text(PASSWORD)
        port = free_port()
        proc = subprocess.Popen(
            [str(APPLIANCE), "run", "--board", "desktop", "--data", str(root / "data"),
             "--listen", f"127.0.0.1:{port}", "--admin-password-file", str(root / "pw")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            conn = http.client.HTTPConnection("127.0.0.1", port)
            conn.request("POST", "/api/v1/login", body=json.dumps({"password": PASSWORD}),
                         headers={"Content-Type": "application/json"})  # fmt: skip
            response = conn.getresponse()
            csrf = json.loads(response.read())["csrf"]
            cookie = response.getheader("Set-Cookie", "").split(";")[0]
            session = {"Cookie": cookie, "X-CSRF-Token": csrf}
            basic = {"Authorization": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()}
            n = args.requests
            rows = {
                "GET /static/app.css (floor)": [timed(conn, "GET", "/static/app.css", {}) for _ in range(n)],
                "GET /api/v1/status, session": [
                    timed(conn, "GET", "/api/v1/status", session) for _ in range(n)
                ],
                "GET /api/v1/status, Basic": [timed(conn, "GET", "/api/v1/status", basic) for _ in range(n)],
                "PUT /api/v1/settings (fsync)": [
                    timed(conn, "PUT", "/api/v1/settings", session, {"timers": {"reorder_s": 20.0 + i % 7}})
                    for i in range(n // 3)
                ],
                "POST /api/v1/sim/keys": [
                    timed(conn, "POST", "/api/v1/sim/keys", session, {"keys": "1"}) for _ in range(n // 3)
                ],
            }
            rss = rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(10)
    probe = (
        "import aiohttp.web, asyncio, pathlib\n"
        "print([l for l in pathlib.Path('/proc/self/status').read_text().splitlines() if l.startswith('VmRSS')][0])"
    )
    floor = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()[1]

    print(f"API latency over loopback, {n} requests each (one keep-alive connection):")
    for name, samples in rows.items():
        print(f"  {name:32s} {summary(samples)}")
    files = ["index.html", "app.js", "app.css", "icon.svg"]
    raw = sum((STATIC / f).stat().st_size for f in files)
    packed = sum(len(gzip.compress((STATIC / f).read_bytes())) for f in files)
    print(
        f"page weight, first visit: {raw / 1024:.1f} KiB raw, {packed / 1024:.1f} KiB gzip ({', '.join(files)})"
    )
    print(
        f"memory: appliance (supervisor + web server) {rss:.1f} MB RSS; bare python + aiohttp {int(floor) / 1024:.1f} MB"
    )


if __name__ == "__main__":
    main()
