/* wirewatch-alert - an alert worker. Connects to ingest's work endpoint
 * (PULL) and publish_in endpoint (PUB); any number can run.
 *
 * Rules come from Redis (<prefix>rules, stored by `wirewatch rules load`)
 * when present, else from the file named by alert.rules. A new version is
 * picked up between two batches (polled every second, and on SIGHUP), so no
 * event is evaluated twice or skipped.
 *
 * For every rule that matches an event, one Lua call per (hit, key) does
 * atomically in Redis: the once-per-id check, the threshold window or spike
 * and the cooldown in event time (WW_ALERT_FIRE_LUA, mirrored by the
 * in-memory store backtests use), XADD to <prefix>alerts, and remembering
 * the id. Only alerts the script accepted are published, so no id is
 * published twice. All calls of one batch travel in one pipeline.
 *
 * Reporting: events evaluated per rule set version (HINCRBY
 * <prefix>stats:alert:versions VERSION n, once per batch) and, in the worker's
 * heartbeat hash, rules_version and `slow`: a JSON list of the rules that
 * cost most (sampled verification time) since the rule set was loaded. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ww/alert.h"
#include "ww/alert_state.h"
#include "ww/alloc.h"
#include "ww/daemon.h"
#include "ww/event.h"
#include "ww/ledger.h"
#include "ww/log.h"
#include "ww/metrics.h"
#include "ww/redis.h"
#include "ww/rules.h"
#include "ww/zmqutil.h"

#define MOD "alert"
#define ALERT_DRAIN 32 /* most queued messages evaluated together (one Redis pipeline) */

typedef struct {
    ww_alert_t *alert;
    char *bytes;
    size_t len;
    char *key; /* threshold/cooldown key */
    const ww_rule_t *rule;
    int64_t event_time;
    const char *event_id;
} pending_t;

typedef struct {
    ww_daemon_t d;
    void *zctx, *in, *pub;
    ww_redis_t *redis;
    ww_ruleset_t *rules;
    char rules_origin[512]; /* "redis" or the file name */
    ww_rules_scratch_t *scratch;
    ww_hits_t hits;
    ww_limits_t lim;
    char sha[41];
    int64_t last_rules_check;
    msgpack_sbuffer sbuf;
    ww_metric_t *m_events, *m_alerts, *m_suppressed, *m_bad, *m_redis_errors, *m_rules;
    char worker_key[256];
    uint64_t stats_events, stats_alerts;
    uint64_t stats_version_events; /* not yet counted under the running version */
} alert_t;

/* Loads the rule set: Redis first, then the configured file. Returns a new
 * ruleset (caller owns) or NULL when none is available / invalid. */
static ww_ruleset_t *load_rules(alert_t *a, char *origin, size_t originlen)
{
    char err[1024];
    redisReply *r = ww_redis_cmd(a->redis, "GET %srules", a->d.cfg.prefix);
    if (r && r->type == REDIS_REPLY_STRING) {
        ww_ruleset_t *rs = ww_rules_load_buffer(r->str, r->len, "redis:rules", err, sizeof err);
        freeReplyObject(r);
        if (!rs)
            ww_error(MOD, "msg=\"rules in Redis are invalid, keeping the running set\" error=\"%s\"", err);
        else
            snprintf(origin, originlen, "redis");
        return rs;
    }
    if (r)
        freeReplyObject(r);
    if (a->d.cfg.alert.rules) {
        ww_ruleset_t *rs = ww_rules_load_file(a->d.cfg.alert.rules, err, sizeof err);
        if (!rs)
            ww_error(MOD, "msg=\"rules file is invalid, keeping the running set\" error=\"%s\"", err);
        else
            snprintf(origin, originlen, "%s", a->d.cfg.alert.rules);
        return rs;
    }
    return NULL;
}

