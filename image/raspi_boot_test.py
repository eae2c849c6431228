#!/usr/bin/env python3
"""Boot a built image as a Raspberry Pi 3 does, in QEMU: image/raspi_boot_test.py [build/image/appliance-BOARD]

`qemu-system-aarch64 -M raspi3b` with the card on the Pi's SD controller (``-drive if=sd``; QEMU
wants an SD card's size to be a power of two: the image is unpacked onto an 8 GiB card). What the
Pi's firmware does is done here from the card's own FAT partition, read with mtools: config.txt
names the kernel (``kernel=``) and the initramfs (``initramfs``), the device tree is the Pi 3 B's
(``bcm2837-rpi-3-b.dtb``), and cmdline.txt is the kernel's command line, with ``serial0`` turned
into the tty of the UART the device tree's ``serial0`` alias names (the firmware's substitution).
QEMU gives the first ``-serial`` to the PL011 and the second to the mini UART; both are logged.

As an owner adding a serial console would, the test first appends to the card's cmdline.txt:
``appliance.board=desktop`` (fake hardware: QEMU has no handset or keypad),
``systemd.journald.forward_to_console=1`` and the serial console once more, last (the last
``console=`` is /dev/console, where the journal says the setup code; cmdline.txt has ``tty1``
last, the HDMI screen), and ``modprobe.blacklist=bcm2835_wdt``: QEMU 7.2's BCM2835 power manager
resets the machine at the write that arms the SoC watchdog (it does not count PM_WDOG down as the
chip does), so systemd's RuntimeWatchdogSec would reset the emulated Pi as soon as the watchdog's
driver loads. The network is the raspi3b's only one, a USB network adapter on the SoC's DWC2 port
(``-device usb-net``), with the web page forwarded to a local port.

The checks are boot_test.py's: the page answers (its service starts once the phone is ready), the
first-run setup refuses a missing code and takes the right one, dial tone after lifting, root
read-only, slot A, the data partition grown on the first boot, and the card seen on the SD
controller (mmcblk0). It prints the figures as JSON (power-on to ready is the kernel's clock at the
phone's "ready" line: QEMU starts the kernel at once, as the Pi's firmware does after ~2-5 s of
its own); the exit status says whether every check held. QEMU is stopped by its PID, also on failure.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from boot_test import PASSWORD, QEMU, call, free_port, need_qemu, stop, unpack
from firstboot_test import mtools

DTB = "bcm2837-rpi-3-b.dtb"  # what the firmware loads on a Pi 3 B with upstream_kernel=1
# The ttys of the SoC's two UARTs under the mainline kernel (serial0/serial1 are aliases in the DT).
UART_TTYS = {"arm,pl011": "ttyAMA0", "brcm,bcm2835-aux-uart": "ttyS1"}
QEMU_WORKAROUNDS = "modprobe.blacklist=bcm2835_wdt"  # see the module's docstring


def need_tools() -> None:
    for tool, package in ((QEMU, "qemu-system-arm"), ("mcopy", "mtools"), ("fdtget", "device-tree-compiler")):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: apt-get install {package}")


def sd_card(base: Path, disk: Path) -> None:
    """The image on an 8 GiB card; QEMU's SD card refuses a size that is not a power of two."""
    unpack(base, disk)
    size = disk.stat().st_size
    if size & (size - 1):
        raise RuntimeError(f"{disk}: {size} bytes is not a power of two (QEMU's SD card)")


def config_txt(text: str) -> dict[str, str]:
    """The firmware's settings that boot Linux: ``kernel=FILE`` and ``initramfs FILE [ADDR]``."""
    settings: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("kernel="):
            settings["kernel"] = line.removeprefix("kernel=").strip()
        elif line.startswith("initramfs "):
            settings["initramfs"] = line.split()[1]
    missing = {"kernel", "initramfs"} - settings.keys()
    if missing:
        raise RuntimeError(f"config.txt names no {', '.join(sorted(missing))}")
    return settings


def uart_tty(dtb: Path, alias: str) -> str:
    """The tty of the UART a device-tree alias (serial0, serial1) names."""
    node = subprocess.run(
        ["fdtget", "-t", "s", str(dtb), "/aliases", alias], capture_output=True, text=True, check=True
    )
    compatible = subprocess.run(
        ["fdtget", "-t", "s", str(dtb), node.stdout.strip(), "compatible"], capture_output=True, text=True, check=True
    )  # fmt: skip
    for name in compatible.stdout.split():
        if name in UART_TTYS:
            return UART_TTYS[name]
    raise RuntimeError(f"{alias} is {node.stdout.strip()} ({compatible.stdout.strip()}): no known UART")


def firmware(disk: Path, work: Path, console_words: str) -> tuple[dict[str, Path], str, str]:
    """What the Pi's firmware takes from the FAT partition: kernel, initramfs, device tree and command
    line. ``console_words`` are appended to cmdline.txt on the card first. Returns the files, the
    command line and the tty of its last serial console."""
    cmdline = mtools(disk, "mtype", "::/cmdline.txt").decode().strip()
    (work / "cmdline.txt").write_text(f"{cmdline} {console_words}\n")
    mtools(disk, "mcopy", "-o", str(work / "cmdline.txt"), "::/cmdline.txt")
    settings = config_txt(mtools(disk, "mtype", "::/config.txt").decode())
    files = {"kernel": work / "kernel", "initramfs": work / "initramfs", "dtb": work / DTB}
    for key, name in (("kernel", settings["kernel"]), ("initramfs", settings["initramfs"]), ("dtb", DTB)):
        mtools(disk, "mcopy", "-o", f"::/{name}", str(files[key]))
    words = mtools(disk, "mtype", "::/cmdline.txt").decode().split()
    ttys = {alias: uart_tty(files["dtb"], alias) for alias in ("serial0", "serial1")}
    words = [re.sub(r"^console=(serial[01])", lambda m: "console=" + ttys[m[1]], w) for w in words]
    consoles = [w.removeprefix("console=").split(",")[0] for w in words if w.startswith("console=")]
    serial = [tty for tty in consoles if tty in UART_TTYS.values()]
    if not serial:
        raise RuntimeError(f"no serial console on the command line: {' '.join(words)}")
    return files, " ".join(words), serial[-1]


