"""The composition root: arguments -> config layers -> drivers by name -> supervisor.

Only this module names concrete driver classes; it looks them up by the strings in the board
file and the config (``drivers.hook = "fake"``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import tomli_w

from . import __version__
from .config.load import (
    ConfigError,
    Layer,
    Loaded,
    Table,
    contacts_of,
    load_layers,
    parse_assignment,
    read_toml,
    settings_of,
    to_table,
)
from .config.schema import Config
from .config.store import DataConfig
from .durable import atomic_write
from .fakes.display import FakeDisplay
from .fakes.hook import FakeHookSwitch
from .fakes.keypad import FakeKeypad
from .fakes.ringer import FakeRinger
from .fakes.telephony import FakeSipAccount, FakeTelephony
from .fakes.tones import FakeTones
from .phone.model import Phone
from .runtime import sdnotify
from .runtime.supervisor import Ports, Supervisor
from .runtime.virtual import run_virtual
from .sim import ScriptError, Simulation, parse_script, run_script

log = logging.getLogger("appliance")

SYSTEM_CONFIG = Path("/etc/appliance/config.toml")
SYSTEM_BOARDS = Path("/usr/share/appliance/board")
EXIT_INVALID = 2

# --- drivers by name ---------------------------------------------------------------------------


class Board:
    """What driver factories need: the config, the data directory, one shared GPIO pin factory."""

    def __init__(self, config: Config, data_dir: Path) -> None:
        self.config = config
        self.data_dir = data_dir
        self._gpio: Any = None

    @property
    def gpio(self) -> Any:  # noqa: ANN401 - a gpiozero pin factory
        if self._gpio is None:
            from .drivers.gpio import pin_factory  # noqa: PLC0415 - vendor libraries only when a board uses them

            self._gpio = pin_factory(self.config.gpio.pin_factory)
        return self._gpio


def _gpio_hook(b: Board) -> Any:  # noqa: ANN401
    from .drivers.gpio import GpioHookSwitch  # noqa: PLC0415

    hook = b.config.hook
    return GpioHookSwitch(
        hook.pin, normally_closed=hook.switch == "normally_closed", pull_up=hook.pull_up, factory=b.gpio
    )


def _matrix_keypad(b: Board) -> Any:  # noqa: ANN401
    from .drivers.gpio import MatrixKeypad  # noqa: PLC0415

    k = b.config.keypad
    return MatrixKeypad(
        k.rows, k.cols, k.layout, scan_s=k.scan_ms / 1000, debounce_scans=k.debounce_scans, factory=b.gpio
    )


def _evdev_keypad(b: Board) -> Any:  # noqa: ANN401
    from .drivers.evdev_keypad import EvdevKeypad  # noqa: PLC0415

    return EvdevKeypad(b.config.keypad.evdev_name)


def _dtmf_keypad(b: Board) -> Any:  # noqa: ANN401
    from .drivers.alsa import AlsaDtmfKeypad, capture_device  # noqa: PLC0415

    return AlsaDtmfKeypad(capture_device(b.config.audio.card, b.config.audio.capture))


def _no_keypad(b: Board) -> Any:  # noqa: ANN401
    from .drivers.null import NoKeypad  # noqa: PLC0415

    return NoKeypad()


def _bell(b: Board) -> Any:  # noqa: ANN401
    from .drivers.gpio import GpioBell  # noqa: PLC0415

    return GpioBell(b.config.ringer.pin, active_high=b.config.ringer.active_high, factory=b.gpio)


def _slic(b: Board) -> Any:  # noqa: ANN401
    from .drivers.gpio import SlicRinger  # noqa: PLC0415

    r = b.config.ringer
    return SlicRinger(r.rm_pin, r.fr_pin, ring_hz=r.ring_hz, factory=b.gpio)


def _speaker(b: Board) -> Any:  # noqa: ANN401
    from .drivers.alsa import SpeakerRinger, playback_device  # noqa: PLC0415

    audio = b.config.audio
    return SpeakerRinger(playback_device(audio.card, audio.playback), level=b.config.ringer.volume / 100)


def _alsa_tones(b: Board) -> Any:  # noqa: ANN401
    from .drivers.alsa import AlsaTones, handset_level, playback_device  # noqa: PLC0415

    audio = b.config.audio
    level = handset_level(audio.card, audio.mixer, audio.handset_volume, audio.tone_level)
    return AlsaTones(playback_device(audio.card, audio.playback), level=level)


def _oled(kind: str) -> Callable[[Board], Any]:
    def make(b: Board) -> Any:  # noqa: ANN401
        from .drivers.oled import OledDisplay, open_device  # noqa: PLC0415

        d = b.config.display

        def device() -> Any:  # noqa: ANN401
            return open_device(
                kind, port=d.i2c_port, address=d.address, width=d.width, height=d.height, rotate=d.rotate
            )

        return OledDisplay(device, contrast=d.contrast, idle_contrast=d.idle_contrast)

    return make


def _no_display(b: Board) -> Any:  # noqa: ANN401
    from .drivers.null import NoDisplay  # noqa: PLC0415

    return NoDisplay()


def _fake_telephony(b: Board) -> Any:  # noqa: ANN401
    config = b.config
    return FakeTelephony(
        config.phone.display_name if config.jami.enabled else None,
        tuple(FakeSipAccount(a.id, a.username, a.registrar) for a in config.sip_accounts),
        account_file=b.data_dir / "simulated-account",
    )


def _jami(b: Board) -> Any:  # noqa: ANN401
    from .drivers.jami.audio import PrivatePulseAudio  # noqa: PLC0415
    from .drivers.jami.client import JamiTelephony, SipAccountSpec  # noqa: PLC0415 - dbus-fast with the daemon

    jami = b.config.jami
    audio = b.config.audio
    # The daemon always gets a PulseAudio: in front of the board's card (its ALSA layer drops call
    # audio, see drivers/jami/audio.py), else the host's sound server, else null sinks.
    pulse = None
    if audio.card:
        from .drivers.alsa import capture_device, playback_device  # noqa: PLC0415

        pulse = PrivatePulseAudio(
            b.data_dir / "jami" / "pulse",
            playback=playback_device(audio.card, audio.playback),
            capture=capture_device(audio.card, audio.capture),
        )
    elif not _host_sound_server():
        pulse = PrivatePulseAudio(b.data_dir / "jami" / "pulse")
    wrapper = ["ip", "netns", "exec", jami.netns] if jami.netns else None
    node = None
    if jami.dht_node:
        from .drivers.jami.dhtnode import DhtNodeProcess  # noqa: PLC0415

        # On the image the node is a systemd unit of its own (appliance-dht.service).
        external = os.environ.get("APPLIANCE_DHT_NODE") == "unit"
        node = DhtNodeProcess(
            b.data_dir / "jami", jami.dht_port, jami.bootstrap, wrapper=wrapper, external=external
        )
    sip = tuple(
        SipAccountSpec(a.id, a.username, a.password, a.registrar, a.local_port) for a in b.config.sip_accounts
    )
    return JamiTelephony(
        b.data_dir / "jami",
        display_name=b.config.phone.display_name,
        bootstrap=jami.bootstrap,
        wrapper=wrapper,
        sip_accounts=sip,
        pulse=pulse,
        dht_node=node,
    )


def _host_sound_server() -> bool:
    if os.environ.get("PULSE_SERVER"):
        return True
    runtime = Path(os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}")
    return (runtime / "pulse" / "native").exists() or (runtime / "pipewire-0").exists()


Factory = Callable[[Board], Any]

DRIVERS: dict[str, dict[str, Factory]] = {
    "hook": {"fake": lambda b: FakeHookSwitch(), "gpio": _gpio_hook},
    "keypad": {
        "fake": lambda b: FakeKeypad(),
        "matrix": _matrix_keypad,
        "evdev": _evdev_keypad,
        "dtmf": _dtmf_keypad,
        "none": _no_keypad,
    },
    "ringer": {"fake": lambda b: FakeRinger(), "bell": _bell, "slic": _slic, "speaker": _speaker},
    "tones": {"fake": lambda b: FakeTones(), "alsa": _alsa_tones},
    "display": {
        "fake": lambda b: FakeDisplay(),
        "ssd1306": _oled("ssd1306"),
        "sh1106": _oled("sh1106"),
        "none": _no_display,
    },
    "telephony": {"fake": _fake_telephony, "jami": _jami},
}


def build_ports(config: Config, data_dir: Path) -> Ports:
    """Each port's driver, by the name the board and config give it."""
    board = Board(config, data_dir)
    chosen = config.drivers
    try:
        return Ports(
            hook=DRIVERS["hook"][chosen.hook](board),
            keypad=DRIVERS["keypad"][chosen.keypad](board),
            ringer=DRIVERS["ringer"][chosen.ringer](board),
            tones=DRIVERS["tones"][chosen.tones](board),
            display=DRIVERS["display"][chosen.display](board),
            telephony=DRIVERS["telephony"][chosen.telephony](board),
        )
    except LookupError as exc:  # e.g. audio.card names a card that is not there
        raise ConfigError([str(exc).strip("'\"")]) from exc


