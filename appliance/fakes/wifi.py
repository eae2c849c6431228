"""The desktop board's simulated network: a Wi-Fi radio with a few networks in range and a cable.

Like the fake GPIO, it is the simulated hardware of the desktop board, so the Wi-Fi page, the
access point fallback and the link watchdog run on a laptop: joining "Home Net" works with its
password (:data:`PASSWORDS`), a wrong one is refused as a router refuses it, an unknown name is
not in range. Stimuli named for what happens to a real one: ``unplug()`` / ``plug()`` the cable,
``drop()`` the Wi-Fi link (a router rebooting), ``bring_back()``.
"""

from __future__ import annotations

import asyncio
import uuid as uuids
from collections import deque
from dataclasses import dataclass, replace

from appliance.network.addressing import Ipv4
from appliance.network.links import Links
from appliance.network.wifi import Saved, ScannedNetwork, WifiRefusedError

from ._watch import RECORDED, Watchable

IN_RANGE = (
    ScannedNetwork("Home Net", 82, "WPA2", 2437),
    ScannedNetwork("Cafe Libre", 64, "", 2412),
    ScannedNetwork("Neighbours 5G", 41, "WPA2 WPA3", 5180),
    ScannedNetwork("Printer-Direct", 23, "WPA2", 2462),
)
PASSWORDS = {
    "Home Net": "correct horse battery",
    "Neighbours 5G": "not for you",
    "Printer-Direct": "printer123",
}
JOIN_S = 0.2  # a real join takes 2-10 s; the simulation just long enough to be seen


@dataclass
class _Connection:
    saved: Saved
    psk: str | None


class FakeNetwork(Watchable):
    """The :class:`~appliance.ports.Network` port, simulated."""

    def __init__(self, *, cable: bool = True, join_s: float = JOIN_S) -> None:
        super().__init__()
        self.cable = cable
        self.join_s = join_s
        self.in_range = list(IN_RANGE)
        self.connections: dict[str, _Connection] = {}
        self.wired = Saved(
            str(uuids.uuid5(uuids.NAMESPACE_OID, "fake-wired")),
            "Wired connection 1",
            "ethernet",
            active=cable,
            device="eth0",
        )
        self.joined = ""  # the UUID of the Wi-Fi connection up
        self.dropped = False  # the link is down (drop()) until bring_back() or a reactivation
        self.access_point: tuple[str, str] | None = None  # (SSID, passphrase) while open
        self.ap_clients = 0
        self.commands: deque[str] = deque(maxlen=RECORDED)  # what the firmware asked, without keys

    # --- stimuli ---------------------------------------------------------------------------------

    def unplug(self) -> None:
        self.cable = False
        self._notify(event="network", cable=False)

    def plug(self) -> None:
        self.cable = True
        self._notify(event="network", cable=True)

    def drop(self) -> None:
        """The Wi-Fi link goes (the router reboots) and does not come back by itself."""
        self.dropped = True
        self._notify(event="network", wifi=False)

    def bring_back(self) -> None:
        self.dropped = False
        self._notify(event="network", wifi=bool(self.joined))

    # --- the port --------------------------------------------------------------------------------

    async def links(self) -> Links:
        up = bool(self.joined) and not self.dropped and self.access_point is None
        return Links(now=0.0, ethernet=self.cable, wifi=up, wifi_connection=self.joined if up else "",
                     access_point=self.access_point is not None, ap_clients=self.ap_clients,
                     saved_wifi=bool(self.connections))  # fmt: skip

    async def scan(self, rescan: bool = True) -> list[ScannedNetwork]:
        self.commands.append("scan" if rescan else "list")
        joined = self.connections.get(self.joined)
        ssid = joined.saved.ssid if joined and not self.dropped else ""
        return [replace(n, in_use=n.ssid == ssid) for n in self.in_range]

    async def saved(self) -> list[Saved]:
        wired = replace(self.wired, active=self.cable)
        wifi = [
            replace(
                c.saved,
                active=u == self.joined and not self.dropped,
                device="wlan0" if u == self.joined else "",
            )
            for u, c in self.connections.items()
        ]
        return [wired, *wifi]

    async def join(self, ssid: str, psk: str | None, *, hidden: bool = False) -> str:
        self.commands.append(f"join {ssid}{' (hidden)' if hidden else ''}")
        await asyncio.sleep(self.join_s)
        if self.access_point is not None:
            self.access_point = None  # one radio: the client takes it from the access point
        network = next((n for n in self.in_range if n.ssid == ssid), None)
        if network is None:
            raise WifiRefusedError("ssid", "no network of that name is in range")
        if not network.open and psk != PASSWORDS.get(ssid):
            raise WifiRefusedError("psk", "wrong password: the network refused it")
        known = next((u for u, c in self.connections.items() if c.saved.ssid == ssid), None)
        uuid = known or str(uuids.uuid5(uuids.NAMESPACE_OID, "fake-wifi:" + ssid))
        saved = self.connections[known].saved if known else Saved(uuid, ssid, "wifi", ssid)
        self.connections[uuid] = _Connection(saved, psk)
        self.joined, self.dropped = uuid, False
        self._notify(event="network", wifi=True, ssid=ssid)
        return uuid

    async def forget(self, uuid: str) -> None:
        self.commands.append(f"forget {uuid}")
        if uuid == self.wired.uuid:
            raise WifiRefusedError("uuid", "the wired connection is kept (it is how the phone is reached)")
        if self.connections.pop(uuid, None) is None:
            raise LookupError("no such saved network")
        if self.joined == uuid:
            self.joined = ""

    async def set_ipv4(self, uuid: str, ipv4: Ipv4) -> None:
        self.commands.append(f"ipv4 {uuid} {ipv4.method}")
        if uuid == self.wired.uuid:
            self.wired = replace(self.wired, ipv4=ipv4)
            return
        connection = self.connections.get(uuid)
        if connection is None:
            raise LookupError("no such saved network")
        connection.saved = replace(connection.saved, ipv4=ipv4)

    async def open_access_point(self, ssid: str, passphrase: str) -> None:
        self.commands.append(f"open-ap {ssid}")
        self.access_point = (ssid, passphrase)
        self._notify(event="network", access_point=ssid)

    async def close_access_point(self) -> None:
        self.commands.append("close-ap")
        self.access_point = None
        self.ap_clients = 0
        self._notify(event="network", access_point="")

    async def reactivate(self, uuid: str) -> None:
        self.commands.append(f"reactivate {uuid}")
        if uuid not in self.connections:
            raise LookupError("no such saved network")
        self.joined, self.dropped = uuid, False  # the router is back: the join takes

    async def reset_radio(self) -> None:
        self.commands.append("reset-radio")
