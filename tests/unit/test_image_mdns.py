"""The image test's mDNS client: its question on the wire, and answers (with name compression) read."""

import struct

import pytest

from tests.image.mdns import PTR, SRV, A, Record, encode_name, question, records


def response(*answers: bytes, flags: int = 0x8400) -> bytes:
    return struct.pack(">6H", 0, flags, 0, len(answers), 0, 0) + b"".join(answers)


def rr(name: bytes, rtype: int, data: bytes) -> bytes:
    return name + struct.pack(">2HIH", rtype, 0x8001, 120, len(data)) + data


def test_question_is_a_qu_query_for_the_name():
    packet = question("kitchen-phone.local", A)
    assert packet[:12] == struct.pack(">6H", 0, 0, 1, 0, 0, 0)
    assert packet[12:] == b"\x0dkitchen-phone\x05local\x00" + struct.pack(">2H", 1, 0x8001)


def test_a_ptr_and_srv_with_compression():
    host = encode_name("kitchen-phone.local")
    # The A record's name is at offset 12; the others point back to its labels.
    a = rr(host, A, bytes([10, 13, 0, 15]))
    service = encode_name("_http._tcp.local")
    ptr_start = 12 + len(a)
    instance = b"\x0dkitchen-phone" + struct.pack(">H", 0xC000 | ptr_start)
    ptr = rr(service, PTR, instance)
    srv_target = struct.pack(">H", 0xC000 | 12)  # kitchen-phone.local, compressed
    srv = rr(instance, SRV, struct.pack(">3H", 0, 0, 80) + srv_target)
    found = records(response(a, ptr, srv))
    assert found[0] == Record("kitchen-phone.local", A, "10.13.0.15")
    assert found[1] == Record("_http._tcp.local", PTR, "kitchen-phone._http._tcp.local")
    assert found[2] == Record("kitchen-phone._http._tcp.local", SRV, "80 kitchen-phone.local")


def test_queries_and_short_packets_are_not_answers():
    assert records(question("kitchen-phone.local", A)) == []
    assert records(b"\0\0") == []


def test_a_pointer_loop_is_an_error_not_a_hang():
    looped = response(struct.pack(">H", 0xC000 | 12) + struct.pack(">2HIH", A, 1, 1, 4) + bytes(4))
    with pytest.raises(ValueError, match="loop"):
        records(looped)


def test_a_label_too_long_is_refused():
    with pytest.raises(ValueError, match="bad DNS label"):
        encode_name("x" * 64 + ".local")
