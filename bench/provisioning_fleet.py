"""A fleet of phones, each its own process, resyncing from one real nginx: is there a thundering herd?

Each phone is a process of its own, assembled as ``appliance run`` assembles it (the desktop board's
supervisor on fakes, its config store and data directory, the provisioning client with its aiohttp
fetches) but with a MAC address of its own. All of them start provisioning at the same instant, as
after a power cut, and fetch a common file and their own from one nginx over HTTPS with a CA made
here (tests/nginx.py). nginx's access log gives each request's time to the millisecond.

Two fleets run side by side: one with the jitter as given, and a control with ``jitter_s = 0``, which
shows what a herd looks like (so the measure is seen to find one when there is one).

Reported per fleet: requests (200 and 304), the busiest 1 s window of phones asking at the start and
at the resync, and the spread. Asserted: every phone took its profile; the jittered fleet never had
more than a third of its phones ask in the same second; the control had most of them.

Run (about 2.5 min): flock /tmp/heavy.lock .venv/bin/python bench/provisioning_fleet.py [--phones 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))  # tests.nginx: the same nginx as the tests'

from appliance.assembly import assemble
from appliance.config.load import Layer
from appliance.config.store import DataConfig
from tests.net import stop
from tests.nginx import Authority, serving

FIRST_FETCH_MAX_S = 30.0  # appliance.runtime.provisioning: the start's fetch within min(jitter, this)
COMMON = '[dialplan]\nmap = "*xx|[2-9]xxx|0xxxxxxxxx"\n'


# --- one phone (a child process) --------------------------------------------------------------


async def phone(data: Path, mac: str, table: dict) -> None:
    board = {"board": {"name": "desktop", "simulated": True}, **table}
    layers = [Layer("defaults", {}), Layer("board", board), Layer("data", DataConfig(data).read())]
    assembly = assemble(layers, data, version="bench", mac=mac)
    loop = asyncio.get_running_loop()
    task = loop.create_task(assembly.supervisor.run())
    await assembly.supervisor.started()
    print("ready", flush=True)
    go = float(await loop.run_in_executor(None, sys.stdin.readline))  # the fleet's common instant
    await asyncio.sleep(max(0.0, go - time.time()))
    assembly.provisioning.start()
    stopping = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    await stopping.wait()
    provisioning = assembly.provisioning
    await provisioning.stop()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    result = {"mac": mac, "display_name": assembly.store.config.phone.display_name,
              "fetches": provisioning.fetches, "not_modified": provisioning.not_modified}  # fmt: skip
    print(json.dumps(result), flush=True)


# --- the fleet ----------------------------------------------------------------------------------


def busiest(times: list[float], window_s: float = 1.0) -> int:
    """The most requests in any window of ``window_s`` seconds."""
    times = sorted(times)
    return max((sum(1 for u in times[i:] if u < t + window_s) for i, t in enumerate(times)), default=0)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--phones", type=int, default=20, help="phones in each fleet")
    parser.add_argument("--interval", type=int, default=60, help="provisioning.interval_s (60 is the least)")
    parser.add_argument("--jitter", type=int, default=30, help="provisioning.jitter_s of the jittered fleet")
    parser.add_argument("--phone", nargs=3, metavar=("DATA", "MAC", "TABLE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phone:
        data, mac, table = args.phone
        asyncio.run(phone(Path(data), mac, json.loads(table)))
        return 0

    fleets = {"jittered": (0, args.jitter), "control (jitter 0)": (1, 0)}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        ca = Authority(root, "fleet-ca")
        with serving(root / "nginx", ca) as nginx:
            (nginx.www / "common.toml").write_text(COMMON)
            children: list[tuple[str, subprocess.Popen[str]]] = []
            try:
                for name, (prefix, jitter) in fleets.items():
                    table = {"provisioning": {"url": f"{nginx.url}/{{mac}}.toml", "common_url": f"{nginx.url}/common.toml",
                                              "ca_file": str(ca.pem.cert), "interval_s": args.interval,
                                              "jitter_s": jitter}}  # fmt: skip
                    for i in range(args.phones):
                        mac = f"b827eb{prefix:02x}{i:04x}"
                        (nginx.www / f"{mac}.toml").write_text(f'[phone]\ndisplay_name = "Phone {i}"\n')
                        data = root / "phones" / mac
                        data.mkdir(parents=True)
                        command = [sys.executable, __file__, "--phone", str(data), mac, json.dumps(table)]
                        child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                                 text=True)  # fmt: skip
                        children.append((name, child))
                for _, child in children:
                    assert child.stdout is not None
                    assert child.stdout.readline().strip() == "ready"
                go = time.time() + 0.5
                for _, child in children:
                    assert child.stdin is not None
                    child.stdin.write(f"{go}\n")
                    child.stdin.flush()
                # Every phone's first fetch and one resync: the first within min(jitter, 30 s), the
                # next an interval plus up to the jitter after it.
                first = min(args.jitter, FIRST_FETCH_MAX_S)
                time.sleep(0.5 + first + args.interval + args.jitter + 3)
            finally:
                results = []
                for _, child in children:
                    stop(child, 10)
                    assert child.stdout is not None
                    lines = child.stdout.read().strip().splitlines()
                    results.append(json.loads(lines[-1]) if lines else None)
            requests = nginx.timed()
    return report(fleets, args, go, requests, results)


def report(fleets: dict, args: argparse.Namespace, go: float, requests: list, results: list) -> int:
    ok = True
    print(f"{args.phones} phones a fleet, interval {args.interval} s, all started at once\n")
    print(f"{'fleet':20} {'200':>5} {'304':>5} {'start: busiest 1 s':>19} {'spread':>7} "
          f"{'resync: busiest 1 s':>20} {'spread':>7}")  # fmt: skip
    for name, (prefix, _) in fleets.items():
        mine = f"/b827eb{prefix:02x}"
        device = [(path, status, at) for path, status, at in requests if path.startswith(mine)]
        statuses = [status for _, status, _ in device]
        by_phone: dict[str, list[float]] = {}
        for path, _, at in device:
            by_phone.setdefault(path, []).append(at - go)
        starts = [asked[0] for asked in by_phone.values()]
        resyncs = [asked[1] for asked in by_phone.values() if len(asked) > 1]
        row = (busiest(starts), max(starts) - min(starts), busiest(resyncs),
               max(resyncs, default=0) - min(resyncs, default=0))  # fmt: skip
        print(f"{name:20} {statuses.count(200):5} {statuses.count(304):5} {row[0]:19} {row[1]:6.1f}s "
              f"{row[2]:20} {row[3]:6.1f}s")  # fmt: skip
        if len(by_phone) != args.phones or len(resyncs) != args.phones:
            print(f"  FAIL: {len(by_phone)} phones asked, {len(resyncs)} resynced (of {args.phones})")
            ok = False
        herd = max(row[0], row[2])
        if name == "jittered" and herd > args.phones / 3:
            print(f"  FAIL: {herd} of {args.phones} phones asked in the same second")
            ok = False
        if name != "jittered" and herd < args.phones * 0.75:
            print(f"  FAIL: the control shows no herd ({herd}): the measure would not see one")
            ok = False
    taken = [r for r in results if r and r["display_name"].startswith("Phone ")]
    print(f"\nprofiles taken: {len(taken)} of {len(results)} phones")
    ok = ok and len(taken) == len(results)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
