"""The phone's state: one frozen value replaced by every step of the machine."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, NewType

from .dialplan import DigitMap

if TYPE_CHECKING:
    from .callerid import CallerId  # callerid reads the directory, which reads this module

CallId = NewType("CallId", str)

AP_ADDRESS = "10.42.0.1"  # the phone on its own access point (NetworkManager's shared network)


class Mode(Enum):
    """What the handset is doing, as a person would say it."""

    IDLE = "idle"  # on hook, nothing ringing
    RINGING = "ringing"  # on hook, the ringer rings (incoming call or a held call recalling)
    DIALING = "dialing"  # off hook, dial tone or digits being collected
    CONFIRM = "confirm"  # off hook, a feature code was accepted: confirmation tone, then dial tone
    CALLING = "calling"  # off hook, our call is connecting or the far end rings
    TALKING = "talking"  # off hook, in a call or a conference
    BUSY = "busy"  # off hook, the far end was busy
    REORDER = "reorder"  # off hook, something failed or took too long
    HOWLER = "howler"  # off hook far too long: the receiver-off-hook howler
    SILENT = "silent"  # off hook after the howler: silence until hang-up
    MENU = "menu"  # off hook, the voice menu speaks (appliance.phone.voicemenu)


class Feature(Enum):
    """What a star code does."""

    DND_ON = "dnd_on"
    DND_OFF = "dnd_off"
    PRIVATE_ON = "private_on"
    PRIVATE_OFF = "private_off"
    CALL_WAITING_ON = "call_waiting_on"
    CALL_WAITING_OFF = "call_waiting_off"
    CALL_WAITING_CANCEL = "call_waiting_cancel"  # off for the next call only
    REDIAL = "redial"
    CALL_RETURN = "call_return"
    VOICE_MENU = "voice_menu"
    # Forwarding: the "on" codes take a destination dialed after them (*72 2#: to speed dial 2).
    FORWARD_ALWAYS = "forward_always"
    FORWARD_ALWAYS_OFF = "forward_always_off"
    FORWARD_BUSY = "forward_busy"
    FORWARD_BUSY_OFF = "forward_busy_off"
    FORWARD_NO_ANSWER = "forward_no_answer"
    FORWARD_NO_ANSWER_OFF = "forward_no_answer_off"
    MESSAGES = "messages"  # play the answering machine's messages
    VOICEMAIL_ON = "voicemail_on"  # the answering machine takes calls
    VOICEMAIL_OFF = "voicemail_off"
    GREETING_RECORD = "greeting_record"  # the owner records the answering machine's greeting
    GREETING_DEFAULT = "greeting_default"  # back to the spoken greeting

    @property
    def takes_number(self) -> bool:
        """The code is followed by a number (a forwarding destination), ended by # or a pause."""
        return self in (Feature.FORWARD_ALWAYS, Feature.FORWARD_BUSY, Feature.FORWARD_NO_ANSWER)


class AccountKind(Enum):
    JAMI = "jami"
    SIP = "sip"


class Registration(Enum):
    UNREGISTERED = "unregistered"
    TRYING = "trying"
    REGISTERED = "registered"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """An account of the telephony core. ``uri`` is the 40-hex Jami ID or the SIP ``user@host``."""

    id: str
    kind: AccountKind
    uri: str = ""
    registration: Registration = Registration.UNREGISTERED
    name: str = ""  # registered Jami name or SIP display name
    host: str = ""  # SIP registrar (empty for IP-to-IP and Jami)
    device: str = ""  # Jami: this device's certificate fingerprint


@dataclass(frozen=True, slots=True)
class Contact:
    """A directory entry: who, where to reach them, and the digits that reach them."""

    name: str
    uri: str  # 40-hex Jami ID, registered Jami name, or sip: URI
    speed_dial: str = ""
    number: str = ""  # a directory number (extension) dialed in full
    account: str = ""  # force an account; empty picks one by the URI's kind
    ring: tuple[int, ...] = ()  # a distinctive ring (on/off ms); empty: the country's


class Direction(Enum):
    OUT = "out"
    IN = "in"


class CallStatus(Enum):
    CONNECTING = "connecting"  # outgoing, not ringing yet
    RINGING_OUT = "ringing_out"  # outgoing, the far end rings
    RINGING_IN = "ringing_in"  # incoming, not answered (ringing or waiting)
    ANSWERING = "answering"  # incoming, accepted by us, media not up yet
    CONNECTED = "connected"


