"""Imager's settings on the SD card image: written to the data partition (the root is read-only),
and the image's own files (NetworkManager, sshd, the units) agree with where they are written."""

import configparser
import stat
from pathlib import Path

import pytest

from appliance.provision.bootfiles import FIRSTRUN, NETWORK_CONFIG, PRESEED, USER_DATA, read_boot
from appliance.provision.render import IMAGE_TARGETS, SSHD_DROPIN, SYSTEM_DIR, apply, plan
from tests.unit import imager
from tests.unit.test_bootconfig import KEY1, KEY2, PSK, SETTINGS

REPO = Path(__file__).parents[2]
ROOTFS = REPO / "image" / "rootfs"
UNITS = REPO / "systemd"


def ini(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False, empty_lines_in_values=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys keep their case
    parser.read_string(path.read_text())
    return parser


def unit_values(path: Path, section: str, key: str) -> list[str]:
    """Every value of a systemd directive that may repeat (configparser keeps only the last)."""
    values, current = [], None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("["):
            current = line.strip("[]")
        elif current == section and line.startswith(f"{key}="):
            values.append(line.partition("=")[2])
    return values


@pytest.fixture
def applied(tmp_path):
    zoneinfo = imager.zoneinfo(tmp_path / "zoneinfo")
    boot = imager.boot_partition(
        tmp_path / "boot", {"firstrun.sh": imager.firstrun_v18(SETTINGS)}, firstrun=True
    )
    report = read_boot(boot, zoneinfo)
    assert report.ok, report.problems
    root = tmp_path / "root"
    writes, problems = plan(report.settings, root, IMAGE_TARGETS)
    assert problems == []
    apply(writes, root)
    return root, writes


def test_everything_goes_to_the_data_partition(applied):
    root, writes = applied
    assert writes
    assert all(write.path.startswith("var/lib/") for write in writes), [w.path for w in writes]
    assert not (root / "etc").exists()  # the image's /etc is the read-only squashfs
    system = root / SYSTEM_DIR
    assert (system / "hostname").read_text() == "kitchen-phone\n"
    assert (system / "timezone").read_text() == "Europe/London\n"
    assert str((system / "localtime").readlink()) == "/usr/share/zoneinfo/Europe/London"
    assert (system / "wifi-country.conf").read_text() == "options cfg80211 ieee80211_regdom=GB\n"
    keys = root / "var/lib/admin/.ssh/authorized_keys"
    assert keys.read_text() == f"{KEY1}\n{KEY2}\n"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    connection = root / IMAGE_TARGETS.connection
    assert stat.S_IMODE(connection.stat().st_mode) == 0o600
    nm = ini(connection)
    assert nm["wifi"]["ssid"] == "Home Net"
    assert nm["wifi"]["powersave"] == "2"
    assert nm["wifi-security"]["psk"] == PSK


def test_the_image_has_no_sshd_or_ssh_enable_to_write(applied):
    _, writes = applied
    # The image ships both: the sshd drop-in, and ssh.service started by the key file's presence.
    assert not [w for w in writes if "ssh" in w.path and "authorized_keys" not in w.path]


def test_networkmanager_reads_the_keyfile_where_it_is_written():
    conf = ini(ROOTFS / "etc/NetworkManager/conf.d/appliance.conf")
    assert "/" + str(Path(IMAGE_TARGETS.connection).parent) == conf["keyfile"]["path"]
    assert conf["connection"]["wifi.powersave"] == "2"  # off, for every Wi-Fi connection
    assert conf["connection"]["connection.mdns"] == "2"  # HOSTNAME.local answered on every link
    assert conf["main"]["dns"] == "systemd-resolved"
    assert conf["main"]["hostname-mode"] == "none"  # DHCP does not rename the phone
    resolved = ini(ROOTFS / "etc/systemd/resolved.conf.d/appliance.conf")
    assert resolved["Resolve"]["MulticastDNS"] == "yes"


def test_the_page_is_advertised_over_mdns():
    web = (UNITS / "appliance-web.service").read_text()
    for name, kind, variable in (("https", "_https._tcp", "APPLIANCE_WEB_LISTEN"),
                                 ("http", "_http._tcp", "APPLIANCE_WEB_HTTP_LISTEN")):  # fmt: skip
        service = ini(ROOTFS / f"etc/systemd/dnssd/appliance-{name}.dnssd")["Service"]
        assert service["Type"] == kind
        assert f"{variable}=[::]:{service['Port']}" in web
        assert service["Name"] == "%H"  # the host name, whatever the owner chose


def test_the_image_serves_https_and_sends_http_there():
    """The web unit's command line, its variables filled in as systemd does, is a valid config
    with HTTPS on 443 and plain HTTP on 80 sent there."""
    import shlex

    from appliance.app import parser
    from appliance.apps.common import layers_for
    from appliance.assembly import check

    unit = UNITS / "appliance-web.service"
    env = dict(value.partition("=")[::2] for value in unit_values(unit, "Service", "Environment"))
    command = unit_values(unit, "Service", "ExecStart")[0]
    for key, value in env.items():
        command = command.replace(f"${{{key}}}", value)
    args = parser().parse_args([*shlex.split(command)[1:], "--config", "/dev/null"])
    web = check(layers_for(args, None)).config.web
    assert (web.https, web.listen, web.http_listen) == (True, "[::]:443", "[::]:80")
    capabilities = unit_values(unit, "Service", "AmbientCapabilities")
    assert capabilities == ["CAP_NET_BIND_SERVICE"]  # both ports below 1024, no root


def test_the_image_sshd_dropin_is_the_renderers_and_names_a_host_key_on_the_data_partition():
    lines = (ROOTFS / "etc/ssh/sshd_config.d/10-appliance.conf").read_text().splitlines()
    wanted = [
        line
        for line in SSHD_DROPIN.format(user=IMAGE_TARGETS.ssh_user).splitlines()
        if not line.startswith("#")
    ]
    assert set(wanted) <= set(lines)
    host_keys = [line.split()[1] for line in lines if line.startswith("HostKey ")]
    assert host_keys
    assert all(key.startswith("/var/lib/ssh/") for key in host_keys)
    script = (ROOTFS / "usr/local/sbin/appliance-ssh-hostkeys").read_text()
    assert all(key in script or key.rpartition("/")[0] in script for key in host_keys)


def test_ssh_starts_only_with_the_key_file_bootconfig_writes():
    dropin = ROOTFS / "etc/systemd/system/ssh.service.d/appliance.conf"
    conditions = unit_values(dropin, "Unit", "ConditionPathExists")
    assert conditions == [f"/{IMAGE_TARGETS.ssh_home}/.ssh/authorized_keys"]
    pre = unit_values(dropin, "Service", "ExecStartPre")
    assert pre == ["", "/usr/local/sbin/appliance-ssh-hostkeys", "/usr/sbin/sshd -t"]  # keys before -t


def test_the_unit_runs_when_imager_left_a_file_and_before_what_uses_it():
    unit = UNITS / "appliance-bootconfig.service"
    conditions = unit_values(unit, "Unit", "ConditionPathExists")
    assert sorted(conditions) == sorted(
        f"|/boot/firmware/{n}" for n in (FIRSTRUN, USER_DATA, NETWORK_CONFIG, PRESEED)
    )
    before = " ".join(unit_values(unit, "Unit", "Before")).split()
    for later in ("NetworkManager.service", "ssh.service", "appliance.service", "appliance-web.service"):
        assert later in before
    (start,) = unit_values(unit, "Service", "ExecStart")
    assert "--layout image" in start
    assert "--set-hostname" in start
    assert "--remount-boot" in start  # the boot partition is read-only in use


def test_the_data_partition_holds_what_etc_links_to():
    lines = (ROOTFS / "etc/tmpfiles.d/appliance-system.conf").read_text().splitlines()
    made = {line.split()[1] for line in lines if line and not line.startswith("#")}
    for target in (IMAGE_TARGETS.localtime, IMAGE_TARGETS.timezone, IMAGE_TARGETS.regulatory):
        assert f"/{target}" in made
    assert f"/{SYSTEM_DIR}" in made
    assert f"/{IMAGE_TARGETS.ssh_home}" in made


def test_imagers_unit_name_boots_the_ordinary_system():
    target = ini(ROOTFS / "etc/systemd/system/kernel-command-line.target")["Unit"]
    assert target["Requires"] == "multi-user.target"
    assert target["After"] == "multi-user.target"
