"""The supervisor at rest: CPU share and resident memory of `appliance run --board desktop`,
next to a bare Python interpreter idling in asyncio (the floor any Python supervisor pays).

Run: .venv/bin/python bench/idle.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
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


@contextlib.contextmanager
def private_pulseaudio(folder: Path) -> Iterator[dict[str, str]]:
    """A PulseAudio of our own with a null sink at 8 kHz: a clocked sound card without hardware."""
    (folder / "default.pa").write_text(
        f"load-module module-native-protocol-unix auth-anonymous=1 socket={folder}/native\n"
        "load-module module-null-sink sink_name=line rate=8000 channels=1\n"
        "set-default-sink line\nset-default-source line.monitor\n"
    )
    env = {**os.environ, "HOME": str(folder), "XDG_RUNTIME_DIR": str(folder)}
    server = subprocess.Popen(
        ["pulseaudio", "-n", "-F", str(folder / "default.pa"), "--daemonize=no", "--exit-idle-time=-1",
         "--use-pid-file=no", "--disallow-exit"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            if (folder / "native").exists():
                break
            time.sleep(0.05)
        yield {"PULSE_SERVER": f"unix:{folder}/native"}
    finally:
        server.terminate()
        server.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(cmd: list[str], seconds: float, env: dict[str, str] | None = None) -> tuple[float, float]:
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
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
        # The desktop board serves its web page in the same process.
        desktop = [str(APPLIANCE), "run", "--board", "desktop", "--data", data]
        phone = measure([*desktop, "--listen", f"127.0.0.1:{free_port()}"], args.seconds)
        # The desk phone's real drivers on mock pins, ALSA's null device and an absent I2C display.
        # As deployed: the web page is its own service (`appliance web`, measured below). The daemon
        # path (dbus-fast, the daemon beside) is measured by bench/jami.py inside its namespace.
        board = [str(APPLIANCE), "run", "--board", "deskphone-v1", "--data", data, "--no-web"]
        board += [
            "--set",
            "drivers.telephony=fake",
            "--set",
            "gpio.pin_factory=mock",
            "--set",
            "audio.playback=null",
            "--set",
            "audio.capture=null",
        ]
        desk = measure(board, args.seconds)
        # The adapter listens for DTMF all the time: its capture must be clocked like a real codec.
        adapter = [str(APPLIANCE), "run", "--board", "adapter-v1", "--data", data, "--no-web"]
        adapter += [
            "--set",
            "drivers.telephony=fake",
            "--set",
            "gpio.pin_factory=mock",
            "--set",
            "audio.playback=pulse",
            "--set",
            "audio.capture=pulse",
        ]
        with private_pulseaudio(Path(data)) as pulse:
            ata = measure(adapter, args.seconds, pulse)
        # The web page as its own process, joined to a phone by the control socket.
        sock = Path(data) / "split" / "control.sock"
        phone_proc = subprocess.Popen(
            [str(APPLIANCE), "run", "--data", str(Path(data) / "split"), "--no-web", "--control", str(sock)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            web_cmd = [str(APPLIANCE), "web", "--data", str(Path(data) / "web"), "--control", str(sock)]
            web = measure([*web_cmd, "--listen", f"127.0.0.1:{free_port()}"], args.seconds)
        finally:
            phone_proc.terminate()
            phone_proc.wait(10)
    print(f"Idle over {args.seconds:g} s (targets: <= 0.5% of a core, <= 45 MB RSS)")
    print(f"  {'baseline: bare python asyncio':<44} CPU {bare[0]:5.2f}%   RSS {bare[1]:5.1f} MB")
    print(
        f"  {'appliance run --board desktop (fakes, web)':<44} CPU {phone[0]:5.2f}%   RSS {phone[1]:5.1f} MB"
    )
    print(
        f"  {'appliance run --board deskphone-v1 (drivers)':<44} CPU {desk[0]:5.2f}%   RSS {desk[1]:5.1f} MB"
    )
    print(f"  {'appliance run --board adapter-v1 (DTMF on)':<44} CPU {ata[0]:5.2f}%   RSS {ata[1]:5.1f} MB")
    print(f"  {'appliance web (its own service)':<44} CPU {web[0]:5.2f}%   RSS {web[1]:5.1f} MB")


if __name__ == "__main__":
    main()
