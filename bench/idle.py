"""The supervisor at rest: CPU share and resident memory of `appliance run --board desktop`,
next to a bare Python interpreter idling in asyncio (the floor any Python supervisor pays).

Run: .venv/bin/python bench/idle.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HZ = os.sysconf("SC_CLK_TCK")
APPLIANCE = Path(sys.executable).with_name("appliance")


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(cmd: list[str], seconds: float) -> tuple[float, float]:
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        time.sleep(3.0)  # start-up and account registration are not idle
        start_ticks, start = cpu_ticks(proc.pid), time.monotonic()
        time.sleep(seconds)
        used = (cpu_ticks(proc.pid) - start_ticks) / HZ
        elapsed = time.monotonic() - start
        return 100 * used / elapsed, rss_mb(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        bare = measure(
            [sys.executable, "-c", "import asyncio; asyncio.run(asyncio.sleep(3600))"], args.seconds
        )
        phone = measure([str(APPLIANCE), "run", "--board", "desktop", "--data", data], args.seconds)
    print(f"Idle over {args.seconds:g} s (targets: <= 0.5% of a core, <= 45 MB RSS)")
    print(f"  {'baseline: bare python asyncio':<36} CPU {bare[0]:5.2f}%   RSS {bare[1]:5.1f} MB")
    print(f"  {'appliance run --board desktop':<36} CPU {phone[0]:5.2f}%   RSS {phone[1]:5.1f} MB")


if __name__ == "__main__":
    main()
