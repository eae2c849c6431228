"""The step in progress, shared by ``machine.py`` and every module it routes an event to (``hook.py``,
``dialing.py``, ``calls.py``, ``forwarding.py`` ...): a phone being replaced and the effects it
produced, in order."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from . import effects as fx
from .model import CallId, Phone


@dataclass(slots=True)
class Step:
    """The step in progress: a phone being replaced and the effects it produced, in order."""

    phone: Phone
    now: float
    effects: list[fx.Effect] = field(default_factory=list)

    def set(self, **changes: object) -> None:
        self.phone = replace(self.phone, **changes)  # type: ignore[arg-type]

    def emit(self, *effects: fx.Effect) -> None:
        self.effects.extend(effects)

    def arm(self, name: str, seconds: float) -> None:
        seconds = max(0.0, seconds)
        timers = (*(t for t in self.phone.timers if t[0] != name), (name, self.now + seconds))
        self.set(timers=timers)
        self.emit(fx.ArmTimer(name, seconds))

    def cancel(self, name: str) -> None:
        if self.phone.deadline(name) is not None:
            self.set(timers=tuple(t for t in self.phone.timers if t[0] != name))
            self.emit(fx.CancelTimer(name))

    def update_call(self, call_id: CallId, **changes: object) -> None:
        self.set(calls=tuple(replace(c, **changes) if c.id == call_id else c for c in self.phone.calls))  # type: ignore[arg-type]
