"""The device's network through NetworkManager's own command line, ``nmcli -t``.

Why nmcli and not NetworkManager's D-Bus API: its terse output (``-t``, ``:`` between fields,
``\\:`` and ``\\\\`` inside them) is the interface NetworkManager keeps stable for scripts, it is
in the image already (and what Raspberry Pi OS users know), and every command this driver builds
can be checked without a daemon (``nmcli --offline connection add``: tests/system). D-Bus would
save a process start per call (~30 ms on a Pi Zero 2 W), which at one look every
:data:`~appliance.runtime.network.LOOK_S` and a click now and then does not matter.

Runs as the supervisor's user: NetworkManager lets it change connections through the polkit rule
the image installs for that user alone (image/rootfs/etc/polkit-1/rules.d); the web page's
process has no such right and asks the supervisor over the control socket.

Secrets: a Wi-Fi key is given to nmcli as an argument, never logged and never read back
(``--show-secrets`` is never used); it is on nmcli's command line for the time it runs (local
users only, and on the image they are root, the phone's services and the owner's ``admin``).
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid as uuids
from collections.abc import Sequence
from pathlib import Path

from appliance.network.addressing import AUTO, Ipv4
from appliance.network.links import Links
from appliance.network.wifi import Saved, ScannedNetwork, WifiRefusedError
from appliance.phone.model import AP_ADDRESS

log = logging.getLogger(__name__)

AP_NAME = "appliance-ap"
AP_UUID = str(uuids.uuid5(uuids.NAMESPACE_OID, "appliance-access-point"))
JOIN_WAIT_S = 30
TIMEOUT_S = 45.0
WIFI = "802-11-wireless"
ETHERNET = "802-3-ethernet"


# --- nmcli's terse output ----------------------------------------------------------------------


def fields(line: str) -> list[str]:
    """One line of ``nmcli -t`` tabular output: split at ``:``, ``\\:`` and ``\\\\`` taken back."""
    out, current, escaped = [], [], False
    for char in line:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            out.append("".join(current))
            current = []
        else:
            current.append(char)
    out.append("".join(current))
    return out


def properties(text: str) -> dict[str, str]:
    """``nmcli -t -f a.b,c.d connection show ID``: one ``name:value`` line each."""
    found = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep:
            found[name] = value.replace("\\:", ":").replace("\\\\", "\\")
    return found


SCAN_FIELDS = "IN-USE,SSID,FREQ,SIGNAL,SECURITY"


def scanned(text: str) -> list[ScannedNetwork]:
    """``nmcli -t -f IN-USE,SSID,FREQ,SIGNAL,SECURITY device wifi list``: each network once (its
    strongest access point, or the one in use), strongest first; hidden ones (no SSID) left out."""
    best: dict[str, ScannedNetwork] = {}
    for line in text.splitlines():
        parts = fields(line)
        if len(parts) != 5 or not parts[1]:
            continue
        in_use, ssid, freq, signal, security = parts
        security = "" if security in ("", "--") else security
        found = ScannedNetwork(
            ssid, _int(signal), security, _int(freq.split()[0] if freq else ""), in_use == "*"
        )
        kept = best.get(ssid)
        if kept is None or (found.in_use, found.signal) > (kept.in_use, kept.signal):
            best[ssid] = found if not (kept and kept.in_use) else kept
    return sorted(best.values(), key=lambda n: (-n.signal, n.ssid))


CONNECTION_FIELDS = "NAME,UUID,TYPE,DEVICE,ACTIVE"


def connections(text: str) -> list[tuple[str, str, str, str, bool]]:
    """``nmcli -t -f NAME,UUID,TYPE,DEVICE,ACTIVE connection show``: (name, uuid, type, device, active)."""
    out = []
    for line in text.splitlines():
        parts = fields(line)
        if len(parts) == 5:
            name, uuid, kind, device, active = parts
            out.append((name, uuid, kind, device, active == "yes"))
    return out


IPV4_FIELDS = "ipv4.method,ipv4.addresses,ipv4.gateway,ipv4.dns"
WIFI_FIELDS = f"{WIFI}.ssid,{WIFI}.mode,{IPV4_FIELDS}"  # a wired connection has no Wi-Fi setting to name


def ipv4_of(props: dict[str, str]) -> Ipv4:
    """A connection's IPv4 setting from its properties (``--`` is nmcli's "not set")."""

    def value(name: str) -> str:
        got = props.get(name, "")
        return "" if got == "--" else got.strip()

    dns = tuple(d for d in re.split(r"[,\s]+", value("ipv4.dns")) if d)
    method = value("ipv4.method") or AUTO
    addresses = [a.strip() for a in value("ipv4.addresses").split(",") if a.strip()]
    address, _, prefix = (addresses[0] if addresses else "").partition("/")
    return Ipv4(method, address, _int(prefix), value("ipv4.gateway"), dns)


DEVICE_FIELDS = "DEVICE,TYPE,STATE,CON-UUID"


def devices(text: str) -> list[tuple[str, str, str, str]]:
    """``nmcli -t -f DEVICE,TYPE,STATE,CON-UUID device``: (device, type, state, connection)."""
    return [tuple(p) for line in text.splitlines() if len(p := fields(line)) == 4]  # type: ignore[misc]


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


def added_uuid(stdout: str) -> str:
    """``Connection 'NAME' (UUID) successfully added.``"""
    match = re.search(r"\(([0-9a-f-]{36})\) successfully added", stdout)
    if not match:
        raise WifiRefusedError("ssid", f"NetworkManager did not say what it added: {stdout.strip()[:200]}")
    return match[1]


# Why a join failed, in the owner's words, from nmcli's "Error: Connection activation failed: ...".
_REASONS: tuple[tuple[str, str, str], ...] = (
    ("secrets were required", "psk", "wrong password: the network refused it"),
    ("no secrets", "psk", "wrong password: the network refused it"),
    ("could not be found", "ssid", "no network of that name is in range"),
    ("no network with ssid", "ssid", "no network of that name is in range"),
    (
        "ip configuration could not be",
        "ssid",
        "joined, but the network gave no address (DHCP): check the router",
    ),
    ("timeout", "ssid", "the network did not answer in time (weak signal, or a wrong password)"),
    ("not authorized", "", "this phone's service may not change the network (the polkit rule is missing)"),
    ("not running", "", "NetworkManager is not running"),
)


def _said(stderr: str) -> str:
    """nmcli's error line (a "Hint: ..." line may follow it)."""
    lines = stderr.strip().splitlines()
    return next((line for line in lines if line.startswith("Error")), lines[-1] if lines else "failed")


