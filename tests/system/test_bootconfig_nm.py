"""The Wi-Fi keyfile read back by NetworkManager's own parser (libnm, ``nmcli --offline``).

``bash .ci/setup --dev`` unpacks nmcli from Debian's network-manager and libnm0 packages into
``.venv/libexec`` (installing them would let NetworkManager manage the test machine's network);
an installed nmcli or ``NMCLI=/path/to/nmcli`` is used first.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.provision.render import nm_keyfile
from appliance.provision.settings import Wifi
from tests.unit.test_bootconfig import PSK

UNPACKED = Path(sys.prefix) / "libexec" / "nmcli"  # the venv the tests run in
NMCLI = os.environ.get("NMCLI") or shutil.which("nmcli") or (str(UNPACKED) if UNPACKED.exists() else None)
pytestmark = pytest.mark.skipif(not NMCLI, reason="nmcli is not installed (bash .ci/setup --dev unpacks one)")


def read_back(wifi):
    """NetworkManager parses the keyfile and writes it again: the values as it understood them."""
    result = subprocess.run(
        [NMCLI, "--offline", "--show-secrets", "connection", "modify", "connection.zone", ""],
        input=nm_keyfile(wifi),
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    section, values = "", {}
    for line in result.stdout.decode().splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif "=" in line:
            key, _, value = line.partition("=")
            values[f"{section}.{key}"] = value
    return values


def ssid_octets(written):
    """The keyfile's SSID as octets: NetworkManager's list of integers, or an escaped string."""
    if written.endswith(";") and all(part.isdigit() for part in written[:-1].split(";")):
        return bytes(int(part) for part in written[:-1].split(";"))
    escapes = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
    text = re.sub(r"\\(.)", lambda m: escapes.get(m[1], "\\" + m[1]), written)  # GKeyFile's escapes
    return text.replace("\\;", ";").encode()  # then NetworkManager's own for ';' in a string SSID


@pytest.mark.parametrize(
    "wifi",
    [
        Wifi(ssid=b"Home Net", psk=PSK),
        Wifi(ssid=b"a;b", passphrase="pass word 1", hidden=True),
        Wifi(ssid="Café".encode(), psk=PSK),
        Wifi(ssid=b"\xff\xfe"),
        Wifi(ssid=b"1234", psk=PSK),
        Wifi(ssid=b" edge ", psk=PSK),
    ],
)
def test_networkmanager_reads_what_is_written(wifi):
    values = read_back(wifi)
    assert ssid_octets(values["wifi.ssid"]) == wifi.ssid
    assert values["wifi.powersave"] == "2"
    assert values["connection.type"] == "wifi"
    assert values["connection.autoconnect-retries"] == "0"
    assert values.get("wifi.hidden", "false") == ("true" if wifi.hidden else "false")
    if wifi.open:
        assert "wifi-security.key-mgmt" not in values
    else:
        assert values["wifi-security.key-mgmt"] == "wpa-psk"
        assert values["wifi-security.psk"] == (wifi.psk or wifi.passphrase)
