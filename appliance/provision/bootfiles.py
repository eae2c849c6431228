"""Read what Raspberry Pi Imager's "OS customisation" wrote to the boot partition, as data.

Imager writes one of three forms (``src/customization_generator.cpp`` and, before 1.9, the QML
``OptionsPopup.qml``):

- **firstrun.sh** (``init_format`` "systemd"), a shell script that ``systemd.run=`` on the kernel
  command line would run once. It is never run here: only the lines Imager writes are recognised
  (``imager_custom set_hostname|enable_ssh|set_wlan|set_keymap|set_timezone``, and the fallback
  branch's ``echo NAME >/etc/hostname``, the ``wpa_supplicant.conf``, ``authorized_keys`` and
  keyboard heredocs, ``/usr/lib/userconf-pi/userconf``), their arguments split with :mod:`shlex`
  after checking that they are plain data (single quotes as Imager's ``shellQuote`` makes them,
  ``'"'"'`` for a quote); any ``$``, backquote or shell syntax outside single quotes is refused.
  Other lines, and heredocs nobody asked for, are ignored.
- **cloud-init** NoCloud (``cloudinit``): ``user-data`` (``#cloud-config`` YAML: ``hostname``,
  ``timezone``, ``keyboard``, ``user``/``users`` with ``ssh_authorized_keys``, ``ssh_pwauth``) and
  ``network-config`` (netplan v2 ``wifis`` with ``access-points`` and ``regulatory-domain``),
  ``meta-data``. YAML is read with PyYAML's safe loader, anchors and aliases refused.
- **rpi-preseed.toml** (Imager 2.0.11 and later).

Every file is opened without following a symlink, must be a regular file, and is read to at most
:data:`MAX_BYTES`. Names are matched without case (FAT). Each value is checked on its own
(:mod:`.settings`): a bad one is a :class:`~.settings.Problem` and the rest are still used.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shlex
import stat
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import settings as check
from .settings import ZONEINFO, BootSettings, Form, Problem, RefusedError, Report, Wifi

MAX_BYTES = 1 << 20  # Imager's files are a few kilobytes; anything past a mebibyte is not one of them

FIRSTRUN = "firstrun.sh"
USER_DATA = "user-data"
NETWORK_CONFIG = "network-config"
META_DATA = "meta-data"
PRESEED = "rpi-preseed.toml"
CMDLINE = "cmdline.txt"
BOOT_FILES = (FIRSTRUN, USER_DATA, NETWORK_CONFIG, META_DATA, PRESEED)

IMAGER_CUSTOM = "/usr/lib/raspberrypi-sys-mods/imager_custom"
USERCONF = "/usr/lib/userconf-pi/userconf"


# --- reading files ------------------------------------------------------------------------------


def boot_entries(boot: Path) -> dict[str, str]:
    """The boot directory's names by their lower-case form (FAT does not keep case)."""
    try:
        return {entry.name.lower(): entry.name for entry in os.scandir(boot)}
    except OSError:
        return {}


