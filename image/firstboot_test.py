#!/usr/bin/env python3
"""The first boot after Raspberry Pi Imager, in QEMU: image/firstboot_test.py [build/image/appliance-BOARD]

The image is written to a card as Imager leaves it after its OS-customisation dialog: Imager 1.8's
``firstrun.sh`` (hostname, SSH public key, Wi-Fi network and country, time zone) on the FAT
partition, and its additions to ``cmdline.txt`` (``systemd.run=/boot/firstrun.sh
systemd.run_success_action=reboot systemd.unit=kernel-command-line.target``), which QEMU's
``-kernel`` boot is given on its command line as the Pi's firmware would from cmdline.txt.

QEMU's user networking carries no multicast, so the guest's network card is a tap device in a
network namespace of this test's own (``unshare --net``: nothing of the host's network is touched),
with dnsmasq handing out an address on it, as a home router does. From that side of the link, as a
laptop on the LAN:

- ``HOSTNAME.local`` resolves over mDNS (tests/image/mdns.py), ``_https._tcp`` and ``_http._tcp``
  name the page;
- the web page answers over HTTPS at that address and to ``Host: HOSTNAME.local``, its certificate
  trusted (the device's CA as the only anchor) for both; plain HTTP is sent there; HSTS; dial
  tone after setup;
- SSH takes the key (as ``admin``) and offers no password method; the host name and time zone seen
  through it are Imager's; NetworkManager has loaded the Wi-Fi network (no radio in QEMU: its
  settings as NetworkManager read them are shown), power saving off;
- after the boot, Imager's files on the FAT partition are put aside and cmdline.txt cleaned.

Needs root (the namespace, the tap device), qemu-system-arm, dnsmasq-base, mtools, ssh. Prints the
figures as JSON; the exit status says whether every check held. QEMU and dnsmasq are stopped by PID.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "image"))
sys.path.insert(0, str(REPO))

from boot_test import PASSWORD, QEMU, UNVERIFIED, call, console_log, setup_code, stop, unpack  # noqa: E402

from tests.image import mdns  # noqa: E402
from tests.unit import imager  # noqa: E402

HOSTNAME = "kitchen-phone"
TIMEZONE = "Europe/Berlin"
SSID = "Home Net"
WIFI_PASSWORD = "correct horse battery"
COUNTRY = "DE"
IMAGER_CMDLINE = (
    "systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target"
)
HOST_ADDRESS = "10.13.0.1"
TAP = "tap13"
MAC = "52:54:00:13:00:02"


def fat_offset(disk: Path) -> int:
    """Byte offset of partition 1 (the FAT boot partition), from the MBR."""
    with disk.open("rb") as f:
        mbr = f.read(512)
    return int.from_bytes(mbr[446 + 8 : 446 + 12], "little") * 512


def mtools(disk: Path, *args: str, stdin: bytes | None = None) -> bytes:
    image = f"{disk}@@{fat_offset(disk)}"
    result = subprocess.run(
        [args[0], "-i", image, *args[1:]], input=stdin, capture_output=True, check=True
    )  # fmt: skip
    return result.stdout


def write_imager_settings(disk: Path, public_key: str, work: Path) -> dict[str, Any]:
    """firstrun.sh as Imager 1.8 writes it, and its words on cmdline.txt."""
    settings = {
        "hostname": HOSTNAME,
        "sshPublicKey": public_key,
        "sshUserName": "pi",
        "sshUserPassword": "$5$notused$0123456789abcdefghijklmnopqrstuvwxyzABCDEF",
        "wifiSSID": SSID,
        "wifiPassword": WIFI_PASSWORD,
        "recommendedWifiCountry": COUNTRY,
        "timezone": TIMEZONE,
        "keyboard": "de",
    }
    firstrun = work / "firstrun.sh"
    firstrun.write_bytes(imager.firstrun_v18(settings))
    mtools(disk, "mcopy", "-o", str(firstrun), "::/firstrun.sh")
    cmdline = mtools(disk, "mtype", "::/cmdline.txt").decode().strip()
    (work / "cmdline.txt").write_text(f"{cmdline} cfg80211.ieee80211_regdom={COUNTRY} {IMAGER_CMDLINE}\n")
    mtools(disk, "mcopy", "-o", str(work / "cmdline.txt"), "::/cmdline.txt")
    return {"cmdline_before": (work / "cmdline.txt").read_text().strip()}


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def link_up() -> None:
    """The LAN side, inside this namespace: a tap device the guest's card is plugged into."""
    sh("ip", "link", "set", "lo", "up")
    sh("ip", "tuntap", "add", "dev", TAP, "mode", "tap")
    sh("ip", "addr", "add", f"{HOST_ADDRESS}/24", "dev", TAP)
    sh("ip", "link", "set", TAP, "up")


