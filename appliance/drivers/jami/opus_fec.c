/* Opus loss recovery for Debian 12's jamid: preloaded into the daemon (LD_PRELOAD).

   jamid decodes a call's audio with FFmpeg's libopus decoder and asks it for in-band FEC with the
   AVOption "decode_fec" (media_decoder.cpp, prepareDecoderContext). That option exists only in
   Jami's own FFmpeg (contrib/src/ffmpeg/libopusdec-enable-FEC.patch); Debian builds jamid against
   Debian's FFmpeg 5.1, where setting it fails and is not checked. So a lost packet is never
   decoded at all: no FEC, not even Opus's packet-loss concealment, just 20 ms missing from the
   stream (the far end sends FEC: the encoder side's "fec" option is upstream FFmpeg's).

   This does what that patch does, from outside: the packet's pts is taken in avcodec_send_packet
   (the libopus decoder decodes synchronously inside it, on the same thread), and when it is later
   than the end of the decoder's previous packet, the missing samples are decoded first from this
   packet's FEC data (opus_multistream_decode(..., decode_fec=1): PLC for all but the last lost
   frame, FEC for that one), then the packet itself, into the one buffer libopusdec passes (it
   has room for 120 ms: a gap of up to 100 ms beside a 20 ms packet).

   It also shortens the RTP demuxer's wait for a missing packet (see avformat_open_input below),
   and keeps a media clock: when each call's decoder last had a packet (see struct heard below).
   Every other call passes through untouched. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

typedef struct OpusMSDecoder OpusMSDecoder;

/* The first fields of FFmpeg's AVPacket (buf, pts), the same in every FFmpeg since 1.2. */
struct av_packet_head {
    void *buf;
    int64_t pts;
};
#define AV_NOPTS INT64_MIN
#define RTP_CLOCK 48000 /* an Opus RTP stream's timestamps are always 48 kHz (RFC 7587) */
#define MAX_DECODERS 32 /* at once: one per call leg of this device */

extern int opus_packet_get_nb_samples(const unsigned char *packet, int32_t len, int32_t fs);
typedef struct AVDictionary AVDictionary;
extern int av_dict_set(AVDictionary **pm, const char *key, const char *value, int flags);
struct av_input_format_head { /* FFmpeg's AVInputFormat begins with its name */
    const char *name;
};

struct decoder {
    OpusMSDecoder *st;
    int32_t fs;
    int channels;
    int64_t next_pts; /* the pts right after the last packet decoded, AV_NOPTS before the first */
};

static struct decoder decoders[MAX_DECODERS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* The media clock, for the supervisor (appliance/drivers/jami/farend.py): the file named by
   APPLIANCE_MEDIA_CLOCK, shared-mapped, one slot per decoder in use. A far end whose daemon died
   or whose network went away sends nothing more, and this daemon notices only when the call's
   TLS channel times out (40 s); it shows nowhere on D-Bus. CLOCK_MONOTONIC nanoseconds, each
   written whole (atomic stores); started 0 = a free slot, heard 0 = no packet yet. */
struct heard {
    int64_t started_ns; /* when the decoder was made: a call's audio began (or resumed) */
    int64_t heard_ns;   /* when it last decoded a packet of the far end's */
};
static struct heard *clock_slots; /* NULL: no clock asked for, or it could not be made */
static int clock_tried;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Map the clock at the first decoder (the lock held): only jamid makes Opus decoders. */
static void open_clock(void)
{
    if (clock_tried)
        return;
    clock_tried = 1;
    const char *path = getenv("APPLIANCE_MEDIA_CLOCK");
    if (!path || !*path)
        return;
    size_t size = sizeof(struct heard) * MAX_DECODERS;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (ftruncate(fd, (off_t)size) == 0) {
        void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map != MAP_FAILED)
            clock_slots = map;
    }
    close(fd);
}

static void clock_set(int index, int64_t started_ns, int64_t heard_ns)
{
    if (!clock_slots)
        return;
    __atomic_store_n(&clock_slots[index].heard_ns, heard_ns, __ATOMIC_RELAXED);
    __atomic_store_n(&clock_slots[index].started_ns, started_ns, __ATOMIC_RELEASE);
}

/* A packet of the far end's reached decoder ``st``. */
static void heard(OpusMSDecoder *st)
{
    pthread_mutex_lock(&lock);
    if (clock_slots)
        for (int i = 0; i < MAX_DECODERS; i++)
            if (decoders[i].st == st) {
                __atomic_store_n(&clock_slots[i].heard_ns, now_ns(), __ATOMIC_RELAXED);
                break;
            }
    pthread_mutex_unlock(&lock);
}
static __thread int64_t packet_pts = AV_NOPTS; /* the packet avcodec_send_packet is decoding */

static void *next(const char *name)
{
    void *fn = dlsym(RTLD_NEXT, name);
    if (!fn)
        abort(); /* preloaded into something without libavcodec/libopus: a mistake to see at once */
    return fn;
}

/* The RTP demuxer's wait for a missing packet. jamid asks for 50 ms (media_decoder.cpp,
   jitterBufferMaxDelay_): on every loss the packets behind it are held that long, the playback
   runs dry and plays silence, and the delay grows by the stall for good (the daemon never drains
   it). The wait is checked only between reads, which block until the next packet, so 20 ms still
   takes a packet that comes one place late (5 % loss and 0-40 ms jitter: 1 dropped as too late
   in a call, 300 with no wait at all) and stalls 20-40 ms per loss instead of 60-80. A packet
   dropped all the same is recovered from its successor's FEC like a lost one. APPLIANCE_REORDER_MS
   in jamid's environment measures another wait (bench/call_quality.py --reorder-ms). */