def read_bounded(path: Path, limit: int = MAX_BYTES) -> bytes:
    """A regular file's bytes, at most ``limit``; a symlink, a device or a FIFO is refused unopened."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RefusedError("is a symbolic link, not a file: not followed") from None
        raise RefusedError(f"cannot be opened ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise RefusedError("is not a regular file")
        if info.st_size > limit:
            raise RefusedError(f"is {info.st_size} bytes, more than the {limit} read")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise RefusedError(f"is more than the {limit} bytes read")
        return b"".join(chunks)
    finally:
        os.close(fd)


# --- what each form yields before it is checked -------------------------------------------------


@dataclass
class _Raw:
    """Values as found, each with the file it came from; the first one found wins."""

    values: dict[str, tuple[str, Any]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def put(self, file: str, name: str, value: object) -> None:
        self.values.setdefault(name, (file, value))

    def refuse(self, file: str, name: str, reason: str) -> None:
        self.problems.append(Problem(file, name, reason))
        self.values.setdefault(name, (file, _REFUSED))

    def keys(self, file: str, keys: list[str]) -> None:
        if "ssh.keys" not in self.values:
            self.values["ssh.keys"] = (file, [])
        known = self.values["ssh.keys"][1]
        known.extend(key for key in keys if key not in known)


_REFUSED = object()  # a value already refused: not refused again, not taken from a later line


# --- firstrun.sh ----------------------------------------------------------------------------------

_UNQUOTED_SYNTAX = frozenset("$`\\;&|<>(){}*?[]~!#")
_HEREDOC = re.compile(r"<<-?\s*(?P<q>['\"]?)(?P<tag>[A-Za-z_]\w*)(?P=q)\s*$")
_ECHO_TO = re.compile(r"echo\s+(?P<args>.*?)\s*>\s*(?P<path>/etc/hostname|/etc/timezone)")
_PROCESS_SUBST = re.compile(r"<\(\s*(?:printf|echo)\s+\"(?P<body>[^\"]*)\"\s*\)")


def plain_words(text: str) -> list[str]:
    """Shell words that are plain data, split with :func:`shlex.split`; anything the shell would
    expand or interpret (``$``, backquotes, backslashes, redirections, globs) is refused."""
    quote = ""
    for char in text:
        if quote == "'":
            quote = "" if char == "'" else quote
        elif quote == '"':
            if char == '"':
                quote = ""
            elif char in "$`\\":
                why = "inside double quotes would be expanded by the shell: not plain data"
                raise RefusedError(f"{char!r} {why}")
        elif char in "'\"":
            quote = char
        elif char in _UNQUOTED_SYNTAX:
            what = "a command substitution or expansion" if char in "$`" else "shell syntax"
            raise RefusedError(f"{char!r} outside quotes is {what}, not plain data")
    if quote:
        raise RefusedError("a quote is not closed")
    return shlex.split(text, posix=True)


def _firstrun(text: str, raw: _Raw) -> None:
    lines = text.splitlines()
    number = 0
    while number < len(lines):
        line = lines[number].strip()
        number += 1
        heredoc = _HEREDOC.search(line)
        if heredoc:
            body: list[str] = []
            while number < len(lines) and lines[number].strip() != heredoc["tag"]:
                body.append(lines[number])
                number += 1
            if number >= len(lines):
                raise RefusedError(f"line {number}: the here-document {heredoc['tag']} is not closed")
            number += 1
            _firstrun_heredoc(line, body, expanded=not heredoc["q"], raw=raw)
            continue
        with contextlib.suppress(_NotOursError):
            _firstrun_line(line, raw)


class _NotOursError(Exception):
    """A line this parser does not read."""


def _words_or_refuse(text: str, raw: _Raw, name: str) -> list[str] | None:
    try:
        return plain_words(text)
    except RefusedError as exc:
        raw.refuse(FIRSTRUN, name, str(exc))
        return None


def _firstrun_line(line: str, raw: _Raw) -> None:
    if line.startswith(IMAGER_CUSTOM + " "):
        rest = line[len(IMAGER_CUSTOM) :].strip()
        command, _, args = rest.partition(" ")
        name = {
            "set_hostname": "hostname",
            "enable_ssh": "ssh.keys",
            "set_wlan": "wifi",
            "set_keymap": "keyboard",
            "set_timezone": "timezone",
        }.get(command)
        if name is None:
            raise _NotOursError
        words = _words_or_refuse(args, raw, name)
        if words is None:
            return
        _imager_custom(command, words, raw)
    elif match := _ECHO_TO.fullmatch(line):
        name = "hostname" if match["path"] == "/etc/hostname" else "timezone"
        words = _words_or_refuse(match["args"], raw, name)
        if words is not None:
            if len(words) != 1:
                raw.refuse(FIRSTRUN, name, f"expected one word, found {len(words)}")
            else:
                raw.put(FIRSTRUN, name, words[0])
    elif line.startswith(USERCONF + " "):
        words = _words_or_refuse(line[len(USERCONF) :], raw, "user")
        if words:
            raw.put(FIRSTRUN, "user", words[0])  # the second word is the password hash: not kept
    elif line.startswith('install -o "$FIRSTUSER" -m 600 <(') and line.endswith('/.ssh/authorized_keys"'):
        match = _PROCESS_SUBST.search(line)  # Imager 1.6-1.8: <(printf "KEY\nKEY") or <(echo "KEY")
        if match is None:
            raw.refuse(FIRSTRUN, "ssh.keys", "the authorized_keys line is not in Imager's form")
            return
        body = match["body"]
        if re.search(r"[$`]|\\(?!n)", body):
            raw.refuse(FIRSTRUN, "ssh.keys", "the keys hold '$', '`' or '\\': not plain data")
            return
        raw.put(FIRSTRUN, "ssh.enabled", True)
        raw.keys(FIRSTRUN, [key.strip() for key in body.split("\\n") if key.strip()])
    elif line in {"systemctl enable ssh", "systemctl enable --now ssh"}:
        raw.put(FIRSTRUN, "ssh.enabled", True)
    else:
        raise _NotOursError


def _imager_custom(command: str, words: list[str], raw: _Raw) -> None:
    if command == "enable_ssh":
        raw.put(FIRSTRUN, "ssh.enabled", True)
        if words[:1] == ["-k"]:
            raw.keys(FIRSTRUN, words[1:])
        elif words:
            raw.put(FIRSTRUN, "ssh.password_auth", True)
        return
    if command == "set_wlan":
        hidden = words[:1] == ["-h"]
        words = words[1:] if hidden else words
        if len(words) not in {2, 3}:
            raw.refuse(
                FIRSTRUN, "wifi", f"set_wlan takes an SSID, a key and a country, found {len(words)} words"
            )
            return
        ssid, key = words[0], words[1]
        raw.put(FIRSTRUN, "wifi.ssid", ssid.encode("utf-8", "surrogateescape"))
        raw.put(FIRSTRUN, "wifi.key", key)
        raw.put(FIRSTRUN, "wifi.hidden", hidden)
        if len(words) == 3 and words[2]:
            raw.put(FIRSTRUN, "wifi.country", words[2])
        return
    name = {"set_hostname": "hostname", "set_keymap": "keyboard", "set_timezone": "timezone"}[command]
    if len(words) != 1:
        raw.refuse(FIRSTRUN, name, f"expected one word, found {len(words)}")
        return
    raw.put(FIRSTRUN, name, words[0])


def _firstrun_heredoc(command: str, body: list[str], *, expanded: bool, raw: _Raw) -> None:
    if command.startswith("cat >/etc/wpa_supplicant/wpa_supplicant.conf"):
        _wpa_supplicant(body, expanded=expanded, raw=raw)
    elif command.startswith("cat >") and "/.ssh/authorized_keys" in command:
        if expanded and any(re.search(r"[$`\\]", key) for key in body):
            raw.refuse(FIRSTRUN, "ssh.keys", "the keys hold '$', '`' or '\\' in an expanded here-document")
            return
        raw.put(FIRSTRUN, "ssh.enabled", True)
        raw.keys(FIRSTRUN, [key.strip() for key in body if key.strip()])
    elif command.startswith("cat >/etc/default/keyboard"):
        for line in body:
            if match := re.fullmatch(r'XKBLAYOUT="(?P<layout>[^"]*)"', line.strip()):
                if expanded and re.search(r"[$`\\]", match["layout"]):
                    raw.refuse(FIRSTRUN, "keyboard", "holds '$', '`' or '\\' in an expanded here-document")
                else:
                    raw.put(FIRSTRUN, "keyboard", match["layout"])


def _wpa_unquote(value: str) -> str:
    """A wpa_supplicant.conf string: Imager 2 escapes ``\\`` and ``"``; older Imager wrote it raw."""
    return re.sub(r'\\([\\"])', r"\1", value[1:-1])


