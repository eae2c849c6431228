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

The phone's ready is read from the serial console, where the journal is forwarded: the initramfs
chose slot A, the data partition on the SD card (mmcblk0p4) grew into the card, the phone logged
"ready" and the setup code of a first run. Power-on to ready is the kernel's clock on that line
(QEMU starts the kernel at once; a Pi's firmware takes a few seconds of its own first). The page's
checks (boot_test.py's: setup refused without the code and taken with it, dial tone after lifting,
the root read-only) run when the page answers over the USB network. With QEMU 7.2 that is not
certain: in one of two runs its DWC2 model and the mainline dwc2 driver never enumerated the
usb-net device ("Not connected"); in the other, QEMU's hub and the adapter came up as usb0 at
~71 s. So the page stays boot_test.py's (``-M virt``) and this test says what USB it saw.
It prints the figures as JSON; the exit status says whether every check made held. QEMU is
stopped by its PID, also on failure.
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


def wait_for(qemu: subprocess.Popen[bytes], console: Path, pattern: str, timeout_s: float) -> str:
    """The console log once ``pattern`` is in it; QEMU ending first (a reset, with -no-reboot) fails."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        log = console.read_text(errors="replace") if console.exists() else ""
        if re.search(pattern, log):
            return log
        if qemu.poll() is not None:
            stderr = qemu.stderr.read().decode() if qemu.stderr else ""
            raise RuntimeError(f"QEMU ended (the guest reset or stopped): {stderr}\n{log[-3000:]}")
        time.sleep(1)
    raise RuntimeError(f"no {pattern!r} on the console:\n" + console.read_text(errors="replace")[-4000:])


def page_answers(url: str, timeout_s: float) -> dict[str, Any] | None:
    """The first-run state from the page, or None if it does not answer through the USB network."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            status, setup = call(f"{url}/setup")
            if status == 200:
                return dict(setup)
        except (OSError, ValueError):
            pass
        time.sleep(1)
    return None


def kernel_time(log: str, pattern: str) -> float | None:
    """The kernel's clock (seconds since it started) on the first console line matching ``pattern``."""
    match = re.search(r"\[\s*(\d+\.\d+)\] [^\n]*" + pattern, log)
    return float(match[1]) if match else None


def console_figures(log: str) -> dict[str, object]:
    """What the serial console shows of the boot: the slot, the card, the growth, the phone's ready."""
    slot = re.search(r"appliance-ab: booting slot (\d)", log)
    grown = re.search(r"appliance-grow-data: (/dev/\S+) grown to the end of (/dev/\S+): (\d+) MiB", log)
    codes = re.findall(r"the setup code is (\d{6})", log)
    return {
        "slot_partition": int(slot[1]) if slot else None,
        "var_lib_mounted_s": kernel_time(log, r"EXT4-fs \(mmcblk0p4\): mounted"),
        "data_grown": f"{grown[1]} on {grown[2]}: {grown[3]} MiB" if grown else None,
        "ready_s": kernel_time(log, r"appliance: ready"),
        "setup_code_shown": bool(codes),
        "setup_code": codes[-1] if codes else "",
        "usb_devices_enumerated": len(re.findall(r"usb \d+-[\d.]+: New USB device found", log)),
        "usb_network": bool(re.search(r"(cdc_ether|rndis_host) \S+ \S+: register", log)),
    }


def page_checks(url: str, code: str) -> dict[str, object]:
    """boot_test.py's checks through the page: first-run setup with the code, dial tone, read-only root."""
    results: dict[str, object] = {}
    results["setup_refused_without_code"] = call(f"{url}/setup", "POST", {"password": PASSWORD})[0]
    results["setup"] = call(f"{url}/setup", "POST", {"password": PASSWORD, "code": code})[0]
    _, status = call(f"{url}/status")
    results["root_read_only"] = status["system"].get("root_read_only")
    _, lifted = call(f"{url}/sim/hook", "POST", {"off_hook": True})
    results["tone_after_lift"] = lifted["phone"]["tone"]
    return results


def boot(base: Path, timeout_s: float, page_timeout_s: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        disk = work / "card.img"
        sd_card(base, disk)
        words = f"appliance.board=desktop systemd.journald.forward_to_console=1 console=serial0,115200 {QEMU_WORKAROUNDS}"
        files, cmdline, tty = firmware(disk, work, words)
        logs = {name: base.with_name(f"{base.name}.raspi3b.{name}.log") for name in ("ttyAMA0", "ttyS1")}
        for log_file in logs.values():  # a last run's "ready" must not be read before QEMU truncates it
            log_file.unlink(missing_ok=True)
        port = free_port()
        qemu = start(files, cmdline, disk, port, logs)
        try:
            log = wait_for(qemu, logs[tty], r"appliance: ready", timeout_s)
            results: dict[str, object] = {"cmdline": cmdline, "console": tty, **console_figures(log)}
            url = f"http://127.0.0.1:{port}/api/v1"
            setup = page_answers(url, page_timeout_s)
            results["page_answers"] = setup is not None
            if setup is not None:
                results["first_run"] = not setup["password_set"]
                results.update(page_checks(url, str(results["setup_code"])))
            log = logs[tty].read_text(errors="replace")
            results.update({k: v for k, v in console_figures(log).items() if k.startswith("usb")})
            results["console_tail"] = log[-600:]
            return results
        finally:
            stop(qemu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("base", nargs="?", default="build/image/appliance-deskphone-v1",
                        help="the built image's path without .img.xz")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the phone's ready")
    parser.add_argument("--page-timeout", type=float, default=120.0,
                        help="seconds after ready to wait for the page over the USB network")  # fmt: skip
    args = parser.parse_args()
    need_qemu()
    need_tools()
    results = boot(Path(args.base), args.timeout, args.page_timeout)
    tail = results.pop("console_tail")
    print(json.dumps(results, indent=2))
    ok = (
        results["slot_partition"] == 2  # the initramfs chose slot A
        and str(results["data_grown"]).startswith("/dev/mmcblk0p4 on /dev/mmcblk0:")  # the SD card
        and results["ready_s"] is not None
        and results["setup_code_shown"] is True  # a first run: the phone waits to be claimed
    )
    if results["page_answers"]:  # only when QEMU's USB enumerates the network adapter (see above)
        ok = ok and (
            results["first_run"] is True
            and results["setup_refused_without_code"] == 403
            and results["setup"] == 201
            and results["tone_after_lift"] == "dial"
            and results["root_read_only"] is True
        )
    if not ok:
        print(tail, file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
