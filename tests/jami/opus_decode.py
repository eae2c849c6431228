"""Opus through the daemon's own decoder path, with packets lost: run as a process of its own (so
that LD_PRELOAD can put appliance/drivers/jami/opus_fec.c in front of it), prints one JSON line.

A 2.4 s voice-like signal (a 150 Hz pulse train through a moving formant, with pauses) is encoded
with libopus as jamid's encoder is set up (FFmpeg's "fec" 1, "packet_loss" 10, 20 ms frames, the
application and bitrate given), every LOSS_EVERYth packet is dropped, two in a row once, and ten (an outage) once, and the rest go through
libavcodec's libopus decoder as jamid feeds it (avcodec_send_packet with the RTP timestamp as pts,
avcodec_receive_frame). Printed: the samples missing from what came out, the samples lost and in
the outage, and the signal-to-error ratio where the lost packets were (before the outage), against
the same packets decoded without loss.

    python tests/jami/opus_decode.py [BITRATE [APPLICATION]]   (application: voip | audio)
"""

from __future__ import annotations

import ctypes
import json
import math
import sys

RATE, FRAME = 48000, 960
LOSS_EVERY = 10
APPLICATIONS = {"voip": 2048, "audio": 2049}
OPUS_SET_BITRATE, OPUS_SET_INBAND_FEC, OPUS_SET_PACKET_LOSS_PERC = 4002, 4012, 4014
# FFmpeg 5.1's (libavcodec 59) public structs, only the first fields, which have not moved since 1.2.
PACKET_PTS, PACKET_DATA = 8, 24
FRAME_NB_SAMPLES = 112  # after data[8], linesize[8], extended_data, width, height

# Global, as a program linked with them has them: a preloaded library's dlsym(RTLD_NEXT) finds them.
opus = ctypes.CDLL("libopus.so.0", mode=ctypes.RTLD_GLOBAL)
avcodec = ctypes.CDLL("libavcodec.so.59", mode=ctypes.RTLD_GLOBAL)
avutil = ctypes.CDLL("libavutil.so.57", mode=ctypes.RTLD_GLOBAL)
program = ctypes.CDLL(None)  # symbols as jamid's calls find them: a preloaded library first
send_packet = program.avcodec_send_packet
for fn, res, args in (
    (opus.opus_encoder_create, ctypes.c_void_p, [ctypes.c_int32, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]),
    (opus.opus_encode, ctypes.c_int32, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int32]),
    (avcodec.avcodec_find_decoder_by_name, ctypes.c_void_p, [ctypes.c_char_p]),
    (avcodec.avcodec_alloc_context3, ctypes.c_void_p, [ctypes.c_void_p]),
    (avcodec.avcodec_open2, ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]),
    (avcodec.av_packet_alloc, ctypes.c_void_p, []),
    (avcodec.av_new_packet, ctypes.c_int, [ctypes.c_void_p, ctypes.c_int]),
    (avcodec.av_packet_unref, None, [ctypes.c_void_p]),
    (send_packet, ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p]),
    (avcodec.avcodec_receive_frame, ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p]),
    (avutil.av_frame_alloc, ctypes.c_void_p, []),
    (avutil.av_opt_set_int, ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int64, ctypes.c_int]),
):  # fmt: skip
    fn.restype, fn.argtypes = res, args


def voice(seconds: float) -> list[int]:
    samples = []
    for n in range(int(seconds * RATE)):
        t = n / RATE
        formant = 700 + 400 * math.sin(2 * math.pi * 1.3 * t)
        phase = (t * 150) % 1.0  # glottal pulses at 150 Hz, each ringing at the formant
        on = 0.3 < (t % 0.8) < 0.75  # syllables and pauses
        s = math.exp(-phase * 30) * math.sin(2 * math.pi * formant * phase / 150) if on else 0.0
        samples.append(int(12000 * s))
    return samples