def _wpa_supplicant(body: list[str], *, expanded: bool, raw: _Raw) -> None:
    """``wpa_supplicant.conf`` as Imager writes it: country, then one network block."""
    in_network = False
    network: dict[str, str] = {}
    for line in body:
        text = line.strip()
        if text == "network={":
            in_network = not network
            continue
        if text == "}":
            in_network = False
            continue
        key, sep, value = text.partition("=")
        if not sep:
            continue
        if in_network:
            network.setdefault(key, value)
        elif key == "country" and value:
            raw.put(FIRSTRUN, "wifi.country", value)
    if not network:
        return
    if expanded and any(re.search(r"[$`\\]", network.get(key, "")) for key in ("ssid", "psk")):
        # Imager 1.6's <<WPAEOF (unquoted): the shell would have expanded these; we will not guess.
        raw.refuse(FIRSTRUN, "wifi", "the SSID or key holds '$', '`' or '\\' in an expanded here-document")
        return
    ssid = network.get("ssid", "")
    if ssid.startswith("hex:"):
        try:
            raw.put(FIRSTRUN, "wifi.ssid", bytes.fromhex(ssid[4:]))
        except ValueError:
            raw.refuse(FIRSTRUN, "wifi.ssid", "ssid=hex: is not hexadecimal")
    elif len(ssid) >= 2 and ssid[0] == ssid[-1] == '"':
        raw.put(FIRSTRUN, "wifi.ssid", _wpa_unquote(ssid).encode("utf-8", "surrogateescape"))
    elif ssid:
        raw.refuse(FIRSTRUN, "wifi.ssid", "ssid= is neither a quoted string nor hex:")
    psk = network.get("psk")
    if psk is not None:
        quoted = len(psk) >= 2 and psk[0] == psk[-1] == '"'
        raw.put(FIRSTRUN, "wifi.key", _wpa_unquote(psk) if quoted else psk)
    elif network.get("key_mgmt", "").upper() == "NONE":
        raw.put(FIRSTRUN, "wifi.key", "")
    raw.put(FIRSTRUN, "wifi.hidden", network.get("scan_ssid") == "1")


