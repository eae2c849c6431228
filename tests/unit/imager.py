"""Boot partitions as Raspberry Pi Imager writes them, for the boot-settings parser's tests.

Each function follows Imager's own generator line for line (read from its source, not run):
``firstrun_v2`` and ``cloud_*`` follow ``src/customization_generator.cpp`` (Imager 2.x,
``generateSystemdScript``, ``generateCloudInitUserData``, ``generateCloudInitNetworkConfig``) and
``DownloadThread::_customizeImage`` (``#cloud-config`` prepended, ``meta-data``, the cmdline.txt
additions); ``preseed`` follows ``generateRpiPreseedToml`` (2.0.11); ``firstrun_v18`` and
``cloud_*_v18`` follow ``src/OptionsPopup.qml`` of Imager 1.8.5 (``applySettings``), and
``firstrun_v16`` that of Imager 1.6 (plain-text ``psk="..."``, an unquoted ``<<WPAEOF``).
Settings use Imager's own keys (``hostname``, ``wifiSSID``, ``recommendedWifiCountry``, ...).
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from pathlib import Path

CMDLINE = (
    "console=serial0,115200 console=tty1 root=PARTUUID=4c7a8a2e-02 rootfstype=ext4 fsck.repair=yes rootwait"
)
IC = "/usr/lib/raspberrypi-sys-mods/imager_custom"


def ssh_key(kind: str = "ssh-ed25519", comment: str = "owner@laptop", seed: int = 1) -> str:
    """A key line whose body is laid out as the type's (ed25519 or ecdsa-sha2-nistp256)."""
    body = struct.pack(">I", len(kind)) + kind.encode()
    if kind.startswith("ecdsa-sha2-"):
        curve = kind.removeprefix("ecdsa-sha2-").encode()
        body += struct.pack(">I", len(curve)) + curve + struct.pack(">I", 65) + b"\x04" + bytes([seed]) * 64
    else:
        body += struct.pack(">I", 32) + bytes([seed]) * 32
    return f"{kind} {base64.b64encode(body).decode()} {comment}".strip()


def shell_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


def pbkdf2(password: str, ssid: bytes) -> str:
    return hashlib.pbkdf2_hmac("sha1", password.encode(), ssid, 4096, 32).hex()


def _strip(value: str) -> str:
    return value.replace("\r", "").replace("\n", "")


def _ssid(s: dict) -> bytes:
    return s.get("wifiSSIDOctets") or s.get("wifiSSID", "").encode()


def crypted_psk(s: dict) -> str:
    """resolveWifiPskCrypt: a passphrase of 8-63 characters becomes PBKDF2 hex, anything else passes."""
    plain = _strip(s.get("wifiPassword", ""))
    if not plain:
        return ""
    return pbkdf2(plain, _ssid(s)) if 8 <= len(plain) < 64 else plain


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


def _wpa_ssid_field(octets: bytes) -> str:
    if not _is_utf8(octets) or any(b < 0x20 or b == 0x7F or b in b'\\"' for b in octets):
        return "\tssid=hex:" + octets.hex()
    return '\tssid="' + octets.decode().replace("\\", "\\\\").replace('"', '\\"') + '"'


def yaml_escape(octets: bytes) -> str:
    out = []
    table = {
        0x5C: "\\\\",
        0x22: '\\"',
        0x0A: "\\n",
        0x0D: "\\r",
        0x09: "\\t",
        0x08: "\\b",
        0x0C: "\\f",
        0: "\\0",
    }
    for byte in octets:
        if byte in table:
            out.append(table[byte])
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\x{byte:02x}")
    return "".join(out)


def _keys(s: dict) -> list[str]:
    raw = s.get("sshAuthorizedKeys", "").strip() or s.get("sshPublicKey", "").strip()
    return [k.strip() for k in raw.replace("\r\n", "\n").split("\n") if k.strip()]


