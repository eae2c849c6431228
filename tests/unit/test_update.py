"""Signed A/B updates: bundles checked before use, the other slot written, a trial boot that is
kept once the phone comes up and undone when it does not (the initramfs's own script decides)."""

import errno
import json
import subprocess
from pathlib import Path

import pytest

from appliance import update

REPO = Path(__file__).parents[2]
AB_SCRIPT = REPO / "image/rootfs/etc/initramfs-tools/scripts/local-top/appliance-ab"


@pytest.fixture
def keys(tmp_path):
    update.generate_key(tmp_path / "release.key", tmp_path / "keys" / "release.pem")
    return tmp_path / "release.key", update.trusted_keys(tmp_path / "keys")


@pytest.fixture
def bundle(tmp_path, keys):
    payload = tmp_path / "root.squashfs"
    payload.write_bytes(b"hsqs" + bytes(range(256)) * 5000)  # ~1.3 MB standing in for a root image
    out = tmp_path / "new.bundle"
    update.make_bundle(payload, out, key=keys[0], board="deskphone-v1", version="2.0")
    return out, payload


def device(tmp_path, booted=2):
    boot = tmp_path / "boot"
    boot.mkdir(exist_ok=True)
    slots = {n: tmp_path / f"slot{n}" for n in update.SLOTS}
    for path in slots.values():
        if not path.exists():
            path.write_bytes(b"\0" * 16)
    return update.Device(boot, slots, booted)


def boot(dev) -> int:
    """What the initramfs picks at the next boot (the real script, on the same state file)."""
    return int(boot_choice(dev).split()[0])


def boot_choice(dev) -> str:
    result = subprocess.run(["sh", str(AB_SCRIPT), "decide", str(dev.state_path)], capture_output=True,
                            text=True, check=True)  # fmt: skip
    return result.stdout.strip()


def test_a_good_bundle_verifies_and_names_itself(bundle, keys):
    header = update.verify(bundle[0], keys[1], "deskphone-v1")
    assert (header.board, header.version, header.payload_size) == (
        "deskphone-v1",
        "2.0",
        bundle[1].stat().st_size,
    )


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda b: b[:-10] + b"x" * 10, "does not match its signed checksum"),
        (lambda b: b[:-1000], "cut short"),
        (lambda b: b + b"extra", "longer than its header"),
        (lambda b: b.replace(b'"2.0"', b'"9.9"', 1), "signature is not from a trusted key"),
        (lambda b: b"PK\x03\x04" + b[4:], "not an update bundle"),
    ],
)
def test_a_spoiled_bundle_is_refused_and_no_slot_goes_on_trial(tmp_path, bundle, keys, spoil, message):
    bad = tmp_path / "bad.bundle"
    bad.write_bytes(spoil(bundle[0].read_bytes()))
    with pytest.raises(update.UpdateError, match=message):
        update.verify(bad, keys[1], "deskphone-v1")
    dev = device(tmp_path)
    with pytest.raises(update.UpdateError, match=message):
        update.apply(bad, dev, keys[1], "deskphone-v1")
    assert update.SlotState.read(dev.state_path).trying is None
    assert boot(dev) == 2


def test_another_key_or_board_is_refused(tmp_path, bundle):
    update.generate_key(tmp_path / "other.key", tmp_path / "other" / "other.pem")
    with pytest.raises(update.UpdateError, match="not from a trusted key"):
        update.verify(bundle[0], update.trusted_keys(tmp_path / "other"), "deskphone-v1")
    with pytest.raises(update.UpdateError, match="no update key"):
        update.verify(bundle[0], [], "deskphone-v1")


def test_wrong_board(bundle, keys):
    with pytest.raises(update.UpdateError, match="for board 'deskphone-v1', this phone is 'adapter-v1'"):
        update.verify(bundle[0], keys[1], "adapter-v1")


def test_applied_then_kept_once_the_phone_comes_up(tmp_path, bundle, keys):
    dev = device(tmp_path, booted=2)
    update.apply(bundle[0], dev, keys[1], "deskphone-v1")
    assert dev.slot_path[3].read_bytes() == bundle[1].read_bytes()  # the other slot, never the running one
    assert dev.slot_path[2].read_bytes() == b"\0" * 16
    assert boot_choice(dev) == "3 trial"  # the trial boot (the commit unit runs only then)
    assert update.commit(update.Device(dev.boot_dir, dev.slot_path, booted=3))
    assert boot_choice(dev) == "3" and boot(dev) == 3  # kept, no longer a trial
    assert update.SlotState.read(dev.state_path).active == 3


def test_no_update_while_the_running_system_is_still_on_trial(tmp_path, bundle, keys):
    dev = device(tmp_path, booted=2)
    update.apply(bundle[0], dev, keys[1], "deskphone-v1")
    assert boot(dev) == 3
    on_trial = update.Device(dev.boot_dir, dev.slot_path, booted=3)
    with pytest.raises(update.UpdateError, match="itself on trial"):
        update.apply(bundle[0], on_trial, keys[1], "deskphone-v1")  # slot 2 is all that is known to work
    assert update.commit(on_trial)
    update.apply(bundle[0], on_trial, keys[1], "deskphone-v1")  # kept: now slot 2 may be written
    assert update.SlotState.read(dev.state_path).trying == 2


