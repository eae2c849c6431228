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
   keeps a media clock: when each call's decoder last had a packet (see struct heard below), and
   drains a standing playout queue (see "The playout queue" below). Every other call passes
   through untouched. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
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

/* What a decoder's audio does between the decoder and the sound server (see "The playout
   queue"); microseconds of audio unless said otherwise. */
struct playout {
    int64_t queue_us;       /* decoded and not yet played: jamid's ring buffer and resizer */
    int64_t window_min_us;  /* the queue's lowest, after a write, in this window */
    int64_t window_us;      /* played in this window */
    int64_t decoded_us, played_us, silent_us, dropped_us; /* since the decoder was made */
    int64_t last_arrival_ns, last_pts; /* the packet before, for the arrival jitter */
    double jitter_us;       /* RFC 3550's interarrival jitter estimate */
    double speech_level;    /* a slow peak follower of the frames' power, full scale 1 */
    int since_recovery;     /* frames since one came back from FEC or concealment */
    int armed;              /* a frame may be dropped: the last window's queue stayed high */
    int model_wrong;        /* writes of audio the model said was missing (should stay 0) */
    int64_t logged_ns;
};

struct decoder {
    OpusMSDecoder *st;
    int32_t fs;
    int channels;
    int64_t next_pts; /* the pts right after the last packet decoded, AV_NOPTS before the first */
    struct playout play;
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

/* The playout queue. jamid has no adaptive jitter buffer: each call's decoded audio waits in a
   ring buffer of 16 frames of 20 ms (ringbuffer.h) that PulseAudio's write callback drains
   (PulseLayer::writeToSpeaker, AudioLayer::getToPlay). When less is queued than the server asks
   for, it writes silence and keeps what it had; what comes late is kept too. So every stall (a
   late or lost packet, a busy moment) that empties the queue adds its length to the delay for
   the rest of the call, and nothing ever takes it out again. Both ends of that queue pass
   through here, the decoder's output (DECODE below) and the playback stream's writes
   (pa_stream_write), so its depth follows from jamid's rule: a write takes what it asks for if
   that much is queued, else nothing. A write the model says found nothing must be silence: that
   is checked (model_wrong, in the log).

   When the queue's lowest over a window (PLAYOUT_WINDOW_US of playback) stays a frame above what
   the arrival jitter needs (the target, 40-60 ms), one quiet decoded frame (QUIET_DB below the
   recent speech level) is cut to KEEP_US, its head crossfaded into its tail so that both ends
   still meet their neighbours: at most one a window, never a frame recovered from loss or the
   first frames after one, never a frame of speech. Per decoder: a call or a conference leg each.
   APPLIANCE_PLAYOUT_DRAIN=0 turns it off (the bench's baseline); APPLIANCE_PLAYOUT_LOG names a
   file that gets each decoder's queue twice a second. */
#define PLAYOUT_WINDOW_US 1000000
#define TARGET_MIN_US 40000
#define TARGET_MAX_US 60000
#define NOMINAL_FRAME_US 20000
#define RING_US 340000          /* 16 frames and a partial one: beyond, the ring drops its oldest */
#define QUIET_DB 30.0           /* this far below the recent speech level: a pause */
#define SILENT_POWER 1e-8       /* -80 dBFS: silence, whatever the level */
#define LEVEL_DECAY 0.995       /* per frame: the speech level falls ~1 dB a second */
#define RECOVERY_GUARD_FRAMES 10 /* 200 ms after a recovered loss: the queue is still settling */
#define LOG_EVERY_NS 500000000

static int drain_enabled = 1;
static FILE *playout_log;
static int playout_tried;

/* The environment's say, read once (the lock held). */
static void open_playout(void)
{
    if (playout_tried)
        return;
    playout_tried = 1;
    const char *drain = getenv("APPLIANCE_PLAYOUT_DRAIN");
    drain_enabled = !(drain && strcmp(drain, "0") == 0);
    const char *path = getenv("APPLIANCE_PLAYOUT_LOG");
    if (path && *path && (playout_log = fopen(path, "ae")))
        setvbuf(playout_log, NULL, _IOLBF, 0);
}

/* The least the queue may fall to after a write: what the arrival jitter needs, bounded. */
static int64_t playout_target(const struct playout *p)
{
    int64_t target = (int64_t)(4 * p->jitter_us);
    return target < TARGET_MIN_US ? TARGET_MIN_US : target > TARGET_MAX_US ? TARGET_MAX_US : target;
}

/* A frame of ``samples`` (the decoder's rate ``fs``) decoded into decoder ``index``, of mean
   power ``power`` (full scale 1), ``recovered`` more before it from FEC or concealment; pts is the
   packet's. Returns whether to cut it: see above. */
static int playout_decoded(int index, OpusMSDecoder *st, int64_t pts, int recovered, int samples,
                           int keep, double power)
{
    int cut = 0;
    pthread_mutex_lock(&lock);
    open_playout();
    struct decoder *d = &decoders[index];
    if (d->st == st) {
        struct playout *p = &d->play;
        int64_t now = now_ns();
        if (pts != AV_NOPTS && p->last_pts != AV_NOPTS && pts > p->last_pts) { /* RFC 3550 A.8 */
            double transit = (double)(now - p->last_arrival_ns) / 1e3 -
                             (double)(pts - p->last_pts) * 1e6 / RTP_CLOCK;
            p->jitter_us += (fabs(transit) - p->jitter_us) / 16;
        }
        if (pts != AV_NOPTS) {
            p->last_pts = pts;
            p->last_arrival_ns = now;
        }
        p->speech_level = fmax(power, p->speech_level * LEVEL_DECAY);
        p->since_recovery = recovered > 0 ? 0 : p->since_recovery + 1;
        int quiet = power < SILENT_POWER || power < p->speech_level * pow(10, -QUIET_DB / 10);
        cut = drain_enabled && p->armed && quiet && samples > keep &&
              p->since_recovery >= RECOVERY_GUARD_FRAMES;
        int64_t all = (int64_t)(recovered + samples) * 1000000 / d->fs;
        int64_t kept = (int64_t)(recovered + (cut ? keep : samples)) * 1000000 / d->fs;
        p->decoded_us += all;
        p->queue_us = p->queue_us + kept > RING_US ? RING_US : p->queue_us + kept;
        if (cut) {
            p->dropped_us += all - kept;
            p->armed = 0;
            p->window_us = 0; /* the next window starts from the shorter queue */
            p->window_min_us = INT64_MAX;
        }
    }
    pthread_mutex_unlock(&lock);
    return cut;
}

/* A line of the log for decoder ``index`` (the lock held). */
static void playout_logged(int index, int64_t now)
{
    const struct playout *p = &decoders[index].play;
    if (playout_log)
        fprintf(playout_log,
                "%.3f pid %d slot %d queue %.1f ms jitter %.1f ms target %.1f ms decoded %.0f"
                " played %.0f silent %.0f dropped %.0f ms model_wrong %d\n",
                (double)now / 1e9, (int)getpid(), index, p->queue_us / 1e3, p->jitter_us / 1e3,
                playout_target(p) / 1e3, p->decoded_us / 1e3, p->played_us / 1e3,
                p->silent_us / 1e3, p->dropped_us / 1e3, p->model_wrong);
}

/* The playback stream took ``us`` of audio, ``silent`` if it was all zeros (the lock held). */
static void playout_played(int64_t us, int silent)
{
    int64_t now = now_ns();
    int active = 0;
    for (int i = 0; i < MAX_DECODERS; i++)
        active += decoders[i].st != NULL;
    for (int i = 0; i < MAX_DECODERS; i++) {
        struct playout *p = &decoders[i].play;
        if (!decoders[i].st)
            continue;
        p->played_us += us;
        if (p->queue_us >= us) {
            p->queue_us -= us;
        } else {
            p->silent_us += us;
            if (!silent && active == 1) /* with one call it must have played silence */
                p->model_wrong++;
        }
        if (p->queue_us < p->window_min_us)
            p->window_min_us = p->queue_us;
        p->window_us += us;
        if (p->window_us >= PLAYOUT_WINDOW_US) {
            p->armed = p->window_min_us - (NOMINAL_FRAME_US) >= playout_target(p);
            p->window_us = 0;
            p->window_min_us = INT64_MAX;
        }
        if (now - p->logged_ns >= LOG_EVERY_NS) {
            p->logged_ns = now;
            playout_logged(i, now);
        }
    }
}

/* libpulse, as jamid's PulseLayer uses it: its playback stream is the one named "Playback"
   (AudioStream's description); the first fields of pa_sample_spec have been these since 0.9. */
typedef struct pa_stream pa_stream;
struct pa_sample_spec_head {
    int format; /* PA_SAMPLE_S16LE 3, FLOAT32LE 5, S32LE 7 */
    uint32_t rate;
    uint8_t channels;
};
static pa_stream *playback, *capture;
static uint32_t playback_rate, capture_rate;
static uint32_t playback_frame_bytes, capture_frame_bytes;

pa_stream *pa_stream_new_with_proplist(void *c, const char *name,
                                       const struct pa_sample_spec_head *ss, const void *map,
                                       void *proplist)
{
    static pa_stream *(*real)(void *, const char *, const struct pa_sample_spec_head *,
                              const void *, void *);
    if (!real)
        real = next("pa_stream_new_with_proplist");
    pa_stream *s = real(c, name, ss, map, proplist);
    if (s && ss && name) {
        uint32_t bytes = (ss->format == 3 || ss->format == 4 ? 2 : 4) * ss->channels; /* s16, else 32-bit */
        pthread_mutex_lock(&lock);
        open_playout();
        if (playout_log)
            fprintf(playout_log, "%.3f pid %d stream %s %u Hz %u bytes a frame\n",
                    (double)now_ns() / 1e9, (int)getpid(), name, ss->rate, bytes);
        if (strcmp(name, "Playback") == 0) {
            playback = s;
            playback_rate = ss->rate;
            playback_frame_bytes = bytes;
        } else if (strcmp(name, "Capture") == 0) {
            capture = s;
            capture_rate = ss->rate;
            capture_frame_bytes = bytes;
        }
        pthread_mutex_unlock(&lock);
    }
    return s;
}

/* The daemon's stream buffers: AudioStream asks for 80 ms each way (tlength for playback,
   fragsize for capture, with PA_STREAM_ADJUST_LATENCY). APPLIANCE_PULSE_MS asks for another. */
struct pa_buffer_attr_head {
    uint32_t maxlength, tlength, prebuf, minreq, fragsize;
};
static const struct pa_buffer_attr_head *buffer_attr(const struct pa_buffer_attr_head *attr,
                                                     struct pa_buffer_attr_head *mine,
                                                     uint32_t frame_bytes, uint32_t rate)
{
    const char *ms = getenv("APPLIANCE_PULSE_MS");
    if (!attr || !ms || !*ms || !rate || !frame_bytes)
        return attr;
    uint32_t bytes = (uint32_t)(strtol(ms, NULL, 10) * (long)rate / 1000) * frame_bytes;
    *mine = *attr;
    mine->tlength = bytes;
    mine->fragsize = bytes;
    return mine;
}

int pa_stream_connect_playback(pa_stream *s, const char *dev, const struct pa_buffer_attr_head *attr,
                               int flags, const void *volume, pa_stream *sync)
{
    static int (*real)(pa_stream *, const char *, const struct pa_buffer_attr_head *, int,
                       const void *, pa_stream *);
    if (!real)
        real = next("pa_stream_connect_playback");
    struct pa_buffer_attr_head mine;
    if (s == playback)
        attr = buffer_attr(attr, &mine, playback_frame_bytes, playback_rate);
    return real(s, dev, attr, flags, volume, sync);
}

int pa_stream_connect_record(pa_stream *s, const char *dev, const struct pa_buffer_attr_head *attr,
                             int flags)
{
    static int (*real)(pa_stream *, const char *, const struct pa_buffer_attr_head *, int);
    if (!real)
        real = next("pa_stream_connect_record");
    struct pa_buffer_attr_head mine;
    if (s == capture)
        attr = buffer_attr(attr, &mine, capture_frame_bytes, capture_rate);
    return real(s, dev, attr, flags);
}

static int all_zero(const void *data, size_t bytes)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < bytes; i++)
        if (b[i])
            return 0;
    return 1;
}

