"""Contacts' certificates, pinned at first contact (trust on first use).

A Jami ID is the hash of the contact's account key, so a call from that ID is signed by that key;
what can still change under the same ID is the account certificate (re-issued, or forged by a
stolen key). The first certificate seen for a peer is pinned; a different one later is flagged and
kept aside until a person accepts it, never taken silently. The decisions are
:mod:`appliance.phone.trust`'s (shared with the fake); this class keeps them in a file.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from appliance.durable import atomic_write
from appliance.notices import Notices
from appliance.phone import trust
from appliance.phone.trust import Verdict
from appliance.ports import PeerIdentity

log = logging.getLogger(__name__)

NOTICE_PINS = "jami.pins"


def keep_aside(path: Path) -> Path:
    """Move a damaged file out of the way, for a person to look at: ``name.damaged`` beside it."""
    kept = path.with_suffix(".damaged")
    path.replace(kept)
    return kept


class CertificatePins:
    """``{uri: PeerIdentity}`` in a JSON file, written atomically."""

    def __init__(self, path: Path, notices: Notices | None = None) -> None:
        self.path = path
        self._pins: dict[str, PeerIdentity] = {}
        try:
            raw = json.loads(path.read_text())
            self._pins = {
                uri: PeerIdentity(uri, str(p["fingerprint"]), float(p["pinned_at"]), str(p.get("seen", "")))
                for uri, p in raw.items()
            }
        except FileNotFoundError:
            pass
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # Never start trusting everyone again silently: keep the damaged file for a person.
            kept = keep_aside(path)
            log.error("certificate pins unreadable (%s); kept as %s", exc, kept)  # noqa: TRY400 - the reason is in the message
            if notices is not None:
                notices.raise_(
                    NOTICE_PINS,
                    f"The file of contacts' certificates (jami/{path.name}) was damaged; it was kept as "
                    f"{kept.name}. Each contact's certificate is taken again at their next call, so a "
                    "certificate changed before then would go unnoticed.",
                )

    def all(self) -> dict[str, PeerIdentity]:
        return dict(self._pins)

    def check(self, uri: str, fingerprint: str) -> Verdict:
        """Compare what a peer presents with its pin; pin it if it is the first time."""
        verdict, stored = trust.pin(self._pins, uri, fingerprint, time.time())
        if stored is not None:
            self._pins[uri] = stored
            self._save()
        if verdict is Verdict.CHANGED:
            log.warning(
                "certificate of %s changed: pinned %s, presented %s",
                uri, self._pins[uri].fingerprint, fingerprint.lower(),
            )  # fmt: skip
        return verdict

    def accept(self, uri: str) -> PeerIdentity:
        """A person accepted the new certificate: it becomes the pin."""
        self._pins[uri] = trust.accept_identity(self._pins, uri, time.time())
        self._save()
        return self._pins[uri]

    def _save(self) -> None:
        table = {
            uri: {"fingerprint": p.fingerprint, "pinned_at": p.pinned_at, "seen": p.seen}
            for uri, p in self._pins.items()
        }
        atomic_write(self.path, json.dumps(table, indent=1, sort_keys=True).encode())
