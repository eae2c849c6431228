"""Contract tests: one set of assertions per port, run against the fake and the driver.

Drivers run on gpiozero's mock pins, injected evdev events, ALSA file plugins and luma's dummy
display. With ``--board=<name>`` the driver cases also run on that board's real hardware.
"""

from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin


class KeyMatrix:
    """The wiring of a matrix keypad: a pressed key connects its row to its column.

    Columns are inputs pulled up; a column reads low while a pressed key joins it to a row that
    the driver drives low. ``bounce(key)`` makes a key's contact chatter before it settles.
    """

    def __init__(self, factory: MockFactory, rows: list[int], cols: list[int], layout: list[str]) -> None:
        self.layout = layout
        self.pressed: set[tuple[int, int]] = set()
        self.row_pins = [factory.pin(p, pin_class=_RowPin, matrix=self) for p in rows]
        self.col_pins = [factory.pin(p, pin_class=_ColPin, matrix=self) for p in cols]

    def where(self, key: str) -> tuple[int, int]:
        for r, row in enumerate(self.layout):
            if key in row:
                return r, row.index(key)
        raise KeyError(key)

    def press(self, key: str) -> None:
        self.pressed.add(self.where(key))
        self.settle()

    def release(self, key: str) -> None:
        self.pressed.discard(self.where(key))
        self.settle()

    def settle(self) -> None:
        for c, col in enumerate(self.col_pins):
            low = any(
                (r, c) in self.pressed and not self.row_pins[r].state for r in range(len(self.row_pins))
            )
            if col.function == "input":
                col.drive_low() if low else col.drive_high()


class _RowPin(MockPWMPin):
    def __init__(self, factory, info, matrix: KeyMatrix) -> None:
        super().__init__(factory, info)
        self.matrix = matrix

    def _change_state(self, value):
        changed = super()._change_state(value)
        if changed and hasattr(self, "matrix"):
            self.matrix.settle()
        return changed


class _ColPin(MockPWMPin):
    def __init__(self, factory, info, matrix: KeyMatrix) -> None:
        super().__init__(factory, info)
        self.matrix = matrix


@pytest.fixture
def mock_factory() -> MockFactory:
    return MockFactory(pin_class=MockPWMPin)
