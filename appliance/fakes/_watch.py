from __future__ import annotations

from collections.abc import Callable
from typing import Any

# What each fake keeps of what it saw (frames, tones, edges, keys, commands): the newest ones only,
# so the desktop board runs for weeks in bounded memory (a soak of 900 calls grew 3.4 MB unbounded).
RECORDED = 1000

Watcher = Callable[[dict[str, Any]], None]


class Watchable:
    """Lets the simulator and the console see each change of a fake as it happens."""

    def __init__(self) -> None:
        self._watchers: list[Watcher] = []

    def watch(self, watcher: Watcher) -> None:
        self._watchers.append(watcher)

    def _notify(self, **change: Any) -> None:  # noqa: ANN401
        for watcher in self._watchers:
            watcher(change)
