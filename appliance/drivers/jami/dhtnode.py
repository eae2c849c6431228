"""The device's own OpenDHT node, for networks with no route to the public Jami nodes.

It finds the other phones' nodes on the LAN by OpenDHT's multicast peer discovery, joins any
configured bootstrap nodes (or the public ones) when they can be reached, and the Jami daemon
bootstraps through it at ``127.0.0.1:PORT``: phones on one LAN then find each other without the
internet. It runs as its own process (``appliance dht-node``): the binding costs ~20 MB of memory
that the supervisor must not carry, and its blocking calls stay away from the phone's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from appliance.durable import atomic_write

from .daemon import stop_process

log = logging.getLogger(__name__)

PUBLIC_BOOTSTRAP = ["bootstrap.jami.net:4222"]
STATUS_EVERY_S = 10.0


def serve(port: int, bootstrap: list[str], *, discovery: bool, status: Path | None) -> int:
    """Run a node until SIGTERM or SIGINT (the body of ``appliance dht-node``)."""
    import opendht  # noqa: PLC0415 - the vendor binding, in this process only

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    config = opendht.DhtConfig()
    config.setPeerDiscovery(discovery, discovery)  # find LAN peers, and be found by them
    node = opendht.DhtRunner()
    node.run(port=port, config=config)
    log.info("DHT node %s on UDP port %d (LAN discovery %s)", node.getNodeId(), port, discovery)
    for host, _, service in (entry.rpartition(":") for entry in bootstrap or PUBLIC_BOOTSTRAP):
        try:
            node.bootstrap(host, service)
        except Exception:  # noqa: BLE001 - an unreachable or unresolvable node is not fatal here
            log.warning("DHT bootstrap %s:%s not reachable now", host, service)
    try:
        reports = 0
        while not stop.is_set():
            if status is not None:
                _write_status(status, str(node.getNodeId()), port, _good_nodes(node))
            reports += 1
            stop.wait(1.0 if reports < 10 else STATUS_EVERY_S)  # often while peers are found
    finally:
        # shutdown() then join() hangs on a connected node unless shutdown's callback is awaited.
        done = threading.Event()
        node.shutdown(lambda *_: done.set())
        done.wait(5)
        node.join()
    return 0


def _good_nodes(node: object) -> int:
    """Nodes known good in the IPv4 routing table (from the binding's table dump: its stats calls
    are not documented, and no Python callbacks are in flight here, so the dump cannot deadlock)."""
    text = node.getRoutingTablesLog(socket.AF_INET)  # type: ignore[attr-defined]
    return sum(1 for line in text.splitlines() if line.strip().startswith("Node ") and "[good]" in line)


def _write_status(path: Path, node_id: str, port: int, nodes: int) -> None:
    table = {"node_id": node_id, "port": port, "nodes": nodes, "updated": time.time()}
    atomic_write(path, json.dumps(table).encode(), mode=0o644)


def read_status(path: Path, max_age_s: float = 3 * STATUS_EVERY_S) -> dict[str, object] | None:
    """The node's last report, or None if it is missing or stale (the node is not running)."""
    try:
        table = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(table, dict) or time.time() - float(table.get("updated", 0)) > max_age_s:
        return None
    return table


class DhtNodeProcess:
    """``appliance dht-node`` as a child process: started before the daemon, restarted if it dies,
    stopped by PID. ``wrapper`` prefixes the command (a network namespace in tests); ``external``:
    another supervisor (systemd) runs it, this one only knows where it listens."""

    def __init__(
        self,
        root: Path,
        port: int,
        bootstrap: list[str],
        *,
        discovery: bool = True,
        wrapper: list[str] | None = None,
        external: bool = False,
    ) -> None:
        self.external = external
        self.root = root
        self.port = port
        self.bootstrap = bootstrap
        self.discovery = discovery
        self.wrapper = wrapper or []
        self.status_path = root / "dhtnode.json"
        self._proc: asyncio.subprocess.Process | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def address(self) -> str:
        """Where the daemon on this device joins it."""
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "appliance", "dht-node", "--port", str(self.port)]
        cmd += ["--status", str(self.status_path)]
        if self.bootstrap:
            cmd += ["--bootstrap", ",".join(self.bootstrap)]
        if not self.discovery:
            cmd.append("--no-discovery")
        return [*self.wrapper, *cmd]

    async def start(self) -> None:
        if self.external:
            return
        self._stopping = False
        with contextlib.suppress(FileNotFoundError):
            self.status_path.unlink()
        await self._spawn()
        # Ready once it reports: the daemon's first bootstrap must find it listening.
        for _ in range(200):
            if read_status(self.status_path) is not None:
                break
            if self._proc is not None and self._proc.returncode is not None:
                raise RuntimeError(f"the DHT node exited at start (see {self.root / 'log' / 'dhtnode.log'})")
            await asyncio.sleep(0.05)
        self._watcher = asyncio.get_running_loop().create_task(self._watch(), name="dhtnode-watch")

    async def _spawn(self) -> None:
        logs = self.root / "log"
        logs.mkdir(parents=True, exist_ok=True)
        with (logs / "dhtnode.log").open("ab") as out:
            self._proc = await asyncio.create_subprocess_exec(
                *self.command(), stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out
            )
        log.info("DHT node started (pid %s) on port %d", self._proc.pid, self.port)

    async def _watch(self) -> None:
        while not self._stopping and self._proc is not None:
            code = await self._proc.wait()
            if self._stopping:
                return
            log.error("DHT node exited (%s); restarting it", code)
            await asyncio.sleep(1.0)
            await self._spawn()

    async def stop(self) -> None:
        self._stopping = True
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        proc, self._proc = self._proc, None
        await stop_process(proc, 8)  # a connected node takes a moment to leave the DHT

    def pids(self) -> list[int]:
        return [self._proc.pid] if self._proc is not None and self._proc.returncode is None else []
