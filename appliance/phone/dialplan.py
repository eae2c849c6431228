"""Digit maps, in the syntax adapters and desk phones use (Cisco SPA, Grandstream).

A map is alternatives separated by ``|``, optionally inside ``( )``; whitespace is ignored::

    x        any digit 0-9
    [2-9]    one of a set; ranges and single keys mix: [1-35*]
    .        repeats the element before it zero or more times: xx. is one or more digits
    <a:b>    the dialed keys a are replaced by b: <9:> strips a 9, <:1212> prepends 1212
    !        at the end of an alternative: numbers it matches are blocked
    0-9 * # A-D  the key itself

Matching a partial number tells what to do next: dial now (nothing longer could match), wait
the short interdigit time (it matches but could go on), wait the long time (not complete yet),
or give up (nothing can match). When several alternatives match in full, the first one wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

KEYS = frozenset("0123456789*#ABCD")
_DIGITS = frozenset("0123456789")


class DigitMapError(ValueError):
    """A digit map that does not parse; the message says where and what was expected."""


class MatchKind(Enum):
    NONE = "none"  # no alternative can match this or anything longer
    PARTIAL = "partial"  # not complete yet: wait the long interdigit time
    AMBIGUOUS = "ambiguous"  # complete, but a longer number could match too: wait the short time
    COMPLETE = "complete"  # complete and nothing longer matches: dial now
    BLOCKED = "blocked"  # complete and matched by a blocking alternative


@dataclass(frozen=True, slots=True)
class MatchResult:
    kind: MatchKind
    number: str = ""  # what to dial after substitutions (for AMBIGUOUS, COMPLETE and BLOCKED)
    pattern: str = ""  # the alternative that matched in full

    @property
    def dialable(self) -> bool:
        """True when the keys so far are a whole number (dial it once the timer runs out)."""
        return self.kind in (MatchKind.AMBIGUOUS, MatchKind.COMPLETE)


@dataclass(frozen=True, slots=True)
class _Keys:
    keys: frozenset[str]
    repeat: bool = False
    emit: bool = True  # False inside <a:b>: the key is consumed and replaced


@dataclass(frozen=True, slots=True)
class _Insert:
    text: str


_Element = _Keys | _Insert


@dataclass(frozen=True, slots=True)
class _Pattern:
    source: str
    elements: tuple[_Element, ...]
    blocked: bool


@dataclass(frozen=True, slots=True)
class _Outcome:
    full: str | None  # substituted number of the first full match
    extendable: bool  # more keys could still match


class DigitMap:
    """A compiled digit map. Build with :meth:`parse`; immutable and safe to share."""

    __slots__ = ("_patterns", "source")

    def __init__(self, source: str, patterns: tuple[_Pattern, ...]) -> None:
        self.source = source
        self._patterns = patterns

    def __repr__(self) -> str:
        return f"DigitMap({self.source!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DigitMap) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)

    @classmethod
    def parse(cls, source: str) -> DigitMap:
        text = "".join(source.split())
        if text.startswith("(") != text.endswith(")"):
            raise DigitMapError("unbalanced parentheses around the map")
        if text.startswith("("):
            text = text[1:-1]
        if not text:
            raise DigitMapError("the map is empty")
        patterns = []
        for alternative in text.split("|"):
            if not alternative:
                raise DigitMapError("an empty alternative (two '|' in a row, or one at an end)")
            patterns.append(_parse_pattern(alternative))
        return cls(source, tuple(patterns))

    def match(self, keys: str) -> MatchResult:
        """Classify the keys dialed so far."""
        extendable = False
        for pattern in self._patterns:
            outcome = _match(pattern.elements, keys)
            extendable = extendable or outcome.extendable
            if outcome.full is not None and pattern.blocked:
                return MatchResult(MatchKind.BLOCKED, outcome.full, pattern.source)
        for pattern in self._patterns:
            outcome = _match(pattern.elements, keys)
            if outcome.full is not None and not pattern.blocked:
                kind = MatchKind.AMBIGUOUS if extendable else MatchKind.COMPLETE
                return MatchResult(kind, outcome.full, pattern.source)
        return MatchResult(MatchKind.PARTIAL if extendable else MatchKind.NONE)


def _parse_pattern(source: str) -> _Pattern:
    blocked = source.endswith("!")
    body = source[:-1] if blocked else source
    elements: list[_Element] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == ".":
            last = elements[-1] if elements else None
            if not isinstance(last, _Keys) or last.repeat or not last.emit:
                raise DigitMapError(f"'{source}' position {i + 1}: '.' must follow a key, 'x' or a [set]")
            elements[-1] = _Keys(last.keys, repeat=True)
            i += 1
        elif char in "xX":
            elements.append(_Keys(_DIGITS))
            i += 1
        elif char == "[":
            end = body.find("]", i)
            if end < 0:
                raise DigitMapError(f"'{source}' position {i + 1}: '[' without ']'")
            elements.append(_Keys(_parse_set(body[i + 1 : end], source, i)))
            i = end + 1
        elif char == "<":
            end = body.find(">", i)
            if end < 0 or ":" not in body[i:end]:
                raise DigitMapError(f"'{source}' position {i + 1}: expected <dialed:replacement>")
            dialed, _, replacement = body[i + 1 : end].partition(":")
            for key in dialed + replacement.replace("+", ""):  # '+' may be inserted (E.164)
                if key.upper() not in KEYS:
                    raise DigitMapError(f"'{source}' position {i + 1}: '{key}' is not a key")
            elements.extend(_Keys(frozenset(k.upper()), emit=False) for k in dialed)
            if replacement:
                elements.append(_Insert(replacement.upper()))
            i = end + 1
        elif char.upper() in KEYS:
            elements.append(_Keys(frozenset(char.upper())))
            i += 1
        else:
            raise DigitMapError(
                f"'{source}' position {i + 1}: '{char}' is not a key, x, [set], <a:b>, '.' or '!'"
            )
    if not any(isinstance(e, _Keys) for e in elements):
        raise DigitMapError(f"'{source}': an alternative must dial at least one key")
    return _Pattern(source, tuple(elements), blocked)


def _parse_set(body: str, source: str, at: int) -> frozenset[str]:
    keys: set[str] = set()
    i = 0
    while i < len(body):
        first = body[i].upper()
        if first not in KEYS:
            raise DigitMapError(f"'{source}' position {at + i + 2}: '{body[i]}' is not a key")
        if i + 2 < len(body) and body[i + 1] == "-":
            last = body[i + 2]
            if not (first in _DIGITS and last in _DIGITS and first <= last):
                raise DigitMapError(f"'{source}' position {at + i + 2}: bad range '{first}-{last}'")
            keys.update(str(d) for d in range(int(first), int(last) + 1))
            i += 3
        else:
            keys.add(first)
            i += 1
    if not keys:
        raise DigitMapError(f"'{source}' position {at + 1}: empty [set]")
    return frozenset(keys)


def _match(elements: tuple[_Element, ...], keys: str) -> _Outcome:
    full: str | None = None
    extendable = False
    seen: set[tuple[int, int]] = set()
    # Depth-first over (element, key) positions; each position once, so 'x.' cannot loop.
    stack: list[tuple[int, int, str]] = [(0, 0, "")]
    while stack:
        at, pos, out = stack.pop()
        if (at, pos) in seen:
            continue
        seen.add((at, pos))
        if at == len(elements):
            if pos == len(keys) and full is None:
                full = out
            continue
        element = elements[at]
        if isinstance(element, _Insert):
            stack.append((at + 1, pos, out + element.text))
            continue
        if pos == len(keys):
            extendable = True
            if element.repeat:
                stack.append((at + 1, pos, out))
            continue
        key = keys[pos]
        emitted = out + key if element.emit else out
        if element.repeat:
            # Push 'skip' first so 'consume' is explored first: greedy, like the phones do.
            stack.append((at + 1, pos, out))
            if key in element.keys:
                stack.append((at, pos + 1, emitted))
        elif key in element.keys:
            stack.append((at + 1, pos + 1, emitted))
    return _Outcome(full, extendable)