def start_dhcp(work: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", f"--interface={TAP}",
            "--bind-interfaces", "--port=0", "--dhcp-range=10.13.0.10,10.13.0.20,1h",
            f"--dhcp-leasefile={work}/leases", f"--pid-file={work}/dnsmasq.pid", "--log-dhcp",
        ],
        stdout=subprocess.DEVNULL, stderr=(work / "dnsmasq.log").open("wb"),
    )  # fmt: skip


def start_qemu(base: Path, disk: Path) -> subprocess.Popen[bytes]:
    sig = base.with_name(base.name + ".disk-signature").read_text().strip()
    append = (
        f"root=PARTUUID={sig}-02 rootfstype=squashfs ro panic=10 console=ttyAMA0 appliance.board=desktop "
        f"systemd.journald.forward_to_console=1 cfg80211.ieee80211_regdom={COUNTRY} {IMAGER_CMDLINE}"
    )
    cmd = [
        QEMU, "-M", "virt", "-cpu", "cortex-a53", "-smp", "2", "-m", "1024",
        "-kernel", str(base.with_name(base.name + ".vmlinuz")),
        "-initrd", str(base.with_name(base.name + ".initrd.img")),
        "-append", append,
        "-drive", f"file={disk},if=none,format=raw,id=hd", "-device", "virtio-blk-pci,drive=hd",
        "-netdev", f"tap,id=net,ifname={TAP},script=no,downscript=no",
        "-device", f"virtio-net-pci,netdev=net,romfile=,mac={MAC}",
        "-display", "none", "-monitor", "none", "-serial", f"file:{console_log(base)}", "-no-reboot",
    ]  # fmt: skip
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def resolve(qemu: subprocess.Popen[bytes], base: Path, timeout_s: float) -> str:
    """HOSTNAME.local's address, asked over mDNS until the phone answers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if qemu.poll() is not None:
            raise RuntimeError(f"QEMU exited: {qemu.stderr.read().decode() if qemu.stderr else ''}")
        name = f"{HOSTNAME}.local"
        for record in mdns.ask(name, mdns.A, HOST_ADDRESS, timeout_s=1.0):
            if record.name == name and record.type == mdns.A:
                return record.value
    tail = console_log(base).read_text(errors="replace")[-4000:]
    raise RuntimeError(f"{HOSTNAME}.local never answered over mDNS:\n{tail}")


def page(url: str, host: str | None = None) -> tuple[int, Any]:
    headers = {"Host": host} if host else {}
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=10, context=UNVERIFIED
        ) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None


def wait_for_page(url: str, qemu: subprocess.Popen[bytes], timeout_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if qemu.poll() is not None:
            raise RuntimeError("QEMU exited while waiting for the page")
        with contextlib.suppress(OSError, ValueError):
            if page(f"{url}/setup")[0] == 200:
                return time.monotonic()
        time.sleep(0.5)
    raise RuntimeError("the web page never answered")


def ssh(
    key: Path, known: Path, address: str, *command: str, options: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "ssh", "-i", str(key), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new",
            "-o", f"UserKnownHostsFile={known}", "-o", "ConnectTimeout=10", *options,
            f"admin@{address}", *command,
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def wait_for_ssh(key: Path, known: Path, address: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
    deadline = time.monotonic() + timeout_s
    result = ssh(key, known, address, "true")
    while result.returncode != 0 and time.monotonic() < deadline:
        time.sleep(2)
        result = ssh(key, known, address, "true")
    return result


# What the test reads on the device through SSH: the name and clock Imager asked for, what
# NetworkManager made of the Wi-Fi keyfile, the memory its daemons take, and when dial tone came.
PROBE = """
echo "hostname=$(hostname)"
echo "timezone=$(cat /etc/timezone)"
echo "zone_abbrev=$(date +%Z)"
echo "localtime=$(readlink -f /etc/localtime)"
echo "active=$(systemctl is-active NetworkManager systemd-resolved ssh appliance appliance-web | paste -sd, -)"
echo "bootconfig=$(systemctl show -p Result --value appliance-bootconfig.service)"
echo "default_target=$(systemctl get-default)"
echo "ready_us=$(systemctl show -p ActiveEnterTimestampMonotonic --value appliance.service)"
echo "startup=$(systemd-analyze time 2>/dev/null | head -n 1)"
echo "rss_kb=$(ps -o comm=,rss= -C NetworkManager,wpa_supplicant,systemd-resolve,sshd,polkitd | awk '{printf "%s:%s ", $1, $2}')"
echo "mem_available_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)"
echo "regdom=$(cat /sys/module/cfg80211/parameters/ieee80211_regdom 2>/dev/null || tr ' ' '\\n' < /proc/cmdline | sed -n 's/^cfg80211.ieee80211_regdom=//p')"
echo "host_key=$(ssh-keygen -l -f /var/lib/ssh/ssh_host_ed25519_key.pub)"
echo "wifi_connection=$(nmcli -t -f NAME,TYPE,FILENAME connection show | grep 802-11-wireless)"
nmcli --fields connection.id,connection.autoconnect,802-11-wireless.ssid,802-11-wireless.powersave,802-11-wireless-security.key-mgmt,ipv4.method connection show "Home Net" | sed 's/^/nm: /'
"""


def probe(key: Path, known: Path, address: str) -> dict[str, Any]:
    result = ssh(key, known, address, PROBE)
    if result.returncode != 0:
        raise RuntimeError(f"ssh probe failed: {result.stderr}")
    values: dict[str, Any] = {"nm": {}}
    for line in result.stdout.splitlines():
        if line.startswith("nm: "):
            field, _, value = line[4:].partition(":")
            values["nm"][field.strip()] = value.strip()
        elif "=" in line:
            field, _, value = line.partition("=")
            values[field] = value.strip()
    return values


def password_methods(key: Path, known: Path, address: str) -> tuple[list[str], str]:
    """What the server offers a client that has no key: the methods it lists after 'none'."""
    result = ssh(
        key, known, address, "true",
        options=("-v", "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password,keyboard-interactive",
                 "-o", "NumberOfPasswordPrompts=0"),
    )  # fmt: skip
    offered = re.findall(r"Authentications that can continue: (\S+)", result.stderr)
    denied = next((line for line in result.stderr.splitlines() if "Permission denied" in line), "")
    return (offered[-1].split(",") if offered else []), denied


def inside(base: Path, timeout_s: float) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        disk = work / "disk.img"
        unpack(base, disk)
        key = work / "id_ed25519"
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "owner@laptop", "-f", str(key))
        results |= write_imager_settings(disk, key.with_suffix(".pub").read_text().strip(), work)
        known = work / "known_hosts"
        link_up()
        dhcp = start_dhcp(work)
        qemu = start_qemu(base, disk)
        powered = time.monotonic()
        try:
            address = resolve(qemu, base, timeout_s)
            results["mdns_answers_s"] = round(time.monotonic() - powered, 1)
            results["mdns_address"] = address
            services = mdns.ask("_http._tcp.local", mdns.PTR, HOST_ADDRESS)
            results["mdns_http_service"] = sorted({r.value for r in services if r.type == mdns.PTR})
            results["mdns_http_srv"] = sorted({r.value for r in services if r.type == mdns.SRV})
            services = mdns.ask("_https._tcp.local", mdns.PTR, HOST_ADDRESS)
            results["mdns_https_service"] = sorted({r.value for r in services if r.type == mdns.PTR})
            results["mdns_https_srv"] = sorted({r.value for r in services if r.type == mdns.SRV})
            url = f"https://{address}/api/v1"
            results["web_page_answers_s"] = round(wait_for_page(url, qemu, timeout_s) - powered, 1)
            try:
                results |= https_checks(address)
            except (OSError, ValueError) as exc:  # the verdict names what is missing
                results["https_error"] = repr(exc)
            results["page_by_name"] = page(f"{url}/setup", host=f"{HOSTNAME}.local")[0]
            results["page_by_other_name"] = page(f"{url}/setup", host="evil.example")[0]
            code = setup_code(base)
            results["setup"] = _setup(url, code)
            results["tone_after_lift"] = _lift(url)
            login = wait_for_ssh(key, known, address, timeout_s)
            results["ssh_key_login"] = login.returncode == 0
            if login.returncode != 0:
                results["ssh_error"] = login.stderr[-500:]
            else:
                results |= probe(key, known, address)
                results["ssh_methods_without_key"], results["ssh_denied"] = password_methods(
                    key, known, address
                )
            results["console_tail"] = console_log(base).read_text(errors="replace")[-800:]
        finally:
            stop(qemu)
            dhcp.terminate()
            dhcp.wait(10)
        listing = mtools(disk, "mdir", "-b", "::/").decode().split()
        results["boot_files_after"] = sorted(name.removeprefix("::/") for name in listing)
        results["cmdline_after"] = mtools(disk, "mtype", "::/cmdline.txt").decode().strip()
    return results


def https_checks(address: str, timeout_s: float = 30.0) -> dict[str, object]:
    """The page as a browser that trusts the device's CA (downloaded from the page) sees it, by
    name and address; plain HTTP sent to HTTPS; HSTS over HTTPS. The address may be new to the
    certificate for up to 10 s (the page re-issues it when DHCP's address appears)."""
    with urllib.request.urlopen(
        f"https://{address}/api/v1/system/ca.crt", timeout=10, context=UNVERIFIED
    ) as r:
        trusted = ssl.create_default_context(cadata=r.read().decode())
    trust: dict[str, str] = {}
    deadline = time.monotonic() + timeout_s
    for name in (f"{HOSTNAME}.local", address):
        while True:
            try:
                with (
                    socket.create_connection((address, 443), timeout=10) as raw,
                    trusted.wrap_socket(raw, server_hostname=name),
                ):
                    trust[name] = "trusted"
                    break
            except ssl.SSLError as exc:
                trust[name] = str(exc)
                if time.monotonic() > deadline:
                    break
                time.sleep(1)
    plain = http.client.HTTPConnection(address, 80, timeout=10)
    try:
        plain.request("GET", "/status", headers={"Host": f"{HOSTNAME}.local"})
        answer = plain.getresponse()
        redirect = [
            answer.status,
            answer.getheader("Location"),
            answer.getheader("Strict-Transport-Security"),
        ]
    finally:
        plain.close()
    with urllib.request.urlopen(f"https://{address}/api/v1/setup", timeout=10, context=trusted) as r:
        hsts = r.headers.get("Strict-Transport-Security")
    return {"https_trust": trust, "http_redirect": redirect, "hsts": hsts}


def _setup(url: str, code: str) -> int:
    return call(f"{url}/setup", "POST", {"password": PASSWORD, "code": code})[0]


def _lift(url: str) -> str:
    _, lifted = call(f"{url}/sim/hook", "POST", {"off_hook": True})
    return str(lifted["phone"]["tone"])


def verdict(results: dict[str, Any]) -> list[str]:
    """Every check that did not hold, in words (empty: all held)."""
    failed = []
    ready_us = int(results.get("ready_us") or 0)

    def check(ok: object, what: str) -> None:
        if not ok:
            failed.append(what)

    check(results.get("mdns_address"), f"{HOSTNAME}.local resolves over mDNS")
    check(
        f"{HOSTNAME}._http._tcp.local" in results.get("mdns_http_service", []),
        "the page is advertised as _http._tcp",
    )
    check(
        f"80 {HOSTNAME}.local" in results.get("mdns_http_srv", []), "its SRV names port 80 on HOSTNAME.local"
    )
    check(
        f"{HOSTNAME}._https._tcp.local" in results.get("mdns_https_service", [])
        and f"443 {HOSTNAME}.local" in results.get("mdns_https_srv", []),
        "the page is advertised as _https._tcp, port 443",
    )
    trust = results.get("https_trust", {})
    check(
        trust and set(trust.values()) == {"trusted"},
        "the certificate is the device CA's for HOSTNAME.local and the address",
    )
    check(
        results.get("http_redirect") == [301, f"https://{HOSTNAME}.local/status", None],
        "plain HTTP is sent to HTTPS (no HSTS over HTTP)",
    )
    check(str(results.get("hsts", "")).startswith("max-age="), "HSTS over HTTPS")
    check(results.get("page_by_name") == 200, "the page answers to Host: HOSTNAME.local")
    check(results.get("page_by_other_name") == 403, "another Host is refused (DNS rebinding)")
    check(results.get("setup") == 201, "the first-run setup with the code")
    check(results.get("tone_after_lift") == "dial", "dial tone after lifting")
    check(results.get("ssh_key_login") is True, "SSH takes Imager's key")
    check(results.get("hostname") == HOSTNAME, "the host name is Imager's")
    check(
        results.get("timezone") == TIMEZONE and results.get("zone_abbrev") in {"CET", "CEST"},
        "the time zone is Imager's",
    )
    check(results.get("ssh_methods_without_key") == ["publickey"], "SSH offers no password method")
    check("publickey" in results.get("ssh_denied", ""), "a client without the key is denied")
    check(
        str(results.get("default_target")) in {"multi-user.target", "graphical.target"},
        "booted the ordinary system",
    )
    check(results.get("bootconfig") == "success", "appliance-bootconfig.service succeeded")
    active = str(results.get("active", "")).split(",")
    check(active == ["active"] * 5, "NetworkManager, resolved, ssh, the phone and its page are active")
    nm = results.get("nm", {})
    check(nm.get("802-11-wireless.ssid") == SSID, "NetworkManager loaded Imager's Wi-Fi network")
    check(nm.get("802-11-wireless.powersave") in {"2 (disable)", "disable", "2"}, "Wi-Fi power saving off")
    check(nm.get("802-11-wireless-security.key-mgmt") == "wpa-psk", "WPA-PSK")
    check(
        "/var/lib/NetworkManager/system-connections/" in str(results.get("wifi_connection")),
        "the keyfile on the data partition",
    )
    check(
        "firstrun.sh.done" in [n.lower() for n in results.get("boot_files_after", [])],
        "firstrun.sh put aside",
    )
    check("firstrun.sh" not in [n.lower() for n in results.get("boot_files_after", [])], "firstrun.sh gone")
    check("systemd.run" not in str(results.get("cmdline_after")), "cmdline.txt cleaned")
    check(
        f"cfg80211.ieee80211_regdom={COUNTRY}" in str(results.get("cmdline_after")),
        "the rest of cmdline.txt kept",
    )
    check(ready_us > 0, "the phone's ready time read")
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("base", nargs="?", default="build/image/appliance-deskphone-v1",
                        help="the built image's path without .img.xz")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds for each wait")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    base = Path(args.base).resolve()
    if not args.inside:
        for tool in (QEMU, "dnsmasq", "mcopy", "ssh", "ssh-keygen", "unshare", "ip"):
            if shutil.which(tool) is None:
                sys.exit(
                    f"{tool} not found (apt-get install qemu-system-arm dnsmasq-base mtools openssh-client)"
                )
        if os.geteuid() != 0:
            sys.exit("needs root: a network namespace and a tap device")
        # A network namespace of our own: the tap device, dnsmasq and QEMU vanish with it.
        cmd = [
            "unshare",
            "--net",
            "--",
            sys.executable,
            __file__,
            str(base),
            "--inside",
            "--timeout",
            str(args.timeout),
        ]
        return subprocess.run(cmd, check=False).returncode
    results = inside(base, args.timeout)
    tail = results.pop("console_tail", "")
    if results.get("ready_us"):
        results["dial_tone_ready_s"] = round(int(results["ready_us"]) / 1e6, 1)
    print(json.dumps(results, indent=2))
    failed = verdict(results)
    for what in failed:
        print(f"FAILED: {what}", file=sys.stderr)
    if failed:
        print(tail, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
