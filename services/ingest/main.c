/* wirewatch-ingest - the stable hub of the pipeline.
 *
 * Binds every endpoint so that workers only ever connect:
 *   intake     PULL  producers PUSH events (MessagePack or JSON), SPEC §4
 *   dispatch   PUSH  batches of accepted events to extract workers
 *   results    PULL  enriched batches from extract workers  ┐ proxy thread
 *   work       PUSH  ... handed on to alert workers          ┘
 *   publish_in XSUB  alert workers' PUB sockets               ┐ proxy thread
 *   publish    XPUB  subscribers (SPEC §4 alerts endpoint)    ┘
 *
 * For each batch drained from the intake: decode and validate (bad input is
 * counted by kind and logged at most once a minute), repair UTF-8, compute the
 * stable id, stamp ingested_at, drop duplicates within the dedup window with
 * one pipelined round of SET NX to Redis, and pass the rest on as one message. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ww/alloc.h"
#include "ww/archive.h"
#include "ww/daemon.h"
#include "ww/event.h"
#include "ww/ledger.h"
#include "ww/log.h"
#include "ww/metrics.h"
#include "ww/redis.h"
#include "ww/zmqutil.h"

#include "sources.h"
#include "stories.h"

#define MOD "ingest"

typedef struct {
    void *front, *back, *control; /* owned by the proxy thread once started */
    pthread_t thread;
    const char *name;
} proxy_t;

static void *proxy_main(void *arg)
{
    proxy_t *p = arg;
    zmq_proxy_steerable(p->front, p->back, NULL, p->control);
    zmq_close(p->front);
    zmq_close(p->back);
    zmq_close(p->control);
    return NULL;
}

/* Binds both sides of a proxy and starts its thread. Returns 0 or -1. */
static int proxy_start(proxy_t *p, void *ctx, const char *name, int ftype, const char *fep,
                       int btype, const char *bep, int64_t maxmsg, int idx)
{
    p->name = name;
    p->front = ww_zmq_socket(ctx, ftype, maxmsg, 10000, 0);
    p->back = ww_zmq_socket(ctx, btype, maxmsg, 10000, 0);
    char cep[64];
    snprintf(cep, sizeof cep, "inproc://proxy-control-%d", idx);
    p->control = ww_zmq_socket(ctx, ZMQ_PAIR, 0, 0, 0);
    if (!p->front || !p->back || !p->control || ww_zmq_bind(p->front, fep) < 0 ||
        ww_zmq_bind(p->back, bep) < 0 || zmq_bind(p->control, cep) < 0 ||
        pthread_create(&p->thread, NULL, proxy_main, p) != 0) {
        void **socks[] = {&p->front, &p->back, &p->control};
        for (int i = 0; i < 3; i++) {
            if (*socks[i])
                zmq_close(*socks[i]);
            *socks[i] = NULL;
        }
        return -1;
    }
    return 0;
}

static void proxy_stop(proxy_t *p, void *ctx, int idx)
{
    char cep[64];
    snprintf(cep, sizeof cep, "inproc://proxy-control-%d", idx);
    void *c = zmq_socket(ctx, ZMQ_PAIR);
    zmq_connect(c, cep);
    zmq_send(c, "TERMINATE", 9, 0);
    zmq_close(c);
    pthread_join(p->thread, NULL);
}

typedef struct {
    ww_daemon_t d;
    void *zctx, *intake, *dispatch;
    ww_redis_t *redis;
    ww_limits_t lim;
    char token_prefix[32]; /* unique per process: dedup retries recognise their own SET */
    uint64_t seq;
    msgpack_sbuffer sbuf;
    ww_metric_t *m_received, *m_accepted, *m_duplicate, *m_bad[WW_BAD__COUNT], *m_repaired;
    ww_metric_t *m_batches, *m_redis_errors, *m_redelivered, *m_inflight;
    size_t *offs;         /* element boundaries of the packed batch (ledger) */
    size_t offs_cap;
    int64_t last_reap;    /* monotonic ms of the last ledger scan */
    long inflight;        /* events in flight at the last look */
    ww_archive_writer_t *archive; /* NULL: ingest.archive not configured */
    ww_metric_t *m_archived, *m_archive_errors;
    uint64_t bad_pending[WW_BAD__COUNT]; /* bad counts not yet added to Redis stats */
} ingest_t;

