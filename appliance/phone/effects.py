"""Outputs of the phone, named in the imperative: what the runtime must do next."""

from __future__ import annotations

from dataclasses import dataclass, field

from .callerid import CallerId, Presentation
from .model import CallId
from .tones import Tone


@dataclass(frozen=True, slots=True)
class PlayTone:
    """Play a call-progress tone into the handset, replacing any other (one tone at a time)."""

    tone: Tone


@dataclass(frozen=True, slots=True)
class StopTone:
    pass


@dataclass(frozen=True, slots=True)
class StartRinger:
    """Ring with the country's cadence, or the caller's own; ``recall`` for a held call calling
    the user back. ``caller``: who calls, for a line that presents them (caller ID)."""

    recall: bool = False
    caller: CallerId | None = None
    cadence: tuple[int, ...] = ()  # the caller's distinctive ring (on/off ms); empty: the country's


@dataclass(frozen=True, slots=True)
class StopRinger:
    pass


@dataclass(frozen=True, slots=True)
class ReverseLine:
    """Reverse the analog line's polarity (``on``) or set it back: answer supervision."""

    on: bool


@dataclass(frozen=True, slots=True)
class OpenLoop:
    """Take the analog line's loop current away for ``ms``, then give it back: the far end ended
    the last connected call while the phone stays off hook (calling party control, CPC).
    Answering machines and PBXs behind the adapter release the line on it."""

    ms: int


@dataclass(frozen=True, slots=True)
class Mute:
    """Stop (``on``) or restart sending the handset's audio to ``call``'s far end."""

    call: CallId
    on: bool


@dataclass(frozen=True, slots=True)
class AlertWaiting:
    """Caller ID on call waiting, first: the alert tone on the off-hook line (the phone answers
    with a DTMF D or A when it can show the caller)."""

    presentation: Presentation


@dataclass(frozen=True, slots=True)
class SendWaitingCaller:
    """Caller ID on call waiting, acknowledged: the waiting caller's data into the handset line."""

    caller: CallerId


@dataclass(frozen=True, slots=True)
class SendCaller:
    """NTT caller ID: the phone closed its loop in answer to the CAR signal; send it the caller."""

    caller: CallerId


@dataclass(frozen=True, slots=True)
class ShowMessages:
    """Turn the phone's message lamp on or off (visual message waiting), the way ``presentation``
    sends data to it. Only on an idle line: the phone core sends it on hook, when nothing rings."""

    on: bool
    presentation: Presentation


@dataclass(frozen=True, slots=True)
class ListenForDigits:
    """Listen to the line for DTMF digits (while off hook) or stop; a keypad with buttons may ignore it."""

    on: bool


@dataclass(frozen=True, slots=True)
class PlaceCall:
    """Call ``uri`` from ``account``; the phone names the call so later events can refer to it."""

    call: CallId
    account: str
    uri: str


@dataclass(frozen=True, slots=True)
class Accept:
    call: CallId


@dataclass(frozen=True, slots=True)
class Refuse:
    """Turn an incoming call away without ringing (the caller hears the call end)."""

    call: CallId
    reason: str


@dataclass(frozen=True, slots=True)
class HangUp:
    call: CallId


@dataclass(frozen=True, slots=True)
class Hold:
    call: CallId


@dataclass(frozen=True, slots=True)
class Resume:
    call: CallId


@dataclass(frozen=True, slots=True)
class Conference:
    """Join the calls into one conference mixed on this device."""

    calls: tuple[CallId, ...]


@dataclass(frozen=True, slots=True)
class Transfer:
    """Connect two calls to each other and leave them (a 3-way call outliving its host)."""

    calls: tuple[CallId, CallId]


@dataclass(frozen=True, slots=True)
class Bridge:
    """Connect two calls to each other through this device, without the handset; they stay the
    phone's calls (a forwarded caller and the destination), hung up by the phone when one ends."""

    calls: tuple[CallId, CallId]


@dataclass(frozen=True, slots=True)
class SendDtmf:
    call: CallId
    key: str


@dataclass(frozen=True, slots=True)
class DeclineInvitation:
    """Decline the invitation to the group conversation ``conversation``."""

    conversation: str


