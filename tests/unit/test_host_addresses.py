"""The addresses the page's certificate is issued for, read as the web unit's sandbox allows
(sysfs, one ioctl per link, procfs; no netlink)."""

import ipaddress
import json
import shutil
import subprocess

import pytest

from appliance.drivers.network import host_addresses

IF_INET6 = """\
00000000000000000000000000000001 01 80 10 80       lo
fd123456000000000000000000000023 02 40 00 80     eth0
20010db8000000000000000000000023 02 40 00 00     eth0
20010db80000000000000000000000aa 02 40 00 01     eth0
20010db80000000000000000000000bb 02 40 00 20     eth0
20010db80000000000000000000000cc 02 40 00 c0     eth0
fe800000000000000000000000001234 02 40 20 80     eth0
"""


def test_stable_ipv6_addresses_only(tmp_path):
    (tmp_path / "net" / "lo").mkdir(parents=True)
    (tmp_path / "if_inet6").write_text(IF_INET6)
    found = host_addresses(tmp_path / "net", tmp_path / "if_inet6")
    # Loopback, the privacy address (flag 01), the deprecated (20) and tentative (40) ones left
    # out; link-local kept here (the certificate leaves it out, see appliance.web.tls).
    assert found == [ipaddress.ip_address(a) for a in ("fd12:3456::23", "2001:db8::23", "fe80::1234")]


def test_no_ipv6_in_the_kernel(tmp_path):
    (tmp_path / "net").mkdir()
    assert host_addresses(tmp_path / "net", tmp_path / "no-such-file") == []


@pytest.mark.skipif(not shutil.which("ip"), reason="needs iproute2")
def test_this_hosts_addresses_as_iproute2_lists_them():
    links = json.loads(
        subprocess.run(["ip", "-j", "addr"], capture_output=True, text=True, check=True).stdout
    )
    listed = {
        ipaddress.ip_address(a["local"])
        for link in links if link["ifname"] != "lo"
        for a in link.get("addr_info", [])
        if a["family"] == "inet6" and not a.get("temporary") and not a.get("tentative")
        and not a.get("deprecated") and not a.get("dadfailed")
    }  # fmt: skip
    primary_v4 = {
        ipaddress.ip_address(next(a["local"] for a in link["addr_info"] if a["family"] == "inet"))
        for link in links
        if link["ifname"] != "lo" and any(a["family"] == "inet" for a in link.get("addr_info", []))
    }
    assert set(host_addresses()) == listed | primary_v4


def test_the_hostname_is_the_one_written_not_the_namespaces(tmp_path):
    import socket

    from appliance.apps.web import static_hostname

    (tmp_path / "hostname").write_text("hall-phone\n")
    assert static_hostname(tmp_path / "hostname") == "hall-phone"
    for bad in (b"", b"\xff\xfe", b"rm -rf /\n"):
        (tmp_path / "hostname").write_bytes(bad)
        assert static_hostname(tmp_path / "hostname") == socket.gethostname()
    assert static_hostname(tmp_path / "none") == socket.gethostname()