static void count_bad(ingest_t *in, ww_bad_t kind, const char *detail, bool fatal)
{
    if (fatal)
        ww_metric_add(in->m_bad[kind], 1);
    else
        ww_metric_add(in->m_repaired, 1);
    in->bad_pending[kind]++;
    if (ww_log_ratelimit(kind, 60))
        ww_warn(MOD, "msg=\"%s input\" kind=%s detail=\"%s\" note=\"logged once a minute per kind\"",
                fatal ? "dropped bad" : "repaired", ww_bad_name(kind), detail);
}

/* Decodes one intake message; returns the event (caller owns) or NULL. */
static ww_event_t *accept_message(ingest_t *in, const char *buf, size_t len, int64_t now)
{
    ww_event_t *ev = NULL;
    ww_decode_status_t st;
    memset(&st, 0, sizeof st);
    if (ww_event_decode_any(buf, len, &in->lim, &ev, &st) < 0) {
        count_bad(in, st.fatal, st.detail, true);
        return NULL;
    }
    for (int k = 1; k < WW_BAD__COUNT; k++)
        if (st.repaired & (1u << k))
            count_bad(in, (ww_bad_t)k, st.detail, false);
    if (!ev->replay || !ev->id || strlen(ev->id) != 32)
        ww_event_compute_id(ev);
    if (!ev->replay || !ev->ingested_at)
        ev->ingested_at = now;
    ev->seq = ++in->seq;
    return ev;
}

/* Runs the dedup round for evs[0..n) and compacts evs to the accepted ones.
 * Replayed events skip dedup. Retries across Redis outages until stop.
 * Returns the number accepted, or -1 when stopped before Redis answered. */
static long dedup_batch(ingest_t *in, ww_event_t **evs, size_t n, uint64_t *dups)
{
    char **tokens = ww_calloc(n, sizeof *tokens);
    bool *keep = ww_calloc(n, sizeof *keep);
    const char *pfx = in->d.cfg.prefix;
    long accepted = -1;
    for (size_t i = 0; i < n; i++)
        tokens[i] = ww_asprintf("%s:%" PRIu64, in->token_prefix, evs[i]->seq);
    for (int attempt = 0; !ww_stop || attempt == 0; attempt++) {
        if (ww_redis_wait(in->redis, &ww_stop, -1) < 0)
            break;
        size_t sent = 0;
        bool ok = true;
        for (size_t i = 0; i < n && ok; i++) {
            if (evs[i]->replay)
                continue;
            ok = ww_redis_append(in->redis, "SET %sdedup:{%s} %s NX GET PX %lld", pfx, evs[i]->id,
                                 tokens[i], (long long)in->d.cfg.ingest.dedup_window_ms) == 0;
            sent++;
        }
        /* stats ride in the same round trip */
        if (ok)
            ok = ww_redis_append(in->redis, "HINCRBY %sstats:ingest received %llu", pfx,
                                 (unsigned long long)n) == 0;
        for (size_t i = 0; i < n && ok; i++) {
            if (evs[i]->replay) {
                keep[i] = true;
                continue;
            }
            redisReply *r;
            if (ww_redis_get_reply(in->redis, &r) < 0) {
                ok = false;
                break;
            }
            if (r->type == REDIS_REPLY_NIL)
                keep[i] = true;
            else if (r->type == REDIS_REPLY_STRING)
                keep[i] = strcmp(r->str, tokens[i]) == 0; /* our own earlier attempt */
            else {
                if (ww_log_ratelimit(WW_LOG_SLOTS - 1, 60))
                    ww_error(MOD, "msg=\"dedup command failed\" reply=\"%s\"",
                             r->type == REDIS_REPLY_ERROR ? r->str : "unexpected");
                keep[i] = true; /* never lose an event over dedup */
            }
            freeReplyObject(r);
        }
        (void)sent;
        if (ok) {
            redisReply *r;
            if (ww_redis_get_reply(in->redis, &r) == 0)
                freeReplyObject(r);
            else
                ok = false;
        }
        if (ok) {
            size_t k = 0;
            for (size_t i = 0; i < n; i++) {
                if (keep[i])
                    evs[k++] = evs[i];
                else {
                    ww_event_destroy(&evs[i]);
                    (*dups)++;
                }
            }
            accepted = (long)k;
            break;
        }
        ww_metric_add(in->m_redis_errors, 1);
        ww_redis_close(in->redis);
    }
    for (size_t i = 0; i < n; i++)
        ww_free(tokens[i]);
    ww_free(tokens);
    ww_free(keep);
    return accepted;
}

