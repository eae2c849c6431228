"""The answering machine's messages for the page: list, listen (download) and delete."""

from __future__ import annotations

import base64
from dataclasses import asdict
from typing import Any

from appliance.runtime.messages import MessageBox

from .errors import NotFoundError

Table = dict[str, Any]
TYPES = {".flac": "audio/flac", ".wav": "audio/wav"}


class MessagesController:
    def __init__(self, box: MessageBox) -> None:
        self.box = box

    async def list(self) -> list[Table]:
        """Newest first, as the call log."""
        return [asdict(m) for m in reversed(self.box.all())]

    async def audio(self, message_id: str) -> Table:
        """The recording as a file (the browser plays it in place, or saves it)."""
        found = self.box.audio(message_id)
        if found is None:
            raise NotFoundError(f"no message {message_id}")
        data, suffix = found
        message = self.box.get(message_id)
        who = "".join(c for c in (message.caller_name if message else "") if c.isalnum())[:32] or "caller"
        name = f"message-{message_id}-{who}{suffix}"
        return {"filename": name, "data": base64.b64encode(data).decode(), "type": TYPES[suffix]}

    async def delete(self, message_id: str) -> None:
        if not self.box.delete(message_id):
            raise NotFoundError(f"no message {message_id}")
