"""The runtime's clock reading: the time of day and whether the kernel calls the clock synchronised."""

import ctypes
import time

from appliance.runtime import clock


def test_the_status_field_sits_where_the_kernel_writes_it():
    # struct timex (linux/timex.h): modes, then four longs, then status.
    assert clock._Timex.status.offset == 4 * ctypes.sizeof(ctypes.c_long) + max(
        4, ctypes.sizeof(ctypes.c_long)
    )
    assert ctypes.sizeof(clock._Timex) >= 208  # room for all of it on 64-bit Linux


def test_a_reading_is_the_local_time_of_day_and_the_kernels_word_on_it():
    before = time.localtime()
    read = clock.read_local_clock()
    seconds = before.tm_hour * 3600 + before.tm_min * 60 + before.tm_sec
    assert 0 <= read.seconds - seconds <= 1 or read.seconds < 2  # (or midnight passed between)
    assert read.synced is clock.clock_synchronized()


def test_timesyncds_flag_says_synchronised_without_asking_the_kernel(tmp_path):
    flag, status = tmp_path / "synchronized", tmp_path / "status"
    status.write_text("Name:\tappliance\nSeccomp:\t2\nSeccomp_filters:\t3\n")  # the unit's filter
    assert clock.clock_synchronized(flag, status) is False  # no flag yet; adjtimex never called
    flag.touch()  # systemd-timesyncd has reached an NTP server this boot
    assert clock.clock_synchronized(flag, status) is True


def test_under_a_seccomp_filter_adjtimex_is_never_called(tmp_path, monkeypatch):
    """ProtectClock=yes kills the process on adjtimex/clock_adjtime, even to read (SIGSYS)."""
    called = []
    monkeypatch.setattr(clock.ctypes, "CDLL", lambda *a, **k: called.append(a))
    for text in ("Seccomp:\t2\n", "Seccomp:\t1\n", "no such line\nSeccomp:\n"):
        (tmp_path / "status").write_text(text)
        assert clock.clock_synchronized(tmp_path / "absent", tmp_path / "status") is False
    assert clock.clock_synchronized(tmp_path / "absent", tmp_path / "no-status") is False
    assert called == []
    (tmp_path / "status").write_text("Seccomp:\t0\n")  # no filter: the kernel is asked
    clock.clock_synchronized(tmp_path / "absent", tmp_path / "status")
    assert len(called) == 1
