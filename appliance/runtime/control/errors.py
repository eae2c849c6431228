"""How a controller refuses: the web page answers these as 400 and 404, the socket carries them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from appliance.config.load import ConfigError
from appliance.durable import StorageFullError
from appliance.runtime.maintenance import MaintenanceError


class ChangeRejectedError(ValueError):
    """A change the configuration schema refused: ``problems`` are ``(field, reason)`` pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in problems))
        self.problems = problems


__all__ = ["ChangeRejectedError", "NotFoundError", "StorageFullError", "as_rejection", "problems_of"]


class NotFoundError(LookupError):
    """No such contact, account, request or peer."""


def problems_of(exc: ConfigError) -> list[tuple[str, str]]:
    """``"key: reason"`` lines as ``(key, reason)`` pairs."""
    out = []
    for problem in exc.problems:
        field, _, reason = problem.partition(": ")
        out.append((field, reason) if reason else ("", problem))
    return out


@contextlib.contextmanager
def as_rejection() -> Iterator[None]:
    """Configuration and maintenance refusals, answered like any rejected change."""
    try:
        yield
    except ConfigError as exc:
        raise ChangeRejectedError(problems_of(exc)) from exc
    except MaintenanceError as exc:
        raise ChangeRejectedError([(exc.field, exc.reason)]) from exc
