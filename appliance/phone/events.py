"""Inputs to the phone, named in the past tense: things that happened.

Drivers and the telephony adapter turn what they observe into exactly one of these each.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .model import AccountInfo, CallId, Contact, DeviceInfo, Message, Settings


class CallState(Enum):
    """Call states as the telephony core reports them (jamid's ``callStateChanged`` strings)."""

    INCOMING = "INCOMING"
    CONNECTING = "CONNECTING"
    RINGING = "RINGING"
    CURRENT = "CURRENT"
    HOLD = "HOLD"
    UNHOLD = "UNHOLD"
    BUSY = "BUSY"
    PEER_BUSY = "PEER_BUSY"
    FAILURE = "FAILURE"
    HUNGUP = "HUNGUP"
    OVER = "OVER"
    INACTIVE = "INACTIVE"


@dataclass(frozen=True, slots=True)
class HookChanged:
    """The debounced hook switch changed; ``at`` is when the first edge was seen (monotonic s)."""

    off_hook: bool
    at: float


@dataclass(frozen=True, slots=True)
class KeyPressed:
    """A key of the keypad, or a DTMF digit detected on the line: one of ``0-9 * # A-D``."""

    key: str


@dataclass(frozen=True, slots=True)
class TimerExpired:
    """A timer the machine armed with :class:`~appliance.phone.effects.ArmTimer` ran out."""

    name: str


@dataclass(frozen=True, slots=True)
class CallArrived:
    """A call arrived; ``caller_name`` is what the call itself carries (may be empty)."""

    call: CallId
    account: str
    caller_uri: str
    caller_name: str = ""
    identity_changed: bool = False  # a known peer presented another certificate than the pinned one


@dataclass(frozen=True, slots=True)
class CallStateChanged:
    """The telephony core reports a new state for a call; ``code`` is its reason code."""

    call: CallId
    state: CallState
    code: int = 0


@dataclass(frozen=True, slots=True)
class ConferenceFormed:
    """The core joined calls into a conference mixed on this device."""

    calls: tuple[CallId, ...]


@dataclass(frozen=True, slots=True)
class AccountChanged:
    """An account appeared, changed registration or was removed (``removed``)."""

    account: AccountInfo
    removed: bool = False


@dataclass(frozen=True, slots=True)
class VoicemailChanged:
    """Messages waiting for an account (drives the stutter dial tone)."""

    account: str
    waiting: int


@dataclass(frozen=True, slots=True)
class TrustRequestsChanged:
    """The number of pending trust (contact) requests."""

    pending: int


@dataclass(frozen=True, slots=True)
class InvitationsChanged:
    """The group conversations (Jami swarms of several members) this phone is invited to, pending:
    their ids. A phone takes part in none; in private mode it declines them."""

    conversations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ContactsChanged:
    """The directory of contacts and speed dials was replaced."""

    contacts: tuple[Contact, ...]


@dataclass(frozen=True, slots=True)
class TrustedContactsChanged:
    """The telephony core's own contacts (accepted trust requests) were replaced."""

    contacts: tuple[Contact, ...]


@dataclass(frozen=True, slots=True)
class SettingsChanged:
    """The configuration the phone runs with was replaced (a web page save, ``set`` in the simulator)."""

    settings: Settings


@dataclass(frozen=True, slots=True)
class HandsetTestRequested:
    """Someone asked for the handset test: the telephone test tone for ``seconds``."""

    seconds: float = 3.0


@dataclass(frozen=True, slots=True)
class AccessPointChanged:
    """The phone opened its own Wi-Fi network to be set up on (no network found): its name and
    key are shown and spoken like the setup code; ``ssid`` empty once it is closed."""

    ssid: str
    passphrase: str = ""


@dataclass(frozen=True, slots=True)
class SetupCodeChanged:
    """Nobody has claimed the phone yet: show the page's address and the one-time setup code
    (``code`` empty once it is claimed)."""

    code: str
    address: str = ""


@dataclass(frozen=True, slots=True)
class TelephonyLost:
    """The telephony core went away (the daemon died): every call is gone."""

    reason: str = ""


@dataclass(frozen=True, slots=True)
class TelephonyRestored:
    """The telephony core is back and its state has been re-read."""


@dataclass(frozen=True, slots=True)
class FeatureNotSaved:
    """A star code's change could not be saved (a full data partition): it is undone, not claimed.

    ``was`` is the value before the star code; ``reason`` plain words for the display.
    """

    name: str  # "dnd", "private_mode", "call_waiting", or "forwarding.always|busy|no_answer"
    was: bool | str
    reason: str


@dataclass(frozen=True, slots=True)
class NoticesChanged:
    """How many notices the owner has not dealt with (a file kept aside, a full disk...)."""

    count: int


@dataclass(frozen=True, slots=True)
class DeviceInfoChanged:
    """The runtime read the device's address, links and version (asked by :class:`ReadDevice`)."""

    info: DeviceInfo


@dataclass(frozen=True, slots=True)
class ClockRead:
    """The local time of day was read (at start, then now and then): quiet hours need it."""

    seconds: float  # seconds since local midnight
    synced: bool  # the system clock is known right (set by NTP); a Pi without RTC boots hours off


@dataclass(frozen=True, slots=True)
class GreetingTaken:
    """The owner's greeting recorded through the handset ended, ``seconds`` long (0: nothing
    was recorded); it waits to be kept or dropped."""

    seconds: float


@dataclass(frozen=True, slots=True)
class OwnGreetingChanged:
    """Whether an owner's greeting is kept (read at start, and after each change)."""

    recorded: bool


@dataclass(frozen=True, slots=True)
class GreetingEnded:
    """The answering machine's greeting and beep have been played into ``call``."""

    call: CallId


@dataclass(frozen=True, slots=True)
class CallerFinished:
    """The caller leaving a message is done without hanging up: ``reason`` is ``silence`` or ``#``
    (heard by the recorder in the call's audio)."""

    call: CallId
    reason: str


@dataclass(frozen=True, slots=True)
class AlertSent:
    """The call-waiting alert asked for by :class:`~appliance.phone.effects.AlertWaiting` has
    gone out on the line (not just been asked for: the player opens its device and buffers first)."""


@dataclass(frozen=True, slots=True)
class MessagesChanged:
    """The answering machine's messages, as kept on the data partition (oldest first)."""

    messages: tuple[Message, ...]


Event = (
    HookChanged
    | KeyPressed
    | TimerExpired
    | CallArrived
    | CallStateChanged
    | ConferenceFormed
    | AccountChanged
    | VoicemailChanged
    | TrustRequestsChanged
    | InvitationsChanged
    | ContactsChanged
    | TrustedContactsChanged
    | SettingsChanged
    | TelephonyLost
    | TelephonyRestored
    | SetupCodeChanged
    | AccessPointChanged
    | HandsetTestRequested
    | FeatureNotSaved
    | NoticesChanged
    | DeviceInfoChanged
    | ClockRead
    | GreetingEnded
    | GreetingTaken
    | OwnGreetingChanged
    | CallerFinished
    | MessagesChanged
    | AlertSent
)
