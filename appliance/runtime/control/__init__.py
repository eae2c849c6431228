"""The runtime's control interface: what the web page (or any other front end) may do.

Small controllers, each over the owners it needs (the config store, the supervisor, the call
log, maintenance); none touches a driver: telephony commands go through the supervisor's ordered
command worker. :data:`~.api.OPERATIONS` declares every operation once; :class:`Controllers`
answers them in-process, :class:`~appliance.runtime.control_socket.ControlClient` over the socket.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Protocol

from .accounts import AccountsController
from .api import OPERATIONS, PHONE_OPERATIONS, Operation
from .contacts import ContactsController
from .errors import ChangeRejectedError, NotFoundError, StorageFullError
from .messages import MessagesController
from .network import NetworkController
from .provisioning import ProvisioningController
from .settings import SettingsController
from .setup import SetupController
from .status import LogLines, Probes, StatusController
from .system import SystemController
from .trust import TrustController
from .virtual_phone import SimHandles, VirtualPhone


class ControlAPI(Protocol):
    """What a front end may ask of the phone: :class:`Controllers` here, or the socket's client."""

    async def call(self, name: str, args: dict[str, Any]) -> Any:  # noqa: ANN401 - JSON
        """Run operation ``name`` (``controller.method``) with keyword ``args``; its JSON answer."""
        ...


class BadCallError(TypeError):
    """No such operation, or arguments it does not take."""


@dataclass
class Controllers:
    """One of each controller, and the dispatch of a declared operation to its method."""

    status: StatusController
    settings: SettingsController
    contacts: ContactsController
    accounts: AccountsController
    trust: TrustController
    system: SystemController
    virtual_phone: VirtualPhone
    setup: SetupController
    messages: MessagesController
    provisioning: ProvisioningController
    network: NetworkController

    async def call(self, name: str, args: dict[str, Any]) -> Any:  # noqa: ANN401 - JSON
        if name not in PHONE_OPERATIONS:
            raise BadCallError(f"no operation {name!r}")
        controller, _, function = name.partition(".")
        method = getattr(getattr(self, controller), function)
        try:
            inspect.signature(method).bind(**args)
        except TypeError as exc:
            raise BadCallError(f"{name}: {exc}") from None
        return await method(**args)


__all__ = [
    "OPERATIONS",
    "AccountsController",
    "BadCallError",
    "ChangeRejectedError",
    "ContactsController",
    "ControlAPI",
    "Controllers",
    "LogLines",
    "MessagesController",
    "NetworkController",
    "NotFoundError",
    "Operation",
    "Probes",
    "ProvisioningController",
    "SettingsController",
    "SetupController",
    "SimHandles",
    "StatusController",
    "StorageFullError",
    "SystemController",
    "TrustController",
    "VirtualPhone",
]