/* Adds the pending counters to <prefix>stats:ingest in one pipeline. The
 * pending counts are cleared only when Redis answered, so an outage delays
 * the counters but does not lose them. Returns true when flushed. */
static bool flush_stats(ingest_t *in, uint64_t *accepted, uint64_t *dups)
{
    if (!ww_redis_connected(in->redis))
        return false;
    const char *pfx = in->d.cfg.prefix;
    size_t cmds = 0;
    bool ok = true;
    if (*accepted)
        ok = ww_redis_append(in->redis, "HINCRBY %sstats:ingest accepted %llu", pfx,
                             (unsigned long long)*accepted) == 0 && ++cmds;
    if (ok && *dups)
        ok = ww_redis_append(in->redis, "HINCRBY %sstats:ingest duplicate %llu", pfx,
                             (unsigned long long)*dups) == 0 && ++cmds;
    for (int k = 1; ok && k < WW_BAD__COUNT; k++)
        if (in->bad_pending[k])
            ok = ww_redis_append(in->redis, "HINCRBY %sstats:ingest bad:%s %llu", pfx, ww_bad_name((ww_bad_t)k),
                                 (unsigned long long)in->bad_pending[k]) == 0 && ++cmds;
    for (size_t i = 0; ok && i < cmds; i++) {
        redisReply *r;
        if (ww_redis_get_reply(in->redis, &r) < 0)
            ok = false;
        else
            freeReplyObject(r);
    }
    if (!ok) {
        ww_redis_close(in->redis);
        return false;
    }
    *accepted = *dups = 0;
    memset(in->bad_pending, 0, sizeof in->bad_pending);
    return true;
}

/* Sends a packed batch (in->sbuf) to the extract workers; blocks
 * (backpressure) while none takes it, waking up for signals. */
static void dispatch_sbuf(ingest_t *in, size_t n)
{
    for (;;) {
        if (zmq_send(in->dispatch, in->sbuf.data, in->sbuf.size, 0) >= 0)
            break;
        if (zmq_errno() == EAGAIN || zmq_errno() == EINTR) {
            if (ww_stop > 1) {
                ww_error(MOD, "msg=\"forced stop: batch not handed on (the ledger redelivers it)\" events=%zu", n);
                return;
            }
            ww_daemon_watchdog();
            continue;
        }
        ww_error(MOD, "msg=\"dispatch failed\" error=\"%s\"", zmq_strerror(zmq_errno()));
        return;
    }
    ww_metric_add(in->m_batches, 1);
}

/* Records the packed events in the in-flight ledger (one pipeline), retrying
 * across Redis outages; also learns how many events are in flight. */
