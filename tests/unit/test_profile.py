"""Provisioning profiles as data: parsing, locks, macros, the MAC address, what needs a restart."""

from __future__ import annotations

import pytest

from appliance.config import dhcp
from appliance.config import profile as profiles
from appliance.config.load import ConfigError, Layer, build, to_table
from appliance.config.schema import Config
from appliance.drivers.network import mac_address
from appliance.runtime.config_store import ConfigStore
from appliance.runtime.firmware import FirmwareUpdates
from appliance.runtime.provisioning import KeptProfile, Source, kept_profile, needs_restart


def test_locked_is_a_list_of_schema_keys_and_the_board_is_not_the_profiles():
    with pytest.raises(ConfigError) as bad:
        profiles.parse(
            'locked = ["features.dnd", "features.nope", "drivers.hook", "x"]\n[board]\nname = "x"\n', "p"
        )
    assert bad.value.problems == [
        "board: a profile may not set this (it is the board's own)",
        "locked[1]: features.nope: no such key in the configuration (a section, a list, or section.key)",
        "locked[2]: drivers.hook: not the profile's to set",
        "locked[3]: x: no such key in the configuration",
    ]
    with pytest.raises(ConfigError, match="locked: must be a list"):
        profiles.parse('locked = "features.dnd"\n', "p")
    with pytest.raises(ConfigError, match=r"^https://h/p\.toml: "):
        profiles.parse("[features\n", "https://h/p.toml")


def test_the_device_file_over_the_common_one_and_locks_adding_up():
    common = profiles.parse(
        'locked = ["dialplan.map"]\n[dialplan]\nmap = "xx."\n[phone]\ncountry = "GB"\n', "c"
    )
    device = profiles.parse('locked = ["phone.country"]\n[phone]\ncountry = "DE"\n', "d")
    both = profiles.combine([common, device])
    assert both.table == {"dialplan": {"map": "xx."}, "phone": {"country": "DE"}}
    assert both.locked == ("dialplan.map", "phone.country")
    assert both.locked_table() == {"dialplan": {"map": "xx."}, "phone": {"country": "DE"}}
    with pytest.raises(ConfigError, match=r"locked: features\.dnd is locked but no profile sets it"):
        profiles.combine([profiles.parse('locked = ["features.dnd"]\n', "d")])


def test_a_change_is_refused_only_where_a_lock_covers_it_and_the_value_differs():
    current = to_table(build({"features": {"dnd": True}}))
    locked = ("features.dnd", "contacts", "star_codes")
    assert profiles.locked_changes({"features": {"dnd": True, "private_mode": True}}, locked, current) == []
    assert profiles.locked_changes({"features": {"dnd": False}}, locked, current) == ["features.dnd"]
    assert profiles.locked_changes({"contacts": [{"name": "A"}]}, locked, current) == ["contacts"]
    assert profiles.locked_changes({"star_codes": {"*11": "dnd_on"}}, locked, current) == ["star_codes.*11"]
    assert profiles.locked_changes({"features": {"dnd": False}}, ("features",), current) == ["features.dnd"]


def test_macros_are_filled_and_unknown_ones_refused_by_the_schema():
    url = "https://prov.example/{board}/{mac}.toml?v={version}"
    assert profiles.fill(url, mac="b827eb012345", board="adapter-v1", version="1.2") == (
        "https://prov.example/adapter-v1/b827eb012345.toml?v=1.2"
    )
    with pytest.raises(ConfigError, match=r"provisioning.url: unknown macro \{serial\}"):
        build({"provisioning": {"url": "https://p.example/{serial}.toml"}})
    with pytest.raises(ConfigError, match=r"provisioning\.common_url: must be an https://"):
        build({"provisioning": {"common_url": "tftp://p.example/x"}})


def test_the_mac_address_is_the_wired_physical_interfaces(tmp_path):
    def link(name: str, mac: str, *, device: bool = True, wireless: bool = False) -> None:
        (tmp_path / name).mkdir()
        (tmp_path / name / "address").write_text(mac + "\n")
        if device:
            (tmp_path / name / "device").mkdir()
        if wireless:
            (tmp_path / name / "wireless").mkdir()

    link("lo", "00:00:00:00:00:00", device=False)
    link("docker0", "02:42:ac:11:00:01", device=False)
    link("wlan0", "B8:27:EB:AA:BB:CC", wireless=True)
    route = tmp_path / "route"
    route.write_text("Iface\tDestination\tGateway\nwlan0\t00000000\t0101A8C0\n")
    assert mac_address(tmp_path, route) == "b827ebaabbcc"  # Wi-Fi only: its MAC, not docker's
    link("eth0", "b8:27:eb:01:23:45")
    assert mac_address(tmp_path, route) == "b827eb012345"  # wired wins, whatever the route
    assert mac_address(tmp_path / "none", route) == ""


