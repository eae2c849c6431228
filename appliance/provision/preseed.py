"""``rpi-preseed.toml``, the settings file Raspberry Pi Imager 2.0.11 and later write."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from typing import Any

from .raw import Raw, as_string
from .settings import RefusedError

PRESEED = "rpi-preseed.toml"


def read_preseed(text: str, raw: Raw) -> None:
    """The settings ``rpi-preseed.toml`` (``text``) sets, into ``raw``."""
    file = PRESEED
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RefusedError(f"not TOML ({exc})") from None
    section: Callable[[str], dict[str, Any]] = lambda name: (  # noqa: E731
        doc[name] if isinstance(doc.get(name), dict) else {}
    )
    system, user, ssh, wlan, locale = (section(n) for n in ("system", "user", "ssh", "wlan", "locale"))
    if "hostname" in system:
        raw.put_text(file, "hostname", system["hostname"])
    if "name" in user:
        raw.put_text(file, "user", user["name"])
    if ssh.get("enabled") is True:
        raw.put(file, "ssh.enabled", True)
        raw.put(file, "ssh.password_auth", ssh.get("password_authentication") is True)
        keys = ssh.get("authorized_keys", [])
        if isinstance(keys, list) and all(isinstance(key, str) for key in keys):
            raw.keys(file, keys)
        else:
            raw.refuse(file, "ssh.keys", "authorized_keys must be a list of strings")
    if "ssid_hex" in wlan:
        try:
            raw.put(file, "wifi.ssid", bytes.fromhex(as_string(wlan["ssid_hex"], "ssid_hex")))
        except (RefusedError, ValueError):
            raw.refuse(file, "wifi.ssid", "ssid_hex is not hexadecimal")
    elif "ssid" in wlan:
        try:
            raw.put(file, "wifi.ssid", as_string(wlan["ssid"], "SSID").encode())
        except RefusedError as exc:
            raw.refuse(file, "wifi.ssid", str(exc))
    if "ssid" in wlan or "ssid_hex" in wlan:
        raw.put_text(file, "wifi.key", wlan.get("password", ""))
        raw.put(file, "wifi.hidden", wlan.get("hidden") is True)
    if "country" in wlan:
        raw.put_text(file, "wifi.country", wlan["country"])
    if "keymap" in locale:
        raw.put_text(file, "keyboard", locale["keymap"])
    if "timezone" in locale:
        raw.put_text(file, "timezone", locale["timezone"])