def firstrun_v2(s: dict) -> bytes:
    """generateSystemdScript (Imager 2.x)."""
    out: list[str] = []
    line = out.append
    hostname = s.get("hostname", "").strip()
    timezone = s.get("timezone", "").strip()
    user = s.get("sshUserName", "").strip()
    password = s.get("sshUserPassword", "")
    keys = _keys(s)
    ssid = _ssid(s)
    hidden = bool(s.get("wifiHidden"))
    country = s.get("recommendedWifiCountry", "").strip()
    psk = crypted_psk(s) if ssid else ""
    effective = user or "pi"
    line("#!/bin/sh")
    line("")
    line("set +e")
    line("")
    if hostname:
        line('CURRENT_HOSTNAME=$(cat /etc/hostname | tr -d " \\t\\n\\r")')
        line(f"if [ -f {IC} ]; then")
        line(f"   {IC} set_hostname " + hostname)
        line("else")
        line("   echo " + hostname + " >/etc/hostname")
        line('   sed -i "s/127.0.1.1.*$CURRENT_HOSTNAME/127.0.1.1\\t' + hostname + '/g" /etc/hosts')
        line("fi")
    line("FIRSTUSER=$(getent passwd 1000 | cut -d: -f1)")
    line("FIRSTUSERHOME=$(getent passwd 1000 | cut -d: -f6)")
    if keys:
        line(f"if [ -f {IC} ]; then")
        line(f"   {IC} enable_ssh -k" + "".join(" " + shell_quote(k) for k in keys))
        line("else")
        line('   install -o "$FIRSTUSER" -m 700 -d "$FIRSTUSERHOME/.ssh"')
        line("cat > \"$FIRSTUSERHOME/.ssh/authorized_keys\" <<'EOF'")
        line("\n".join(keys))
        line("EOF")
        line('   chown "$FIRSTUSER:$FIRSTUSER" "$FIRSTUSERHOME/.ssh/authorized_keys"')
        line('   chmod 600 "$FIRSTUSERHOME/.ssh/authorized_keys"')
        line("   echo 'PasswordAuthentication no' >>/etc/ssh/sshd_config")
        line("   systemctl enable ssh")
        line("fi")
    if s.get("sshEnabled") and s.get("sshPasswordAuth") and not keys:
        line(f"if [ -f {IC} ]; then")
        line(f"   {IC} enable_ssh")
        line("else")
        line("   systemctl enable ssh")
        line("fi")
    if user or password or keys:
        line("if [ -f /usr/lib/userconf-pi/userconf ]; then")
        line("   /usr/lib/userconf-pi/userconf " + shell_quote(effective) + " " + shell_quote(password))
        line("else")
        if password:
            line('   echo "$FIRSTUSER:' + password + '" | chpasswd -e')
        line('   if [ "$FIRSTUSER" != "' + effective + '" ]; then')
        line('      usermod -l "' + effective + '" "$FIRSTUSER"')
        line("   fi")
        line("fi")
    if ssid:
        use_ic = b"\0" not in ssid and _is_utf8(ssid)
        line(f"if [ -f {IC} ] && " + ("true" if use_ic else "false") + "; then")
        if use_ic:
            cmd = f"   {IC} set_wlan "
            if hidden:
                cmd += " -h "
            cmd += shell_quote(ssid.decode()) + " " + shell_quote(psk) + " " + shell_quote(country)
            line(cmd)
        line("else")
        body = "cat >/etc/wpa_supplicant/wpa_supplicant.conf <<'WPAEOF'\n"
        if country:
            body += "country=" + country + "\n"
        body += "ctrl_interface=DIR=/var/run/wpa_supplicant GROUP=netdev\nap_scan=1\n\nupdate_config=1\nnetwork={\n"
        if hidden:
            body += "\tscan_ssid=1\n"
        body += _wpa_ssid_field(ssid) + "\n"
        if not psk:
            body += "\tkey_mgmt=NONE\n"
        else:
            body += "\tkey_mgmt=WPA-PSK SAE\n\tpsk=" + psk + "\n\tieee80211w=1\n"
        body += "}\nWPAEOF"
        line(body)
        line("   chmod 600 /etc/wpa_supplicant/wpa_supplicant.conf")
        line("   rfkill unblock wifi")
        line("   for filename in /var/lib/systemd/rfkill/*:wlan ; do")
        line("       echo 0 > $filename")
        line("   done")
        line("fi")
    elif country:
        line("rfkill unblock wifi")
    keyboard = s.get("keyboard", "").strip()
    if keyboard or timezone:
        line(f"if [ -f {IC} ]; then")
        if keyboard:
            line(f"   {IC} set_keymap " + shell_quote(keyboard))
        if timezone:
            line(f"   {IC} set_timezone " + shell_quote(timezone))
        line("else")
        if timezone:
            line("   rm -f /etc/localtime")
            line('   echo "' + timezone + '" >/etc/timezone')
            line("   dpkg-reconfigure -f noninteractive tzdata")
        if keyboard:
            line("cat >/etc/default/keyboard <<'KBEOF'")
            line('XKBMODEL="pc105"')
            line('XKBLAYOUT="' + keyboard + '"')
            line('XKBVARIANT=""')
            line('XKBOPTIONS=""')
            line("")
            line("KBEOF")
            line("   dpkg-reconfigure -f noninteractive keyboard-configuration")
        line("fi")
    line("rm -f /boot/firstrun.sh")
    line("sed -i 's| systemd.run.*||g' /boot/cmdline.txt")
    line("exit 0")
    return ("\n".join(out) + "\n").encode()


