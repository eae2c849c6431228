"""What the boot settings become under a root: files, modes, links; and the boot files put aside."""

import configparser
import stat

import pytest

from appliance.provision.bootfiles import read_boot
from appliance.provision.render import Targets, apply, blot, consume, nm_keyfile, plan, strip_cmdline
from appliance.provision.settings import BootSettings, Form, Wifi
from tests.unit import imager
from tests.unit.test_bootconfig import KEY1, KEY2, PSK, SETTINGS


@pytest.fixture
def zoneinfo(tmp_path):
    return imager.zoneinfo(tmp_path / "zoneinfo")


def mode(path):
    return stat.S_IMODE(path.lstat().st_mode)


def keyfile(data):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(data.decode())
    return parser


def applied(tmp_path, zoneinfo, boot):
    report = read_boot(boot, zoneinfo)
    assert report.ok, report.problems
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\tjami-phone-1234\n# keep me\n")
    writes, problems = plan(report.settings, root)
    assert problems == []
    apply(writes, root)
    return report.settings, root, writes


def test_everything_written_with_its_mode(tmp_path, zoneinfo):
    boot = imager.boot_partition(
        tmp_path / "boot", {"firstrun.sh": imager.firstrun_v2(SETTINGS)}, firstrun=True
    )
    _, root, writes = applied(tmp_path, zoneinfo, boot)
    assert (root / "etc/hostname").read_text() == "kitchen-phone\n"
    assert (root / "etc/hosts").read_text() == "127.0.0.1\tlocalhost\n# keep me\n127.0.1.1\tkitchen-phone\n"
    connection = root / "etc/NetworkManager/system-connections/appliance-wifi.nmconnection"
    assert mode(connection) == 0o600
    nm = keyfile(connection.read_bytes())
    assert nm["connection"]["type"] == "wifi"
    assert nm["connection"]["autoconnect"] == "true"
    assert nm["wifi"]["ssid"] == "Home Net"
    assert nm["wifi"]["powersave"] == "2"  # off
    assert nm["wifi-security"]["key-mgmt"] == "wpa-psk"
    assert nm["wifi-security"]["psk"] == PSK
    assert "hidden" not in nm["wifi"]
    assert (
        root / "etc/modprobe.d/appliance-wifi-country.conf"
    ).read_text() == "options cfg80211 ieee80211_regdom=GB\n"
    keys = root / "var/lib/admin/.ssh/authorized_keys"
    assert keys.read_text() == f"{KEY1}\n{KEY2}\n"
    assert mode(keys) == 0o600
    assert mode(keys.parent) == 0o700
    sshd = (root / "etc/ssh/sshd_config.d/10-appliance.conf").read_text()
    assert "PasswordAuthentication no" in sshd
    assert "KbdInteractiveAuthentication no" in sshd
    assert "AllowUsers admin" in sshd
    wants = root / "etc/systemd/system/multi-user.target.wants/ssh.service"
    assert wants.is_symlink() and str(wants.readlink()) == "/lib/systemd/system/ssh.service"
    localtime = root / "etc/localtime"
    assert localtime.is_symlink() and str(localtime.readlink()) == "/usr/share/zoneinfo/Europe/London"
    assert (root / "etc/timezone").read_text() == "Europe/London\n"
    assert not list(root.rglob("*.tmp"))
    assert all(PSK not in write.what and "correct horse" not in write.what for write in writes)


def test_applying_twice_gives_the_same_files(tmp_path, zoneinfo):
    boot = imager.boot_partition(
        tmp_path / "boot", {"firstrun.sh": imager.firstrun_v2(SETTINGS)}, firstrun=True
    )
    settings, root, _ = applied(tmp_path, zoneinfo, boot)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and not p.is_symlink()}
    apply(plan(settings, root)[0], root)
    assert before == {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and not p.is_symlink()}


def test_a_fresh_root_gets_a_hosts_file(tmp_path):
    root = tmp_path / "root"
    apply(plan(BootSettings(hostname="desk.example.org"), root)[0], root)
    hosts = (root / "etc/hosts").read_text()
    assert hosts.startswith("127.0.0.1\tlocalhost\n")
    assert hosts.endswith("127.0.1.1\tdesk.example.org desk\n")


def test_open_hidden_network_and_a_passphrase():
    nm = keyfile(nm_keyfile(Wifi(ssid=b"Cafe", hidden=True)))
    assert "wifi-security" not in nm
    assert nm["wifi"]["hidden"] == "true"
    nm = keyfile(nm_keyfile(Wifi(ssid=b"Cafe", passphrase=" lead\\ing")))
    assert nm["wifi-security"]["psk"] == "\\slead\\\\ing"  # GKeyFile escapes


