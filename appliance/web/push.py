"""The phone's status pushed to every open page: one watcher, many listeners.

One task asks the phone for its status each time it changes (``status.watch``, a long poll that
also works over the control socket when the page is a process of its own) and hands the answer to
every open event stream. It runs only while a page is open, so an idle phone does no work for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from appliance.runtime.control import ControlAPI
from appliance.runtime.control_socket import ControlUnavailableError

log = logging.getLogger(__name__)
QUEUE = 4  # a page that reads slowly gets the newest status, not a backlog
END = b""  # what a stream gets when the server stops


class StatusPump:
    def __init__(self, control: ControlAPI, *, wait_s: float = 1.0) -> None:
        self.control = control
        self.wait_s = wait_s  # the longest a change waits: the display's clock ticks once a second
        self._listeners: set[asyncio.Queue[bytes]] = set()
        self._last: bytes | None = None
        self._task: asyncio.Task[None] | None = None

    def subscribe(self) -> asyncio.Queue[bytes]:
        queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE)
        if self._last is not None:
            queue.put_nowait(self._last)
        self._listeners.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="status-pump")
        return queue

    def unsubscribe(self, queue: asyncio.Queue[bytes]) -> None:
        self._listeners.discard(queue)

    async def stop(self) -> None:
        """End every stream (an empty message says so) and the watcher."""
        for queue in self._listeners:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(END)
        self._listeners.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        since = 0
        while self._listeners:
            try:
                answer = await self.control.call("status.watch", {"since": since, "timeout_s": self.wait_s})
            except ControlUnavailableError:  # the phone restarts: the pages keep their last status
                await asyncio.sleep(1.0)
                continue
            since = answer["version"]
            data = json.dumps(answer["status"], separators=(",", ":")).encode()
            if data == self._last:
                continue
            self._last = data
            for queue in list(self._listeners):
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(data)
        self._last = None  # nobody listens: the next page starts from a fresh status
