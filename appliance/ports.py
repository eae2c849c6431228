"""The phone's ports: what the runtime needs from hardware and from the telephony core.

Every port has a real driver (``appliance.drivers``) and a fake twin (``appliance.fakes``) that
satisfy the same Protocol, so the same contract tests run against both. Methods called from the
event loop must not block: a driver whose library blocks or calls back on its own thread hands
work to a thread and comes back with ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from appliance.network.addressing import Ipv4
from appliance.network.links import Links
from appliance.network.wifi import Saved, ScannedNetwork
from appliance.phone.callerid import CallerId, Presentation
from appliance.phone.events import Event
from appliance.phone.model import CallId
from appliance.phone.screens import ScreenModel
from appliance.phone.tones import Cadence, Tone, TonePattern
from appliance.phone.trust import PeerIdentity, TrustRequest

HookEdge = Callable[[bool, float], None]
"""Receives a raw hook-switch edge: ``(off_hook, at)``, ``at`` in the loop's monotonic seconds."""

KeyListener = Callable[[str], None]
EventSink = Callable[[Event], None]


class HookSwitch(Protocol):
    """The handset's cradle switch.

    Implementations report every raw edge, bounce included: debouncing, flash and pulse
    decoding happen once, in the appliance, for every driver alike.
    """

    @property
    def off_hook(self) -> bool:
        """The raw level now: True when the handset is lifted."""
        ...

    async def start(self, on_edge: HookEdge) -> None:
        """Begin reporting edges to ``on_edge`` (called on the event loop)."""
        ...

    async def stop(self) -> None: ...


class Keypad(Protocol):
    """Keys pressed on the phone (``0-9 * #`` and ``A-D``), or DTMF digits detected on an analog line."""

    async def start(self, on_key: KeyListener) -> None:
        """Begin reporting each key press once, on the event loop."""
        ...

    def listen(self, active: bool) -> None:
        """The handset went off hook (True) or on hook. A DTMF detector listens to the line only
        while off hook; a keypad with buttons MAY ignore this."""
        ...

    async def stop(self) -> None: ...


class Ringer(Protocol):
    """A bell, a ringer chip, a ringtone on a speaker, or an analog phone's line (a SLIC).
    Must be silent after ``stop_ringing``."""

    @property
    def ringing(self) -> bool: ...

    def start_ringing(self, cadence: Cadence, caller: CallerId | None = None) -> None:
        """Ring with ``cadence`` until told to stop; calling it again restarts the cadence.

        ``caller`` is who calls and how the line presents them: a line driver sends it to the
        phone (caller ID) where its standard says, in or before the first ring cycle. A ringer
        with no phone behind it MAY ignore it.
        """
        ...

    def stop_ringing(self) -> None: ...

    def reverse_line(self, on: bool) -> None:
        """Answer supervision on an analog line: its polarity reversed while a call is connected,
        back to normal when the call ends (answering machines and PBXs read that second reversal
        as the far end hanging up). A ringer with no line behind it MAY ignore it."""
        ...

    def open_loop(self, ms: int) -> None:
        """Loop-current disconnect: no current on the line for ``ms``, then the line as before
        (the far end ended the call while the phone stays off hook). A line without a switch to
        open its loop, or a ringer with no line, MAY ignore it: the polarity's return then says
        the far end cleared."""
        ...

    def show_messages(self, waiting: bool, presentation: Presentation, ring: Cadence) -> None:
        """Visual message waiting: the phone's message lamp on or off, sent to it the way
        ``presentation`` sends caller ID (told only while the line is idle; ``ring`` is the
        country's, for a ring-pulse alert). A ringer with no phone behind it MAY ignore it."""
        ...

    def alert_waiting(self, presentation: Presentation, sent: Callable[[], None]) -> None:
        """Caller ID on call waiting, first: the alert tone (2130 + 2750 Hz) on the off-hook line;
        ``sent()`` (on the loop) once it has gone out, as the phone's ack is timed from its end.
        A phone that can show the waiting caller answers with a DTMF D or A (the keypad hears it).
        A ringer with no line MAY ignore it (then the phone core gives up on the ack)."""
        ...

    def send_caller(self, caller: CallerId) -> None:
        """NTT caller ID: the phone closed its loop in answer to the CAR signal (the ring for such
        a caller, stopped now); send it the caller's data. A ringer with no line MAY ignore it."""
        ...

    def send_waiting_caller(self, caller: CallerId) -> None:
        """Caller ID on call waiting, acknowledged: the waiting caller's data on the line. A ringer
        with no line MAY ignore it."""
        ...

    async def stop(self) -> None:
        """Release the hardware, leaving the ringer off."""
        ...