/* Swaps in a new rule set when its version differs. Called between batches. */
static void maybe_reload(alert_t *a, bool force)
{
    int64_t now = ww_mono_ms();
    if (!force && now - a->last_rules_check < 1000)
        return;
    a->last_rules_check = now;
    if (!force && a->rules) {
        /* cheap check first: has the version in Redis changed? */
        redisReply *r = ww_redis_cmd(a->redis, "GET %srules:version", a->d.cfg.prefix);
        if (!r)
            return;
        bool same = (r->type == REDIS_REPLY_STRING && strcmp(a->rules_origin, "redis") == 0 &&
                     strcmp(r->str, ww_rules_version(a->rules)) == 0) ||
                    (r->type == REDIS_REPLY_NIL && strcmp(a->rules_origin, "redis") != 0);
        freeReplyObject(r);
        if (same)
            return;
    }
    char origin[512];
    ww_ruleset_t *rs = load_rules(a, origin, sizeof origin);
    if (!rs) {
        if (!a->rules && force)
            ww_warn(MOD, "msg=\"no rules yet: load some with 'wirewatch rules load' or set alert.rules\"");
        return;
    }
    if (a->rules && strcmp(ww_rules_version(rs), ww_rules_version(a->rules)) == 0) {
        ww_rules_destroy(&rs);
        snprintf(a->rules_origin, sizeof a->rules_origin, "%s", origin);
        return;
    }
    if (a->rules && a->stats_version_events) { /* the old version's last events */
        redisReply *r = ww_redis_cmd(a->redis, "HINCRBY %sstats:alert:versions %s %llu", a->d.cfg.prefix,
                                     ww_rules_version(a->rules), (unsigned long long)a->stats_version_events);
        if (r) {
            a->stats_version_events = 0;
            freeReplyObject(r);
        }
    }
    ww_rules_destroy(&a->rules);
    a->rules = rs;
    ww_rules_costs_reset(a->scratch);
    redisReply *dr = ww_redis_cmd(a->redis, "DEL %srules:slow", a->d.cfg.prefix); /* old rules' costs */
    if (dr)
        freeReplyObject(dr);
    snprintf(a->rules_origin, sizeof a->rules_origin, "%s", origin);
    ww_metric_set(a->m_rules, (int64_t)ww_rules_count(rs));
    ww_metric_info("wirewatch_rules_info", "version of the running rule set", "version", ww_rules_version(rs));
    ww_info(MOD, "msg=\"rules loaded\" version=%s rules=%zu from=%s", ww_rules_version(rs),
            ww_rules_count(rs), origin);
}

static void pending_free(pending_t *p)
{
    ww_alert_destroy(&p->alert);
    ww_free(p->bytes);
    ww_free(p->key);
}

/* Adds one candidate alert for a hit (and key). */
static void add_candidate(alert_t *a, pending_t **list, size_t *n, size_t *cap, const ww_hit_t *hit,
                          const ww_event_t *ev, const char *key, int64_t now)
{
    WW_GROW(*list, *cap, *n + 1);
    pending_t *p = &(*list)[(*n)++];
    memset(p, 0, sizeof *p);
    p->alert = ww_alert_from_hit(hit, ev, key, now);
    ww_alert_add_state_match(p->alert, hit->rule, key);
    msgpack_sbuffer_clear(&a->sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &a->sbuf, msgpack_sbuffer_write);
    ww_alert_pack(&pk, p->alert);
    p->bytes = ww_strndup(a->sbuf.data, a->sbuf.size);
    p->len = a->sbuf.size;
    p->key = ww_strdup(key ? key : "");
    p->rule = hit->rule;
    p->event_time = ww_event_time(ev);
    p->event_id = p->alert->event.id;
}

/* Runs the fire script for every candidate in one pipeline and publishes the
 * accepted ones. Retries the whole round after a Redis failure (the script is
 * idempotent per alert id). Returns the number published. */
