"""The supervisor's CPU and memory next to its Jami daemon's, idle and in a call, on real processes:
two `appliance run` phones with the jami driver in a network namespace of their own, driven from
their consoles (root).

Run: sudo .venv/bin/python bench/jami_processes.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from idle import cpu_ticks, rss_mb

from tests.jami.conftest import dht_node, network_namespace

APPLIANCE = Path(sys.executable).with_name("appliance")
HZ = os.sysconf("SC_CLK_TCK")


class Phone:
    def __init__(self, name: str, data: Path, ns: str, dht: str, extra: list[str]) -> None:
        self.data = data
        cmd = [str(APPLIANCE), "run", "--board", "desktop", "--data", str(data), "--console",
               "--set", "drivers.telephony=jami", "--set", f"jami.netns={ns}", "--set", f'jami.bootstrap=["{dht}"]',
               "--set", f"phone.display_name={name}", *extra]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.out: list[str] = []
        self.err: list[str] = []
        threading.Thread(target=self._read, args=(self.proc.stdout, self.out), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.err), daemon=True).start()

    @staticmethod
    def _read(stream, into: list[str]) -> None:
        into.extend(stream)  # line by line, as the child writes them

    def wait_for(self, pattern: str, where: str = "out", timeout: float = 60) -> re.Match:
        lines = self.out if where == "out" else self.err
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(lines):
                if m := re.search(pattern, line):
                    return m
            time.sleep(0.05)
        raise TimeoutError(pattern)

    def say(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def jamid_pid(self) -> int:
        home = f"HOME={self.data / 'jami' / 'home'}".encode()
        for pid in (int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()):
            try:
                if b"/usr/libexec/jamid" in Path(f"/proc/{pid}/cmdline").read_bytes() and home in Path(
                    f"/proc/{pid}/environ"
                ).read_bytes().split(b"\0"):
                    return pid
            except OSError:
                continue
        raise LookupError("jamid not found")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def usage(pids: list[int], seconds: float) -> list[tuple[float, float]]:
    start = [cpu_ticks(p) for p in pids]
    t = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - t
    return [(100 * (cpu_ticks(p) - s) / HZ / elapsed, rss_mb(p)) for p, s in zip(pids, start, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    seconds = parser.parse_args().seconds
    with tempfile.TemporaryDirectory() as tmp, network_namespace(f"jproc-{os.getpid()}") as ns:
        root = Path(tmp)
        with dht_node(ns, root / "dht.log") as dht:
            bob = Phone("Bob", root / "bob", ns, dht, [])
            alice = None
            try:
                bob_id = bob.wait_for(r"Jami account \S+ ready: ([0-9a-f]{40})", "err").group(1)
                alice = Phone("Alice", root / "alice", ns, dht,
                              ["--set", f'contacts=[{{name="Bob", uri="{bob_id}", speed_dial="2"}}]'])  # fmt: skip
                alice.wait_for(r"Jami account \S+ ready", "err")
                time.sleep(3)  # settle after start-up
                pids = [alice.proc.pid, alice.jamid_pid()]
                idle = usage(pids, seconds)
                alice.say("lift")
                alice.say("press 2#")
                bob.wait_for(r"\[ringer\] ringing", timeout=60)
                bob.say("lift")
                alice.wait_for(r"\[display\] Alice \| Bob \| 00:0[1-9]", timeout=60)
                in_call = usage(pids, seconds)
                alice.say("hang")
                time.sleep(1.5)
            except TimeoutError:
                for phone in (alice, bob):
                    if phone:
                        print("".join(phone.out[-12:]), "".join(phone.err[-8:]))
                raise
            finally:
                for phone in (alice, bob):
                    if phone:
                        phone.stop()
    print(
        f"Supervisor next to its Jami daemon, {seconds:g} s each (targets: supervisor idle <= 0.5 %, <= 45 MB)"
    )
    for label, rows in (("idle", idle), ("in a call", in_call)):
        (s_cpu, s_rss), (d_cpu, d_rss) = rows
        print(
            f"  {label:<10} supervisor CPU {s_cpu:5.2f} %  RSS {s_rss:5.1f} MB   |   jamid CPU {d_cpu:5.2f} %  RSS {d_rss:5.1f} MB"
        )


if __name__ == "__main__":
    main()
