"""Two namespaces joined by a link that loses and delays packets (tests/jami/relay.py), for the
voice benches: what a call over a poor Wi-Fi does, measured on this machine without netem."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

RELAY = Path(__file__).with_name("relay.py")
ALICE_SIDE, BOB_SIDE = "10.97.0.1", "10.97.0.2"


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def bring_up(ns: str, dev: str, address: str) -> None:
    """A host's side of a link in namespace ``ns``: loopback up, IPv6 off, ``address`` on ``dev``."""
    sh("ip", "-n", ns, "link", "set", "lo", "up")
    for knob in ("all", "default", "lo", dev):
        sh("ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{knob}.disable_ipv6=1")
    sh("ip", "-n", ns, "addr", "add", address, "dev", dev)
    sh("ip", "-n", ns, "link", "set", dev, "up")


class Link:
    """The relay process between the namespaces: change its impairment while a call runs."""

    def __init__(self, relay: subprocess.Popen[str]) -> None:
        self._relay = relay

    def impair(
        self, *, loss: float = 0.0, delay_ms: float = 0.0, jitter_ms: float = 0.0, in_order: bool = False
    ) -> dict[str, int]:
        """Set the impairment from now on; returns the packets forwarded and dropped so far."""
        return self._ask({"loss": loss, "delay_ms": delay_ms, "jitter_ms": jitter_ms, "in_order": in_order})

    def counts(self) -> dict[str, int]:
        return self._ask({})

    def _ask(self, change: dict[str, float | bool]) -> dict[str, int]:
        assert self._relay.stdin is not None and self._relay.stdout is not None
        self._relay.stdin.write(json.dumps(change) + "\n")
        self._relay.stdin.flush()
        return json.loads(self._relay.stdout.readline())


@contextlib.contextmanager
def impaired_lan(name: str) -> Iterator[tuple[str, str, Link]]:
    """Namespaces ``NAME-a`` (10.97.0.1) and ``NAME-b`` (10.97.0.2), IPv6 off, joined only by the
    relay's TUN pair; the relay and both namespaces are removed on the way out. ``name`` is at
    most 13 characters (an interface name is at most 15)."""
    assert len(name) <= 13, name
    names = (f"{name}-a", f"{name}-b")
    relay = subprocess.Popen(
        [sys.executable, str(RELAY), name], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    made: list[str] = []
    try:
        assert relay.stdout is not None
        if relay.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the link relay did not start (exit {relay.poll()})")
        for ns, address in zip(names, (ALICE_SIDE, BOB_SIDE), strict=True):
            sh("ip", "netns", "add", ns)
            made.append(ns)
            sh("ip", "link", "set", ns, "netns", ns)  # the TUN device is named as its namespace
            bring_up(ns, ns, f"{address}/24")
        yield names[0], names[1], Link(relay)
    finally:
        relay.kill()
        relay.wait()
        for stream in (relay.stdin, relay.stdout):
            if stream is not None:
                stream.close()
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], check=False)