static size_t fire_all(alert_t *a, pending_t *list, size_t n)
{
    const ww_config_t *cfg = &a->d.cfg;
    const char *pfx = cfg->prefix;
    bool *go = ww_calloc(n ? n : 1, sizeof *go);
    size_t published = 0;
    while (n) {
        if (ww_redis_wait(a->redis, &ww_stop, ww_stop ? 0 : -1) < 0) {
            ww_error(MOD, "msg=\"stopping with Redis unreachable\" alerts_not_published=%zu", n);
            break;
        }
        if (!a->sha[0] && ww_redis_script_load(a->redis, WW_ALERT_FIRE_LUA, a->sha) < 0)
            continue;
        bool ok = true;
        for (size_t i = 0; i < n && ok; i++) {
            pending_t *p = &list[i];
            const ww_rule_t *r = p->rule;
            char k1[128], k2[256], k3[1024], k4[1024], ttl[32], maxlen[32], t[32], cd[32], mode[8], win[32],
                cnt[32], base[32], factor[40];
            ww_fire_params_t fp;
            ww_fire_params_from_rule(r, &fp);
            snprintf(k1, sizeof k1, "%salert:{%s}", pfx, p->alert->id);
            snprintf(k2, sizeof k2, "%salerts", pfx);
            snprintf(k3, sizeof k3, "%swin:{%s}:%s", pfx, r->id, p->key);
            snprintf(k4, sizeof k4, "%sfire:{%s}:%s", pfx, r->id, p->key);
            snprintf(ttl, sizeof ttl, "%lld", (long long)cfg->alert.dedup_ttl_ms);
            snprintf(maxlen, sizeof maxlen, "%lld", (long long)cfg->alert.history_max);
            snprintf(t, sizeof t, "%lld", (long long)p->event_time);
            snprintf(cd, sizeof cd, "%lld", (long long)fp.cooldown_ms);
            snprintf(mode, sizeof mode, "%d", (int)fp.mode);
            snprintf(win, sizeof win, "%lld", (long long)fp.window_ms);
            snprintf(cnt, sizeof cnt, "%u", fp.mode == WW_FIRE_MODE_SPIKE ? fp.min : fp.count);
            snprintf(base, sizeof base, "%lld", (long long)fp.baseline_ms);
            snprintf(factor, sizeof factor, "%.17g", fp.factor);
            const char *argv[] = {"EVALSHA", a->sha, "4", k1, k2, k3, k4, p->alert->channel, p->bytes,
                                  ttl, maxlen, t, p->event_id, cd, mode, win, cnt, base, factor};
            size_t lens[19];
            for (int j = 0; j < 19; j++)
                lens[j] = strlen(argv[j]);
            lens[8] = p->len;
            ok = ww_redis_appendargv(a->redis, 19, argv, lens) == 0;
        }
        bool noscript = false;
        for (size_t i = 0; i < n && ok; i++) {
            redisReply *r;
            if (ww_redis_get_reply(a->redis, &r) < 0) {
                ok = false;
                break;
            }
            if (r->type == REDIS_REPLY_ERROR) {
                if (strncmp(r->str, "NOSCRIPT", 8) == 0)
                    noscript = true;
                else
                    ww_error(MOD, "msg=\"fire script failed\" error=\"%s\"", r->str);
                go[i] = false;
            } else if (r->type == REDIS_REPLY_STRING) {
                go[i] = true;
                /* the live message carries its stream entry id ("seq") so
                 * subscribers can resume and detect gaps */
                pending_t *p = &list[i];
                p->alert->stream_id = ww_strndup(r->str, r->len);
                msgpack_sbuffer_clear(&a->sbuf);
                msgpack_packer pk;
                msgpack_packer_init(&pk, &a->sbuf, msgpack_sbuffer_write);
                ww_alert_pack(&pk, p->alert);
                ww_free(p->bytes);
                p->bytes = ww_strndup(a->sbuf.data, a->sbuf.size);
                p->len = a->sbuf.size;
            } else {
                go[i] = false;
            }
            freeReplyObject(r);
        }
        if (!ok) {
            ww_metric_add(a->m_redis_errors, 1);
            ww_redis_close(a->redis);
            continue;
        }
        if (noscript) { /* Redis restarted and lost the script: load it and redo the round */
            a->sha[0] = '\0';
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            if (!go[i]) {
                ww_metric_add(a->m_suppressed, 1);
                continue;
            }
            const char *ch = list[i].alert->channel;
            if (zmq_send(a->pub, ch, strlen(ch), ZMQ_SNDMORE) < 0 ||
                zmq_send(a->pub, list[i].bytes, list[i].len, 0) < 0) {
                ww_error(MOD, "msg=\"publish failed\" error=\"%s\"", zmq_strerror(zmq_errno()));
                continue;
            }
            published++;
            ww_debug(MOD, "msg=\"alert\" id=%s rule=%s channel=%s", list[i].alert->id, list[i].alert->rule, ch);
        }
        break;
    }
    ww_free(go);
    return published;
}

