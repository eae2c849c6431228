"""Building a :class:`Config` from layers of TOML, with every problem named by its key path."""

from __future__ import annotations

import difflib
import tomllib
import types
import typing
import unicodedata
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

from appliance.phone.dialplan import DigitMap, MatchKind
from appliance.phone.model import (
    AnsweringSettings,
    Contact,
    Emergency,
    Feature,
    Forwarding,
    Screening,
    Settings,
)
from appliance.phone.phrases import language_for
from appliance.phone.tones import parse_cadence

from .schema import Config

Table = dict[str, Any]
SECRET_MASK = "********"  # noqa: S105 - the mask shown instead of a secret
MAX_CONTACTS = 1000  # as many as a vCard import reads


class ConfigError(ValueError):
    """The configuration is invalid; ``problems`` holds one line per problem, each naming its key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Layer:
    name: str  # 'defaults', 'board', a file path, 'data', '--set'
    table: Table


def read_toml(path: Path) -> Table:
    """Parse a TOML file; a syntax error names the file and the line."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: {exc}"]) from exc
    except UnicodeDecodeError as exc:  # garbage bytes: name the file, not a traceback
        raise ConfigError([f"{path}: is not text (byte {exc.start}: {exc.reason})"]) from exc
    except OSError as exc:
        raise ConfigError([f"{path}: {exc.strerror or exc}"]) from exc


def read_toml_text(text: str, where: str) -> Table:
    """Parse TOML text from elsewhere than a file (a backup); errors name ``where``."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{where}: {exc}"]) from exc


def merge(base: Table, override: Table) -> Table:
    """Deep-merge tables; lists and values in ``override`` replace those in ``base``."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_assignment(text: str) -> Table:
    """``a.b=VALUE`` -> ``{"a": {"b": VALUE}}``; VALUE is TOML (true, 5, "x", [..]) or else a bare string."""
    key, sep, raw = text.partition("=")
    path = key.strip().split(".")
    if not sep or not all(path):
        raise ConfigError([f"--set {text!r}: expected KEY=VALUE, for example dialplan.interdigit_s=4"])
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    table: Table = {path[-1]: value}
    for part in reversed(path[:-1]):
        table = {part: table}
    return table


def build(table: Table) -> Config:
    """Validate a merged table into a Config, or raise ConfigError listing every problem."""
    problems: list[str] = []
    config = typing.cast("Config", _build(Config, table, "", problems))
    if not problems:
        _cross_check(config, problems)
    if problems:
        raise ConfigError(problems)
    return config


def _build(cls: type, table: object, path: str, problems: list[str]) -> Any:  # noqa: ANN401
    if not isinstance(table, dict):
        problems.append(f"{path.rstrip('.') or 'config'}: must be a table")
        return cls()
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(f"{path}{key}: unknown key{hint}")
    values = {}
    for name, spec in known.items():
        if name not in table:
            continue
        value = _coerce(hints[name], table[name], f"{path}{name}", problems)
        if value is _INVALID:
            continue
        for check in spec.metadata.get("checks", ()):
            message = check(value)
            if message:
                problems.append(f"{path}{name}: {message}")
                break
        else:
            values[name] = value
    return cls(**values)


_INVALID = object()


def _coerce(hint: Any, value: object, path: str, problems: list[str]) -> Any:  # noqa: ANN401
    origin = typing.get_origin(hint)
    if is_dataclass(hint):
        return _build(hint, value, f"{path}.", problems)  # type: ignore[arg-type]
    if origin is list:
        (item_type,) = typing.get_args(hint)
        if not isinstance(value, list):
            problems.append(f"{path}: must be a list")
            return _INVALID
        items = [_coerce(item_type, item, f"{path}[{i}]", problems) for i, item in enumerate(value)]
        return [] if _INVALID in items else items
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(x, str) for x in value.values()):
            problems.append(f"{path}: must be a table of strings")
            return _INVALID
        return dict(value)
    if hint is bool:
        if not isinstance(value, bool):
            problems.append(f"{path}: must be true or false")
            return _INVALID
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: must be a whole number")
            return _INVALID
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{path}: must be a number")
            return _INVALID
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            problems.append(f"{path}: must be a string")
            return _INVALID
        if (why := _not_text(value)) is not None:
            problems.append(f"{path}: {why}")
            return _INVALID
        return value
    if isinstance(hint, types.UnionType):  # pragma: no cover - not used by the schema today
        return value
    problems.append(f"{path}: unsupported type")
    return _INVALID


