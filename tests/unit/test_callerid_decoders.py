"""Proof with decoders nobody here wrote: what the adapter sends decodes in minimodem (Bell 202 and
V.23 FSK) and multimon-ng (DTMF), byte for byte with the checksum right, also after a G.711 round
trip through sox and with white noise on the line."""

from __future__ import annotations

import binascii
import shutil
import subprocess
import sys
import wave
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from appliance.line import messages, ntt, spill
from appliance.line.fsk import V23, fsk_burst
from appliance.phone.callerid import Absence, Alert, CallerId, Presentation, Standard
from tests.dtmf_corpus import multimon

pytestmark = pytest.mark.skipif(
    not (shutil.which("minimodem") and shutil.which("multimon-ng") and shutil.which("sox")),
    reason="minimodem, multimon-ng and sox are the reference decoders and codec (.ci/setup installs them)",
)

WHEN = datetime(2026, 12, 3, 9, 5)  # noqa: DTZ001
ALICE = ("5551234567", "Alice Example")
MODEM_ARGS = {Standard.BELLCORE: [], Standard.ETSI_FSK: ["-M", "1300", "-S", "2100"],
              Standard.NTT: ["-M", "1300", "-S", "2100"]}  # fmt: skip
MESSAGE_TYPES = (messages.MDMF_CALL_SETUP, messages.MDMF_MWI, messages.SDMF_CALL_SETUP, messages.SDMF_MWI)


def caller(standard: Standard, alert: Alert = Alert.AFTER_RING, *, sdmf: bool = False, number: str = ALICE[0],
           name: str = ALICE[1], absent: Absence | None = None) -> CallerId:  # fmt: skip
    return CallerId(number, name, absent if not number else None, absent if not name else None,
                    Presentation(standard, alert, sdmf=sdmf))  # fmt: skip


def write(path: Path, samples: np.ndarray) -> Path:
    pad = np.zeros(1600)  # 200 ms of quiet line around the burst, as between rings
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(spill.pcm16(np.concatenate((pad, samples, pad))))
    return path


