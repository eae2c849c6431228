"""jamid's playout queue, with its two ends as jamid has them: Opus through libavcodec's libopus
decoder (as tests/jami/opus_decode.py feeds it) into a FIFO, which a PulseAudio playback stream
named "Playback" (jamid's) drains 20 ms a write by jamid's rule: a write takes 20 ms if that much
is queued, else plays silence and keeps what was there. Run as a process of its own, so that
LD_PRELOAD can put appliance/drivers/jami/opus_fec.c in front of both; PULSE_SERVER names the
PulseAudio. Prints one JSON line.

The stream starts with a standing queue of PRIME frames (what a stall leaves behind in jamid),
then plays one frame per packet; every LOSS_EVERYth packet is lost. The stream's buffer is larger
than the whole signal, so the writes never wait and the run takes a fraction of its length.

    python tests/jami/playout_drain.py SECONDS
"""

from __future__ import annotations

import ctypes
import json
import math
import sys
from collections import deque

from opus_decode import (
    FRAME,
    FRAME_NB_SAMPLES,
    PACKET_DATA,
    PACKET_PTS,
    RATE,
    avcodec,
    avutil,
    encode,
    send_packet,
    voice,
)

PRIME = 10  # frames queued before the first write: 200 ms
LOSS_EVERY = 37
PA_SAMPLE_S16LE, PA_STREAM_PLAYBACK = 3, 1

# Global, as jamid has it linked: the preloaded library's dlsym(RTLD_NEXT) finds it.
pulse = ctypes.CDLL("libpulse.so.0", mode=ctypes.RTLD_GLOBAL)
simple = ctypes.CDLL("libpulse-simple.so.0")


class SampleSpec(ctypes.Structure):
    _fields_ = [("format", ctypes.c_int), ("rate", ctypes.c_uint32), ("channels", ctypes.c_uint8)]


class BufferAttr(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint32) for n in ("maxlength", "tlength", "prebuf", "minreq", "fragsize")]


simple.pa_simple_new.restype = ctypes.c_void_p
simple.pa_simple_new.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p,
                                 ctypes.POINTER(SampleSpec), ctypes.c_void_p, ctypes.POINTER(BufferAttr),
                                 ctypes.POINTER(ctypes.c_int)]  # fmt: skip
simple.pa_simple_write.argtypes = [
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_size_t,
    ctypes.POINTER(ctypes.c_int),
]
simple.pa_simple_free.argtypes = [ctypes.c_void_p]
avcodec.avcodec_free_context.argtypes = [ctypes.POINTER(ctypes.c_void_p)]


class Decoder:
    """libavcodec's libopus decoder, one packet at a time, as jamid's MediaDecoder feeds it."""

    def __init__(self) -> None:
        codec = avcodec.avcodec_find_decoder_by_name(b"libopus")
        self.ctx = ctypes.c_void_p(avcodec.avcodec_alloc_context3(codec))
        avutil.av_opt_set_int(self.ctx, b"ar", RATE, 0)
        avutil.av_opt_set_int(self.ctx, b"ac", 1, 0)
        assert avcodec.avcodec_open2(self.ctx, codec, None) == 0
        self.pkt, self.frame = avcodec.av_packet_alloc(), avutil.av_frame_alloc()

    def decode(self, pts: int, data: bytes) -> list[int]:
        assert avcodec.av_new_packet(self.pkt, len(data)) == 0
        ctypes.memmove(ctypes.c_void_p.from_address(self.pkt + PACKET_DATA).value, data, len(data))
        ctypes.c_int64.from_address(self.pkt + PACKET_PTS).value = pts
        assert send_packet(self.ctx, self.pkt) == 0
        avcodec.av_packet_unref(self.pkt)
        out: list[int] = []
        while avcodec.avcodec_receive_frame(self.ctx, self.frame) == 0:
            n = ctypes.c_int.from_address(self.frame + FRAME_NB_SAMPLES).value
            out.extend((ctypes.c_int16 * n).from_address(ctypes.c_void_p.from_address(self.frame).value))
        return out

    def close(self) -> None:  # frees the Opus decoder: opus_fec.c forgets it
        avcodec.avcodec_free_context(ctypes.byref(self.ctx))


