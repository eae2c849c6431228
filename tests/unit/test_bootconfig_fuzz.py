"""Whatever bytes are on the boot partition, the parser answers (never raises), and whatever it
accepts is plain, printable data."""

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.provision.bootfiles import read_boot
from tests.unit import imager
from tests.unit.test_bootconfig import SETTINGS

PIECES = [
    "/usr/lib/raspberrypi-sys-mods/imager_custom set_hostname ",
    "/usr/lib/raspberrypi-sys-mods/imager_custom set_wlan -h ",
    "/usr/lib/raspberrypi-sys-mods/imager_custom enable_ssh -k ",
    "echo ",
    " >/etc/hostname",
    "cat >/etc/wpa_supplicant/wpa_supplicant.conf <<'WPAEOF'\n",
    "WPAEOF\n",
    "network={\n",
    '\tssid="',
    "\tpsk=",
    "}\n",
    "'",
    '"',
    "'\"'\"'",
    "$(",
    "`",
    "\\",
    "\n",
    " ",
    "hostname: ",
    "#cloud-config\n",
    "access-points:\n",
    "&a ",
    "*a",
    "\x00",
    "\x1b",
    "\udcff",
]
TEXT = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)), max_size=40).map("".join)


def _printable(value):
    return all(char.isprintable() for char in value)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    firstrun=TEXT.map(lambda t: t.encode("utf-8", "surrogateescape")),
    user_data=st.binary(max_size=200),
    network=TEXT.map(lambda t: t.encode("utf-8", "surrogateescape")),
    seed=st.booleans(),
)
def test_any_bytes(firstrun, user_data, network, seed):
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        zoneinfo = imager.zoneinfo(base / "zoneinfo")
        real = imager.firstrun_v2(SETTINGS) if seed else b""
        boot = imager.boot_partition(base / "boot", {"firstrun.sh": real + firstrun}, firstrun=True)
        found = read_boot(boot, zoneinfo).settings
        cloud = imager.boot_partition(
            base / "cloud", {"user-data": user_data, "network-config": network}, cloud=True
        )
        found_cloud = read_boot(cloud, zoneinfo).settings
    for s in (found, found_cloud):
        for value in (s.hostname, s.timezone, s.country, s.keyboard, s.user, *s.ssh_keys):
            assert value is None or _printable(value)
        if s.hostname:
            assert not set(s.hostname) & set("$`;|&<> '\"\\")
        if s.wifi and s.wifi.passphrase:
            assert _printable(s.wifi.passphrase)
