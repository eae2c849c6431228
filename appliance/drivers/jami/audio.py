"""A private PulseAudio for the daemon: its one sound path, on every board.

The daemon is always given a PulseAudio of its own, never ALSA directly: this daemon version's ALSA
layer dropped the call audio for whole calls on a clocked ALSA device in about 1 call of 4
(measured: the far end's tone 4-16 dB above the floor instead of 70-90 dB, or pure zeros), while
its PulseAudio layer carried every call.

- On a board with a sound card, the PulseAudio plays into and records from the board's ALSA PCMs
  (the asound.conf dmix/dsnoop pair), which the phone's tone player shares; so a call-waiting
  tone still sounds over a call, and the tone player keeps its short path to the card.
- Without a card (the desktop), ALSA's null and file devices are not clocked, so a daemon using
  them burns CPU and garbles calls (measured). Two null sinks give it a speaker and a microphone
  that run in real time: what the daemon plays goes to ``speaker`` (record ``speaker.monitor``),
  and it hears ``micsink.monitor`` (play into ``micsink``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from .daemon import stop_process

log = logging.getLogger(__name__)

_PROTOCOL = "load-module module-native-protocol-unix auth-anonymous=1 socket={socket}\n"
# The answering machine's: the daemon's streams are moved here while it has a call (answering.py).
_MACHINE = """load-module module-null-sink sink_name=greeting rate=48000 channels=1
load-module module-null-sink sink_name=machine rate=48000 channels=1
"""
_NULL_SINKS = """load-module module-null-sink sink_name=speaker rate=48000 channels=1
load-module module-null-sink sink_name=micsink rate=48000 channels=1
set-default-sink speaker
set-default-source micsink.monitor
"""
# tsched=0: interrupt-driven periods work on every ALSA PCM (dmix, plug, and plugins without mmap).
_CARD = """load-module module-alsa-sink device={playback} sink_name=speaker tsched=0 rate=48000
load-module module-alsa-source device={capture} source_name=mic tsched=0 rate=48000
set-default-sink speaker
set-default-source mic
"""


def host_pulse_server(environ: Mapping[str, str] | None = None) -> str | None:
    """The address of the desktop's own sound server, if it speaks PulseAudio's protocol (PulseAudio,
    or PipeWire with pipewire-pulse), else None.

    The daemon is started with a clean environment (``env -i``, a ``XDG_RUNTIME_DIR`` and ``HOME`` of
    its own), so it never finds the host's server by itself ("Could not create pulseaudio layer,
    falling back to ALSA": calls connect, both ways silent): it must be handed this as
    ``PULSE_SERVER``. The server lets it in as the same user by its socket credentials, without the
    cookie in the user's home. PipeWire's own socket (``pipewire-0``) alone is no use: this daemon
    has no PipeWire layer.
    """
    env = os.environ if environ is None else environ
    if server := env.get("PULSE_SERVER"):
        return server
    runtime = Path(env.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}")
    socket = runtime / "pulse" / "native"
    return f"unix:{socket}" if socket.exists() else None


def pulse_volume(gain_db: float) -> int:
    """PulseAudio's volume for a gain in dB: its software volume is cubic (pa_sw_volume_from_dB)."""
    return round(PA_VOLUME_NORM * 10 ** (gain_db / 60))


PA_VOLUME_NORM = 0x10000


class PrivatePulseAudio:
    """A PulseAudio for one daemon: null sinks, or the board's ALSA PCMs when ``playback`` is given.

    ``rx_gain_db`` is the call's gain towards the handset (the card's sink), ``tx_gain_db`` the
    handset's towards the far end (its source): an analog phone's line levels, set once at start.
    """

    def __init__(
        self,
        root: Path,
        *,
        playback: str | None = None,
        capture: str | None = None,
        alsa_env: dict[str, str] | None = None,
        rx_gain_db: float = 0.0,
        tx_gain_db: float = 0.0,
    ) -> None:
        self.root = root
        self.socket = root / "native"
        self.playback = playback
        self.capture = capture or playback
        self.alsa_env = alsa_env or {}
        self.rx_gain_db = rx_gain_db
        self.tx_gain_db = tx_gain_db
        self.process: asyncio.subprocess.Process | None = None

    def script(self) -> str:
        if self.playback is None:
            return _PROTOCOL.format(socket=self.socket) + _MACHINE + _NULL_SINKS
        for pcm in (self.playback, self.capture):
            if not pcm or any(c.isspace() or c in "\"'" for c in pcm):
                raise ValueError(f"audio: ALSA device name {pcm!r} cannot be handed to PulseAudio")
        gains = (
            f"set-sink-volume speaker {pulse_volume(self.rx_gain_db)}\n"
            f"set-source-volume mic {pulse_volume(self.tx_gain_db)}\n"
        )
        return (
            _PROTOCOL.format(socket=self.socket)
            + _MACHINE
            + _CARD.format(playback=self.playback, capture=self.capture)
            + gains
        )

    @property
    def env(self) -> dict[str, str]:
        return {"PULSE_SERVER": f"unix:{self.socket}"}

    async def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        script = self.root / "default.pa"
        # A plain write, not durable.atomic_write: the script is made again before every start,
        # so one cut short by a power loss is simply rewritten next time.
        script.write_text(self.script())
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()
        env = {
            "HOME": str(self.root),
            "XDG_RUNTIME_DIR": str(self.root),
            "PATH": "/usr/bin:/bin",
            **self.alsa_env,
        }
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
        await stop_process(self.process, 5)