static void track_inflight(ingest_t *in, ww_event_t **evs, size_t n)
{
    const char **bytes = ww_calloc(n, sizeof *bytes);
    size_t *lens = ww_calloc(n, sizeof *lens);
    for (size_t i = 0; i < n; i++) {
        bytes[i] = in->sbuf.data + in->offs[i];
        lens[i] = in->offs[i + 1] - in->offs[i];
    }
    const char *pfx = in->d.cfg.prefix;
    int64_t deadline = ww_now_ms() + in->d.cfg.ingest.redeliver_after_ms;
    for (;;) {
        if (ww_redis_wait(in->redis, &ww_stop, ww_stop ? 0 : -1) < 0) {
            ww_error(MOD, "msg=\"stopping with Redis unreachable: events passed on untracked\" events=%zu", n);
            break;
        }
        long cmds = ww_ledger_append_track(in->redis, pfx, evs, bytes, lens, n, deadline);
        bool ok = cmds >= 0 && ww_redis_append(in->redis, "ZCARD %sinflight", pfx) == 0;
        for (long i = 0; ok && i <= cmds; i++) {
            redisReply *r;
            if (ww_redis_get_reply(in->redis, &r) < 0) {
                ok = false;
                break;
            }
            if (i == cmds && r->type == REDIS_REPLY_INTEGER)
                in->inflight = (long)r->integer;
            freeReplyObject(r);
        }
        if (ok)
            break;
        ww_metric_add(in->m_redis_errors, 1);
        ww_redis_close(in->redis);
    }
    ww_metric_set(in->m_inflight, in->inflight);
    ww_free(bytes);
    ww_free(lens);
}

/* Packs accepted events as one batch, records them in the in-flight ledger
 * (so that a worker dying with them cannot lose them), and sends the batch. */
static void forward(ingest_t *in, ww_event_t **evs, size_t n)
{
    if (!n)
        return;
    msgpack_sbuffer_clear(&in->sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &in->sbuf, msgpack_sbuffer_write);
    WW_GROW(in->offs, in->offs_cap, n + 1);
    msgpack_pack_array(&pk, n); /* the same bytes as ww_event_pack_batch */
    for (size_t i = 0; i < n; i++) {
        in->offs[i] = in->sbuf.size;
        ww_event_pack(&pk, evs[i], true);
    }
    in->offs[n] = in->sbuf.size;
    track_inflight(in, evs, n);
    dispatch_sbuf(in, n);
}

/* Once a second: events whose deadline passed (their worker died, or the
 * pipeline lost them) are claimed from the ledger and dispatched again. The
 * alert stage recognises what it already published by the alert ids. */
static void reap(ingest_t *in)
{
    int64_t mono = ww_mono_ms();
    if (mono - in->last_reap < 1000 || !ww_redis_connected(in->redis))
        return;
    in->last_reap = mono;
    int64_t now = ww_now_ms();
    for (int round = 0; round < 16; round++) {
        ww_ledger_item_t *items = NULL;
        long n = ww_ledger_claim_due(in->redis, in->d.cfg.prefix, now,
                                     now + in->d.cfg.ingest.redeliver_after_ms, 256, &items);
        if (n <= 0) {
            ww_ledger_items_free(items, 0);
            return;
        }
        msgpack_sbuffer_clear(&in->sbuf);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &in->sbuf, msgpack_sbuffer_write);
        msgpack_pack_array(&pk, (size_t)n);
        for (long i = 0; i < n; i++)
            msgpack_sbuffer_write(&in->sbuf, items[i].bytes, items[i].len);
        ww_ledger_items_free(items, (size_t)n);
        dispatch_sbuf(in, (size_t)n);
        ww_metric_add(in->m_redelivered, (uint64_t)n);
        redisReply *r = ww_redis_cmd(in->redis, "HINCRBY %sstats:ingest redelivered %ld", in->d.cfg.prefix, n);
        if (r)
            freeReplyObject(r);
        if (ww_log_ratelimit(WW_LOG_SLOTS - 2, 60))
            ww_warn(MOD, "msg=\"redelivered events not finished in time (a worker died?)\" events=%ld "
                         "note=\"logged once a minute\"", n);
        if (n < 256)
            return;
    }
}

