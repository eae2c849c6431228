"""nmcli's terse output read by the NetworkManager driver (appliance/drivers/networkmanager.py).

The outputs are nmcli 1.42's (Debian 12) for the commands the driver runs, as ``-t`` prints them:
fields split by ``:``, a ``:`` or ``\\`` inside a value escaped with ``\\``, unset values empty.
"""

import pytest

from appliance.drivers.networkmanager import (
    AP_UUID,
    NmcliNetwork,
    added_uuid,
    connections,
    devices,
    fields,
    ipv4_of,
    join_failure,
    properties,
    scanned,
    serial_suffix,
)
from appliance.network.addressing import Ipv4
from appliance.network.wifi import WifiRefusedError

HOME = "3c9f2a5e-7d1b-4a55-9c0e-1b2d3e4f5a6b"
WIRED = "8d1f4b2a-0c3e-4f5a-8b6c-7d8e9f0a1b2c"

WIFI_LIST = """\
*:Home Net:2437 MHz:82:WPA2
 :Home Net:5180 MHz:88:WPA2
 :Cafe\\: Libre:2412 MHz:64:
 ::2462 MHz:30:WPA2
 :back\\\\slash:2412 MHz:20:WPA1 WPA2
 :Neighbours 5G:5180 MHz:41:WPA2 WPA3
 :Neighbours 5G:5200 MHz:55:WPA2 WPA3
"""

CONNECTIONS = f"""\
Home Net:{HOME}:802-11-wireless:wlan0:yes
Wired connection 1:{WIRED}:802-3-ethernet::no
appliance-ap:{AP_UUID}:802-11-wireless::no
lo:6a2b9c1d-2e3f-4a5b-8c7d-9e0f1a2b3c4d:loopback:lo:yes
"""

DEVICES = f"""\
wlan0:wifi:connected:{HOME}
eth0:ethernet:unavailable:
p2p-dev-wlan0:wifi-p2p:disconnected:
lo:loopback:connected (externally):6a2b9c1d-2e3f-4a5b-8c7d-9e0f1a2b3c4d
"""

STATIC = """\
802-11-wireless.ssid:Home Net
802-11-wireless.mode:infrastructure
ipv4.method:manual
ipv4.addresses:192.168.1.20/24
ipv4.gateway:192.168.1.1
ipv4.dns:192.168.1.1,9.9.9.9
"""

DHCP = """\
ipv4.method:auto
ipv4.addresses:
ipv4.gateway:
ipv4.dns:
"""


def test_terse_fields_take_escapes_back():
    assert fields(" :Cafe\\: Libre:2412 MHz:64:") == [" ", "Cafe: Libre", "2412 MHz", "64", ""]
    assert fields("a\\\\b:c") == ["a\\b", "c"]
    assert fields("aa\\:bb\\:cc") == ["aa:bb:cc"]


def test_the_scan_gives_each_network_once_strongest_first_the_one_in_use_kept():
    found = scanned(WIFI_LIST)
    assert [n.ssid for n in found] == ["Home Net", "Cafe: Libre", "Neighbours 5G", "back\\slash"]
    home = found[0]
    assert home.in_use and home.signal == 82 and home.frequency_mhz == 2437 and home.security == "WPA2"
    assert found[1].open and found[1].security == ""
    assert found[2].signal == 55 and found[2].security == "WPA2 WPA3"


def test_connections_and_devices():
    assert connections(CONNECTIONS)[0] == ("Home Net", HOME, "802-11-wireless", "wlan0", True)
    assert connections(CONNECTIONS)[1] == ("Wired connection 1", WIRED, "802-3-ethernet", "", False)
    assert devices(DEVICES)[0] == ("wlan0", "wifi", "connected", HOME)
    assert devices(DEVICES)[3][2] == "connected (externally)"


def test_a_connections_addressing():
    assert ipv4_of(properties(STATIC)) == Ipv4(
        "manual", "192.168.1.20", 24, "192.168.1.1", ("192.168.1.1", "9.9.9.9")
    )
    assert ipv4_of(properties(DHCP)) == Ipv4()
    assert ipv4_of(properties("ipv4.method:auto\nipv4.gateway:--\nipv4.dns:--\n")) == Ipv4()
    assert properties(STATIC)["802-11-wireless.ssid"] == "Home Net"


def test_what_connection_add_says():
    assert added_uuid(f"Connection 'Home Net' ({HOME}) successfully added.\n") == HOME
    with pytest.raises(WifiRefusedError):
        added_uuid("")


@pytest.mark.parametrize(
    ("stderr", "field", "words"),
    [
        (
            "Error: Connection activation failed: Secrets were required, but not provided.\n",
            "psk",
            "wrong password",
        ),
        (
            (
                "Error: Connection activation failed: (7) Secrets were required, but not provided.\n"
                "Hint: use 'journalctl -xe NM_CONNECTION=x + NM_DEVICE=wlan0' to get more details.\n"
            ),
            "psk",
            "wrong password",
        ),
        (
            "Error: Connection activation failed: The Wi-Fi network could not be found.\n",
            "ssid",
            "no network of that name",
        ),
        ("Error: No network with SSID 'Gone' found.\n", "ssid", "no network of that name"),
        (
            (
                "Error: Connection activation failed: IP configuration could not be reserved (no available "
                "address, timeout, etc.).\n"
            ),
            "ssid",
            "gave no address",
        ),
        ("Error: Timeout expired (30 seconds)\n", "ssid", "did not answer in time"),
        ("Error: Not authorized to control networking.\n", "", "polkit rule"),
        ("Error: NetworkManager is not running.\n", "", "not running"),
        ("Error: something new\n", "ssid", "something new"),
    ],
)
def test_why_a_join_failed_in_the_owners_words(stderr, field, words):
    error = join_failure(stderr)
    assert error.field == field and words in error.reason


def test_links_read_from_sysfs(tmp_path):
    net = tmp_path / "net"
    for name, kind, carrier, wireless in (
        ("eth0", "1", "1", False),
        ("wlan0", "1", "1", True),
        ("br0", "1", "1", None),
    ):
        link = net / name
        link.mkdir(parents=True)
        (link / "type").write_text(kind + "\n")
        (link / "carrier").write_text(carrier + "\n")
        if wireless is not None:
            (link / "device").mkdir()
        if wireless:
            (link / "wireless").mkdir()
    arp = tmp_path / "arp"
    arp.write_text(
        "IP address       HW type     Flags       HW address            Mask     Device\n"
        "10.42.0.17       0x1         0x2         aa:bb:cc:dd:ee:01     *        wlan0\n"
        "10.42.0.18       0x1         0x0         00:00:00:00:00:00     *        wlan0\n"
        "192.168.1.1      0x1         0x2         aa:bb:cc:dd:ee:02     *        eth0\n"
    )
    network = NmcliNetwork(sys_net=net, arp=arp)
    assert network._carrier()
    assert network._ap_clients() == 1
    (net / "eth0" / "carrier").write_text("0\n")
    assert not network._carrier()  # wlan0 is wireless, br0 is no device


def test_the_access_point_is_named_after_the_serial_number(tmp_path):
    tree = tmp_path / "serial-number"
    tree.write_bytes(b"00000000c0ffee42\x00")
    assert serial_suffix(tree, tmp_path / "none") == "EE42"
    machine = tmp_path / "machine-id"
    machine.write_text("0123456789abcdef0123456789abcd1f\n")
    assert serial_suffix(tmp_path / "none", machine) == "CD1F"
    assert serial_suffix(tmp_path / "none", tmp_path / "none") == "0000"