def firstrun_v18(s: dict) -> bytes:
    """OptionsPopup.qml applySettings, Imager 1.8.5: always the PBKDF2 key, imager_custom first."""
    out: list[str] = []
    add = out.append
    hostname = s.get("hostname", "")
    if hostname:
        add('CURRENT_HOSTNAME=`cat /etc/hostname | tr -d " \\t\\n\\r"`')
        add(f"if [ -f {IC} ]; then")
        add(f"   {IC} set_hostname " + hostname)
        add("else")
        add("   echo " + hostname + " >/etc/hostname")
        add('   sed -i "s/127.0.1.1.*$CURRENT_HOSTNAME/127.0.1.1\\t' + hostname + '/g" /etc/hosts')
        add("fi")
    add("FIRSTUSER=`getent passwd 1000 | cut -d: -f1`")
    add("FIRSTUSERHOME=`getent passwd 1000 | cut -d: -f6`")
    pubkey = s.get("sshPublicKey", "")
    if pubkey:
        spaced = "".join(" " + shell_quote(k.strip()) for k in pubkey.split("\n") if k.strip())
        add(f"if [ -f {IC} ]; then")
        add(f"   {IC} enable_ssh -k" + spaced)
        add("else")
        add('   install -o "$FIRSTUSER" -m 700 -d "$FIRSTUSERHOME/.ssh"')
        add(
            '   install -o "$FIRSTUSER" -m 600 <(printf "'
            + pubkey.replace("\n", "\\n")
            + '") "$FIRSTUSERHOME/.ssh/authorized_keys"'
        )
        add("   echo 'PasswordAuthentication no' >>/etc/ssh/sshd_config")
        add("   systemctl enable ssh")
        add("fi")
    if s.get("sshUserName"):
        add("if [ -f /usr/lib/userconf-pi/userconf ]; then")
        add(
            "   /usr/lib/userconf-pi/userconf "
            + shell_quote(s["sshUserName"])
            + " "
            + shell_quote(s.get("sshUserPassword", ""))
        )
        add("else")
        add('   echo "$FIRSTUSER:"' + shell_quote(s.get("sshUserPassword", "")) + " | chpasswd -e")
        add("fi")
    ssid = s.get("wifiSSID", "")
    if ssid:
        country = s.get("recommendedWifiCountry", "")
        password = s.get("wifiPassword", "")
        crypted = pbkdf2(password, ssid.encode()) if 8 <= len(password) < 64 else password
        wpa = "country=" + country + "\n"
        wpa += "ctrl_interface=DIR=/var/run/wpa_supplicant GROUP=netdev\n"
        wpa += "ap_scan=1\n\nupdate_config=1\nnetwork={\n"
        if s.get("wifiHidden"):
            wpa += "\tscan_ssid=1\n"
        wpa += '\tssid="' + ssid + '"\n'
        wpa += "\tpsk=" + crypted + "\n}\n"
        add(f"if [ -f {IC} ]; then")
        add(
            f"   {IC} set_wlan "
            + (" -h " if s.get("wifiHidden") else "")
            + shell_quote(ssid)
            + " "
            + shell_quote(crypted)
            + " "
            + shell_quote(country)
        )
        add("else")
        add("cat >/etc/wpa_supplicant/wpa_supplicant.conf <<'WPAEOF'")
        add(wpa)
        add("WPAEOF")
        add("   chmod 600 /etc/wpa_supplicant/wpa_supplicant.conf")
        add("   rfkill unblock wifi")
        add("fi")
    if s.get("timezone"):
        kbd = 'XKBMODEL="pc105"\nXKBLAYOUT="' + s.get("keyboard", "us") + '"\nXKBVARIANT=""\nXKBOPTIONS=""\n'
        add(f"if [ -f {IC} ]; then")
        add(f"   {IC} set_keymap " + shell_quote(s.get("keyboard", "us")))
        add(f"   {IC} set_timezone " + shell_quote(s["timezone"]))
        add("else")
        add("   rm -f /etc/localtime")
        add('   echo "' + s["timezone"] + '" >/etc/timezone')
        add("   dpkg-reconfigure -f noninteractive tzdata")
        add("cat >/etc/default/keyboard <<'KBEOF'")
        add(kbd)
        add("KBEOF")
        add("   dpkg-reconfigure -f noninteractive keyboard-configuration")
        add("fi")
    text = "#!/bin/bash\n\nset +e\n\n" + "".join(f"{x}\n" for x in out)
    text += "rm -f /boot/firstrun.sh\nsed -i 's| systemd.run.*||g' /boot/cmdline.txt\nexit 0\n"
    return text.encode()


