"""Running jamid: its own private D-Bus bus and directories, started with the right flags, watched.

The bus is configured without service directories, so D-Bus activation can never start a second
daemon without our flags behind our back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from pathlib import Path

from appliance.drivers.jami import opus_fec

log = logging.getLogger(__name__)

JAMID = "/usr/libexec/jamid"

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


async def stop_process(proc: asyncio.subprocess.Process | None, grace_s: float) -> None:
    """SIGTERM, then SIGKILL after ``grace_s``; by PID, and quiet if it is already gone."""
    if proc is None or proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), grace_s)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


class JamiDaemon:
    """jamid and its bus, under ``root`` (the device's data directory for Jami).

    ``wrapper`` prefixes both commands, e.g. ``["ip", "netns", "exec", "ns1"]`` in tests.
    ``loss_recovery`` preloads :mod:`opus_fec` into jamid (FEC and concealment of lost packets).
    """

    def __init__(
        self,
        root: Path,
        *,
        wrapper: list[str] | None = None,
        extra_env: dict[str, str] | None = None,
        loss_recovery: bool = True,
    ) -> None:
        self.root = root
        self.wrapper = wrapper or []
        self.extra_env = extra_env or {}
        self.loss_recovery = loss_recovery
        self.bus_socket = root / "bus"
        self.bus: asyncio.subprocess.Process | None = None
        self.jamid: asyncio.subprocess.Process | None = None

    @property
    def address(self) -> str:
        return f"unix:path={self.bus_socket}"

    @property
    def media_clock(self) -> Path:
        """Where the preloaded library keeps when each call's audio last came in (farend.py)."""
        return self.root / "run" / "media-clock"

    async def start(self) -> None:
        for sub in ("home", "config", "data", "cache", "run"):
            (self.root / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        config = self.root / "bus.conf"
        # A plain write, not durable.atomic_write: the file is made again before every start from
        # the text above, so one cut short by a power loss is simply rewritten next time.
        config.write_text(_BUS_CONFIG.format(socket=self.bus_socket))
        with contextlib.suppress(FileNotFoundError):
            self.bus_socket.unlink()
        logs = self.root / "log"
        logs.mkdir(exist_ok=True)
        with (logs / "dbus.log").open("ab") as out:
            self.bus = await asyncio.create_subprocess_exec(
                *self.wrapper, "dbus-daemon", f"--config-file={config}", "--nofork", "--nopidfile",
                stdout=out, stderr=out, stdin=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
        for _ in range(200):
            if self.bus_socket.exists():
                break
            await asyncio.sleep(0.01)
        else:
            raise RuntimeError(f"the D-Bus daemon for jamid did not start (see {logs / 'dbus.log'})")
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.root / "home"),
            "XDG_CONFIG_HOME": str(self.root / "config"),
            "XDG_DATA_HOME": str(self.root / "data"),
            "XDG_CACHE_HOME": str(self.root / "cache"),
            "XDG_RUNTIME_DIR": str(self.root / "run"),
            "DBUS_SESSION_BUS_ADDRESS": self.address,
            **self.extra_env,
        }
        # The clock is the daemon's that writes it: a dead one's slots must not be read as calls.
        self.media_clock.unlink(missing_ok=True)
        if self.loss_recovery and (preload := await asyncio.to_thread(opus_fec.library, self.root)):
            env["LD_PRELOAD"] = str(preload)
            env["APPLIANCE_MEDIA_CLOCK"] = str(self.media_clock)
        with (logs / "jamid.log").open("ab") as out:
            # -c console log, -d debug, -p persistent: stay up when the last client unregisters.
            self.jamid = await asyncio.create_subprocess_exec(
                *self.wrapper, "env", "-i", *(f"{k}={v}" for k, v in env.items()), JAMID, "-c", "-p",
                stdout=out, stderr=out, stdin=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
        log.info("jamid started (pid %s) on %s", self.jamid.pid, self.address)

    async def wait_exit(self) -> int:
        assert self.jamid is not None
        return await self.jamid.wait()

    def kill(self) -> None:
        """Kill jamid at once (tests of recovery)."""
        if self.jamid and self.jamid.returncode is None:
            self.jamid.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        """Stop jamid (SIGTERM, then SIGKILL after 5 s) and its bus, by PID."""
        for proc in (self.jamid, self.bus):
            await stop_process(proc, 5)
        self.jamid = self.bus = None

    def account_dir(self, account: str) -> Path:
        """Where jamid keeps a Jami account: ``$XDG_DATA_HOME/jami/<account id>``."""
        return self.root / "data" / "jami" / account

    def sync_account(self, account: str) -> None:
        """fsync what jamid wrote of ``account`` (its archive, keys, config.yml) and its global
        config, then their directories.

        jamid saves with plain truncating writes and never fsyncs: after a power cut an account it
        had reported made could be missing or empty on disk. Called before the appliance takes the
        account as its own, so what it remembers is on disk. Blocking: run it in a thread.
        """
        directory = self.account_dir(account)
        config = self.root / "config" / "jami"
        files = [p for p in directory.iterdir() if p.is_file()] if directory.is_dir() else []
        files += [p for p in (config / "dring.yml",) if p.is_file()]
        for path in [*files, directory, directory.parent, config]:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)

    def pids(self) -> list[int]:
        return [p.pid for p in (self.jamid, self.bus) if p is not None and p.returncode is None]