def read(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(np.float64) / 32768


def through(path: Path, channel: str, seed: int = 7) -> Path:
    """The file as the phone would get it: straight, through G.711 (sox's codec) or with white
    noise ("snr20": the signal's power 20 dB over the noise's)."""
    if channel == "clean":
        return path
    out = path.with_name(f"{path.stem}-{channel}-{seed}.wav")
    if channel in ("ulaw", "alaw"):
        coded = path.with_name(f"{path.stem}-{channel}-coded.wav")
        subprocess.run(
            ["sox", str(path), "-e", "u-law" if channel == "ulaw" else "a-law", str(coded)], check=True
        )
        subprocess.run(["sox", str(coded), "-e", "signed-integer", "-b", "16", str(out)], check=True)
        return out
    snr_db = float(channel.removeprefix("snr"))
    signal = read(path)
    power = np.mean(signal[np.abs(signal) > 1e-3] ** 2)
    noise = np.random.default_rng(seed).normal(0, np.sqrt(power / 10 ** (snr_db / 10)), len(signal))
    return write(out, (signal + noise)[1600:-1600])


def multimon_clip(path: Path) -> str:
    """multimon-ng's V.23 CLIP decoder (it prints nothing for a message whose checksum is wrong)."""
    raw = path.with_suffix(".22050.raw")
    subprocess.run(["sox", str(path), "-t", "raw", "-r", "22050", "-e", "signed-integer", "-b", "16", "-c", "1",
                    str(raw)], check=True)  # fmt: skip
    result = subprocess.run(["multimon-ng", "-q", "-c", "-a", "CLIPFSK", "-t", "raw", str(raw)],
                            capture_output=True, text=True, check=True, timeout=30)  # fmt: skip
    return result.stdout.strip()


def minimodem_bytes(path: Path, standard: Standard) -> bytes:
    result = subprocess.run(
        ["minimodem", "--rx", "1200", *MODEM_ARGS[standard], "-q", "-f", str(path)],
        capture_output=True, check=True, timeout=30,
    )  # fmt: skip
    return result.stdout


def find_message(stream: bytes) -> bytes:
    """The message in the decoded stream (after the seizure's 0x55s), its checksum checked."""
    for at, byte in enumerate(stream):
        if byte in MESSAGE_TYPES and at + 2 < len(stream):
            candidate = stream[at : at + stream[at + 1] + 3]
            try:
                messages.parse(candidate)
            except messages.MessageError:
                continue
            return candidate
    raise AssertionError(f"no message with a good checksum in {stream.hex()}")


@pytest.mark.parametrize("channel", ["clean", "ulaw", "alaw"])
@pytest.mark.parametrize(
    "who",
    [
        caller(Standard.BELLCORE),
        caller(Standard.BELLCORE, sdmf=True),
        caller(Standard.BELLCORE, number="", name="", absent=Absence.PRIVATE),
        caller(Standard.ETSI_FSK),
        caller(Standard.ETSI_FSK, Alert.REVERSAL),  # the 2130 + 2750 Hz alert first
        caller(Standard.ETSI_FSK, number="", absent=Absence.UNAVAILABLE),
    ],
    ids=["bellcore-mdmf", "bellcore-sdmf", "bellcore-private", "v23", "v23-after-alert", "v23-unavailable"],
)
def test_minimodem_decodes_the_fsk_byte_for_byte(tmp_path, who, channel):
    sent = spill.message(who, WHEN)
    wav = through(write(tmp_path / "cid.wav", spill.data(who, WHEN)), channel)
    assert find_message(minimodem_bytes(wav, who.presentation.standard)) == sent


SEEDS = range(20)


def test_bell_202_through_line_noise(tmp_path):
    """20 dB SNR in white noise, 20 different noises: minimodem gets every message exact."""
    who = caller(Standard.BELLCORE)
    wav = write(tmp_path / "cid.wav", spill.data(who, WHEN))
    decoded = [
        find_message(minimodem_bytes(through(wav, "snr20", seed), Standard.BELLCORE)) for seed in SEEDS
    ]
    assert decoded == [spill.message(who, WHEN)] * len(SEEDS)


def test_v23_through_line_noise(tmp_path):
    """multimon-ng's CLIP decoder reads every one of 20 noisy V.23 bursts at 12 dB SNR (time, number
    and name, checksum right). minimodem's generic FSK decoder is weaker with V.23's 800 Hz shift:
    at 20 dB it loses a bit in about 1 burst of 20, and the checksum catches every such loss."""
    who = caller(Standard.ETSI_FSK, Alert.REVERSAL)
    wav = write(tmp_path / "cid.wav", spill.data(who, WHEN))
    expected = "CLIPFSK: CS DATE=12030905 CID=5551234567 CNT=Alice Example"
    assert [multimon_clip(through(wav, "snr12", seed)) for seed in SEEDS] == [expected] * len(SEEDS)
    exact = 0
    for seed in SEEDS:
        stream = minimodem_bytes(through(wav, "snr20", seed), Standard.ETSI_FSK)
        try:
            exact += find_message(stream) == spill.message(who, WHEN)  # a good checksum means the right bytes
        except AssertionError:
            continue
    assert exact >= 17


def test_multimon_refuses_a_wrong_checksum(tmp_path):
    """The checksum matters to a real receiver: one flipped bit in it and nothing is shown."""
    sent = bytearray(spill.message(caller(Standard.ETSI_FSK), WHEN))
    good = write(tmp_path / "good.wav", fsk_burst(bytes(sent), V23, level=spill.FSK_LEVEL))
    sent[-1] ^= 0x01
    bad = write(tmp_path / "bad.wav", fsk_burst(bytes(sent), V23, level=spill.FSK_LEVEL))
    assert multimon_clip(good).startswith("CLIPFSK: CS DATE=12030905")
    assert multimon_clip(bad) == ""


@pytest.mark.parametrize("standard", [Standard.BELLCORE, Standard.ETSI_FSK])
def test_minimodems_caller_id_reader_shows_time_number_and_name(tmp_path, standard):
    wav = write(tmp_path / "cid.wav", spill.data(caller(standard), WHEN))
    result = subprocess.run(
        ["minimodem", "--rx", "callerid", *MODEM_ARGS[standard], "-q", "-f", str(wav)],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    assert result.stdout.split("\n")[:4] == [
        "CALLER-ID", "Time:  12/03 09:05", "Phone: 555-123-4567", "Name:  Alice Example",
    ]  # fmt: skip


@pytest.mark.parametrize("channel", ["clean", "ulaw", "snr20"])
@pytest.mark.parametrize("standard", [Standard.BELLCORE, Standard.ETSI_FSK])
def test_call_waiting_data_decodes_without_a_seizure(tmp_path, standard, channel):
    """Type 2 (off hook): no channel seizure, 80 mark bits, then the same MDMF message."""
    who = caller(standard)
    wav = through(write(tmp_path / "cw.wav", spill.waiting_data(who, WHEN)), channel)
    assert find_message(minimodem_bytes(wav, standard)) == messages.call_setup(who, WHEN, standard)


@pytest.mark.parametrize("on", [True, False])
@pytest.mark.parametrize("sdmf", [False, True])
def test_message_waiting_decodes(tmp_path, on, sdmf):
    wav = write(tmp_path / "mwi.wav", spill.message_waiting(on=on, sdmf=sdmf))
    assert find_message(minimodem_bytes(wav, Standard.BELLCORE)) == messages.message_waiting(on=on, sdmf=sdmf)


@pytest.mark.parametrize("channel", ["clean", "ulaw", "alaw", "snr20"])
@pytest.mark.parametrize(
    ("who", "keys"),
    [
        (caller(Standard.ETSI_DTMF, Alert.BEFORE_RING, number="0612345678"), "A0612345678C"),
        (caller(Standard.ETSI_DTMF, number="", absent=Absence.PRIVATE), "D1#"),
        (caller(Standard.ETSI_DTMF, number="", absent=Absence.UNAVAILABLE), "D3#"),
    ],
    ids=["number", "private", "unavailable"],
)
def test_multimon_decodes_the_dtmf_caller_id(tmp_path, who, keys, channel):
    wav = through(write(tmp_path / "cid.wav", spill.data(who, WHEN)), channel)
    assert multimon(wav) == keys


def test_the_command_renders_what_the_decoders_read(tmp_path):
    out = tmp_path / "cli.wav"
    subprocess.run(
        [sys.executable, "-m", "appliance", "callerid", str(out), "--standard", "etsi-fsk",
         "--number", "441632960001", "--name", "Ève Müller", "--when", "02291730", "--alert", "reversal"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    with wave.open(str(out), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
    fields = messages.parse(find_message(minimodem_bytes(out, Standard.ETSI_FSK))).fields
    assert fields == {
        messages.DATE_TIME: b"02291730",
        messages.NUMBER: b"441632960001",
        messages.NAME: b"Eve Muller",
    }


def kermit_crc(data: bytes) -> int:
    """CRC-16/KERMIT through Python's own CRC-CCITT (binascii.crc_hqx, the unreflected polynomial):
    the bytes' bits reversed in, the result's reversed out. Not the code under test."""
    reverse8 = [int(f"{b:08b}"[::-1], 2) for b in range(256)]
    crc = binascii.crc_hqx(bytes(reverse8[b] for b in data), 0)
    return int(f"{crc:016b}"[::-1], 2)


def ntt_frame(stream: bytes) -> bytes:
    """The frame in minimodem's bytes: from DLE SOH (with their parity bits) to the CRC."""
    start = stream.find(bytes((0x90, 0x81)))
    end = stream.find(bytes((0x90, 0x03)), start)
    assert start >= 0 and end > start, f"no DLE SOH ... DLE ETX in {stream.hex()}"
    return stream[start : end + 4]


@pytest.mark.parametrize("channel", ["clean", "ulaw", "alaw"])
@pytest.mark.parametrize(
    ("number", "absent", "field"),
    [
        ("0312345678", None, (ntt.NUMBER, b"0312345678")),
        ("09012345678901", None, (ntt.NUMBER, b"09012345678901")),  # 16 bytes: the length is a DLE
        ("", Absence.PRIVATE, (ntt.NUMBER_ABSENT, b"P")),
        ("", Absence.UNAVAILABLE, (ntt.NUMBER_ABSENT, b"O")),
    ],
    ids=["tokyo", "dle-length", "private", "out-of-area"],
)
def test_minimodem_decodes_the_ntt_frame_with_parity_and_crc_right(tmp_path, number, absent, field, channel):
    """NTT Number Display at V.23 1300/2100 Hz: minimodem's 8 bits are 7 data bits and even
    parity; the CRC (checked here with another implementation) covers the header to ETX."""
    who = CallerId(number, "", absent, None, Presentation(Standard.NTT, Alert.CAR))
    wav = through(write(tmp_path / "ntt.wav", spill.data(who, WHEN)), channel)
    frame = ntt_frame(minimodem_bytes(wav, Standard.NTT))
    assert frame == ntt.call_setup(who)
    body, crc = frame[:-2], frame[-2] | frame[-1] << 8
    assert all(b.bit_count() % 2 == 0 for b in body)  # even parity on every byte but the CRC
    assert crc == kermit_crc(body[2:])
    assert ntt.parse(frame).fields == dict([field])


def test_the_ntt_crc_is_kermits_and_a_flipped_bit_is_refused():
    assert ntt.crc16(b"123456789") == 0x2189 == kermit_crc(b"123456789")  # the catalogue's check value
    frame = bytearray(ntt.call_setup(CallerId("0312345678", "", None, None)))
    frame[9] ^= 0x01
    with pytest.raises(ntt.FrameError, match="CRC"):
        ntt.parse(bytes(frame))


def test_the_command_renders_the_ntt_frame_the_decoder_reads(tmp_path):
    out = tmp_path / "ntt.wav"
    result = subprocess.run(
        [sys.executable, "-m", "appliance", "callerid", str(out), "--standard", "ntt", "--number", "0312345678"],
        check=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "frame 9081879082c0" in result.stdout
    frame = ntt_frame(minimodem_bytes(out, Standard.NTT))
    assert ntt.parse(frame).fields == {ntt.NUMBER: b"0312345678"}
    refused = subprocess.run(
        [sys.executable, "-m", "appliance", "callerid", str(out), "--standard", "ntt", "--name", "Taro"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode != 0 and "--name: NTT" in refused.stderr
