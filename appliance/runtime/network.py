"""The device's network kept: the page's Wi-Fi joins, the setup access point and the link
watchdog, over the :class:`~appliance.ports.Network` port.

Every :data:`LOOK_S` the links are read and stepped through the two pure machines
(:mod:`appliance.network.fallback`, :mod:`appliance.network.watchdog`); what they decide is done
here, one thing at a time (one radio). A join asked on the page runs as a task of its own: it is
answered at once (on the access point the page loses its link when the radio leaves it) and its
outcome is kept for the page to read once it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from appliance.network import fallback, watchdog
from appliance.network.fallback import Fallback
from appliance.network.links import Links
from appliance.network.watchdog import Watchdog
from appliance.network.wifi import ScannedNetwork, WifiRefusedError
from appliance.phone.events import AccessPointChanged, Event
from appliance.ports import Network

log = logging.getLogger(__name__)

LOOK_S = 10.0  # a look costs two nmcli runs (~60 ms on a Pi Zero 2 W)
KEY_DIGITS = 12  # WPA2 over digits: said into a handset and typed on a phone's keyboard alike


def access_point_key() -> str:
    """A fresh passphrase at each start, digits only (shown and spoken, never stored)."""
    return "".join(secrets.choice("0123456789") for _ in range(KEY_DIGITS))


@dataclass
class JoinOutcome:
    ssid: str
    state: str  # "joining", "joined", "failed"
    field: str = ""
    reason: str = ""

    def json(self) -> dict[str, Any]:
        return {"ssid": self.ssid, "state": self.state, "field": self.field, "reason": self.reason}


class NetworkKeeper:
    """Joins, the access point fallback and the watchdog, for one radio."""

    def __init__(self, network: Network, post: Callable[[Event], None], *, ap_ssid: str,
                 ap_key: str | None = None, clock: Callable[[], float] = time.monotonic,
                 look_s: float = LOOK_S) -> None:  # fmt: skip
        self.network = network
        self.post = post
        self.ap_ssid = ap_ssid
        self.ap_key = ap_key or access_point_key()
        self.clock = clock
        self.look_s = look_s
        self.fallback = Fallback(started=clock())
        self.watchdog = Watchdog()
        self.links = Links(now=clock())
        self.join_outcome: JoinOutcome | None = None
        self.last_scan: list[ScannedNetwork] = []  # the page shows it (on the access point: from before it)
        self._joining: asyncio.Task[None] | None = None
        self._radio = asyncio.Lock()  # one thing at a time on the radio
        self._looking: asyncio.Task[None] | None = None
        self._ap_told = False

    @property
    def joining(self) -> bool:
        return self._joining is not None and not self._joining.done()

    def start(self) -> None:
        if self._looking is None:
            self._looking = asyncio.get_running_loop().create_task(self._look_forever())

    async def stop(self) -> None:
        for task in (self._looking, self._joining):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._looking = None

    async def _look_forever(self) -> None:
        said = ""
        while True:
            try:
                await self.look()
                said = ""
            except Exception as exc:  # noqa: BLE001 - logged (once until it changes), the next look tried
                if str(exc) != said:
                    said = str(exc)
                    log.warning("network: the links could not be read: %s", exc)
            await asyncio.sleep(self.look_s)

    async def look(self) -> None:
        """Read the links once, step both machines, do what they decide."""
        async with self._radio:
            links = replace(await self.network.links(), now=self.clock(), joining=self.joining)
        self.links = links
        self._tell_access_point(links.access_point)
        self.fallback, ap_action = fallback.step(self.fallback, links)
        self.watchdog, dog_action = watchdog.step(self.watchdog, links)
        if ap_action is fallback.Action.OPEN:
            await self._open_access_point()
        elif ap_action is fallback.Action.CLOSE:
            async with self._radio:
                await self.network.close_access_point()
            self._tell_access_point(False)
        if isinstance(dog_action, watchdog.Reactivate | watchdog.ResetRadio):
            await self._recover(dog_action)

    async def _open_access_point(self) -> None:
        log.info("network: no network for a while: opening the access point %s", self.ap_ssid)
        async with self._radio:
            with contextlib.suppress(Exception):  # the radio cannot look while it is an access point
                self.last_scan = await self.network.scan()
            try:
                await self.network.open_access_point(self.ap_ssid, self.ap_key)
            except Exception as exc:  # noqa: BLE001 - no radio, or NetworkManager refused: said, retried later
                log.warning("network: the access point did not open: %s", exc)
                return
        self._tell_access_point(True)

    async def _recover(self, action: watchdog.Action) -> None:
        what = "resetting the radio" if isinstance(action, watchdog.ResetRadio) else "re-joining"
        log.warning("network: the Wi-Fi link is down (try %d): %s", self.watchdog.tries, what)
        async with self._radio:
            try:
                if isinstance(action, watchdog.ResetRadio):
                    await self.network.reset_radio()
                await self.network.reactivate(action.connection)
            except Exception as exc:  # noqa: BLE001 - the next try comes at the watchdog's next time
                log.warning("network: %s failed: %s", what, exc)

    def _tell_access_point(self, open_: bool) -> None:
        if open_ != self._ap_told:
            self._ap_told = open_
            self.post(AccessPointChanged(self.ap_ssid, self.ap_key) if open_ else AccessPointChanged("", ""))

    # --- the page's requests -----------------------------------------------------------------------

    def join(self, ssid: str, psk: str | None, *, hidden: bool = False) -> JoinOutcome:
        """Start joining ``ssid``; its outcome is :attr:`join_outcome` (the page polls it)."""
        if self.joining:
            raise WifiRefusedError("ssid", "a join is already under way: wait for it")
        self.join_outcome = JoinOutcome(ssid, "joining")
        self._joining = asyncio.get_running_loop().create_task(self._join(ssid, psk, hidden))
        return self.join_outcome

    async def _join(self, ssid: str, psk: str | None, hidden: bool) -> None:
        async with self._radio:
            try:
                await self.network.join(ssid, psk, hidden=hidden)
            except WifiRefusedError as exc:
                log.info("network: joining %r failed: %s", ssid, exc.reason)
                self.join_outcome = JoinOutcome(ssid, "failed", exc.field, exc.reason)
            except Exception as exc:  # noqa: BLE001 - NetworkManager's own words, for the page
                log.warning("network: joining %r failed: %s", ssid, exc)
                self.join_outcome = JoinOutcome(ssid, "failed", "ssid", str(exc)[:200])
            else:
                self.join_outcome = JoinOutcome(ssid, "joined")
        # The access point is gone once the radio joined (or left it to try): tell the phone now,
        # and let the fallback reopen it at its next look if the join failed.
        self._joining = None
        await self.look()

    async def wait_joined(self) -> JoinOutcome | None:
        """Until the join under way has ended (tests, the simulator)."""
        task = self._joining
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return self.join_outcome
