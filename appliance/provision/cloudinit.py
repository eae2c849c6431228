"""cloud-init NoCloud files as Raspberry Pi Imager writes them (``init_format`` "cloudinit").

``user-data`` is ``#cloud-config`` YAML (``hostname``, ``timezone``, ``keyboard``, ``user``/``users``
with ``ssh_authorized_keys``, ``ssh_pwauth``); ``network-config`` is netplan v2 (``wifis`` with
``access-points`` and ``regulatory-domain``); ``meta-data`` is only noted. YAML is read with PyYAML's
safe loader, anchors and aliases refused. Nothing in them is ever run.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from . import settings as check
from .raw import Raw
from .settings import RefusedError

USER_DATA = "user-data"
NETWORK_CONFIG = "network-config"
META_DATA = "meta-data"


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader without anchors and aliases: Imager writes none, and a nest of aliases
    is the classic way to make a small YAML file expand into gigabytes."""

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: ANN401 - PyYAML's own signature
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(None, None, "aliases are not accepted", event.start_mark)
        node = super().compose_node(parent, index)
        if node is not None and getattr(node, "anchor", None):
            raise yaml.composer.ComposerError(None, None, "anchors are not accepted", node.start_mark)
        return node


def _yaml(text: str) -> object:
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass, aliases refused
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f"line {where.line + 1}: " if where is not None else ""
        problem = getattr(exc, "problem", None) or "not YAML"
        raise RefusedError(f"{line}{problem}") from None
    except RecursionError:
        raise RefusedError("nested too deeply") from None


def read_user_data(text: str, raw: Raw) -> None:
    """The settings ``user-data`` (``text``) sets, into ``raw``."""
    first = text.split("\n", 1)[0].strip()
    if first != "#cloud-config":
        what = "a script" if first.startswith("#!") else f"{first[:30]!r}"
        raise RefusedError(f"does not start with #cloud-config (it starts with {what}): not read, never run")
    doc = _yaml(text)
    if doc is None:
        return
    if not isinstance(doc, dict):
        raise RefusedError("is not a mapping of settings")
    file = USER_DATA
    for name, key in (("hostname", "hostname"), ("timezone", "timezone")):
        if key in doc:
            raw.put_text(file, name, doc[key])
    keyboard = doc.get("keyboard")
    if isinstance(keyboard, dict) and "layout" in keyboard:
        raw.put_text(file, "keyboard", keyboard["layout"])
    users: list[object] = []
    if "user" in doc:
        users.append(doc["user"])
    if isinstance(doc.get("users"), list):
        users.extend(doc["users"])
    keys: list[object] = []
    for entry in users:
        if isinstance(entry, str) and entry != "default":
            raw.put_text(file, "user", entry)
        elif isinstance(entry, dict):
            if "name" in entry:
                raw.put_text(file, "user", entry["name"])
            if isinstance(entry.get("ssh_authorized_keys"), list):
                keys.extend(entry["ssh_authorized_keys"])
    if isinstance(doc.get("ssh_authorized_keys"), list):
        keys.extend(doc["ssh_authorized_keys"])
    if keys:
        if not all(isinstance(key, str) for key in keys):
            raw.refuse(file, "ssh.keys", "every key must be a string")
        else:
            raw.put(file, "ssh.enabled", True)
            raw.keys(file, [str(key) for key in keys])
    if "ssh_pwauth" in doc:
        try:
            asked = check.boolean(doc["ssh_pwauth"])
        except RefusedError as exc:
            raw.refuse(file, "ssh_pwauth", str(exc))
        else:
            raw.put(file, "ssh.password_auth", asked)
            if asked:
                raw.put(file, "ssh.enabled", True)
    for command in doc.get("runcmd") or []:
        words = command.split() if isinstance(command, str) else command
        if isinstance(words, list) and [str(w).strip() for w in words] in (
            ["systemctl", "enable", "--now", "ssh"],
            ["systemctl", "enable", "ssh"],
        ):
            raw.put(file, "ssh.enabled", True)
        if isinstance(command, str) and (match := re.match(r'localectl set-x11-keymap "([^"]*)"', command)):
            raw.put(file, "keyboard", match[1])  # Imager 1.8


def _ssid_octets(value: str, ascii_file: bool) -> bytes:
    """Imager escapes every SSID byte outside printable ASCII as ``\\xHH``, which YAML reads as the
    code point U+00HH: in a file that is all ASCII those code points are the octets themselves."""
    if ascii_file and all(ord(char) < 0x100 for char in value):
        return value.encode("latin-1")
    return value.encode("utf-8", "surrogateescape")


def read_network_config(text: str, raw: Raw) -> None:
    """The Wi-Fi network and country ``network-config`` (``text``) sets, into ``raw``."""
    file = NETWORK_CONFIG
    doc = _yaml(text)
    if doc is None:
        return
    if not isinstance(doc, dict):
        raise RefusedError("is not a mapping")
    net = doc["network"] if isinstance(doc.get("network"), dict) else doc
    if net.get("version", 2) != 2:
        raise RefusedError(f"netplan version {net.get('version')!r}: only version 2 is read")
    wifis = net.get("wifis")
    if wifis is None:
        return
    if not isinstance(wifis, dict):
        raise RefusedError("wifis is not a mapping")
    for interface in wifis.values():
        if not isinstance(interface, dict):
            continue  # Imager 1.8 wrote "renderer: networkd" among the interfaces
        if "regulatory-domain" in interface:
            raw.put_text(file, "wifi.country", interface["regulatory-domain"])
        points = interface.get("access-points")
        if not isinstance(points, dict) or not points:
            continue
        name, point = next(iter(points.items()))
        if not isinstance(name, str):
            raw.refuse(file, "wifi.ssid", "the SSID must be a quoted string")
            return
        raw.put(file, "wifi.ssid", _ssid_octets(name, text.isascii()))
        point = point if isinstance(point, dict) else {}
        auth: dict[str, Any] = point["auth"] if isinstance(point.get("auth"), dict) else {}
        password = point.get("password", auth.get("password"))
        if password is not None:
            raw.put_text(file, "wifi.key", password)
        elif str(auth.get("key-management", "none")).lower() == "none":
            raw.put(file, "wifi.key", "")
        else:
            raw.refuse(file, "wifi.key", f"key-management {auth.get('key-management')!r} without a password")
        try:
            raw.put(file, "wifi.hidden", check.boolean(point.get("hidden", False)))
        except RefusedError as exc:
            raw.refuse(file, "wifi.hidden", str(exc))
        return
