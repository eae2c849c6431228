"""The phone core's telephony commands, each as the call on the telephony core that carries it out."""

from __future__ import annotations

from collections.abc import Awaitable

from appliance.phone import effects as fx
from appliance.ports import Telephony

from .recordings import Recordings


def telephony_command(core: Telephony, effect: fx.Effect, recordings: Recordings) -> Awaitable[None]:
    """The awaitable that does ``effect`` on ``core`` (the answering machine's through ``recordings``)."""
    match effect:
        case fx.PlaceCall(call, account, uri):
            return core.place_call(call, account, uri)
        case fx.Accept(call):
            return core.accept(call)
        case fx.Refuse(call):
            return core.refuse(call)
        case fx.HangUp(call):
            return core.hang_up(call)
        case fx.Hold(call):
            return core.hold(call)
        case fx.Resume(call):
            return core.resume(call)
        case fx.Conference(calls):
            return core.conference(calls)
        case fx.Transfer(calls):
            return core.transfer(calls)
        case fx.Bridge(calls):
            return core.bridge(calls)
        case fx.SendDtmf(call, key):
            return core.send_dtmf(call, key)
        case fx.Mute(call, on):
            return core.mute(call, on)
        case fx.DeclineInvitation(conversation):
            return core.decline_invitation(conversation)
        case fx.Greet():
            return recordings.greet(effect)
        case fx.Record():
            return recordings.record(effect)
    raise AssertionError(f"not a command: {effect}")
