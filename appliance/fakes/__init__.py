"""Fake twins of every port, so the firmware runs on a laptop (``--board desktop``) and in tests.

Stimulus methods are named for physical actions (``lift()``, ``press("5")``, ``ring_in(...)``);
recording attributes (``played``, ``frames``, ``commands``) say what the firmware did. Each fake
can be watched: ``watch(callback)`` gets a small dict for every observable change.
"""