# --- cloud-init ---------------------------------------------------------------------------------


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


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise RefusedError(f"the {what} must be a string, not {type(value).__name__}")
    return value


def _user_data(text: str, raw: _Raw) -> None:
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
            _put_text(raw, file, name, doc[key])
    keyboard = doc.get("keyboard")
    if isinstance(keyboard, dict) and "layout" in keyboard:
        _put_text(raw, file, "keyboard", keyboard["layout"])
    users: list[object] = []
    if "user" in doc:
        users.append(doc["user"])
    if isinstance(doc.get("users"), list):
        users.extend(doc["users"])
    keys: list[object] = []
    for entry in users:
        if isinstance(entry, str) and entry != "default":
            _put_text(raw, file, "user", entry)
        elif isinstance(entry, dict):
            if "name" in entry:
                _put_text(raw, file, "user", entry["name"])
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


def _put_text(raw: _Raw, file: str, name: str, value: object) -> None:
    try:
        raw.put(file, name, _text(value, name))
    except RefusedError as exc:
        raw.refuse(file, name, str(exc))


def _ssid_octets(value: str, ascii_file: bool) -> bytes:
    """Imager escapes every SSID byte outside printable ASCII as ``\\xHH``, which YAML reads as the
    code point U+00HH: in a file that is all ASCII those code points are the octets themselves."""
    if ascii_file and all(ord(char) < 0x100 for char in value):
        return value.encode("latin-1")
    return value.encode("utf-8", "surrogateescape")


def _network_config(text: str, raw: _Raw) -> None:
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
            _put_text(raw, file, "wifi.country", interface["regulatory-domain"])
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
            _put_text(raw, file, "wifi.key", password)
        elif str(auth.get("key-management", "none")).lower() == "none":
            raw.put(file, "wifi.key", "")
        else:
            raw.refuse(file, "wifi.key", f"key-management {auth.get('key-management')!r} without a password")
        try:
            raw.put(file, "wifi.hidden", check.boolean(point.get("hidden", False)))
        except RefusedError as exc:
            raw.refuse(file, "wifi.hidden", str(exc))
        return


