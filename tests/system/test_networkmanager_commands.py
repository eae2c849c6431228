"""The NetworkManager driver's commands checked by NetworkManager's own parser, without a daemon:
``nmcli --offline connection add`` / ``modify`` take the same words the driver gives the daemon
and print the keyfile NetworkManager would keep (see test_bootconfig_nm.py for where nmcli comes
from)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.drivers.networkmanager import (
    AP_NAME,
    AP_UUID,
    access_point_settings,
    ipv4_settings,
    wifi_settings,
)
from appliance.network.addressing import Ipv4
from tests.system.test_bootconfig_nm import ssid_octets

UNPACKED = Path(sys.prefix) / "libexec" / "nmcli"
NMCLI = os.environ.get("NMCLI") or shutil.which("nmcli") or (str(UNPACKED) if UNPACKED.exists() else None)
pytestmark = pytest.mark.skipif(not NMCLI, reason="nmcli is not installed (bash .ci/setup --dev unpacks one)")


def offline(*words, keyfile=None):
    result = subprocess.run([NMCLI, "--offline", "--show-secrets", "connection", *words], input=keyfile,
                            capture_output=True, timeout=30, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def values(keyfile):
    section, found = "", {}
    for line in keyfile.decode().splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif "=" in line:
            key, _, value = line.partition("=")
            found[f"{section}.{key}"] = value
    return found


def test_a_joined_network_is_kept_as_imagers_is():
    got = values(offline("add", *wifi_settings('Café: "Net"', "correct horse battery")))
    assert ssid_octets(got["wifi.ssid"]) == 'Café: "Net"'.encode()
    assert got["wifi.mode"] == "infrastructure"
    assert got["wifi.powersave"] == "2"  # power saving off
    assert got["connection.autoconnect-retries"] == "0"  # retried for ever
    assert got.get("connection.autoconnect", "true") == "true"
    assert "connection.interface-name" not in got  # any Wi-Fi device
    assert got["wifi-security.key-mgmt"] == "wpa-psk"
    assert got["wifi-security.psk"] == "correct horse battery"
    assert got.get("wifi.hidden", "false") == "false"


def test_an_open_and_a_hidden_network():
    open_ = values(offline("add", *wifi_settings("Cafe Libre", None)))
    assert "wifi-security.key-mgmt" not in open_
    hidden = values(offline("add", *wifi_settings("Attic", "a" * 64, hidden=True)))
    assert hidden["wifi.hidden"] == "true" and hidden["wifi-security.psk"] == "a" * 64


def test_the_access_point_is_wpa2_and_shares_the_phones_network():
    got = values(offline("add", *access_point_settings("Jami-Phone-EE42", "123456789012")))
    assert got["connection.id"] == AP_NAME and got["connection.uuid"] == AP_UUID
    assert got["connection.autoconnect"] == "false"  # opened by the fallback only
    assert got["wifi.mode"] == "ap" and got["wifi.ssid"] == "Jami-Phone-EE42" and got["wifi.band"] == "bg"
    assert got["wifi.powersave"] == "2"
    assert got["wifi-security.key-mgmt"] == "wpa-psk" and got["wifi-security.proto"] == "rsn;"
    assert got["wifi-security.pairwise"] == "ccmp;" and got["wifi-security.group"] == "ccmp;"
    assert got["wifi-security.psk"] == "123456789012"
    assert got["ipv4.method"] == "shared"  # NetworkManager's dnsmasq hands out addresses
    assert got["ipv4.address1"] == "10.42.0.1/24"  # where the display says the page is
    assert got["ipv6.method"] == "ignore"


def test_a_static_address_and_back_to_dhcp():
    keyfile = offline("add", *wifi_settings("Home Net", "correct horse battery"))
    static = offline("modify", *ipv4_settings(Ipv4("manual", "192.168.1.20", 24, "192.168.1.1", ("192.168.1.1", "9.9.9.9"))),
                     keyfile=keyfile)  # fmt: skip
    got = values(static)
    assert got["ipv4.method"] == "manual"
    assert got["ipv4.address1"] == "192.168.1.20/24,192.168.1.1"
    assert got["ipv4.dns"] == "192.168.1.1;9.9.9.9;"
    back = values(offline("modify", *ipv4_settings(Ipv4()), keyfile=static))
    assert back["ipv4.method"] == "auto"
    assert "ipv4.address1" not in back and "ipv4.dns" not in back
    assert back["wifi-security.psk"] == "correct horse battery"  # the key is not touched


def test_a_static_address_without_gateway():
    keyfile = offline("add", *wifi_settings("Lab", None))
    got = values(offline("modify", *ipv4_settings(Ipv4("manual", "10.0.0.5", 8)), keyfile=keyfile))
    assert got["ipv4.address1"] == "10.0.0.5/8" and "ipv4.gateway" not in got