/* Decodes the queued messages (each a batch) into one list of events, so that
 * the Redis work of everything queued travels in one pipeline: at a low rate
 * each message holds a single event, and a round trip per message would cap
 * the worker below the arrival rate. Returns the number of events. */
static long decode_all(alert_t *a, zmq_msg_t *msgs, int nm, ww_event_t ***out)
{
    ww_event_t **all = NULL;
    size_t n = 0, cap = 0;
    for (int m = 0; m < nm; m++) {
        ww_event_t **evs = NULL;
        uint64_t bad[WW_BAD__COUNT] = {0};
        size_t len = zmq_msg_size(&msgs[m]);
        /* trusted: batches come from our own stages; ingest sanitised the text */
        long k = ww_event_decode_batch_ex(zmq_msg_data(&msgs[m]), len, &a->lim, WW_DECODE_TRUSTED, &evs, bad);
        if (k < 0) {
            ww_metric_add(a->m_bad, 1);
            if (ww_log_ratelimit(0, 60))
                ww_warn(MOD, "msg=\"dropped a malformed batch\" bytes=%zu", len);
            continue;
        }
        WW_GROW(all, cap, n + (size_t)k + 1);
        for (long i = 0; i < k; i++)
            all[n++] = evs[i];
        ww_free(evs);
    }
    *out = all;
    return (long)n;
}

static void process(alert_t *a, zmq_msg_t *msgs, int nm)
{
    int64_t t0 = ww_mono_us();
    ww_event_t **evs = NULL;
    long n = decode_all(a, msgs, nm, &evs);
    if (n == 0) {
        ww_free(evs);
        return;
    }
    pending_t *list = NULL;
    size_t np = 0, cap = 0;
    int64_t now = ww_now_ms();
    for (long i = 0; i < n && a->rules; i++) {
        ww_rules_eval(a->rules, evs[i], a->scratch, &a->hits);
        for (size_t h = 0; h < a->hits.n; h++) {
            const char *keys[64];
            size_t nk = ww_alert_hit_keys(&a->hits.hits[h], evs[i], keys, 64);
            for (size_t k = 0; k < nk; k++)
                add_candidate(a, &list, &np, &cap, &a->hits.hits[h], evs[i], keys[k], now);
        }
    }
    size_t published = fire_all(a, list, np);
    ww_stage_observe("alert", t0);
    for (long i = 0; i < n; i++)
        ww_latency_since_ingest(evs[i]->ingested_at);
    for (size_t i = 0; i < np; i++)
        pending_free(&list[i]);
    ww_free(list);
    /* the batch is finished: acknowledge it in the in-flight ledger. A lost
     * ack only means a redelivery, which publishes nothing twice (alert ids) */
    long acks = ww_ledger_append_ack(a->redis, a->d.cfg.prefix, evs, (size_t)n);
    for (long i = 0; i < acks; i++) {
        redisReply *r;
        if (ww_redis_get_reply(a->redis, &r) < 0)
            break;
        freeReplyObject(r);
    }
    for (long i = 0; i < n; i++)
        ww_event_destroy(&evs[i]);
    ww_free(evs);
    ww_metric_add(a->m_events, (uint64_t)n);
    ww_metric_add(a->m_alerts, published);
    a->stats_events += (uint64_t)n;
    a->stats_alerts += published;
    /* counters travel right away so that `up --demo` and tests can tell
     * when the stream has been fully evaluated */
    /* events per rule set version: every event is counted under the one
     * version that evaluated it (tests check reloads lose nothing) */
    if (n > 0 && a->rules)
        a->stats_version_events += (uint64_t)n;
    const char *ver = a->rules ? ww_rules_version(a->rules) : "none";
    if (ww_redis_append(a->redis, "HINCRBY %sstats:alert alerts %llu", a->d.cfg.prefix,
                        (unsigned long long)a->stats_alerts) == 0 &&
        ww_redis_append(a->redis, "HINCRBY %sstats:alert events %llu", a->d.cfg.prefix,
                        (unsigned long long)a->stats_events) == 0 &&
        ww_redis_append(a->redis, "HINCRBY %sstats:alert:versions %s %llu", a->d.cfg.prefix, ver,
                        (unsigned long long)a->stats_version_events) == 0) {
        redisReply *r1 = NULL, *r2 = NULL, *r3 = NULL;
        if (ww_redis_get_reply(a->redis, &r1) == 0 && ww_redis_get_reply(a->redis, &r2) == 0 &&
            ww_redis_get_reply(a->redis, &r3) == 0)
            a->stats_events = a->stats_alerts = a->stats_version_events = 0;
        if (r1)
            freeReplyObject(r1);
        if (r2)
            freeReplyObject(r2);
        if (r3)
            freeReplyObject(r3);
    }
}

