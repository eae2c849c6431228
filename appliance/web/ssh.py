"""SSH keys on the System page: listed from root's state, changed by a request root applies.

The page cannot write the admin's keys (its own user, a read-only system): it checks the key,
leaves one request for ``appliance-ssh.path`` and waits for root's answer in the state
(:mod:`appliance.provision.sshaccess`). One request at a time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

from appliance.provision import sshaccess
from appliance.provision.sshkeys import BadKeyError

log = logging.getLogger(__name__)

ANSWER_WITHIN_S = 20.0  # root's unit starts Python and, for the first key, sshd (its host key)
OFF = "SSH is off: add a key to turn it on"


class NotManagedError(RuntimeError):
    """This board's SSH is the host's own (the desktop board): the page does not manage it."""


class SshBusyError(RuntimeError):
    """Another change is being applied, or root did not answer in time."""


class SshAccess:
    def __init__(
        self, requests: Path | None, state: Path | None, answer_within_s: float = ANSWER_WITHIN_S
    ) -> None:
        self.requests = requests
        self.state = state
        self.answer_within_s = answer_within_s
        self._one = asyncio.Lock()

    @property
    def managed(self) -> bool:
        return self.requests is not None and self.state is not None

    def status(self) -> dict[str, Any]:
        if self.requests is None or self.state is None:
            return {"managed": False, "enabled": False, "keys": [], "host_keys": [], "unread_lines": 0,
                    "message": "SSH is not managed by this page on this board"}  # fmt: skip
        state = sshaccess.read_state(self.state)
        enabled = bool(state.get("enabled"))
        return {
            "managed": True,
            "enabled": enabled,
            "keys": state.get("keys", []),
            "host_keys": state.get("host_keys", []) if enabled else [],
            "unread_lines": state.get("unread_lines", 0),
            "message": "" if enabled else OFF,
        }

    async def add(self, key: str) -> dict[str, Any]:
        return await self._ask(add=key)

    async def remove(self, key_id: str) -> dict[str, Any]:
        return await self._ask(remove=key_id)

    async def _ask(self, *, add: str | None = None, remove: str | None = None) -> dict[str, Any]:
        """Hand the change to root; its answer (``ok``, ``result`` in words) and the new status."""
        if self.requests is None or self.state is None:
            raise NotManagedError("SSH is not managed by this page on this board (the desktop board)")
        request_id, data = sshaccess.make_request(add=add, remove=remove)  # BadKeyError: 400
        if self._one.locked():
            raise SshBusyError("another SSH change is being applied: try again in a moment")
        async with self._one:
            if (self.requests / sshaccess.REQUEST).exists():
                raise SshBusyError("a change is still waiting for the system to apply it")
            await asyncio.to_thread(sshaccess.write_request, self.requests, data)
            deadline = time.monotonic() + self.answer_within_s
            while time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                last = sshaccess.read_state(self.state).get("last") or {}
                if last.get("id") == request_id:
                    log.warning("web: SSH key %s: %s", "added" if add else "removed", last.get("message"))
                    return {
                        **self.status(),
                        "ok": bool(last.get("ok")),
                        "result": str(last.get("message", "")),
                    }
            (self.requests / sshaccess.REQUEST).unlink(missing_ok=True)  # not applied: taken back
            raise SshBusyError("the system did not apply the change in time (appliance-ssh.service)")


__all__ = ["OFF", "BadKeyError", "NotManagedError", "SshAccess", "SshBusyError"]