@dataclass(frozen=True, slots=True)
class Call:
    id: CallId
    direction: Direction
    peer_uri: str
    peer_name: str
    account: str
    status: CallStatus
    held: bool = False
    connected_at: float | None = None
    identity_changed: bool = False
    caller_id: CallerId | None = None  # incoming: who calls, as an analog line presents them
    ring: tuple[int, ...] = ()  # incoming: the caller's distinctive ring (a contact's), on/off ms


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What the voice menu reads out about the device itself, as the runtime last read it."""

    page: str = ""  # where the web page is, e.g. 192.168.1.20:8080
    local_name: str = ""  # this device's mDNS name, e.g. phone-1a2b.local
    links: tuple[tuple[str, str], ...] = ()  # (interface, IPv4 address) of each link that has one
    version: str = ""  # firmware version


@dataclass(frozen=True, slots=True)
class Menu:
    """The voice menu while it is open: where in it the caller is and what it said last.

    ``said`` counts the times a prompt was started, so ``#`` saying the same text again is a change
    the runtime hears (speech is a function of the state, like the tones).
    """

    # intro, item, reboot, reset; "messages" while the messages play (``*98``); greeting,
    # greeting_wait, greeting_review, greeting_done while the owner records a greeting (``*97``)
    level: str = "intro"
    prompt: str = ""
    said: int = 0
    code: str = ""  # the factory reset's confirmation code, while it is asked for
    entered: str = ""  # its digits dialed so far
    message: str = ""  # the message played after the prompt (its id), while messages play


@dataclass(frozen=True, slots=True)
class Message:
    """A message the answering machine recorded, as the phone knows it (the audio stays on disk)."""

    id: str
    caller_uri: str
    caller_name: str
    at: str  # when, as the caller's message is announced: "Tuesday 14:05" (local time, said as is)
    duration_s: float
    heard: bool = False
    account: str = ""  # the account the call came in on (a call back goes out on it)


@dataclass(frozen=True, slots=True)
class AnsweringSettings:
    """The answering machine's configuration (``voicemail.*``)."""

    enabled: bool = False
    answer_after_s: float = 20.0
    max_s: float = 120.0
    when_busy: bool = False  # answer calls the phone would turn away as busy
    when_dnd: bool = False  # answer at once in do-not-disturb, instead of refusing
    greeting: str = ""  # spoken greeting; empty: the phone's default in its language
    send_to: str = ""  # a Jami ID each new message is also sent to (the owner's own account)


@dataclass(frozen=True, slots=True)
class Answering:
    """A call the answering machine took: greeting, then recording from ``recording_at``."""

    call: CallId
    phase: str = "answering"  # answering (media not up), greeting, recording
    recording_at: float | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """Where a dialed number goes."""

    account: str
    uri: str
    name: str


@dataclass(frozen=True, slots=True)
class Forwarding:
    """Where calls go instead of ringing here: each a speed dial, number, Jami ID, name or SIP URI
    (empty: not forwarded). ``no_answer`` takes over after ``no_answer_s`` of ringing."""

    always: str = ""
    busy: str = ""
    no_answer: str = ""
    no_answer_s: float = 20.0


@dataclass(frozen=True, slots=True)
class ForwardLeg:
    """A call being forwarded: the caller, not answered until ``leg`` (our call to the
    destination) is, and then connected to it."""

    caller: Call
    leg: CallId
    to: str  # the destination URI as dialed
    why: str  # always, busy, no_answer
    bridging: bool = False  # the destination answered: the caller is being accepted
    connected_at: float | None = None  # the two were connected (bridged) then


@dataclass(frozen=True, slots=True)
class Screening:
    """Who does not ring: anonymous callers, a block list, quiet hours, and who rings despite DND.

    Entries are numbers, SIP URIs, Jami IDs or registered names; a bare number matches a SIP
    caller's user part. Quiet hours are minutes of the local day (``quiet_from`` == ``quiet_to``:
    none); during them only contacts ring (``quiet_allow`` "contacts") or only ``allow``.
    """

    anonymous_reject: bool = False
    block: tuple[str, ...] = ()
    quiet_from: int = 0
    quiet_to: int = 0
    quiet_allow: str = "contacts"
    allow: tuple[str, ...] = ()
    dnd_allow: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Emergency:
    """Emergency numbers (empty: the country's) and the SIP account that carries them (empty:
    the first one connected); a call back on that account within ``callback_s`` rings whatever
    screens it (the emergency service calling back)."""

    numbers: tuple[str, ...] = ()
    account: str = ""
    callback_s: float = 1800.0


