"""Re-joining a Wi-Fi network that dropped and did not come back by itself.

NetworkManager retries on its own (``autoconnect-retries=0``: for ever), but on the Pi's brcmfmac
a link can stay down after the router reboots (the device stuck "disconnected", or its firmware
wedged). Once the network the phone had joined has been gone for :data:`FIRST_TRY_S`, the
watchdog activates that connection again, then again later (the delays grow to
:data:`MAX_DELAY_S`), and every :data:`RESET_EVERY`-th try turns the radio off and on instead:
the last resort, which reloads the firmware's state. Idle while the access point is open or a
join asked on the page is under way (the radio is theirs) and until a network was joined at all.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .links import Links

FIRST_TRY_S = 45.0
MAX_DELAY_S = 300.0
RESET_EVERY = 3


@dataclass(frozen=True, slots=True)
class Reactivate:
    connection: str  # the UUID


@dataclass(frozen=True, slots=True)
class ResetRadio:
    connection: str  # activated again once the radio is back


Action = Reactivate | ResetRadio


@dataclass(frozen=True, slots=True)
class Watchdog:
    connection: str = ""  # the Wi-Fi connection last joined ("": none yet)
    lost_at: float | None = None
    next_try: float | None = None
    tries: int = 0


def delay(tries: int) -> float:
    """Seconds from try ``tries`` to the next: 45, 90, 180, then 300 each."""
    return min(MAX_DELAY_S, FIRST_TRY_S * (1 << min(tries, 16)))


def step(state: Watchdog, links: Links) -> tuple[Watchdog, Action | None]:
    now = links.now
    if links.wifi:
        return Watchdog(links.wifi_connection or state.connection), None
    if links.access_point or links.joining or not state.connection or not links.saved_wifi:
        # The radio is someone else's, or there is nothing to re-join (forgotten): start over later.
        return Watchdog(state.connection if links.saved_wifi else ""), None
    lost_at = state.lost_at if state.lost_at is not None else now
    next_try = state.next_try if state.next_try is not None else lost_at + FIRST_TRY_S
    state = replace(state, lost_at=lost_at, next_try=next_try)
    if now < next_try:
        return state, None
    tries = state.tries + 1
    state = replace(state, tries=tries, next_try=now + delay(tries))
    if tries % RESET_EVERY == 0:
        return state, ResetRadio(state.connection)
    return state, Reactivate(state.connection)