@pytest.mark.parametrize(
    ("ssid", "written"),
    [
        (b"Home Net", "Home Net"),
        ("Café".encode(), "Café"),
        (b"a;b", "97;59;98;"),
        (b"1234", "49;50;51;52;"),
        (b"\xff\xfe", "255;254;"),
        (b" edge ", "32;101;100;103;101;32;"),
    ],
)
def test_ssid_in_the_keyfile(ssid, written):
    assert keyfile(nm_keyfile(Wifi(ssid=ssid, psk=PSK)))["wifi"]["ssid"] == written


def test_ssh_without_a_key_stays_off(tmp_path):
    writes, problems = plan(
        BootSettings(files=("firstrun.sh",), ssh_enabled=True, ssh_password_auth=True), tmp_path
    )
    assert writes == []
    assert [(p.field, "never turned on" in p.reason) for p in problems] == [("ssh", True)]


def test_targets_can_point_elsewhere(tmp_path):
    targets = Targets(ssh_user="phone", ssh_home="var/lib/phone-admin", hostname="var/lib/appliance/hostname")
    settings = BootSettings(hostname="desk", ssh_enabled=True, ssh_keys=(KEY1,))
    apply(plan(settings, tmp_path, targets)[0], tmp_path)
    assert (tmp_path / "var/lib/appliance/hostname").read_text() == "desk\n"
    assert (tmp_path / "var/lib/phone-admin/.ssh/authorized_keys").is_file()
    assert "AllowUsers phone" in (tmp_path / "etc/ssh/sshd_config.d/10-appliance.conf").read_text()


# --- the boot partition after a successful apply ------------------------------------------------


def test_firstrun_consumed_and_cmdline_cleaned(tmp_path, zoneinfo):
    boot = imager.boot_partition(
        tmp_path / "boot", {"firstrun.sh": imager.firstrun_v2(SETTINGS)}, firstrun=True, regdom="GB"
    )
    settings = read_boot(boot, zoneinfo).settings
    done = consume(boot, settings)
    assert not (boot / "firstrun.sh").exists()
    aside = (boot / "firstrun.sh.done").read_text()
    assert PSK not in aside
    assert "$y$j9T$" not in aside  # the password hash is not left either
    assert "set_hostname kitchen-phone" in aside
    assert (boot / "cmdline.txt").read_text() == imager.CMDLINE + " cfg80211.ieee80211_regdom=GB"
    assert done[0] == "firstrun.sh -> firstrun.sh.done"
    assert read_boot(boot, zoneinfo).settings.form is Form.NONE  # not read again


def test_firstrun_of_imager_1_6_consumed_without_the_passphrase(tmp_path, zoneinfo):
    boot = imager.boot_partition(
        tmp_path / "boot", {"firstrun.sh": imager.firstrun_v16(SETTINGS)}, firstrun=True
    )
    settings = read_boot(boot, zoneinfo).settings
    consume(boot, settings)
    assert "correct horse battery" not in (boot / "firstrun.sh.done").read_text()


def test_cloud_init_consumed(tmp_path, zoneinfo):
    files = {
        "user-data": imager.cloud_user_data(SETTINGS),
        "network-config": imager.cloud_network_config(SETTINGS),
    }
    boot = imager.boot_partition(tmp_path / "boot", files, cloud=True)
    settings = read_boot(boot, zoneinfo).settings
    consume(boot, settings)
    assert sorted(p.name for p in boot.iterdir()) == [
        "cmdline.txt",
        "config.txt",
        "meta-data.done",
        "network-config.done",
        "user-data.done",
    ]
    assert PSK not in (boot / "network-config.done").read_text()
    assert "$y$" not in (boot / "user-data.done").read_text()
    assert "ds=nocloud" in (boot / "cmdline.txt").read_text()  # harmless without cloud-init: left alone


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("a=1 b=2", "a=1 b=2"),
        (
            "a=1 systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target b=2\n",
            "a=1 b=2\n",
        ),
        ("systemd.run=/boot/firstrun.sh a=1", "a=1"),
        ("a=1  systemd.run=/boot/firmware/firstrun.sh", "a=1"),
        ("a=1 systemd.unit=rescue.target systemd.run=/boot/firstrun.sh", "a=1 systemd.unit=rescue.target"),
        ("a=1 systemd.unit=kernel-command-line.target", "a=1 systemd.unit=kernel-command-line.target"),
    ],
)
def test_strip_cmdline(before, after):
    assert strip_cmdline(before) == after


def test_blot_replaces_the_key_wherever_it_is():
    settings = BootSettings(wifi=Wifi(ssid=b"x", passphrase="hunter2hunter2"))
    assert "hunter2hunter2" not in blot("firstrun.sh", "# hunter2hunter2\nfoo hunter2hunter2\n", settings)