@dataclass(frozen=True, slots=True)
class Settings:
    """The configuration the pure machine needs, in seconds. Built from the validated config."""

    country: str = "US"
    digit_map: DigitMap = field(default_factory=lambda: DigitMap.parse("*xx|xx."))
    pound_sends: bool = True
    first_digit_s: float = 15.0
    interdigit_s: float = 5.0  # long timer: the number is incomplete
    interdigit_short_s: float = 2.0  # short timer: the number is complete but could go on
    flash_min_s: float = 0.1
    flash_max_s: float = 0.9
    pulse_dialing: bool = True
    pulse_min_s: float = 0.02  # shorter opens are bounce
    pulse_digit_gap_s: float = 0.25  # a closed period this long ends a rotary digit
    reorder_s: float = 20.0  # busy or reorder this long, then the howler
    howler_s: float = 40.0  # howler this long, then silence
    confirm_s: float = 1.2
    star_codes: tuple[tuple[str, Feature], ...] = (
        ("*78", Feature.DND_ON),
        ("*79", Feature.DND_OFF),
        ("*60", Feature.PRIVATE_ON),
        ("*61", Feature.PRIVATE_OFF),
        ("*70", Feature.CALL_WAITING_CANCEL),
        ("*56", Feature.CALL_WAITING_ON),
        ("*57", Feature.CALL_WAITING_OFF),
        ("*66", Feature.REDIAL),
        ("*69", Feature.CALL_RETURN),
        ("***", Feature.VOICE_MENU),
        ("*72", Feature.FORWARD_ALWAYS),
        ("*73", Feature.FORWARD_ALWAYS_OFF),
        ("*90", Feature.FORWARD_BUSY),
        ("*91", Feature.FORWARD_BUSY_OFF),
        ("*92", Feature.FORWARD_NO_ANSWER),
        ("*93", Feature.FORWARD_NO_ANSWER_OFF),
        ("*98", Feature.MESSAGES),
        ("*94", Feature.VOICEMAIL_ON),
        ("*95", Feature.VOICEMAIL_OFF),
        ("*97", Feature.GREETING_RECORD),
        ("*96", Feature.GREETING_DEFAULT),
    )
    digits_account: str = ""  # SIP account that gets numbers not in the directory
    dnd: bool = False
    private_mode: bool = False
    call_waiting: bool = True
    conference_transfer: bool = False  # hanging up a 3-way call leaves the other two talking
    callerid: str = "auto"  # how an analog line presents callers: auto (by country) or a standard
    callerid_alert: str = "auto"
    callerid_sdmf: bool = False
    callerid_waiting: bool = False  # caller ID on call waiting (an analog phone behind a SLIC line)
    callerid_car: bool = False  # NTT's CAR handshake: a SLIC line that sees the phone's loop close
    loop_disconnect_ms: int = 0  # the loop opened this long when the far end clears; 0: no loop switch
    language: str = "en"  # what the phone speaks in (prompts: appliance.phone.phrases)
    forwarding: Forwarding = field(default_factory=Forwarding)
    hotline_uri: str = ""  # lifting dials this (a warm line after hotline_delay_s of silence)
    hotline_delay_s: float = 0.0
    screening: Screening = field(default_factory=Screening)
    emergency: Emergency = field(default_factory=Emergency)
    voicemail: AnsweringSettings = field(default_factory=AnsweringSettings)

    def feature_for(self, code: str) -> Feature | None:
        return next((feature for known, feature in self.star_codes if known == code), None)


@dataclass(frozen=True, slots=True)
class HookTrack:
    """Where the hook decoder is: an open interval that may become a pulse, a flash or a hang-up."""

    opened_at: float | None = None  # the switch opened (went on hook) at this time, while logically off hook
    pulses: int = 0  # rotary pulses counted in the digit being dialed


