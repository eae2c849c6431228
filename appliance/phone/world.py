"""What the world around the phone reports: accounts, contacts, settings, trust, the clock, the
device, the telephony core going and coming back, a star code's save that failed."""

from __future__ import annotations

from . import calls, forwarding, progress, voicemail
from .context import Step
from .events import (
    AccessPointChanged,
    AccountChanged,
    ClockRead,
    ContactsChanged,
    DeviceInfoChanged,
    FeatureNotSaved,
    HandsetTestRequested,
    InvitationsChanged,
    NoticesChanged,
    SettingsChanged,
    SetupCodeChanged,
    TelephonyLost,
    TelephonyRestored,
    TrustedContactsChanged,
    TrustRequestsChanged,
    VoicemailChanged,
)
from .model import Mode

HANDSET_TEST = "handset_test"  # the test tone's length


def on_account(ctx: Step, event: AccountChanged) -> None:
    others = tuple(a for a in ctx.phone.accounts if a.id != event.account.id)
    ctx.set(accounts=others if event.removed else (*others, event.account))


def on_voicemail(ctx: Step, event: VoicemailChanged) -> None:
    others = tuple(v for v in ctx.phone.voicemail if v[0] != event.account)
    ctx.set(voicemail=(*others, (event.account, event.waiting)) if event.waiting else others)


_SAVED_FEATURES = ("dnd", "private_mode", "call_waiting")


def on_feature_not_saved(ctx: Step, event: FeatureNotSaved) -> None:
    """A star code whose save failed is undone; while its confirmation still sounds, the caller
    hears reorder and reads why instead (nothing is claimed that a restart would lose)."""
    kind = event.name.removeprefix("forwarding.")
    if kind != event.name and kind in forwarding.KINDS and isinstance(event.was, str):
        ctx.set(forwarding=forwarding.with_destination(ctx.phone.forwarding, kind, event.was))
    elif event.name in _SAVED_FEATURES:
        ctx.set(**{event.name: event.was})
    elif event.name == voicemail.SAVED and isinstance(event.was, bool):
        voicemail.switch(ctx, event.was, save=False)
    else:
        return
    if ctx.phone.mode is Mode.CONFIRM:
        progress.signal(ctx, Mode.REORDER, f"Not saved: {event.reason}")


def on_handset_test(ctx: Step, event: HandsetTestRequested) -> None:
    ctx.set(handset_test=True)
    ctx.arm(HANDSET_TEST, max(0.1, event.seconds))


def on_setup_code(ctx: Step, event: SetupCodeChanged) -> None:
    ctx.set(setup_code=event.code, page_address=event.address if event.code else "")


def on_access_point(ctx: Step, event: AccessPointChanged) -> None:
    ctx.set(access_point=event.ssid, access_point_key=event.passphrase if event.ssid else "")


def on_device(ctx: Step, event: DeviceInfoChanged) -> None:
    ctx.set(device=event.info)


def on_notices(ctx: Step, event: NoticesChanged) -> None:
    ctx.set(notices=max(0, event.count))


def on_clock(ctx: Step, event: ClockRead) -> None:
    ctx.set(clock=(event.seconds % 86400, ctx.now), clock_synced=event.synced)


def on_trust(ctx: Step, event: TrustRequestsChanged) -> None:
    ctx.set(trust_pending=max(0, event.pending))


def on_invitations(ctx: Step, event: InvitationsChanged) -> None:
    ctx.set(invitations=event.conversations)


def on_contacts(ctx: Step, event: ContactsChanged) -> None:
    ctx.set(contacts=event.contacts)


def on_trusted(ctx: Step, event: TrustedContactsChanged) -> None:
    ctx.set(trusted=event.contacts)


def on_settings(ctx: Step, event: SettingsChanged) -> None:
    s = event.settings
    ctx.set(settings=s, dnd=s.dnd, private_mode=s.private_mode, call_waiting=s.call_waiting,
            forwarding=s.forwarding)  # fmt: skip


def on_lost(ctx: Step, event: TelephonyLost) -> None:
    del event
    for call in ctx.phone.calls:
        calls.drop(ctx, call, "phone service lost")
    forwarding.lost(ctx)
    ctx.set(telephony_up=False, active=None, consult=None, conference=False)
    voicemail.lost(ctx)
    if ctx.phone.mode is Mode.MENU:
        return  # the menu goes on: it is how the owner learns what is wrong (3 says so)
    if ctx.phone.off_hook:
        progress.signal(ctx, Mode.REORDER, "Phone service is restarting")
    else:
        ctx.set(mode=Mode.IDLE)


def on_restored(ctx: Step, event: TelephonyRestored) -> None:
    del event
    ctx.set(telephony_up=True)
    phone = ctx.phone
    if phone.off_hook and not phone.calls and phone.mode in progress.PROGRESS_MODES:
        progress.dial_tone(ctx)
