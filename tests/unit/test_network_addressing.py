"""A connection's IPv4 setting checked (appliance/network/addressing.py), and Wi-Fi names and keys."""

import pytest

from appliance.network.addressing import AddressingError, Ipv4, ipv4
from appliance.network.wifi import WifiRefusedError, psk, ssid


def problems(body):
    with pytest.raises(AddressingError) as caught:
        ipv4(body)
    return dict(caught.value.problems)


def test_dhcp_with_or_without_name_servers():
    assert ipv4({"method": "auto"}) == Ipv4()
    assert ipv4({"method": "auto", "dns": ["9.9.9.9"]}) == Ipv4(dns=("9.9.9.9",))


def test_a_static_setting():
    got = ipv4({"method": "manual", "address": "192.168.1.20", "prefix": 24, "gateway": "192.168.1.1",
                "dns": ["192.168.1.1", "9.9.9.9"]})  # fmt: skip
    assert got == Ipv4("manual", "192.168.1.20", 24, "192.168.1.1", ("192.168.1.1", "9.9.9.9"))


def test_a_static_setting_without_gateway_or_dns_is_a_network_with_no_router():
    assert ipv4({"method": "manual", "address": "10.0.0.5", "prefix": 8}) == Ipv4("manual", "10.0.0.5", 8)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"address": "192.168.1.300", "prefix": 24}, "address", "not an IPv4 address"),
        ({"address": "", "prefix": 24}, "address", "not an IPv4 address"),
        ({"address": "192.168.1.20", "prefix": 33}, "prefix", "1 to 32"),
        ({"address": "192.168.1.20", "prefix": 0}, "prefix", "1 to 32"),
        ({"address": "192.168.1.20", "prefix": True}, "prefix", "1 to 32"),
        ({"address": "192.168.1.0", "prefix": 24}, "address", "the network's own address"),
        ({"address": "192.168.1.255", "prefix": 24}, "address", "broadcast"),
        ({"address": "127.0.0.5", "prefix": 8}, "address", "cannot be a device's address"),
        ({"address": "224.0.0.1", "prefix": 4}, "address", "cannot be"),
        (
            {"address": "192.168.1.20", "prefix": 24, "gateway": "192.168.2.1"},
            "gateway",
            "outside the subnet 192.168.1.0/24",
        ),
        (
            {"address": "192.168.1.20", "prefix": 24, "gateway": "192.168.1.20"},
            "gateway",
            "not this phone's own address",
        ),
        ({"address": "192.168.1.20", "prefix": 24, "gateway": "router"}, "gateway", "not an IPv4 address"),
        (
            {"address": "192.168.1.20", "prefix": 24, "dns": ["1.1.1.1", "x"]},
            "dns",
            "'x' is not an IPv4 address",
        ),
        ({"address": "192.168.1.20", "prefix": 24, "dns": ["1.1.1.1"] * 4}, "dns", "at most 3"),
    ],
)
def test_a_bad_static_setting_says_which_field_and_why(body, field, words):
    found = problems({"method": "manual", **body})
    assert field in found and words in found[field], found


def test_every_problem_is_said_at_once():
    assert set(problems({"method": "manual", "address": "1.2.3", "prefix": 40, "gateway": "x", "dns": ["y"]})) == {
        "address", "prefix", "gateway", "dns"}  # fmt: skip


def test_an_unknown_method_is_refused():
    assert "method" in problems({"method": "bootp"})


def test_a_slash_31_point_to_point_takes_both_addresses():
    assert (
        ipv4({"method": "manual", "address": "10.0.0.0", "prefix": 31, "gateway": "10.0.0.1"}).address
        == "10.0.0.0"
    )


@pytest.mark.parametrize(
    ("value", "field"), [("", "ssid"), ("x" * 33, "ssid"), ("é" * 17, "ssid"), ("a\nb", "ssid")]
)
def test_bad_network_names(value, field):
    with pytest.raises(WifiRefusedError) as caught:
        ssid(value)
    assert caught.value.field == field


def test_wifi_keys():
    assert psk("correct horse") == "correct horse"
    assert psk("A" * 64) == "a" * 64
    for bad in ("short", "x" * 64, "x" * 65, "tab\there1"):
        with pytest.raises(WifiRefusedError) as caught:
            psk(bad)
        assert caught.value.field == "psk"