# --- configuration layers ----------------------------------------------------------------------


def board_dirs(explicit: str | None) -> list[Path]:
    dirs = [Path(explicit)] if explicit else []
    if env := os.environ.get("APPLIANCE_BOARD_DIR"):
        dirs.append(Path(env))
    dirs += [Path(__file__).resolve().parent.parent / "board", SYSTEM_BOARDS]
    return dirs


def board_layer(name: str, board_dir: str | None) -> Layer:
    for directory in board_dirs(board_dir):
        path = directory / name / "board.toml"
        if path.is_file():
            table = read_toml(path)
            table.setdefault("board", {})["name"] = name
            return Layer(f"board {path}", table)
    known = sorted(
        {p.parent.name for d in board_dirs(board_dir) if d.is_dir() for p in d.glob("*/board.toml")}
    )
    raise ConfigError([f"board: no board named {name!r} (known: {', '.join(known) or 'none'})"])


def default_data_dir() -> Path:
    if os.geteuid() == 0 and Path("/var/lib/appliance").parent.is_dir() and not os.environ.get("HOME"):
        return Path("/var/lib/appliance")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "appliance"


def layers_for(args: argparse.Namespace, *, with_data: bool = True) -> list[Layer]:
    layers = [Layer("defaults", {}), board_layer(args.board, args.board_dir)]
    system = Path(args.config) if args.config else (SYSTEM_CONFIG if SYSTEM_CONFIG.is_file() else None)
    if system is not None:
        layers.append(Layer(str(system), read_toml(system)))
    if with_data and getattr(args, "data", None) is not None:
        layers.append(Layer("data", DataConfig(Path(args.data)).read()))
    cli: Table = {}
    if getattr(args, "listen", None):
        cli = {"web": {"listen": args.listen}}
    if getattr(args, "admin_password_file", None):
        path = Path(args.admin_password_file)
        if not path.is_file() or not os.access(path, os.R_OK):
            raise ConfigError([f"--admin-password-file: {path} is not a readable file"])
        cli.setdefault("web", {})["admin_password_file"] = str(path)
    if getattr(args, "dht_bootstrap", None):
        nodes = [node.strip() for node in args.dht_bootstrap.split(",") if node.strip()]
        cli.setdefault("jami", {})["bootstrap"] = nodes
    if cli:
        layers.append(Layer("command line", cli))
    layers.extend(Layer(f"--set {item}", parse_assignment(item)) for item in getattr(args, "set", None) or [])
    return layers


