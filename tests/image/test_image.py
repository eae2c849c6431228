"""The built SD card image: its units verify against its own root, and it boots in QEMU to a phone.

Building takes ~13 minutes on 2 cores (`sudo image/build`), so these tests run on an image that
exists (build/image, or $IMAGE_BASE) and skip otherwise; `IMAGE_BUILD=1 bash .ci/run` builds first.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
BASE = Path(os.environ.get("IMAGE_BASE", REPO / "build" / "image" / "appliance-deskphone-v1"))
ROOTFS = BASE.parent / f"work-{BASE.name.removeprefix('appliance-')}" / "rootfs"

pytestmark = pytest.mark.skipif(
    not BASE.with_name(BASE.name + ".img.xz").exists(), reason=f"no built image at {BASE} (sudo image/build)"
)


@pytest.mark.skipif(not ROOTFS.is_dir(), reason="the build's root file system is gone")
@pytest.mark.parametrize("unit", sorted(p.name for p in (REPO / "systemd").glob("*.service")))
def test_units_verify_against_the_built_root(unit):
    result = subprocess.run(
        ["systemd-analyze", "verify", f"--root={ROOTFS}", f"/etc/systemd/system/{unit}"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(
    not shutil.which("qemu-system-aarch64"),
    reason="needs qemu-system-arm (IMAGE_BUILD=1 bash .ci/setup --dev installs it)",
)
@pytest.mark.timeout(600)
def test_the_image_boots_in_qemu_to_a_phone():
    result = subprocess.run(
        [sys.executable, str(REPO / "image" / "boot_test.py"), str(BASE)], capture_output=True, text=True
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(
    not all(shutil.which(t) for t in ("qemu-system-aarch64", "mcopy", "fdtget")),
    reason="needs qemu-system-arm, mtools and device-tree-compiler (IMAGE_BUILD=1 bash .ci/setup --dev)",
)
@pytest.mark.timeout(1500)
def test_the_image_boots_as_a_raspberry_pi_3_to_a_phone():
    result = subprocess.run(
        [sys.executable, str(REPO / "image" / "raspi_boot_test.py"), str(BASE)],
        capture_output=True,
        text=True,
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(
    not shutil.which("qemu-system-aarch64"),
    reason="needs qemu-system-arm (IMAGE_BUILD=1 bash .ci/setup --dev installs it)",
)
@pytest.mark.skipif(
    not (REPO / "build" / "keys" / "update-signing.key").exists(), reason="no build signing key"
)
@pytest.mark.timeout(2400)
def test_a_signed_update_is_kept_and_a_broken_one_falls_back():
    result = subprocess.run(
        [sys.executable, str(REPO / "image" / "update_test.py"), str(BASE)], capture_output=True, text=True,
        cwd=REPO,
    )  # fmt: skip
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(
    not all(shutil.which(t) for t in ("qemu-system-aarch64", "dnsmasq", "mcopy", "ssh", "unshare")),
    reason="needs qemu-system-arm, dnsmasq-base, mtools and ssh (IMAGE_BUILD=1 bash .ci/setup --dev)",
)
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: a network namespace with a tap device")
@pytest.mark.timeout(900)
def test_imagers_settings_give_the_name_key_and_time_zone_at_the_first_boot():
    result = subprocess.run(
        [sys.executable, str(REPO / "image" / "firstboot_test.py"), str(BASE)], capture_output=True, text=True,
        cwd=REPO,
    )  # fmt: skip
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(not ROOTFS.is_dir(), reason="the build's root file system is gone")
def test_the_read_only_roots_settings_link_to_the_data_partition():
    from appliance.provision.render import IMAGE_TARGETS

    for link, target in (
        ("etc/hostname", IMAGE_TARGETS.hostname),
        ("etc/localtime", IMAGE_TARGETS.localtime),
        ("etc/timezone", IMAGE_TARGETS.timezone),
        ("etc/modprobe.d/appliance-wifi-country.conf", IMAGE_TARGETS.regulatory),
    ):
        assert (ROOTFS / link).is_symlink(), link
        assert str((ROOTFS / link).readlink()) == f"/{target}", link
    assert not list((ROOTFS / "etc/ssh").glob("ssh_host_*")), "host keys are made on each device"
    admin = next(
        line for line in (ROOTFS / "etc/passwd").read_text().splitlines() if line.startswith("admin:")
    )
    assert admin.split(":")[5] == f"/{IMAGE_TARGETS.ssh_home}"
    wants = ROOTFS / "etc/systemd/system/multi-user.target.wants"
    # Links into the built root (absolute, so not followed here).
    for unit in ("ssh.service", "NetworkManager.service", "appliance-bootconfig.service"):
        assert (wants / unit).is_symlink(), unit
    assert not (wants / "systemd-networkd.service").is_symlink()  # one network manager, not two


@pytest.mark.skipif(not ROOTFS.is_dir(), reason="the build's root file system is gone")
def test_the_root_has_what_the_wifi_setup_needs():
    assert (ROOTFS / "usr/sbin/dnsmasq").exists(), "dnsmasq-base: the access point's DHCP (shared mode)"
    assert list(ROOTFS.glob("lib/modules/*/kernel/drivers/net/wireless/mac80211_hwsim.ko*")), (
        "the QEMU test's radios"
    )
    rule = ROOTFS / "etc/polkit-1/rules.d/50-appliance-network.rules"
    assert rule.is_file() and (ROOTFS / "usr/lib/polkit-1/polkitd").exists()
    conf = (ROOTFS / "etc/NetworkManager/conf.d/appliance.conf").read_text()
    assert "auth-polkit=true" in conf and "firewall-backend=none" in conf and "wifi.powersave=2" in conf
