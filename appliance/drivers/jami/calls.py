"""The phone's call commands on the Jami daemon: placing (held while the account connects), answering,
hanging up, holding, conferences, bridges, transfers, mute and DTMF; a layer of ``JamiTelephony``."""

from __future__ import annotations

import asyncio
import logging

from appliance.phone.events import CallState, CallStateChanged, ConferenceFormed
from appliance.phone.model import CallId
from appliance.ports import TelephonyError

from . import defs
from .link import command
from .signals import JamiSignals

log = logging.getLogger(__name__)

HOLD_CALL_S = 10.0  # a call placed while its account connects waits this long for it
SERVICE_UNAVAILABLE = 503  # the SIP code the phone shows as "Service unavailable"


class JamiCalls(JamiSignals):
    """The daemon's calls as the phone's commands; ``JamiTelephony`` sets ``hold_call_s`` and ``_held``."""

    hold_call_s: float
    _held: set[CallId]  # calls placed before their account was registered

    @command
    async def place_call(self, call: CallId, account: str, uri: str) -> None:
        """Place the call; one from an account not registered yet (just after a restart of the
        daemon, its account is still connecting) is held until it is, at most ``hold_call_s``,
        without holding up the commands behind it: then placed, or failed in plain words."""
        if self._can_call_from(account):
            await self._place(call, account, uri)
            return
        log.info("call %s held until account %s is registered", call, account)
        self._call_account[call] = account
        self._held.add(call)
        self._spawn(self._place_when_registered(call, account, uri))

    async def _place(self, call: CallId, account: str, uri: str) -> None:
        daemon_call = await self._call("placeCallWithMedia", account, uri, defs.AUDIO_ONLY)
        if not daemon_call:
            raise TelephonyError(f"jamid would not call {uri}")
        self._call_account[call] = account
        self._bind_call_id(daemon_call, call)
        self._replay_early_states(daemon_call)

    async def _place_when_registered(self, call: CallId, account: str, uri: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.hold_call_s
        try:
            while not self._can_call_from(account):
                if call not in self._held:
                    return  # hung up while held
                if loop.time() > deadline:
                    log.warning(
                        "call %s not placed: its account did not connect in %g s", call, self.hold_call_s
                    )
                    self._send(CallStateChanged(call, CallState.FAILURE, SERVICE_UNAVAILABLE))
                    return
                await asyncio.sleep(0.05)
            if call not in self._held:
                return  # hung up while held
            self._held.discard(call)
            try:
                await self._place(call, account, uri)
            except TelephonyError as exc:
                log.warning("held call %s not placed: %s", call, exc)
                self._send(CallStateChanged(call, CallState.FAILURE))
        finally:
            self._held.discard(call)

    def _drop_held(self, call: CallId) -> bool:
        """Hang up a call still held for its account: it never reached the daemon."""
        if call not in self._held:
            return False
        self._held.discard(call)
        self._call_account.pop(call, None)
        self._send(CallStateChanged(call, CallState.HUNGUP))
        self._send(CallStateChanged(call, CallState.OVER))
        return True

    @command
    async def accept(self, call: CallId) -> None:
        await self._call_expecting_true(
            "acceptWithMedia", self._account(call), self._id(call), defs.AUDIO_ONLY
        )

    @command
    async def refuse(self, call: CallId) -> None:
        await self._call_expecting_true("refuse", self._account(call), self._id(call))

    @command
    async def hang_up(self, call: CallId) -> None:
        if self._drop_held(call):
            return
        await self._call_expecting_true("hangUp", self._account(call), self._id(call))

    @command
    async def hold(self, call: CallId) -> None:
        await self._call_expecting_true("hold", self._account(call), self._id(call))

    @command
    async def resume(self, call: CallId) -> None:
        await self._call_expecting_true("unhold", self._account(call), self._id(call))

    @command
    async def conference(self, calls: tuple[CallId, ...]) -> None:
        first, *others = calls
        for other in others:
            await self._call_expecting_true(
                "joinParticipant",
                self._account(first),
                self._id(first),
                self._account(other),
                self._id(other),
            )
        self._send(ConferenceFormed(calls))

    @command
    async def bridge(self, calls: tuple[CallId, CallId]) -> None:
        # A conference of the two on this device, then the host detached from it: holdConference
        # on a conference detaches the local participant (state ACTIVE_DETACHED, measured on
        # jamid 13.7) and the two go on hearing each other through its mixer. attendedTransfer
        # instead sent the caller's daemon a REFER: its call ended and the new one was not its phone's.
        a, b = calls
        account = self._account(a)
        await self._call_expecting_true(
            "joinParticipant", account, self._id(a), self._account(b), self._id(b)
        )
        conference = await self._call("getConferenceId", account, self._id(a))
        await self._call_expecting_true("holdConference", account, conference)

    @command
    async def transfer(self, calls: tuple[CallId, CallId]) -> None:
        a, b = calls
        await self._call_expecting_true("attendedTransfer", self._account(a), self._id(a), self._id(b))

    @command
    async def mute(self, call: CallId, on: bool) -> None:
        # muteLocalMedia only stops what we send. The far end's voice towards the phone: this
        # daemon has no per-call receive mute, but its PulseAudio layer writes silence while its
        # playback is muted (pulselayer.cpp writeToSpeaker, 13.7.0); not saved in its preferences.
        # It is the whole device's, so it is lifted first, even for a call that has gone meanwhile.
        if not on:
            await self._call("mutePlayback", False)
        await self._call_expecting_true(
            "muteLocalMedia", self._account(call), self._id(call), defs.MEDIA_AUDIO, on
        )
        if on:
            await self._call("mutePlayback", True)

    @command
    async def send_dtmf(self, call: CallId, key: str) -> None:
        del call  # jamid's playDTMF acts on the current call
        await self._call("playDTMF", key)
