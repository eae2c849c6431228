"""The Wi-Fi page: networks in range, join, forget, and each connection's addressing.

Answers in the page's terms; a Wi-Fi key is taken and never given back (not in an answer, not in
a log line). Joining is answered at once and goes on in the keeper (on the phone's own access
point the page's link goes when the radio leaves it); ``wifi`` then says how it ended.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import Any

from appliance.network import wifi as checks
from appliance.network.addressing import AddressingError, ipv4
from appliance.network.wifi import WifiRefusedError
from appliance.runtime.network import NetworkKeeper

from .errors import ChangeRejectedError, NotFoundError

Table = dict[str, Any]


class NetworkController:
    def __init__(self, keeper: NetworkKeeper) -> None:
        self.keeper = keeper

    async def wifi(self) -> Table:
        network = self.keeper.network
        links = await network.links()
        outcome = self.keeper.join_outcome
        return {
            "networks": [n.json() for n in self.keeper.last_scan],
            "saved": [s.json() for s in await network.saved()],
            "join": outcome.json() if outcome else None,
            "ethernet": links.ethernet,
            "wifi": links.wifi,
            "access_point": {"open": links.access_point, "ssid": self.keeper.ap_ssid},
            "local_name": f"{socket.gethostname().partition('.')[0]}.local",  # where the page is after a join
        }

    async def scan(self) -> Table:
        try:
            found = await self.keeper.network.scan(rescan=not self.keeper.links.access_point)
        except WifiRefusedError as exc:
            raise ChangeRejectedError([(exc.field, exc.reason)]) from None
        self.keeper.last_scan = found
        return {"networks": [n.json() for n in found]}

    async def join(self, ssid: str, psk: str = "", hidden: bool = False) -> Table:
        """Start joining (``psk`` empty: an open network); never answers the key."""
        with _refusals():
            name = checks.ssid(ssid)
            key = checks.psk(psk) if psk else None
            outcome = self.keeper.join(name, key, hidden=hidden)
        return outcome.json()

    async def forget(self, uuid: str) -> None:
        with _refusals():
            await self.keeper.network.forget(uuid)

    async def set_ipv4(self, uuid: str, setting: Table) -> Table:
        with _refusals():
            checked = ipv4(setting)
            await self.keeper.network.set_ipv4(uuid, checked)
        return checked.json()


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    """The network's refusals as the page's: 400 with the field, 404 for an unknown connection."""
    try:
        yield
    except AddressingError as exc:
        raise ChangeRejectedError(exc.problems) from exc
    except WifiRefusedError as exc:
        raise ChangeRejectedError([(exc.field, exc.reason)]) from exc
    except NotFoundError:
        raise
    except LookupError as exc:
        raise NotFoundError(str(exc.args[0]) if exc.args else "no such connection") from exc