def firstrun_v16(s: dict) -> bytes:
    """OptionsPopup.qml, Imager 1.6: no imager_custom, the passphrase as psk="...", <<WPAEOF unquoted."""
    out = ["#!/bin/bash", "", "set +e", ""]
    add = out.append
    if s.get("hostname"):
        add('CURRENT_HOSTNAME=`cat /etc/hostname | tr -d " \\t\\n\\r"`')
        add("echo " + s["hostname"] + " >/etc/hostname")
        add('sed -i "s/127.0.1.1.*$CURRENT_HOSTNAME/127.0.1.1\\t' + s["hostname"] + '/g" /etc/hosts')
    add("FIRSTUSER=`getent passwd 1000 | cut -d: -f1`")
    add("FIRSTUSERHOME=`getent passwd 1000 | cut -d: -f6`")
    if s.get("sshPublicKey"):
        pubkey = s["sshPublicKey"].replace("\n", "")
        add('install -o "$FIRSTUSER" -m 700 -d "$FIRSTUSERHOME/.ssh"')
        add('install -o "$FIRSTUSER" -m 600 <(echo "' + pubkey + '") "$FIRSTUSERHOME/.ssh/authorized_keys"')
        add("echo 'PasswordAuthentication no' >>/etc/ssh/sshd_config")
        add("systemctl enable ssh")
    if s.get("wifiSSID"):
        wpa = "country=" + s.get("recommendedWifiCountry", "") + "\n"
        wpa += "ctrl_interface=DIR=/var/run/wpa_supplicant GROUP=netdev\nap_scan=1\n\nupdate_config=1\nnetwork={\n"
        wpa += '\tssid="' + s["wifiSSID"] + '"\n\tpsk="' + s.get("wifiPassword", "") + '"\n}\n'
        add("cat >/etc/wpa_supplicant/wpa_supplicant.conf <<WPAEOF")
        add(wpa)
        add("WPAEOF")
        add("chmod 600 /etc/wpa_supplicant/wpa_supplicant.conf")
        add("rfkill unblock wifi")
    if s.get("timezone"):
        add("rm -f /etc/localtime")
        add('echo "' + s["timezone"] + '" >/etc/timezone')
        add("dpkg-reconfigure -f noninteractive tzdata")
        add("cat >/etc/default/keyboard <<KBEOF")
        add('XKBMODEL="pc105"')
        add('XKBLAYOUT="' + s.get("keyboard", "us") + '"')
        add('XKBVARIANT=""')
        add('XKBOPTIONS=""')
        add("KBEOF")
    add("rm -f /boot/firstrun.sh")
    add("sed -i 's| systemd.run.*||g' /boot/cmdline.txt")
    add("exit 0")
    return ("\n".join(out) + "\n").encode()