def test_a_trial_that_never_comes_up_falls_back(tmp_path, bundle, keys):
    dev = device(tmp_path, booted=2)
    update.apply(bundle[0], dev, keys[1], "deskphone-v1")
    assert boot(dev) == 3  # ... and the phone does not come up: no commit
    assert boot(dev) == 2  # the next boot goes back to what worked
    state = update.SlotState.read(dev.state_path)
    assert (state.active, state.trying, state.failed) == (2, None, 3)
    assert not update.commit(dev)  # nothing on trial any more


def test_the_initramfs_survives_a_damaged_state_file(tmp_path):
    dev = device(tmp_path)
    marker = tmp_path / "ran"
    dev.state_path.write_text(f"ACTIVE=7\nTRY=$(touch {marker})\nTRIES=x\n")
    assert boot(dev) == 2
    assert not marker.exists()  # read as data, never run


@pytest.mark.parametrize("read_only_after_remount", [False, True])
def test_a_read_only_boot_partition_is_remounted_for_the_one_write(
    tmp_path, monkeypatch, read_only_after_remount
):
    dev = device(tmp_path)
    mounts: list[str] = []
    real_write = update.SlotState.write

    def write(state, path):
        if not mounts or mounts[-1] != "remount,rw" or read_only_after_remount:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        real_write(state, path)

    monkeypatch.setattr(update.SlotState, "write", write)
    monkeypatch.setattr(update.subprocess, "run", lambda cmd, check: mounts.append(cmd[2]))
    state = update.SlotState(active=2, trying=3, tries=0, failed=None)
    if read_only_after_remount:
        with pytest.raises(update.UpdateError, match="stayed read-only after remount"):
            update._write_boot(dev, state)
    else:
        update._write_boot(dev, state)
        assert update.SlotState.read(dev.state_path).trying == 3
    assert mounts == ["remount,rw", "remount,ro"]  # read-only again either way


def handed_over(folder: Path, bundle: Path) -> Path:
    """A hand-over as the page and the phone leave one (appliance.update.hand_over's files)."""
    folder.mkdir()
    (folder / update.HANDOFF_BUNDLE).write_bytes(bundle.read_bytes())
    (folder / update.HANDOFF_READY).touch()
    return folder


def test_the_first_ready_hand_over_is_applied_and_another_is_dropped_with_a_reason(tmp_path, bundle, keys):
    """appliance-update.path watches the page's and the phone's directories: one update a boot,
    or the trial boot would write the slot it came from (the one to fall back to)."""
    from appliance import updater

    dev, reboots = device(tmp_path), []
    page = tmp_path / "page"
    page.mkdir()
    phone = handed_over(tmp_path / "phone", bundle[0])
    later = handed_over(tmp_path / "later", bundle[0])
    run = lambda: updater.apply_handed_over(  # noqa: E731
        [page, phone, later],
        tmp_path / "keys",
        "deskphone-v1",
        device=lambda: dev,
        reboot=lambda: reboots.append(1),
    )
    assert run() == 0 and reboots == [1]
    assert update.SlotState.read(dev.state_path).trying == 3
    assert (dev.slot_path[3]).read_bytes()[: len(bundle[1].read_bytes())] == bundle[1].read_bytes()
    assert json.loads((phone / update.HANDOFF_STATUS).read_text())["state"] == "rebooting"
    assert not (phone / update.HANDOFF_READY).exists() and not (phone / update.HANDOFF_BUNDLE).exists()
    dropped = json.loads((later / update.HANDOFF_STATUS).read_text())
    assert dropped["state"] == "failed" and str(phone) in dropped["message"]
    assert not (later / update.HANDOFF_READY).exists() and not (later / update.HANDOFF_BUNDLE).exists()
    assert not (page / update.HANDOFF_STATUS).exists()  # nothing was handed over there
    assert run() == 2 and reboots == [1]  # nothing left to apply: no second write, no reboot


def test_a_refused_hand_over_says_why_and_does_not_reboot(tmp_path, bundle, keys):
    from appliance import updater

    update.generate_key(tmp_path / "other.key", tmp_path / "other" / "other.pem")
    dev, reboots = device(tmp_path), []
    phone = handed_over(tmp_path / "phone", bundle[0])
    code = updater.apply_handed_over(
        [phone], tmp_path / "other", "deskphone-v1", device=lambda: dev, reboot=lambda: reboots.append(1)
    )
    status = json.loads((phone / update.HANDOFF_STATUS).read_text())
    assert code == 2 and reboots == [] and status["state"] == "failed" and "trusted key" in status["message"]
    assert (
        update.SlotState.read(dev.state_path).trying is None and not (phone / update.HANDOFF_BUNDLE).exists()
    )
