"""Checks attached to config fields. Each returns an error message, or None when the value is fine."""

from __future__ import annotations

import re
from collections.abc import Callable

from appliance.phone.dialplan import DigitMap, DigitMapError
from appliance.phone.directory import JAMI_ID
from appliance.phone.model import Feature
from appliance.phone.phrases import LANGUAGES
from appliance.phone.tones import COUNTRIES, CadenceError, parse_cadence

Check = Callable[[object], str | None]

_JAMI_NAME = re.compile(r"^[a-z0-9_-]{3,32}$", re.IGNORECASE)
_SIP_URI = re.compile(r"^sips?:([^@\s]+@)?[A-Za-z0-9.\-\[\]:]+(;[^\s]*)?$")
_HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-]+):(\d{1,5})$")
_DIAL_KEYS = re.compile(r"^[0-9*#]+$")


def between(low: float, high: float) -> Check:
    def check(value: object) -> str | None:
        assert isinstance(value, int | float)
        return None if low <= value <= high else f"must be between {low:g} and {high:g}"

    return check


def zero_or_between(low: float, high: float) -> Check:
    """0 (meaning: the default chosen elsewhere) or a value in the range."""
    within = between(low, high)

    def check(value: object) -> str | None:
        assert isinstance(value, int | float)
        return None if value == 0 or within(value) is None else f"must be 0 or between {low:g} and {high:g}"

    return check


def one_of(*choices: str) -> Check:
    def check(value: object) -> str | None:
        if value in choices:
            return None
        return f"must be one of {', '.join(choices)} (got {value!r})"

    return check


def country(value: object) -> str | None:
    return one_of(*COUNTRIES)(str(value).upper())


def language(value: object) -> str | None:
    if str(value).lower() in ("", *LANGUAGES):
        return None
    return f"must be one of {', '.join(LANGUAGES)}, or empty for the country's (got {value!r})"


def ring_cadence(value: object) -> str | None:
    try:
        parse_cadence(str(value))
    except CadenceError as exc:
        return str(exc)
    return None


def digit_map(value: object) -> str | None:
    try:
        DigitMap.parse(str(value))
    except DigitMapError as exc:
        return f"invalid digit map: {exc}"
    return None


def contact_uri(value: object) -> str | None:
    text = str(value).strip()
    if JAMI_ID.match(text.lower()) or _SIP_URI.match(text) or _JAMI_NAME.match(text):
        return None
    return "must be a 40-hex Jami ID, a registered Jami name or a sip: URI"


def jami_id_or_empty(value: object) -> str | None:
    """A Jami ID (``jami:`` prefix allowed), or empty for none."""
    text = str(value).strip().lower().removeprefix("jami:").removeprefix("ring:")
    if not text or JAMI_ID.match(text):
        return None
    return "must be a 40-hex Jami ID (or empty)"


def dial_keys(max_len: int) -> Check:
    def check(value: object) -> str | None:
        text = str(value)
        if text == "" or (_DIAL_KEYS.match(text) and len(text) <= max_len):
            return None
        return f"must be up to {max_len} keys of 0-9 * #"

    return check


def destination(value: object) -> str | None:
    """Where a call may be sent: keys dialed as on the keypad (a speed dial, a directory number),
    or a Jami ID, registered name or SIP URI; empty for none."""
    text = str(value).strip()
    if not text or _DIAL_KEYS.match(text):
        return None
    if contact_uri(text) is None:
        return None
    return "must be a speed dial or number, a 40-hex Jami ID, a registered Jami name or a sip: URI"


def caller_list(value: object) -> str | None:
    assert isinstance(value, list)
    for item in value:
        text = str(item).strip()
        if not text or not (_DIAL_KEYS.match(text) or contact_uri(text) is None or "@" in text):
            return f"{item!r} must be a number, a SIP URI, a 40-hex Jami ID or a registered name"
    return None


def time_of_day(value: object) -> str | None:
    text = str(value)
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if text == "" or (match and int(match.group(1)) < 24 and int(match.group(2)) < 60):
        return None
    return f"must be HH:MM, for example 22:00 (got {text!r})"


def emergency_numbers(value: object) -> str | None:
    assert isinstance(value, list)
    for item in value:
        if not re.fullmatch(r"[0-9]{2,6}", str(item)):
            return f"{item!r} must be 2 to 6 digits"
    return None


