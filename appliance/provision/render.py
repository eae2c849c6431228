"""What the device's system needs from :class:`~.settings.BootSettings`, written under a root.

Every file is written whole or not at all (:func:`appliance.durable.atomic_write`), so a power cut
leaves the old file or the new one; symlinks are replaced by rename too. The paths are a
:class:`Targets` (a Debian root by default) so the image can point them where it can write.

After a successful apply, :func:`consume` puts Imager's files aside on the boot partition
(``firstrun.sh`` -> ``firstrun.sh.done``, with the Wi-Fi key and password hashes blotted out) and
takes ``systemd.run=...firstrun.sh`` and its companions off ``cmdline.txt``, leaving the rest of
that line as it was.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path

from appliance.durable import atomic_write

from .bootfiles import CMDLINE, read_bounded
from .cloudinit import NETWORK_CONFIG, USER_DATA
from .firstrun import FIRSTRUN
from .preseed import PRESEED
from .settings import BootSettings, Problem, Wifi


@dataclass(frozen=True)
class Targets:
    """Where each setting goes, relative to the root (paths inside the device's file system).

    None: not written, because the system has it already (the image ships the sshd drop-in and
    turns SSH on by the key file's presence) or does not need it."""

    hostname: str = "etc/hostname"
    hosts: str | None = "etc/hosts"
    connection: str = "etc/NetworkManager/system-connections/appliance-wifi.nmconnection"
    regulatory: str = "etc/modprobe.d/appliance-wifi-country.conf"
    ssh_user: str = "admin"
    ssh_home: str = "var/lib/admin"  # on the data partition: the image's root is read-only
    sshd_dropin: str | None = "etc/ssh/sshd_config.d/10-appliance.conf"
    ssh_wants: str | None = "etc/systemd/system/multi-user.target.wants/ssh.service"
    ssh_unit: str = "/lib/systemd/system/ssh.service"
    localtime: str = "etc/localtime"
    timezone: str = "etc/timezone"
    zoneinfo: str = "/usr/share/zoneinfo"  # as the device sees it (the symlink's target)


SYSTEM_DIR = "var/lib/system"
"""On the SD card image, what /etc would hold, on the data partition: the root is a read-only
squashfs, and the image's /etc/hostname, /etc/localtime, /etc/timezone and
/etc/modprobe.d/appliance-wifi-country.conf are symlinks into here (image/customize)."""

IMAGE_TARGETS = Targets(
    hostname=f"{SYSTEM_DIR}/hostname",
    hosts=None,  # systemd-resolved answers for the host's own name; /etc/hosts stays as built
    # NetworkManager reads its keyfiles there (image/rootfs/etc/NetworkManager/conf.d).
    connection="var/lib/NetworkManager/system-connections/appliance-wifi.nmconnection",
    regulatory=f"{SYSTEM_DIR}/wifi-country.conf",
    # The image's sshd drop-in is built in, and ssh.service starts only where the key file exists.
    sshd_dropin=None,
    ssh_wants=None,
    localtime=f"{SYSTEM_DIR}/localtime",
    timezone=f"{SYSTEM_DIR}/timezone",
)
LAYOUTS = {"debian": Targets(), "image": IMAGE_TARGETS}


@dataclass(frozen=True)
class Write:
    """One file (or symlink) to write; ``what`` says it for people, never with a secret in it."""

    path: str
    what: str
    data: bytes = b""
    mode: int = 0o644
    link: str | None = None
    owner: str | None = None  # chown to this user of the root's /etc/passwd (when run as root)
    dir_mode: int | None = None


SSHD_DROPIN = """\
# Written by `appliance bootconfig`: SSH by public key only, never a password.
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitEmptyPasswords no
PermitRootLogin no
AuthenticationMethods publickey
AllowUsers {user}
"""


def plan(
    settings: BootSettings, root: Path, targets: Targets | None = None
) -> tuple[list[Write], list[Problem]]:
    """The writes ``settings`` need, and what cannot be done as asked (SSH without a key)."""
    targets = targets or Targets()
    writes: list[Write] = []
    problems: list[Problem] = []
    if settings.hostname:
        name = settings.hostname
        writes.append(Write(targets.hostname, f"host name {name}", f"{name}\n".encode()))
        if targets.hosts is not None:
            writes.append(Write(targets.hosts, f"127.0.1.1 {name}", _hosts(root / targets.hosts, name)))
    if settings.wifi:
        wifi = settings.wifi
        security = "open network" if wifi.open else "WPA-PSK, key not shown"
        hidden = ", hidden" if wifi.hidden else ""
        writes.append(
            Write(
                targets.connection,
                f"Wi-Fi {wifi.ssid_text!r} ({security}{hidden}), power saving off",
                nm_keyfile(wifi),
                mode=0o600,
            )
        )
    if settings.country:
        line = f"options cfg80211 ieee80211_regdom={settings.country}\n"
        writes.append(Write(targets.regulatory, f"Wi-Fi country {settings.country}", line.encode()))
    if settings.ssh_enabled and settings.ssh_keys:
        user = targets.ssh_user
        keys = "".join(f"{key}\n" for key in settings.ssh_keys)
        count = len(settings.ssh_keys)
        writes.append(
            Write(
                f"{targets.ssh_home}/.ssh/authorized_keys",
                f"{count} SSH key{'s' if count > 1 else ''} for {user}",
                keys.encode(),
                mode=0o600,
                owner=user,
                dir_mode=0o700,
            )
        )
        if targets.sshd_dropin is not None:
            dropin = SSHD_DROPIN.format(user=user)
            writes.append(Write(targets.sshd_dropin, "sshd: public keys only, no password", dropin.encode()))
        if targets.ssh_wants is not None:
            writes.append(Write(targets.ssh_wants, "SSH on", link=targets.ssh_unit))
    elif settings.ssh_enabled:
        problems.append(
            Problem(
                settings.files[0] if settings.files else "boot",
                "ssh",
                "SSH was asked for without a public key: it stays off (password login is never turned on)",
            )
        )
    if settings.timezone:
        zone = settings.timezone
        writes.append(Write(targets.localtime, f"time zone {zone}", link=f"{targets.zoneinfo}/{zone}"))
        writes.append(Write(targets.timezone, f"time zone {zone}", f"{zone}\n".encode()))
    return writes, problems


def apply(writes: list[Write], root: Path) -> None:
    for write in writes:
        path = root / write.path
        if write.dir_mode is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.parent.chmod(write.dir_mode)
        if write.link is not None:
            _symlink(path, write.link)
        else:
            atomic_write(path, write.data, write.mode)
            path.chmod(write.mode)  # atomic_write's mode is filtered by the umask
        if write.owner is not None:
            _chown(root, path, write.owner)


def _symlink(path: Path, target: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    tmp.symlink_to(target)
    try:
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _chown(root: Path, path: Path, user: str) -> None:
    """Give the key file and its directory to ``user`` (sshd reads them as that user)."""
    if os.geteuid() != 0:
        return
    passwd = root / "etc/passwd"
    with contextlib.suppress(OSError):
        for line in passwd.read_text().splitlines():
            fields = line.split(":")
            if len(fields) >= 4 and fields[0] == user and fields[2].isdigit() and fields[3].isdigit():
                uid, gid = int(fields[2]), int(fields[3])
                os.chown(path.parent, uid, gid)
                os.chown(path, uid, gid)
                return


def _hosts(path: Path, name: str) -> bytes:
    """/etc/hosts with its 127.0.1.1 line naming this host (the other lines as they were)."""
    short = name.split(".", maxsplit=1)[0]
    entry = f"127.0.1.1\t{name}" + (f" {short}" if short != name else "")
    try:  # the root's own file (trusted, may be a symlink), not the boot partition's
        with path.open("rb") as handle:
            lines = handle.read(1 << 20).decode(errors="replace").splitlines()
    except OSError:
        lines = ["127.0.0.1\tlocalhost", "::1\t\tlocalhost ip6-localhost ip6-loopback"]
    kept = [line for line in lines if line.split("#")[0].split()[:1] != ["127.0.1.1"]]
    return ("\n".join([*kept, entry]) + "\n").encode()


# --- NetworkManager keyfile ---------------------------------------------------------------------


def _keyfile_value(value: str) -> str:
    """GKeyFile's escapes (a leading space, backslash, tab, newline, CR)."""
    out = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    return "\\s" + out[1:] if out.startswith(" ") else out


def _keyfile_ssid(ssid: bytes) -> str:
    """The SSID as a string when that is unambiguous, else as NetworkManager's list of octets."""
    try:
        text = ssid.decode()
    except UnicodeDecodeError:
        text = ""
    plain = text and text.isprintable() and not set(text) & set(";\\#") and text.strip() == text
    if plain and not re.fullmatch(r"[\d ]+", text):
        return text
    return "".join(f"{byte};" for byte in ssid)


def nm_keyfile(wifi: Wifi) -> bytes:
    """A NetworkManager keyfile connection: joins by itself, retries for ever, power saving off
    (``powersave=2``: brcmfmac's power saving drops SIP and DHT registrations)."""
    name = _keyfile_value(wifi.ssid_text)
    lines = [
        "[connection]",
        f"id={name}",
        f"uuid={uuid.uuid5(uuid.NAMESPACE_OID, 'appliance-wifi:' + wifi.ssid.hex())}",
        "type=wifi",
        "autoconnect=true",
        "autoconnect-retries=0",
        "",
        "[wifi]",
        "mode=infrastructure",
        f"ssid={_keyfile_ssid(wifi.ssid)}",
    ]
    if wifi.hidden:
        lines.append("hidden=true")
    lines += ["powersave=2", ""]
    if not wifi.open:
        key = wifi.psk if wifi.psk is not None else wifi.passphrase
        lines += ["[wifi-security]", "key-mgmt=wpa-psk", f"psk={_keyfile_value(key or '')}", ""]
    lines += ["[ipv4]", "method=auto", "", "[ipv6]", "addr-gen-mode=default", "method=auto", ""]
    return "\n".join(lines).encode()


# --- after a successful apply: the boot partition ------------------------------------------------

_BLOTTED = "(removed by the appliance)"
_SECRET_LINES: dict[str, list[tuple[re.Pattern[str], str]]] = {
    FIRSTRUN: [
        (re.compile(r"^(\s*\S*imager_custom set_wlan).*$", re.MULTILINE), rf"#\1 {_BLOTTED}"),
        (re.compile(r"^(\s*psk=).*$", re.MULTILINE), rf"\1{_BLOTTED}"),
        (re.compile(r"^(\s*\S*userconf\s+\S+).*$", re.MULTILINE), rf"#\1 {_BLOTTED}"),
        (re.compile(r"^(.*chpasswd).*$", re.MULTILINE), rf"# {_BLOTTED}"),
    ],
    NETWORK_CONFIG: [(re.compile(r"^(\s*password:).*$", re.MULTILINE), rf'\1 "{_BLOTTED}"')],
    USER_DATA: [
        (re.compile(r"^(\s*(?:passwd|password|hashed_passwd):).*$", re.MULTILINE), rf'\1 "{_BLOTTED}"')
    ],
    PRESEED: [(re.compile(r"^(\s*(?:password|token)\s*=).*$", re.MULTILINE), rf'\1 "{_BLOTTED}"')],
}
_FIRSTRUN_CMDLINE = re.compile(
    r"(?:^|[ \t]+)(?:systemd\.run=\S*firstrun\.sh\S*|systemd\.run_success_action=\S+"
    r"|systemd\.unit=kernel-command-line\.target)(?=[ \t]|$)",
    re.MULTILINE,
)


def blot(name: str, text: str, settings: BootSettings) -> str:
    """``text`` without the Wi-Fi key, password hashes or tokens, line by line, then anywhere."""
    for pattern, replacement in _SECRET_LINES.get(name.lower(), []):
        text = pattern.sub(replacement, text)
    wifi = settings.wifi
    for secret in (wifi.psk, wifi.passphrase) if wifi else ():
        if secret:
            text = text.replace(secret, _BLOTTED)
    return text


def strip_cmdline(line: str) -> str:
    """cmdline.txt without Imager's ``systemd.run=/boot/firstrun.sh`` and the two that go with it."""
    if not re.search(r"systemd\.run=\S*firstrun\.sh", line):
        return line
    stripped = _FIRSTRUN_CMDLINE.sub("", line)
    return stripped.lstrip(" \t") if not line[:1].isspace() else stripped


def consume(boot: Path, settings: BootSettings) -> list[str]:
    """Put the files ``settings`` came from aside as ``NAME.done`` (secrets blotted) and clean
    cmdline.txt; what was done, in words."""
    done: list[str] = []
    for name in settings.files:
        path = boot / name
        text = read_bounded(path).decode("utf-8", "surrogateescape")
        aside = path.with_name(f"{name}.done")
        atomic_write(aside, blot(name, text, settings).encode("utf-8", "surrogateescape"))
        path.unlink()
        done.append(f"{name} -> {aside.name}")
    entries = {entry.name.lower(): entry.name for entry in os.scandir(boot)}
    if CMDLINE in entries:
        path = boot / entries[CMDLINE]
        before = read_bounded(path).decode("utf-8", "surrogateescape")
        after = strip_cmdline(before)
        if after != before:
            atomic_write(path, after.encode("utf-8", "surrogateescape"))
            done.append(f"{entries[CMDLINE]}: systemd.run=...firstrun.sh removed")
    _sync(boot)
    return done


def _sync(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