/* Archives the accepted events (not replayed ones: they are in an archive
 * already) and commits them under the fsync policy, before they are passed
 * on. A failure is logged and counted; the events still go on. */
static void archive_batch(ingest_t *in, ww_event_t **evs, size_t n)
{
    uint64_t k = 0;
    bool failed = false;
    for (size_t i = 0; i < n; i++) {
        if (evs[i]->replay)
            continue;
        if (ww_archive_writer_append(in->archive, evs[i]) == 0)
            k++;
        else
            failed = true;
    }
    if (k && ww_archive_writer_commit(in->archive) < 0)
        failed = true;
    ww_metric_add(in->m_archived, k);
    if (failed)
        ww_metric_add(in->m_archive_errors, 1);
}

static void register_metrics(ingest_t *in)
{
    in->m_received = ww_metric_counter("wirewatch_ingest_received_total", "messages read from the intake");
    in->m_accepted = ww_metric_counter("wirewatch_ingest_accepted_total", "events accepted and passed on");
    in->m_duplicate = ww_metric_counter("wirewatch_ingest_duplicates_total",
                                        "events dropped as duplicates within the dedup window");
    in->m_repaired = ww_metric_counter("wirewatch_ingest_repaired_total", "events repaired (UTF-8, types)");
    in->m_batches = ww_metric_counter("wirewatch_ingest_batches_total", "batches sent to extract workers");
    in->m_redelivered = ww_metric_counter("wirewatch_ingest_redelivered_total",
                                          "events dispatched again because their deadline passed");
    in->m_inflight = ww_metric_gauge("wirewatch_ingest_inflight", "events accepted and not yet finished by the alert stage");
    in->m_archived = ww_metric_counter("wirewatch_ingest_archived_total", "events written to the archive");
    in->m_archive_errors = ww_metric_counter("wirewatch_ingest_archive_errors_total", "failed archive writes");
    in->m_redis_errors = ww_metric_counter("wirewatch_redis_errors_total", "failed Redis round trips");
    for (int k = 1; k < WW_BAD__COUNT; k++) {
        char name[128];
        snprintf(name, sizeof name, "wirewatch_ingest_dropped_total{reason=\"%s\"}", ww_bad_name((ww_bad_t)k));
        in->m_bad[k] = ww_metric_counter(name, "messages dropped at the intake, by reason");
    }
}