def cloud_user_data(s: dict, ssh_enabled: bool | None = None, current_user: str = "pi") -> bytes:
    """generateCloudInitUserData, then '#cloud-config' prepended as DownloadThread does."""
    ssh_enabled = bool(s.get("sshEnabled")) if ssh_enabled is None else ssh_enabled
    out: list[str] = []

    def push(text: str) -> None:
        if text:
            out.append(text)

    hostname = s.get("hostname", "").strip()
    if hostname:
        push("hostname: " + hostname)
        push("manage_etc_hosts: true")
        push("packages:")
        push("- avahi-daemon")
        push("apt:")
        push("  preserve_sources_list: true")
        push("  conf: |")
        push("    Acquire {")
        push('      Check-Date "false";')
        push("    };")
    if s.get("timezone"):
        push("timezone: " + s["timezone"])
    if s.get("keyboard"):
        push("keyboard:")
        push("  model: pc105")
        push('  layout: "' + s["keyboard"] + '"')
    user = s.get("sshUserName", "").strip()
    password = s.get("sshUserPassword", "")
    auth_keys = s.get("sshAuthorizedKeys", "").strip()
    pub = s.get("sshPublicKey", "").strip()
    has_creds = bool(user and password)
    has_keys = ssh_enabled and bool(pub or auth_keys)
    effective = user or (current_user if ssh_enabled else "pi")
    if has_creds or has_keys:
        push("user:")
        push("  name: " + effective)
        push("  shell: /bin/bash")
        if password:
            push("  lock_passwd: false")
            push('  passwd: "' + password + '"')
        elif has_keys:
            push("  lock_passwd: true")
        if has_keys:
            push("  ssh_authorized_keys:")
            for key in (auth_keys or pub).split("\n"):
                if key.strip():
                    push('    - "' + key.strip() + '"')
        push("  sudo: null")
    if ssh_enabled:
        if s.get("sshPasswordAuth"):
            push("ssh_pwauth: true")
        elif auth_keys or pub:
            push("ssh_pwauth: false")
        push("runcmd:")
        push("  - [ systemctl, enable, --now, ssh ]")
    if not out:
        return b""
    return ("#cloud-config\nmanage_resolv_conf: false\n\n" + "\n".join(out) + "\n").encode()


def cloud_network_config(s: dict) -> bytes:
    """generateCloudInitNetworkConfig (Imager 2.x)."""
    ssid = _ssid(s)
    if not ssid:
        return b""
    out = ["network:", "  version: 2", "  ethernets:", "    eth0:", "      dhcp4: true", "      dhcp6: true"]
    out += ["      optional: true", "  wifis:", "    wlan0:", "      dhcp4: true"]
    regdom = s.get("recommendedWifiCountry", "").strip().upper()
    if regdom:
        out.append('      regulatory-domain: "' + regdom + '"')
    out.append("      access-points:")
    out.append('        "' + yaml_escape(ssid) + '":')
    if s.get("wifiHidden"):
        out.append("          hidden: true")
    psk = crypted_psk(s)
    if not psk:
        out += ["          auth:", "            key-management: none"]
    else:
        out.append('          password: "' + psk.replace('"', '\\"') + '"')
    out.append("      optional: true")
    return ("\n".join(out) + "\n").encode()


def cloud_user_data_v18(s: dict) -> bytes:
    """OptionsPopup.qml 1.8.5: users: list, keys unquoted, runcmd with localectl."""
    out = ["#cloud-config"]
    if s.get("hostname"):
        out += ["hostname: " + s["hostname"], "manage_etc_hosts: true", "packages:", "- avahi-daemon", ""]
    if s.get("sshUserName") or s.get("sshPublicKey"):
        out += ["users:", "- name: " + s.get("sshUserName", "pi")]
        out += [
            "  groups: users,adm,dialout,audio,netdev,video,plugdev,cdrom,games,input,gpio,spi,i2c,render,sudo"
        ]
        out += ["  shell: /bin/bash"]
        if s.get("sshUserPassword"):
            out += ["  lock_passwd: false", "  passwd: " + s["sshUserPassword"]]
        if s.get("sshPublicKey"):
            out += ["  ssh_authorized_keys:"]
            out += ["    - " + k.strip() for k in s["sshPublicKey"].split("\n") if k.strip()]
        out += ["  sudo: ALL=(ALL) NOPASSWD:ALL", ""]
    if s.get("timezone"):
        out += ["timezone: " + s["timezone"]]
        out += [
            "runcmd:",
            '- localectl set-x11-keymap "' + s.get("keyboard", "us") + '" pc105',
            "- setupcon -k --force || true",
        ]
    return ("\n".join(out) + "\n").encode()


