"""Firmware that turns a desk phone or an analog-phone adapter into a Jami (Ring) endpoint."""

__version__ = "0.1.0"
