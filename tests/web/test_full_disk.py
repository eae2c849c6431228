"""A full data partition, for real: a small tmpfs filled to the last byte (needs root to mount).

Clear refusals (503 with plain words, never a 500), a notice on the page and the display, no
crash, nothing acknowledged that was lost, and a fresh start that still gives dial tone.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.config.store import DATA_FILE
from appliance.phone.model import Mode

from .conftest import running

APPLIANCE = Path(sys.executable).with_name("appliance")
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


class Partition:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.filler = root / "filler"

    def fill(self) -> None:
        """Whole pages first, then the last bytes, so not even a small write fits."""
        for name, size in (("filler", 4096), ("filler2", 1)):
            with contextlib.suppress(OSError), (self.root / name).open("ab", buffering=0) as handle:
                while True:
                    handle.write(b"\0" * size)

    def free(self) -> None:
        for name in ("filler", "filler2"):
            with contextlib.suppress(FileNotFoundError):
                (self.root / name).unlink()


@pytest.fixture
def partition(tmp_path: Path) -> Iterator[Partition]:
    root = tmp_path / "data-partition"
    root.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(root)], check=True)
    try:
        yield Partition(root)
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)


def test_the_filler_really_fills_it(partition):
    partition.fill()
    with pytest.raises(OSError) as caught:
        (partition.root / "x").write_bytes(b"y" * 100)
    assert caught.value.errno == errno.ENOSPC


async def test_saves_are_refused_in_plain_words_and_nothing_is_claimed(partition):
    data = partition.root / "data"
    async with running(data) as stack, stack.admin() as c:
        async with c.put("/api/v1/settings", json={"phone": {"country": "DE"}}) as r:
            assert r.status == 200
        async with c.post(
            "/api/v1/contacts", json={"name": "Alice", "uri": "a" * 40, "speed_dial": "2"}
        ) as r:
            assert r.status in (200, 201)
        partition.fill()

        async with c.post("/api/v1/contacts", json={"name": "Bob", "uri": "sip:bob@10.0.0.2"}) as r:
            assert r.status == 503
            assert "the data partition is full" in (await r.json())["error"]
        async with c.put("/api/v1/settings", json={"phone": {"country": "GB"}}) as r:
            assert r.status == 503
            assert "the data partition is full" in (await r.json())["error"]
        assert stack.store.config.phone.country == "DE"  # nothing changed that was not saved

        async with c.get("/api/v1/status") as r:
            notices = (await r.json())["notices"]
        assert any("full" in n["text"] for n in notices)

        # *78: not the confirmation tone and "on", but reorder, undone, and why on the display
        stack.fakes.hook.lift()
        await asyncio.sleep(0.2)
        stack.fakes.keypad.press("*78")
        await asyncio.sleep(0.5)
        phone = stack.supervisor.phone
        assert phone.mode is Mode.REORDER
        assert phone.dnd is False
        assert "Not saved" in stack.supervisor.screen.lines[1]
        stack.fakes.hook.replace()
        await asyncio.sleep(1.2)

        # a call and its hang-up: the call log cannot be written, the phone goes on
        stack.fakes.hook.lift()
        await asyncio.sleep(0.2)
        stack.fakes.keypad.press("2#")
        await asyncio.sleep(0.5)
        stack.fakes.telephony.remote_answer()
        await asyncio.sleep(0.3)
        stack.fakes.hook.replace()
        await asyncio.sleep(1.2)
        assert stack.supervisor.phone.mode is Mode.IDLE
        assert stack.supervisor.call_log.entries()[0]["kind"] == "outgoing"  # kept in memory
        assert any("call log" in n.text for n in stack.control.status.notices.all())
        assert "notice" in " ".join(stack.supervisor.screen.lines)  # the idle screen says so
        stack.fakes.hook.lift()
        await asyncio.sleep(0.2)
        assert stack.fakes.tones.current.value == "dial"  # still a phone
        stack.fakes.hook.replace()
        await asyncio.sleep(1.2)

        partition.free()  # room again: saves work and the notice goes
        async with c.put("/api/v1/settings", json={"phone": {"country": "GB"}}) as r:
            assert r.status == 200
        assert not any(n.key == "storage-full" for n in stack.control.status.notices.all())
    saved = tomllib.loads((data / DATA_FILE).read_text())
    assert saved["phone"]["country"] == "GB"
    assert "dnd" not in saved.get("features", {})


def test_a_fresh_start_on_a_full_partition_gives_dial_tone(partition, tmp_path):
    data = partition.root / "data"
    data.mkdir()
    partition.fill()
    proc = subprocess.Popen(
        [str(APPLIANCE), "run", "--board", "desktop", "--data", str(data), "--no-web",
         "--control", str(tmp_path / "control.sock"), "--console"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert proc.stdin is not None
        proc.stdin.write("lift\n")
        proc.stdin.flush()
        import time

        time.sleep(3)
        proc.stdin.write("hang\n")
        proc.stdin.flush()
        time.sleep(1)
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "ready" in out
    assert "[tone] dial" in out
    assert "notice" in out  # the idle screen counts what the owner must look at
    assert "Traceback" not in out
