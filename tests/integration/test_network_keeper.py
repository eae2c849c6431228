"""The network keeper on the desktop board's simulated radio (appliance/fakes/wifi.py): the
access point opens with no network, a join from it closes it, a wrong password reopens it with the
reason kept, and a dropped link is re-joined by the watchdog. The clock is the test's."""

from appliance.fakes.wifi import PASSWORDS, FakeNetwork
from appliance.network.fallback import OPEN_AFTER_BOOT_S
from appliance.network.watchdog import FIRST_TRY_S
from appliance.phone.events import AccessPointChanged
from appliance.runtime.network import KEY_DIGITS, NetworkKeeper


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def keeper(radio):
    told: list[AccessPointChanged] = []
    clock = Clock()
    return NetworkKeeper(radio, told.append, ap_ssid="Jami-Phone-EE42", clock=clock), clock, told


async def test_no_network_opens_the_access_point_and_a_join_from_it_closes_it():
    radio = FakeNetwork(cable=False, join_s=0)
    keep, clock, told = keeper(radio)
    await keep.look()
    assert radio.access_point is None and told == []
    clock.now += OPEN_AFTER_BOOT_S
    await keep.look()
    assert radio.access_point == ("Jami-Phone-EE42", keep.ap_key)
    assert len(keep.ap_key) == KEY_DIGITS and keep.ap_key.isdigit()
    assert told == [AccessPointChanged("Jami-Phone-EE42", keep.ap_key)]

    keep.join("Home Net", PASSWORDS["Home Net"])
    outcome = await keep.wait_joined()
    assert outcome is not None and outcome.state == "joined"
    assert radio.access_point is None and keep.links.wifi
    assert told[-1] == AccessPointChanged("", "")


async def test_a_wrong_password_is_said_and_the_access_point_reopens():
    radio = FakeNetwork(cable=False, join_s=0)
    keep, clock, told = keeper(radio)
    clock.now += OPEN_AFTER_BOOT_S
    await keep.look()
    keep.join("Home Net", "not the password")
    outcome = await keep.wait_joined()
    assert outcome is not None
    assert (outcome.state, outcome.field, outcome.reason) == (
        "failed",
        "psk",
        "wrong password: the network refused it",
    )
    assert "not the password" not in repr(outcome.json())
    assert radio.access_point is not None  # back for the owner to try again
    assert [bool(t.ssid) for t in told] == [True, False, True]  # open, left for the join, open again


async def test_a_dropped_link_is_rejoined_by_the_watchdog():
    radio = FakeNetwork(cable=False, join_s=0)
    keep, clock, _ = keeper(radio)
    keep.join("Home Net", PASSWORDS["Home Net"])
    await keep.wait_joined()
    radio.drop()  # the router rebooted and NetworkManager did not come back by itself
    clock.now += 10
    await keep.look()
    assert not keep.links.wifi and "reactivate" not in " ".join(radio.commands)
    clock.now += FIRST_TRY_S
    await keep.look()
    assert list(radio.commands)[-1].startswith("reactivate ")
    await keep.look()
    assert keep.links.wifi and keep.watchdog.tries == 0


async def test_with_a_cable_nothing_opens():
    radio = FakeNetwork(cable=True, join_s=0)
    keep, clock, told = keeper(radio)
    for _ in range(10):
        clock.now += 60
        await keep.look()
    assert radio.access_point is None and told == []
