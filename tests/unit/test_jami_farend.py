"""When the adapter asks the daemon whether a quiet far end is still there (farend.py)."""

import struct

from appliance.drivers.jami.farend import FarEndWatch, Stream, read_clock


def test_a_stream_quiet_for_long_enough_is_asked_about_once_per_quiet_spell():
    watch = FarEndWatch(quiet_s=1.5, spacing_s=4.0)
    talking = Stream(0, started=100.0, heard=110.0)
    assert watch.due([talking], 111.0) is None  # 1 s of quiet: a pause between packets, not yet
    assert watch.due([talking], 111.6) == talking
    assert watch.due([talking], 120.0) is None  # answered or not, this spell was asked about
    back = Stream(0, started=100.0, heard=121.0)  # packets again, then quiet again
    assert watch.due([back], 122.0) is None
    assert watch.due([back], 122.6) == back
    assert watch.beacons == 2


def test_a_stream_that_never_had_a_packet_is_quiet_since_it_began():
    watch = FarEndWatch(quiet_s=1.5)
    silent = Stream(3, started=50.0, heard=None)
    assert watch.due([silent], 51.0) is None
    assert watch.due([silent], 51.5) == silent


def test_beacons_are_spaced_so_that_a_second_never_counts_against_the_first():
    watch = FarEndWatch(quiet_s=1.5, spacing_s=4.0)
    first, second = Stream(0, 0.0, 10.0), Stream(1, 0.0, 11.0)
    assert watch.due([first, second], 11.6) == first
    assert watch.due([first, second], 13.0) is None  # the second is quiet too, but too soon
    assert watch.due([first, second], 15.6) == second


def test_a_new_call_in_a_freed_slot_is_a_stream_of_its_own():
    watch = FarEndWatch(quiet_s=1.5, spacing_s=0.0)
    old = Stream(0, started=0.0, heard=10.0)
    assert watch.due([old], 12.0) == old
    new = Stream(0, started=20.0, heard=10.0)  # torn read: the new start, the old stamp
    assert watch.due([new], 21.0) is None  # quiet since it began, 1 s ago
    assert watch.due([new], 21.6) == new


def test_the_clock_file_is_read_as_the_library_writes_it(tmp_path):
    clock = tmp_path / "media-clock"
    slots = [(0, 0)] * 32
    slots[2] = (5_000_000_000, 0)
    slots[7] = (6_000_000_000, 7_500_000_000)
    clock.write_bytes(b"".join(struct.pack("=qq", *s) for s in slots))
    assert read_clock(clock) == [Stream(2, 5.0, None), Stream(7, 6.0, 7.5)]
