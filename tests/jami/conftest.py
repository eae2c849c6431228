"""Real Jami daemons for tests: a network namespace of our own (veth, IPv6 off, nothing beyond it),
a local DHT node, and daemons on private buses. Every process is stopped by PID, also on failure.

The namespace is needed twice over: ICE ignores loopback, and on kernels >= 6.9 this daemon's
bundled pjproject hangs listing IPv6 interfaces unless IPv6 is off (see shared notes).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.drivers.jami.client import JamiTelephony
from appliance.drivers.jami.farend import read_clock
from appliance.phone.events import AccountChanged
from appliance.phone.model import Mode, Registration
from tests.jami.impaired import ALICE_SIDE, Link, bring_up, impaired_lan, sh
from tests.net import stop
from tests.recorder import Recorder

NEEDS = ("ip", "dhtnode", "dbus-daemon")
requirements = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(not all(shutil.which(t) for t in NEEDS), reason="needs iproute2, dhtnode and dbus"),
    pytest.mark.skipif(not Path("/usr/libexec/jamid").exists(), reason="needs Debian's jami-daemon"),
]


@contextlib.contextmanager
def network_namespace(name: str) -> Iterator[str]:
    """A namespace with a veth pair (10.99.0.1, 10.99.0.2), IPv6 off, nothing beyond it."""
    sh("ip", "netns", "add", name)
    try:
        sh("ip", "-n", name, "link", "set", "lo", "up")
        sh("ip", "-n", name, "link", "add", "va", "type", "veth", "peer", "name", "vb")
        for knob in ("all", "default", "lo", "va", "vb"):
            sh("ip", "netns", "exec", name, "sysctl", "-qw", f"net.ipv6.conf.{knob}.disable_ipv6=1")
        sh("ip", "-n", name, "addr", "add", "10.99.0.1/24", "dev", "va")
        sh("ip", "-n", name, "addr", "add", "10.99.0.2/24", "dev", "vb")
        sh("ip", "-n", name, "link", "set", "va", "up")
        sh("ip", "-n", name, "link", "set", "vb", "up")
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@contextlib.contextmanager
def lan(prefix: str) -> Iterator[tuple[str, str]]:
    """Two hosts on one LAN and nothing else: a namespace each, joined by a veth pair
    (10.98.0.1, 10.98.0.2), IPv6 off, a multicast route as any LAN has (no default route here)."""
    names = (f"{prefix}-a", f"{prefix}-b")
    for name in names:
        sh("ip", "netns", "add", name)
    try:
        sh(
            "ip",
            "link",
            "add",
            "lana",
            "netns",
            names[0],
            "type",
            "veth",
            "peer",
            "name",
            "lanb",
            "netns",
            names[1],
        )
        for name, dev, address in ((names[0], "lana", "10.98.0.1/24"), (names[1], "lanb", "10.98.0.2/24")):
            bring_up(name, dev, address)
            sh("ip", "-n", name, "route", "add", "224.0.0.0/4", "dev", dev)
        yield names
    finally:
        for name in names:
            subprocess.run(["ip", "netns", "del", name], check=False)


@contextlib.contextmanager
def dht_node(netns: str, log_path: Path, port: int = 4222, address: str = "10.99.0.1") -> Iterator[str]:
    """Debian's dhtnode in the namespace (reached at ``address``), stopped by PID."""
    with log_path.open("wb") as log:
        node = subprocess.Popen(
            ["ip", "netns", "exec", netns, "dhtnode", "-s", "-p", str(port)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip
        try:
            yield f"{address}:{port}"
        finally:
            stop(node)


@pytest.fixture(scope="session")
def netns() -> Iterator[str]:
    with network_namespace(f"japp-{os.getpid()}") as name:
        yield name


@pytest.fixture
def dht(netns: str, tmp_path: Path) -> Iterator[str]:
    # A DHT of its own for every test: a shared node keeps the stopped daemons of earlier tests in
    # its routing table, and lookups that wander to them failed calls with "no devices found".
    with dht_node(netns, tmp_path / "dhtnode.log") as address:
        yield address


@contextlib.asynccontextmanager
async def jami(netns: str, dht: str, root: Path, name: str) -> AsyncIterator[tuple[JamiTelephony, Recorder]]:
    """A started JamiTelephony whose account is registered and announced."""
    core = JamiTelephony(root, display_name=name, bootstrap=[dht], wrapper=["ip", "netns", "exec", netns])
    events = Recorder()
    try:
        await core.start(events)
        await events.wait_for(
            lambda e: isinstance(e, AccountChanged) and e.account.registration is Registration.REGISTERED, 60
        )
        yield core, events
    finally:
        await core.stop()
        assert core.daemon.pids() == []


class Appliance:
    """A whole phone: fake handset hardware, the real runtime, and a real Jami daemon."""

    def __init__(self, sim, core: JamiTelephony, task: asyncio.Task[None]) -> None:
        self.sim = sim
        self.core = core
        self.task = task

    @property
    def phone(self):
        return self.sim.supervisor.phone

    async def until(self, predicate, timeout: float = 30.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate(self):
                await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def appliance(
    netns: str,
    dht: str,
    root: Path,
    name: str,
    table: dict | None = None,
    *,
    audio: bool = False,
    pulse: Any = None,
    daemon_env: dict[str, str] | None = None,
    own_dht_node: bool = False,
    loss_recovery: bool = True,
) -> AsyncIterator[Appliance]:
    """An appliance on the desktop board driving a real daemon; ``audio`` gives the daemon null
    sinks, ``pulse`` a PulseAudio of the test's making (for instance in front of an ALSA device)."""
    from appliance.assembly import assemble
    from appliance.config.load import Layer, load_layers
    from appliance.drivers.jami.audio import PrivatePulseAudio
    from appliance.drivers.jami.client import SipAccountSpec
    from appliance.sim import Simulation

    layers = [
        Layer("defaults", {}),
        Layer("test", {"board": {"simulated": True}, "phone": {"display_name": name}, **(table or {})}),
    ]
    loaded = load_layers(layers)

    if audio and pulse is None:
        pulse = PrivatePulseAudio(root / "pulse")
    sip = tuple(
        SipAccountSpec(a.id, a.username, a.password, a.registrar, a.local_port)
        for a in loaded.config.sip_accounts
    )
    node = None
    if own_dht_node:
        from appliance.drivers.jami.dhtnode import DhtNodeProcess

        node = DhtNodeProcess(root, 4222, [dht] if dht else [], wrapper=["ip", "netns", "exec", netns])
    core = JamiTelephony(
        root,
        display_name=name,
        bootstrap=[dht] if dht else [],
        dht_node=node,
        wrapper=["ip", "netns", "exec", netns],
        pulse=pulse,
        sip_accounts=sip,
        daemon_env=daemon_env,
        noise_reduction=loaded.config.audio.noise_reduction,
        loss_recovery=loss_recovery,
    )
    # The phone as `appliance run` assembles it, with this test's daemon (in its namespace) as the core.
    sim = Simulation(assemble(layers, None, telephony=core))
    supervisor = sim.supervisor
    task = asyncio.get_running_loop().create_task(supervisor.run())
    phone = Appliance(sim, core, task)
    try:
        await supervisor.started()
        await phone.until(
            lambda p: any(a.registration is Registration.REGISTERED for a in p.phone.accounts), 60
        )
        yield phone
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert core.daemon.pids() == []
        assert node is None or node.pids() == []


def hearing(phone: Appliance) -> bool:
    """Whether the far end's audio reaches this phone's daemon now (its media clock says so; a
    daemon without a sound device decodes nothing)."""
    now = time.monotonic()
    return any(s.heard and now - s.heard < 0.5 for s in read_clock(phone.core.daemon.media_clock))


async def dial(caller: Appliance, done, keys: str = "2#", attempts: int = 3) -> None:
    """The caller dials until ``done(caller)`` holds (the far bell rings, or busy tone...).

    A fresh device's announcement takes a moment to spread through the DHT: a call placed in that
    moment fails in the daemon with "no devices found" (seen once in ~10 runs), and the phone
    rightly gives reorder with "Call failed". A person would hang up and dial again; so does this
    helper, at most ``attempts`` times, and only on that failure.
    """
    for attempt in range(attempts):
        caller.sim.fakes.hook.lift()
        caller.sim.fakes.keypad.press(keys)
        await caller.until(lambda p: done(p) or p.phone.notice == "Call failed", 30)
        if done(caller):
            return
        caller.sim.fakes.hook.replace()
        await caller.until(lambda p: p.phone.mode is Mode.IDLE)
        if attempt < attempts - 1:
            await asyncio.sleep(2.0)
    raise AssertionError(f"{caller.core.display_name}'s call never got through in {attempts} attempts")


async def dial_until_ringing(caller: Appliance, callee: Appliance, keys: str = "2#") -> None:
    await dial(caller, lambda p: callee.sim.fakes.ringer.ringing, keys)


async def call_and_answer(caller: Appliance, callee: Appliance, keys: str = "2#") -> None:
    """The caller dials (a speed dial to the callee), the callee's bell rings, its handset is lifted,
    and the caller is in the call with its timer running."""
    await dial_until_ringing(caller, callee, keys)
    callee.sim.fakes.hook.lift()
    await caller.until(
        lambda p: p.phone.mode is Mode.TALKING and p.phone.active_call.connected_at is not None
    )


@contextlib.asynccontextmanager
async def alice_and_bob(
    root: Path, prefix: str, table: dict | None = None, **options: Any
) -> AsyncIterator[tuple[Appliance, Appliance]]:
    """For the benches: a network namespace of their own with a DHT node, Bob's and Alice's
    appliances on it (``options`` as :func:`appliance` takes them), Bob on Alice's speed dial 2."""
    from appliance.phone.events import ContactsChanged
    from appliance.phone.model import Contact

    with network_namespace(f"{prefix}-{os.getpid()}") as ns, dht_node(ns, root / "dht.log") as dht:
        async with (
            appliance(ns, dht, root / "b", "Bob", table, **options) as b,
            appliance(ns, dht, root / "a", "Alice", table, **options) as a,
        ):
            a.sim.supervisor.post(ContactsChanged((Contact("Bob", b.core.jami_id, speed_dial="2"),)))
            yield a, b


@contextlib.asynccontextmanager
async def alice_and_bob_apart(
    root: Path, prefix: str, table: dict | None = None, **options: Any
) -> AsyncIterator[tuple[Appliance, Appliance, Link]]:
    """For the benches: Alice and Bob each in a namespace of their own, joined only by a link whose
    loss and jitter the bench sets (:func:`tests.jami.impaired.impaired_lan`); the DHT node is on
    Alice's side, so Bob's DHT traffic crosses the link too. Bob on Alice's speed dial 2."""
    from appliance.phone.events import ContactsChanged
    from appliance.phone.model import Contact

    with (
        impaired_lan(f"{prefix}{os.getpid() % 10000}") as (ns_a, ns_b, link),
        dht_node(ns_a, root / "dht.log", address=ALICE_SIDE) as dht,
    ):
        async with (
            appliance(ns_b, dht, root / "b", "Bob", table, **options) as b,
            appliance(ns_a, dht, root / "a", "Alice", table, **options) as a,
        ):
            a.sim.supervisor.post(ContactsChanged((Contact("Bob", b.core.jami_id, speed_dial="2"),)))
            yield a, b, link