def _not_text(value: str) -> str | None:
    """Why ``value`` is not plain text for a display, a vCard and a TOML file, or None. Control
    characters (NUL, ESC, BEL, a newline) went raw into the .vcf export and onto the display; a
    lone surrogate cannot be written as UTF-8 at all."""
    for char in value:
        if unicodedata.category(char) == "Cc":
            return f"must not hold control characters (found U+{ord(char):04X})"
        if unicodedata.category(char) == "Cs":
            return f"must be valid text (a lone surrogate U+{ord(char):04X})"
    return None


def _star_code_reached(digit_map: DigitMap, code: str) -> bool:
    """Whether dialing ``code`` key by key reaches it: no shorter prefix is dialed or blocked on the
    way, and the whole code is a number of the map or outside it (the phone then dials star codes
    as they are, e.g. ``***``), not the start of a longer number that would wait and fail."""
    for end in range(1, len(code)):
        if digit_map.match(code[:end]).kind in (MatchKind.COMPLETE, MatchKind.BLOCKED):
            return False
    return digit_map.match(code).kind in (MatchKind.COMPLETE, MatchKind.AMBIGUOUS, MatchKind.NONE)


def _port(listen: str) -> str:
    return listen.rpartition(":")[2]


def _cross_check(config: Config, problems: list[str]) -> None:
    hook, dialplan = config.hook, config.dialplan
    if hook.flash_min_ms >= hook.flash_max_ms:
        problems.append("hook.flash_min_ms: must be less than hook.flash_max_ms")
    if hook.pulse_dialing and hook.pulse_min_ms >= hook.flash_min_ms:
        problems.append(
            "hook.pulse_min_ms: must be less than hook.flash_min_ms (pulses are shorter than flashes)"
        )
    if hook.debounce_ms >= hook.pulse_min_ms:
        problems.append("hook.debounce_ms: must be less than hook.pulse_min_ms")
    if config.web.http_listen and not config.web.https:
        problems.append("web.http_listen: only with web.https = true (it sends HTTP to the HTTPS page)")
    elif config.web.http_listen and _port(config.web.http_listen) == _port(config.web.listen):
        problems.append("web.http_listen: must be another port than web.listen's")
    if dialplan.interdigit_short_s > dialplan.interdigit_s:
        problems.append("dialplan.interdigit_short_s: must not exceed dialplan.interdigit_s")
    digit_map = DigitMap.parse(dialplan.map)
    problems.extend(
        f"star_codes.{code}: the dial plan never completes this code"
        for code in config.star_codes
        if not _star_code_reached(digit_map, code)
    )
    seen: dict[str, str] = {}
    for i, contact in enumerate(config.contacts):
        for kind in ("speed_dial", "number"):
            keys = getattr(contact, kind)
            if keys and keys in seen:
                problems.append(f"contacts[{i}].{kind}: {keys} is already used by {seen[keys]}")
            elif keys:
                seen[keys] = contact.name
    _check_hardware(config, problems)
    fake = ("hook", "keypad", "ringer", "tones", "display")
    if config.board.simulated and any(getattr(config.drivers, port) != "fake" for port in fake):
        problems.append("board.simulated: a simulated board drives fake hardware (drivers.hook ... = 'fake')")
    if len(config.contacts) > MAX_CONTACTS:  # each save writes them all: 3,184 took 0.4 s a save
        problems.append(f"contacts: at most {MAX_CONTACTS} contacts")
    ids = [a.id for a in config.sip_accounts]
    for i, account_id in enumerate(ids):
        if account_id in ids[:i]:
            problems.append(f"sip_accounts[{i}].id: {account_id} is used twice")
    ports = [a.local_port for a in config.sip_accounts]
    for i, port in enumerate(ports):
        if port in ports[:i]:  # two accounts cannot listen on one port: the second never registers
            owner = ids[ports.index(port)]
            problems.append(f"sip_accounts[{i}].local_port: {port} is already the port of {owner}")
    if config.dialplan.digits_account and config.dialplan.digits_account not in ids:
        problems.append(f"dialplan.digits_account: no SIP account named {config.dialplan.digits_account!r}")
    if config.emergency.account and config.emergency.account not in ids:
        problems.append(f"emergency.account: no SIP account named {config.emergency.account!r}")
    jami = config.jami
    if jami.manager_uri and not (jami.manager_username and jami.manager_password):
        # jamid 13.7 answers an empty password with ERROR_NEED_MIGRATION and makes no account.
        problems.append("jami.manager_uri: a JAMS enrolment needs manager_username and manager_password")
    screening = config.screening
    if bool(screening.quiet_from) != bool(screening.quiet_to):
        problems.append("screening.quiet_to: quiet hours need both quiet_from and quiet_to (HH:MM)")