#define REORDER_WAIT_MS 20

int avformat_open_input(void **ps, const char *url, const struct av_input_format_head *fmt,
                        AVDictionary **options)
{
    static int (*real)(void **, const char *, const struct av_input_format_head *, AVDictionary **);
    if (!real)
        real = next("avformat_open_input");
    if (fmt && fmt->name && strcmp(fmt->name, "sdp") == 0 && options) { /* a call's RTP */
        const char *ms = getenv("APPLIANCE_REORDER_MS");
        char us[24];
        snprintf(us, sizeof us, "%ld", (ms ? strtol(ms, NULL, 10) : REORDER_WAIT_MS) * 1000L);
        av_dict_set(options, "max_delay", us, 0);
    }
    return real(ps, url, fmt, options);
}

int avcodec_send_packet(void *avctx, const struct av_packet_head *pkt)
{
    static int (*real)(void *, const struct av_packet_head *);
    if (!real)
        real = next("avcodec_send_packet");
    packet_pts = pkt ? pkt->pts : AV_NOPTS;
    int ret = real(avctx, pkt);
    packet_pts = AV_NOPTS;
    return ret;
}

OpusMSDecoder *opus_multistream_decoder_create(int32_t fs, int channels, int streams, int coupled,
                                               const unsigned char *mapping, int *error)
{
    static OpusMSDecoder *(*real)(int32_t, int, int, int, const unsigned char *, int *);
    if (!real)
        real = next("opus_multistream_decoder_create");
    OpusMSDecoder *st = real(fs, channels, streams, coupled, mapping, error);
    if (st) {
        pthread_mutex_lock(&lock);
        open_clock();
        for (int i = 0; i < MAX_DECODERS; i++)
            if (!decoders[i].st) {
                decoders[i] = (struct decoder){st, fs, channels, AV_NOPTS};
                clock_set(i, now_ns(), 0);
                break;
            }
        pthread_mutex_unlock(&lock);
    }
    return st;
}

void opus_multistream_decoder_destroy(OpusMSDecoder *st)
{
    static void (*real)(OpusMSDecoder *);
    if (!real)
        real = next("opus_multistream_decoder_destroy");
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_DECODERS; i++)
        if (decoders[i].st == st) {
            decoders[i].st = NULL;
            clock_set(i, 0, 0);
        }
    pthread_mutex_unlock(&lock);
    real(st);
}

/* The decoder's state, copied out under the lock; 0 if it is not one of ours. */
static int find(OpusMSDecoder *st, struct decoder *out, int *index)
{
    int found = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_DECODERS; i++)
        if (decoders[i].st == st) {
            *out = decoders[i];
            *index = i;
            found = 1;
            break;
        }
    pthread_mutex_unlock(&lock);
    return found;
}

static void advance(int index, OpusMSDecoder *st, int64_t next_pts)
{
    pthread_mutex_lock(&lock);
    if (decoders[index].st == st)
        decoders[index].next_pts = next_pts;
    pthread_mutex_unlock(&lock);
}

/* The samples lost before this packet, in the decoder's rate, a multiple of 2.5 ms (what Opus
   can decode). A gap longer than the buffer holds beside the packet's own samples (100 ms) is an
   outage or a hold, not loss: the playback has run dry and played its own silence by then, and
   concealing it would only add to the delay; the decoder simply resumes. */
static int lost_before(const struct decoder *d, int64_t pts, int own, int frame_size)
{
    if (d->next_pts == AV_NOPTS || pts == AV_NOPTS || pts <= d->next_pts)
        return 0;
    int64_t gap = (pts - d->next_pts) * d->fs / RTP_CLOCK;
    if (gap > frame_size - own)
        return 0;
    return (int)(gap - gap % (d->fs / 400));
}

#define DECODE(NAME, SAMPLE)                                                                      \
    int NAME(OpusMSDecoder *st, const unsigned char *data, int32_t len, SAMPLE *pcm,              \
             int frame_size, int decode_fec)                                                      \
    {                                                                                             \
        static int (*real)(OpusMSDecoder *, const unsigned char *, int32_t, SAMPLE *, int, int); \
        if (!real)                                                                                \
            real = next(#NAME);                                                                   \
        struct decoder d;                                                                         \
        int index;                                                                                \
        int64_t pts = packet_pts;                                                                 \
        if (!decode_fec && data && len > 0)                                                       \
            heard(st);                                                                            \
        if (decode_fec || !data || len <= 0 || pts == AV_NOPTS || !find(st, &d, &index))         \
            return real(st, data, len, pcm, frame_size, decode_fec);                              \
        int own = opus_packet_get_nb_samples(data, len, d.fs);                                    \
        int lost = own > 0 ? lost_before(&d, pts, own, frame_size) : 0;                           \
        int recovered = lost > 0 ? real(st, data, len, pcm, lost, 1) : 0;                         \
        if (recovered < 0)                                                                        \
            recovered = 0;                                                                        \
        int got = real(st, data, len, pcm + (int64_t)recovered * d.channels,                      \
                       frame_size - recovered, 0);                                                \
        if (got < 0)                                                                              \
            return got;                                                                           \
        advance(index, st, pts + (int64_t)got * RTP_CLOCK / d.fs);                                \
        return recovered + got;                                                                   \
    }

DECODE(opus_multistream_decode, int16_t)
DECODE(opus_multistream_decode_float, float)
