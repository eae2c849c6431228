"""Raspberry Pi Imager's ``firstrun.sh`` (``init_format`` "systemd"), read as data, never run.

Imager writes a shell script that ``systemd.run=`` on the kernel command line would run once
(``src/customization_generator.cpp`` and, before 1.9, the QML ``OptionsPopup.qml``). Only the
lines Imager writes are recognised (``imager_custom set_hostname|enable_ssh|set_wlan|set_keymap|
set_timezone``, and the fallback branch's ``echo NAME >/etc/hostname``, the
``wpa_supplicant.conf``, ``authorized_keys`` and keyboard heredocs,
``/usr/lib/userconf-pi/userconf``), their arguments split with :mod:`shlex` after checking that
they are plain data (single quotes as Imager's ``shellQuote`` makes them, ``'"'"'`` for a quote);
any ``$``, backquote or shell syntax outside single quotes is refused. Other lines, and heredocs
nobody asked for, are ignored.
"""

from __future__ import annotations

import contextlib
import re
import shlex

from .raw import Raw
from .settings import RefusedError

FIRSTRUN = "firstrun.sh"
IMAGER_CUSTOM = "/usr/lib/raspberrypi-sys-mods/imager_custom"
USERCONF = "/usr/lib/userconf-pi/userconf"

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


def read_firstrun(text: str, raw: Raw) -> None:
    """The settings ``firstrun.sh`` (``text``) sets, into ``raw``."""
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


def _words_or_refuse(text: str, raw: Raw, name: str) -> list[str] | None:
    try:
        return plain_words(text)
    except RefusedError as exc:
        raw.refuse(FIRSTRUN, name, str(exc))
        return None


def _firstrun_line(line: str, raw: Raw) -> None:
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


def _imager_custom(command: str, words: list[str], raw: Raw) -> None:
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


def _firstrun_heredoc(command: str, body: list[str], *, expanded: bool, raw: Raw) -> None:
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


def _wpa_supplicant(body: list[str], *, expanded: bool, raw: Raw) -> None:
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
