"""SSD1306 / SH1106 OLEDs over I2C with luma.oled, drawing the phone's screen models.

The frame is drawn on a worker thread: a full SSD1306 frame is 1024 bytes, about 23 ms on a
400 kHz I2C bus, which must not stall the event loop. Bursts of screens are coalesced (only the
latest is drawn). A display that is missing or fails is logged, retried with the next screen,
and never stops the phone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from appliance.phone.screens import Icon, ScreenModel

log = logging.getLogger(__name__)

LINE_PITCH = 12
BAR_HEIGHT = 11

# 7x7 icons for the status bar, '#' lit.
ICONS: dict[Icon, tuple[str, ...]] = {
    Icon.ONLINE: ("......#", ".....##", "....###", "...####", "..#####", ".######", "#######"),
    Icon.OFFLINE: ("#.....#", ".#...#.", "..#.#..", "...#...", "..#.#..", ".#...#.", "#.....#"),
    Icon.NO_SERVICE: ("#######", "#.....#", "#.#.#.#", "#..#..#", "#.#.#.#", "#.....#", "#######"),
    Icon.DND: ("..###..", ".#...#.", "#.....#", "#######", "#.....#", ".#...#.", "..###.."),
    Icon.PRIVATE: ("..###..", ".#...#.", ".#...#.", "#######", "###.###", "###.###", "#######"),
    Icon.VOICEMAIL: ("#######", "##...##", "#.#.#.#", "#..#..#", "#.....#", "#.....#", "#######"),
    Icon.REQUEST: ("...#...", "...#...", "...#...", "#######", "...#...", "...#...", "...#..."),
    Icon.MISSED: ("#.....#", ".#...#.", "..#.#..", "...#..#", "......#", "....###", "......."),
    Icon.HELD: (".##.##.", ".##.##.", ".##.##.", ".##.##.", ".##.##.", ".##.##.", ".##.##."),
    Icon.CONFERENCE: ("...#...", "..###..", "...#...", ".......", "#.....#", "###.###", "#.....#"),
}
ICON_ORDER = (
    Icon.NO_SERVICE, Icon.HELD, Icon.CONFERENCE, Icon.REQUEST, Icon.VOICEMAIL,
    Icon.MISSED, Icon.PRIVATE, Icon.DND, Icon.ONLINE, Icon.OFFLINE,
)  # fmt: skip


def render(screen: ScreenModel, width: int = 128, height: int = 64) -> Image.Image:
    """The screen as a 1-bit image: status bar with icons, a rule, then the lines of text."""
    font = ImageFont.load_default_imagefont()  # the crisp 6x11 bitmap font: 21 characters per line
    image = Image.new("1", (width, height))
    draw = ImageDraw.Draw(image)
    icons = [icon for icon in ICON_ORDER if icon in screen.icons]
    x = width - 1
    for icon in icons:
        x -= 7
        for dy, row in enumerate(ICONS[icon]):
            for dx, pixel in enumerate(row):
                if pixel == "#":
                    draw.point((x + dx, 1 + dy), fill=1)
        x -= 2
    if screen.lines:
        room = max(0, (x - 2) // 6)
        draw.text((1, 0), screen.lines[0][:room], font=font, fill=1)
    draw.line((0, BAR_HEIGHT, width - 1, BAR_HEIGHT), fill=1)
    for i, line in enumerate(screen.lines[1:]):
        y = BAR_HEIGHT + 2 + i * LINE_PITCH
        if y + 10 > height:
            break
        draw.text((1, y), line, font=font, fill=1)
    return image


def open_device(kind: str, *, port: int, address: int, width: int, height: int, rotate: int) -> Any:  # noqa: ANN401
    """The luma device for an SSD1306 or SH1106 on I2C."""
    from luma.core.interface.serial import i2c  # noqa: PLC0415
    from luma.oled.device import sh1106, ssd1306  # noqa: PLC0415

    serial = i2c(port=port, address=address)
    cls = ssd1306 if kind == "ssd1306" else sh1106
    return cls(serial, width=width, height=height, rotate=rotate)


class OledDisplay:
    """Draws screen models on a luma device (real, or luma's dummy in tests)."""

    def __init__(
        self,
        device_factory: Callable[[], Any],
        *,
        contrast: int = 255,
        idle_contrast: int = 40,
        on_drawn: Callable[[ScreenModel], None] | None = None,
    ) -> None:
        self._factory = device_factory
        self.device: Any = None
        self._contrast = contrast
        self._idle_contrast = idle_contrast
        self._on_drawn = on_drawn
        self._latest: ScreenModel | None = None
        self._wake = threading.Condition()
        self._stopping = False
        self._dim: bool | None = None
        self.frames = 0
        self.failures = 0
        self._thread = threading.Thread(target=self._draw_loop, name="oled", daemon=True)
        self._thread.start()

    def show(self, screen: ScreenModel) -> None:
        with self._wake:
            self._latest = screen
            self._wake.notify()

    async def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._thread.join(timeout=2)
        if self.device is not None:
            try:
                self.device.hide()
            except Exception:  # noqa: BLE001 - a broken display must not break shutdown
                log.warning("display: could not switch off")

    def _draw_loop(self) -> None:
        while True:
            with self._wake:
                while self._latest is None and not self._stopping:
                    self._wake.wait()
                if self._stopping or self._latest is None:
                    return
                screen, self._latest = self._latest, None
            self._draw(screen)

    def _draw(self, screen: ScreenModel) -> None:
        try:
            if self.device is None:
                self.device = self._factory()
            if screen.dim != self._dim:
                self.device.contrast(self._idle_contrast if screen.dim else self._contrast)
                self._dim = screen.dim
            self.device.display(render(screen, self.device.width, self.device.height))
            self.frames += 1
            if self._on_drawn:
                self._on_drawn(screen)
        except Exception as exc:  # noqa: BLE001 - the phone goes on without its display
            self.failures += 1
            if self.failures == 1 or self.failures % 100 == 0:
                log.warning("display failed (%d times): %s", self.failures, exc)
            self.device, self._dim = None, None
            time.sleep(0.5)  # a missing display: retry with a later screen, without spinning