# --- commands ----------------------------------------------------------------------------------


def cmd_config_check(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        load_layers(
            [
                Layer("defaults", {}),
                board_layer(args.board, args.board_dir),
                Layer(str(path), read_toml(path)),
            ]
        )
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem)
        return EXIT_INVALID
    print(f"{path}: valid")
    return 0


def cmd_config_dump(args: argparse.Namespace) -> int:
    loaded = load_layers(layers_for(args))
    sys.stdout.write(tomli_w.dumps(to_table(loaded.config, mask=True)))
    return 0


def cmd_sim(args: argparse.Namespace) -> int:
    source = sys.stdin.read() if args.script == "-" else Path(args.script).read_text()
    commands = parse_script(source)
    loaded = load_layers(layers_for(args, with_data=False))

    def emit(line: str) -> None:
        print(line, flush=False)

    run_virtual(run_script(commands, loaded, emit))
    sys.stdout.flush()
    return 0


class _DataFeatureStore:
    """Star-code changes saved to the data directory, validated against the whole config first."""

    def __init__(self, data: DataConfig, layers: list[Layer]) -> None:
        self._data = data
        self._layers = layers

    async def save_feature(self, name: str, on: bool) -> None:
        def validate(table: Table) -> None:
            load_layers([*(layer for layer in self._layers if layer.name != "data"), Layer("data", table)])

        await asyncio.to_thread(self._data.save, {"features": {name: on}}, validate)


