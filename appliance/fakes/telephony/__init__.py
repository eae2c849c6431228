"""The fake telephony core: an in-memory twin of the Jami daemon as the adapter sees it.

:class:`FakeTelephony` (:mod:`.daemon`) is the fake; :mod:`.contacts` and :mod:`.recorder` are its
contacts and answering-machine sides, over the state they share (:mod:`.base`). Split as gpiozero
builds its devices from mixins: one class to the outside, each part readable on its own.
"""

from .base import fake_device_id, fake_jami_id
from .daemon import FakeSipAccount, FakeTelephony

__all__ = ["FakeSipAccount", "FakeTelephony", "fake_device_id", "fake_jami_id"]