def cloud_network_config_v18(s: dict) -> bytes:
    """OptionsPopup.qml 1.8.5: top-level version/wifis, renderer among the interfaces."""
    password = s.get("wifiPassword", "")
    crypted = pbkdf2(password, s["wifiSSID"].encode()) if 8 <= len(password) < 64 else password
    text = "version: 2\nwifis:\n  renderer: networkd\n  wlan0:\n    dhcp4: true\n    optional: true\n"
    text += '    access-points:\n      "' + s["wifiSSID"] + '":\n        password: "' + crypted + '"\n'
    if s.get("wifiHidden"):
        text += "        hidden: true\n"
    return text.encode()


def preseed(s: dict) -> bytes:
    """generateRpiPreseedToml (Imager 2.0.11)."""

    def q(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "") + '"'

    out = ['config_version = "1.0"', ""]
    if s.get("hostname"):
        out += ["[system]", "hostname = " + q(s["hostname"]), ""]
    if s.get("sshEnabled"):
        out += [
            "[ssh]",
            "enabled = true",
            "password_authentication = " + ("true" if s.get("sshPasswordAuth") else "false"),
        ]
        keys = _keys(s)
        if keys:
            out += ["authorized_keys = [", *[f"  {q(k)}," for k in keys], "]"]
        out.append("")
    ssid = _ssid(s)
    if ssid:
        out.append("[wlan]")
        out.append("ssid = " + q(ssid.decode()) if _is_utf8(ssid) else "ssid_hex = " + q(ssid.hex()))
        psk = _strip(s.get("wifiPassword", ""))
        if psk:
            out += ["password = " + q(psk), "password_encrypted = " + ("true" if len(psk) == 64 else "false")]
        out.append("hidden = " + ("true" if s.get("wifiHidden") else "false"))
        if s.get("recommendedWifiCountry"):
            out.append("country = " + q(s["recommendedWifiCountry"]))
        out.append("")
    if s.get("timezone") or s.get("keyboard"):
        out.append("[locale]")
        if s.get("keyboard"):
            out.append("keymap = " + q(s["keyboard"]))
        if s.get("timezone"):
            out.append("timezone = " + q(s["timezone"]))
    return ("\n".join(out).rstrip("\n") + "\n").encode()


def boot_partition(
    path: Path, files: dict[str, bytes], *, firstrun: bool = False, cloud: bool = False, regdom: str = ""
) -> Path:
    """A boot directory as DownloadThread leaves it: the files, and cmdline.txt's additions."""
    path.mkdir(parents=True, exist_ok=True)
    cmdline = CMDLINE
    if regdom:
        cmdline += " cfg80211.ieee80211_regdom=" + regdom
    if firstrun:
        cmdline += " systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target"
    if cloud:
        files = {"meta-data": b"instance-id: rpi-imager-1764698400000\n", **files}
        cmdline += " ds=nocloud;i=rpi-imager-1764698400000"
    for name, data in files.items():
        if data:
            (path / name).write_bytes(data)
    (path / "cmdline.txt").write_text(cmdline)
    (path / "config.txt").write_text("[all]\narm_64bit=1\n")
    return path


def zoneinfo(
    path: Path, zones: tuple[str, ...] = ("Europe/London", "America/New_York", "Etc/GMT+5", "UTC")
) -> Path:
    """A small time zone database: TZif files and tzdata's iso3166.tab."""
    for zone in zones:
        (path / zone).parent.mkdir(parents=True, exist_ok=True)
        (path / zone).write_bytes(b"TZif2" + os.urandom(8))
    (path / "iso3166.tab").write_text(
        "# ISO 3166 alpha-2 country codes\nDE\tGermany\nFR\tFrance\nGB\tBritain (UK)\nUS\tUnited States\n"
    )
    return path
