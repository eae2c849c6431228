from __future__ import annotations

from appliance.phone.screens import ScreenModel

from ._watch import Watchable


class FakeDisplay(Watchable):
    """A display that keeps every frame it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[ScreenModel] = []

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