/* The rules that cost most since the rule set was loaded, as a JSON array
 * (at most 10, most expensive first): rule, evals, hits, avg_us (sampled
 * mean verification time), total_ms (estimated: evals x avg). Caller owns. */
static char *slow_rules_json(alert_t *a)
{
    size_t n = 0;
    uint64_t events = 0, cands = 0;
    const ww_rule_cost_t *c = a->rules ? ww_rules_costs(a->scratch, a->rules, &n, &events, &cands) : NULL;
    enum { TOP = 10 };
    size_t top[TOP];
    double top_cost[TOP];
    size_t nt = 0;
    for (size_t i = 0; c && i < n; i++) {
        if (!c[i].timed)
            continue;
        double cost = (double)c[i].evals * ((double)c[i].timed_ns / (double)c[i].timed);
        size_t pos = nt;
        while (pos > 0 && top_cost[pos - 1] < cost)
            pos--;
        if (pos >= TOP)
            continue;
        size_t last = nt < TOP ? nt : TOP - 1;
        for (size_t k = last; k > pos; k--) {
            top[k] = top[k - 1];
            top_cost[k] = top_cost[k - 1];
        }
        top[pos] = i;
        top_cost[pos] = cost;
        if (nt < TOP)
            nt++;
    }
    json_t *arr = json_array();
    for (size_t k = 0; k < nt; k++) {
        const ww_rule_cost_t *x = &c[top[k]];
        /* the shared list `wirewatch stats` shows: rule id -> us per verification */
        redisReply *zr = ww_redis_cmd(a->redis, "ZADD %srules:slow %f %s", a->d.cfg.prefix,
                                      (double)x->timed_ns / (double)x->timed / 1000.0,
                                      ww_rules_get(a->rules, top[k])->id);
        if (zr)
            freeReplyObject(zr);
        json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:f, s:f}", "rule", ww_rules_get(a->rules, top[k])->id,
                                             "evals", (json_int_t)x->evals, "hits", (json_int_t)x->hits, "avg_us",
                                             (double)x->timed_ns / (double)x->timed / 1000.0, "total_ms",
                                             top_cost[k] / 1e6));
    }
    if (nt) {
        redisReply *zr = ww_redis_cmd(a->redis, "PEXPIRE %srules:slow 60000", a->d.cfg.prefix);
        if (zr)
            freeReplyObject(zr);
    }
    char *s = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    char *out = ww_strdup(s ? s : "[]");
    free(s);
    (void)events;
    (void)cands;
    return out;
}