class Tones(Protocol):
    """Call-progress tones and spoken prompts in the handset. One sound at a time: ``play`` and
    ``say`` replace what plays (a prompt cut short by a key is simply replaced)."""

    @property
    def playing(self) -> Tone | None: ...

    def play(self, tone: Tone, pattern: TonePattern) -> None: ...

    def say(self, text: str, language: str, then: Path | None = None) -> None:
        """Speak ``text`` in ``language`` (``en``, ``de``, ``fr``...) once, then play the recorded
        message ``then`` if given (a file a :class:`CallRecorder` made), then fall silent.

        Must not block: an implementation that synthesises speech does it off the event loop.
        """
        ...

    def stop_tone(self) -> None:
        """Silence: no tone, no prompt."""
        ...

    async def stop(self) -> None: ...


class Display(Protocol):
    """A small screen. ``show`` must not block; a failing display must not raise."""

    def show(self, screen: ScreenModel) -> None: ...

    async def stop(self) -> None: ...


class Telephony(Protocol):
    """The telephony core (the Jami daemon, or its fake).

    It reports what happens as phone events, one event per observation, through the sink given to
    :meth:`start`; commands are coroutines that return once the core has accepted them. A command
    the core rejects raises :class:`TelephonyError`.
    """

    async def start(self, sink: EventSink) -> None:
        """Connect, then report accounts, contacts and pending requests as events."""
        ...

    async def stop(self) -> None: ...

    async def place_call(self, call: CallId, account: str, uri: str) -> None: ...

    async def accept(self, call: CallId) -> None: ...

    async def refuse(self, call: CallId) -> None: ...

    async def hang_up(self, call: CallId) -> None: ...

    async def hold(self, call: CallId) -> None: ...

    async def resume(self, call: CallId) -> None: ...

    async def conference(self, calls: tuple[CallId, ...]) -> None: ...

    async def transfer(self, calls: tuple[CallId, CallId]) -> None:
        """Connect the two calls to each other and leave both (attended transfer)."""
        ...

    async def bridge(self, calls: tuple[CallId, CallId]) -> None:
        """Connect the two calls to each other through this device, without the handset: each
        party hears the other, and both stay this device's calls until the phone hangs them up
        (a forwarded call: the caller and the destination)."""
        ...

    async def send_dtmf(self, call: CallId, key: str) -> None: ...

    async def mute(self, call: CallId, on: bool) -> None:
        """Silence (``on``) or restore ``call`` both ways: this phone's audio to its far end (what
        the line carries meanwhile, a caller ID acknowledgement, is not theirs to hear) and the far
        end's voice towards the phone (it would garble the alert and the data, GR-575)."""
        ...

    def trust_requests(self) -> list[TrustRequest]: ...

    async def accept_trust_request(self, uri: str) -> None: ...

    async def discard_trust_request(self, uri: str) -> None: ...

    async def send_trust_request(self, uri: str, vcard: bytes) -> None: ...

    async def decline_invitation(self, conversation: str) -> None:
        """Decline the pending invitation to the group conversation ``conversation`` (reported
        with InvitationsChanged)."""
        ...

    async def block(self, uri: str) -> None:
        """Refuse everything from ``uri`` from now on (calls, requests); it is no longer a contact."""
        ...

    async def unblock(self, uri: str) -> None: ...

    def blocked(self) -> list[str]: ...

    async def export_account(self, path: Path, password: str) -> None:
        """Write the Jami account (keys, contacts) to ``path``, encrypted with ``password``."""
        ...

    async def import_account(self, path: Path, password: str) -> None:
        """Make the account archived in ``path`` this phone's Jami account (the old one goes)."""
        ...

    def identities(self) -> dict[str, PeerIdentity]:
        """Peers' certificates pinned at first contact, by URI."""
        ...

    async def accept_identity(self, uri: str) -> PeerIdentity:
        """Take the changed certificate ``uri`` presented as its pin from now on."""
        ...


