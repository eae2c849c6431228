"""Boards are data: each one validates, its ALSA config parses, and its drivers assemble and work."""

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from appliance.apps.common import board_layer
from appliance.assembly import DRIVERS, DriverContext
from appliance.assembly import assemble as assemble_phone
from appliance.config.load import Layer, load_layers, parse_assignment
from appliance.drivers.alsa import AlsaDtmfKeypad, AlsaTones
from appliance.drivers.gpio import GpioBell, GpioHookSwitch, MatrixKeypad
from appliance.drivers.null import NoDisplay
from appliance.drivers.oled import OledDisplay
from appliance.drivers.slic import SlicRinger
from appliance.phone.model import Mode

BOARDS = Path(__file__).parents[2] / "board"
NAMES = sorted(p.name for p in BOARDS.iterdir() if (p / "board.toml").exists())
HARDWARE = [n for n in NAMES if n != "desktop"]


def test_there_are_desk_and_adapter_boards():
    assert {"desktop", "deskphone-v1", "adapter-v1"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_board_validates(name):
    loaded = load_layers([Layer("defaults", {}), board_layer(name, str(BOARDS))])
    assert loaded.config.board.name == name
    assert loaded.config.board.description


@pytest.mark.parametrize("name", HARDWARE)
def test_board_files(name):
    folder = BOARDS / name
    assert "dtparam" in (folder / "config.txt").read_text()
    assert list((folder / "udev").glob("*.rules"))
    config = load_layers([Layer("defaults", {}), board_layer(name, str(BOARDS))]).config
    if shutil.which("aplay"):
        env = {**os.environ, "ALSA_CONFIG_PATH": f"/usr/share/alsa/alsa.conf:{folder / 'asound.conf'}"}
        listed = subprocess.run(["aplay", "-L"], capture_output=True, text=True, env=env).stdout.split()
        assert config.audio.playback in listed  # ALSA parsed the board's PCMs


async def until(predicate, timeout=10.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def assemble(name, tmp_path):
    overrides = [
        "gpio.pin_factory=mock",
        "audio.playback=null",
        "audio.capture=null",
        "drivers.telephony=fake",
    ]
    layers = [Layer("defaults", {}), board_layer(name, str(BOARDS))]
    layers += [Layer(o, parse_assignment(o)) for o in overrides]
    phone = assemble_phone(layers, tmp_path)
    return phone.store.config, phone


async def test_deskphone_assembles_and_gives_dial_tone(tmp_path):
    _, phone = assemble("deskphone-v1", tmp_path)
    ports, supervisor = phone.ports, phone.supervisor
    assert isinstance(ports.hook, GpioHookSwitch)
    assert isinstance(ports.keypad, MatrixKeypad)
    assert isinstance(ports.ringer, GpioBell)
    assert isinstance(ports.tones, AlsaTones)
    assert isinstance(ports.display, OledDisplay)  # no I2C bus here: it logs and the phone goes on
    task = asyncio.get_running_loop().create_task(supervisor.run())
    await supervisor.started()
    hook_pin = ports.hook._device.pin
    # ALSA's null device is not clocked, so the tone thread runs flat out: wait for states, not times.
    hook_pin.drive_low()  # lift: the normally-open switch closes to ground
    await until(lambda: supervisor.phone.mode is Mode.DIALING)
    assert ports.tones.playing.value == "dial"
    await until(lambda: ports.tones.periods_written > 0)  # audio went to ALSA
    hook_pin.drive_high()
    await until(lambda: supervisor.phone.mode is Mode.IDLE)
    assert ports.tones.playing is None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_adapter_assembles(tmp_path):
    config, phone = assemble("adapter-v1", tmp_path)
    ports = phone.ports
    assert isinstance(ports.hook, GpioHookSwitch)
    assert isinstance(ports.keypad, AlsaDtmfKeypad)
    assert isinstance(ports.ringer, SlicRinger)
    assert isinstance(ports.display, NoDisplay)
    assert config.hook.pull_up is False
    assert config.ringer.ring_hz == 0  # the country's ring frequency
    await ports.tones.stop()
    await ports.ringer.stop()


@pytest.mark.parametrize("name", HARDWARE)
def test_the_daemon_gets_a_pulseaudio_in_front_of_the_boards_card(name, tmp_path):
    """This daemon's own ALSA layer drops call audio (tests/jami/test_audio.py measured it), so on a
    board its sound goes through a PulseAudio of its own that plays into the board's shared PCMs."""
    config = load_layers([Layer("defaults", {}), board_layer(name, str(BOARDS))]).config
    assert config.drivers.telephony == "jami"
    telephony = DRIVERS["telephony"]["jami"](DriverContext(config, tmp_path))
    assert telephony.pulse is not None
    assert (telephony.pulse.playback, telephony.pulse.capture) == (
        config.audio.playback,
        config.audio.capture,
    )
    script = telephony.pulse.script()
    assert f"module-alsa-sink device={config.audio.playback} " in script
    assert f"module-alsa-source device={config.audio.capture} " in script


def test_handset_gains_reach_the_boards_pulseaudio_in_db(tmp_path):
    """audio.rx_gain_db / tx_gain_db: PulseAudio's cubic volume, -6 dB = 65536 * 10^(-6/60)."""
    layers = [Layer("defaults", {}), board_layer("adapter-v1", str(BOARDS)),
              Layer("test", {"audio": {"rx_gain_db": -6.0, "tx_gain_db": 3.0}})]  # fmt: skip
    config = load_layers(layers).config
    telephony = DRIVERS["telephony"]["jami"](DriverContext(config, tmp_path))
    script = telephony.pulse.script()
    assert "set-sink-volume speaker 52057\n" in script
    assert "set-source-volume mic 73533\n" in script


async def pactl(*args: str) -> str:
    """pactl's answer, or "" when it failed."""
    process = await asyncio.create_subprocess_exec(*args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out, _ = await process.communicate()
    return out.decode() if process.returncode == 0 else ""


@pytest.mark.skipif(not shutil.which("pulseaudio") or not shutil.which("pactl"), reason="needs PulseAudio")
async def test_pulseaudio_takes_the_gains_as_the_db_asked(tmp_path):
    """The script's volumes, read back by pactl from the board's PulseAudio. Its 'card' is a second,
    clocked PulseAudio reached through ALSA's pulse plugin (ALSA's null PCM is not clocked)."""
    from appliance.drivers.jami.audio import PrivatePulseAudio

    card = PrivatePulseAudio(tmp_path / "card")
    await card.start()
    asound = tmp_path / "asound.conf"
    asound.write_text(
        f'pcm.!default {{ type asym playback.pcm "out" capture.pcm "in" }}\n'
        f'pcm.out {{ type pulse server "unix:{card.socket}" device "speaker" }}\n'
        f'pcm.in {{ type pulse server "unix:{card.socket}" device "micsink.monitor" }}\n'
    )
    alsa_env = {"ALSA_CONFIG_PATH": f"/usr/share/alsa/alsa.conf:{asound}"}
    pulse = PrivatePulseAudio(tmp_path / "pulse", playback="default", alsa_env=alsa_env, rx_gain_db=-6.0,
                              tx_gain_db=3.0)  # fmt: skip
    server = ["pactl", "-s", f"unix:{pulse.socket}"]
    try:
        await pulse.start()
        for _ in range(100):  # its socket is up before its script has loaded the sink and source
            sink = await pactl(*server, "get-sink-volume", "speaker")
            source = await pactl(*server, "get-source-volume", "mic")
            if sink and source:
                break
            await asyncio.sleep(0.05)
    finally:
        await pulse.stop()
        await card.stop()
    assert "-6.00 dB" in sink
    assert "3.00 dB" in source