def _check_hardware(config: Config, problems: list[str]) -> None:
    """What each chosen driver needs from the board, and no GPIO used twice."""
    drivers, keypad = config.drivers, config.keypad
    if drivers.hook == "gpio" and config.hook.pin < 0:
        problems.append("hook.pin: the gpio hook driver needs a GPIO number")
    if drivers.keypad == "matrix":
        if not keypad.rows or not keypad.cols:
            problems.append("keypad.rows: the matrix keypad needs row and column GPIOs")
        elif (len(keypad.layout), len(keypad.layout[0])) != (len(keypad.rows), len(keypad.cols)):
            problems.append(
                f"keypad.layout: {len(keypad.layout)}x{len(keypad.layout[0])} keys for "
                f"{len(keypad.rows)} rows and {len(keypad.cols)} columns"
            )
    if drivers.keypad == "evdev" and not keypad.evdev_name:
        problems.append("keypad.evdev_name: the evdev keypad needs a device name")
    if drivers.ringer == "bell" and config.ringer.pin < 0:
        problems.append("ringer.pin: the bell driver needs a GPIO number")
    if drivers.ringer == "slic" and (config.ringer.rm_pin < 0 or config.ringer.fr_pin < 0):
        problems.append("ringer.rm_pin: the SLIC ringer needs rm_pin and fr_pin")
    if config.ringer.loop_pin >= 0 and drivers.ringer not in ("slic", "fake"):
        problems.append(f"ringer.loop_pin: a {drivers.ringer} ringer has no line loop to open (the SLIC has)")
    used: dict[int, str] = {}
    pins = [("hook.pin", config.hook.pin), ("ringer.pin", config.ringer.pin)]
    pins += [("ringer.rm_pin", config.ringer.rm_pin), ("ringer.fr_pin", config.ringer.fr_pin)]
    pins += [("ringer.loop_pin", config.ringer.loop_pin)]
    if drivers.keypad == "matrix":
        pins += [("keypad.rows", p) for p in keypad.rows] + [("keypad.cols", p) for p in keypad.cols]
    for name, pin in pins:
        if pin < 0:
            continue
        if pin in used:
            problems.append(f"{name}: GPIO {pin} is already used by {used[pin]}")
        used[pin] = name


def to_table(config: object, *, mask: bool = False) -> Table:
    """The config as a TOML-ready table; secrets replaced by a mask when asked."""
    out: Table = {}
    for spec in fields(config):  # type: ignore[arg-type]
        value = getattr(config, spec.name)
        if is_dataclass(value):
            out[spec.name] = to_table(value, mask=mask)
        elif isinstance(value, list):
            out[spec.name] = [to_table(x, mask=mask) if is_dataclass(x) else x for x in value]
        elif mask and spec.metadata.get("secret") and value:
            out[spec.name] = SECRET_MASK
        else:
            out[spec.name] = value
    return out


