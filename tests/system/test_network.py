"""The status page's network survey against a real UPnP router: miniupnpd in a namespace of its own
between a 'LAN' (the phone's namespace) and a 'WAN' one. Nothing leaves the three namespaces."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(not shutil.which("miniupnpd"), reason="needs miniupnpd (a UPnP router)"),
]

BIN = Path(sys.executable).with_name("appliance")
OUTSIDE = "11.22.33.44"  # the router's 'public' address, inside the test's WAN namespace only
ROUTER_CONF = """ext_ifname=wan0
listening_ip=lan0
port=5555
enable_upnp=yes
enable_natpmp=no
secure_mode=yes
uuid=3d3cec3a-8cf0-11e0-98ee-001a6b3f6d5d
allow 1024-65535 192.168.77.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
"""


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


@pytest.fixture
def home_network(tmp_path):
    """Namespaces phone <-> router <-> wan; yields the phone's namespace with miniupnpd running."""
    tag = f"up{os.getpid() % 100000}"
    phone, router, wan = f"{tag}-ph", f"{tag}-rt", f"{tag}-wan"
    for name in (phone, router, wan):
        sh("ip", "netns", "add", name)
    proc = None
    try:
        sh(
            "ip",
            "link",
            "add",
            "lan0",
            "netns",
            router,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            phone,
        )
        sh("ip", "link", "add", "wan0", "netns", router, "type", "veth", "peer", "name", "up0", "netns", wan)
        for ns, dev, address in ((router, "lan0", "192.168.77.1/24"), (router, "wan0", f"{OUTSIDE}/24"),
                                 (wan, "up0", "11.22.33.1/24"), (phone, "eth0", "192.168.77.2/24")):  # fmt: skip
            sh("ip", "-n", ns, "addr", "add", address, "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
        for ns in (phone, router, wan):
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", phone, "route", "add", "default", "via", "192.168.77.1")
        sh("ip", "-n", router, "route", "add", "default", "via", "11.22.33.1")
        (tmp_path / "miniupnpd.conf").write_text(ROUTER_CONF)
        with (tmp_path / "miniupnpd.log").open("wb") as log:
            proc = subprocess.Popen(
                ["ip", "netns", "exec", router, "miniupnpd", "-d", "-f", str(tmp_path / "miniupnpd.conf"),
                 "-P", str(tmp_path / "miniupnpd.pid")], stdout=log, stderr=log,
            )  # fmt: skip
        yield phone
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        for name in (phone, router, wan):
            subprocess.run(["ip", "netns", "del", name], check=False)


def in_namespace(ns: str, code: str) -> dict:
    result = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", code],
                            capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    return json.loads(result.stdout)


def test_the_survey_finds_the_router_and_its_outside_address(home_network):
    found = in_namespace(home_network, "import json; from appliance.drivers.network import survey; "
                                       "print(json.dumps(survey()))")  # fmt: skip
    assert found["addresses"] == {"eth0": "192.168.77.2"}
    assert found["default_gateway"] == "192.168.77.1"
    assert found["upnp"]["found"] and found["upnp"]["external_address"] == OUTSIDE
    assert found["upnp"]["gateway"].startswith("http://192.168.77.1:5555/")
    assert "Behind a router with UPnP (outside address 11.22.33.44)" in found["nat"]


def test_the_status_page_shows_it(home_network, tmp_path):
    """The whole way: `appliance run` in the phone's namespace, GET /api/v1/network over HTTP."""
    (tmp_path / "pw").write_text("network page")
    with (tmp_path / "phone.log").open("wb") as log:
        phone = subprocess.Popen(
            ["ip", "netns", "exec", home_network, str(BIN), "run", "--data", str(tmp_path / "data"),
             "--listen", "192.168.77.2:8080", "--admin-password-file", str(tmp_path / "pw")],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip
    try:
        answer = in_namespace(
            home_network,
            """
import base64, json, time, urllib.request
auth = {"Authorization": "Basic " + base64.b64encode(b"admin:network page").decode()}
for _ in range(100):
    try:
        with urllib.request.urlopen(urllib.request.Request("http://192.168.77.2:8080/api/v1/network",
                                                           headers=auth), timeout=10) as r:
            print(r.read().decode()); break
    except OSError:
        time.sleep(0.1)
""",
        )
    finally:
        phone.terminate()
        phone.wait(10)
    assert answer["upnp"]["external_address"] == OUTSIDE
    assert answer["dht"]["bootstrap"] == ["bootstrap.jami.net:4222 (public)"]
    assert answer["dht"]["own_node"] is None