def test_what_a_profile_change_needs_a_restart_for():
    before = to_table(Config())
    after = to_table(build({"phone": {"country": "GB"}, "audio": {"handset_volume": 50},
                            "sip_accounts": [{"id": "pbx", "username": "12"}], "contacts": [],
                            "provisioning": {"interval_s": 600}}))  # fmt: skip
    assert needs_restart(before, after) == ["audio.handset_volume", "sip_accounts"]


def test_the_kept_profile_is_read_at_start_and_a_broken_one_ignored(tmp_path):
    kept = KeptProfile(tmp_path)
    kept.write([Source("https://p/c.toml", '"e1"', "", '[phone]\ncountry = "GB"\n'),
                Source("https://p/d.toml", "", "", 'locked = ["phone.country"]\n')])  # fmt: skip
    profile = kept_profile(tmp_path)
    assert profile is not None
    assert profile.locked == ("phone.country",)
    store = ConfigStore([Layer("defaults", {})], tmp_path, profile=profile)
    assert store.config.phone.country == "GB"
    (tmp_path / "provisioning" / "profile.json").write_text("{half a file")
    assert kept_profile(tmp_path) is None


def test_a_kept_profile_this_board_cannot_use_is_left_out_and_said(tmp_path):
    profile = profiles.parse("[hook]\npin = 4\n", "p")  # the fake hook driver needs no pin: fine
    store = ConfigStore([Layer("defaults", {})], tmp_path, profile=profile)
    assert store.config.hook.pin == 4
    clash = profiles.parse("[ringer]\npin = 4\n[hook]\npin = 4\n", "p")
    store = ConfigStore([Layer("defaults", {})], tmp_path, profile=clash)
    assert store.profile.table == {}
    assert "provisioning profile is not used: ringer.pin: GPIO 4 is already used by hook.pin" in (
        store.notices.all()[0].text
    )


def test_the_dhcp_hand_over_names_the_server_by_option_160_then_66_then_43():
    both = "interface=eth0\noption_66=tftp.example.org\noption_160=https://prov.example.org/phones/\n"
    server = dhcp.parse(both, "f")
    assert server == dhcp.DhcpServer("https://prov.example.org/phones/{mac}.toml",
                                      "https://prov.example.org/phones/common.toml", "160", "eth0")  # fmt: skip
    server = dhcp.parse("option_66=prov.example.org:8443\n", "f")
    assert server is not None
    assert (server.url, server.common_url, server.option) == (
        "https://prov.example.org:8443/{mac}.toml", "https://prov.example.org:8443/common.toml", "66")  # fmt: skip
    assert dhcp.parse('option_66="http://10.0.0.2/cfg{mac}"\n', "f") == dhcp.DhcpServer(
        "http://10.0.0.2/cfg{mac}", "", "66"
    )
    url = b"https://prov.example.org/p/"
    tlv = (bytes([2, 3]) + b"abc" + bytes([1, len(url)]) + url).hex(":")  # sub-option 1 is the server
    assert dhcp.parse(f"option_43={tlv}\n", "f").url == "https://prov.example.org/p/{mac}.toml"
    assert (
        dhcp.parse(f"option_43={b'prov.example.org'.hex()}\n", "f").url
        == "https://prov.example.org/{mac}.toml"
    )
    assert dhcp.parse("# nothing\ninterface=eth0\noption_3=10.0.0.1\n", "f") is None


def test_a_bad_dhcp_hand_over_is_named():
    with pytest.raises(ConfigError, match=r"^f:2: expected option_<code>=<value>"):
        dhcp.parse("option_66=a\nwhat is this\n", "f")
    with pytest.raises(ConfigError, match=r"option 66: 'not a host!' is neither a URL nor a host name"):
        dhcp.parse("option_66=not a host!\n", "f")
    with pytest.raises(ConfigError, match="option 160"):
        dhcp.parse("option_160=https://p.example/{serial}\n", "f")


async def test_the_maintenance_window_by_the_phones_local_clock(tmp_path):
    class Phone:
        minute: int | None = None

        def local_minute(self, _now: float) -> int | None:
            return self.minute

    class Supervisor:
        phone = Phone()

    store = ConfigStore([Layer("defaults", {}), Layer("system", {"firmware": {"window_from": "23:00",
                                                                              "window_to": "02:00"}})], None)  # fmt: skip
    updates = FirmwareUpdates(store, Supervisor(), tmp_path, mac="", board="desktop", version="1")  # type: ignore[arg-type]
    assert not updates.in_window()  # the time of day not known yet
    for hhmm, inside in (
        ("22:59", False),
        ("23:00", True),
        ("00:30", True),
        ("01:59", True),
        ("02:00", False),
    ):
        Supervisor.phone.minute = int(hhmm[:2]) * 60 + int(hhmm[3:])
        assert updates.in_window() is inside, hhmm