@dataclass(frozen=True)
class Loaded:
    config: Config
    layers: tuple[Layer, ...]


def load_layers(layers: list[Layer]) -> Loaded:
    merged: Table = {}
    for layer in layers:
        merged = merge(merged, layer.table)
    return Loaded(build(merged), tuple(layers))


def settings_of(config: Config) -> Settings:
    """What the pure phone needs from the config, in seconds."""
    hook, dialplan, timers, vm = config.hook, config.dialplan, config.timers, config.voicemail
    fwd, screen = config.forwarding, config.screening
    quiet = bool(screen.quiet_from and screen.quiet_to)  # both ends, or no quiet hours
    return Settings(
        country=config.phone.country.upper(),
        digit_map=DigitMap.parse(dialplan.map),
        pound_sends=dialplan.pound_sends,
        first_digit_s=dialplan.first_digit_s,
        interdigit_s=dialplan.interdigit_s,
        interdigit_short_s=dialplan.interdigit_short_s,
        flash_min_s=hook.flash_min_ms / 1000,
        flash_max_s=hook.flash_max_ms / 1000,
        pulse_dialing=hook.pulse_dialing,
        pulse_min_s=hook.pulse_min_ms / 1000,
        pulse_digit_gap_s=hook.pulse_digit_gap_ms / 1000,
        reorder_s=timers.reorder_s,
        howler_s=timers.howler_s,
        confirm_s=timers.confirm_s,
        star_codes=tuple((code, Feature(name)) for code, name in config.star_codes.items()),
        digits_account=dialplan.digits_account,
        dnd=config.features.dnd,
        private_mode=config.features.private_mode,
        call_waiting=config.features.call_waiting,
        conference_transfer=config.features.conference_transfer,
        callerid=config.line.callerid,
        callerid_alert=config.line.callerid_alert,
        callerid_sdmf=config.line.sdmf,
        # Only an analog phone behind a SLIC can take it; elsewhere it would only mute the call.
        callerid_waiting=config.line.callerid_waiting and config.drivers.ringer == "slic",
        # NTT's handshake needs the SLIC (it sees the phone's loop close) and its codec (the data).
        callerid_car=config.drivers.ringer == "slic" and bool(config.audio.card or config.audio.playback),
        # Only a line with a loop switch can open it (a fake line stands in for one in tests).
        loop_disconnect_ms=config.line.loop_disconnect_ms if config.ringer.loop_pin >= 0 else 0,
        language=language_for(config.phone.language, config.phone.country),
        forwarding=Forwarding(fwd.always, fwd.busy, fwd.no_answer, fwd.no_answer_s),
        hotline_uri=config.hotline.uri.strip(),
        hotline_delay_s=config.hotline.delay_s,
        screening=Screening(
            anonymous_reject=screen.anonymous_reject,
            block=tuple(screen.block),
            quiet_from=minutes(screen.quiet_from) if quiet else 0,
            quiet_to=minutes(screen.quiet_to) if quiet else 0,
            quiet_allow=screen.quiet_allow,
            allow=tuple(screen.allow),
            dnd_allow=tuple(config.dnd.allow),
        ),
        emergency=Emergency(
            tuple(config.emergency.numbers), config.emergency.account, config.emergency.callback_min * 60.0
        ),
        voicemail=AnsweringSettings(
            enabled=vm.enabled,
            answer_after_s=vm.answer_after_s,
            max_s=vm.max_s,
            when_busy=vm.when_busy,
            when_dnd=vm.when_dnd,
            greeting=vm.greeting,
            send_to=vm.send_to.strip().lower().removeprefix("jami:").removeprefix("ring:"),
        ),
    )


def minutes(time_of_day: str) -> int:
    """``HH:MM`` as minutes of the day."""
    hours, mins = time_of_day.split(":")
    return int(hours) * 60 + int(mins)


def contacts_of(config: Config) -> tuple[Contact, ...]:
    return tuple(
        Contact(c.name, c.uri, c.speed_dial, c.number, c.account, parse_cadence(c.ring))
        for c in config.contacts
    )
