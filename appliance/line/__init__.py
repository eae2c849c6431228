"""Analog line signalling as samples: caller ID (Bell 202 and V.23 FSK, DTMF), message waiting,
the alerting tones, and the order and timing they go on the line in.

Pure numpy, no I/O: the SLIC line driver plays what this renders, and ``appliance callerid``
writes the same samples to a WAV file, so what an installer checks is what the phone receives.
"""
