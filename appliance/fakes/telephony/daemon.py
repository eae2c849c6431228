"""The fake Jami daemon: its life (start, crash, hang), its accounts, its calls and the far end.

Contacts (:mod:`.contacts`) and the answering machine's side (:mod:`.recorder`) are its bases,
each over the state they share (:mod:`.base`); :class:`FakeTelephony` is the one fake.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, replace
from pathlib import Path

from appliance.phone import trust
from appliance.phone.events import (
    CallArrived,
    CallState,
    CallStateChanged,
    ConferenceFormed,
    InvitationsChanged,
    TelephonyLost,
    TelephonyRestored,
    VoicemailChanged,
)
from appliance.phone.model import AccountInfo, AccountKind, CallId, Registration
from appliance.ports import EventSink, TelephonyError

from .base import FakeCall, fake_device_id, fake_jami_id
from .contacts import FakeContacts
from .recorder import FakeCallRecorder

EBUSY = 16  # jamid's code of PEER_BUSY on a Jami call


@dataclass(frozen=True, slots=True)
class FakeSipAccount:
    id: str
    username: str
    registrar: str = ""


class FakeTelephony(FakeContacts, FakeCallRecorder):
    """An in-memory telephony core that behaves like the Jami daemon as measured.

    Accounts go TRYING then REGISTERED after ``register_delay_s``; a placed call is CONNECTING,
    then RINGING after ``ring_delay_s``; an accepted call is CURRENT after ``answer_delay_s``.
    The far end is driven with ``remote_answer()``, ``remote_busy()``, ``remote_fail()``,
    ``remote_hangup()``, and calls arrive with ``ring_in()``. ``crash()`` loses every call and
    comes back after ``restart_delay_s``, like a daemon restarted by its supervisor.

    Contact requests arrive with ``receive_trust_request()`` and ``receive_invitation()``
    (:class:`~.contacts.FakeContacts`). It also takes calls for the answering machine (a
    :class:`~appliance.ports.CallRecorder`, :class:`~.recorder.FakeCallRecorder`): a greeting lasts
    ``greeting_s_per_char`` per character plus the beep, and ``caller_says()``, ``remote_done()``
    and ``remote_silent()`` are the caller.
    """

    def __init__(
        self,
        jami_name: str | None = "Jami phone",
        sip_accounts: tuple[FakeSipAccount, ...] = (),
        *,
        seed: str = "desktop",
        account_file: Path | None = None,
        register_delay_s: float = 0.8,
        ring_delay_s: float = 0.35,
        answer_delay_s: float = 0.045,
        restart_delay_s: float = 1.0,
        hang_noticed_s: float = 5.0,
        hold_call_s: float = 10.0,
        greeting_s_per_char: float = 0.06,
    ) -> None:
        super().__init__()
        self.account_file = account_file
        if jami_name is not None:
            uri = self._remembered_account() or fake_jami_id(seed)
            self.accounts["jami"] = AccountInfo("jami", AccountKind.JAMI, uri, name=jami_name,
                                                device=fake_device_id(uri))  # fmt: skip
        for sip in sip_accounts:
            uri = f"{sip.username}@{sip.registrar}" if sip.registrar else sip.username
            self.accounts[sip.id] = AccountInfo(sip.id, AccountKind.SIP, uri, host=sip.registrar)
        self.register_delay_s = register_delay_s
        self.ring_delay_s = ring_delay_s
        self.answer_delay_s = answer_delay_s
        self.restart_delay_s = restart_delay_s
        self.hang_noticed_s = hang_noticed_s
        self.hold_call_s = hold_call_s
        self.greeting_s_per_char = greeting_s_per_char
        self._held: dict[CallId, tuple[str, str, float]] = {}  # calls waiting for their account
        self.playback_muted = False  # the far end's voice towards the phone muted (mute())
        self._incoming = 0

    # --- the port ------------------------------------------------------------------------------

    async def start(self, sink: EventSink) -> None:
        self._sink = sink
        self._come_up()

    async def stop(self) -> None:
        self._sink = None
        self._up = False

    async def place_call(self, call: CallId, account: str, uri: str) -> None:
        info = self.accounts.get(account)
        if (
            self._up
            and not self._hung
            and info is not None
            and info.registration is not Registration.REGISTERED
        ):
            # As the adapter: held until the account is registered (just after a restart), or failed.
            self._held[call] = (account, uri, asyncio.get_running_loop().time() + self.hold_call_s)
            self._later(0.05, self._place_held, call)
            return
        self._place(call, account, uri)

    def _place_held(self, call: CallId) -> None:
        held = self._held.get(call)
        if held is None:
            return
        account, uri, deadline = held
        info = self.accounts.get(account)
        if self._up and info is not None and info.registration is Registration.REGISTERED:
            del self._held[call]
            self._place(call, account, uri)
        elif asyncio.get_running_loop().time() > deadline:
            del self._held[call]
            self._send(CallStateChanged(call, CallState.FAILURE, 503))
        else:
            self._later(0.05, self._place_held, call)

    def _place(self, call: CallId, account: str, uri: str) -> None:
        info = self._ready(account)
        self._record("place", call=call, to=uri, account=info.id)
        self.calls[call] = FakeCall(call, account, uri, outgoing=True, state=CallState.CONNECTING)
        self._latest = call
        self._send(CallStateChanged(call, CallState.CONNECTING))
        self._later(self.ring_delay_s, self._set_state, call, CallState.RINGING, CallState.CONNECTING)

    async def accept(self, call: CallId) -> None:
        self._known(call)
        self._record("answer", call=call)
        self._later(self.answer_delay_s, self._set_state, call, CallState.CURRENT, CallState.INCOMING)

    async def refuse(self, call: CallId) -> None:
        self._known(call)
        self._record("refuse", call=call)
        # As jamid (SIPCall::refuse): a call never up ends INACTIVE (ECONNABORTED), never HUNGUP.
        self._end(call, CallState.INACTIVE)

    async def hang_up(self, call: CallId) -> None:
        if self._held.pop(call, None) is not None:  # never placed
            self._send(CallStateChanged(call, CallState.HUNGUP))
            self._send(CallStateChanged(call, CallState.OVER))
            return
        self._known(call)
        self._record("hangup", call=call)
        self._end(call)

    async def hold(self, call: CallId) -> None:
        self._known(call)
        self._record("hold", call=call)
        self._set_state(call, CallState.HOLD)

    async def resume(self, call: CallId) -> None:
        self._known(call)
        self._record("resume", call=call)
        self._set_state(call, CallState.CURRENT)

    async def conference(self, calls: tuple[CallId, ...]) -> None:
        for call in calls:
            self._known(call)
        self._record("conference", calls=",".join(calls))
        for call in calls:
            self._set_state(call, CallState.CURRENT)
        self._send(ConferenceFormed(calls))

    async def bridge(self, calls: tuple[CallId, CallId]) -> None:
        for call in calls:
            self._known(call)
        self._record("bridge", calls=",".join(calls))  # they hear each other; both stay ours

    async def transfer(self, calls: tuple[CallId, CallId]) -> None:
        for call in calls:
            self._known(call)
        self._record("transfer", calls=",".join(calls))
        for call in calls:  # the two parties now talk to each other, not to us
            self.calls.pop(call, None)

    async def send_dtmf(self, call: CallId, key: str) -> None:
        self._known(call)
        self._record("dtmf", call=call, key=key)

    async def mute(self, call: CallId, on: bool) -> None:
        if not on:  # the whole device's, as the daemon's playback: lifted even for a call gone
            self.playback_muted = False
        self._known(call)
        self.playback_muted = on
        self._record("mute", call=call, on="on" if on else "off")

    async def export_account(self, path: Path, password: str) -> None:
        """The fake's archive: the account's ID, sealed with a hash of the password."""
        account = self.accounts.get("jami")
        if account is None:
            raise TelephonyError("no Jami account")
        key = hashlib.sha256(password.encode()).hexdigest()
        path.write_text(json.dumps({"fake-jami-archive": account.uri, "key": key}))  # noqa: ASYNC240 - tiny

    async def import_account(self, path: Path, password: str) -> None:
        try:
            archive = json.loads(path.read_text())  # noqa: ASYNC240 - tiny
            uri = archive["fake-jami-archive"]
        except (OSError, ValueError, KeyError, TypeError):
            raise TelephonyError("not an account archive") from None
        if archive.get("key") != hashlib.sha256(password.encode()).hexdigest():
            raise TelephonyError("wrong archive password")
        self._record("import-account", uri=uri)
        if self.account_file is not None:
            self.account_file.write_text(uri + "\n")
        account = self.accounts.get("jami") or AccountInfo("jami", AccountKind.JAMI, uri)
        self._set_account(replace(account, uri=uri, device=fake_device_id(uri)))

    def _remembered_account(self) -> str:
        """With an ``account_file``, the account is made once (a random ID) and remembered, like a
        real one: a factory reset that empties the data makes a new one, an import replaces it."""
        if self.account_file is None:
            return ""
        if not self.account_file.exists():
            self.account_file.parent.mkdir(parents=True, exist_ok=True)
            self.account_file.write_text(fake_jami_id(secrets.token_hex(16)) + "\n")
        return self.account_file.read_text().strip()

    # --- the far end and the world -------------------------------------------------------------

    def ring_in(self, uri: str, name: str = "", account: str = "jami", certificate: str = "") -> CallId:
        """A call arrives; a Jami caller's ``certificate`` fingerprint is pinned at first contact
        (made up from the URI when not given) and a different one later flags the call."""
        admission = trust.admit_call(uri, blocked=self._blocked, jami=account == "jami")
        if admission is trust.Admission.REFUSE:
            self._record("refuse-blocked", uri=uri)
            return CallId("")
        self._incoming += 1
        call = CallId(f"in-{self._incoming}")
        self.calls[call] = FakeCall(call, account, uri, outgoing=False, state=CallState.INCOMING)
        self._latest = call
        changed = False
        if admission is trust.Admission.CHECK_CERTIFICATE:
            fingerprint = certificate or fake_jami_id("certificate " + uri)
            verdict, stored = trust.pin(self._identities, uri, fingerprint, time.time())
            if stored is not None:
                self._identities[uri] = stored
            changed = verdict is trust.Verdict.CHANGED
        self._send(CallArrived(call, account, uri, name, identity_changed=changed))
        return call

    def remote_answer(self, call: CallId | None = None) -> None:
        self._set_state(self._pick(call), CallState.CURRENT)

    def remote_busy(self, call: CallId | None = None) -> None:
        """The peer is busy (486): PEER_BUSY, then OVER, as jamid (SIPCall::onBusyHere, removeCall)."""
        target = self._pick(call)
        self.calls.pop(target, None)
        self._send(CallStateChanged(target, CallState.PEER_BUSY, EBUSY))
        self._send(CallStateChanged(target, CallState.OVER))

    def remote_fail(self, call: CallId | None = None, code: int = 408) -> None:
        target = self._pick(call)
        self._send(CallStateChanged(target, CallState.FAILURE, code))
        self.calls.pop(target, None)

    def remote_hangup(self, call: CallId | None = None) -> None:
        self._end(self._pick(call))

    def voicemail(self, waiting: int, account: str = "jami") -> None:
        self._send(VoicemailChanged(account, waiting))

    def crash(self) -> None:
        """The daemon dies: every call is gone; it comes back after ``restart_delay_s``."""
        self._up = False
        self.calls.clear()
        self._held.clear()
        self._drop_recordings()
        self._record("crash")
        self._send(InvitationsChanged(()))  # as the adapter: read again at the restart, new then
        self._send(TelephonyLost("the telephony core stopped"))
        self._later(self.restart_delay_s, self._restart)

    def hang(self) -> None:
        """The daemon stops answering (SIGSTOP): commands fail as unanswered; after
        ``hang_noticed_s`` the adapter notices, kills it and every call is gone, as in a crash."""
        self._hung = True
        self._record("hang")
        self._later(self.hang_noticed_s, self._noticed_hung)

    def _noticed_hung(self) -> None:
        self._hung = False
        self.crash()

    # --- internals -----------------------------------------------------------------------------

    def _restart(self) -> None:
        self._come_up()
        self._send(TelephonyRestored())

    def _come_up(self) -> None:
        self._up = True
        for account in list(self.accounts.values()):
            self._set_account(replace(account, registration=Registration.TRYING))
            self._later(self.register_delay_s, self._register, account.id)
        self._report_contacts()

    def _register(self, account_id: str) -> None:
        if self._up and account_id in self.accounts:
            self._set_account(replace(self.accounts[account_id], registration=Registration.REGISTERED))
