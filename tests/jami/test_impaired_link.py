"""The benches' lossy link does what it says: the loss rate, the delay window, and reordering
only when asked for (tests/jami/relay.py between two namespaces)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import textwrap

import pytest

from tests.jami.impaired import BOB_SIDE, impaired_lan

pytestmark = [
    pytest.mark.serial,  # asserts the delay window: a busy machine beside it stretches it
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespaces, TUN)"),
]

# Bob's side: each datagram carries its sequence number and the monotonic time it was sent (the
# clock is the machine's, shared by both namespaces); prints one JSON line when the sender is done.
RECEIVER = textwrap.dedent(
    f"""
    import json, socket, sys, time
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("{BOB_SIDE}", 9999))
    print("listening", flush=True)
    s.settimeout(10.0)  # the sender's start under ip netns exec, on a busy machine
    got = []
    while True:
        try:
            data = s.recv(100)
        except TimeoutError:
            break
        seq, sent = data.split()
        got.append((int(seq), time.monotonic() - float(sent)))
        s.settimeout(1.0)  # then: the sender is done once a second passes without a packet
    print(json.dumps(got), flush=True)
    """
)
SENDER = textwrap.dedent(
    f"""
    import socket, time
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for seq in range(400):
        s.sendto(f"{{seq}} {{time.monotonic()}}".encode(), ("{BOB_SIDE}", 9999))
        time.sleep(0.005)
    """
)


def send_across(a: str, b: str) -> list[tuple[int, float]]:
    receiver = subprocess.Popen(
        ["ip", "netns", "exec", b, sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True
    )
    try:
        assert receiver.stdout is not None
        assert receiver.stdout.readline().strip() == "listening"
        subprocess.run(["ip", "netns", "exec", a, sys.executable, "-c", SENDER], check=True, timeout=30)
        return [tuple(x) for x in json.loads(receiver.stdout.readline())]
    finally:
        receiver.kill()
        receiver.wait()
        receiver.stdout.close()


@pytest.mark.parametrize("in_order", [False, True])
def test_loss_delay_and_order(in_order):
    with impaired_lan(f"jtl{os.getpid() % 10000}") as (a, b, link):
        link.impair(loss=0.1, delay_ms=20, jitter_ms=40, in_order=in_order)
        got = send_across(a, b)
        counts = link.counts()
    seqs = [seq for seq, _ in got]
    assert 0.04 < 1 - len(got) / 400 < 0.18, len(got)  # 10 % lost, as a binomial draw of 400 allows
    assert counts["dropped"] >= 400 - len(got)
    delays = [delay for _, delay in got]
    assert min(delays) >= 0.019, min(delays)
    if in_order:
        assert seqs == sorted(seqs)
    else:
        assert seqs != sorted(seqs)  # 40 ms of jitter on 5 ms spacing reorders
    # At most 60 ms by design; the rest is a Python relay on a shared machine, so only the median
    # is held close, and the worst case loosely.
    print(f"median {statistics.median(delays) * 1000:.1f} ms, max {max(delays) * 1000:.1f} ms")
    assert statistics.median(delays) < 0.09, statistics.median(delays)  # 40-50 ms measured
    assert max(delays) < 0.5, max(delays)