static int run(ingest_t *in)
{
    const ww_config_t *cfg = &in->d.cfg;
    int batch_max = (int)cfg->ingest.batch;
    ww_event_t **evs = ww_calloc((size_t)batch_max, sizeof *evs);
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    uint64_t dups = 0;
    int64_t last_stats = 0;
    uint64_t acc_pending = 0, dup_pending = 0;
    for (;;) {
        if (ww_reload) {
            ww_reload = 0;
            ww_daemon_reload_config(&in->d);
        }
        ww_daemon_watchdog();
        reap(in);
        /* flow control: with too much in flight, stop reading the intake (its
         * queue fills and producers block) until the alert stage catches up */
        bool full = in->inflight >= in->d.cfg.ingest.max_inflight && !ww_stop;
        if (full) {
            in->inflight = ww_ledger_count(in->redis, in->d.cfg.prefix);
            full = in->inflight >= in->d.cfg.ingest.max_inflight;
            ww_metric_set(in->m_inflight, in->inflight);
        }
        zmq_pollitem_t items[] = {{in->intake, 0, ZMQ_POLLIN, 0}};
        int timeout = ww_stop ? 0 : full ? 100 : 500;
        int rc = zmq_poll(items, full ? 0 : 1, timeout);
        if (rc < 0 && zmq_errno() != EINTR)
            break;
        size_t n = 0, bytes = 0;
        int64_t now = ww_now_ms(), t0 = ww_mono_us();
        /* drain what is queued, up to one batch */
        while (!full && n < (size_t)batch_max && bytes < (size_t)cfg->max_message_bytes) {
            if (zmq_msg_recv(&msg, in->intake, ZMQ_DONTWAIT) < 0)
                break;
            ww_metric_add(in->m_received, 1);
            size_t len = zmq_msg_size(&msg);
            ww_event_t *ev = accept_message(in, zmq_msg_data(&msg), len, now);
            if (ev) {
                evs[n++] = ev;
                bytes += len;
            }
        }
        if (n) {
            uint64_t d0 = dups;
            long acc = dedup_batch(in, evs, n, &dups);
            if (acc < 0) {
                for (size_t i = 0; i < n; i++)
                    ww_event_destroy(&evs[i]);
                ww_error(MOD, "msg=\"stopped while Redis was unreachable\" events_not_handed_on=%zu", n);
                break;
            }
            ww_metric_add(in->m_duplicate, dups - d0);
            ww_metric_add(in->m_accepted, (uint64_t)acc);
            /* near-duplicates and stories (SimHash bands in Redis) */
            ww_stories_assign(in->redis, cfg->prefix, cfg->ingest.dedup_window_ms, evs, (size_t)acc);
            if (in->archive)
                archive_batch(in, evs, (size_t)acc);
            forward(in, evs, (size_t)acc);
            ww_stage_observe("ingest", t0);
            for (long i = 0; i < acc; i++)
                ww_event_destroy(&evs[i]);
            acc_pending += (uint64_t)acc;
            dup_pending += dups - d0;
        }
        int64_t mono = ww_mono_ms();
        bool bad_waiting = false;
        for (int k = 1; k < WW_BAD__COUNT; k++)
            bad_waiting |= in->bad_pending[k] != 0;
        if ((acc_pending || dup_pending || bad_waiting) && (n == 0 || mono - last_stats >= 100)) {
            flush_stats(in, &acc_pending, &dup_pending);
            last_stats = mono;
        }
        if (ww_stop && n == 0)
            break; /* intake drained */
    }
    if (acc_pending || dup_pending)
        flush_stats(in, &acc_pending, &dup_pending);
    zmq_msg_close(&msg);
    ww_free(evs);
    return 0;
}

