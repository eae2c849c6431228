"""Tone plans against the E.180 figures, and the renderer's frequency, cadence and phase."""

import itertools
import math

import pytest

from appliance.phone.tones import COUNTRIES, PLANS, Cadence, Tone, TonePattern, ToneRenderer

RATE = 8000

# (country, tone) -> (frequencies, first on/off in ms or None for continuous), per E.180 Suppl. 2.
E180 = {
    ("US", Tone.DIAL): ((350, 440), None),
    ("US", Tone.RINGBACK): ((440, 480), (2000, 4000)),
    ("US", Tone.BUSY): ((480, 620), (500, 500)),
    ("US", Tone.REORDER): ((480, 620), (250, 250)),
    ("US", Tone.CALL_WAITING): ((440,), (300, 10000)),
    ("GB", Tone.DIAL): ((350, 440), None),
    ("GB", Tone.RINGBACK): ((400, 450), (400, 200)),
    ("GB", Tone.BUSY): ((400,), (375, 375)),
    ("GB", Tone.REORDER): ((400,), (400, 350)),
    ("DE", Tone.DIAL): ((425,), None),
    ("DE", Tone.RINGBACK): ((425,), (1000, 4000)),
    ("DE", Tone.BUSY): ((425,), (480, 480)),
    ("DE", Tone.REORDER): ((425,), (240, 240)),
    ("FR", Tone.DIAL): ((440,), None),
    ("FR", Tone.RINGBACK): ((440,), (1500, 3500)),
    ("FR", Tone.BUSY): ((440,), (500, 500)),
    ("NL", Tone.DIAL): ((425,), None),
    ("NL", Tone.RINGBACK): ((425,), (1000, 4000)),
    ("NL", Tone.BUSY): ((425,), (500, 500)),
    ("NL", Tone.REORDER): ((425,), (250, 250)),
    ("JP", Tone.DIAL): ((400,), None),
    ("JP", Tone.RINGBACK): ((400,), (1000, 2000)),
    ("JP", Tone.BUSY): ((400,), (500, 500)),
}

RINGS = {
    "US": (2000, 4000),
    "GB": (400, 200, 400, 2000),
    "DE": (1000, 4000),
    "FR": (1500, 3500),
    "NL": (1000, 4000),
    "JP": (1000, 2000),
}


def goertzel(samples, freq, rate=RATE):
    coeff = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def test_every_country_has_every_tone():
    assert set(COUNTRIES) >= {"US", "GB", "DE", "FR", "NL", "JP"}
    for plan in PLANS.values():
        assert set(plan.tones) == set(Tone)


@pytest.mark.parametrize(
    ("key", "figures"),
    E180.items(),
    ids=lambda k: (
        f"{k[0]}-{k[1].value}" if isinstance(k, tuple) and len(k) == 2 and isinstance(k[1], Tone) else ""
    ),
)
def test_plans_match_e180(key, figures):
    country, tone = key
    freqs, cadence = figures
    first = PLANS[country].pattern(tone).segments[0]
    assert first.freqs == freqs
    if cadence is None:
        assert first.duration_ms is None
    else:
        second = PLANS[country].pattern(tone).segments[1]
        assert (first.duration_ms, second.duration_ms) == cadence
        assert second.freqs == ()


@pytest.mark.parametrize(("country", "ring"), RINGS.items())
def test_ringer_cadences(country, ring):
    assert PLANS[country].ring.on_off_ms == ring


def test_cadence_timing():
    uk = Cadence((400, 200, 400, 2000))
    assert [uk.ringing_at(t) for t in (0, 399, 400, 599, 600, 999, 1000, 2999, 3000)] == [
        True, True, False, False, True, True, False, False, True,
    ]  # fmt: skip


def test_pattern_segments_over_time():
    stutter = TonePattern.parse("!350+440/100,!0/100,350+440")
    assert stutter.segment_at(50).freqs == (350, 440)
    assert stutter.segment_at(150).freqs == ()
    assert stutter.segment_at(10_000).freqs == (350, 440)
    busy = TonePattern.parse("480+620/500,0/500")
    assert busy.segment_at(10_250).freqs == (480, 620)
    assert busy.segment_at(10_750).freqs == ()
    confirm = TonePattern.parse("!440/100,!0/100")
    assert confirm.segment_at(300) is None  # a one-shot pattern ends in silence


@pytest.mark.parametrize("bad", ["", "abc", "440/0", "440,480/100", "440/-5"])
def test_bad_patterns_are_rejected(bad):
    with pytest.raises(ValueError, match="tone"):
        TonePattern.parse(bad)


@pytest.mark.parametrize(("country", "tone"), [("US", Tone.DIAL), ("DE", Tone.DIAL), ("GB", Tone.BUSY)])
def test_rendered_energy_is_at_the_plan_frequencies(country, tone):
    pattern = PLANS[country].pattern(tone)
    samples = ToneRenderer(pattern).render(RATE // 4)[: 205 * 4]
    wanted = pattern.segments[0].freqs
    total = sum(x * x for x in samples) * len(samples) / 2
    in_band = sum(goertzel(samples, f) for f in wanted)
    assert in_band / total > 0.9
    assert goertzel(samples, 1000) < in_band / 1000


def test_rendered_cadence_follows_the_plan():
    renderer = ToneRenderer(PLANS["US"].pattern(Tone.BUSY))
    samples = renderer.render(RATE * 2)
    ms = RATE // 1000

    def loud(t_ms):
        window = samples[(t_ms) * ms : (t_ms + 20) * ms]
        return max(abs(x) for x in window) > 1000

    assert [loud(t) for t in (100, 600, 1100, 1600)] == [True, False, True, False]


def test_phase_is_continuous_across_chunks():
    pattern = PLANS["US"].pattern(Tone.DIAL)
    whole = ToneRenderer(pattern).render(4000)
    renderer = ToneRenderer(pattern)
    pieces = []
    for size in (1, 159, 160, 7, 1000, 2673):
        pieces.extend(renderer.render(size))
    assert list(whole) == pieces
    # No jump between consecutive samples larger than the steepest slope of the tone allows.
    amplitude = 0.3 * 32767
    max_step = amplitude * 2 * math.pi * 440 / RATE * 1.05
    assert max(abs(a - b) for a, b in itertools.pairwise(pieces)) <= max_step


def test_on_off_edges_are_ramped_not_clicked():
    samples = ToneRenderer(PLANS["US"].pattern(Tone.BUSY)).render(RATE)
    edge = 500 * RATE // 1000
    after = samples[edge : edge + 40]
    assert max(abs(x) for x in after[-8:]) == 0  # silent within 2 ms of the edge
    assert any(abs(x) > 0 for x in after[:8])  # but not cut to zero at once


def test_modulated_ringback_japan():
    samples = ToneRenderer(PLANS["JP"].pattern(Tone.RINGBACK)).render(RATE)
    assert goertzel(samples[:4000], 400) > 100 * goertzel(samples[:4000], 800)
    envelope = [max(abs(x) for x in samples[i : i + 40]) for i in range(0, 4000, 40)]
    assert max(envelope) > 3 * min(envelope)  # 16 Hz amplitude modulation is there
