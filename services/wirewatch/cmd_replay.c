/* cmd_replay.c - `wirewatch replay ARCHIVE... [--speed X | --max] [--from TIME]
 * [--to TIME]`: feeds archived events back into the pipeline through ingest's
 * intake (SPEC §2).
 *
 * Events come from the archive reader (several archives merged by event
 * time), are marked `replay` (ingest then keeps their id and ingested_at and
 * skips dedup, and does not archive them again), and are sent one per
 * message on a PUSH socket with a small high-water mark: when the pipeline is
 * slower than the replay, zmq_send blocks and the replay waits (push back,
 * never a flood, nothing dropped).
 *
 * Pace: the event-time gap between consecutive events divided by --speed
 * (default 1, the original pace); --max sends as fast as the pipeline takes
 * them. An event older than one already sent is sent without waiting. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "cli.h"
#include "ww/alloc.h"
#include "ww/archive.h"
#include "ww/event.h"
#include "ww/zmqutil.h"

#define REPLAY_HWM 1000 /* messages queued before send blocks */

static volatile sig_atomic_t replay_stop;

static void replay_on_signal(int sig)
{
    (void)sig;
    replay_stop = 1;
}

static void replay_usage(FILE *f)
{
    fprintf(f, "Usage: wirewatch replay ARCHIVE... [--speed X | --max] [--from TIME] [--to TIME] [-c FILE]\n"
               "Feeds archived events back into the pipeline (ingest.intake), marked as replayed.\n"
               "  --speed X    original pace times X (default 1; 10 = ten times faster)\n"
               "  --max        as fast as the pipeline takes them\n"
               "  --from TIME  first event time (inclusive), --to TIME last (exclusive):\n"
               "               RFC 3339 (2024-05-01T12:00:00Z) or Unix milliseconds\n"
               "Several archives are merged in event-time order. The replay waits (never drops)\n"
               "when the pipeline is slower.\n");
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps until the monotonic time `until`, in slices so a signal stops it. */
static void sleep_until(int64_t until)
{
    for (;;) {
        int64_t left = until - mono_ms();
        if (left <= 0 || replay_stop)
            return;
        if (left > 200)
            left = 200;
        struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
}

int cmd_replay(int argc, char **argv)
{
    static const struct option opts[] = {{"speed", required_argument, NULL, 's'}, {"max", no_argument, NULL, 'm'},
                                         {"from", required_argument, NULL, 'F'},  {"to", required_argument, NULL, 'T'},
                                         {"config", required_argument, NULL, 'c'}, {"redis", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
    cli_common_t cc;
    memset(&cc, 0, sizeof cc);
    double speed = 1.0;
    bool max = false, speed_set = false;
    int64_t from = 0, to = INT64_MAX;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 's': {
            char *end;
            speed = strtod(optarg, &end);
            if (*end || !(speed > 0) || !isfinite(speed)) {
                fprintf(stderr, "wirewatch replay: --speed wants a positive number, not '%s'\n", optarg);
                return 2;
            }
            speed_set = true;
            break;
        }
        case 'm': max = true; break;
        case 'F':
        case 'T':
            if (ww_archive_parse_time(optarg, c == 'F' ? &from : &to) < 0) {
                fprintf(stderr, "wirewatch replay: bad time '%s' (RFC 3339 or Unix milliseconds)\n", optarg);
                return 2;
            }
            break;
        case 'c': cc.config_path = optarg; break;
        case 'r': cc.redis_url = optarg; break;
        case 'h': replay_usage(stdout); return 0;
        default: replay_usage(stderr); return 2;
        }
    }
    if (max && speed_set) {
        fprintf(stderr, "wirewatch replay: --speed and --max exclude each other\n");
        return 2;
    }
    if (optind >= argc) {
        fprintf(stderr, "wirewatch replay: no ARCHIVE given\n");
        replay_usage(stderr);
        return 2;
    }
    if (cli_load_config(&cc) != 0)
        return 2;
    char err[512];
    ww_archive_reader_t *r =
        ww_archive_reader_open((const char *const *)argv + optind, (size_t)(argc - optind), from, to, err, sizeof err);
    if (!r) {
        fprintf(stderr, "wirewatch replay: %s\n", err);
        ww_config_free(&cc.cfg);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = replay_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int rc = 1;
    void *zctx = zmq_ctx_new();
    void *push = ww_zmq_socket(zctx, ZMQ_PUSH, 0, REPLAY_HWM, 60000);
    int sndtimeo = 200;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    uint64_t sent = 0;
    int64_t started = mono_ms();
    if (!push || ww_zmq_connect(push, cc.cfg.ingest.intake) < 0)
        goto out;
    zmq_setsockopt(push, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo);
    int64_t t0 = 0, w0 = 0, tmax = INT64_MIN;
    ww_event_t *ev;
    int k = 0;
    bool waited_note = false;
    while (!replay_stop && (k = ww_archive_reader_next(r, &ev)) == 1) {
        int64_t t = ww_event_time(ev);
        if (!max) {
            if (sent == 0) {
                t0 = t;
                w0 = mono_ms();
            } else if (t > tmax) {
                sleep_until(w0 + (int64_t)((double)(t - t0) / speed));
            }
        }
        if (t > tmax)
            tmax = t;
        ev->replay = true;
        msgpack_sbuffer_clear(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        ww_event_pack(&pk, ev, true);
        ww_event_destroy(&ev);
        int64_t wait_from = mono_ms();
        /* blocks while the pipeline is behind: the push back */
        while (zmq_send(push, sb.data, sb.size, 0) < 0) {
            if (replay_stop || (zmq_errno() != EAGAIN && zmq_errno() != EINTR))
                break;
            if (!waited_note && mono_ms() - wait_from > 5000) {
                fprintf(stderr, "wirewatch replay: waiting for ingest at %s ...\n", cc.cfg.ingest.intake);
                waited_note = true;
            }
        }
        if (replay_stop)
            break;
        sent++;
    }
    if (!replay_stop && k < 0)
        goto out;
    rc = replay_stop ? 1 : 0;
out:;
    ww_archive_stats_t st;
    ww_archive_reader_stats(r, &st);
    double secs = (double)(mono_ms() - started) / 1000.0;
    fprintf(stderr, "wirewatch replay: %" PRIu64 " events sent to %s in %.1f s%s", sent, cc.cfg.ingest.intake, secs,
            replay_stop ? " (interrupted)" : "");
    if (st.corrupt)
        fprintf(stderr, ", %" PRIu64 " corrupt records skipped", st.corrupt);
    fprintf(stderr, "\n");
    msgpack_sbuffer_destroy(&sb);
    ww_archive_reader_close(&r);
    if (push) {
        if (replay_stop) {
            int linger = 0;
            zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
        }
        zmq_close(push); /* waits (linger, up to 60 s) until the queue is handed to ingest */
    }
    zmq_ctx_term(zctx);
    ww_config_free(&cc.cfg);
    return rc;
}
