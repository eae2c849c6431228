"""A pure driver for the phone machine: virtual time, timers fired in order, effects collected."""

from __future__ import annotations

from dataclasses import replace

from appliance.phone import effects as fx
from appliance.phone.events import (
    AccountChanged,
    CallArrived,
    CallState,
    CallStateChanged,
    Event,
    HookChanged,
    KeyPressed,
    TimerExpired,
)
from appliance.phone.machine import ringer_of, step, tone_of
from appliance.phone.model import (
    AccountInfo,
    AccountKind,
    CallId,
    Contact,
    Phone,
    Registration,
    Settings,
)

ALICE = "a" * 40
BOB = "b" * 40
STRANGER = "c" * 40
ME = "e" * 40

CONTACTS = (
    Contact("Alice", ALICE, speed_dial="2"),
    Contact("Bob", BOB, speed_dial="3", number="2001"),
    Contact("Carol", "sip:carol@pbx.example", speed_dial="4"),
)
JAMI = AccountInfo("jami", AccountKind.JAMI, ME, Registration.REGISTERED, "desk")
SIP = AccountInfo("sip1", AccountKind.SIP, "desk@pbx.example", Registration.REGISTERED, host="pbx.example")


class PhoneBench:
    """Drive the pure machine like a runtime would, in virtual time."""

    def __init__(self, settings: Settings | None = None, contacts: tuple[Contact, ...] = CONTACTS) -> None:
        self.phone = Phone.initial(settings or Settings(), contacts)
        self.now = 0.0
        self.effects: list[fx.Effect] = []  # everything, in order
        self.send(AccountChanged(JAMI))
        self.send(AccountChanged(SIP))
        self.effects.clear()

    # --- time ---
    def send(self, event: Event) -> list[fx.Effect]:
        self.phone, out = step(self.phone, event, self.now)
        self.effects.extend(out)
        self.check_invariants()
        return out

    def advance(self, seconds: float) -> list[fx.Effect]:
        """Let time pass, firing every timer that comes due, in deadline order."""
        end = self.now + seconds
        out: list[fx.Effect] = []
        while True:
            due = sorted((t, n) for n, t in self.phone.timers if t <= end + 1e-9)
            if not due:
                break
            deadline, name = due[0]
            self.now = max(self.now, deadline)
            out += self.send(TimerExpired(name))
        self.now = end
        return out

    # --- physical actions ---
    def lift(self) -> list[fx.Effect]:
        return self.send(HookChanged(True, self.now))

    def hang(self) -> list[fx.Effect]:
        out = self.send(HookChanged(False, self.now))
        return out + self.advance(self.phone.settings.flash_max_s + 0.01)

    def flash(self, seconds: float = 0.5) -> list[fx.Effect]:
        out = self.send(HookChanged(False, self.now))
        out += self.advance(seconds)
        return out + self.send(HookChanged(True, self.now))

    def press(self, keys: str) -> list[fx.Effect]:
        out: list[fx.Effect] = []
        for key in keys:
            out += self.send(KeyPressed(key))
        return out

    def rotary(self, digits: str, pps: float = 10.0, ratio: float = 0.6, gap: float = 0.7) -> list[fx.Effect]:
        out: list[fx.Effect] = []
        for digit in digits:
            for _ in range(10 if digit == "0" else int(digit)):
                out += self.send(HookChanged(False, self.now))
                out += self.advance(ratio / pps)
                out += self.send(HookChanged(True, self.now))
                out += self.advance((1 - ratio) / pps)
            out += self.advance(gap)
        return out

    # --- the far end ---
    def state(self, call: str, state: CallState, code: int = 0) -> list[fx.Effect]:
        return self.send(CallStateChanged(CallId(call), state, code))

    def ring_in(self, call: str = "in-1", uri: str = ALICE, name: str = "") -> list[fx.Effect]:
        return self.send(CallArrived(CallId(call), "jami", uri, name))

    def call_out(self, keys: str = "2#", answer: bool = True) -> str:
        """Lift, dial, and (optionally) have the far end answer; returns the call id."""
        if not self.phone.off_hook:
            self.lift()
        out = self.press(keys)
        placed = [e for e in out if isinstance(e, fx.PlaceCall)]
        assert placed, f"no call placed for {keys}: {out}"
        call = placed[0].call
        self.state(call, CallState.RINGING)
        if answer:
            self.state(call, CallState.CURRENT)
        return call

    # --- what the user perceives ---
    @property
    def tone(self) -> str | None:
        tone = tone_of(self.phone)
        return tone.value if tone else None

    @property
    def ringing(self) -> bool:
        return ringer_of(self.phone) is not None

    def check_invariants(self) -> None:
        phone = self.phone
        assert not (phone.off_hook and ringer_of(phone)), "ringer on while off hook"
        if not phone.off_hook:
            assert tone_of(phone) is None, "tone while on hook"
        ids = [c.id for c in phone.calls]
        assert len(ids) == len(set(ids)), "duplicate call"
        assert phone.active is None or phone.active in ids, "active call unknown"
        forwarded = [c for f in phone.forwards for c in (f.caller.id, f.leg)]
        assert len(forwarded) == len(set(forwarded)), "a call in two forwardings"
        assert not set(forwarded) & set(ids), "a forwarded call also rings or talks here"


def of(effects: list[fx.Effect], kind: type) -> list[fx.Effect]:
    return [e for e in effects if isinstance(e, kind)]


def with_settings(**changes: object) -> Settings:
    return replace(Settings(), **changes)  # type: ignore[arg-type]
