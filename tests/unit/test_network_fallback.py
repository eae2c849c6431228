"""The access point fallback's decisions (appliance/network/fallback.py): tables of link facts
over time, and every combination of facts stepped from every kind of state."""

import itertools

import pytest

from appliance.network import fallback
from appliance.network.fallback import (
    OPEN_AFTER_BOOT_S,
    OPEN_AFTER_LOSS_S,
    RETRY_EVERY_S,
    RETRY_FOR_S,
    Action,
    Fallback,
)
from appliance.network.links import Links

OPEN, CLOSE = Action.OPEN, Action.CLOSE


def run(steps, start=0.0):
    """Step ``(now, facts)`` in order; the action of each."""
    state = Fallback(started=start)
    actions = []
    for now, facts in steps:
        state, action = fallback.step(state, Links(now=now, **facts))
        actions.append(action)
    return state, actions


def test_no_network_from_boot_opens_the_access_point_after_the_wait():
    nothing = {}
    _, actions = run([(10, nothing), (OPEN_AFTER_BOOT_S - 1, nothing), (OPEN_AFTER_BOOT_S, nothing)])
    assert actions == [None, None, OPEN]


def test_the_wait_counts_from_start_not_from_the_first_look():
    _, actions = run([(OPEN_AFTER_BOOT_S + 5, {})], start=0.0)
    assert actions == [OPEN]


@pytest.mark.parametrize("link", ["ethernet", "wifi"])
def test_a_link_before_the_wait_keeps_it_closed(link):
    _, actions = run([(10, {}), (30, {link: True}), (OPEN_AFTER_BOOT_S + 1, {link: True})])
    assert actions == [None, None, None]


def test_a_phone_that_was_online_waits_longer_after_losing_its_network():
    steps = [(5, {"wifi": True}), (100, {}), (100 + OPEN_AFTER_BOOT_S, {}), (100 + OPEN_AFTER_LOSS_S - 1, {}),
             (100 + OPEN_AFTER_LOSS_S, {})]  # fmt: skip
    _, actions = run(steps)
    assert actions == [None, None, None, None, OPEN]


def test_an_open_access_point_stays_open_while_offline_and_nothing_is_saved():
    facts = {"access_point": True}
    _, actions = run([(80, {}), *((80 + i * 100, facts) for i in range(1, 20))])
    assert actions == [OPEN, *[None] * 19]


def test_with_a_saved_network_and_nobody_on_it_the_access_point_is_left_to_look_then_reopened():
    ap = {"access_point": True, "saved_wifi": True}
    steps = [(80, {"saved_wifi": True}), (90, ap), (90 + RETRY_EVERY_S, ap),
             (90 + RETRY_EVERY_S + 10, {"saved_wifi": True}),
             (90 + RETRY_EVERY_S + RETRY_FOR_S, {"saved_wifi": True})]  # fmt: skip
    _, actions = run(steps)
    assert actions == [OPEN, None, CLOSE, None, OPEN]


def test_nobody_is_cut_off_the_setup_page_to_look_for_the_saved_network():
    busy = {"access_point": True, "saved_wifi": True, "ap_clients": 1}
    _, actions = run([(80, {}), (90, busy), (90 + RETRY_EVERY_S * 3, busy)])
    assert actions == [OPEN, None, None]


def test_the_saved_network_found_while_looking_ends_the_fallback():
    steps = [(80, {"saved_wifi": True}), (90, {"access_point": True, "saved_wifi": True}),
             (90 + RETRY_EVERY_S, {"access_point": True, "saved_wifi": True}),
             (90 + RETRY_EVERY_S + 20, {"wifi": True, "saved_wifi": True}),
             (90 + RETRY_EVERY_S + 20 + OPEN_AFTER_LOSS_S - 1, {"wifi": True, "saved_wifi": True})]  # fmt: skip
    state, actions = run(steps)
    assert actions == [OPEN, None, CLOSE, None, None]
    assert state.been_online


def test_a_join_holds_the_radio_and_a_failed_one_reopens_at_once():
    steps = [(80, {}), (100, {"access_point": True}), (110, {"joining": True}),
             (200, {"joining": True}), (205, {})]  # fmt: skip
    _, actions = run(steps)
    assert actions == [OPEN, None, None, None, OPEN]


def test_ethernet_plugged_in_closes_the_access_point_once_nobody_is_on_it():
    steps = [(80, {}), (90, {"access_point": True}), (100, {"access_point": True, "ethernet": True, "ap_clients": 1}),
             (110, {"access_point": True, "ethernet": True})]  # fmt: skip
    _, actions = run(steps)
    assert actions == [OPEN, None, None, CLOSE]


FACTS = ("ethernet", "wifi", "access_point", "joining", "saved_wifi")


def every_links(now):
    for values in itertools.product((False, True), repeat=len(FACTS)):
        facts = dict(zip(FACTS, values, strict=True))
        for clients in (0, 2):
            if clients and not facts["access_point"]:
                continue
            yield Links(now=now, ap_clients=clients, **facts)


STATES = [
    Fallback(started=0.0),
    Fallback(started=0.0, offline_since=0.0),
    Fallback(started=0.0, offline_since=0.0, been_online=True),
    Fallback(started=0.0, offline_since=0.0, ap_since=5.0),
    Fallback(started=0.0, offline_since=0.0, retry_until=2000.0),
    Fallback(started=0.0, offline_since=0.0, retry_until=50.0),
]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("now", [1.0, OPEN_AFTER_BOOT_S, 1000.0, 5000.0])
def test_every_combination_of_facts_keeps_the_rules(state, now):
    for links in every_links(now):
        after, action = fallback.step(state, links)
        if action is OPEN:  # only with no network, no join under way, and not already open
            assert not links.online and not links.joining and not links.access_point, links
            assert after.ap_since == now
        if action is CLOSE:  # only an open one, never from under someone on it while offline
            assert links.access_point, links
            assert links.ap_clients == 0, links
        if links.online:
            assert after.been_online and after.offline_since is None
        else:
            assert after.offline_since is not None and after.offline_since <= now
        # Stepping the same facts again decides nothing new (a look repeated changes nothing).
        if action is None:
            _, second = fallback.step(after, links)
            assert second is None, (state, links)
