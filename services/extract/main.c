/* wirewatch-extract - an extraction worker. Connects to ingest's dispatch
 * endpoint (PULL) and results endpoint (PUSH): any number of them can run and
 * be stopped at any time. Each batch is decoded, every event gets its
 * entities, keywords and quotes, and the batch goes on as one message. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ww/alloc.h"
#include "ww/daemon.h"
#include "ww/entstats.h"
#include "ww/event.h"
#include "ww/extract.h"
#include "ww/log.h"
#include "ww/metrics.h"
#include "ww/redis.h"
#include "ww/zmqutil.h"

#define MOD "extract"

typedef struct {
    ww_daemon_t d;
    void *zctx, *in, *out;
    ww_extractor_t *x;
    ww_extract_scratch_t *scratch;
    ww_redis_t *redis; /* optional: counters, heartbeat, document frequencies, entity stats */
    ww_df_sync_t *df;   /* keyword document frequencies for Redis (with redis only) */
    ww_entstats_t *es;  /* entity mention counts for Redis (with redis only) */
    int64_t last_flush; /* last flush of df and es (monotonic ms) */
    ww_limits_t lim;
    msgpack_sbuffer sbuf;
    ww_metric_t *m_events, *m_batches, *m_bad, *m_entities;
    uint64_t stats_pending;
    int64_t last_stats, last_redis_try;
    char worker_key[256];
} extract_t;

/* Counters and heartbeat, at most ten times a second; never blocks the
 * pipeline on a dead Redis (one connect attempt a second). */
static void heartbeat(extract_t *x, bool force)
{
    int64_t now = ww_mono_ms();
    if (!force && now - x->last_stats < 100)
        return;
    x->last_stats = now;
    if (!x->redis || (!ww_redis_connected(x->redis) && now - x->last_redis_try < 1000))
        return;
    x->last_redis_try = now;
    if (ww_redis_connect(x->redis) < 0)
        return;
    /* df and entity stats: one pipeline each, every 2 s, or sooner when big (short stalls) */
    if (force || now - x->last_flush >= 2000 || ww_entstats_pending(x->es) >= 4096 ||
        ww_df_sync_pending(x->df) >= 64) {
        x->last_flush = now;
        ww_df_sync_flush(x->df, x->redis);
        ww_entstats_flush(x->es, x->redis);
    }
    size_t cmds = 0;
    if (x->stats_pending && ww_redis_append(x->redis, "HINCRBY %sstats:extract events %llu", x->d.cfg.prefix,
                                            (unsigned long long)x->stats_pending) == 0)
        cmds++;
    if (ww_redis_append(x->redis, "HSET %s events %lld updated %lld", x->worker_key,
                        (long long)ww_metric_value(x->m_events), (long long)ww_now_ms()) == 0)
        cmds++;
    if (ww_redis_append(x->redis, "PEXPIRE %s 15000", x->worker_key) == 0)
        cmds++;
    bool ok = true;
    for (size_t i = 0; i < cmds; i++) {
        redisReply *r;
        if (ww_redis_get_reply(x->redis, &r) < 0) {
            ok = false;
            break;
        }
        freeReplyObject(r);
    }
    if (ok)
        x->stats_pending = 0;
}

static void process(extract_t *x, const char *buf, size_t len)
{
    int64_t t0 = ww_mono_us();
    ww_event_t **evs = NULL;
    uint64_t bad[WW_BAD__COUNT] = {0};
    /* trusted: batches come from ingest, which sanitised every event */
    long n = ww_event_decode_batch_ex(buf, len, &x->lim, WW_DECODE_TRUSTED, &evs, bad);
    if (n < 0) {
        ww_metric_add(x->m_bad, 1);
        if (ww_log_ratelimit(0, 60))
            ww_warn(MOD, "msg=\"dropped a malformed batch\" bytes=%zu", len);
        return;
    }
    for (int k = 0; k < WW_BAD__COUNT; k++)
        ww_metric_add(x->m_bad, bad[k]);
    size_t ents = 0;
    for (long i = 0; i < n; i++) {
        ww_extract_event(x->x, x->scratch, evs[i]);
        if (x->df) {
            const ww_term_t *terms;
            size_t nt = ww_extract_doc_terms(x->scratch, &terms);
            if (ww_df_sampled(evs[i]->id))
                ww_df_sync_add_doc(x->df, terms, nt);
            ww_entstats_add_event(x->es, evs[i]);
        }
        ents += evs[i]->n_entities;
    }
    msgpack_sbuffer_clear(&x->sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &x->sbuf, msgpack_sbuffer_write);
    ww_event_pack_batch(&pk, evs, (size_t)n);
    while (zmq_send(x->out, x->sbuf.data, x->sbuf.size, 0) < 0) {
        if ((zmq_errno() == EAGAIN || zmq_errno() == EINTR) && ww_stop < 2) {
            ww_daemon_watchdog();
            continue;
        }
        ww_error(MOD, "msg=\"cannot hand on a batch\" error=\"%s\" events=%ld", zmq_strerror(zmq_errno()), n);
        break;
    }
    for (long i = 0; i < n; i++)
        ww_event_destroy(&evs[i]);
    ww_free(evs);
    ww_metric_add(x->m_events, (uint64_t)n);
    ww_metric_add(x->m_entities, ents);
    ww_metric_add(x->m_batches, 1);
    ww_stage_observe("extract", t0);
    x->stats_pending += (uint64_t)n;
}

