"""dnsmasq, as the DHCP server of a LAN in test namespaces, hands out option 66; the phone finds
its provisioning server from it.

Two namespaces joined by a veth pair (tests/jami/conftest.py ``lan``): dnsmasq in one, serving
10.98.0.0/24 with ``dhcp-option=66`` naming the profiles' nginx; the phone's interface in the other,
with an address of that LAN. The image's NetworkManager dispatcher hook
(image/rootfs/etc/NetworkManager/dispatcher.d/50-appliance-provisioning) runs there as
NetworkManager runs it (as root; the interface and ``up`` as arguments; the lease's address in
``DHCP4_IP_ADDRESS``), asks dnsmasq with a DHCPINFORM and writes the hand-over file. The phone
(assembled in this process as ``appliance run`` assembles it) reads that file, the same path as on
the image, and fetches its profile over HTTPS from nginx (tests/nginx.py) on loopback.

What is not run here: NetworkManager itself (its lease, and its calling the hook).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.jami.conftest import lan
from tests.net import stop
from tests.nginx import Authority, Nginx, serving
from tests.web.conftest import running

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(
        not shutil.which("dnsmasq"), reason="needs dnsmasq (dnsmasq-base): bash .ci/setup --dev"
    ),
    pytest.mark.skipif(not Path("/usr/sbin/nginx").exists(), reason="needs nginx (nginx-light)"),
]

HOOK = Path(__file__).parents[2] / "image/rootfs/etc/NetworkManager/dispatcher.d/50-appliance-provisioning"
APPLIANCE = Path(sys.executable).with_name("appliance")
MAC = "b827eb0a0b0c"
SERVER_SIDE, PHONE_SIDE = "10.98.0.1", "10.98.0.2"  # lan()'s two ends: lana, lanb


@pytest.fixture
def network(tmp_path: Path) -> Iterator[tuple[str, str]]:
    with lan(f"dh{os.getpid() % 100000}") as names:
        yield names


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[tuple[Nginx, Authority]]:
    ca = Authority(tmp_path, "fleet-ca")
    with serving(tmp_path / "nginx", ca) as server:
        (server.www / "common.toml").write_text('[phone]\ncountry = "GB"\n')
        (server.www / f"{MAC}.toml").write_text('[phone]\ndisplay_name = "Room 12"\n')
        yield server, ca


def dnsmasq(namespace: str, tmp_path: Path, *options: str) -> subprocess.Popen[bytes]:
    """dnsmasq as the LAN's DHCP server only (no DNS), in the foreground, logging each exchange;
    ``options`` are dhcp-option lines of its configuration file, as an office's would have them."""
    conf = tmp_path / "dnsmasq.conf"
    conf.write_text("\n".join([
        "port=0", "user=root", "interface=lana", "bind-interfaces", "dhcp-range=10.98.0.100,10.98.0.200,255.255.255.0",
        f"dhcp-leasefile={tmp_path}/leases", f"pid-file={tmp_path}/dnsmasq.pid", "log-dhcp",
        f"log-facility={tmp_path}/dnsmasq.log", *(f"dhcp-option={o}" for o in options),
    ]) + "\n")  # fmt: skip
    command = ["ip", "netns", "exec", namespace, "dnsmasq", "--keep-in-foreground", f"--conf-file={conf}"]
    return subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def hook(namespace: str, handed: Path) -> subprocess.CompletedProcess[str]:
    """The dispatcher script as NetworkManager runs it once lanb has its lease."""
    env = {"PATH": os.environ["PATH"], "DEVICE_IP_IFACE": "lanb", "DHCP4_IP_ADDRESS": PHONE_SIDE,
           "APPLIANCE": str(APPLIANCE), "APPLIANCE_DHCP_FILE": str(handed),
           "PYTHONPATH": os.environ.get("PYTHONPATH", "")}  # fmt: skip
    return subprocess.run(["ip", "netns", "exec", namespace, str(HOOK), "lanb", "up"], env=env,
                          capture_output=True, text=True, timeout=30, check=False)  # fmt: skip


async def sync(stack) -> dict:
    async with stack.admin() as c, c.post("/api/v1/provisioning/sync") as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def test_option_66_from_dnsmasq_names_the_server_the_phone_takes_its_profile_from(
    tmp_path, network, nginx
):
    server, ca = nginx
    host = server.url.removeprefix("https://")  # 127.0.0.1:PORT: the phone's nginx
    handed = tmp_path / "run" / "dhcp-provisioning"
    dhcp = dnsmasq(network[0], tmp_path, f'66,"{host}"')
    try:
        done = hook(network[1], handed)
        assert done.returncode == 0, done.stderr
    finally:
        stop(dhcp, 5)
    log = (tmp_path / "dnsmasq.log").read_text()
    assert f"DHCPINFORM(lana) {PHONE_SIDE}" in log and f"DHCPACK(lana) {PHONE_SIDE}" in log, log
    assert handed.read_text().splitlines()[1:] == ["interface=lanb", f"option_66={host}"]
    assert handed.stat().st_mode & 0o777 == 0o644  # the phone's user reads what root wrote

    table = {"provisioning": {"dhcp_file": str(handed), "ca_file": str(ca.pem.cert), "jitter_s": 0}}
    async with running(tmp_path / "data", table=table, mac=MAC) as stack:
        answer = await sync(stack)
        assert answer["state"] == "ok", answer
        assert (answer["from"], answer["source"]) == ("dhcp option 66", f"{server.url}/{MAC}.toml")
        assert stack.store.config.phone.display_name == "Room 12"
        assert stack.store.config.phone.country == "GB"  # the common file beside it
    assert server.requests() == [("/common.toml", 200), (f"/{MAC}.toml", 200)]


def test_with_no_server_answering_the_hand_over_is_left_as_it_was(tmp_path, network):
    handed = tmp_path / "dhcp-provisioning"
    handed.write_text("interface=lanb\noption_66=prov.example.org\n")  # the last network's
    done = subprocess.run(["ip", "netns", "exec", network[1], str(APPLIANCE), "dhcp-options", "lanb", PHONE_SIDE,
                           "--write", str(handed), "--tries", "1"],
                          capture_output=True, text=True, timeout=30, check=False)  # fmt: skip
    assert done.returncode == 1
    assert "no DHCP server answered a DHCPINFORM on lanb" in done.stderr
    assert handed.read_text() == "interface=lanb\noption_66=prov.example.org\n"


def test_a_lease_without_the_options_hands_over_none(tmp_path, network):
    handed = tmp_path / "dhcp-provisioning"
    handed.write_text("interface=lanb\noption_66=prov.example.org\n")  # the last network's
    dhcp = dnsmasq(network[0], tmp_path)  # this network's server names no provisioning server
    try:
        done = hook(network[1], handed)
    finally:
        stop(dhcp, 5)
    assert done.returncode == 0, done.stderr
    assert handed.read_text().splitlines()[1:] == ["interface=lanb"]