def playback_stream(seconds: float):
    spec = SampleSpec(PA_SAMPLE_S16LE, RATE, 1)
    whole = int((seconds + 1) * RATE) * 2
    attr = BufferAttr(whole, whole, 0, 2 * FRAME, 2**32 - 1)  # never waits; prebuf 0 as jamid's
    err = ctypes.c_int()
    stream = simple.pa_simple_new(None, b"playout-drain", PA_STREAM_PLAYBACK, None, b"Playback",
                                  ctypes.byref(spec), None, ctypes.byref(attr), ctypes.byref(err))  # fmt: skip
    assert stream, f"no PulseAudio playback stream (error {err.value})"
    return stream


def main() -> None:
    seconds = float(sys.argv[1])
    signal = voice(seconds)
    packets = [(i * FRAME, p) for i, p in enumerate(encode(signal, 96000, 2049))]
    reference = Decoder()  # the same packets, none lost, none cut: freed before any playback
    whole = [reference.decode(pts, data) for pts, data in packets]
    reference.close()

    stream = playback_stream(seconds)
    err = ctypes.c_int()
    decoder = Decoder()
    queue: deque[int] = deque()  # jamid's ring buffer
    got: dict[int, list[int]] = {}  # what each packet's decode gave (its own and what it recovered)
    lost = list(range(PRIME + 20, len(packets), LOSS_EVERY))
    queue_ms = []
    for i, (pts, data) in enumerate(packets):
        if i not in lost:
            got[i] = decoder.decode(pts, data)
            queue.extend(got[i])
        if i >= PRIME:  # the server asks for 20 ms
            chunk = [queue.popleft() for _ in range(FRAME)] if len(queue) >= FRAME else [0] * FRAME
            buf = (ctypes.c_int16 * FRAME)(*chunk)
            assert simple.pa_simple_write(stream, buf, 2 * FRAME, ctypes.byref(err)) == 0, err.value
            queue_ms.append(len(queue) * 1000 / RATE)
    decoder.close()
    simple.pa_simple_free(stream)

    cut = [i for i, out in got.items() if len(out) - (FRAME if i - 1 in lost else 0) < FRAME]
    # each cut frame's power as decoded without loss, against the speech's (its frames above -40 dB)
    frames = [sum(s * s for s in f) / max(1, len(f)) for f in whole]
    peak = max(frames)
    speech = sum(f for f in frames if f > peak * 1e-4) / sum(1 for f in frames if f > peak * 1e-4)

    def power_db(i: int) -> float:
        return 10 * math.log10(frames[i] / speech) if frames[i] else -math.inf

    def snr_db(i: int) -> float:  # a lost packet i, recovered in front of packet i + 1's own
        ref, rec = whole[i], got[i + 1][: len(whole[i])]
        noise = sum((r - g) ** 2 for r, g in zip(ref, rec, strict=True))
        return 10 * math.log10(sum(r * r for r in ref) / noise) if noise else math.inf

    print(json.dumps({
        "queue_start_ms": queue_ms[0],
        "queue_end_ms": queue_ms[-1],
        "queue_min_end_ms": min(queue_ms[-100:]),  # over the last 2 s: what the drain looks at
        "cut": cut,
        "cut_power_db": [power_db(i) for i in cut],
        "lost": lost,
        "recovered": [len(got[i + 1]) == 2 * FRAME for i in lost if i + 1 in got],
        "snr_lost_db": [snr_db(i) for i in lost if i + 1 in got and whole[i] and any(whole[i])],
    }))  # fmt: skip


if __name__ == "__main__":
    main()
