"""Random event sequences: the machine never raises and keeps its promises."""

import os
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.phone import effects as fx
from appliance.phone.events import (
    AlertSent,
    CallArrived,
    CallState,
    CallStateChanged,
    ClockRead,
    HookChanged,
    KeyPressed,
    TelephonyLost,
    TelephonyRestored,
    VoicemailChanged,
)
from appliance.phone.machine import line_reversed, ringer_of, tone_of
from appliance.phone.model import CallId, Forwarding, Mode, Screening

from .harness import ALICE, BOB, STRANGER, PhoneBench, with_settings

CALL_IDS = ["out-1", "out-2", "out-3", "in-1", "in-2", "fwd-1", "fwd-2", "fwd-3"]
DESTINATIONS = ["", "2", "3", "sip:dana@pbx.example", "7"]  # "7": no such speed dial

actions = st.one_of(
    st.tuples(st.just("lift")),
    st.tuples(st.just("hang")),
    st.tuples(st.just("flash"), st.floats(0.1, 0.89)),
    st.tuples(st.just("open"), st.floats(0.0, 2.0)),
    st.tuples(st.just("key"), st.sampled_from("0123456789*#AD")),  # D, A: an analog phone's ack
    st.tuples(st.just("wait"), st.floats(0.0, 70.0)),
    st.tuples(
        st.just("incoming"), st.sampled_from(["in-1", "in-2"]), st.sampled_from([ALICE, BOB, STRANGER])
    ),
    st.tuples(st.just("state"), st.sampled_from(CALL_IDS), st.sampled_from(list(CallState))),
    st.tuples(st.just("lost")),
    st.tuples(st.just("alert_sent")),  # the line's report that the call-waiting alert went out
    st.tuples(st.just("restored")),
    st.tuples(st.just("voicemail"), st.integers(0, 3)),
    st.tuples(st.just("clock"), st.floats(0, 86399)),
    st.tuples(st.just("dial"), st.sampled_from(["911", "112", "*723#", "*73", "*90", "*922"])),
)

# The features of issue 16 in every combination: forwarding, a hotline, screening, emergency.
feature_settings = st.builds(
    lambda always, busy, no_answer, hotline, delay, quiet, anonymous: with_settings(
        forwarding=Forwarding(always, busy, no_answer, 10.0),
        hotline_uri=hotline,
        hotline_delay_s=delay,
        screening=Screening(
            anonymous_reject=anonymous, quiet_from=quiet[0], quiet_to=quiet[1], dnd_allow=(ALICE,)
        ),
    ),
    *[st.sampled_from(DESTINATIONS)] * 3,
    st.sampled_from(["", "2"]),
    st.sampled_from([0.0, 3.0]),
    st.sampled_from([(0, 0), (22 * 60, 7 * 60), (0, 1439)]),
    st.booleans(),
)


def apply(bench: PhoneBench, action: tuple) -> list[fx.Effect]:
    match action:
        case ("lift",):
            return bench.send(HookChanged(True, bench.now))
        case ("hang",):
            return bench.send(HookChanged(False, bench.now))
        case ("flash", seconds):
            return bench.flash(seconds) if bench.phone.off_hook else []
        case ("open", seconds):
            out = bench.send(HookChanged(False, bench.now))
            out += bench.advance(seconds)
            return out + bench.send(HookChanged(True, bench.now))
        case ("key", key):
            return bench.send(KeyPressed(key))
        case ("wait", seconds):
            return bench.advance(seconds)
        case ("incoming", call, uri):
            return bench.send(CallArrived(CallId(call), "jami", uri, ""))
        case ("state", call, state):
            return bench.send(CallStateChanged(CallId(call), state))
        case ("lost",):
            return bench.send(TelephonyLost())
        case ("alert_sent",):
            return bench.send(AlertSent())
        case ("restored",):
            return bench.send(TelephonyRestored())
        case ("voicemail", count):
            return bench.send(VoicemailChanged("jami", count))
        case ("clock", seconds):
            return bench.send(ClockRead(seconds, synced=True))
        case ("dial", keys):
            return bench.press(keys) if bench.phone.off_hook else []
    raise AssertionError(action)


@settings(max_examples=int(os.environ.get("PHONE_EXAMPLES", "400")), deadline=None)
@given(
    st.lists(actions, max_size=40),
    st.booleans(),
    st.booleans(),
    st.one_of(st.none(), feature_settings),
    st.sampled_from((0, 500)),
    st.sampled_from(("US", "JP")),
)
def test_random_sequences_keep_the_promises(sequence, private, cw, features, loop_ms, country):
    # The analog line's call-waiting caller ID too, its loop switch, NTT's CAR handshake (JP) and
    # issue 16's features in some runs.
    base = replace(features or with_settings(), callerid_waiting=True, loop_disconnect_ms=loop_ms)
    bench = PhoneBench(replace(base, country=country, callerid_car=True))
    bench.phone = replace(bench.phone, private_mode=private, call_waiting=cw)
    tone = ringer = None
    reversed_ = False
    muted: set[str] = set()
    for action in sequence:
        out = apply(bench, action)  # never raises; invariants checked after each step
        # Replaying the effects gives the state's outputs: one tone at a time, ringer as derived.
        for effect in out:
            match effect:
                case fx.PlayTone(t):
                    tone = t
                case fx.StopTone():
                    tone = None
                case fx.StartRinger():
                    ringer = effect
                case fx.StopRinger():
                    ringer = None
                case fx.ReverseLine(on):
                    reversed_ = on
                case fx.Mute(call, on):
                    (muted.add if on else muted.discard)(call)
                case fx.SendCaller():  # NTT: only to a phone that answered the CAR, on hook
                    assert country == "JP" and not bench.phone.off_hook
                case fx.OpenLoop(ms):  # only for a far-end clear: off hook, the line left idle
                    assert ms == loop_ms and bench.phone.off_hook and not bench.phone.calls
        assert tone == tone_of(bench.phone)
        assert reversed_ == line_reversed(bench.phone)
        # A call is muted only while its caller ID on call waiting is under way, never left so.
        assert muted <= {bench.phone.cidcw_muted} & {c.id for c in bench.phone.calls}
        assert ringer == ringer_of(bench.phone)
        assert not (bench.phone.off_hook and ringer)

    # Hanging up always ends idle, or ringing for a call still waiting or held.
    if bench.phone.off_hook:
        bench.send(HookChanged(False, bench.now))
    bench.advance(1.0)
    assert not bench.phone.off_hook
    assert tone_of(bench.phone) is None
    assert bench.phone.mode in (Mode.IDLE, Mode.RINGING)
    if bench.phone.mode is Mode.RINGING:
        assert bench.phone.waiting or bench.phone.held
    else:
        assert bench.phone.calls == ()
    assert all(name not in ("digit", "progress", "hook", "hotline") for name, _ in bench.phone.timers)
