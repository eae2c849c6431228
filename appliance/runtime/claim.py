"""Who may claim a phone nobody has set up: whoever can read the code on the device itself.

Until the admin password is set, the phone shows a one-time six-digit setup code (on the idle
screen; spoken into the handset once the voice menu exists), and the page's first run asks for it.
Anyone else on the LAN who reaches the page first, or a web page that rebinds its name to the
device, does not have it. The code is single-use and replaced after 5 wrong tries, so guessing
it means reading the new one off the device.

Whether the phone is claimed is kept as a marker file in the data directory: the phone process
shows the code, while the page (a process of its own on the device) holds the password and tells
the phone when it changes. A factory reset empties the data directory, so the phone is unclaimed
again, with a fresh code.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import secrets
import socket
from collections.abc import Callable
from pathlib import Path

from appliance.durable import atomic_write

log = logging.getLogger(__name__)
MARKER = "claimed"
MAX_WRONG = 5


def page_address(listen: str, *, https: bool = False) -> str:
    """Where a person on the LAN finds the page, as short as a display line allows: the address
    the page listens on, or for a wildcard this device's LAN address (its ``.local`` name when it
    has none yet), with the port unless it is the scheme's own (80, or 443 with HTTPS: a browser
    given the bare name asks port 80, which the image's HTTP listener sends to HTTPS)."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - reading the setting, not binding
        host = _lan_address() or f"{socket.gethostname().partition('.')[0]}.local"
    if ":" in host:
        host = f"[{host}]"
    return host if port == ("443" if https else "80") else f"{host}:{port}"


def _lan_address() -> str:
    """The address this device reaches its LAN from (a UDP socket aimed at a documentation
    address sends nothing: connecting only picks the route)."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))
        return str(probe.getsockname()[0])
    return ""


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


class Claim:
    def __init__(
        self, data_dir: Path | None, make_code: Callable[[], str] = new_code, *, can_show: bool = True
    ) -> None:
        self._marker = data_dir / MARKER if data_dir is not None else None
        self._make_code = make_code
        # A board that cannot show a code asks none (until the voice menu speaks it, issue 14). In
        # memory (the simulator without a data directory) a phone counts as claimed: it has no page.
        self.asks_code = can_show
        self.claimed = self._marker is None or self._marker.exists()
        self.code = "" if self.claimed or not can_show else make_code()
        self.wrong = 0
        self._listeners: list[Callable[[str], None]] = []

    def on_change(self, listener: Callable[[str], None]) -> None:
        """``listener(code)`` after each change of the code ("" once claimed)."""
        self._listeners.append(listener)

    def check(self, code: str) -> bool:
        """Whether ``code`` is the code shown now. Right: spent (single use; :meth:`mark_claimed`
        follows once the password is saved). The fifth wrong try replaces the code."""
        if not self.asks_code:
            return not self.claimed
        if self.claimed or not self.code:
            return False
        if hmac.compare_digest(code.encode(), self.code.encode()):
            self.code, self.wrong = "", 0
            self._changed()
            return True
        self.wrong += 1
        if self.wrong >= MAX_WRONG:
            log.warning("setup: %d wrong setup codes; a new code is on the display", self.wrong)
            self.code, self.wrong = self._make_code(), 0
            self._changed()
        return False

    def mark_claimed(self) -> None:
        self.claimed, self.code, self.wrong = True, "", 0
        if self._marker is not None and not self._marker.exists():
            atomic_write(self._marker, b"", mode=0o600)
        self._changed()

    def mark_unclaimed(self) -> None:
        """No password (the page's own state was lost, or it was forgotten): a fresh code."""
        if not self.claimed and (self.code or not self.asks_code):
            return
        self.claimed, self.code, self.wrong = False, self._make_code() if self.asks_code else "", 0
        if self._marker is not None:
            with contextlib.suppress(FileNotFoundError):
                self._marker.unlink()
        self._changed()

    def log_code(self) -> None:
        """The log is the device's own (the journal, the serial console), never shown before the
        page is claimed; once it is, this code is spent."""
        if self.code:
            log.info("setup: the setup code is %s (on the display until the phone is claimed)", self.code)

    def _changed(self) -> None:
        self.log_code()
        for listener in list(self._listeners):
            listener(self.code)
