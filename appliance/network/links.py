"""The facts both link machines step on, read by the network driver at each look."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Links:
    now: float  # monotonic seconds
    ethernet: bool = False  # a wired interface has carrier
    wifi: bool = False  # the radio has joined a network (as a client)
    wifi_connection: str = ""  # the UUID of that network's connection
    access_point: bool = False  # the phone's own access point is up
    ap_clients: int = 0  # devices seen on the access point lately (its ARP table)
    joining: bool = False  # a join asked on the page is under way: the radio is its
    saved_wifi: bool = False  # a Wi-Fi network is saved (there is something to look for)

    @property
    def online(self) -> bool:
        return self.ethernet or self.wifi
