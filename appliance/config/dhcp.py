"""Where the provisioning server is, as the network's DHCP server says (options 66, 160 and 43).

The device's DHCP client hands the options over in a small file (a NetworkManager dispatcher
script or a dhclient exit hook writes it at each lease; see the README's "Fleet provisioning"):

    # one option a line: option_<code>=<value as the DHCP client reports it>
    interface=eth0
    option_66=prov.example.org
    option_160=https://prov.example.org/phones/
    option_43=01:1f:68:74:74:70:73:3a:2f:2f:...

Values are text, except option 43 (vendor-specific information), which the clients report as hex
bytes (``01:02:ab`` or ``0102ab``): a chain of sub-options (code, length, value), of which
sub-option 1 is the server, or, if the bytes are no such chain, the server as text.

Option 160 wins over 66 (as Polycom and Yealink phones take them: 66 is often the TFTP server of
older phones on the same network), then 43. A URL is used as it is if it has ``{mac}`` in it;
otherwise ``{mac}.toml`` and ``common.toml`` are looked for under it (a bare host: at its root,
over HTTPS).

Pure: parsing only; the runtime reads the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .load import ConfigError
from .validators import url as valid_url

PREFERENCE = ("160", "66", "43")
_LINE = re.compile(r"^([a-z0-9_]+)=(.*)$")
_HEX = re.compile(r"^([0-9a-fA-F]{2})(:?[0-9a-fA-F]{2})*$")
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$")
SERVER_SUBOPTION = 1


@dataclass(frozen=True)
class DhcpServer:
    """The provisioning URLs the DHCP options give, and which option gave them."""

    url: str
    common_url: str
    option: str  # "160", "66" or "43"
    interface: str = ""


def parse(text: str, where: str) -> DhcpServer | None:
    """The server in a hand-over file's text, or None if it names none; ConfigError names the
    file, the line and what is wrong with it."""
    options: dict[str, str] = {}
    interface = ""
    problems = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            problems.append(f"{where}:{number}: expected option_<code>=<value> or interface=<name>")
            continue
        key, value = match.group(1), match.group(2).strip().strip('"')
        if key == "interface":
            interface = value
        elif key.startswith("option_") and key[7:] in PREFERENCE:
            options[key[7:]] = value
    if problems:
        raise ConfigError(problems)
    for option in PREFERENCE:
        value = options.get(option, "")
        if option == "43" and value:
            value = _vendor_server(value)
        if not value:
            continue
        urls = server_urls(value)
        if urls is None:
            raise ConfigError([f"{where}: option {option}: {value!r} is neither a URL nor a host name"])
        return DhcpServer(*urls, option=option, interface=interface)
    return None


def server_urls(value: str) -> tuple[str, str] | None:
    """``(url, common_url)`` for a server named by a DHCP option, or None if it names none."""
    if "://" not in value:
        if not _HOST.match(value):
            return None
        value = f"https://{value}/"
    if valid_url(value) is not None:
        return None
    if "{mac}" in value:
        return value, ""
    base = value if value.endswith("/") else f"{value}/"
    return f"{base}{{mac}}.toml", f"{base}common.toml"


def _vendor_server(value: str) -> str:
    """Option 43's server: sub-option 1 of a (code, length, value) chain, or the bytes as text."""
    if not _HEX.match(value):
        return value  # reported as text already
    data = bytes.fromhex(value.replace(":", ""))
    at, found = 0, {}
    while at + 2 <= len(data):
        code, length = data[at], data[at + 1]
        if at + 2 + length > len(data):
            break
        found[code] = data[at + 2 : at + 2 + length]
        at += 2 + length
    raw = found.get(SERVER_SUBOPTION, b"") if at == len(data) and found else data
    return raw.decode("ascii", "replace").strip("\x00 ")
