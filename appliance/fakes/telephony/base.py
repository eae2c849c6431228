"""What every part of the fake telephony core shares: its accounts and calls, whether it is up or
hung, the sink its events go to, its timers, and the record of the commands it was given."""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from dataclasses import dataclass

from appliance.fakes._watch import RECORDED, Watchable
from appliance.phone.events import AccountChanged, CallState, CallStateChanged, Event
from appliance.phone.model import AccountInfo, CallId, Registration
from appliance.ports import EventSink, TelephonyError

ECONNABORTED = 103  # jamid's code of a call ended before it was up (SIPCall::refuse)


@dataclass(slots=True)
class FakeCall:
    id: CallId
    account: str
    peer: str
    outgoing: bool
    state: CallState


def fake_device_id(uri: str) -> str:
    """This device's certificate fingerprint under the account ``uri`` (64 hex, as jamid's deviceID)."""
    return hashlib.sha256(f"device {uri}".encode()).hexdigest()


def fake_jami_id(seed: str) -> str:
    """A stable 40-hex ID, as a Jami account's would be."""
    return hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()


class FakeCore(Watchable):
    """The state and helpers :class:`~.daemon.FakeTelephony`'s parts work on; not a fake alone."""

    def __init__(self) -> None:
        super().__init__()
        self.accounts: dict[str, AccountInfo] = {}
        self._hung = False
        self.calls: dict[CallId, FakeCall] = {}
        # The newest commands only: a phone running for weeks on the desktop board stays bounded.
        self.commands: deque[tuple[str, ...]] = deque(maxlen=RECORDED)
        self._sink: EventSink | None = None
        self._latest: CallId | None = None
        self._up = False

    @property
    def latest(self) -> CallId | None:
        return self._latest if self._latest in self.calls else None

    def _set_account(self, account: AccountInfo) -> None:
        self.accounts[account.id] = account
        self._send(AccountChanged(account))

    def _ready(self, account_id: str) -> AccountInfo:
        self._answering()
        info = self.accounts.get(account_id)
        if not self._up or info is None or info.registration is not Registration.REGISTERED:
            raise TelephonyError(f"account {account_id} is not registered")
        return info

    def _answering(self) -> None:
        if self._hung:
            raise TelephonyError("the telephony core did not answer")

    def _known(self, call: CallId) -> FakeCall:
        self._answering()
        if not self._up or call not in self.calls:
            raise TelephonyError(f"no call {call}")
        return self.calls[call]

    def _pick(self, call: CallId | None) -> CallId:
        target = call or self.latest
        if target is None or target not in self.calls:
            raise TelephonyError("there is no call at the far end")
        return target

    def _set_state(self, call: CallId, state: CallState, only_from: CallState | None = None) -> None:
        current = self.calls.get(call)
        if current is None or (only_from is not None and current.state is not only_from):
            return
        current.state = state
        self._send(CallStateChanged(call, state))

    def _end(self, call: CallId, how: CallState = CallState.HUNGUP) -> None:
        if self.calls.pop(call, None) is not None:
            self._send(CallStateChanged(call, how, ECONNABORTED if how is CallState.INACTIVE else 0))
            self._send(CallStateChanged(call, CallState.OVER))

    def _later(self, delay: float, callback: object, *args: object) -> None:
        asyncio.get_running_loop().call_later(delay, callback, *args)  # type: ignore[arg-type]

    def _send(self, event: Event) -> None:
        if self._sink is not None:
            self._sink(event)

    def _record(self, action: str, **detail: str) -> None:
        self.commands.append((action, *detail.values()))
        self._notify(event="call", action=action, **detail)