async def _run(args: argparse.Namespace) -> None:
    data_dir = Path(args.data) if args.data else default_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    args.data = str(data_dir)
    layers = layers_for(args)
    loaded = load_layers(layers)
    config = loaded.config
    ports = build_ports(config, data_dir)
    phone = Phone.initial(settings_of(config), contacts_of(config))
    features = _DataFeatureStore(DataConfig(data_dir), layers)
    supervisor = Supervisor(ports, phone, debounce_s=config.hook.debounce_ms / 1000, features=features)
    loop = asyncio.get_running_loop()
    task = loop.create_task(supervisor.run())
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    log.info("board %s, data in %s, country %s", config.board.name, data_dir, config.phone.country)
    power = ProcessPower(task.cancel, os.environ.get("APPLIANCE_REBOOT_REQUEST"))
    args.power = power
    control_server, web_runner = await _start_control(
        args, config, layers, data_dir, ports=ports, supervisor=supervisor, power=power
    )
    ready = loop.create_task(supervisor.started())
    await asyncio.wait({ready, task}, return_when=asyncio.FIRST_COMPLETED)  # a failed start ends below
    if ready.done():
        sdnotify.notify(
            "READY=1\nSTATUS=dial tone ready"
        )  # the ports are up: a lifted handset gets dial tone
        log.info("ready")
    else:
        ready.cancel()
    watchdog = loop.create_task(sdnotify.watchdog())
    console = None
    if isinstance(ports.hook, FakeHookSwitch) and (args.console or sys.stdin.isatty()):
        await supervisor.started()
        console = loop.create_task(_console(loaded, ports, supervisor, task))
        console.add_done_callback(_report_failure)
    try:
        await task
    except asyncio.CancelledError:
        log.info("stopped")
    finally:
        watchdog.cancel()
        if console:
            console.cancel()
        if web_runner is not None:
            await web_runner.cleanup()
        await control_server.stop()


async def _start_control(
    args: argparse.Namespace,
    config: Config,
    layers: list[Layer],
    data_dir: Path,
    *,
    ports: Ports,
    supervisor: Supervisor,
    power: ProcessPower,
) -> tuple[Any, Any]:
    """The runtime's control interface on its socket (for a separate web process), and the web page
    in this process unless ``--no-web``."""
    from .runtime.control import Control, LogLines, Probes, SimHandles  # noqa: PLC0415
    from .runtime.control_socket import ControlServer  # noqa: PLC0415

    sim = None
    if isinstance(ports.hook, FakeHookSwitch) and isinstance(ports.keypad, FakeKeypad):
        sim = SimHandles(ports.hook, ports.keypad)
    from .drivers.jami.dhtnode import read_status  # noqa: PLC0415
    from .drivers.network import survey  # noqa: PLC0415

    probes = Probes(network=survey, dht_node=lambda: read_status(data_dir / "jami" / "dhtnode.json"))
    if config.audio.card:  # a board with a sound card has a handset microphone to measure
        from .drivers.alsa import capture_device, capture_level  # noqa: PLC0415

        mic = capture_device(config.audio.card, config.audio.capture)
        probes.mic_level = lambda seconds: capture_level(mic, seconds)
    control = Control(supervisor, layers, data_dir, sim=sim, version=__version__, power=power, probes=probes)
    logging.getLogger().addHandler(LogLines(control.log_lines))
    server = ControlServer(control, Path(args.control) if args.control else data_dir / "control.sock")
    await server.start()
    if args.no_web:
        return server, None
    return server, await _serve_web(control, config, data_dir)


