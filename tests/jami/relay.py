"""A lossy, jittery link between two network namespaces, in user space (this kernel has no netem).

Run as its own process (root): it opens two TUN devices, ``NAME-a`` and ``NAME-b``, prints
``ready``, and copies every IP packet from one to the other: each packet is dropped with
probability ``loss``, otherwise delivered ``delay_ms`` plus a uniform 0..``jitter_ms`` later, each
packet on its own draw, so packets reorder, as with netem's ``delay D J`` — or, with ``"in_order":
true``, never sooner than the packet before it in the same direction (a Wi-Fi link's retries
delay what follows, they do not reorder it). The caller moves the devices into namespaces and
gives them addresses. Lines on stdin change the impairment while it runs (``{"loss": 0.05,
"delay_ms": 20, "jitter_ms": 40, "in_order": false, "seed": 1}``); each is answered with the
counts so far as one JSON line. End of stdin stops it.
"""

from __future__ import annotations

import fcntl
import heapq
import json
import os
import random
import selectors
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main() -> None:
    name = sys.argv[1]
    a, b = tun(f"{name}-a"), tun(f"{name}-b")
    other = {a: b, b: a}
    loss, delay, jitter, in_order = 0.0, 0.0, 0.0, False
    last_due = {a: 0.0, b: 0.0}  # per direction, by the device it goes out of
    rng = random.Random(1)
    counts = {"forwarded": 0, "dropped": 0}
    queue: list[tuple[float, int, int, bytes]] = []  # (due, order, fd, packet)
    order = 0
    selector = selectors.DefaultSelector()
    selector.register(a, selectors.EVENT_READ)
    selector.register(b, selectors.EVENT_READ)
    selector.register(sys.stdin, selectors.EVENT_READ)
    print("ready", flush=True)
    while True:
        timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else None
        for key, _ in selector.select(timeout):
            if key.fileobj is sys.stdin:
                line = sys.stdin.readline()
                if not line:
                    return
                change = json.loads(line)
                loss = float(change.get("loss", loss))
                delay = float(change.get("delay_ms", delay * 1000)) / 1000
                jitter = float(change.get("jitter_ms", jitter * 1000)) / 1000
                in_order = bool(change.get("in_order", in_order))
                if "seed" in change:
                    rng.seed(change["seed"])
                print(json.dumps(counts), flush=True)
                continue
            fd = key.fd
            while True:
                try:
                    packet = os.read(fd, 65536)
                except BlockingIOError:
                    break
                if loss and rng.random() < loss:
                    counts["dropped"] += 1
                    continue
                order += 1
                due = time.monotonic() + delay + (rng.uniform(0, jitter) if jitter else 0.0)
                if in_order:
                    due = last_due[other[fd]] = max(due, last_due[other[fd]])
                heapq.heappush(queue, (due, order, other[fd], packet))
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, fd, packet = heapq.heappop(queue)
            try:
                os.write(fd, packet)
                counts["forwarded"] += 1
            except OSError:  # the far device is down for a moment (namespace set-up): as lost
                counts["dropped"] += 1


if __name__ == "__main__":
    main()
