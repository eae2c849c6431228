#!/usr/bin/env python3
"""Boot a built image in QEMU and check it is a phone: image/boot_test.py [build/image/appliance-BOARD]

`qemu-system-aarch64 -M virt` boots the image's own kernel and initramfs with the image as a virtio
disk, on the desktop board (appliance.board=desktop: fake hardware, so no Pi is needed). The test
waits for the web page through a forwarded port (its service starts only once the phone is ready),
sets the admin password, lifts the virtual handset and expects dial tone, and checks the root is
read-only. It prints the figures; the exit status says whether every check held. QEMU is stopped
by its PID, also on failure.
"""

from __future__ import annotations

import argparse
import base64
import json
import lzma
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

PASSWORD = "boot test password"
QEMU = "qemu-system-aarch64"
# The page is HTTPS with a certificate from the CA this boot made on the device: not checked here.
# That it covers HOSTNAME.local and the address, from that CA, is firstboot_test's check (and
# tests/web/test_https.py's on the host).
UNVERIFIED = ssl.create_default_context()
UNVERIFIED.check_hostname = False
UNVERIFIED.verify_mode = ssl.CERT_NONE


def need_qemu() -> None:
    """Stop with what to install when QEMU is missing (it is not in .ci/setup's default set)."""
    if shutil.which(QEMU) is None:
        sys.exit(f"{QEMU} not found: install Debian's qemu-system-arm (apt-get install qemu-system-arm)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(url: str, method: str = "GET", body: dict[str, Any] | None = None) -> tuple[int, Any]:
    headers = {"Authorization": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data, headers, method=method), timeout=10, context=UNVERIFIED
        ) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def unpack(base: Path, disk: Path) -> None:
    """The compressed image as an 8 GB card (first boot grows the data partition into it)."""
    with lzma.open(base.with_name(base.name + ".img.xz")) as src, disk.open("wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    with disk.open("r+b") as f:
        f.truncate(8 * 1024**3)


def start(base: Path, disk: Path, port: int, boot: int = 1) -> subprocess.Popen[bytes]:
    """QEMU on ``disk``, the web page (HTTPS, 443) forwarded to ``port``. -no-reboot: a reboot ends QEMU, and a
    test that wants the next boot starts it again, as the power would (``boot`` numbers its log)."""
    sig = base.with_name(base.name + ".disk-signature").read_text().strip()
    console = console_log(base, boot)  # kept for a look after a failure
    cmd = [
        QEMU, "-M", "virt", "-cpu", "cortex-a53", "-smp", "2", "-m", "1024",
        "-kernel", str(base.with_name(base.name + ".vmlinuz")),
        "-initrd", str(base.with_name(base.name + ".initrd.img")),
        "-append", f"root=PARTUUID={sig}-02 rootfstype=squashfs ro panic=10 console=ttyAMA0 appliance.board=desktop systemd.journald.forward_to_console=1",
        "-drive", f"file={disk},if=none,format=raw,id=hd", "-device", "virtio-blk-pci,drive=hd",
        "-netdev", f"user,id=net,hostfwd=tcp:127.0.0.1:{port}-:443", "-device", "virtio-net-pci,netdev=net,romfile=",
        "-display", "none", "-monitor", "none", "-serial", f"file:{console}", "-no-reboot",
    ]  # fmt: skip
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def console_log(base: Path, boot: int = 1) -> Path:
    return base.with_name(base.name + (".console.log" if boot == 1 else f".console-{boot}.log"))


def wait_for_page(
    base: Path, qemu: subprocess.Popen[bytes], url: str, timeout_s: float, boot: int = 1
) -> tuple[float, Any]:
    """Seconds until the web page answers (its service starts once the phone is ready)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if qemu.poll() is not None:
            raise RuntimeError(f"QEMU exited: {qemu.stderr.read().decode() if qemu.stderr else ''}")
        try:
            status, setup = call(f"{url}/setup")
            if status == 200:
                return time.monotonic() - started, setup
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    console = console_log(base, boot)
    raise RuntimeError("the web page never answered:\n" + console.read_text(errors="replace")[-4000:])


def setup_code(base: Path, boot: int = 1) -> str:
    """The setup code the phone shows, as its log on the serial console says it (the test kernel
    forwards the journal there)."""
    codes = re.findall(r"the setup code is (\d{6})", console_log(base, boot).read_text(errors="replace"))
    return codes[-1] if codes else ""


def stop(qemu: subprocess.Popen[bytes]) -> None:
    qemu.terminate()
    try:
        qemu.wait(10)
    except subprocess.TimeoutExpired:
        qemu.kill()
        qemu.wait()


def boot(base: Path, timeout_s: float = 150.0) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        disk = Path(tmp) / "disk.img"
        unpack(base, disk)
        port = free_port()
        qemu = start(base, disk, port)
        try:
            url = f"https://127.0.0.1:{port}/api/v1"
            ready, setup = wait_for_page(base, qemu, url, timeout_s)
            results: dict[str, object] = {
                "web_page_answers_s": round(ready, 1),
                "first_run": not setup["password_set"],
            }
            code = setup_code(base)
            results["setup_refused_without_code"] = call(f"{url}/setup", "POST", {"password": PASSWORD})[0]
            results["setup"] = call(f"{url}/setup", "POST", {"password": PASSWORD, "code": code})[0]
            _, status = call(f"{url}/status")
            results["system"] = status["system"]
            _, lifted = call(f"{url}/sim/hook", "POST", {"off_hook": True})
            results["tone_after_lift"] = lifted["phone"]["tone"]
            log = console_log(base).read_text(errors="replace")
            results["data_grown_at_first_boot"] = "appliance-grow-data: " in log and "grown to the end" in log
            results["console_tail"] = log[-600:]
            return results
        finally:
            stop(qemu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("base", nargs="?", default="build/image/appliance-deskphone-v1",
                        help="the built image's path without .img.xz")  # fmt: skip
    args = parser.parse_args()
    need_qemu()
    results = boot(Path(args.base))
    tail = results.pop("console_tail")
    print(json.dumps(results, indent=2))
    system: dict[str, Any] = results["system"]  # type: ignore[assignment]
    ok = (
        results["first_run"] is True
        and results["setup_refused_without_code"] == 403
        and results["setup"] == 201
        and results["tone_after_lift"] == "dial"
        and system.get("root_read_only") is True
        and system.get("slot") == "A"  # the initramfs chose A
        and results["data_grown_at_first_boot"] is True
    )
    if not ok:
        print(tail, file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
