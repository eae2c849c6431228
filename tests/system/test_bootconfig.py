"""``appliance bootconfig`` as the image's early-boot unit runs it, on an Imager-made boot partition."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit import imager
from tests.unit.test_bootconfig import PSK, SETTINGS

BIN = Path(sys.executable).with_name("appliance")


def bootconfig(boot, root, zoneinfo, *extra):
    return subprocess.run(
        [
            str(BIN),
            "bootconfig",
            "--boot",
            str(boot),
            "--root",
            str(root),
            "--zoneinfo",
            str(zoneinfo),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def setup(tmp_path, settings=None, generator=imager.firstrun_v2):
    zoneinfo = imager.zoneinfo(tmp_path / "zoneinfo")
    data = generator({**SETTINGS, **(settings or {})})
    boot = imager.boot_partition(tmp_path / "boot", {"firstrun.sh": data}, firstrun=True)
    return boot, tmp_path / "root", zoneinfo


def test_applied_then_put_aside(tmp_path):
    boot, root, zoneinfo = setup(tmp_path)
    result = bootconfig(boot, root, zoneinfo)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "hostname: kitchen-phone" in out
    assert "wifi: 'Home Net' (WPA key, not shown)" in out
    assert "ssh: on, 2 key(s)" in out
    assert "wrote /etc/NetworkManager/system-connections/appliance-wifi.nmconnection (mode 0600)" in out
    assert "boot partition: firstrun.sh -> firstrun.sh.done" in out
    assert PSK not in out + result.stderr
    assert "correct horse" not in out + result.stderr
    assert (root / "etc/hostname").read_text() == "kitchen-phone\n"
    assert "systemd.run" not in (boot / "cmdline.txt").read_text()
    again = bootconfig(boot, root, zoneinfo)  # the next boot: nothing left to do
    assert again.returncode == 0
    assert "nothing from Raspberry Pi Imager" in again.stdout


def test_dry_run_writes_nothing(tmp_path):
    boot, root, zoneinfo = setup(tmp_path)
    result = bootconfig(boot, root, zoneinfo, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "would write /etc/hostname" in result.stdout
    assert not root.exists()
    assert (boot / "firstrun.sh").exists()


def test_refused_with_reasons_and_the_rest_applied(tmp_path):
    boot, root, zoneinfo = setup(
        tmp_path, {"wifiPassword": "short", "hostname": "$(reboot)", "timezone": "Mars/Base"}
    )
    result = bootconfig(boot, root, zoneinfo)
    assert result.returncode == 2
    assert "refused: firstrun.sh: wifi.password: a WPA passphrase is 8 to 63 characters" in result.stderr
    assert "refused: firstrun.sh: hostname: '$' outside quotes is a command substitution" in result.stderr
    assert "refused: firstrun.sh: timezone:" in result.stderr
    assert "short" not in result.stdout + result.stderr.replace("shortest", "")
    assert (root / "var/lib/admin/.ssh/authorized_keys").is_file()  # what was good is applied
    assert not (root / "etc/hostname").exists()
    assert (boot / "firstrun.sh").exists()  # left for the owner to correct
    assert "systemd.run=/boot/firstrun.sh" in (boot / "cmdline.txt").read_text()


def test_image_layout_writes_the_data_partition_only(tmp_path, monkeypatch):
    boot, root, zoneinfo = setup(tmp_path)
    result = bootconfig(boot, root, zoneinfo, "--layout", "image")
    assert result.returncode == 0, result.stderr
    assert "wrote /var/lib/system/hostname (mode 0644): host name kitchen-phone" in result.stdout
    assert "wrote /var/lib/NetworkManager/system-connections/appliance-wifi.nmconnection" in result.stdout
    assert sorted(p.name for p in root.iterdir()) == ["var"]
    assert "systemd.run" not in (boot / "cmdline.txt").read_text()


def test_set_hostname_names_the_running_system(tmp_path, monkeypatch):
    """In process, with sethostname caught: the test machine's own name is not touched."""
    import socket

    from appliance.app import main

    named = []
    monkeypatch.setattr(socket, "sethostname", named.append)
    boot, root, zoneinfo = setup(tmp_path)
    argv = ["bootconfig", "--boot", str(boot), "--root", str(root), "--zoneinfo", str(zoneinfo)]
    with pytest.raises(SystemExit) as dry:
        main([*argv, "--layout", "image", "--set-hostname", "--dry-run"])
    assert dry.value.code == 0
    assert named == []  # a dry run changes nothing
    with pytest.raises(SystemExit) as done:
        main([*argv, "--layout", "image", "--set-hostname"])
    assert done.value.code == 0
    assert named == ["kitchen-phone"]


def test_a_read_only_boot_partition_is_remounted_for_the_put_aside_only(tmp_path, monkeypatch):
    """The image's boot partition is mounted read-only: the first write fails with EROFS (nothing
    changed yet), then it is remounted read-write for the put-aside and read-only again."""
    import errno
    import subprocess as sp

    from appliance.apps import bootconfig as command

    real_consume = command.consume
    calls = []

    def consume(boot, settings):
        calls.append("consume")
        if calls.count("consume") == 1:
            raise OSError(errno.EROFS, "Read-only file system")
        return real_consume(boot, settings)

    def run(cmd, check):
        calls.append(" ".join(cmd[1:]))
        return sp.CompletedProcess(cmd, 0)

    monkeypatch.setattr(command, "consume", consume)
    monkeypatch.setattr(command.subprocess, "run", run)
    boot, root, zoneinfo = setup(tmp_path)
    argv = ["bootconfig", "--boot", str(boot), "--root", str(root), "--zoneinfo", str(zoneinfo)]
    from appliance.app import main

    with pytest.raises(SystemExit) as done:
        main([*argv, "--layout", "image", "--remount-boot"])
    assert done.value.code == 0
    assert calls == ["consume", f"-o remount,rw {boot}", "consume", f"-o remount,ro {boot}"]
    assert (boot / "firstrun.sh.done").exists()
    calls.clear()
    (boot / "firstrun.sh.done").rename(boot / "firstrun.sh")
    with pytest.raises(SystemExit) as refused:  # without --remount-boot: the error, no remount
        main([*argv, "--layout", "image"])
    assert refused.value.code == 1
    assert calls == ["consume"]


def test_the_module_runs_alone_as_the_image_unit_does(tmp_path):
    boot, root, zoneinfo = setup(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "appliance.apps.bootconfig", "--boot", str(boot), "--root", str(root),
         "--zoneinfo", str(zoneinfo), "--layout", "image"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (root / "var/lib/system/hostname").read_text() == "kitchen-phone\n"
    assert (boot / "firstrun.sh.done").exists()