# --- rpi-preseed.toml ---------------------------------------------------------------------------


def _preseed(text: str, raw: _Raw) -> None:
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
        _put_text(raw, file, "hostname", system["hostname"])
    if "name" in user:
        _put_text(raw, file, "user", user["name"])
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
            raw.put(file, "wifi.ssid", bytes.fromhex(_text(wlan["ssid_hex"], "ssid_hex")))
        except (RefusedError, ValueError):
            raw.refuse(file, "wifi.ssid", "ssid_hex is not hexadecimal")
    elif "ssid" in wlan:
        try:
            raw.put(file, "wifi.ssid", _text(wlan["ssid"], "SSID").encode())
        except RefusedError as exc:
            raw.refuse(file, "wifi.ssid", str(exc))
    if "ssid" in wlan or "ssid_hex" in wlan:
        _put_text(raw, file, "wifi.key", wlan.get("password", ""))
        raw.put(file, "wifi.hidden", wlan.get("hidden") is True)
    if "country" in wlan:
        _put_text(raw, file, "wifi.country", wlan["country"])
    if "keymap" in locale:
        _put_text(raw, file, "keyboard", locale["keymap"])
    if "timezone" in locale:
        _put_text(raw, file, "timezone", locale["timezone"])


# --- the whole partition ------------------------------------------------------------------------


def _cmdline(text: str, raw: _Raw) -> None:
    for word in text.split():
        if word.startswith("cfg80211.ieee80211_regdom="):
            raw.put(CMDLINE, "wifi.country", word.partition("=")[2])


_PARSERS: dict[str, Callable[[str, _Raw], None]] = {
    FIRSTRUN: _firstrun,
    USER_DATA: _user_data,
    NETWORK_CONFIG: _network_config,
    PRESEED: _preseed,
    CMDLINE: _cmdline,
}
_FORMS = (
    (Form.FIRSTRUN, (FIRSTRUN,)),
    (Form.CLOUD_INIT, (USER_DATA, NETWORK_CONFIG, META_DATA)),
    (Form.PRESEED, (PRESEED,)),
)


def read_boot(boot: Path, zoneinfo: Path = ZONEINFO) -> Report:
    """Everything Imager left in ``boot``, checked; never raises for what the files hold."""
    entries = boot_entries(boot)
    raw = _Raw()
    notes: list[str] = []
    form = Form.NONE
    used: list[str] = []
    for candidate, names in _FORMS:
        present = [name for name in names if name in entries]
        if not present:
            continue
        if form is not Form.NONE:
            notes.append(f"{', '.join(present)} ignored: the {form.value} form is read first")
            continue
        form = candidate
        for name in present:
            used.append(entries[name])
            _read_one(boot / entries[name], name, raw)
    if form is not Form.NONE and CMDLINE in entries:
        _read_one(boot / entries[CMDLINE], CMDLINE, raw)  # the regulatory domain Imager puts there
    settings = _checked(raw, form, tuple(used), zoneinfo)
    return Report(settings, tuple(raw.problems), tuple(notes))


def _read_one(path: Path, name: str, raw: _Raw) -> None:
    try:
        data = read_bounded(path)
        parser = _PARSERS.get(name)
        if parser is None:
            return
        if name == FIRSTRUN:
            text = data.decode("utf-8", "surrogateescape")  # a bad byte refuses its value, not the file
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise RefusedError(f"is not UTF-8 (byte {exc.start})") from None
        parser(text, raw)
    except RefusedError as exc:
        raw.problems.append(Problem(path.name, "file", str(exc)))


def _checked(raw: _Raw, form: Form, files: tuple[str, ...], zoneinfo: Path) -> BootSettings:
    values = raw.values

    def get(name: str, checker: Callable[[Any], Any], shown: str | None = None) -> Any:  # noqa: ANN401
        if name not in values or values[name][1] is _REFUSED:
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
    if "ssh.keys" in values and values["ssh.keys"][1] is not _REFUSED:
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
