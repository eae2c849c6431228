from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from appliance.phone.callerid import CallerId, Presentation
from appliance.phone.tones import Cadence

from ._watch import RECORDED, Watchable


class FakeRinger(Watchable):
    """A bell that records when it was told to ring, with which cadence, and the caller it was
    told of (``caller``, and every one in ``callers``)."""

    ALERT_OUT_S = 0.05 + 0.08 + 0.08  # as the SLIC line's: the PCM opened, the alert, 4 periods

    def __init__(self) -> None:
        super().__init__()
        self.cadence: Cadence | None = None
        self.caller: CallerId | None = None
        self.callers: deque[CallerId | None] = deque(maxlen=RECORDED)
        self.reversed = False  # the line's polarity: reversed while a call is connected
        self.reversals: deque[tuple[float, bool]] = deque(maxlen=RECORDED)
        self.loop_opens: deque[tuple[float, int]] = deque(maxlen=RECORDED)  # (when, ms)
        self.lamp = False
        self.waiting_alerts: deque[Presentation] = deque(maxlen=RECORDED)
        self.waiting_callers: deque[CallerId] = deque(maxlen=RECORDED)
        self.sent_callers: deque[CallerId] = deque(maxlen=RECORDED)  # NTT: after the phone's answer
        self.lamp_presentation: Presentation | None = None
        self.history: deque[tuple[float, bool]] = deque(maxlen=RECORDED)
        self._since = 0.0

    @property
    def ringing(self) -> bool:
        return self.cadence is not None

    @property
    def sounding(self) -> bool:
        """Whether the bell is sounding now: on during the cadence's bursts."""
        if self.cadence is None:
            return False
        return self.cadence.ringing_at((asyncio.get_running_loop().time() - self._since) * 1000)

    def start_ringing(self, cadence: Cadence, caller: CallerId | None = None) -> None:
        was = self.ringing
        self.cadence = cadence
        self.caller = caller
        self.callers.append(caller)
        self._since = asyncio.get_running_loop().time()
        if not was:
            self._record(on=True)

    def stop_ringing(self) -> None:
        if self.ringing:
            self.cadence = None
            self._record(on=False)

    def reverse_line(self, on: bool) -> None:
        """Record the line's polarity (``reversed``), as a SLIC would set it."""
        if on != self.reversed:
            self.reversed = on
            self.reversals.append((asyncio.get_running_loop().time(), on))

    def open_loop(self, ms: int) -> None:
        """Record a loop-current disconnect (``loop_opens``), as a SLIC with a loop switch makes it."""
        self.loop_opens.append((asyncio.get_running_loop().time(), ms))
        self._notify(event="line", loop_open_ms=ms)

    def alert_waiting(self, presentation: Presentation, sent: Callable[[], None]) -> None:
        """Record the call-waiting alert (``waiting_alerts``) a phone on the line would answer;
        report it sent after the time a line takes (its device opened, 80 ms of it, the buffer)."""
        self.waiting_alerts.append(presentation)
        asyncio.get_running_loop().call_later(self.ALERT_OUT_S, sent)

    def send_waiting_caller(self, caller: CallerId) -> None:
        """Record the waiting caller sent to the phone (``waiting_callers``)."""
        self.waiting_callers.append(caller)

    def send_caller(self, caller: CallerId) -> None:
        """Record the caller sent to a phone that answered the CAR signal (``sent_callers``)."""
        self.sent_callers.append(caller)

    def show_messages(self, waiting: bool, presentation: Presentation, ring: Cadence) -> None:
        """Record the message lamp (``lamp``) and how it was told (``lamp_presentation``)."""
        del ring
        self.lamp, self.lamp_presentation = waiting, presentation

    async def stop(self) -> None:
        self.stop_ringing()

    def _record(self, *, on: bool) -> None:
        self.history.append((asyncio.get_running_loop().time(), on))
        self._notify(event="ringer", on=on)