@dataclass(frozen=True, slots=True)
class ArmTimer:
    """Deliver ``TimerExpired(name)`` after ``seconds``, replacing a timer of the same name."""

    name: str
    seconds: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    name: str


@dataclass(frozen=True, slots=True)
class SaveFeature:
    """A star code changed a setting that must outlive a restart (dnd, private_mode, call_waiting)."""

    name: str
    on: bool
    was: bool = field(default=False, compare=False)  # the value before: restored if the save fails


@dataclass(frozen=True, slots=True)
class SaveForwarding:
    """A star code set or cleared a forwarding destination (``kind``: always, busy, no_answer)."""

    kind: str
    to: str
    was: str = field(default="", compare=False)  # the destination before: restored if the save fails


@dataclass(frozen=True, slots=True)
class Forward:
    """Note that ``call`` is being forwarded to ``to`` (the leg itself is a :class:`PlaceCall`)."""

    call: CallId
    to: str


@dataclass(frozen=True, slots=True)
class LogCall:
    """One line of the call log: ``kind`` is incoming, outgoing, missed or refused."""

    kind: str
    peer_uri: str
    peer_name: str
    reason: str = ""
    duration_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Say:
    """Speak ``text`` into the handset in ``language``, replacing any tone; a tone or silence
    commanded after it cuts it short. ``message``: then play that recorded message."""

    text: str
    language: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class ReadDevice:
    """Read the device's address, links and version and report them (``DeviceInfoChanged``)."""


@dataclass(frozen=True, slots=True)
class StartOver:
    """Reboot the device once ``after_s`` have passed (the goodbye prompt heard); ``wipe``: a
    factory reset instead (the data partition emptied, the phone started as new)."""

    wipe: bool = False
    after_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Greet:
    """Play the answering machine's greeting (``own``: the owner's recorded one, else ``text``
    spoken in ``language``), then a beep, into the call; report ``GreetingEnded``."""

    call: CallId
    text: str
    language: str
    own: bool = False


@dataclass(frozen=True, slots=True)
class RecordGreeting:
    """Say ``prompt`` and a beep in the handset, then record its microphone: the owner's greeting."""

    prompt: str
    language: str


@dataclass(frozen=True, slots=True)
class StopGreeting:
    """Stop recording the handset; the take waits (report ``GreetingTaken``)."""


@dataclass(frozen=True, slots=True)
class KeepGreeting:
    """The waiting take is the greeting from now on (kept on the data partition, whole or not at
    all; report ``OwnGreetingChanged``)."""


@dataclass(frozen=True, slots=True)
class DropGreeting:
    """The waiting take is discarded (the greeting stays as it was)."""


@dataclass(frozen=True, slots=True)
class DefaultGreeting:
    """The owner's greeting removed: the spoken one again (report ``OwnGreetingChanged``)."""


@dataclass(frozen=True, slots=True)
class Record:
    """Record what the caller says in ``call`` (until :class:`StopRecording`)."""

    call: CallId


@dataclass(frozen=True, slots=True)
class StopRecording:
    """Stop recording ``call``; ``keep``: store it as a message from the caller (else discard)."""

    call: CallId
    keep: bool
    caller_uri: str = ""
    caller_name: str = ""
    account: str = ""  # the account the call came in on (to call back)


@dataclass(frozen=True, slots=True)
class MessageHeard:
    message: str


@dataclass(frozen=True, slots=True)
class DeleteMessage:
    message: str


Effect = (
    PlayTone
    | StopTone
    | StartRinger
    | StopRinger
    | ReverseLine
    | OpenLoop
    | ShowMessages
    | Mute
    | AlertWaiting
    | SendWaitingCaller
    | SendCaller
    | ListenForDigits
    | PlaceCall
    | Accept
    | Refuse
    | HangUp
    | Hold
    | Resume
    | Conference
    | Transfer
    | Bridge
    | SendDtmf
    | DeclineInvitation
    | ArmTimer
    | CancelTimer
    | SaveFeature
    | SaveForwarding
    | Forward
    | LogCall
    | Say
    | ReadDevice
    | StartOver
    | Greet
    | RecordGreeting
    | StopGreeting
    | KeepGreeting
    | DropGreeting
    | DefaultGreeting
    | Record
    | StopRecording
    | MessageHeard
    | DeleteMessage
)
