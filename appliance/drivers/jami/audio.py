"""A private PulseAudio for the daemon: a clocked sound path on machines without a sound card.

ALSA's null and file devices are not clocked, so a daemon using them burns CPU and garbles calls
(measured). Two null sinks give it a speaker and a microphone that run in real time: what the
daemon plays goes to ``speaker`` (record ``speaker.monitor``), and it hears ``micsink.monitor``
(play into ``micsink``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

log = logging.getLogger(__name__)

_SCRIPT = """load-module module-native-protocol-unix auth-anonymous=1 socket={socket}
load-module module-null-sink sink_name=speaker rate=48000 channels=1
load-module module-null-sink sink_name=micsink rate=48000 channels=1
set-default-sink speaker
set-default-source micsink.monitor
"""


class PrivatePulseAudio:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "native"
        self.process: asyncio.subprocess.Process | None = None

    @property
    def env(self) -> dict[str, str]:
        return {"PULSE_SERVER": f"unix:{self.socket}"}

    async def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        script = self.root / "default.pa"
        script.write_text(_SCRIPT.format(socket=self.socket))
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()
        env = {"HOME": str(self.root), "XDG_RUNTIME_DIR": str(self.root), "PATH": "/usr/bin:/bin"}
        with (self.root / "pulseaudio.log").open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                "pulseaudio", "-n", "-F", str(script), "--daemonize=no", "--exit-idle-time=-1",
                "--use-pid-file=no", "--disallow-exit", "--disallow-module-loading",
                env=env, stdout=out, stderr=out, stdin=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
        for _ in range(200):
            if self.socket.exists():
                return
            if self.process.returncode is not None:
                break
            await asyncio.sleep(0.02)
        raise RuntimeError(f"PulseAudio did not start (see {self.root / 'pulseaudio.log'})")

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), 5)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
