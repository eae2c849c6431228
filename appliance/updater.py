"""What the update units run as root on a device: apply a handed-over bundle, keep a trial slot.

Beside :mod:`appliance.update` (bundles, keys, slots): ``appliance update apply`` is started by
``appliance-update.path`` when the web page or the phone (``firmware.url``) hands a bundle over;
``appliance update commit`` runs after a trial boot and keeps the slot once the phone is up, or
reboots to fall back.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from appliance.durable import atomic_write

from .update import (
    HANDOFF_BUNDLE,
    HANDOFF_READY,
    HANDOFF_STATUS,
    TRIAL_MARK,
    Device,
    SlotState,
    UpdateError,
    apply,
    commit,
    trusted_keys,
)

EXIT_INVALID = 2


def apply_handed_over(
    handoffs: list[Path],
    keys_dir: Path,
    board: str,
    device: Callable[[], Device] = Device.this_one,
    reboot: Callable[[], None] = lambda: _systemctl("--no-block", "reboot"),
) -> int:
    """Apply the bundle handed over in one of ``handoffs`` (the web page's directory, the phone's
    for ``firmware.url``; or a bundle file given directly), report in its status.json, clear the
    hand-off, and reboot into the new slot when it is written.

    One update per boot: the first directory with ``ready`` is applied and any other hand-off is
    dropped with a status saying so, or the next boot (on trial) would write the slot it came from,
    the one left to fall back to."""
    ready = [h for h in handoffs if (h / HANDOFF_READY).exists()]
    if not ready and len(handoffs) == 1 and handoffs[0].is_file():
        return _apply(handoffs[0], None, keys_dir, board, device=device, reboot=reboot)
    if not ready:
        print("appliance update: nothing handed over in " + ", ".join(map(str, handoffs)), file=sys.stderr)
        return EXIT_INVALID
    chosen, *others = ready
    for other in others:
        _clear(other)
        _status(
            other,
            {"state": "failed", "message": f"not applied: the update handed over in {chosen} came first"},
        )
    return _apply(chosen / HANDOFF_BUNDLE, chosen, keys_dir, board, device=device, reboot=reboot)


def _apply(
    bundle: Path, handoff: Path | None, keys_dir: Path, board: str, *,
    device: Callable[[], Device], reboot: Callable[[], None],
) -> int:  # fmt: skip
    try:
        target = device()
        header = apply(bundle, target, trusted_keys(keys_dir), board)
    except (UpdateError, OSError, KeyError) as exc:
        if handoff is not None:
            _status(handoff, {"state": "failed", "message": str(exc)})
        print(f"appliance update: {exc}", file=sys.stderr)
        return EXIT_INVALID
    finally:
        if handoff is not None:
            _clear(handoff)
    message = f"{header.version} written to slot {target.inactive()}: rebooting into it"
    print(message)
    if handoff is not None:
        _status(handoff, {"state": "rebooting", "message": message, "version": header.version})
        reboot()
    return 0


def _clear(handoff: Path) -> None:
    for name in (HANDOFF_BUNDLE, HANDOFF_READY):
        (handoff / name).unlink(missing_ok=True)


def _status(handoff: Path, status: dict[str, str]) -> None:
    atomic_write(handoff / HANDOFF_STATUS, json.dumps(status).encode(), mode=0o644)


def _systemctl(*args: str) -> None:
    subprocess.run(["/bin/systemctl", *args], check=False)  # noqa: S603 - fixed program, our words


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
