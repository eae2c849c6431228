"""What the update units run as root on a device: apply a handed-over bundle, keep a trial slot.

Beside :mod:`appliance.update` (bundles, keys, slots): ``appliance update apply`` is started by
``appliance-update.path`` when the web page hands a bundle over; ``appliance update commit`` runs
after a trial boot and keeps the slot once the phone is up, or reboots to fall back.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from appliance.durable import atomic_write

from .update import TRIAL_MARK, Device, SlotState, UpdateError, apply, commit, trusted_keys

EXIT_INVALID = 2


def apply_handed_over(handoff: Path, keys_dir: Path, board: str) -> int:
    """Apply the bundle the web page left in ``handoff`` (or a bundle file given directly), report
    in its status.json, clear the hand-off, and reboot into the new slot when it is written."""
    bundle = handoff / "upload.bundle" if handoff.is_dir() else handoff
    status = handoff / "status.json" if handoff.is_dir() else None
    try:
        device = Device.this_one()
        header = apply(bundle, device, trusted_keys(keys_dir), board)
    except (UpdateError, OSError, KeyError) as exc:
        if status is not None:
            atomic_write(status, json.dumps({"state": "failed", "message": str(exc)}).encode(), mode=0o644)
        print(f"appliance update: {exc}", file=sys.stderr)
        return EXIT_INVALID
    finally:
        if handoff.is_dir():
            for name in ("upload.bundle", "ready"):
                (handoff / name).unlink(missing_ok=True)
    message = f"{header.version} written to slot {device.inactive()}: rebooting into it"
    print(message)
    if status is not None:
        done = {"state": "rebooting", "message": message, "version": header.version}
        atomic_write(status, json.dumps(done).encode(), mode=0o644)
        subprocess.run(["/bin/systemctl", "--no-block", "reboot"], check=False)
    return 0


def commit_when_up(within_s: float) -> int:
    """On a slot on trial: once the phone is up (its unit active: it was ready), keep this slot;
    if it is not up in time, reboot, and the boot after falls back to the slot that worked."""
    device = Device.this_one()
    state = SlotState.read(device.state_path)
    if state.trying != device.booted:
        return 0
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        up = subprocess.run(["/bin/systemctl", "is-active", "--quiet", "appliance.service"], check=False)
        if up.returncode == 0:
            commit(device)
            TRIAL_MARK.unlink(missing_ok=True)  # the page stops saying "on trial"
            print(f"slot {device.booted} works: kept")
            return 0
        time.sleep(2)
    print(
        f"slot {device.booted} did not bring the phone up in {within_s:.0f} s: back to the other",
        file=sys.stderr,
    )
    subprocess.run(["/bin/systemctl", "reboot"], check=False)
    return 1