def host_port(value: object) -> str | None:
    match = _HOST_PORT.match(str(value))
    if match and 0 < int(match.group(2)) < 65536:
        return None
    return "must be HOST:PORT, for example 127.0.0.1:8080"


def host_port_or_empty(value: object) -> str | None:
    return None if value == "" else host_port(value)


def host_port_list(value: object) -> str | None:
    assert isinstance(value, list)
    for item in value:
        if host_port(item) is not None:
            return f"{item!r} must be HOST:PORT"
    return None


_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*")


def host_names(value: object) -> str | None:
    assert isinstance(value, list)
    for item in value:
        if not isinstance(item, str) or not _HOST_NAME.fullmatch(item):
            return f"{item!r} must be a host name in lower case (letters, digits, '-' and '.')"
    return None


def star_code_table(value: object) -> str | None:
    assert isinstance(value, dict)
    features = {f.value for f in Feature}
    for code, feature in value.items():
        if not re.match(r"^[*#][0-9*#]{1,5}$", code):
            return f"code {code!r} must start with * or # and have 2 to 6 keys"
        if feature not in features:
            return f"{code}: unknown feature {feature!r} (known: {', '.join(sorted(features))})"
    return None


def one_of_ints(*choices: int) -> Check:
    def check(value: object) -> str | None:
        return None if value in choices else f"must be one of {', '.join(map(str, choices))}"

    return check


def gpio_list(value: object) -> str | None:
    assert isinstance(value, list)
    if not all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= 63 for x in value):
        return "must be a list of GPIO numbers 0-63"
    if len(set(value)) != len(value):
        return "lists a GPIO twice"
    return None


def keypad_layout(value: object) -> str | None:
    assert isinstance(value, list)
    if not value or not all(isinstance(row, str) and row for row in value):
        return "must be a list of non-empty strings, one per row"
    if len({len(row) for row in value}) != 1:
        return "every row must have the same number of keys"
    for row in value:
        for key in row:
            if key.upper() not in "0123456789*#ABCD":
                return f"{key!r} is not a phone key"
    return None


_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")
_MACRO = re.compile(r"\{([^{}]*)\}")


def url(value: object) -> str | None:
    """Empty, or an http(s) URL (with ``{mac}``, ``{board}``, ``{version}`` allowed in it)."""
    if value == "":
        return None
    if not isinstance(value, str) or not _URL.match(value):
        return f"must be an https:// (or http://) URL, got {value!r}"
    unknown = [m.group(0) for m in _MACRO.finditer(value) if m.group(1) not in ("mac", "board", "version")]
    if unknown:
        return f"unknown macro {unknown[0]} (known: {{mac}}, {{board}}, {{version}})"
    return None


def not_empty(value: object) -> str | None:
    return None if str(value).strip() else "must not be empty"


_SCRYPT = re.compile(r"^scrypt\$(\d{1,8})\$(\d{1,2})\$(\d{1,2})\$((?:[0-9a-f]{2}){16,64})\$([0-9a-f]{64})$")
# The page's check allows scrypt 64 MiB (appliance/web/auth.py), which also counts its other
# buffers: N * r within half of it leaves room for them (the page's own hash uses 16 MiB).
SCRYPT_MAX_MEMORY = 32 * 1024 * 1024


def scrypt_hash(value: object) -> str | None:
    """Empty, or an admin password hash as the page stores it: ``scrypt$N$r$p$salt$hash`` (hex;
    a 32-byte hash), with costs the page can check (N a power of two, 128 * N * r within 32 MiB)."""
    if value == "":
        return None
    match = _SCRYPT.match(str(value))
    if match is None:
        return ("must be scrypt$N$r$p$salt$hash as `appliance config password-hash` prints it "
                "(never the password itself)")  # fmt: skip
    n, r, p = (int(match.group(i)) for i in (1, 2, 3))
    if n < 2**10 or n & (n - 1) or not 1 <= r <= 32 or not 1 <= p <= 16:
        return "scrypt costs out of range: N a power of two from 1024, r from 1 to 32, p from 1 to 16"
    if 128 * n * r > SCRYPT_MAX_MEMORY:
        return f"scrypt costs need {128 * n * r // 2**20} MiB per check, more than the 32 MiB allowed"
    return None
