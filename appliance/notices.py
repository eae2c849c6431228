"""What the owner must be told about the device itself: a file that was kept aside, a full data
partition, a daemon that stopped answering.

Any part of the firmware raises a notice by a stable key and clears it once the cause is gone; the
status page lists them and the idle screen counts them. The owner may dismiss a warning once read
(a file kept aside, a daemon restarted: nothing is broken now); an error stays until its cause is
fixed, since dismissing it would hide something that still does not work. Notices are plain words
for the owner, not log lines: a log line scrolls away, a notice stays. Thread-safe, because drivers
raise them from their own threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

log = logging.getLogger(__name__)
MAX_NOTICES = 32  # a bound, so a fault that repeats under new keys cannot grow memory


class Severity(Enum):
    WARNING = "warning"  # the phone works; something was ignored or kept aside
    ERROR = "error"  # something the owner relies on does not work now


@dataclass(frozen=True)
class Notice:
    key: str  # stable: raising the same key again replaces the text
    text: str
    severity: Severity
    since: float  # wall clock, for the page

    def as_table(self) -> dict[str, object]:
        return {"key": self.key, "text": self.text, "severity": self.severity.value, "since": self.since}


class NoticeStaysError(ValueError):
    """An error notice: it goes when its cause is fixed, not when it is dismissed."""


class Notices:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._notices: dict[str, Notice] = {}
        self._listeners: list[Callable[[], None]] = []

    def raise_(self, key: str, text: str, severity: Severity = Severity.WARNING) -> None:
        with self._lock:
            old = self._notices.get(key)
            if old is not None and old.text == text and old.severity is severity:
                return
            if old is None and len(self._notices) >= MAX_NOTICES:
                self._notices.pop(next(iter(self._notices)))
            self._notices[key] = Notice(key, text, severity, old.since if old else time.time())
        log.log(logging.ERROR if severity is Severity.ERROR else logging.WARNING, "%s", text)
        self._changed()

    def clear(self, key: str) -> None:
        with self._lock:
            if self._notices.pop(key, None) is None:
                return
        log.info("resolved: %s", key)
        self._changed()

    def dismiss(self, key: str) -> bool:
        """The owner read a warning: drop it (False if there is no such notice). An error is not
        dismissed: :class:`NoticeStaysError`."""
        with self._lock:
            notice = self._notices.get(key)
            if notice is None:
                return False
            if notice.severity is Severity.ERROR:
                raise NoticeStaysError(key)
            del self._notices[key]
        log.info("dismissed by the owner: %s", key)
        self._changed()
        return True

    def all(self) -> list[Notice]:
        with self._lock:
            return list(self._notices.values())

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._notices

    def on_change(self, listener: Callable[[], None]) -> None:
        """``listener`` runs after each change, in the thread that made it."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # a listener's fault must not undo a notice
                log.exception("notice listener failed")