@dataclass(frozen=True)
class Recording:
    """What the caller said, as an audio file's bytes (``suffix`` its kind: ``.flac``, ``.wav``)."""

    data: bytes
    suffix: str
    duration_s: float


@runtime_checkable
class CallRecorder(Protocol):
    """A telephony core that can take a call for the answering machine: play a greeting into it
    and record the caller. Reports ``GreetingEnded`` once the greeting and beep are out, and
    ``CallerFinished`` when it hears the caller go silent or press ``#``."""

    @property
    def can_record(self) -> bool:
        """False where this core cannot take calls now (e.g. no sound path of its own)."""
        ...

    async def greet(self, call: CallId, text: str, language: str, recorded: Path | None = None) -> None:
        """Start playing the greeting (the owner's ``recorded`` file, else ``text`` spoken) and a beep."""
        ...

    async def start_recording(self, call: CallId) -> None: ...

    async def stop_recording(self, call: CallId) -> Recording | None:
        """Stop recording ``call``; what was recorded (None: nothing, or the call is unknown)."""
        ...


@runtime_checkable
class HandsetRecorder(Protocol):
    """A core that can record the handset's microphone on its own sound path: the owner's greeting,
    recorded as callers will hear it."""

    async def record_handset(self, prompt: str, language: str) -> None:
        """Say ``prompt`` and a beep in the handset, then record its microphone (returns at once)."""
        ...

    async def stop_handset(self) -> Recording | None:
        """Stop; what was recorded after the beep (None: nothing was being recorded)."""
        ...


@runtime_checkable
class FileSender(Protocol):
    """A telephony core that can send a file into a contact's conversation: the answering
    machine's new messages to the owner's own account (``voicemail.send_to``), to reach their app."""

    async def send_file(self, to: str, name: str, data: bytes) -> None:
        """Send ``data`` as the file ``name`` into the one-to-one conversation with ``to`` (a Jami
        ID). Where there is none yet it is started and ``to`` is asked to accept it; the file waits
        in it until they do."""
        ...


class Network(Protocol):
    """The device's own network: Wi-Fi networks in range, saved connections and their
    addressing, the setup access point, and the links' state for the link machines
    (:mod:`appliance.network`). Every method may take seconds (a scan, a join): the runtime
    calls them from tasks of their own. Refusals are
    :class:`~appliance.network.wifi.WifiRefusedError` with the field to correct; an unknown
    connection is ``LookupError``. A Wi-Fi key goes in and never comes back out."""

    async def links(self) -> Links:
        """The links now (``now`` is left for the caller to set)."""
        ...

    async def scan(self, rescan: bool = True) -> list[ScannedNetwork]:
        """Networks in range, strongest first (``rescan``: look again before answering)."""
        ...

    async def saved(self) -> list[Saved]: ...

    async def join(self, ssid: str, psk: str | None, *, hidden: bool = False) -> str:
        """Join ``ssid`` (``psk`` None: an open network) and keep it; its connection's UUID."""
        ...

    async def forget(self, uuid: str) -> None: ...

    async def set_ipv4(self, uuid: str, ipv4: Ipv4) -> None:
        """The connection's addressing; taken at once if it is up."""
        ...

    async def open_access_point(self, ssid: str, passphrase: str) -> None: ...

    async def close_access_point(self) -> None: ...

    async def reactivate(self, uuid: str) -> None:
        """Activate a saved connection again (the link watchdog)."""
        ...

    async def reset_radio(self) -> None:
        """Turn the Wi-Fi radio off and on (the link watchdog's last resort)."""
        ...


class TelephonyError(RuntimeError):
    """The telephony core refused a command or is unreachable."""


__all__ = [
    "CallRecorder",
    "CallerId",
    "Display",
    "EventSink",
    "FileSender",
    "HandsetRecorder",
    "HookEdge",
    "HookSwitch",
    "KeyListener",
    "Keypad",
    "Network",
    "PeerIdentity",
    "Recording",
    "Ringer",
    "Telephony",
    "TelephonyError",
    "Tones",
    "TrustRequest",
]