static void heartbeat(alert_t *a)
{
    static int64_t last;
    int64_t now = ww_mono_ms();
    if (now - last < 1000 || !ww_redis_connected(a->redis))
        return;
    last = now;
    uint64_t events = 0, cands = 0;
    if (a->rules)
        ww_rules_costs(a->scratch, a->rules, NULL, &events, &cands);
    char *slow = slow_rules_json(a);
    char cpe[32];
    snprintf(cpe, sizeof cpe, "%.1f", events ? (double)cands / (double)events : 0.0);
    redisReply *r = ww_redis_cmd(a->redis,
                                 "HSET %s events %lld alerts %lld rules_version %s rules %lld candidates_per_event %s "
                                 "slow %s updated %lld",
                                 a->worker_key, (long long)ww_metric_value(a->m_events),
                                 (long long)ww_metric_value(a->m_alerts),
                                 a->rules ? ww_rules_version(a->rules) : "none",
                                 (long long)(a->rules ? ww_rules_count(a->rules) : 0), cpe, slow,
                                 (long long)ww_now_ms());
    ww_free(slow);
    if (r)
        freeReplyObject(r);
    r = ww_redis_cmd(a->redis, "PEXPIRE %s 15000", a->worker_key);
    if (r)
        freeReplyObject(r);
}

/* Waits until the PUB socket is connected to the hub, so the first alerts
 * are not dropped by ZeroMQ's slow-joiner behaviour. Gives up after 5 s. */
static void wait_connected(alert_t *a)
{
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://alert-monitor-%ld", (long)getpid());
    if (zmq_socket_monitor(a->pub, ep, ZMQ_EVENT_CONNECTED) < 0)
        return;
    void *mon = zmq_socket(a->zctx, ZMQ_PAIR);
    zmq_connect(mon, ep);
    int timeout = 100;
    zmq_setsockopt(mon, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    int64_t until = ww_mono_ms() + 5000;
    bool connected = false;
    while (!connected && !ww_stop && ww_mono_ms() < until) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, mon, 0) >= 0) {
            connected = true;
            if (zmq_msg_more(&m)) {
                zmq_msg_t m2;
                zmq_msg_init(&m2);
                zmq_msg_recv(&m2, mon, 0);
                zmq_msg_close(&m2);
            }
        }
        zmq_msg_close(&m);
    }
    zmq_socket_monitor(a->pub, NULL, 0);
    zmq_close(mon);
    if (connected) {
        struct timespec ts = {0, 100 * 1000000L}; /* let subscriptions flow upstream */
        nanosleep(&ts, NULL);
    } else {
        ww_warn(MOD, "msg=\"publish endpoint not reachable yet\" endpoint=%s", a->d.cfg.alert.publish_in);
    }
}