int main(int argc, char **argv)
{
    ingest_t in;
    memset(&in, 0, sizeof in);
    in.d.name = "ingest";
    in.d.summary = "Accepts events at the intake, dedups them in Redis, and hubs the pipeline.";
    int rc = ww_daemon_start(&in.d, argc, argv);
    if (rc >= 0)
        return rc;
    const ww_config_t *cfg = &in.d.cfg;
    if (!cfg->redis) {
        fprintf(stderr, "wirewatch-ingest: no Redis configured (--redis, WIREWATCH_REDIS_URL or 'redis:' in the config)\n");
        ww_daemon_finish(&in.d);
        return 2;
    }
    char err[256];
    in.redis = ww_redis_new(cfg->redis, err, sizeof err);
    if (!in.redis) {
        fprintf(stderr, "wirewatch-ingest: %s\n", err);
        ww_daemon_finish(&in.d);
        return 2;
    }
    ww_limits_default(&in.lim);
    in.lim.max_bytes = (size_t)cfg->max_message_bytes;
    snprintf(in.token_prefix, sizeof in.token_prefix, "%lx.%lx", (long)getpid(), (long)ww_now_ms());
    msgpack_sbuffer_init(&in.sbuf);
    register_metrics(&in);
    if (cfg->ingest.archive) {
        ww_archive_opts_t ao;
        ww_archive_opts_default(&ao);
        ao.segment_bytes = cfg->ingest.archive_segment_size;
        ao.segment_ms = cfg->ingest.archive_segment_time_ms;
        ww_archive_parse_fsync(cfg->ingest.archive_fsync, &ao); /* validated by the config loader */
        ww_archive_recovery_t rec;
        in.archive = ww_archive_writer_open(cfg->ingest.archive, &ao, &rec, err, sizeof err);
        if (!in.archive) {
            fprintf(stderr, "wirewatch-ingest: archive: %s\n", err);
            msgpack_sbuffer_destroy(&in.sbuf);
            ww_redis_destroy(&in.redis);
            ww_daemon_finish(&in.d);
            return 1;
        }
        if (rec.torn_bytes)
            ww_warn(MOD, "msg=\"archive recovered: torn tail truncated\" segment=%s bytes=%llu records_kept=%llu",
                    rec.segment, (unsigned long long)rec.torn_bytes, (unsigned long long)rec.records);
        ww_info(MOD, "msg=\"archiving\" archive=%s fsync=%s", cfg->ingest.archive, cfg->ingest.archive_fsync);
    }

    rc = 1;
    proxy_t results = {0}, alerts = {0};
    bool results_on = false, alerts_on = false;
    in.zctx = zmq_ctx_new();
    int64_t internal_max = cfg->max_message_bytes * 8;
    in.intake = ww_zmq_socket(in.zctx, ZMQ_PULL, cfg->max_message_bytes, 10000, 0);
    in.dispatch = ww_zmq_socket(in.zctx, ZMQ_PUSH, internal_max, 100, 2000);
    int sndtimeo = 500;
    if (in.dispatch)
        zmq_setsockopt(in.dispatch, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo);
    if (!in.intake || !in.dispatch || ww_zmq_bind(in.intake, cfg->ingest.intake) < 0 ||
        ww_zmq_bind(in.dispatch, cfg->ingest.dispatch) < 0)
        goto cleanup;
    if (proxy_start(&results, in.zctx, "results", ZMQ_PULL, cfg->extract.results, ZMQ_PUSH,
                    cfg->alert.work, internal_max, 1) < 0)
        goto cleanup;
    results_on = true;
    if (proxy_start(&alerts, in.zctx, "alerts", ZMQ_XSUB, cfg->alert.publish_in, ZMQ_XPUB,
                    cfg->alert.publish, cfg->max_message_bytes, 2) < 0)
        goto cleanup;
    alerts_on = true;
    char *redacted = ww_redis_url_redacted(cfg->redis);
    ww_info(MOD, "msg=\"started\" version=%s intake=%s dispatch=%s results=%s work=%s publish=%s redis=%s",
            WW_VERSION, cfg->ingest.intake, cfg->ingest.dispatch, cfg->extract.results,
            cfg->alert.work, cfg->alert.publish, redacted);
    ww_free(redacted);
    ww_redis_wait(in.redis, &ww_stop, -1);
    ww_daemon_ready("accepting events");
    ww_sources_t *sources = ww_sources_start(in.zctx, in.intake, cfg); /* feeds, OPML, watched dirs */
    rc = run(&in) == 0 ? 0 : 1;
    ww_sources_stop(&sources);
    ww_info(MOD, "msg=\"stopped\" received=%lld accepted=%lld", (long long)ww_metric_value(in.m_received),
            (long long)ww_metric_value(in.m_accepted));
cleanup:
    if (results_on)
        proxy_stop(&results, in.zctx, 1);
    if (alerts_on)
        proxy_stop(&alerts, in.zctx, 2);
    if (in.intake)
        zmq_close(in.intake);
    if (in.dispatch)
        zmq_close(in.dispatch);
    zmq_ctx_term(in.zctx);
    msgpack_sbuffer_destroy(&in.sbuf);
    ww_free(in.offs);
    ww_archive_writer_close(&in.archive);
    ww_redis_destroy(&in.redis);
    ww_daemon_finish(&in.d);
    return rc;
}