int main(int argc, char **argv)
{
    extract_t x;
    memset(&x, 0, sizeof x);
    x.d.name = "extract";
    x.d.summary = "Finds entities, keywords and quotes in events (any number may run).";
    int rc = ww_daemon_start(&x.d, argc, argv);
    if (rc >= 0)
        return rc;
    const ww_config_t *cfg = &x.d.cfg;
    char err[512];
    x.x = ww_extractor_new(cfg->extract.gazetteer, cfg->extract.model, err, sizeof err);
    if (!x.x) {
        fprintf(stderr, "wirewatch-extract: %s\n", err);
        ww_daemon_finish(&x.d);
        return 2;
    }
    if (cfg->redis) {
        x.redis = ww_redis_new(cfg->redis, err, sizeof err);
        if (!x.redis) {
            fprintf(stderr, "wirewatch-extract: %s\n", err);
            ww_extractor_destroy(&x.x);
            ww_daemon_finish(&x.d);
            return 2;
        }
    }
    char host[128] = "localhost";
    gethostname(host, sizeof host - 1);
    snprintf(x.worker_key, sizeof x.worker_key, "%sworkers:extract:%ld@%s", cfg->prefix, (long)getpid(), host);
    x.scratch = ww_extract_scratch_new();
    if (x.redis) {
        x.df = ww_df_sync_new(cfg->prefix);
        x.es = ww_entstats_new(cfg->prefix);
        ww_extract_scratch_set_live_df(x.scratch, ww_df_sync_live(x.df));
    }
    ww_limits_default(&x.lim);
    x.lim.max_bytes = (size_t)cfg->max_message_bytes * 8;
    msgpack_sbuffer_init(&x.sbuf);
    x.m_events = ww_metric_counter("wirewatch_extract_events_total", "events enriched");
    x.m_batches = ww_metric_counter("wirewatch_extract_batches_total", "batches processed");
    x.m_bad = ww_metric_counter("wirewatch_extract_dropped_total", "malformed events or batches dropped");
    x.m_entities = ww_metric_counter("wirewatch_extract_entities_total", "entity mentions found");

    rc = 1;
    x.zctx = zmq_ctx_new();
    int64_t internal_max = cfg->max_message_bytes * 8;
    x.in = ww_zmq_socket(x.zctx, ZMQ_PULL, internal_max, 4, 0);
    x.out = ww_zmq_socket(x.zctx, ZMQ_PUSH, internal_max, 100, 5000);
    int sndtimeo = 500;
    if (x.out)
        zmq_setsockopt(x.out, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo);
    if (!x.in || !x.out || ww_zmq_connect(x.in, cfg->ingest.dispatch) < 0 ||
        ww_zmq_connect(x.out, cfg->extract.results) < 0)
        goto cleanup;
    ww_info(MOD, "msg=\"started\" version=%s dispatch=%s results=%s", WW_VERSION, cfg->ingest.dispatch,
            cfg->extract.results);
    ww_daemon_ready("extracting");
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    while (!ww_stop) {
        if (ww_reload) {
            ww_reload = 0;
            ww_daemon_reload_config(&x.d);
        }
        ww_daemon_watchdog();
        zmq_pollitem_t items[] = {{x.in, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 1, 500) < 0 && zmq_errno() != EINTR)
            break;
        while (zmq_msg_recv(&msg, x.in, ZMQ_DONTWAIT) >= 0) {
            process(&x, zmq_msg_data(&msg), zmq_msg_size(&msg));
            heartbeat(&x, false); /* also under a steady stream (throttled inside) */
        }
        heartbeat(&x, false);
    }
    /* drain: what already sits in our queue is finished before exiting */
    zmq_close(x.in);
    x.in = NULL;
    zmq_msg_close(&msg);
    heartbeat(&x, true);
    if (x.redis && ww_redis_connected(x.redis)) {
        redisReply *r = ww_redis_cmd(x.redis, "DEL %s", x.worker_key);
        if (r)
            freeReplyObject(r);
    }
    ww_info(MOD, "msg=\"stopped\" events=%lld", (long long)ww_metric_value(x.m_events));
    rc = 0;
cleanup:
    if (x.in)
        zmq_close(x.in);
    if (x.out)
        zmq_close(x.out);
    zmq_ctx_term(x.zctx);
    msgpack_sbuffer_destroy(&x.sbuf);
    ww_extract_scratch_destroy(&x.scratch);
    ww_df_sync_destroy(&x.df);
    ww_entstats_destroy(&x.es);
    ww_extractor_destroy(&x.x);
    ww_redis_destroy(&x.redis);
    ww_daemon_finish(&x.d);
    return rc;
}