async def _serve_web(control: Any, config: Config, state_dir: Path) -> Any:  # noqa: ANN401
    from .web.server import WebApp, serve  # noqa: PLC0415 - aiohttp only where the page is served

    password_file = Path(config.web.admin_password_file) if config.web.admin_password_file else None
    from .web.firmware import FirmwareHandoff  # noqa: PLC0415

    # On the image the updater (appliance-update.path) picks up what the page hands over here.
    handoff = os.environ.get("APPLIANCE_UPDATE_DIR")
    firmware = FirmwareHandoff(Path(handoff) if handoff else None)
    webapp = WebApp(control, state_dir, password_file=password_file, secure_cookie=config.web.https,
                    firmware=firmware)  # fmt: skip
    context = None
    if config.web.https:
        from .web.tls import ensure_certificate, fingerprint, server_context  # noqa: PLC0415

        cert, key = ensure_certificate(state_dir / "web")
        context = server_context(cert, key)
        log.info("web: HTTPS certificate fingerprint (SHA-256) %s", fingerprint(cert))
    return await serve(webapp, config.web.listen, ssl_context=context)


def cmd_web(args: argparse.Namespace) -> int:
    """The web page alone, talking to a running phone over its control socket."""
    return _serve_until_stopped(_web, args)


async def _web(args: argparse.Namespace) -> None:
    from .runtime.control_socket import ControlClient  # noqa: PLC0415

    layers = layers_for(args, with_data=False)
    config = load_layers(layers).config
    state_dir = Path(args.data) if args.data else default_data_dir()
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    client = ControlClient(Path(args.control))
    runner = await _serve_web(client, config, state_dir)
    sdnotify.notify("READY=1")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await client.close()


def _report_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("console failed: %r", task.exception())


async def _console(loaded: Loaded, ports: Ports, supervisor: Supervisor, main: asyncio.Task[None]) -> None:
    """Drive the desktop phone from the terminal with the simulator's commands, in real time."""
    assert isinstance(ports.hook, FakeHookSwitch)
    assert isinstance(ports.keypad, FakeKeypad)
    assert isinstance(ports.ringer, FakeRinger)
    assert isinstance(ports.tones, FakeTones)
    assert isinstance(ports.display, FakeDisplay)
    from .sim import Fakes  # noqa: PLC0415 - only the console needs it

    # The telephony core may be the real daemon: then the far-end commands say they need the fake.
    fakes = Fakes(ports.hook, ports.keypad, ports.ringer, ports.tones, ports.display, ports.telephony)  # type: ignore[arg-type]
    sim = Simulation(loaded, fakes, supervisor)

    def say(text: str) -> None:
        print(text, flush=True)  # a line at a time, also when another program reads the console

    loop = asyncio.get_running_loop()

    def show(change: dict[str, Any]) -> None:
        kind = change.pop("event")
        if kind == "display":
            say("  [display] " + " | ".join(change["lines"]))
        elif kind == "tone":
            say(f"  [tone] {change['tone'] or 'silence'}")
        elif kind == "ringer":
            say(f"  [ringer] {'ringing' if change['on'] else 'off'}")
        elif kind == "call":
            say("  [call] " + " ".join(f"{k}={v}" for k, v in change.items()))

    sim.watch(show)
    say("Desktop phone. Commands: lift, hang, flash, press 123#, pulse 5, incoming NAME,")
    say("remote answer|busy|fail|hangup, trust URI, crash, set KEY VALUE, quit.")
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    number = 0
    while not main.done():
        raw = await reader.readline()
        if not raw:
            break
        number += 1
        text = raw.decode(errors="replace").strip()
        if text in ("quit", "exit"):
            main.cancel()
            break
        if not text:
            continue
        try:
            for command in parse_script(text):
                await sim.execute(command)
        except ScriptError as exc:
            say(f"  ! {str(exc).replace('line 1: ', '')}")


