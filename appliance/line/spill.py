"""What goes on the line for a caller, in order: rings, pauses, polarity reversals and the data.

The driver runs these steps for the first ring cycle, then repeats the plain cadence; ``appliance
callerid`` writes the data's samples to a file. Timings, per standard:

- after the first ring (GR-30-CORE; EN 300 659-1 "during ringing"): the data starts 500 ms after
  the first ring ends and ends at least 200 ms before the next, which waits if it must;
- line reversal (EN 300 659-1 "prior to ringing", BT SIN 227): the line reverses, 150 ms later the
  2130 + 2750 Hz alert (100 ms), 60 ms of quiet (BT: 45-75 ms), the data, the line back to
  normal and 300 ms later the first ring; with DTMF the digits follow the reversal directly;
- ring pulse (EN 300 659-1 RP-AS): a 250 ms burst, the data 600 ms after it (500-800 ms), the
  first ring 300 ms after the data;
- before the ring: the data, then the first ring 300 ms later;
- NTT (Japan, :mod:`appliance.phone.car`): the line reverses, 100 ms later the CAR signal rings
  500 ms on and 500 ms off for up to 6 s; a phone that closes its loop meanwhile gets the data
  100 ms later (:func:`car_steps`) and, once it opens the loop again, the ordinary ring.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from appliance.phone import car
from appliance.phone.callerid import Absence, Alert, CallerId, Presentation, Standard
from appliance.phone.tones import Cadence

from . import messages, ntt
from .fsk import BELL_202, RATE, V23, Samples, fsk_burst
from .tones import CAS_MS, alert_tone, dtmf, silence

FSK_LEVEL = 0.15  # about -13.5 dBm0 through a 0 dB SLIC (GR-30: -13.5 dBm at the phone)
AFTER_RING_MS = 500
BEFORE_NEXT_RING_MS = 200


@dataclass(frozen=True, slots=True)
class Ring:
    ms: int


@dataclass(frozen=True, slots=True)
class Pause:
    ms: int


@dataclass(frozen=True, slots=True)
class Polarity:
    reversed: bool


@dataclass(frozen=True, slots=True, eq=False)
class Send:
    samples: Samples = field(repr=False)

    @property
    def ms(self) -> int:
        return round(len(self.samples) * 1000 / RATE)


Step = Ring | Pause | Polarity | Send


def dtmf_keys(caller: CallerId) -> str:
    """DTMF caller ID: 'A', the number, 'C'. With no number, the Danish absence codes (also read by
    Asterisk's receiver): D1# withheld, D3# not available."""
    digits = "".join(c for c in caller.number if c.isdigit())
    if digits:
        return f"A{digits}C"
    return "D1#" if caller.number_absent is Absence.PRIVATE else "D3#"


def message(caller: CallerId, when: datetime) -> bytes:
    """The FSK message for the caller's standard (MDMF, or SDMF when asked for Bellcore)."""
    standard = caller.presentation.standard
    if standard is Standard.BELLCORE and caller.presentation.sdmf:
        return messages.sdmf_call_setup(caller, when)
    return messages.call_setup(caller, when, standard)


def data(caller: CallerId, when: datetime) -> Samples:
    """The data signal alone: the FSK burst (after its alert tone when the line reversal asks for
    one) or the DTMF digits. Empty when caller ID is off."""
    standard = caller.presentation.standard
    if standard is Standard.OFF:
        return np.zeros(0)
    if standard is Standard.ETSI_DTMF:
        return dtmf(dtmf_keys(caller))
    if standard is Standard.NTT:  # no channel seizure: the phone's receiver is on already
        return fsk_burst(ntt.call_setup(caller), V23, seizure=0, marks=ntt.MARK_BITS, level=FSK_LEVEL)
    modem = BELL_202 if standard is Standard.BELLCORE else V23
    burst = fsk_burst(message(caller, when), modem, level=FSK_LEVEL)
    if standard is Standard.ETSI_FSK and caller.presentation.alert is Alert.REVERSAL:
        return np.concatenate((alert_tone(), silence(60), burst))
    return burst


def describe(caller: CallerId, when: datetime) -> str:
    """What the data carries, for people: the DTMF keys, or the FSK message in hex."""
    standard = caller.presentation.standard
    if standard is Standard.OFF:
        return "nothing (caller ID off)"
    if standard is Standard.ETSI_DTMF:
        return f"DTMF {dtmf_keys(caller)}"
    if standard is Standard.NTT:
        return f"frame {ntt.call_setup(caller).hex()}"
    return f"message {message(caller, when).hex()}"


def first_cycle(caller: CallerId | None, cadence: Cadence, when: datetime) -> list[Step]:
    """The first ring cycle with the caller's data in its place; the plain cadence when there is none."""
    spans = cadence.on_off_ms
    plain: list[Step] = [Ring(ms) if i % 2 == 0 else Pause(ms) for i, ms in enumerate(spans)]
    if caller is None or caller.presentation.standard is Standard.OFF:
        return plain
    send = Send(data(caller, when))
    match caller.presentation.alert:
        case Alert.AFTER_RING:
            if len(spans) < 2:  # a cadence with no pause has no place for data: send it first
                return [send, Pause(300), *plain]
            rest = max(spans[-1] - AFTER_RING_MS - send.ms, BEFORE_NEXT_RING_MS)
            return [*plain[:-1], Pause(AFTER_RING_MS), send, Pause(rest)]
        case Alert.REVERSAL:
            lead = 150 if caller.presentation.standard is Standard.ETSI_FSK else 100
            return [Polarity(reversed=True), Pause(lead), send, Polarity(reversed=False), Pause(300), *plain]
        case Alert.RING_PULSE:
            return [Ring(250), Pause(600), send, Pause(300), *plain]
        case Alert.BEFORE_RING:
            return [send, Pause(300), *plain]
        case Alert.CAR:  # the data waits for the phone's answer: car_steps
            return [*car_signal(), *plain]


def car_signal() -> list[Step]:
    """NTT's CAR signal on a reversed line (each burst ends reversed again), for as long as the
    phone may take to answer it."""
    burst: list[Step] = [Ring(car.CAR_ON_MS), Pause(car.CAR_OFF_MS)]
    count = car.WINDOW_MS // (car.CAR_ON_MS + car.CAR_OFF_MS)
    return [Polarity(reversed=True), Pause(car.AFTER_REVERSAL_MS), *(burst * count), Polarity(reversed=False)]


def car_steps(caller: CallerId, when: datetime) -> list[Step]:
    """The data for a phone that closed its loop in answer to the CAR signal, 100 ms later."""
    return [Polarity(reversed=True), Pause(car.PRIMARY_TO_DATA_MS), Send(data(caller, when))]


def message_waiting(*, on: bool, sdmf: bool = False, standard: Standard = Standard.BELLCORE) -> Samples:
    """The visual message-waiting signal: an FSK burst with no ring (the lamp on or off)."""
    modem = V23 if standard is Standard.ETSI_FSK else BELL_202
    return fsk_burst(messages.message_waiting(on=on, sdmf=sdmf), modem, level=FSK_LEVEL)


WAITING_MARKS = 80  # GR-30 off-hook (type 2): no channel seizure, 80 +- 25 mark bits


def waiting_alert() -> Samples:
    """The CPE alerting signal asking an off-hook phone to take caller ID (GR-30 CAS, 80 ms)."""
    return alert_tone(CAS_MS)


def waiting_data(caller: CallerId, when: datetime) -> Samples:
    """The waiting caller's data for an off-hook phone: MDMF, no seizure, a short mark run."""
    modem = V23 if caller.presentation.standard is Standard.ETSI_FSK else BELL_202
    msg = messages.call_setup(caller, when, caller.presentation.standard)
    return fsk_burst(msg, modem, seizure=0, marks=WAITING_MARKS, level=FSK_LEVEL)


def lamp_steps(presentation: Presentation, *, on: bool) -> list[Step]:
    """The message lamp on an idle line, with the standard's alert for data sent without a ring:
    none for Bellcore (its phones watch the idle line), a line reversal and the dual-tone alert,
    or a ring pulse (EN 300 659-1). DTMF caller ID has no message lamp: nothing is sent."""
    standard = presentation.standard
    if standard in (Standard.OFF, Standard.ETSI_DTMF):
        return []
    burst = message_waiting(on=on, sdmf=presentation.sdmf, standard=standard)
    match presentation.alert:
        case Alert.REVERSAL if standard is Standard.ETSI_FSK:
            send = Send(np.concatenate((alert_tone(), silence(60), burst)))
            return [Polarity(reversed=True), Pause(150), send, Polarity(reversed=False)]
        case Alert.RING_PULSE:
            return [Ring(250), Pause(600), Send(burst)]
        case _:
            return [Send(burst)]


def pcm16(samples: Samples) -> bytes:
    """Little-endian 16-bit PCM, as the codec and WAV files take it."""
    return (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
