from __future__ import annotations

from collections import deque

from appliance.phone.screens import ScreenModel

from ._watch import RECORDED, Watchable


class FakeDisplay(Watchable):
    """A display that keeps the frames it was given (the newest :data:`RECORDED`)."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: deque[ScreenModel] = deque(maxlen=RECORDED)

    @property
    def current(self) -> ScreenModel | None:
        return self.frames[-1] if self.frames else None

    def show(self, screen: ScreenModel) -> None:
        if self.frames and self.frames[-1] == screen:
            return
        self.frames.append(screen)
        self._notify(event="display", lines=list(screen.lines))

    async def stop(self) -> None:
        return None