def cmd_dtmf_decode(args: argparse.Namespace) -> int:
    from .drivers.dtmf import WavError, decode_file  # noqa: PLC0415 - numpy only when asked

    try:
        print(decode_file(Path(args.file)))
    except WavError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    return 0


def cmd_dht_node(args: argparse.Namespace) -> int:
    """The device's own DHT node: from explicit options (as the supervisor starts it), else from
    the configuration (as its systemd unit does); ``--check`` only says whether it is enabled."""
    from .drivers.jami.dhtnode import serve  # noqa: PLC0415

    _log_to_stderr(args.verbose)
    if args.port is not None:
        bootstrap = [b.strip() for b in (args.bootstrap or "").split(",") if b.strip()]
        status = Path(args.status) if args.status else None
        return serve(args.port, bootstrap, discovery=not args.no_discovery, status=status)
    jami = load_layers(layers_for(args)).config.jami
    if args.check:
        return 0 if jami.enabled and jami.dht_node else 1
    data_dir = Path(args.data) if args.data else default_data_dir()
    return serve(jami.dht_port, jami.bootstrap, discovery=not args.no_discovery,
                 status=data_dir / "jami" / "dhtnode.json")  # fmt: skip


def cmd_update(args: argparse.Namespace) -> int:
    """Signed A/B updates (see appliance/update.py): make keys and bundles on a build machine;
    verify, apply and commit them on a device (as root, from the update units)."""
    from . import update  # noqa: PLC0415

    keys_dir = Path(args.keys) if args.keys else update.KEYS_DIR
    try:
        match args.update_command:
            case "keygen":
                update.generate_key(Path(args.private), Path(args.public))
            case "bundle":
                header = update.make_bundle(Path(args.payload), Path(args.out), key=Path(args.key),
                                            board=args.board, version=args.version)  # fmt: skip
                print(f"{args.out}: {header.board} {header.version}, {header.payload_size} bytes")
            case "verify":
                header = update.verify(Path(args.bundle), update.trusted_keys(keys_dir), args.board)
                print(f"{args.bundle}: good, {header.board} {header.version}")
            case "apply":
                return _apply_handed_over(update, Path(args.bundle), keys_dir, args.board)
            case "commit":
                return _commit_when_up(update, args.within)
    except update.UpdateError as exc:
        print(f"appliance update: {exc}", file=sys.stderr)
        return EXIT_INVALID
    return 0


def _apply_handed_over(update: Any, handoff: Path, keys_dir: Path, board: str) -> int:  # noqa: ANN401
    """Apply the bundle the web page left in ``handoff`` (or a bundle file given directly), report
    in its status.json, clear the hand-off, and reboot into the new slot when it is written."""
    bundle = handoff / "upload.bundle" if handoff.is_dir() else handoff
    status = handoff / "status.json" if handoff.is_dir() else None
    try:
        device = update.Device.this_one()
        header = update.apply(bundle, device, update.trusted_keys(keys_dir), board)
    except (update.UpdateError, OSError, KeyError) as exc:
        if status is not None:
            atomic_write(status, json.dumps({"state": "failed", "message": str(exc)}).encode(), mode=0o644)
        print(f"appliance update: {exc}", file=sys.stderr)
        return EXIT_INVALID
    finally:
        if handoff.is_dir():
            for name in ("upload.bundle", "ready"):
                (handoff / name).unlink(missing_ok=True)
    message = f"{header.version} written to slot {device.inactive()}: rebooting into it"
    print(message)
    if status is not None:
        done = {"state": "rebooting", "message": message, "version": header.version}
        atomic_write(status, json.dumps(done).encode(), mode=0o644)
        subprocess.run(["/bin/systemctl", "--no-block", "reboot"], check=False)
    return 0


