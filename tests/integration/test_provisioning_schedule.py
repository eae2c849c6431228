"""The provisioning schedule in virtual time: a fleet's resyncs spread by jitter, retries, idle.

Twenty whole phones (the real supervisor and config store on fakes) run three hours of virtual
time in one loop; the server is a function recording when each phone asked (the real client
against a real nginx is tests/web/test_provisioning.py).
"""

from __future__ import annotations

import asyncio
import itertools
import random

from appliance.runtime.profile_fetch import Fetched, FetchError
from appliance.runtime.provisioning import Provisioning

from .conftest import running

URL = {"provisioning": {"url": "https://prov.example/{mac}.toml", "interval_s": 3600, "jitter_s": 300}}


class Server:
    """Answers every phone's file; ``down`` refuses connections; records (time, url, conditional)."""

    def __init__(self) -> None:
        self.asked: list[tuple[float, str, bool]] = []
        self.started: dict[str, float] = {}  # url -> when its phone's provisioning started
        self.down = False

    async def fetch(self, url: str, *, etag: str = "", **_: object) -> Fetched:
        self.asked.append((asyncio.get_running_loop().time(), url, bool(etag)))
        if self.down:
            raise FetchError(f"{url}: Cannot connect to host prov.example:443")
        if etag == '"v1"':
            return Fetched(url, None, etag)
        return Fetched(url, f'[phone]\ndisplay_name = "Phone {url[-10:-5]}"\n'.encode(), '"v1"')


def test_twenty_phones_resync_hourly_without_a_thundering_herd(virtual):
    server = Server()

    async def main() -> None:
        async with contextlib_phones(20, server) as fleet:
            await asyncio.sleep(30 + 3 * 3900 + 1)  # every third resync in, no fourth
            for sim, _ in fleet:
                assert sim.store.config.phone.display_name.startswith("Phone ")

    virtual(main())
    assert len(server.asked) == 20 * 4  # at start, then three resyncs each
    assert sum(conditional for _, _, conditional in server.asked) == 20 * 3  # 304s after the first
    by_phone: dict[str, list[float]] = {}
    for t, url, _ in server.asked:
        by_phone.setdefault(url, []).append(t)
    for url, asked in by_phone.items():
        assert asked[0] - server.started[url] <= 30  # the start's fetch within its first 30 s
        gaps = [b - a for a, b in itertools.pairwise(asked)]
        assert all(3600 <= gap <= 3900 for gap in gaps), gaps
    # No herd: the start's fetches spread over its 30 s, the resyncs over their 300 s of jitter
    # (without jitter, twenty phones started together would ask in the same second every hour).
    first = sorted(asked[0] for asked in by_phone.values())
    assert first[-1] - first[0] >= 15, first
    later = sorted(t for asked in by_phone.values() for t in asked[1:])
    busiest = max(sum(1 for u in later if t <= u < t + 10) for t in later)
    assert busiest <= 6, busiest  # measured 5 (seeded); 20 without jitter


def test_a_server_down_is_retried_sooner_and_the_phone_runs_on(virtual):
    server = Server()
    server.down = True

    async def main() -> None:
        async with contextlib_phones(1, server) as fleet:
            sim, provisioning = fleet[0]
            await asyncio.sleep(700)
            assert provisioning.status()["state"] == "error"
            assert sim.store.config.phone.display_name == "Jami phone"
            server.down = False
            await asyncio.sleep(700)
            assert provisioning.status()["state"] == "ok"
            assert sim.store.config.phone.display_name.startswith("Phone ")

    virtual(main())
    times = [t for t, _, _ in server.asked]
    assert 300 <= times[1] - times[0] <= 600  # RETRY_S plus jitter, not the hour


def test_a_server_dhcp_names_after_the_start_is_asked_within_a_minute(virtual, tmp_path):
    """The phone starts before its lease (a first boot): the hand-over file comes later."""
    server = Server()
    handed = tmp_path / "dhcp-provisioning"
    table = {"provisioning": {"dhcp_file": str(handed), "interval_s": 3600, "jitter_s": 300}}

    async def main() -> None:
        async with running(table) as sim:
            provisioning = Provisioning(sim.store, sim.supervisor, None, mac="b827eb000001", board="desktop",
                                        version="t", fetch=server.fetch, rng=random.Random(1).random)  # fmt: skip
            provisioning.start()
            await asyncio.sleep(200)
            assert server.asked == [] and provisioning.status()["state"] == "off"
            handed.write_text("interface=eth0\noption_66=prov.example\n")  # the lease, and its hook
            written = asyncio.get_running_loop().time()
            await asyncio.sleep(61)
            assert [url for _, url, _ in server.asked] == ["https://prov.example/common.toml",
                                                           "https://prov.example/b827eb000001.toml"]  # fmt: skip
            assert server.asked[0][0] - written <= 60  # 30 s plus up to 30 s of jitter
            assert provisioning.status()["state"] == "ok"
            await provisioning.stop()

    virtual(main())


class contextlib_phones:  # noqa: N801 - used as a context manager, named for what it gives
    """``n`` running phones, each with its own Provisioning over the fake server, seeded jitter."""

    def __init__(self, n: int, server: Server) -> None:
        self.n, self.server = n, server
        self._stack: list[object] = []

    async def __aenter__(self) -> list[tuple[object, Provisioning]]:
        fleet = []
        for i in range(self.n):
            context = running(URL)
            sim = await context.__aenter__()
            self._stack.append(context)
            provisioning = Provisioning(sim.store, sim.supervisor, None, mac=f"b827eb{i:06x}", board="desktop",
                                        version="t", fetch=self.server.fetch,
                                        rng=random.Random(i).random)  # fmt: skip
            self.server.started[provisioning.urls()[0]] = asyncio.get_running_loop().time()
            provisioning.start()
            fleet.append((sim, provisioning))
        self._fleet = fleet
        return fleet

    async def __aexit__(self, *exc: object) -> None:
        for _, provisioning in self._fleet:
            await provisioning.stop()
        for context in reversed(self._stack):
            await context.__aexit__(None, None, None)  # type: ignore[attr-defined]
