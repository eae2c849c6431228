"""The answering machine's messages: one owner, files on the data partition, bounded.

A message is its audio (``<id>.flac`` or ``.wav``, as the telephony core recorded it) and a
``<id>.json`` beside it (caller, account, time, duration, heard), both written atomically, the
audio first: a message exists once its description does, so a power cut mid-save leaves the old
set of messages (an audio file without one is removed at the next start). The box is bounded by
count and by bytes: over either, the oldest heard messages go first, then the oldest.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

from appliance.durable import atomic_write
from appliance.phone.model import Message
from appliance.ports import Recording

log = logging.getLogger(__name__)

DIRECTORY = "messages"
SUFFIXES = (".flac", ".wav")
MessageListener = Callable[[str, Message], None]  # (recorded|played|deleted, message)


def message_file_name(message: Message, suffix: str) -> str:
    """The name a message goes by outside the phone: ``Message from Alice 2026-12-03 14.05.flac``."""
    caller = message.caller_name or message.caller_uri or "unknown caller"
    when = message.at[:16].replace("T", " ").replace(":", ".")
    return f"Message from {caller} {when}{suffix}".replace("/", "_")


class MessageBox:
    """Messages oldest first. ``directory`` None keeps them in memory (the simulator)."""

    def __init__(
        self, directory: Path | None, *, max_messages: int = 50, max_bytes: int = 50 * 2**20
    ) -> None:
        self.directory = directory
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self._audio: dict[str, tuple[bytes, str]] = {}  # in memory: id -> (audio, suffix)
        self._messages: list[Message] = []
        self._listeners: list[MessageListener] = []
        if directory is not None:
            self._messages = self._read(directory)

    def on_change(self, listener: MessageListener) -> None:
        self._listeners.append(listener)

    def all(self) -> tuple[Message, ...]:
        return tuple(self._messages)

    def unheard(self) -> int:
        return sum(not m.heard for m in self._messages)

    def get(self, message_id: str) -> Message | None:
        return next((m for m in self._messages if m.id == message_id), None)

    def audio(self, message_id: str) -> tuple[bytes, str] | None:
        """The message's audio file bytes and suffix, or None if there is no such message."""
        if self.get(message_id) is None:
            return None
        if self.directory is None:
            return self._audio.get(message_id)
        path = self.path(message_id)
        return (path.read_bytes(), path.suffix) if path is not None else None

    def path(self, message_id: str) -> Path | None:
        """Where the message's audio is (None in memory or when there is none)."""
        if self.directory is None or self.get(message_id) is None:
            return None
        return next((p for s in SUFFIXES if (p := self.directory / f"{message_id}{s}").exists()), None)

    def add(self, recording: Recording, caller_uri: str, caller_name: str, account: str) -> Message:
        """Keep ``recording`` as the newest message (written whole, then described)."""
        return self.commit(self.write(recording, caller_uri, caller_name, account))

    def write(self, recording: Recording, caller_uri: str, caller_name: str, account: str) -> Message:
        """Save ``recording``'s files (blocking: a thread may do it); :meth:`commit` then adds it."""
        if recording.suffix not in SUFFIXES:
            raise ValueError(
                f"messages: a {recording.suffix!r} recording is not one of {', '.join(SUFFIXES)}"
            )
        message = Message(
            id=f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}",
            caller_uri=caller_uri, caller_name=caller_name,
            at=time.strftime("%Y-%m-%dT%H:%M:%S"), duration_s=round(recording.duration_s, 2), account=account,
        )  # fmt: skip
        if self.directory is None:
            self._audio[message.id] = (recording.data, recording.suffix)
        else:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            atomic_write(self.directory / f"{message.id}{recording.suffix}", recording.data)
            self._describe(message)
        return message

    def commit(self, message: Message) -> Message:
        """The message :meth:`write` saved is the newest one (the box trimmed to its bounds)."""
        self._messages.append(message)
        self._changed("recorded", message)
        self._trim()
        return message

    def mark_heard(self, message_id: str) -> None:
        message = self.get(message_id)
        if message is None or message.heard:
            return
        heard = replace(message, heard=True)
        if self.directory is not None:
            self._describe(heard)
        self._messages = [heard if m.id == message_id else m for m in self._messages]
        self._changed("played", heard)

    def delete(self, message_id: str) -> bool:
        message = self.get(message_id)
        if message is None:
            return False
        self._remove(message)
        self._changed("deleted", message)
        return True

    # --- internals ---------------------------------------------------------------------------

    def _describe(self, message: Message) -> None:
        assert self.directory is not None
        data = json.dumps(asdict(message), ensure_ascii=False).encode()
        atomic_write(self.directory / f"{message.id}.json", data)

    def _remove(self, message: Message) -> None:
        self._messages = [m for m in self._messages if m.id != message.id]
        self._audio.pop(message.id, None)
        if self.directory is not None:
            # The description first: a message half removed is no message.
            for suffix in (".json", *SUFFIXES):
                with contextlib.suppress(FileNotFoundError):
                    (self.directory / f"{message.id}{suffix}").unlink()

    def _size(self) -> int:
        if self.directory is None:
            return sum(len(data) for data, _ in self._audio.values())
        return sum(p.stat().st_size for p in self.directory.iterdir() if p.is_file())

    def _trim(self) -> None:
        """Over a bound: the oldest heard message goes, else the oldest; never the newest."""
        while len(self._messages) > 1 and (
            len(self._messages) > self.max_messages or self._size() > self.max_bytes
        ):
            older = self._messages[:-1]
            oldest = next((m for m in older if m.heard), older[0])
            log.info("messages: %s removed to stay within the bounds", oldest.id)
            self._remove(oldest)
            self._changed("deleted", oldest)

    def _read(self, directory: Path) -> list[Message]:
        if not directory.is_dir():
            return []
        messages = []
        for path in sorted(directory.glob("*.json")):
            try:
                raw = json.loads(path.read_text())
                message = Message(**{k: raw[k] for k in raw if k in Message.__dataclass_fields__})
            except (OSError, ValueError, TypeError) as exc:
                log.warning("messages: %s is not a message (%s): removed", path.name, exc)
                path.unlink(missing_ok=True)
                continue
            if not any((directory / f"{message.id}{s}").exists() for s in SUFFIXES):
                log.warning("messages: %s has no audio: removed", path.name)
                path.unlink(missing_ok=True)
                continue
            messages.append(message)
        described = {m.id for m in messages}
        for path in directory.iterdir():
            if path.suffix in SUFFIXES and path.stem not in described:
                log.warning("messages: %s was never completed (a power cut while saving): removed", path.name)
                path.unlink(missing_ok=True)
            elif path.name.startswith(".") or path.suffix == ".tmp":
                path.unlink(missing_ok=True)  # an atomic write's temporary file, left by a power cut
        return sorted(messages, key=lambda m: (m.at, m.id))

    def _changed(self, action: str, message: Message) -> None:
        for listener in list(self._listeners):
            listener(action, message)
