"""The driver registry: each port's drivers by the name a board file gives them.

This is the only list of driver names: the configuration is checked against it
(:func:`check_drivers`) and the composition builds ports from it. Vendor libraries are imported
inside each factory, so a board loads only what it uses.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.config.load import ConfigError
from appliance.config.schema import Config
from appliance.fakes.display import FakeDisplay
from appliance.fakes.hook import FakeHookSwitch
from appliance.fakes.keypad import FakeKeypad
from appliance.fakes.ringer import FakeRinger
from appliance.fakes.telephony import FakeSipAccount, FakeTelephony
from appliance.fakes.tones import FakeTones
from appliance.fakes.wifi import FakeNetwork
from appliance.notices import Notices, Severity
from appliance.runtime.supervisor import Ports


class DriverContext:
    """What driver factories need: the config, the data directory, one shared GPIO pin factory,
    and where to tell the owner about a fault (the notices the page and display show)."""

    def __init__(self, config: Config, data_dir: Path | None, notices: Notices | None = None) -> None:
        self.config = config
        self.data_dir = data_dir
        self.notices = notices if notices is not None else Notices()
        self._gpio: Any = None

    @property
    def gpio(self) -> Any:  # noqa: ANN401 - a gpiozero pin factory
        if self._gpio is None:
            from appliance.drivers.gpio import pin_factory  # noqa: PLC0415 - vendor libraries only when a board uses them

            self._gpio = pin_factory(self.config.gpio.pin_factory)
        return self._gpio


def _gpio_hook(b: DriverContext) -> Any:  # noqa: ANN401
    from appliance.drivers.gpio import GpioHookSwitch  # noqa: PLC0415

    hook = b.config.hook
    return GpioHookSwitch(
        hook.pin, normally_closed=hook.switch == "normally_closed", pull_up=hook.pull_up, factory=b.gpio
    )


def _matrix_keypad(b: DriverContext) -> Any:  # noqa: ANN401
    from appliance.drivers.gpio import MatrixKeypad  # noqa: PLC0415

    k = b.config.keypad
    return MatrixKeypad(
        k.rows, k.cols, k.layout, scan_s=k.scan_ms / 1000, debounce_scans=k.debounce_scans, factory=b.gpio
    )


def _evdev_keypad(b: DriverContext) -> Any:  # noqa: ANN401
    from appliance.drivers.evdev_keypad import EvdevKeypad  # noqa: PLC0415

    return EvdevKeypad(b.config.keypad.evdev_name)


def _dtmf_keypad(b: DriverContext) -> Any:  # noqa: ANN401
    from appliance.drivers.alsa import AlsaDtmfKeypad, capture_device  # noqa: PLC0415

    return AlsaDtmfKeypad(capture_device(b.config.audio.card, b.config.audio.capture))


def _no_keypad(b: DriverContext) -> Any:  # noqa: ANN401
    from appliance.drivers.null import NoKeypad  # noqa: PLC0415

    return NoKeypad()


def _bell(b: DriverContext) -> Any:  # noqa: ANN401
    from appliance.drivers.gpio import GpioBell  # noqa: PLC0415

    return GpioBell(b.config.ringer.pin, active_high=b.config.ringer.active_high, factory=b.gpio)


def _slic(b: DriverContext) -> Any:  # noqa: ANN401
    from appliance.drivers.slic import SlicRinger  # noqa: PLC0415

    r, audio = b.config.ringer, b.config.audio
    player = None
    if audio.card or audio.playback:  # caller ID needs the line's codec
        from appliance.drivers.alsa import AlsaLinePlayer, playback_device  # noqa: PLC0415

        player = AlsaLinePlayer(playback_device(audio.card, audio.playback))
    return SlicRinger(r.rm_pin, r.fr_pin, ring_hz=r.ring_hz, player=player, loop_pin=r.loop_pin,
                      loop_active_high=r.loop_active_high, factory=b.gpio)  # fmt: skip


def _speaker(b: DriverContext) -> Any:  # noqa: ANN401
    from appliance.drivers.alsa import SpeakerRinger, playback_device  # noqa: PLC0415

    audio = b.config.audio
    return SpeakerRinger(playback_device(audio.card, audio.playback), level=b.config.ringer.volume / 100)


def _alsa_tones(b: DriverContext) -> Any:  # noqa: ANN401
    from appliance.drivers.alsa import AlsaTones, handset_level, playback_device  # noqa: PLC0415
    from appliance.drivers.speech import EspeakSpeech, PromptCache  # noqa: PLC0415

    audio = b.config.audio
    level = handset_level(audio.card, audio.mixer, audio.handset_volume, audio.tone_level)
    # Spoken prompts are kept on the data partition: made once, not at every menu.
    cache = PromptCache(b.data_dir / "prompts") if b.data_dir is not None else None
    return AlsaTones(playback_device(audio.card, audio.playback), level=level, speech=EspeakSpeech(cache))


def _oled(kind: str) -> Callable[[DriverContext], Any]:
    def make(b: DriverContext) -> Any:  # noqa: ANN401
        from appliance.drivers.oled import OledDisplay, open_device  # noqa: PLC0415

        d = b.config.display

        def device() -> Any:  # noqa: ANN401
            return open_device(
                kind, port=d.i2c_port, address=d.address, width=d.width, height=d.height, rotate=d.rotate
            )

        return OledDisplay(device, contrast=d.contrast, idle_contrast=d.idle_contrast)

    return make


def _no_display(b: DriverContext) -> Any:  # noqa: ANN401
    from appliance.drivers.null import NoDisplay  # noqa: PLC0415

    return NoDisplay()


def _fake_telephony(b: DriverContext) -> Any:  # noqa: ANN401
    config = b.config
    name = config.phone.display_name if config.jami.enabled else None
    sip = tuple(FakeSipAccount(a.id, a.username, a.registrar) for a in config.sip_accounts)
    try:
        return FakeTelephony(name, sip, account_file=b.data_dir / "simulated-account" if b.data_dir else None)
    except OSError as exc:  # a full data partition: the phone still starts, its account unsaved
        b.notices.raise_(
            "simulated-account",
            f"The simulated account could not be saved ({exc.strerror or exc}); it is new at each start.",
            Severity.ERROR,
        )
        return FakeTelephony(name, sip)


def _jami(b: DriverContext) -> Any:  # noqa: ANN401
    from appliance.drivers.jami.audio import PrivatePulseAudio, host_pulse_server  # noqa: PLC0415
    from appliance.drivers.jami.client import JamiTelephony, JamsEnrolment, SipAccountSpec  # noqa: PLC0415 - dbus-fast with the daemon

    if b.data_dir is None:
        raise ConfigError(["drivers.telephony: the Jami daemon needs a data directory"])
    jami = b.config.jami
    audio = b.config.audio
    # The daemon always gets a PulseAudio: in front of the board's card (its ALSA layer drops call
    # audio, see drivers/jami/audio.py), else the host's sound server (handed over: the daemon's
    # clean environment would never find it), else null sinks.
    pulse = None
    host = None
    if audio.card:
        from appliance.drivers.alsa import capture_device, playback_device  # noqa: PLC0415

        pulse = PrivatePulseAudio(
            b.data_dir / "jami" / "pulse",
            playback=playback_device(audio.card, audio.playback),
            capture=capture_device(audio.card, audio.capture),
            rx_gain_db=audio.rx_gain_db,
            tx_gain_db=audio.tx_gain_db,
        )
    elif (host := host_pulse_server()) is None:
        pulse = PrivatePulseAudio(b.data_dir / "jami" / "pulse")
    wrapper = ["ip", "netns", "exec", jami.netns] if jami.netns else None
    node = None
    if jami.dht_node:
        from appliance.drivers.jami.dhtnode import DhtNodeProcess  # noqa: PLC0415

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
        noise_reduction=audio.noise_reduction,
        daemon_env={"PULSE_SERVER": host} if host else None,
        notices=b.notices,  # damaged files kept aside, a daemon that stopped answering
        manager=JamsEnrolment.of(jami),
    )


def _networkmanager(b: DriverContext) -> Any:  # noqa: ANN401
    from appliance.drivers.networkmanager import NmcliNetwork  # noqa: PLC0415

    return NmcliNetwork()


Factory = Callable[[DriverContext], Any]

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
    "network": {"fake": lambda b: FakeNetwork(), "networkmanager": _networkmanager},
}


def build_network(config: Config, data_dir: Path | None, notices: Notices | None = None) -> Any:  # noqa: ANN401
    """The device's network driver (not a port of the phone's: the supervisor never sees it)."""
    return DRIVERS["network"][config.drivers.network](DriverContext(config, data_dir, notices))


def build_ports(config: Config, data_dir: Path | None, notices: Notices | None = None) -> Ports:
    """Each port's driver, by the name the board and config give it."""
    board = DriverContext(config, data_dir, notices)
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


def check_drivers(config: Config) -> list[str]:
    """A problem line for each driver name the registry does not know."""
    problems = []
    for port, names in DRIVERS.items():
        chosen = getattr(config.drivers, port)
        if chosen not in names:
            problems.append(f"drivers.{port}: must be one of {', '.join(names)} (got {chosen!r})")
    return problems
