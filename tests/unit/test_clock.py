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
