"""The data directory's ``config.toml`` as far as it can be used: the phone starts on what it can.

That file is the phone's own (saved by star codes and the page), on a partition a power cut, a
full card or another firmware version may have left it in any state. The files that ship with the
image (board, system) are the phone's floor and may still refuse a start; this layer may not:

- a file that cannot be read at all (garbage bytes, not TOML) is kept aside, renamed, and the
  phone runs on the other layers;
- an entry the schema refuses (a value out of range, two contacts on one speed dial) is ignored,
  the rest kept, and the file copied aside before anything is lost;
- an unknown key (what a newer firmware saved before an A/B fallback to this one) is ignored for
  this run but carried through the next save, so the newer firmware finds it again.

Each finding names the file, the field and the reason, for the owner (see :mod:`appliance.notices`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .load import ConfigError, Layer, Loaded

Table = dict[str, Any]
Check = Callable[[list[Layer]], Loaded]
MAX_ROUNDS = 200  # entries dropped one by one; a file worse than that is ignored whole
_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


@dataclass(frozen=True)
class Finding:
    field: str  # the key path in the file, "" for the whole file
    reason: str

    def __str__(self) -> str:
        return f"{self.field} ({self.reason})" if self.field else self.reason


@dataclass
class Salvaged:
    """What of the file the phone uses, what it ignored and why, and what it carries through saves."""

    table: Table
    findings: list[Finding] = field(default_factory=list)
    carried: Table = field(default_factory=dict)  # unknown keys, written back with every save
    aside: Path | None = None  # where the original was kept for a person


def read(path: Path) -> tuple[Table | None, str]:
    """The file's table, or None and why it cannot be read (a missing file is an empty table)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}, ""
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"
    try:
        return tomllib.loads(data.decode("utf-8")), ""
    except UnicodeDecodeError as exc:
        return None, f"is not text (byte {exc.start}: {exc.reason})"
    except tomllib.TOMLDecodeError as exc:
        return None, f"is not valid TOML ({exc})"


def usable(table: Table, others: list[Layer], at: int, check: Check, name: str = "data") -> Salvaged:
    """Drop from ``table`` (the layer inserted at ``at`` among ``others``) what makes the whole invalid.

    Raises ConfigError, each problem naming its file, if the other layers are invalid without it:
    the files of the image may refuse a start, this one may not.
    """
    try:
        check(others)
    except ConfigError as exc:
        raise ConfigError(named(others, exc.problems)) from exc
    out = Salvaged(_copy(table))

    def problems() -> list[str]:
        try:
            check([*others[:at], Layer(name, out.table), *others[at:]])
        except ConfigError as exc:
            return exc.problems
        return []

    for _ in range(MAX_ROUNDS):
        found = problems()
        if not found:
            return out
        if not _drop_one(out, found):
            break  # nothing this layer holds is named (a cross-check): ignored whole, below
    left = problems()
    if left:
        out.findings.append(Finding("", f"the whole file ({'; '.join(left)})"))
        out.table, out.carried = {}, {}
    return out


def _drop_one(out: Salvaged, problems: list[str]) -> bool:
    """Drop the entry the first problem that this layer holds names; False if there is none."""
    for problem in problems:
        path, _, reason = problem.partition(": ")
        tokens = _tokens(path)
        where = _deepest(out.table, tokens)
        if not where:
            continue
        value = _remove(out.table, where)
        exact = where == tokens
        if exact and reason.startswith("unknown key") and all(isinstance(t, str) for t in where):
            _put(out.carried, where, value)
            reason = f"{reason}: kept for the firmware that saved it"
        out.findings.append(Finding(_path(where), reason if exact else f"ignored ({problem})"))
        return True
    return False


def named(layers: list[Layer], problems: list[str]) -> list[str]:
    """Each problem with the file that set its key, where a file did."""
    out = []
    for problem in problems:
        tokens = _tokens(problem.partition(": ")[0])
        files = [layer for layer in layers if layer.name not in ("defaults", "data")]
        exact = [layer.name for layer in files if tokens and _deepest(layer.table, tokens) == tokens]
        section = [layer.name for layer in files if tokens and _deepest(layer.table, tokens[:1])]
        owners = exact or section
        out.append(f"{owners[-1].removeprefix('board ')}: {problem}" if owners else problem)
    return out


def _tokens(path: str) -> list[str | int]:
    return [int(index) if index else key for index, key in _TOKEN.findall(path)]


def _path(tokens: list[str | int]) -> str:
    out = ""
    for token in tokens:
        out += f"[{token}]" if isinstance(token, int) else (f".{token}" if out else token)
    return out


def _deepest(table: object, tokens: list[str | int]) -> list[str | int]:
    """The longest prefix of ``tokens`` that names something in ``table``."""
    found: list[str | int] = []
    node: Any = table
    for token in tokens:
        in_list = isinstance(token, int) and isinstance(node, list) and 0 <= token < len(node)
        if not (in_list or (isinstance(token, str) and isinstance(node, dict) and token in node)):
            break
        node = node[token]
        found.append(token)
    return found


def _remove(table: Table, where: list[str | int]) -> object:
    node: Any = table
    for token in where[:-1]:
        node = node[token]
    value = node.pop(where[-1])
    if len(where) > 1 and not node and isinstance(node, dict):  # an emptied section goes too
        _remove(table, where[:-1])
    return value


def _put(table: Table, where: list[str | int], value: object) -> None:
    node = table
    for token in where[:-1]:
        node = node.setdefault(str(token), {})
    node[str(where[-1])] = value


def _copy(value: Any) -> Any:  # noqa: ANN401 - a TOML value
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