def encode(pcm: list[int], bitrate: int, application: int) -> list[bytes]:
    err = ctypes.c_int()
    enc = opus.opus_encoder_create(RATE, 1, application, ctypes.byref(err))
    assert err.value == 0, err.value
    for request, value in (
        (OPUS_SET_BITRATE, bitrate),
        (OPUS_SET_INBAND_FEC, 1),
        (OPUS_SET_PACKET_LOSS_PERC, 10),
    ):
        assert opus.opus_encoder_ctl(ctypes.c_void_p(enc), request, ctypes.c_int(value)) == 0
    out = ctypes.create_string_buffer(4000)
    packets = []
    for i in range(len(pcm) // FRAME):
        frame = (ctypes.c_int16 * FRAME)(*pcm[i * FRAME : (i + 1) * FRAME])
        n = opus.opus_encode(enc, frame, FRAME, out, 4000)
        assert n > 0, n
        packets.append(out.raw[:n])
    return packets


def decode(packets: list[tuple[int, bytes]]) -> list[int]:
    """Through libavcodec as jamid does it: (pts, packet) in, 16-bit samples out."""
    codec = avcodec.avcodec_find_decoder_by_name(b"libopus")
    ctx = avcodec.avcodec_alloc_context3(codec)
    avutil.av_opt_set_int(ctx, b"ar", RATE, 0)
    avutil.av_opt_set_int(ctx, b"ac", 1, 0)
    assert avcodec.avcodec_open2(ctx, codec, None) == 0
    pkt, frame = avcodec.av_packet_alloc(), avutil.av_frame_alloc()
    out: list[int] = []
    for pts, data in packets:
        assert avcodec.av_new_packet(pkt, len(data)) == 0
        ctypes.memmove(ctypes.c_void_p.from_address(pkt + PACKET_DATA).value, data, len(data))
        ctypes.c_int64.from_address(pkt + PACKET_PTS).value = pts
        assert send_packet(ctx, pkt) == 0
        avcodec.av_packet_unref(pkt)
        while avcodec.avcodec_receive_frame(ctx, frame) == 0:
            n = ctypes.c_int.from_address(frame + FRAME_NB_SAMPLES).value
            data0 = ctypes.c_void_p.from_address(frame).value
            out.extend((ctypes.c_int16 * n).from_address(data0))
    return out


def snr_db(reference: list[int], got: list[int]) -> float:
    signal = sum(r * r for r in reference)
    noise = sum((r - g) ** 2 for r, g in zip(reference, got, strict=True))
    return 10 * math.log10(signal / noise) if noise else math.inf


def main() -> None:
    bitrate = int(sys.argv[1]) if len(sys.argv) > 1 else 96000
    application = APPLICATIONS[sys.argv[2] if len(sys.argv) > 2 else "audio"]
    packets = encode(voice(2.4), bitrate, application)
    timed = [(i * FRAME, p) for i, p in enumerate(packets)]
    whole = decode(timed)
    # single losses every 10th packet before the outage, a burst of two, an outage of 10 (200 ms)
    outage = list(range(100, 110))
    single = [i for i in range(5, outage[0], LOSS_EVERY) if i not in (65, 75)]
    burst = [71, 72]
    lost = sorted([*single, *burst])
    heard = decode([tp for i, tp in enumerate(timed) if i not in lost and i not in outage])

    # where the outage was the recovered stream is that much shorter: only what precedes it is compared
    def snr_where(indices: list[int]) -> float:
        spans = [(i * FRAME, (i + 1) * FRAME) for i in indices]
        return snr_db([s for a, b in spans for s in whole[a:b]], [s for a, b in spans for s in heard[a:b]])

    print(json.dumps({
        "missing": len(whole) - len(heard),  # samples, against the stream without loss
        "lost": len(lost) * FRAME,
        "outage": len(outage) * FRAME,
        "snr_single_db": snr_where(single),  # each of these lost alone: FEC's to recover
        "snr_burst_db": snr_where(burst),  # concealment, then FEC
        "modes": sorted({"silk" if p[0] >> 3 < 12 else "hybrid" if p[0] >> 3 < 16 else "celt" for p in packets}),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
