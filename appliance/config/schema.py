"""The configuration schema: dataclasses whose field metadata carries checks, docs and secrecy.

Every key has a default, so an empty file is a valid configuration. Keys are addressed with dotted
paths (``dialplan.interdigit_s``), which is also how errors name them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import validators as v

LIVE = "live"  # the web page may change it, and the running phone takes it at once
RESTART = "restart"  # the web page may change it; it takes effect at the next start


def opt(default: Any, *checks: v.Check, doc: str = "", secret: bool = False, page: str = "") -> Any:  # noqa: ANN401
    """A config field: default, checks run in order, one line of documentation, secrecy, and
    whether the web page may change it (``page``: LIVE, RESTART, or "" for not at all)."""
    meta = {"checks": checks, "doc": doc, "secret": secret, "page": page}
    if isinstance(default, list | dict):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class BoardSection:
    name: str = opt("desktop", doc="board definition in board/<name>/board.toml")
    description: str = opt("", doc="what this hardware is")
    simulated: bool = opt(
        False, doc="no phone hardware: fakes you drive from the console or the page's virtual phone"
    )


@dataclass
class DriversSection:
    """Each port's driver by name; the names are checked against the assembly's registry."""

    hook: str = opt("fake", v.not_empty, doc="hook switch driver")
    keypad: str = opt("fake", v.not_empty, doc="keypad driver")
    ringer: str = opt("fake", v.not_empty, doc="ringer driver")
    tones: str = opt("fake", v.not_empty, doc="tone player driver")
    display: str = opt("fake", v.not_empty, doc="display driver")
    telephony: str = opt("fake", v.not_empty, doc="telephony core")
    network: str = opt("fake", v.not_empty, doc="the device's network (Wi-Fi, addressing, access point)")


@dataclass
class PhoneSection:
    country: str = opt("US", v.country, doc="tones and ringer cadence (ITU-T E.180)", page=LIVE)
    display_name: str = opt("Jami phone", v.not_empty, doc="the name callers see", page=LIVE)
    language: str = opt(
        "", v.language, doc="what the voice menu speaks (en, de, fr, nl); empty: the country's", page=LIVE
    )


@dataclass
class DialplanSection:
    map: str = opt("*xx|xx.", v.digit_map, doc="digit map: x [2-9] . | <a:b> !", page=LIVE)
    interdigit_s: float = opt(5.0, v.between(0.5, 30), doc="long timer: number not complete yet", page=LIVE)
    interdigit_short_s: float = opt(
        2.0, v.between(0.2, 30), doc="short timer: complete, could go on", page=LIVE
    )
    first_digit_s: float = opt(
        15.0, v.between(1, 120), doc="dial tone this long without a digit: reorder", page=LIVE
    )
    pound_sends: bool = opt(True, doc="# dials what was dialed so far", page=LIVE)
    digits_account: str = opt("", doc="SIP account for numbers not in the directory", page=LIVE)


@dataclass
class GpioSection:
    pin_factory: str = opt("lgpio", v.one_of("lgpio", "mock"), doc="gpiozero pin factory (mock: no hardware)")


@dataclass
class HookSection:
    pin: int = opt(-1, v.between(-1, 63), doc="GPIO (BCM) of the hook switch; -1: none")
    switch: str = opt(
        "normally_open",
        v.one_of("normally_open", "normally_closed"),
        doc="contact while on hook: open or closed",
    )
    pull_up: bool = opt(True, doc="switch to ground with the internal pull-up (else to 3V3, pull-down)")
    debounce_ms: int = opt(10, v.between(0, 50), doc="edges closer than this are contact bounce")
    flash_min_ms: int = opt(100, v.between(40, 2000), doc="shortest on-hook that is a hook flash", page=LIVE)
    flash_max_ms: int = opt(900, v.between(100, 3000), doc="longest on-hook that is a hook flash", page=LIVE)
    pulse_dialing: bool = opt(True, doc="decode rotary dial pulses", page=LIVE)
    pulse_min_ms: int = opt(20, v.between(5, 100), doc="shortest break that is a dial pulse", page=LIVE)
    pulse_digit_gap_ms: int = opt(
        250, v.between(100, 1500), doc="closed this long ends a rotary digit", page=LIVE
    )


@dataclass
class TimersSection:
    reorder_s: float = opt(
        20.0, v.between(1, 600), doc="busy or reorder this long, then the howler", page=LIVE
    )
    howler_s: float = opt(40.0, v.between(1, 600), doc="howler this long, then silence", page=LIVE)
    confirm_s: float = opt(1.2, v.between(0.2, 10), doc="confirmation tone after a star code", page=LIVE)


@dataclass
class FeaturesSection:
    dnd: bool = opt(False, doc="do not disturb: refuse every call", page=LIVE)
    private_mode: bool = opt(False, doc="only contacts may ring this phone", page=LIVE)
    call_waiting: bool = opt(True, doc="a second call gives a call-waiting tone", page=LIVE)
    conference_transfer: bool = opt(False, doc="hanging up a 3-way call leaves the others talking", page=LIVE)


@dataclass
class ForwardingSection:
    """The phone forwards: it answers a caller once the destination answers and connects the two
    (the Jami daemon has no forwarding of its own). Also set by star codes (*72 number / *73...)."""

    always: str = opt("", v.destination, doc="forward every call to this destination", page=LIVE)
    busy: str = opt("", v.destination, doc="forward calls that find the phone busy", page=LIVE)
    no_answer: str = opt("", v.destination, doc="forward calls not answered in no_answer_s", page=LIVE)
    no_answer_s: float = opt(20.0, v.between(5, 120), doc="ring this long before forwarding", page=LIVE)


@dataclass
class HotlineSection:
    uri: str = opt("", v.destination, doc="lifting the handset calls this destination", page=LIVE)
    delay_s: float = opt(
        0.0, v.between(0, 30), doc="0: at once (hotline); else after this much silence (warm line)", page=LIVE
    )


@dataclass
class ScreeningSection:
    anonymous_reject: bool = opt(False, doc="refuse callers that withhold who they are", page=LIVE)
    block: list[str] = opt(
        [], v.caller_list, doc="numbers, SIP URIs, Jami IDs or names that never ring (with the Jami ban)",
        page=LIVE,
    )  # fmt: skip
    quiet_from: str = opt(
        "", v.time_of_day, doc="quiet hours start (HH:MM, local time); empty: none", page=LIVE
    )
    quiet_to: str = opt(
        "", v.time_of_day, doc="quiet hours end (HH:MM); both ends, or no quiet hours", page=LIVE
    )
    quiet_allow: str = opt(
        "contacts", v.one_of("contacts", "allow_list"),
        doc="who rings in quiet hours: contacts, or only the allow list", page=LIVE,
    )  # fmt: skip
    allow: list[str] = opt([], v.caller_list, doc="the allow list for quiet hours", page=LIVE)


@dataclass
class DndSection:
    allow: list[str] = opt([], v.caller_list, doc="callers that still ring during do not disturb", page=LIVE)


@dataclass
class EmergencySection:
    numbers: list[str] = opt(
        [], v.emergency_numbers, doc="emergency numbers; empty: the country's (911; 999, 112 in GB...)",
        page=LIVE,
    )  # fmt: skip
    account: str = opt("", doc="SIP account that carries them; empty: the first one connected", page=LIVE)
    callback_min: int = opt(
        30,
        v.between(0, 240),
        doc="minutes after an emergency call when a call back rings through all screening",
    )


@dataclass
class VoicemailSection:
    enabled: bool = opt(False, doc="the answering machine takes calls nobody lifts", page=LIVE)
    answer_after_s: float = opt(
        20.0, v.between(0, 120), doc="ringing this long, then the answering machine answers", page=LIVE
    )
    max_s: float = opt(120.0, v.between(10, 600), doc="the longest message", page=LIVE)
    when_busy: bool = opt(
        False, doc="it also takes calls refused as busy (handset off hook with no call on it)", page=LIVE
    )
    when_dnd: bool = opt(False, doc="in do not disturb it answers at once instead of refusing", page=LIVE)
    greeting: str = opt("", doc="the spoken greeting; empty: the phone's own, in its language", page=LIVE)
    max_messages: int = opt(50, v.between(1, 1000), doc="messages kept; the oldest heard go first", page=LIVE)
    send_to: str = opt(
        "",
        v.jami_id_or_empty,
        doc="each new message also sent to this Jami account (the owner's own)",
        page=LIVE,
    )
    max_mb: int = opt(
        50, v.between(1, 2000), doc="space the messages may take on the data partition", page=LIVE
    )


@dataclass
class ContactEntry:
    id: str = opt("", doc="stable id for the web API (made when the page adds a contact)")
    name: str = opt("", v.not_empty, doc="shown on the display")
    uri: str = opt("", v.contact_uri, doc="40-hex Jami ID, registered name, or sip: URI")
    speed_dial: str = opt("", v.dial_keys(2), doc="one or two keys")
    number: str = opt("", v.dial_keys(12), doc="a directory number dialed in full")
    account: str = opt("", doc="force this account")
    ring: str = opt(
        "",
        v.ring_cadence,
        doc="distinctive ring: dr2, dr3, dr4 (GR-506) or on,off,... in ms; empty: the country's",
    )


@dataclass
class SipAccountEntry:
    id: str = opt("", v.not_empty, doc="a short name for the account")
    username: str = opt("", doc="user part of the SIP URI")
    password: str = opt("", secret=True, doc="digest password")
    registrar: str = opt("", doc="registrar host[:port]; empty for IP-to-IP")
    local_port: int = opt(5060, v.between(1024, 65535), doc="local SIP port")


@dataclass
class JamiSection:
    enabled: bool = opt(True, doc="create and use a Jami account")
    bootstrap: list[str] = opt([], v.host_port_list, doc="DHT bootstrap nodes; empty: public")
    dht_node: bool = opt(
        False, doc="run the device's own DHT node: phones on one LAN find each other offline"
    )
    dht_port: int = opt(4222, v.between(1024, 65535), doc="UDP port of the device's own DHT node")
    netns: str = opt("", doc="run the daemon in this network namespace (test rigs; IPv6 must be off)")
    manager_uri: str = opt(
        "", v.url, doc="a JAMS server that gives the Jami account at first run (https://jams.example.org)"
    )
    manager_username: str = opt("", doc="the JAMS user this phone enrols as")
    manager_password: str = opt("", secret=True, doc="that user's JAMS password")
    manager_ca_file: str = opt(
        "",
        doc="PEM file of a CA trusted for the JAMS server beside the system's CAs; empty: the system's only",
    )


@dataclass
class KeypadSection:
    rows: list[int] = opt([], v.gpio_list, doc="matrix keypad: row GPIOs (driven)")
    cols: list[int] = opt([], v.gpio_list, doc="matrix keypad: column GPIOs (read, pulled up)")
    layout: list[str] = opt(["123A", "456B", "789C", "*0#D"], v.keypad_layout, doc="keys, one string per row")
    scan_ms: int = opt(10, v.between(2, 50), doc="matrix scan period while a key is down")
    debounce_scans: int = opt(2, v.between(1, 10), doc="scans a key must be seen down before it counts")
    evdev_name: str = opt("", doc="evdev keypad: device name (or part of it) to open")


@dataclass
class RingerSection:
    volume: int = opt(80, v.between(0, 100), doc="ringer volume in percent", page=RESTART)
    pin: int = opt(-1, v.between(-1, 63), doc="bell: GPIO that drives the bell or ringer chip")
    active_high: bool = opt(True, doc="bell: the driver rings when the GPIO is high")
    rm_pin: int = opt(-1, v.between(-1, 63), doc="SLIC: ring-mode GPIO (high while ringing)")
    fr_pin: int = opt(-1, v.between(-1, 63), doc="SLIC: forward/reverse GPIO toggled at the ring frequency")
    ring_hz: float = opt(
        0.0, v.zero_or_between(15, 50), doc="SLIC: ringing frequency in Hz; 0: the country's (20, 25, 50)"
    )
    loop_pin: int = opt(
        -1,
        v.between(-1, 63),
        doc="SLIC: GPIO of the board's loop switch (a FET in the SLIC's supply or a relay in the Tip "
        "lead) for the loop-current disconnect; -1: none (adapter-v1 has none)",
    )
    loop_active_high: bool = opt(True, doc="SLIC: the loop is open while loop_pin is high (false: while low)")


@dataclass
class LineSection:
    """An analog phone's line (the adapter's SLIC): how a caller is presented to the phone."""

    callerid: str = opt(
        "auto",
        v.one_of("auto", "bellcore", "etsi-fsk", "etsi-dtmf", "ntt", "off"),
        doc="caller ID between or before rings: auto (by phone.country), bellcore, etsi-fsk, etsi-dtmf, "
        "ntt (Japan: the phone answers the CAR signal first), off",
        page=LIVE,
    )
    callerid_alert: str = opt(
        "auto",
        v.one_of("auto", "after-ring", "reversal", "ring-pulse", "before-ring"),
        doc="when caller ID is sent: auto (the standard's), after the first ring, or before it after "
        "a line reversal, a ring pulse or nothing",
        page=LIVE,
    )
    sdmf: bool = opt(
        False, doc="bellcore: the single-data-message format (number only) for old boxes", page=LIVE
    )
    callerid_waiting: bool = opt(
        True,
        doc="caller ID on call waiting (FSK standards, a SLIC line): the alert tone, the phone's ack, "
        "the data; the call muted both ways meanwhile (about a second)",
        page=LIVE,
    )
    # What ATAs ship: Cisco SPA112/122 and ATA 191/192 "CPC Duration" 0.5 s (range 0-1 s, after a
    # "CPC Delay" of 2 s); Sipura SPA-2000, Linksys SPA2102/SPA9000 and Cisco SPA232D 0 (off) in
    # the same range; Grandstream's FXO ports (HT503, HT841/881), the other end of such a line,
    # take a drop as a clear from 100 ms by default (50-800 ms): 500 ms, Cisco's, clears them all.
    # The loop opens as the polarity returns, without Cisco's 2 s delay: the call is over already.
    loop_disconnect_ms: int = opt(
        500,
        v.zero_or_between(100, 2000),
        doc="loop-current disconnect when the far end ends a call and the phone stays off hook (CPC, "
        "for answering machines and PBXs), in ms; 0: off. Needs ringer.loop_pin",
        page=LIVE,
    )


@dataclass
class AudioSection:
    handset_volume: int = opt(70, v.between(0, 100), doc="handset volume in percent", page=RESTART)
    tone_level: float = opt(0.3, v.between(0.01, 1.0), doc="tone amplitude, 1.0 = full scale", page=RESTART)
    noise_reduction: str = opt(
        "off",
        v.one_of("off", "high"),
        doc="noise suppression of what the far end hears: off, or high (the Jami daemon's one level, "
        "WebRTC's strongest with a high-pass filter; it dulls quiet speech). The echo canceller stays on",
        page=RESTART,
    )
    card: str = opt("", doc="ALSA card by name (as in /proc/asound/cards); empty: the default device")
    playback: str = opt("", doc="ALSA playback PCM; empty: derived from the card (shared with dmix)")
    capture: str = opt("", doc="ALSA capture PCM for DTMF detection; empty: derived from the card")
    mixer: str = opt("", doc="ALSA mixer control for the handset volume; empty: the first playback control")
    rx_gain_db: float = opt(
        0.0, v.between(-20, 12), doc="call audio gain towards the handset (a board's card), dB", page=RESTART
    )
    tx_gain_db: float = opt(
        0.0, v.between(-20, 12), doc="handset gain towards the far end (a board's card), dB", page=RESTART
    )


@dataclass
class DisplaySection:
    width: int = opt(128, v.one_of_ints(128, 132), doc="pixels")
    height: int = opt(64, v.one_of_ints(32, 64), doc="pixels")
    i2c_port: int = opt(1, v.between(0, 10), doc="I2C bus number")
    address: int = opt(0x3C, v.between(0x03, 0x77), doc="I2C address")
    rotate: int = opt(0, v.one_of_ints(0, 1, 2, 3), doc="quarter turns")
    contrast: int = opt(255, v.between(0, 255), doc="contrast when in use")
    idle_contrast: int = opt(40, v.between(0, 255), doc="contrast when idle (saves the OLED)")


@dataclass
class WebSection:
    listen: str = opt("127.0.0.1:8080", v.host_port, doc="where the web page listens")
    admin_password_file: str = opt("", doc="preset admin password (headless installs)")
    admin_password_hash: str = opt(
        "", v.scrypt_hash, secret=True,
        doc="the admin password as `appliance config password-hash` prints it (from a provisioning "
        "profile): the page takes it whenever it changes; the owner's own change wins until then, "
        "unless the profile locks it",
    )  # fmt: skip
    https: bool = opt(
        False, doc="serve the page over HTTPS on web.listen, with a certificate from the device's own "
        "CA for its names and addresses (on by default on the SD card image)",
    )  # fmt: skip
    http_listen: str = opt(
        "", v.host_port_or_empty,
        doc="with web.https: a plain-HTTP listener here that sends every request to the HTTPS page "
        "(the image: [::]:80); empty: none",
    )  # fmt: skip
    hsts_max_age_s: int = opt(
        7 * 24 * 3600, v.between(0, 365 * 24 * 3600),
        doc="with web.https: how long a browser keeps to HTTPS for this device's names "
        "(Strict-Transport-Security); 0 makes browsers forget it",
    )  # fmt: skip
    allowed_hosts: list[str] = opt(
        [], v.host_names,
        doc="names the page answers to besides the device's hostname, HOSTNAME.local, localhost and "
        "IP addresses (e.g. a name the office DNS gives it); any other Host is refused (DNS rebinding)",
    )  # fmt: skip


@dataclass
class ProvisioningSection:
    """Fleet provisioning: the phone fetches a profile (this file's schema, plus ``locked``) from the
    owner's web server; see the README's "Fleet provisioning"."""

    url: str = opt(
        "", v.url, doc="this phone's profile; {mac} (lowercase hex, no colons), {board}, {version} "
        "are filled in; empty: no provisioning",
    )  # fmt: skip
    common_url: str = opt("", v.url, doc="a profile shared by every phone, fetched first (the same macros)")
    dhcp_file: str = opt(
        "/run/appliance/dhcp-provisioning",
        doc="where the DHCP client hands over options 66, 160 and 43 (the server, when url is empty); "
        "empty: DHCP is not asked",
    )
    ca_file: str = opt("", doc="PEM file of the only CA trusted for the server; empty: the system's CAs")
    client_cert: str = opt("", doc="PEM client certificate shown to the server (with client_key)")
    client_key: str = opt("", doc="PEM private key of client_cert")
    interval_s: int = opt(
        3600, v.zero_or_between(60, 7 * 86400), doc="resync this often (plus jitter); 0: at start only"
    )
    jitter_s: int = opt(
        300, v.between(0, 86400), doc="a random delay up to this, so a fleet does not ask all at once"
    )
    timeout_s: float = opt(15.0, v.between(1, 120), doc="a fetch taking longer fails")
    max_kb: int = opt(256, v.between(1, 4096), doc="a profile larger than this is refused")


@dataclass
class FirmwareSection:
    """Updates from the owner's server: a signed bundle, checked as an upload is, then handed to
    the A/B updater, only when the phone is idle in the maintenance window."""

    url: str = opt(
        "", v.url, doc="the signed update bundle ({board}, {version}, {mac} filled in); empty: none"
    )
    window_from: str = opt("02:00", v.time_of_day, doc="maintenance window start (HH:MM, local time)")
    window_to: str = opt("05:00", v.time_of_day, doc="maintenance window end (HH:MM); equal ends: any time")


DEFAULT_STAR_CODES = {
    "*78": "dnd_on",
    "*79": "dnd_off",
    "*60": "private_on",
    "*61": "private_off",
    "*70": "call_waiting_cancel",
    "*56": "call_waiting_on",
    "*57": "call_waiting_off",
    "*66": "redial",
    "*69": "call_return",
    "***": "voice_menu",
    "*72": "forward_always",
    "*73": "forward_always_off",
    "*90": "forward_busy",
    "*91": "forward_busy_off",
    "*92": "forward_no_answer",
    "*93": "forward_no_answer_off",
    "*98": "messages",
    "*94": "voicemail_on",
    "*95": "voicemail_off",
    "*97": "greeting_record",
    "*96": "greeting_default",
}


@dataclass
class Config:
    board: BoardSection = field(default_factory=BoardSection)
    drivers: DriversSection = field(default_factory=DriversSection)
    phone: PhoneSection = field(default_factory=PhoneSection)
    dialplan: DialplanSection = field(default_factory=DialplanSection)
    gpio: GpioSection = field(default_factory=GpioSection)
    hook: HookSection = field(default_factory=HookSection)
    keypad: KeypadSection = field(default_factory=KeypadSection)
    timers: TimersSection = field(default_factory=TimersSection)
    features: FeaturesSection = field(default_factory=FeaturesSection)
    forwarding: ForwardingSection = field(default_factory=ForwardingSection)
    hotline: HotlineSection = field(default_factory=HotlineSection)
    screening: ScreeningSection = field(default_factory=ScreeningSection)
    dnd: DndSection = field(default_factory=DndSection)
    emergency: EmergencySection = field(default_factory=EmergencySection)
    voicemail: VoicemailSection = field(default_factory=VoicemailSection)
    star_codes: dict[str, str] = opt(DEFAULT_STAR_CODES, v.star_code_table, doc="code -> feature", page=LIVE)
    contacts: list[ContactEntry] = opt([], doc="the directory")
    sip_accounts: list[SipAccountEntry] = opt([], doc="plain SIP accounts")
    jami: JamiSection = field(default_factory=JamiSection)
    ringer: RingerSection = field(default_factory=RingerSection)
    line: LineSection = field(default_factory=LineSection)
    audio: AudioSection = field(default_factory=AudioSection)
    display: DisplaySection = field(default_factory=DisplaySection)
    web: WebSection = field(default_factory=WebSection)
    provisioning: ProvisioningSection = field(default_factory=ProvisioningSection)
    firmware: FirmwareSection = field(default_factory=FirmwareSection)
