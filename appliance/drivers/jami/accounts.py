"""The adapter's accounts: this phone's one Jami identity, found again (or adopted, or made) at
every start and never a second one; the configured SIP accounts; what the phone is told of their
registration; the identity's export and import.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from appliance.durable import atomic_write
from appliance.notices import Notices, Severity
from appliance.phone.events import AccountChanged
from appliance.phone.model import AccountInfo, AccountKind, Registration
from appliance.ports import TelephonyError

from . import defs
from .daemon import JamiDaemon
from .jams import NOTICE_JAMS, EnrolmentRefused, JamsEnrolment
from .link import DaemonLink, command
from .pins import keep_aside

log = logging.getLogger(__name__)

ACCOUNT_FILE = "account-id"
SIP_FILE = "sip-accounts.json"
NOTICE_ACCOUNT_FILE = "jami.account-id"
NOTICE_SIP_FILE = "jami.sip-accounts"
_ACCOUNT_ID = re.compile(r"[0-9A-Za-z_.-]{1,64}")  # jamid's are 16 hex digits; tests use names

# A SIP line the daemon still calls TRYING this long after its REGISTER is registered again, as
# often, for half a minute (see _register_again_while_trying): a registrar answers in well under
# this (two round trips with digest authentication). The last try is then left to finish or fail.
SIP_REGISTER_AGAIN_EVERY_S = 2.0
SIP_REGISTER_AGAIN_TIMES = 15

_REGISTRATION = {
    "REGISTERED": Registration.REGISTERED,
    "TRYING": Registration.TRYING,
    "INITIALIZING": Registration.TRYING,
    "UNREGISTERED": Registration.UNREGISTERED,
}


@dataclass(frozen=True, slots=True)
class SipAccountSpec:
    """A SIP account from the config: with a registrar (digest credentials) or IP-to-IP."""

    id: str
    username: str
    password: str = field(default="", repr=False)  # never in a log line or an error
    registrar: str = ""
    local_port: int = 5060


class JamiAccounts(DaemonLink):
    """The accounts' bookkeeping under ``root`` (``account-id``, ``sip-accounts.json``)."""

    def __init__(
        self,
        root: Path,
        daemon: JamiDaemon,
        *,
        display_name: str,
        bootstrap: list[str],
        sip_accounts: tuple[SipAccountSpec, ...],
        announce_timeout_s: float,
        notices: Notices,
        on_step: Callable[[str, str], Awaitable[None]] | None,
        manager: JamsEnrolment | None = None,
    ) -> None:
        super().__init__()
        self.manager = manager
        self.root = root
        self.daemon = daemon
        self.display_name = display_name
        self.bootstrap = bootstrap
        self.sip_accounts = sip_accounts
        self.announce_timeout_s = announce_timeout_s
        self.notices = notices
        self._sip: dict[str, SipAccountSpec] = {}  # daemon account id -> its spec
        self._sip_reported: dict[str, Registration] = {}  # what the phone was last told of each
        self._sip_signals: dict[str, int] = {}  # registration signals seen about each (see _account_signals)
        self._sip_retrying: set[str] = set()  # lines being registered again (_register_again_while_trying)
        self.account_id = ""
        self.jami_id = ""
        self.registered_name = ""  # a name on the Jami name server, when the account has one
        self.device_id = ""  # this device's certificate fingerprint (one account, many devices)
        self._announced = False
        self._last_state = "TRYING"
        self._account_signals = 0  # signals seen about our account, to tell a stale read from a fresh one
        self._reported = Registration.UNREGISTERED  # what the phone was last told of the account
        self.refused = ""  # why the JAMS gave no account (then there is none), in plain words
        # Tests only: awaited at each step of making the account, with the step and the account
        # ("adding", "added", "made", "remembered"); a power cut is injected there.
        self._on_step = on_step

    async def _ensure_account(self) -> None:
        """This phone's one Jami account: the one ``root/account-id`` names; or, when that file is
        missing or names an account the daemon does not have, the Jami account the daemon already
        has (its data directory is this phone's alone, so it can only be ours: a first run cut short
        between the daemon making it and the file being written); or else a new one.

        An account is remembered only once the daemon has made its identity and its files are
        synced to disk, so account-id never names an account a power cut could take back.
        """
        jami = await self._jami_accounts()
        wanted, damaged = self._remembered_account()
        if wanted in jami:
            self.account_id = wanted
            for stray in [a for a in jami if a != wanted]:
                # Only an account switch cut short leaves one: the old account after the new one was
                # remembered (its removal was next), or a new one never remembered (undone here).
                log.warning("removing Jami account %s: not this phone's (account-id names %s)", stray, wanted)
                try:
                    await self._call("removeAccount", stray)
                except TelephonyError as exc:
                    log.warning("Jami account %s not removed: %s", stray, exc)
        else:
            try:
                self.account_id = await self._adopt_or_create(jami, wanted)
            except EnrolmentRefused as refused:
                self._without_account(refused)
                return
        self.refused = ""
        self.notices.clear(NOTICE_JAMS)
        details = await self._call("getAccountDetails", self.account_id)
        self.jami_id = details.get(defs.ACCOUNT_USERNAME, "").removeprefix("ring:")
        if damaged or wanted not in ("", self.account_id):
            self._tell_of_account_file(damaged=damaged, made=self.account_id not in jami)
        wanted_hosts = ";".join(self.bootstrap) if self.bootstrap else defs.PUBLIC_BOOTSTRAP
        if details.get(defs.ACCOUNT_HOSTNAME) != wanted_hosts:  # the bootstrap setting changed since
            log.info("DHT bootstrap of the account: %s", wanted_hosts)
            await self._call(
                "setAccountDetails", self.account_id, {**details, defs.ACCOUNT_HOSTNAME: wanted_hosts}
            )

    def _remembered_account(self) -> tuple[str, bool]:
        """The account ``root/account-id`` names ("" if none) and whether the file was damaged
        (unreadable, empty, not one account id): then it is kept aside for a person, never reused."""
        remembered = self.root / ACCOUNT_FILE
        try:
            text = remembered.read_bytes().decode("ascii").strip()
        except FileNotFoundError:
            return "", False
        except (OSError, UnicodeDecodeError):
            text = ""
        if _ACCOUNT_ID.fullmatch(text):
            return text, False
        kept = keep_aside(remembered)
        log.error("%s damaged (%r...): kept as %s", remembered, text[:20], kept.name)
        return "", True

    def _tell_of_account_file(self, *, damaged: bool, made: bool) -> None:
        what = (
            f"The file naming this phone's Jami account (jami/{ACCOUNT_FILE}) was damaged; it was kept "
            f"as {ACCOUNT_FILE}.damaged."
            if damaged
            else f"The file naming this phone's Jami account (jami/{ACCOUNT_FILE}) named an account the "
            "Jami service does not have."
        )
        if made:
            text = (
                f"{what} No account was found, so a new Jami identity was made ({self.jami_id}): "
                "contacts who knew this phone by its old ID must add the new one."
            )
        else:
            text = f"{what} The phone's own account was found again ({self.jami_id}); nothing is lost."
        self.notices.raise_(NOTICE_ACCOUNT_FILE, text, Severity.ERROR if made else Severity.WARNING)

    async def _jami_accounts(self) -> dict[str, dict[str, str]]:
        """The daemon's Jami (RING) accounts and their details, in getAccountList's order."""
        accounts = {}
        for account in await self._call("getAccountList"):
            details = await self._call("getAccountDetails", account)
            if details.get(defs.ACCOUNT_TYPE) == "RING":
                accounts[account] = details
        return accounts

    async def _adopt_or_create(self, jami: dict[str, dict[str, str]], wanted: str) -> str:
        made = [a for a, details in jami.items() if details.get(defs.ACCOUNT_USERNAME)]
        # One without its identity yet is one the daemon is still loading (it rebuilds an account
        # whose config.yml is empty from its archive): it gets its chance, after the made ones.
        for account in made + [a for a in jami if a not in made]:
            others = [a for a in jami if a != account]
            log.warning(
                "adopting the daemon's Jami account %s (account-id named %s)%s", account, wanted or "none",
                f"; also there, left as they are: {', '.join(others)}" if others else "",
            )  # fmt: skip
            try:
                await self._take_account(account)
            except TelephonyError as exc:
                log.warning("Jami account %s not usable (%s): removing it", account, exc)
                await self._call("removeAccount", account)
                continue
            return account
        details = {**defs.JAMI_ACCOUNT, defs.ACCOUNT_DISPLAY_NAME: self.display_name}
        if self.bootstrap:
            details[defs.ACCOUNT_HOSTNAME] = ";".join(self.bootstrap)
        if self.manager is not None:  # an account adopted above stays as it was enrolled
            details[defs.ACCOUNT_MANAGER_URI] = self.manager.uri
            details[defs.ACCOUNT_MANAGER_USERNAME] = self.manager.username
            details[defs.ACCOUNT_ARCHIVE_PASSWORD] = self.manager.password
        await self._step("adding", "")
        created: str = await self._call("addAccount", details)
        if not created:
            raise TelephonyError("jamid would not make a Jami account")
        log.info("created Jami account %s", created)
        await self._step("added", created)
        try:
            await self._take_account(created)
        except TelephonyError as exc:
            if self.manager is None:
                raise
            with contextlib.suppress(TelephonyError):  # the daemon removes it itself; if not yet
                if created in await self._call("getAccountList"):
                    await self._call("removeAccount", created)
            raise EnrolmentRefused(self.manager, str(exc)) from None
        return created

    def _without_account(self, refused: EnrolmentRefused) -> None:
        """The JAMS did not enrol the phone: it goes on without a Jami account (its SIP lines work,
        its page is there to fix the settings) and tries again only at its next start, which a
        change of the JAMS settings makes (config/provisioning: a start-only setting)."""
        log.error("%s", refused)
        self.account_id = self.jami_id = ""
        self.refused = refused.words
        self.notices.raise_(NOTICE_JAMS, refused.words, Severity.ERROR)
        self._report_account("ERROR")

    async def _take_account(self, account: str) -> str:
        """Wait for the daemon to make ``account``'s identity, sync its files, then remember it as
        this phone's; its Jami ID."""
        jami_id = await self._wait_for_identity(account)
        await asyncio.to_thread(self.daemon.sync_account, account)
        await self._step("made", account)
        self._remember_account(account)
        await self._step("remembered", account)
        return jami_id

    async def _wait_for_identity(self, account: str) -> str:
        """``account``'s Jami ID once the daemon has made (or loaded) it: its keys and archive are
        written before the ID shows. An account the daemon gives up on (an archive that does not
        open: it reports an error and removes the account) raises TelephonyError."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.announce_timeout_s
        while True:
            if account not in await self._call("getAccountList"):
                raise TelephonyError("jamid dropped the account (an archive it could not open?)")
            details: dict[str, str] = await self._call("getAccountDetails", account)
            if jami_id := details.get(defs.ACCOUNT_USERNAME, "").removeprefix("ring:"):
                return jami_id
            volatile = await self._call("getVolatileAccountDetails", account)
            state = volatile.get("Account.registrationStatus", "")
            if state.startswith("ERROR"):
                raise TelephonyError(f"jamid could not make the account ({state})")
            if loop.time() > deadline:
                raise TelephonyError(f"jamid made no identity in {self.announce_timeout_s:.0f} s")
            await asyncio.sleep(0.1)

    async def _step(self, step: str, account: str) -> None:
        if self._on_step is not None:
            await self._on_step(step, account)

    def _remember_account(self, account: str) -> None:
        """``root/account-id``: which of the daemon's accounts is this phone's (durably: a power cut
        leaves the old name or the new one, never an empty file)."""
        atomic_write(self.root / ACCOUNT_FILE, (account + "\n").encode())

    async def _ensure_sip_accounts(self) -> None:
        """One daemon account per configured SIP account, found again by its config id (from
        sip-accounts.json, or by its alias when a start was cut short before that file was written);
        the daemon's other SIP accounts are ones the config no longer has, and are removed."""
        remembered = self.root / SIP_FILE
        known = self._remembered_sip_accounts(remembered)
        existing: dict[str, str] = {}  # the daemon's SIP accounts -> their alias (our config id)
        for account in await self._call("getAccountList"):
            details = await self._call("getAccountDetails", account)
            if details.get(defs.ACCOUNT_TYPE) == "SIP":
                existing[account] = details.get("Account.alias", "")
        mapping: dict[str, str] = {}
        for spec in self.sip_accounts:
            details = {
                "Account.type": "SIP",
                "Account.alias": spec.id,
                "Account.displayName": self.display_name,
                "Account.username": spec.username,
                "Account.password": spec.password,
                "Account.hostname": spec.registrar,
                "Account.localPort": str(spec.local_port),
                "Account.ringtoneEnabled": "false",
                "Account.videoEnabled": "false",
                "Account.upnpEnabled": "false",
                # SIP accounts default to SRTP only; most SIP phones and PBXes speak plain RTP.
                # These two keys are write-only (measured): they never show in getAccountDetails.
                "SRTP.keyExchange": "",
                "SRTP.rtpFallback": "true",
            }
            account = known.get(spec.id, "")
            if account not in existing:
                taken = set(mapping.values())
                account = next(
                    (a for a, alias in existing.items() if alias == spec.id and a not in taken), ""
                )
            if account:
                await self._call("setAccountDetails", account, details)  # carries the SIP password
            else:
                account = await self._call("addAccount", details)
                log.info("created SIP account %s (%s)", spec.id, account)
            mapping[spec.id] = account
            self._sip[account] = spec
        for stale in set(existing) - set(mapping.values()):
            log.info("removing SIP account %s (%s): not in the config", existing[stale], stale)
            await self._call("removeAccount", stale)
        atomic_write(remembered, json.dumps(mapping).encode())

    def _remembered_sip_accounts(self, remembered: Path) -> dict[str, str]:
        """sip-accounts.json: config id -> daemon account. A damaged one is kept aside for a person
        and the start goes on without it: the daemon's SIP accounts are found again by alias."""
        try:
            known = json.loads(remembered.read_bytes())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            known = exc
        if isinstance(known, dict) and all(isinstance(v, str) for v in known.values()):
            return {str(k): v for k, v in known.items()}
        kept = keep_aside(remembered)
        log.error(
            "%s damaged (%s): kept as %s",
            remembered,
            known if isinstance(known, Exception) else "not a table",
            kept.name,
        )
        self.notices.raise_(
            NOTICE_SIP_FILE,
            f"The file listing this phone's SIP accounts in the Jami service (jami/{SIP_FILE}) was "
            f"damaged; it was kept as {kept.name}. The SIP accounts of the settings were matched again "
            "by name; check on the Accounts page that each is registered.",
        )
        return {}

    # --- what the phone is told of the accounts -----------------------------------------------

    def _report_account(self, daemon_state: str) -> None:
        registration = _REGISTRATION.get(daemon_state, Registration.ERROR)
        if self.refused:
            registration = Registration.ERROR
        if registration is Registration.REGISTERED and not self._announced:
            registration = Registration.TRYING  # on the DHT, but calls to it would hang until announced
        self._reported = registration
        if registration is Registration.REGISTERED:
            log.info("Jami account %s ready: %s", self.account_id, self.jami_id)
        details_name = self.registered_name or self.display_name
        self._send(
            AccountChanged(
                AccountInfo(
                    self.account_id,
                    AccountKind.JAMI,
                    self.jami_id,
                    registration,
                    details_name,
                    device=self.device_id,
                )
            )
        )

    def _report_sip(self, account: str, daemon_state: str) -> None:
        spec = self._sip[account]
        # An IP-to-IP account has nothing to register with: it is ready once the daemon has it.
        registration = _REGISTRATION.get(daemon_state, Registration.ERROR)
        if not spec.registrar and daemon_state in ("READY", "UNREGISTERED", "REGISTERED"):
            registration = Registration.REGISTERED
        uri = f"{spec.username}@{spec.registrar}" if spec.registrar else spec.username
        self._sip_reported[account] = registration
        self._send(
            AccountChanged(AccountInfo(account, AccountKind.SIP, uri, registration, spec.id, spec.registrar))
        )
        if registration is Registration.TRYING and spec.registrar and account not in self._sip_retrying:
            self._sip_retrying.add(account)
            self._spawn(self._register_again_while_trying(account))

    async def _register_again_while_trying(self, account: str) -> None:
        """Ask the daemon to register ``account`` again while it stays TRYING.

        jamid 13.7 keeps a registration's handle only once its REGISTER is sent
        (``SIPAccount::sendRegister``: ``pjsip_regc_send``, then ``setRegistrationInfo``), and its
        SIP thread may take the registrar's answer first: ``onRegister`` then drops the 200 OK as
        another registration's (``param->regc != regc_``). Nothing is retransmitted; the line stays
        TRYING until the refresh at expiry (ten minutes with a 600 s registration) and no call, not
        even an emergency call, goes out on it. Unchanged upstream (master, August 2026).

        It needs a registrar answering within a fraction of a millisecond, at once and without a challenge (a
        challenged REGISTER is sent again from the SIP thread itself, so its answer always comes
        after the handle): sipp beside the daemon on a loaded 2-core machine had 10 of 22 tries
        dropped, and a LAN PBX without authentication could too. Each try is a coin flip, so they
        come every 2 s rather than backing off; a registrar slower than that is seen once they stop.
        """
        try:
            for n in range(1, SIP_REGISTER_AGAIN_TIMES + 1):
                await asyncio.sleep(SIP_REGISTER_AGAIN_EVERY_S)
                if self._sip_reported.get(account) is not Registration.TRYING:
                    return
                log.warning("SIP account %s still registering after %.0f s: registering it again",
                            self._sip[account].id, n * SIP_REGISTER_AGAIN_EVERY_S)  # fmt: skip
                await self._call("sendRegister", account, True)
        finally:
            self._sip_retrying.discard(account)

    def _can_call_from(self, account: str) -> bool:
        """Whether ``account`` can place a call now (one the adapter does not know: let the daemon say)."""
        if account == self.account_id:
            return self._reported is Registration.REGISTERED
        if account in self._sip:
            return self._sip_reported.get(account) is Registration.REGISTERED
        return True

    def _take_volatile(self, details: dict[str, str]) -> bool:
        """Take the account's volatile details (a read or a signal); True when the announcement,
        the registered name or the device certificate changed."""
        shown = (self._announced, self.registered_name, self.device_id)
        self._announced = details.get(defs.DEVICE_ANNOUNCED) == "true"
        self.registered_name = details.get(defs.ACCOUNT_REGISTERED_NAME, self.registered_name)
        self.device_id = details.get(defs.ACCOUNT_DEVICE_ID, self.device_id)
        self._last_state = details.get("Account.registrationStatus", self._last_state)
        return shown != (self._announced, self.registered_name, self.device_id)

    # --- the identity's archive --------------------------------------------------------------

    @command
    async def export_account(self, path: Path, password: str) -> None:
        """Write the Jami account's archive (its keys and contacts), encrypted with ``password``.

        jamid encrypts the archive with the account's own password, so that password becomes
        ``password`` first; the one the account has is kept (0600) beside the daemon's data.
        """
        kept = self.root / "account-password"
        current = kept.read_text() if kept.exists() else ""  # a new account has none
        if password != current:
            await self._call_expecting_true("changeAccountPassword", self.account_id, current, password)
            # The daemon rewrote its archive under the new password: on disk before the kept one is.
            await asyncio.to_thread(self.daemon.sync_account, self.account_id)
            atomic_write(kept, password.encode())
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # noqa: ASYNC240 - one local unlink
        await self._call_expecting_true("exportToFile", self.account_id, str(path), password)
        # jamid answers true even when it could not write the destination (it never checks).
        if not path.is_file() or not path.stat().st_size:  # noqa: ASYNC240 - one local stat
            raise TelephonyError(f"jamid wrote no archive to {path}")

    @command
    async def import_account(self, path: Path, password: str) -> None:
        """Make the account in ``path`` this phone's Jami account (the one it had is removed).

        Returns once the daemon has opened the archive and made the account (a TelephonyError, and
        the old account kept, if the password does not open it); the account is then reported like
        a new one: TRYING, then REGISTERED once announced. It becomes this phone's only when it is
        made and on disk, so a power cut at any point leaves the old account or the new one.
        """
        details = {
            **defs.JAMI_ACCOUNT,
            defs.ACCOUNT_DISPLAY_NAME: self.display_name,
            "Account.archivePath": str(path),
            "Account.archivePassword": password,
        }
        if self.bootstrap:
            details[defs.ACCOUNT_HOSTNAME] = ";".join(self.bootstrap)
        new = await self._call("addAccount", details)
        if not new:
            raise TelephonyError("jamid would not take the archive")
        try:
            jami_id = await self._wait_for_identity(new)
        except TelephonyError:
            with contextlib.suppress(TelephonyError):
                if new in await self._call("getAccountList"):
                    await self._call("removeAccount", new)
            raise TelephonyError(
                "the archive did not open: a wrong password, or not a Jami account archive"
            ) from None
        await asyncio.to_thread(self.daemon.sync_account, new)
        self._remember_account(new)
        atomic_write(self.root / "account-password", password.encode())  # the imported one's
        old, self.account_id, self.jami_id, self._announced = self.account_id, new, jami_id, False
        if old and old != new:
            await self._call("removeAccount", old)
        self._report_account("TRYING")