int main(int argc, char **argv)
{
    alert_t a;
    memset(&a, 0, sizeof a);
    a.d.name = "alert";
    a.d.summary = "Evaluates the rules on enriched events and publishes alerts (any number may run).";
    int rc = ww_daemon_start(&a.d, argc, argv);
    if (rc >= 0)
        return rc;
    const ww_config_t *cfg = &a.d.cfg;
    if (!cfg->redis) {
        fprintf(stderr, "wirewatch-alert: no Redis configured (--redis, WIREWATCH_REDIS_URL or 'redis:' in the config)\n");
        ww_daemon_finish(&a.d);
        return 2;
    }
    char err[1024];
    if (cfg->alert.rules) { /* a bad rules file at start is bad configuration */
        ww_ruleset_t *rs = ww_rules_load_file(cfg->alert.rules, err, sizeof err);
        if (!rs) {
            fprintf(stderr, "wirewatch-alert: %s\n", err);
            ww_daemon_finish(&a.d);
            return 2;
        }
        ww_rules_destroy(&rs);
    }
    a.redis = ww_redis_new(cfg->redis, err, sizeof err);
    if (!a.redis) {
        fprintf(stderr, "wirewatch-alert: %s\n", err);
        ww_daemon_finish(&a.d);
        return 2;
    }
    char host[128] = "localhost";
    gethostname(host, sizeof host - 1);
    snprintf(a.worker_key, sizeof a.worker_key, "%sworkers:alert:%ld@%s", cfg->prefix, (long)getpid(), host);
    a.scratch = ww_rules_scratch_new();
    ww_hits_init(&a.hits);
    ww_limits_default(&a.lim);
    a.lim.max_bytes = (size_t)cfg->max_message_bytes * 8;
    msgpack_sbuffer_init(&a.sbuf);
    a.m_events = ww_metric_counter("wirewatch_alert_events_total", "events evaluated");
    a.m_alerts = ww_metric_counter("wirewatch_alerts_published_total", "alerts published");
    a.m_suppressed = ww_metric_counter("wirewatch_alerts_suppressed_total",
                                       "rule hits not published (already published, threshold not reached, cooldown)");
    a.m_bad = ww_metric_counter("wirewatch_alert_dropped_total", "malformed batches dropped");
    a.m_redis_errors = ww_metric_counter("wirewatch_redis_errors_total", "failed Redis round trips");
    a.m_rules = ww_metric_gauge("wirewatch_alert_rules", "rules in the running set");

    rc = 1;
    a.zctx = zmq_ctx_new();
    a.in = ww_zmq_socket(a.zctx, ZMQ_PULL, cfg->max_message_bytes * 8, 4, 0);
    a.pub = ww_zmq_socket(a.zctx, ZMQ_PUB, cfg->max_message_bytes, 100000, 2000);
    if (!a.in || !a.pub || ww_zmq_connect(a.pub, cfg->alert.publish_in) < 0)
        goto cleanup;
    wait_connected(&a);
    if (ww_redis_wait(a.redis, &ww_stop, -1) < 0)
        goto cleanup;
    maybe_reload(&a, true);
    if (ww_zmq_connect(a.in, cfg->alert.work) < 0)
        goto cleanup;
    ww_info(MOD, "msg=\"started\" version=%s work=%s publish_in=%s rules=%s", WW_VERSION, cfg->alert.work,
            cfg->alert.publish_in, a.rules ? ww_rules_version(a.rules) : "none");
    ww_daemon_ready("evaluating rules");
    zmq_msg_t msgs[ALERT_DRAIN];
    for (int i = 0; i < ALERT_DRAIN; i++)
        zmq_msg_init(&msgs[i]);
    while (!ww_stop) {
        bool hup = ww_reload;
        if (hup) {
            ww_reload = 0;
            ww_daemon_reload_config(&a.d);
        }
        maybe_reload(&a, hup);
        ww_daemon_watchdog();
        zmq_pollitem_t items[] = {{a.in, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 1, 500) < 0 && zmq_errno() != EINTR)
            break;
        int nm = 0;
        while (nm < ALERT_DRAIN && zmq_msg_recv(&msgs[nm], a.in, ZMQ_DONTWAIT) >= 0)
            nm++;
        if (nm)
            process(&a, msgs, nm);
        heartbeat(&a);
    }
    for (int i = 0; i < ALERT_DRAIN; i++)
        zmq_msg_close(&msgs[i]);
    if (ww_redis_connected(a.redis)) {
        redisReply *r = ww_redis_cmd(a.redis, "DEL %s", a.worker_key);
        if (r)
            freeReplyObject(r);
    }
    ww_info(MOD, "msg=\"stopped\" events=%lld alerts=%lld", (long long)ww_metric_value(a.m_events),
            (long long)ww_metric_value(a.m_alerts));
    rc = 0;
cleanup:
    if (a.in)
        zmq_close(a.in);
    if (a.pub)
        zmq_close(a.pub);
    zmq_ctx_term(a.zctx);
    msgpack_sbuffer_destroy(&a.sbuf);
    ww_hits_deinit(&a.hits);
    ww_rules_scratch_destroy(&a.scratch);
    ww_rules_destroy(&a.rules);
    ww_redis_destroy(&a.redis);
    ww_daemon_finish(&a.d);
    return rc;
}