@dataclass(frozen=True, slots=True)
class Phone:
    """The whole state of the phone. Replaced, never mutated."""

    settings: Settings = field(default_factory=Settings)
    off_hook: bool = False
    mode: Mode = Mode.IDLE
    digits: str = ""
    calls: tuple[Call, ...] = ()
    active: CallId | None = None  # the call the handset talks to (or the newest party of a conference)
    consult: CallId | None = None  # the second call placed while another was held (3-way)
    conference: bool = False
    notice: str = ""  # plain words for the display: what went wrong or what was done
    dnd: bool = False
    private_mode: bool = False
    call_waiting: bool = True
    call_waiting_cancelled: bool = False
    last_dialed: Target | None = None
    last_caller: Target | None = None
    voicemail: tuple[tuple[str, int], ...] = ()  # account -> messages waiting
    trust_pending: int = 0
    invitations: tuple[str, ...] = ()  # group conversations invited to, pending (declined in private mode)
    missed: int = 0
    lamp: bool | None = None  # the message lamp as last told to the phone; None: not yet (a lamp
    # left on before a restart is put right at the first idle moment, unless turning it off would
    # ring the bell: a ring-pulse alert, as in France)
    cidcw: str = ""  # caller ID on call waiting under way: "alert" (waiting for the ack), "send"
    cidcw_muted: CallId | None = None  # the call muted meanwhile
    contacts: tuple[Contact, ...] = ()
    trusted: tuple[Contact, ...] = ()  # the core's contacts: may ring in private mode
    accounts: tuple[AccountInfo, ...] = ()
    telephony_up: bool = True
    setup_code: str = ""  # shown until the owner claims the phone on its page
    handset_test: bool = False  # the test tone plays (no call meanwhile: a call's tones win)
    page_address: str = ""  # where that page is (shown with the code)
    access_point: str = ""  # the phone's own Wi-Fi network while it is open (no network found)
    access_point_key: str = ""  # its WPA2 key, shown and spoken with it
    notices: int = 0  # things the owner must look at on the web page (a file kept aside, a full disk)
    menu: Menu | None = None  # the voice menu, while open
    device: DeviceInfo = field(default_factory=DeviceInfo)
    forwarding: Forwarding = field(default_factory=Forwarding)  # as set by star codes or the page
    forwards: tuple[ForwardLeg, ...] = ()  # calls being forwarded (not ringing here)
    clock: tuple[float, float] | None = None  # (local seconds of the day, monotonic) when last read
    clock_synced: bool = False  # that reading came from a synchronised clock
    emergency_call: tuple[str, float] | None = None  # (account, when) of the last emergency call
    answering: Answering | None = None  # a call the answering machine has
    messages: tuple[Message, ...] = ()  # the answering machine's, oldest first
    own_greeting: bool = False  # the owner recorded the greeting (else the spoken one is played)
    hook: HookTrack = field(default_factory=HookTrack)
    car: str = ""  # NTT's caller ID handshake, its stage (appliance.phone.car), for the call car_call
    car_call: CallId | None = None
    loop_open: bool = False  # the line's loop current is off for a far-end clear (hook edges only noted)
    loop_hook: bool | None = None  # the hook last seen while it was off (off hook: True); None: no edge
    timers: tuple[tuple[str, float], ...] = ()  # name -> deadline, to drop stale expiries
    next_call: int = 1

    @classmethod
    def initial(cls, settings: Settings, contacts: tuple[Contact, ...] = ()) -> Phone:
        return cls(
            settings=settings,
            dnd=settings.dnd,
            private_mode=settings.private_mode,
            call_waiting=settings.call_waiting,
            forwarding=settings.forwarding,
            contacts=contacts,
        )

    def call(self, call_id: CallId | None) -> Call | None:
        return next((c for c in self.calls if c.id == call_id), None)

    @property
    def active_call(self) -> Call | None:
        return self.call(self.active)

    @property
    def waiting(self) -> Call | None:
        """An incoming call not answered yet (ringing on hook, or waiting during a call)."""
        return next((c for c in self.calls if c.status is CallStatus.RINGING_IN), None)

    @property
    def held(self) -> Call | None:
        return next((c for c in self.calls if c.held), None)

    @property
    def directory(self) -> tuple[Contact, ...]:
        """Configured contacts first (they carry names and speed dials), then the core's."""
        return self.contacts + self.trusted

    @property
    def messages_waiting(self) -> int:
        return sum(n for _, n in self.voicemail)

    def local_minute(self, now: float) -> int | None:
        """The minute of the local day at monotonic ``now``, or None while the clock is unknown."""
        if self.clock is None:
            return None
        seconds, at = self.clock
        return int((seconds + now - at) % 86400 // 60)

    def deadline(self, name: str) -> float | None:
        return next((t for n, t in self.timers if n == name), None)
