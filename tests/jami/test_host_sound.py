"""The desktop board on a machine with its own sound server: the daemon reaches it (issue 19).

The daemon starts with a clean environment (its own HOME and XDG_RUNTIME_DIR), so left alone it
never finds the desktop's PulseAudio ("falling back to ALSA": calls connect, silent both ways).
The host here is a PulseAudio as a desktop runs it: the default native protocol (no anonymous
clients; the cookie in the user's own home), its socket in the user's runtime directory.
"""

import asyncio
import os
import shutil

import pytest

from appliance.assembly.drivers import DRIVERS, DriverContext
from appliance.config.load import Layer, load_layers
from appliance.drivers.jami.daemon import stop_process
from tests.recorder import Recorder

from .conftest import requirements

pytestmark = [*requirements, pytest.mark.skipif(not shutil.which("pactl"), reason="needs pulseaudio-utils")]

HOST_PA = """load-module module-native-protocol-unix socket={socket}
load-module module-null-sink sink_name=speaker rate=48000 channels=1
load-module module-null-sink sink_name=micsink rate=48000 channels=1
set-default-sink speaker
set-default-source micsink.monitor
"""


async def test_the_daemon_uses_the_desktops_own_sound_server(netns, dht, tmp_path, monkeypatch):
    runtime, home = tmp_path / "run", tmp_path / "home"
    (runtime / "pulse").mkdir(parents=True)
    home.mkdir()
    socket = runtime / "pulse" / "native"
    (tmp_path / "host.pa").write_text(HOST_PA.format(socket=socket))
    env = {"HOME": str(home), "XDG_RUNTIME_DIR": str(runtime), "PATH": "/usr/bin:/bin"}
    with (tmp_path / "host-pulse.log").open("wb") as log:
        host = await asyncio.create_subprocess_exec(
            "pulseaudio", "-n", "-F", str(tmp_path / "host.pa"), "--daemonize=no", "--exit-idle-time=-1",
            "--use-pid-file=no", env=env, stdout=log, stderr=log, stdin=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
    core = None
    try:
        for _ in range(200):
            if socket.exists():
                break
            await asyncio.sleep(0.02)
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
        monkeypatch.delenv("PULSE_SERVER", raising=False)
        layers = [
            Layer("defaults", {}),
            Layer("test", {"jami": {"netns": netns, "bootstrap": [dht]}, "drivers": {"telephony": "jami"}}),
        ]
        config = load_layers(layers).config
        core = DRIVERS["telephony"]["jami"](DriverContext(config, tmp_path / "data"))
        assert core.pulse is None  # no private PulseAudio: the host's
        assert core.daemon.extra_env["PULSE_SERVER"] == f"unix:{socket}"
        await core.start(Recorder())
        jamid_log = tmp_path / "data" / "jami" / "log" / "jamid.log"
        for _ in range(100):
            text = jamid_log.read_text(errors="replace")
            if "Connection to PulseAudio server established" in text or "falling back to ALSA" in text:
                break
            await asyncio.sleep(0.1)
        assert "falling back to ALSA" not in text
        assert "Connection to PulseAudio server established" in text
        pactl = await asyncio.create_subprocess_exec(
            "pactl", "list", "clients", env={**os.environ, "PULSE_SERVER": f"unix:{socket}"},
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        clients = (await pactl.communicate())[0].decode()
        assert "jamid" in clients.lower() or "jami" in clients.lower(), clients
    finally:
        if core is not None:
            await core.stop()
        await stop_process(host, 5)