def start(
    files: dict[str, Path], cmdline: str, disk: Path, port: int, logs: dict[str, Path]
) -> subprocess.Popen[bytes]:
    """QEMU's Pi 3 B: 4 Cortex-A53, 1 GiB; -no-reboot: a reset ends QEMU (and is seen as such)."""
    cmd = [
        QEMU, "-M", "raspi3b",
        "-kernel", str(files["kernel"]), "-initrd", str(files["initramfs"]), "-dtb", str(files["dtb"]),
        "-append", cmdline,
        "-drive", f"file={disk},if=sd,format=raw",
        "-netdev", f"user,id=net,hostfwd=tcp:127.0.0.1:{port}-:80", "-device", "usb-net,netdev=net",
        "-serial", f"file:{logs['ttyAMA0']}", "-serial", f"file:{logs['ttyS1']}",
        "-display", "none", "-monitor", "none", "-no-reboot",
    ]  # fmt: skip
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_for_page(
    qemu: subprocess.Popen[bytes], url: str, console: Path, timeout_s: float
) -> tuple[float, Any]:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if qemu.poll() is not None:
            stderr = qemu.stderr.read().decode() if qemu.stderr else ""
            tail = console.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"QEMU exited ({qemu.returncode}): {stderr}\n{tail}")
        try:
            status, setup = call(f"{url}/setup")
            if status == 200:
                return time.monotonic() - started, setup
        except (OSError, ValueError):
            pass
        time.sleep(1)
    raise RuntimeError("the web page never answered:\n" + console.read_text(errors="replace")[-4000:])


def kernel_time(log: str, pattern: str) -> float | None:
    """The kernel's clock (seconds since it started) on the first console line matching ``pattern``."""
    match = re.search(r"^\[\s*(\d+\.\d+)\][^\n]*" + pattern, log, re.MULTILINE)
    return float(match[1]) if match else None


def boot(base: Path, timeout_s: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        disk = work / "card.img"
        sd_card(base, disk)
        words = f"appliance.board=desktop systemd.journald.forward_to_console=1 console=serial0,115200 {QEMU_WORKAROUNDS}"
        files, cmdline, tty = firmware(disk, work, words)
        logs = {name: base.with_name(f"{base.name}.raspi3b.{name}.log") for name in ("ttyAMA0", "ttyS1")}
        port = free_port()
        qemu = start(files, cmdline, disk, port, logs)
        try:
            url = f"http://127.0.0.1:{port}/api/v1"
            answered, setup = wait_for_page(qemu, url, logs[tty], timeout_s)
            log = logs[tty].read_text(errors="replace")
            results: dict[str, object] = {
                "cmdline": cmdline,
                "console": tty,
                "ready_s": kernel_time(log, r"appliance: ready"),
                "var_lib_mounted_s": kernel_time(log, r"EXT4-fs \(mmcblk0p4\): mounted"),
                "web_page_answers_s": round(answered, 1),
                "first_run": not setup["password_set"],
            }
            codes = re.findall(r"the setup code is (\d{6})", log)
            results["setup_refused_without_code"] = call(f"{url}/setup", "POST", {"password": PASSWORD})[0]
            results["setup"] = call(
                f"{url}/setup", "POST", {"password": PASSWORD, "code": codes[-1] if codes else ""}
            )[0]
            _, status = call(f"{url}/status")
            results["system"] = status["system"]
            _, lifted = call(f"{url}/sim/hook", "POST", {"off_hook": True})
            results["tone_after_lift"] = lifted["phone"]["tone"]
            log = logs[tty].read_text(errors="replace")
            grown = re.search(
                r"appliance-grow-data: (/dev/\S+) grown to the end of (/dev/\S+): (\d+) MiB", log
            )
            results["data_grown"] = f"{grown[1]} on {grown[2]}: {grown[3]} MiB" if grown else None
            results["console_tail"] = log[-600:]
            return results
        finally:
            stop(qemu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("base", nargs="?", default="build/image/appliance-deskphone-v1",
                        help="the built image's path without .img.xz")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds to wait for the page")
    args = parser.parse_args()
    need_qemu()
    need_tools()
    results = boot(Path(args.base), args.timeout)
    tail = results.pop("console_tail")
    print(json.dumps(results, indent=2))
    system: dict[str, Any] = results["system"]  # type: ignore[assignment]
    ok = (
        results["first_run"] is True
        and results["setup_refused_without_code"] == 403
        and results["setup"] == 201
        and results["tone_after_lift"] == "dial"
        and system.get("root_read_only") is True
        and system.get("slot") == "A"
        and str(results["data_grown"]).startswith("/dev/mmcblk0p4 on /dev/mmcblk0")
        and results["ready_s"] is not None
    )
    if not ok:
        print(tail, file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
