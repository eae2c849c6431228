"""The phone's call control as pure functions: standard library only, no asyncio, no I/O.

Everything here is driven by :func:`appliance.phone.machine.step` and can be tested with tables
of events and expected effects.
"""
