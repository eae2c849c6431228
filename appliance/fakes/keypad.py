from __future__ import annotations

from collections import deque

from appliance.ports import KeyListener

from ._watch import RECORDED, Watchable


class FakeKeypad(Watchable):
    """A 16-key pad (or a DTMF detector) that keys are pressed on."""

    def __init__(self) -> None:
        super().__init__()
        self._on_key: KeyListener | None = None
        self.pressed: deque[str] = deque(maxlen=RECORDED)
        self.listening = False

    async def start(self, on_key: KeyListener) -> None:
        self._on_key = on_key

    def listen(self, active: bool) -> None:
        self.listening = active

    async def stop(self) -> None:
        self._on_key = None

    def press(self, keys: str) -> None:
        for key in keys:
            self.pressed.append(key)
            self._notify(event="key", key=key)
            if self._on_key is not None:
                self._on_key(key)
