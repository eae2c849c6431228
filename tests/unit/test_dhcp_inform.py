"""The DHCPINFORM's packets (appliance/drivers/dhcp_inform.py); dnsmasq answering a real one is
tests/system/test_dhcp_provisioning.py."""

import socket

from appliance.config import dhcp
from appliance.drivers.dhcp_inform import MAGIC, Answer, hand_over, parse_ack, request

MAC = bytes.fromhex("b827eb0a0b0c")


def ack(xid: int, options: bytes, op: int = 2) -> bytes:
    """A server's reply: the header of the request turned into a reply, then ``options``."""
    _, packet = request(MAC, "10.98.0.2")
    header = bytearray(packet[:236])
    header[0] = op
    header[4:8] = xid.to_bytes(4, "big")
    return bytes(header) + MAGIC + options + b"\xff"


def test_the_inform_carries_the_address_the_mac_and_asks_for_66_160_43():
    xid, packet = request(MAC, "10.98.0.2")
    assert packet[0] == 1 and int.from_bytes(packet[4:8], "big") == xid
    assert socket.inet_ntoa(packet[12:16]) == "10.98.0.2"  # ciaddr: the leased address
    assert packet[28:34] == MAC
    options = packet[240:]
    assert options.startswith(bytes([53, 1, 8]))  # DHCPINFORM
    assert bytes([55, 3, 66, 160, 43]) in options


def test_only_an_ack_to_this_inform_is_taken_and_split_options_are_joined():
    vendor = bytes([1, 5]) + b"h.org"
    options = (
        bytes([53, 1, 5, 66, 4]) + b"prov" + bytes([66, 4]) + b".org" + bytes([43, len(vendor)]) + vendor
    )
    assert parse_ack(ack(7, options), 7) == {53: b"\x05", 66: b"prov.org", 43: vendor}  # RFC 3396
    assert parse_ack(ack(8, options), 7) is None  # another client's
    assert parse_ack(ack(7, bytes([53, 1, 6])), 7) is None  # a NAK
    assert parse_ack(ack(7, options, op=1), 7) is None  # a request, not a reply
    assert parse_ack(ack(7, bytes([53, 1, 5, 66, 40]) + b"short"), 7) is None  # truncated


def test_the_hand_over_is_what_the_phone_reads():
    vendor = bytes([1, 8]) + b"prov.org"
    text = hand_over("eth0", Answer("10.0.0.1", {66: b"tftp.example\x00", 43: vendor}))
    assert text.splitlines()[1:] == [
        "interface=eth0",
        "option_66=tftp.example",
        f"option_43={vendor.hex(':')}",
    ]
    server = dhcp.parse(text, "hand-over")
    assert server is not None
    assert (server.option, server.url) == ("66", "https://tftp.example/{mac}.toml")
    only_43 = dhcp.parse(hand_over("eth0", Answer("10.0.0.1", {43: vendor})), "hand-over")
    assert only_43 is not None and only_43.url == "https://prov.org/{mac}.toml"
