"""When the phone opens its own Wi-Fi access point for setting it up, and when it closes it.

With no network at all (no Ethernet carrier, no Wi-Fi joined) for :data:`OPEN_AFTER_BOOT_S`
since start, the access point opens: a phone taken out of the box, or moved to a house whose
Wi-Fi it does not know. A phone that was online and lost its network waits
:data:`OPEN_AFTER_LOSS_S` first: a router reboots in 1-3 minutes, and the link watchdog re-joins
meanwhile. The access point and a Wi-Fi client share the one radio, so while it is open the phone
cannot see its saved network come back: with nobody on the access point it leaves it every
:data:`RETRY_EVERY_S` for :data:`RETRY_FOR_S` to look (a power cut restarts the router and the
phone together; the router comes up last). A join asked on the page owns the radio until it ends;
a failed one reopens the access point at once (the owner learns why there).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from .links import Links

OPEN_AFTER_BOOT_S = 75.0  # DHCP on Ethernet takes ~5 s, NetworkManager's Wi-Fi join ~10-30 s
OPEN_AFTER_LOSS_S = 600.0
RETRY_EVERY_S = 300.0
RETRY_FOR_S = 60.0


class Action(enum.Enum):
    OPEN = "open the access point"
    CLOSE = "close the access point"


@dataclass(frozen=True, slots=True)
class Fallback:
    started: float  # when the phone started looking (its start)
    offline_since: float | None = None
    been_online: bool = False
    ap_since: float | None = None  # the access point open since (None: closed)
    retry_until: float | None = None  # the access point left to look for a saved network until


def step(state: Fallback, links: Links) -> tuple[Fallback, Action | None]:
    now = links.now
    if links.online:
        state = Fallback(state.started, been_online=True)
        # Ethernet came while the access point is open: close it once nobody is on it.
        if links.access_point and links.ap_clients == 0:
            return state, Action.CLOSE
        return state, None
    offline_since = state.offline_since if state.offline_since is not None else now
    if not state.been_online and state.offline_since is None:
        offline_since = state.started  # since start, not since the first look
    state = replace(state, offline_since=offline_since)
    if links.joining:
        return replace(state, ap_since=None, retry_until=None), None
    if links.access_point:
        ap_since = state.ap_since if state.ap_since is not None else now
        state = replace(state, ap_since=ap_since, retry_until=None)
        if links.saved_wifi and links.ap_clients == 0 and now - ap_since >= RETRY_EVERY_S:
            return replace(state, ap_since=None, retry_until=now + RETRY_FOR_S), Action.CLOSE
        return state, None
    if state.retry_until is not None:
        if now < state.retry_until:
            return replace(state, ap_since=None), None
        return replace(state, ap_since=now, retry_until=None), Action.OPEN
    wait = OPEN_AFTER_LOSS_S if state.been_online else OPEN_AFTER_BOOT_S
    if now - offline_since >= wait:
        return replace(state, ap_since=now), Action.OPEN
    return replace(state, ap_since=None), None