def join_failure(stderr: str) -> WifiRefusedError:
    said = _said(stderr)
    low = said.lower()
    for needle, field, reason in _REASONS:
        if needle in low:
            return WifiRefusedError(field, reason)
    return WifiRefusedError("ssid", said.removeprefix("Error: ")[:200])


# --- the commands --------------------------------------------------------------------------------


def wifi_settings(ssid: str, psk: str | None, *, hidden: bool = False) -> list[str]:
    """``nmcli connection add``'s words for a Wi-Fi client network: joins by itself, retries for
    ever, power saving off (brcmfmac's drops SIP and DHT registrations), as Imager's keyfile."""
    words = ["type", "wifi", "con-name", ssid, "ifname", "*", "ssid", ssid,
             "connection.autoconnect", "yes", "connection.autoconnect-retries", "0",
             f"{WIFI}.powersave", "2"]  # fmt: skip
    if hidden:
        words += [f"{WIFI}.hidden", "yes"]
    if psk is not None:
        words += ["wifi-sec.key-mgmt", "wpa-psk", "wifi-sec.psk", psk]
    return words


def access_point_settings(ssid: str, passphrase: str) -> list[str]:
    """The phone's own setup network: WPA2 (CCMP), the phone its router (``ipv4.method shared``:
    NetworkManager runs dnsmasq for DHCP and DNS; the phone is 10.42.0.1), never joined by itself."""
    return ["type", "wifi", "con-name", AP_NAME, "connection.uuid", AP_UUID, "ifname", "*", "ssid", ssid,
            f"{WIFI}.mode", "ap", f"{WIFI}.band", "bg", f"{WIFI}.powersave", "2",
            "connection.autoconnect", "no", "ipv4.method", "shared", "ipv4.addresses", f"{AP_ADDRESS}/24",
            "ipv6.method", "ignore",
            "wifi-sec.key-mgmt", "wpa-psk", "wifi-sec.proto", "rsn", "wifi-sec.pairwise", "ccmp",
            "wifi-sec.group", "ccmp", "wifi-sec.psk", passphrase]  # fmt: skip


def ipv4_settings(ipv4: Ipv4) -> list[str]:
    """``nmcli connection modify``'s words for an IPv4 setting (empty values clear a static one)."""
    if ipv4.method == AUTO:
        return [
            "ipv4.method",
            "auto",
            "ipv4.addresses",
            "",
            "ipv4.gateway",
            "",
            "ipv4.dns",
            " ".join(ipv4.dns),
        ]
    return ["ipv4.method", "manual", "ipv4.addresses", f"{ipv4.address}/{ipv4.prefix}",
            "ipv4.gateway", ipv4.gateway, "ipv4.dns", " ".join(ipv4.dns)]  # fmt: skip


# --- the driver ----------------------------------------------------------------------------------


class NmcliError(RuntimeError):
    def __init__(self, argv: Sequence[str], code: int, stderr: str) -> None:
        super().__init__(f"nmcli {argv[1] if len(argv) > 1 else ''}: exit {code}: {stderr.strip()[:300]}")
        self.code = code
        self.stderr = stderr


