"""The link watchdog's decisions (appliance/network/watchdog.py)."""

import itertools

import pytest

from appliance.network import watchdog
from appliance.network.links import Links
from appliance.network.watchdog import FIRST_TRY_S, MAX_DELAY_S, RESET_EVERY, Reactivate, ResetRadio, Watchdog

HOME = "1f0a0a6e-0000-4000-8000-00000000cafe"
UP = {"wifi": True, "wifi_connection": HOME, "saved_wifi": True}
DOWN = {"saved_wifi": True}


def run(steps, state=None):
    state = state or Watchdog()
    actions = []
    for now, facts in steps:
        state, action = watchdog.step(state, Links(now=now, **facts))
        actions.append(action)
    return state, actions


def test_a_link_that_comes_back_by_itself_is_left_alone():
    _, actions = run([(0, UP), (10, DOWN), (10 + FIRST_TRY_S - 1, DOWN), (10 + FIRST_TRY_S - 0.5, UP)])
    assert actions == [None] * 4


def test_a_dropped_link_is_reactivated_then_the_radio_reset_with_growing_delays():
    steps, now, seen = [(0, UP), (10, DOWN)], 10.0, []
    state, _ = run(steps)
    for _ in range(7):  # look every second until seven tries were made
        while True:
            now += 1
            state, action = watchdog.step(state, Links(now=now, **DOWN))
            if action is not None:
                seen.append((now - 10, action))
                break
    kinds = [type(a) for _, a in seen]
    assert kinds == [Reactivate, Reactivate, ResetRadio, Reactivate, Reactivate, ResetRadio, Reactivate]
    assert all(a.connection == HOME for _, a in seen)
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(seen)]
    assert seen[0][0] == FIRST_TRY_S
    assert gaps == [FIRST_TRY_S * 2, FIRST_TRY_S * 4, MAX_DELAY_S, MAX_DELAY_S, MAX_DELAY_S, MAX_DELAY_S]
    assert RESET_EVERY == 3


def test_back_up_starts_the_count_again():
    state, _ = run([(0, UP), (10, DOWN), (10 + FIRST_TRY_S, DOWN)])
    assert state.tries == 1
    state, actions = run([(100, UP), (110, DOWN), (110 + FIRST_TRY_S, DOWN)], state)
    assert state.tries == 1 and isinstance(actions[-1], Reactivate)


@pytest.mark.parametrize("owner", [{"access_point": True}, {"joining": True}])
def test_idle_while_the_radio_is_the_access_points_or_a_joins(owner):
    _, actions = run([(0, UP), (10, {**DOWN, **owner}), (1000, {**DOWN, **owner})])
    assert actions == [None, None, None]


def test_nothing_to_rejoin_before_a_first_join_or_once_forgotten():
    assert run([(0, DOWN), (1000, DOWN)])[1] == [None, None]
    _, actions = run([(0, UP), (10, {}), (1000, {})])  # the network was forgotten
    assert actions == [None, None, None]


def test_every_combination_acts_only_on_a_known_link_that_is_down():
    facts = ("ethernet", "wifi", "access_point", "joining", "saved_wifi")
    states = [Watchdog(), Watchdog(HOME), Watchdog(HOME, lost_at=0.0, next_try=FIRST_TRY_S, tries=2)]
    for state, values in itertools.product(states, itertools.product((False, True), repeat=len(facts))):
        links = Links(
            now=FIRST_TRY_S + 1,
            wifi_connection=HOME if values[1] else "",
            **dict(zip(facts, values, strict=True)),
        )
        after, action = watchdog.step(state, links)
        if action is not None:
            assert state.connection and not links.wifi and not links.access_point and not links.joining
            assert links.saved_wifi and action.connection == HOME
            assert after.next_try is not None and after.next_try > links.now
        if links.wifi:
            assert after == Watchdog(HOME)
