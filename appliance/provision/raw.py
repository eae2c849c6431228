"""Values as Imager's files hold them, each with the file it came from, and their check.

Each form's reader (:mod:`.firstrun`, :mod:`.cloudinit`, :mod:`.preseed`) puts what it finds in a
:class:`Raw`; :func:`checked` then checks each value on its own (:mod:`.settings`): a bad one is a
:class:`~.settings.Problem` and the rest are still used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import settings as check
from .settings import BootSettings, Form, Problem, RefusedError, Wifi


@dataclass
class Raw:
    """Values as found, each with the file it came from; the first one found wins."""

    values: dict[str, tuple[str, Any]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def put(self, file: str, name: str, value: object) -> None:
        self.values.setdefault(name, (file, value))

    def refuse(self, file: str, name: str, reason: str) -> None:
        self.problems.append(Problem(file, name, reason))
        self.values.setdefault(name, (file, REFUSED))

    def keys(self, file: str, keys: list[str]) -> None:
        if "ssh.keys" not in self.values:
            self.values["ssh.keys"] = (file, [])
        known = self.values["ssh.keys"][1]
        if known is REFUSED:  # a key line already refused: the keys stay refused, not half taken
            return
        known.extend(key for key in keys if key not in known)

    def put_text(self, file: str, name: str, value: object) -> None:
        """``value`` if it is a string, else refused."""
        try:
            self.put(file, name, as_string(value, name))
        except RefusedError as exc:
            self.refuse(file, name, str(exc))


REFUSED = object()  # a value already refused: not refused again, not taken from a later line


def as_string(value: object, what: str) -> str:
    """``value`` when it is a string; a value of another type is refused."""
    if not isinstance(value, str):
        raise RefusedError(f"the {what} must be a string, not {type(value).__name__}")
    return value


def checked(raw: Raw, form: Form, files: tuple[str, ...], zoneinfo: Path) -> BootSettings:
    """The settings from ``raw``'s values; each one refused is added to ``raw.problems``."""
    values = raw.values

    def get(name: str, checker: Callable[[Any], Any], shown: str | None = None) -> Any:  # noqa: ANN401
        if name not in values or values[name][1] is REFUSED:
            return None
        file, value = values[name]
        try:
            return checker(value)
        except RefusedError as exc:
            raw.problems.append(Problem(file, shown or name, str(exc)))
            return None

    wifi = None
    if "wifi.ssid" in values:
        ssid = get("wifi.ssid", check.ssid)
        key = get("wifi.key", lambda key: check.wifi_key(key) if key else (None, None), "wifi.password")
        if ssid is not None and key is not None:
            wifi = Wifi(ssid=ssid, psk=key[0], passphrase=key[1], hidden=bool(get("wifi.hidden", bool)))
        elif ssid is not None and "wifi.key" not in values:
            wifi = Wifi(ssid=ssid, hidden=bool(get("wifi.hidden", bool)))
    keys: list[str] = []
    if "ssh.keys" in values and values["ssh.keys"][1] is not REFUSED:
        file, found = values["ssh.keys"]
        for number, key in enumerate(found, 1):
            try:
                keys.append(check.ssh_key(key))
            except RefusedError as exc:
                raw.problems.append(Problem(file, f"ssh.keys[{number}]", str(exc)))
    return BootSettings(
        form=form,
        files=files,
        hostname=get("hostname", check.hostname),
        wifi=wifi,
        country=get("wifi.country", lambda value: check.country(value, zoneinfo), "wifi.country"),
        ssh_enabled=bool(get("ssh.enabled", bool)),
        ssh_keys=tuple(keys),
        ssh_password_auth=bool(get("ssh.password_auth", bool)),
        timezone=get("timezone", lambda value: check.timezone(value, zoneinfo)),
        keyboard=get("keyboard", check.keyboard),
        user=get("user", check.user),
    )
