"""Call-progress tones and ringer cadences per country, and a continuous-phase PCM renderer.

Figures follow ITU-T E.180 Supplement 2 ("Various tones used in national networks"), written in
the compact notation of Asterisk's ``indications.conf``, which carries the same table::

    350+440              two frequencies summed, continuous
    480+620/500,0/500    500 ms on, 500 ms off, repeated
    !350+440/100         a '!' segment plays once; the pattern repeats from the first segment without one
    400*16               400 Hz amplitude-modulated by 16 Hz (Japan's ringback)

E.180 lists a receiver-off-hook (howler) tone for few countries; where it is missing we use the
Bellcore ROH tone (1400+2060+2450+2600 Hz, 0.1 s on/off), as adapters do.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass
from enum import Enum


class Tone(Enum):
    DIAL = "dial"
    STUTTER = "stutter"  # dial tone when messages are waiting
    RINGBACK = "ringback"
    BUSY = "busy"
    REORDER = "reorder"  # congestion / fast busy
    CALL_WAITING = "call_waiting"
    HOWLER = "howler"  # receiver off hook too long
    CONFIRM = "confirm"  # a feature code was accepted
    TEST = "test"  # the handset test: 1004 Hz steady, the telephone test tone


class ToneError(ValueError):
    """A tone pattern that does not parse."""


@dataclass(frozen=True, slots=True)
class Segment:
    """One step of a cadence: frequencies (empty = silence), how long, and whether it repeats."""

    freqs: tuple[int, ...]
    duration_ms: int | None  # None: forever
    once: bool = False
    modulation_hz: int = 0  # amplitude modulation of freqs[0] (E.180 "f1 x f2")


@dataclass(frozen=True, slots=True)
class TonePattern:
    source: str
    segments: tuple[Segment, ...]

    @classmethod
    def parse(cls, source: str) -> TonePattern:
        segments = []
        for part in source.split(","):
            text = part.strip()
            once = text.startswith("!")
            text = text.removeprefix("!")
            freq_text, _, ms_text = text.partition("/")
            try:
                duration = int(ms_text) if ms_text else None
                modulation = 0
                freqs: tuple[int, ...]
                if "*" in freq_text:
                    carrier, _, mod = freq_text.partition("*")
                    freqs = (int(carrier),)
                    modulation = int(mod)
                else:
                    freqs = tuple(int(f) for f in freq_text.split("+"))
            except ValueError as exc:
                raise ToneError(f"tone '{source}': '{part}' is not FREQ[+FREQ][/MS]") from exc
            if duration is not None and duration <= 0:
                raise ToneError(f"tone '{source}': '{part}' has a duration that is not positive")
            segments.append(Segment(tuple(f for f in freqs if f > 0), duration, once, modulation))
        if any(s.duration_ms is None for s in segments[:-1]):
            raise ToneError(f"tone '{source}': only the last segment may be continuous")
        return cls(source, tuple(segments))

    @property
    def loop_start(self) -> int:
        """Index of the first segment that repeats."""
        return next((i for i, s in enumerate(self.segments) if not s.once), len(self.segments))

    def segment_at(self, t_ms: float) -> Segment | None:
        """The segment sounding ``t_ms`` after the tone started (None once a one-shot pattern ended)."""
        elapsed = 0.0
        for segment in self.segments[: self.loop_start]:
            if segment.duration_ms is None or t_ms < elapsed + segment.duration_ms:
                return segment
            elapsed += segment.duration_ms
        loop = self.segments[self.loop_start :]
        if not loop:
            return None
        if loop[-1].duration_ms is None:
            for segment in loop:
                if segment.duration_ms is None or t_ms < elapsed + segment.duration_ms:
                    return segment
                elapsed += segment.duration_ms
        cycle = sum(s.duration_ms or 0 for s in loop)
        t_in = (t_ms - elapsed) % cycle
        for segment in loop:
            assert segment.duration_ms is not None
            if t_in < segment.duration_ms:
                return segment
            t_in -= segment.duration_ms
        return loop[-1]


@dataclass(frozen=True, slots=True)
class Cadence:
    """A ringer cadence: alternating on and off times in ms, repeated, and the frequency of the
    ringing voltage for ringers that make it (a SLIC; a bell or a speaker ignores it)."""

    on_off_ms: tuple[int, ...]
    hz: float = 20.0

    def ringing_at(self, t_ms: float) -> bool:
        t_in = t_ms % sum(self.on_off_ms)
        for i, span in enumerate(self.on_off_ms):
            if t_in < span:
                return i % 2 == 0
            t_in -= span
        return False


# Distinctive ringing (Telcordia GR-506-CORE): on/off ms, one cycle. DR1 is the standard ring.
DISTINCTIVE: dict[str, tuple[int, ...]] = {
    "dr1": (2000, 4000),
    "dr2": (800, 400, 800, 4000),
    "dr3": (400, 200, 400, 200, 800, 4000),
    "dr4": (300, 200, 1000, 200, 300, 4000),
}


class CadenceError(ValueError):
    pass


def parse_cadence(text: str) -> tuple[int, ...]:
    """A distinctive ring by name (dr1-dr4), or on,off,... in ms (pairs, each 50-10000); empty: none."""
    name = text.strip().lower()
    if not name:
        return ()
    if name in DISTINCTIVE:
        return DISTINCTIVE[name]
    try:
        spans = tuple(int(x) for x in name.split(","))
    except ValueError:
        raise CadenceError(f"{text!r} is neither {', '.join(DISTINCTIVE)} nor on,off,... in ms") from None
    if len(spans) % 2 or not all(50 <= s <= 10000 for s in spans):
        raise CadenceError("a cadence is pairs of on,off times, each 50 to 10000 ms")
    return spans


@dataclass(frozen=True, slots=True)
class TonePlan:
    country: str
    description: str
    tones: dict[Tone, TonePattern]
    ring: Cadence

    def pattern(self, tone: Tone) -> TonePattern:
        return self.tones[tone]


_ROH = "1400+2060+2450+2600/100,0/100"


def _plan(country: str, description: str, ring: str, ring_hz: float, **tones: str) -> TonePlan:
    patterns = {Tone(name): TonePattern.parse(text) for name, text in tones.items()}
    patterns.setdefault(Tone.HOWLER, TonePattern.parse(_ROH))
    patterns.setdefault(Tone.TEST, TonePattern.parse("1004"))
    if Tone.CONFIRM not in patterns:
        dial = patterns[Tone.DIAL].segments[0].freqs
        burst = "+".join(str(f) for f in dial)
        patterns[Tone.CONFIRM] = TonePattern.parse(f"!{burst}/100,!0/100,!{burst}/100,!0/100,!{burst}/100,0")
    return TonePlan(country, description, patterns, Cadence(tuple(int(x) for x in ring.split(",")), ring_hz))


PLANS: dict[str, TonePlan] = {
    plan.country: plan
    for plan in (
        _plan(
            "US",
            "United States / North America",
            "2000,4000",
            20.0,
            dial="350+440",
            stutter="!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,"
            "!350+440/100,!0/100,!350+440/100,!0/100,350+440",
            ringback="440+480/2000,0/4000",
            busy="480+620/500,0/500",
            reorder="480+620/250,0/250",
            call_waiting="440/300,0/10000",
        ),
        _plan(
            "GB",
            "United Kingdom (BT SIN 350)",
            "400,200,400,2000",
            25.0,
            dial="350+440",
            stutter="350+440/750,440/750",
            ringback="400+450/400,0/200,400+450/400,0/2000",
            busy="400/375,0/375",
            reorder="400/400,0/350,400/225,0/525",
            call_waiting="400/100,0/4000",
        ),
        _plan(
            "DE",
            "Germany",
            "1000,4000",
            25.0,
            dial="425",
            stutter="!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,425",
            ringback="425/1000,0/4000",
            busy="425/480,0/480",
            reorder="425/240,0/240",
            call_waiting="425/200,0/200,425/200,0/5000",
        ),
        _plan(
            "FR",
            "France",
            "1500,3500",
            50.0,
            dial="440",
            stutter="!440/100,!0/100,!440/100,!0/100,!440/100,!0/100,!440/100,!0/100,440",
            ringback="440/1500,0/3500",
            busy="440/500,0/500",
            reorder="440/250,0/250",
            call_waiting="440/300,0/10000",
        ),
        _plan(
            "NL",
            "Netherlands",
            "1000,4000",
            25.0,
            dial="425",
            stutter="425/500,0/50",
            ringback="425/1000,0/4000",
            busy="425/500,0/500",
            reorder="425/250,0/250",
            call_waiting="425/500,0/9500",
        ),
        _plan(
            "JP",
            "Japan",
            "1000,2000",
            16.0,
            dial="400",
            stutter="!400/100,!0/100,!400/100,!0/100,!400/100,!0/100,!400/100,!0/100,400",
            ringback="400*16/1000,0/2000",
            busy="400/500,0/500",
            reorder="400/500,0/500",
            call_waiting="400*16/500,0/8000",
        ),
    )
}

COUNTRIES = tuple(sorted(PLANS))


class ToneRenderer:
    """Renders a pattern as 16-bit mono PCM, chunk after chunk, with no phase jumps.

    Every oscillator is indexed by the absolute sample count, so phase is continuous across chunk
    boundaries and across the silent parts of a cadence; a short linear ramp at each on/off edge
    keeps the edges from clicking. Frequencies are whole hertz (all of E.180's are), so each
    oscillator is an exact period table and a sample costs a lookup, not a sine.
    """

    RAMP_MS = 2.0

    def __init__(self, pattern: TonePattern, rate: int = 8000, level: float = 0.3) -> None:
        self.pattern = pattern
        self.rate = rate
        self.level = level
        self._n = 0
        self._gain = 0.0
        self._voice: Segment | None = None
        self._tables: dict[int, tuple[array[float], int]] = {}

    def _table(self, freq: int) -> tuple[array[float], int]:
        if freq not in self._tables:
            period = self.rate // math.gcd(freq, self.rate)
            self._tables[freq] = (
                array("d", (math.sin(2 * math.pi * freq * i / self.rate) for i in range(period))),
                period,
            )
        return self._tables[freq]

    def render(self, frames: int) -> array[int]:
        out = array("h", bytes(2 * frames))
        step = 1.0 / max(1.0, self.RAMP_MS * self.rate / 1000)
        start = self._n
        i = 0
        while i < frames:
            n = start + i
            segment = self.pattern.segment_at(n * 1000 / self.rate)
            # Render up to the next millisecond boundary with one segment: cadences are whole ms.
            span = min(frames - i, max(1, self.rate // 1000))
            freqs = segment.freqs if segment else ()
            target = 1.0 if freqs else 0.0
            if freqs:
                self._voice = segment
            elif self._gain == 0.0:
                self._voice = None
            # While fading out, the last sounding frequencies keep playing under the ramp.
            voice = self._voice
            sounding = voice.freqs if voice else ()
            amplitude = self.level * 32767 / max(1, len(sounding))
            tables = [self._table(f) for f in sounding]
            mod = self._table(voice.modulation_hz) if voice and voice.modulation_hz else None
            for j in range(i, i + span):
                k = start + j
                if self._gain < target:
                    self._gain = min(target, self._gain + step)
                elif self._gain > target:
                    self._gain = max(target, self._gain - step)
                if self._gain == 0.0:
                    continue
                value = 0.0
                for table, period in tables:
                    value += table[k % period]
                if mod is not None:
                    value *= 0.5 + 0.5 * mod[0][k % mod[1]]
                out[j] = int(amplitude * self._gain * value)
            i += span
        self._n += frames
        return out