def _commit_when_up(update: Any, within_s: float) -> int:  # noqa: ANN401 - the module
    """On a slot on trial: once the phone is up (its unit active: it was ready), keep this slot;
    if it is not up in time, reboot, and the boot after falls back to the slot that worked."""
    device = update.Device.this_one()
    state = update.SlotState.read(device.state_path)
    if state.trying != device.booted:
        return 0
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        up = subprocess.run(["/bin/systemctl", "is-active", "--quiet", "appliance.service"], check=False)
        if up.returncode == 0:
            update.commit(device)
            update.TRIAL_MARK.unlink(missing_ok=True)  # the page stops saying "on trial"
            print(f"slot {device.booted} works: kept")
            return 0
        time.sleep(2)
    print(
        f"slot {device.booted} did not bring the phone up in {within_s:.0f} s: back to the other",
        file=sys.stderr,
    )
    subprocess.run(["/bin/systemctl", "reboot"], check=False)
    return 1


def cmd_run(args: argparse.Namespace) -> int:
    code = _serve_until_stopped(_run, args)
    power: ProcessPower | None = getattr(args, "power", None)
    if power is not None and power.requested:
        _start_over(args, wipe=power.requested == "wipe")
    return code


class ProcessPower:
    """Restart and reboot for the System page. A restart stops the supervisor once the answer has
    gone out, then the process starts again; a reboot on the image is asked of systemd through a
    file its path unit watches (``APPLIANCE_REBOOT_REQUEST``), elsewhere it is a restart."""

    def __init__(self, stop: Callable[[], object], reboot_request: str | None) -> None:
        self._stop = stop
        self._reboot_request = Path(reboot_request) if reboot_request else None
        self.requested = ""  # "", "restart" or "wipe"

    def restart(self, *, wipe: bool = False) -> None:
        log.warning("%s requested", "factory reset" if wipe else "restart")
        self.requested = "wipe" if wipe or self.requested == "wipe" else "restart"
        asyncio.get_running_loop().call_later(0.3, self._stop)  # the answer first

    def reboot(self) -> None:
        if self._reboot_request is None:
            self.restart()
            return
        log.warning("reboot requested")
        atomic_write(self._reboot_request, b"reboot\n", mode=0o644)


def _start_over(args: argparse.Namespace, *, wipe: bool) -> None:
    """After a clean stop: empty the data directory (factory reset), then run again. Under systemd
    the unit's Restart= does that; elsewhere the process replaces itself with a fresh one."""
    data_dir = Path(args.data)
    if wipe:
        for entry in data_dir.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        log.warning("factory reset: %s emptied", data_dir)
    if os.environ.get("INVOCATION_ID"):  # started by systemd
        return
    os.execv(sys.executable, [sys.executable, "-m", "appliance", *args.argv])  # noqa: S606 - ourselves again


def _serve_until_stopped(
    main: Callable[[argparse.Namespace], Coroutine[Any, Any, None]], args: argparse.Namespace
) -> int:
    """A long-running command: log to stderr (the journal on a device), run until stopped."""
    _log_to_stderr(args.verbose)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args))
    return 0


