"""For boards without a given part: a rotary phone has no keypad, the adapter has no display."""

from __future__ import annotations

from appliance.phone.screens import ScreenModel
from appliance.ports import KeyListener


class NoKeypad:
    async def start(self, on_key: KeyListener) -> None:
        del on_key

    def listen(self, active: bool) -> None:
        del active

    async def stop(self) -> None:
        return None


class NoDisplay:
    def show(self, screen: ScreenModel) -> None:
        del screen

    async def stop(self) -> None:
        return None