class NmcliNetwork:
    """The :class:`~appliance.ports.Network` port over nmcli."""

    def __init__(self, nmcli: str = "nmcli", *, sys_net: Path = Path("/sys/class/net"),
                 arp: Path = Path("/proc/net/arp")) -> None:  # fmt: skip
        self.nmcli = nmcli
        self.sys_net = sys_net
        self.arp = arp
        self._modes: dict[str, str] = {}  # connection UUID -> 802-11-wireless.mode

    async def _run(self, *args: str, secret: bool = False, timeout_s: float = TIMEOUT_S) -> str:
        argv = [self.nmcli, *args]
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},  # nmcli's own words, for join_failure
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), timeout_s)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise NmcliError(argv[:2], -9, f"no answer in {timeout_s:.0f} s") from None
        if process.returncode != 0:
            shown = argv[:2] if secret else argv  # a key is never logged
            raise NmcliError(shown, process.returncode or 1, err.decode(errors="replace"))
        return out.decode(errors="replace")

    async def links(self) -> Links:
        text = await self._run("-t", "-f", DEVICE_FIELDS, "device")
        wifi_connection, ap = "", False
        for _device, kind, state, con in devices(text):
            if kind == "wifi" and state == "connected":
                if con == AP_UUID:
                    ap = True
                elif await self._client(con):  # a hotspot of the owner's own is not a network joined
                    wifi_connection = con
        listed = connections(await self._run("-t", "-f", CONNECTION_FIELDS, "connection", "show"))
        saved = [c for c in listed if c[2] == WIFI and c[1] != AP_UUID and await self._client(c[1])]
        return Links(
            now=0.0, ethernet=self._carrier(), wifi=bool(wifi_connection), wifi_connection=wifi_connection,
            access_point=ap, ap_clients=self._ap_clients() if ap else 0, saved_wifi=bool(saved),
        )  # fmt: skip

    async def _client(self, uuid: str) -> bool:
        """Whether a Wi-Fi connection joins networks (infrastructure mode), not makes one (ap,
        adhoc, mesh). Asked once per connection: this driver never changes a connection's mode."""
        if uuid not in self._modes:
            try:
                props = properties(
                    await self._run("-t", "-f", f"{WIFI}.mode", "connection", "show", "uuid", uuid)
                )
            except NmcliError:
                return False  # gone meanwhile
            self._modes[uuid] = props.get(f"{WIFI}.mode", "") or "infrastructure"
        return self._modes[uuid] in ("infrastructure", "--")

    async def _free_radio(self) -> str:
        """The Wi-Fi device for the access point: one not in use, else the first ("": none)."""
        found = [(state == "connected", device) for device, kind, state, _ in
                 devices(await self._run("-t", "-f", DEVICE_FIELDS, "device")) if kind == "wifi"]  # fmt: skip
        return min(found)[1] if found else ""

    def _carrier(self) -> bool:
        """A wired interface (a device, not wireless) with carrier: sysfs, no round trip."""
        for link in self.sys_net.iterdir() if self.sys_net.is_dir() else []:
            if not (link / "device").exists() or (link / "wireless").exists() or (link / "phy80211").exists():
                continue
            try:
                if (link / "type").read_text().strip() == "1" and (
                    link / "carrier"
                ).read_text().strip() == "1":
                    return True
            except OSError:
                continue  # carrier reads EINVAL while the interface is down
        return False

    def _ap_clients(self) -> int:
        """Devices that talked to the phone on its access point lately: complete ARP entries
        on a wireless interface (NetworkManager's shared mode keeps no list of its own)."""
        try:
            lines = self.arp.read_text().splitlines()[1:]
        except OSError:
            return 0
        count = 0
        for line in lines:
            parts = line.split()
            if len(parts) >= 6 and parts[2] == "0x2" and (self.sys_net / parts[5] / "wireless").exists():
                count += 1
        return count

    async def scan(self, rescan: bool = True) -> list[ScannedNetwork]:
        words = ["-t", "-f", SCAN_FIELDS, "device", "wifi", "list", "--rescan"]
        if rescan:
            try:
                return scanned(await self._run(*words, "yes"))
            except NmcliError as exc:  # a busy radio (joining, an access point) does not look: the last scan
                log.info("network: no new scan: %s", _said(exc.stderr))
        try:
            return scanned(await self._run(*words, "no"))
        except NmcliError as exc:
            raise WifiRefusedError("", f"no scan: {_said(exc.stderr)}") from None

    async def saved(self) -> list[Saved]:
        text = await self._run("-t", "-f", CONNECTION_FIELDS, "connection", "show")
        out = []
        for name, uuid, kind, device, active in connections(text):
            if uuid == AP_UUID or kind not in (WIFI, ETHERNET):
                continue
            wanted = WIFI_FIELDS if kind == WIFI else IPV4_FIELDS
            props = properties(await self._run("-t", "-f", wanted, "connection", "show", "uuid", uuid))
            if kind == WIFI and props.get(f"{WIFI}.mode", "infrastructure") not in (
                "infrastructure",
                "",
                "--",
            ):
                continue
            ssid = props.get(f"{WIFI}.ssid", "") if kind == WIFI else ""
            out.append(Saved(uuid, name, "wifi" if kind == WIFI else "ethernet", ssid, active, device,
                             ipv4_of(props)))  # fmt: skip
        return out

    async def join(self, ssid: str, psk: str | None, *, hidden: bool = False) -> str:
        known = [s for s in await self.saved() if s.kind == "wifi" and s.ssid == ssid]
        if known:
            uuid, added = known[0].uuid, False
            words = ["wifi-sec.key-mgmt", "wpa-psk", "wifi-sec.psk", psk] if psk is not None else []
            if hidden:
                words += [f"{WIFI}.hidden", "yes"]
            if words:
                await self._run("connection", "modify", "uuid", uuid, *words, secret=True)
        else:
            uuid, added = (
                added_uuid(
                    await self._run(
                        "connection", "add", *wifi_settings(ssid, psk, hidden=hidden), secret=True
                    )
                ),
                True,
            )
        try:
            await self._run(
                "--wait", str(JOIN_WAIT_S), "connection", "up", "uuid", uuid, timeout_s=JOIN_WAIT_S + 10
            )
        except NmcliError as exc:
            if added:  # a wrong password is not kept to be tried for ever
                await self._quietly("connection", "delete", "uuid", uuid)
            raise join_failure(exc.stderr) from None
        log.info("network: joined %r", ssid)
        return uuid

    async def forget(self, uuid: str) -> None:
        try:
            await self._run("connection", "delete", "uuid", uuid)
        except NmcliError as exc:
            if "unknown connection" in exc.stderr.lower() or "cannot find" in exc.stderr.lower():
                raise LookupError("no such saved network") from None
            raise WifiRefusedError("uuid", _said(exc.stderr)) from None

    async def set_ipv4(self, uuid: str, ipv4: Ipv4) -> None:
        try:
            await self._run("connection", "modify", "uuid", uuid, *ipv4_settings(ipv4))
        except NmcliError as exc:
            if "unknown connection" in exc.stderr.lower() or "cannot find" in exc.stderr.lower():
                raise LookupError("no such saved network") from None
            raise WifiRefusedError("method", _said(exc.stderr)) from None
        # Taken at once where the connection is up; otherwise at its next activation.
        active = {
            c[1]
            for c in connections(await self._run("-t", "-f", CONNECTION_FIELDS, "connection", "show"))
            if c[4]
        }
        if uuid in active:
            await self._run("--wait", "20", "connection", "up", "uuid", uuid, timeout_s=30)

    async def open_access_point(self, ssid: str, passphrase: str) -> None:
        await self._quietly("connection", "delete", "uuid", AP_UUID)  # made fresh: this boot's key
        await self._run("connection", "add", *access_point_settings(ssid, passphrase), secret=True)
        radio = await self._free_radio()
        if not radio:
            raise WifiRefusedError("ssid", "this device has no Wi-Fi radio")
        await self._run("--wait", "20", "connection", "up", "uuid", AP_UUID, "ifname", radio, timeout_s=30)
        log.info("network: access point %r open", ssid)

    async def close_access_point(self) -> None:
        await self._quietly("connection", "delete", "uuid", AP_UUID)
        log.info("network: access point closed")

    async def reactivate(self, uuid: str) -> None:
        await self._run(
            "--wait", str(JOIN_WAIT_S), "connection", "up", "uuid", uuid, timeout_s=JOIN_WAIT_S + 10
        )

    async def reset_radio(self) -> None:
        await self._run("radio", "wifi", "off")
        await asyncio.sleep(2)
        await self._run("radio", "wifi", "on")

    async def _quietly(self, *args: str) -> None:
        try:
            await self._run(*args)
        except NmcliError as exc:
            log.debug("network: %s", exc)


def serial_suffix(device_tree: Path = Path("/proc/device-tree/serial-number"),
                  machine_id: Path = Path("/etc/machine-id")) -> str:  # fmt: skip
    """The board's serial number's last four hex digits (as appliance-boot names the host)."""
    for source in (device_tree, machine_id):
        try:
            text = source.read_bytes().decode(errors="replace").lower()
        except OSError:
            continue
        digits = "".join(c for c in text if c in "0123456789abcdef")
        if digits:
            return digits[-4:].upper().rjust(4, "0")
    return "0000"