int pa_stream_write(pa_stream *s, const void *data, size_t nbytes, void (*free_cb)(void *),
                    int64_t offset, int seek)
{
    static int (*real)(pa_stream *, const void *, size_t, void (*)(void *), int64_t, int);
    if (!real)
        real = next("pa_stream_write");
    pthread_mutex_lock(&lock);
    if (s == playback && playback_rate && playback_frame_bytes) {
        int64_t us = (int64_t)(nbytes / playback_frame_bytes) * 1000000 / playback_rate;
        playout_played(us, data ? all_zero(data, nbytes) : 1);
    }
    pthread_mutex_unlock(&lock);
    return real(s, data, nbytes, free_cb, offset, seek);
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
                decoders[i] = (struct decoder){st, fs, channels, AV_NOPTS, {0}};
                decoders[i].play.window_min_us = INT64_MAX;
                decoders[i].play.last_pts = AV_NOPTS;
                decoders[i].play.since_recovery = RECOVERY_GUARD_FRAMES;
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
            playout_logged(i, now_ns()); /* the call's last word on its queue */
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

/* Cut a decoded frame of ``n`` samples (interleaved, ``channels``) to its first ``keep``: its head
   faded into its tail, so the cut frame begins where the one before ended and ends where the
   next begins. */
#define SPLICE(SAMPLE)                                                                            \
    static void splice_##SAMPLE(SAMPLE *f, int n, int keep, int channels)                         \
    {                                                                                             \
        for (int j = 0; j < keep; j++) {                                                          \
            double w = (j + 0.5) / keep;                                                          \
            for (int c = 0; c < channels; c++) {                                                  \
                double v = f[j * channels + c] * (1 - w) + f[(n - keep + j) * channels + c] * w;  \
                f[j * channels + c] = (SAMPLE)v;                                                  \
            }                                                                                     \
        }                                                                                         \
    }
SPLICE(int16_t)
SPLICE(float)

#define DECODE(NAME, SAMPLE, FULL_SCALE)                                                          \
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
        if (decode_fec || !data || len <= 0 || !find(st, &d, &index))                             \
            return real(st, data, len, pcm, frame_size, decode_fec);                              \
        int own = opus_packet_get_nb_samples(data, len, d.fs);                                    \
        int lost = own > 0 ? lost_before(&d, pts, own, frame_size) : 0;                           \
        int recovered = lost > 0 ? real(st, data, len, pcm, lost, 1) : 0;                         \
        if (recovered < 0)                                                                        \
            recovered = 0;                                                                        \
        SAMPLE *frame = pcm + (int64_t)recovered * d.channels;                                    \
        int got = real(st, data, len, frame, frame_size - recovered, 0);                          \
        if (got < 0)                                                                              \
            return got;                                                                           \
        if (pts != AV_NOPTS)                                                                      \
            advance(index, st, pts + (int64_t)got * RTP_CLOCK / d.fs);                            \
        double power = 0;                                                                         \
        for (int i = 0; i < got * d.channels; i++)                                                \
            power += (double)frame[i] * frame[i];                                                 \
        power /= (double)(got > 0 ? got * d.channels : 1) * FULL_SCALE * FULL_SCALE;              \
        int keep = d.fs / 400; /* 2.5 ms */                                                       \
        if (playout_decoded(index, st, pts, recovered, got, keep, power)) {                       \
            splice_##SAMPLE(frame, got, keep, d.channels);                                        \
            got = keep;                                                                           \
        }                                                                                         \
        return recovered + got;                                                                   \
    }

DECODE(opus_multistream_decode, int16_t, 32768.0)
DECODE(opus_multistream_decode_float, float, 1.0)
