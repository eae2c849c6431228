#!/usr/bin/env python3
"""A signed A/B update in QEMU, end to end: image/update_test.py [build/image/appliance-BOARD]

1. The image boots (slot A); the admin password is set; a bundle of the build's own root, signed
   with the build's key, is uploaded through the web page like an installer would.
2. The updater writes slot B and reboots. QEMU runs with -no-reboot, so a reboot ends it; the test
   starts it again on the same disk, as the power would come back.
3. The initramfs boots B on trial, the phone comes up, the trial is kept (the commit unit says so
   on the console; under QEMU it is often done before the web page answers, so the page's
   "on trial" is not waited for): slot B, and the data partition (the admin password) is as it was.
4. A bundle signed with the same key but holding a root that cannot boot (no init) is uploaded:
   it is written to A (the slot not running), its trial boot panics (panic=10 reboots, QEMU
   ends), and the boot after that falls back to B.

Needs root? No: QEMU's user networking and a disk file. Uses the signing key image/build made
(build/keys/update-signing.key, or UPDATE_KEY). Prints the figures; exit status 0 if all held.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))

from boot_test import (
    PASSWORD,
    UNVERIFIED,
    call,
    console_log,
    free_port,
    need_qemu,
    setup_code,
    start,
    stop,
    unpack,
    wait_for_page,
)

from appliance.update import make_bundle

BOARD = "desktop"  # the QEMU boot overrides the board (appliance.board=desktop): bundles say so too


def upload(url: str, bundle: Path) -> tuple[int, Any]:
    headers = {
        "Authorization": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode(),
        "Content-Type": "application/octet-stream",
    }
    with bundle.open("rb") as body:
        request = urllib.request.Request(f"{url}/system/firmware", body, headers, method="POST")
        request.add_header("Content-Length", str(bundle.stat().st_size))
        try:
            with urllib.request.urlopen(request, timeout=600, context=UNVERIFIED) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


def until_kept(url: str, timeout_s: float = 300) -> float:
    """Seconds until the trial slot is kept (appliance-update-commit.service, once the phone is up)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if call(f"{url}/status")[1]["system"].get("slot_on_trial") is False:
            return time.monotonic() - started
        time.sleep(2)
    raise RuntimeError("the updated slot was never kept")


def until_exit(qemu: subprocess.Popen[bytes], timeout_s: float) -> float:
    """Seconds until the machine reboots (QEMU ends)."""
    started = time.monotonic()
    qemu.wait(timeout_s)
    return time.monotonic() - started


def bundles(work: Path, tmp: Path, key: Path) -> tuple[Path, Path]:
    """The build's own root as a bundle, and one whose root cannot boot (no init), both signed."""
    good, broken = tmp / "good.bundle", tmp / "broken.bundle"
    make_bundle(work / "root.squashfs", good, key=key, board=BOARD, version="update-test-good")
    empty = tmp / "empty"
    empty.mkdir()
    (empty / "README").write_text("a root with no init: its trial boot must fail\n")
    subprocess.run(
        ["mksquashfs", str(empty), str(tmp / "broken.squashfs"), "-quiet", "-no-progress"], check=True
    )
    make_bundle(tmp / "broken.squashfs", broken, key=key, board=BOARD, version="update-test-broken")
    return good, broken


def run(base: Path, key: Path) -> dict[str, object]:
    work = base.parent / f"work-{base.name.removeprefix('appliance-')}"
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        good, broken = bundles(work, Path(tmp), key)
        disk = Path(tmp) / "disk.img"
        unpack(base, disk)
        port = free_port()
        url = f"https://127.0.0.1:{port}/api/v1"

        qemu = start(base, disk, port)  # 1. slot A, first run
        try:
            wait_for_page(base, qemu, url, 240)
            call(f"{url}/setup", "POST", {"password": PASSWORD, "code": setup_code(base)})
            results["slot_first"] = call(f"{url}/status")[1]["system"].get("slot")
            sent = time.monotonic()
            results["upload"] = upload(url, good)
            results["upload_s"] = round(time.monotonic() - sent, 1)
            results["written_and_rebooted_s"] = round(until_exit(qemu, 900), 1)  # 2.
        finally:
            stop(qemu)

        qemu = start(base, disk, port, boot=2)  # 3. the trial boot of B
        try:
            results["trial_web_s"] = round(wait_for_page(base, qemu, url, 240, boot=2)[0], 1)
            status, answer = call(f"{url}/status")  # the password of step 1: data kept
            results["password_kept"] = status == 200
            results["slot_after_update"] = answer["system"].get("slot") if status == 200 else None
            results["kept_after_s"] = round(until_kept(url), 1)
            console = console_log(base, 2).read_text(errors="replace")
            results["trial_kept_on_console"] = "slot 3 works: kept" in console
            results["upload_broken"] = upload(url, broken)  # 4.
            results["broken_trial_s"] = round(until_exit(qemu, 900), 1)
        finally:
            stop(qemu)

        qemu = start(base, disk, port, boot=3)  # the broken trial: panics, panic=10 reboots
        try:
            results["broken_boot_ended_s"] = round(until_exit(qemu, 300), 1)
        finally:
            stop(qemu)

        qemu = start(base, disk, port, boot=4)  # and back to B
        try:
            wait_for_page(base, qemu, url, 240, boot=4)
            results["slot_after_fallback"] = call(f"{url}/status")[1]["system"].get("slot")
        finally:
            stop(qemu)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("base", nargs="?", default="build/image/appliance-deskphone-v1")
    args = parser.parse_args()
    need_qemu()
    key = Path(os.environ.get("UPDATE_KEY", "build/keys/update-signing.key"))
    results = run(Path(args.base), key)
    print(json.dumps(results, indent=2))
    ok = (
        results["slot_first"] == "A"
        and results["slot_after_update"] == "B"
        and results["password_kept"] is True
        and results["trial_kept_on_console"] is True
        and results["upload_broken"][0] == 202  # type: ignore[index]
        and results["slot_after_fallback"] == "B"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