def _log_to_stderr(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


# --- the command line --------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser, *, data: bool = True) -> None:
    parser.add_argument("--board", default="desktop", help="board definition (default: desktop)")
    parser.add_argument("--board-dir", help="where board definitions live")
    parser.add_argument("--config", help=f"system config file (default: {SYSTEM_CONFIG} if present)")
    if data:
        parser.add_argument("--data", help="the device's data directory (config saves, account)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config value")


def _update_parser(sub: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    upd = sub.add_parser("update", help="signed A/B updates of the system")
    upd.add_argument("--keys", help=f"trusted public keys (default: {'/usr/share/appliance/update-keys'})")
    upd_sub = upd.add_subparsers(dest="update_command", required=True)
    keygen = upd_sub.add_parser("keygen", help="make a signing key pair (keep the private one offline)")
    keygen.add_argument("private")
    keygen.add_argument("public")
    bundle = upd_sub.add_parser("bundle", help="sign a root image into an update bundle")
    bundle.add_argument("payload", help="the root file system image (squashfs)")
    bundle.add_argument("out")
    bundle.add_argument("--key", required=True, help="the private signing key")
    bundle.add_argument("--board", required=True)
    bundle.add_argument("--version", required=True)
    for name, text in (
        ("verify", "check a bundle for this board"),
        ("apply", "write a bundle to the other slot"),
    ):
        cmd = upd_sub.add_parser(name, help=text)
        cmd.add_argument("bundle")
        cmd.add_argument("--board", default=os.environ.get("APPLIANCE_BOARD", "desktop"))
    commit = upd_sub.add_parser("commit", help="keep the slot on trial once the phone is up, else fall back")
    commit.add_argument("--within", type=float, default=180.0, help="seconds the phone has to come up")
    upd.set_defaults(func=cmd_update)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="appliance", description="Jami phone firmware")
    top.add_argument("--version", action="version", version=f"appliance {__version__}")
    sub = top.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the phone")
    _common(run)
    run.add_argument("--listen", help="HOST:PORT of the web page")
    run.add_argument("--admin-password-file", help="preset the admin password from this file")
    run.add_argument(
        "--dht-bootstrap", metavar="HOST:PORT[,HOST:PORT]", help="DHT nodes to join (default: public)"
    )
    run.add_argument("--console", action="store_true", help="read commands from stdin even if not a terminal")
    run.add_argument("--no-web", action="store_true", help="no web page here (it runs as `appliance web`)")
    run.add_argument("--control", help="path of the control socket (default: DATA/control.sock)")
    run.add_argument("-v", "--verbose", action="store_true")
    run.set_defaults(func=cmd_run)

    web_cmd = sub.add_parser("web", help="serve the web page for a phone running with --no-web")
    _common(web_cmd)
    web_cmd.add_argument("--control", required=True, help="the phone's control socket")
    web_cmd.add_argument("--listen", help="HOST:PORT of the web page")
    web_cmd.add_argument("--admin-password-file", help="preset the admin password from this file")
    web_cmd.add_argument("-v", "--verbose", action="store_true")
    web_cmd.set_defaults(func=cmd_web)

    node = sub.add_parser("dht-node", help="the device's own DHT node (LAN discovery)")
    _common(node)
    node.add_argument("--port", type=int, help="UDP port (default: jami.dht_port from the config)")
    node.add_argument("--bootstrap", metavar="HOST:PORT[,HOST:PORT]", help="nodes to join (default: public)")
    node.add_argument("--status", help="where to report the node's state")
    node.add_argument("--no-discovery", action="store_true", help="no multicast LAN discovery")
    node.add_argument("--check", action="store_true", help="exit 0 if the config enables the node, else 1")
    node.add_argument("-v", "--verbose", action="store_true")
    node.set_defaults(func=cmd_dht_node)

    _update_parser(sub)

    config = sub.add_parser("config", help="check or show configuration")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate a config file")
    check.add_argument("file")
    check.add_argument("--board", default="desktop")
    check.add_argument("--board-dir")
    check.set_defaults(func=cmd_config_check)
    dump = config_sub.add_parser("dump", help="print the effective config, secrets masked")
    _common(dump)
    dump.set_defaults(func=cmd_config_dump)

    dtmf = sub.add_parser("dtmf", help="DTMF tools for installers")
    dtmf_sub = dtmf.add_subparsers(dest="dtmf_command", required=True)
    decode = dtmf_sub.add_parser("decode", help="print the DTMF digits in a WAV recording (any rate)")
    decode.add_argument("file")
    decode.set_defaults(func=cmd_dtmf_decode)

    sim = sub.add_parser("sim", help="run a script against the desktop phone in virtual time")
    sim.add_argument("script", help="script file, or - for standard input")
    _common(sim, data=False)
    sim.set_defaults(func=cmd_sim)
    return top


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        code = args.func(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        code = EXIT_INVALID
    except ScriptError as exc:
        print(f"{getattr(args, 'script', 'script')}: {exc}", file=sys.stderr)
        code = EXIT_INVALID
    except OSError as exc:
        print(f"appliance: {exc}", file=sys.stderr)
        code = 1
    sys.exit(code)
