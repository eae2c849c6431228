"""Phone core figures, each next to its baseline, measured in one run.

1. Steps per second of the pure machine over a realistic mix of events.
2. In the real-time runtime (the real Supervisor on the desktop fakes, a real asyncio loop):
   hook change -> tone start dispatched, and key -> display update, p50/p95/p99 over N events each;
   the baseline is the event loop alone: an asyncio.Queue hop from put_nowait to the consumer.

Run: .venv/bin/python bench/phone_core.py [--events 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
from dataclasses import replace

from appliance.config.load import Layer, contacts_of, load_layers, settings_of
from appliance.phone.events import (
    AccountChanged,
    CallId,
    CallState,
    CallStateChanged,
    HookChanged,
    KeyPressed,
    TimerExpired,
)
from appliance.phone.machine import step
from appliance.phone.model import AccountInfo, AccountKind, Contact, Phone, Registration, Settings
from appliance.runtime.call_log import CallLog
from appliance.runtime.config_store import ConfigStore
from appliance.runtime.supervisor import Supervisor
from appliance.sim import make_fakes


def machine_steps_per_second(seconds: float = 2.0) -> tuple[float, int]:
    contacts = (Contact("Alice", "a" * 40, speed_dial="2"),)
    phone = Phone.initial(Settings(), contacts)
    phone, _ = step(
        phone, AccountChanged(AccountInfo("jami", AccountKind.JAMI, "e" * 40, Registration.REGISTERED)), 0
    )
    cycle = [
        HookChanged(True, 0.0),
        KeyPressed("2"),
        KeyPressed("#"),
        CallStateChanged(CallId("out-1"), CallState.RINGING),
        CallStateChanged(CallId("out-1"), CallState.CURRENT),
        KeyPressed("5"),
        CallStateChanged(CallId("out-1"), CallState.HUNGUP),
        HookChanged(False, 1.0),
        TimerExpired("hook"),
    ]
    steps = 0
    start = time.perf_counter()
    base = phone
    while time.perf_counter() - start < seconds:
        phone = replace(base, next_call=1)
        for event in cycle:
            phone, _ = step(phone, event, 2.0 if isinstance(event, TimerExpired) else 1.0)
        steps += len(cycle)
    return steps / (time.perf_counter() - start), steps


def pct(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=1000, method="inclusive")[int(q * 10) - 1]


def row(name: str, samples_ns: list[int]) -> str:
    us = [s / 1000 for s in samples_ns]
    figures = "   ".join(f"p{q} {pct(us, q):8.1f} µs" for q in (50, 95, 99))
    return f"  {name:<38} {figures}   (n={len(us)})"


async def queue_hop_baseline(n: int) -> list[int]:
    queue: asyncio.Queue[int] = asyncio.Queue()
    out: list[int] = []

    async def consumer() -> None:
        while True:
            sent = await queue.get()
            out.append(time.perf_counter_ns() - sent)

    task = asyncio.get_running_loop().create_task(consumer())
    for _ in range(n):
        queue.put_nowait(time.perf_counter_ns())
        await asyncio.sleep(0.0002)
    task.cancel()
    return out


async def runtime_latencies(n: int) -> tuple[list[int], list[int]]:
    loaded = load_layers([Layer("defaults", {}), Layer("bench", {"hook": {"debounce_ms": 0}})])
    fakes = make_fakes(loaded)
    fakes.telephony.register_delay_s = 0.0
    # Hang-ups are decided after the flash window; shrink it (bench only) so 10,000 cycles fit in a minute.
    settings = replace(settings_of(loaded.config), flash_min_s=0.0005, flash_max_s=0.001, pulse_dialing=False)
    # The bench's flash window is below what the config allows: the phone is built by hand here.
    supervisor = Supervisor(
        fakes.ports(),
        Phone.initial(settings, contacts_of(loaded.config)),
        debounce_s=0.0,
        features=ConfigStore(list(loaded.layers), None),
        call_log=CallLog(None),
    )
    mark: dict[str, int] = {}
    hook_ns: list[int] = []
    key_ns: list[int] = []

    def on_tone(change: dict[str, object]) -> None:
        if change.get("tone") == "dial" and "hook" in mark:
            hook_ns.append(time.perf_counter_ns() - mark.pop("hook"))

    def on_display(_change: dict[str, object]) -> None:
        if "key" in mark:
            key_ns.append(time.perf_counter_ns() - mark.pop("key"))

    fakes.tones.watch(on_tone)
    fakes.display.watch(on_display)
    task = asyncio.get_running_loop().create_task(supervisor.run())
    await supervisor.started()
    await asyncio.sleep(0.05)
    gc.collect()
    for i in range(n):
        mark["hook"] = time.perf_counter_ns()
        fakes.hook.lift()
        await asyncio.sleep(0.0005)
        mark["key"] = time.perf_counter_ns()
        fakes.keypad.press(str(i % 10))
        await asyncio.sleep(0.0005)
        fakes.hook.replace()
        deadline = time.monotonic() + 2.0
        while supervisor.phone.off_hook:  # until the hang-up timer (1 ms) has run out, however loaded
            assert time.monotonic() < deadline, "the phone never went on hook"
            await asyncio.sleep(0.0005)
            await supervisor.idle()
    task.cancel()
    return hook_ns, key_ns


async def main_async(n: int) -> None:
    baseline = await queue_hop_baseline(n)
    hook_ns, key_ns = await runtime_latencies(n)
    print(f"Runtime latency, real-time asyncio loop, {n} events each (targets: hook->tone p99 <= 5 ms)")
    print(row("baseline: asyncio.Queue hop", baseline))
    print(row("hook change -> tone start dispatched", hook_ns))
    print(row("key -> display update (screen model)", key_ns))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()
    rate, steps = machine_steps_per_second()
    print(f"Pure machine: {rate:,.0f} steps/s ({steps:,} steps of a lift-dial-talk-hang cycle)")
    asyncio.run(main_async(args.events))


if __name__ == "__main__":
    main()
