/* console_api.c - the console's entity trends, rules page and backtests
 * (endpoints listed in cmd_console.c). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console.h"
#include "ww/alert_state.h"
#include "ww/alloc.h"
#include "ww/daemon.h"
#include "ww/entstats.h"
#include "ww/log.h"
#include "ww/rules.h"

/* ---- trends --------------------------------------------------------------------- */

/* Most distinct entities one trends request aggregates (bounded memory). */
#define TRENDS_MAX_ENTITIES 200000
/* Hourly points of the chart of each entity. */
#define TRENDS_SERIES 48

/* One entity's counts over the buckets read. */
typedef struct {
    char *key;         /* "TYPE:canonical" */
    double recent;     /* mentions in the trend window (last hour or day) */
    double base;       /* mentions in the baseline before it */
    uint32_t series[TRENDS_SERIES]; /* hourly mentions, oldest first, last point = current hour */
} trend_ent_t;

/* Open addressing on the key (FNV-1a). */
typedef struct {
    trend_ent_t *slots;
    size_t cap, n;
} trend_map_t;

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The entity's slot (created when absent), NULL when the map is full. */
static trend_ent_t *trend_get(trend_map_t *m, const char *key)
{
    if ((m->n + 1) * 2 > m->cap) {
        if (m->n >= TRENDS_MAX_ENTITIES)
            goto lookup_only;
        size_t ncap = m->cap ? m->cap * 2 : 1024;
        trend_ent_t *ns = ww_calloc(ncap, sizeof *ns);
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slots[i].key)
                continue;
            size_t j = fnv(m->slots[i].key) & (ncap - 1);
            while (ns[j].key)
                j = (j + 1) & (ncap - 1);
            ns[j] = m->slots[i];
        }
        ww_free(m->slots);
        m->slots = ns;
        m->cap = ncap;
    }
lookup_only:;
    size_t j = fnv(key) & (m->cap - 1);
    while (m->slots[j].key) {
        if (strcmp(m->slots[j].key, key) == 0)
            return &m->slots[j];
        j = (j + 1) & (m->cap - 1);
    }
    if (m->n >= TRENDS_MAX_ENTITIES)
        return NULL;
    m->slots[j].key = ww_strdup(key);
    m->n++;
    return &m->slots[j];
}

static void trend_map_free(trend_map_t *m)
{
    for (size_t i = 0; i < m->cap; i++)
        ww_free(m->slots[i].key);
    ww_free(m->slots);
}

/* The JSON of one entity row. */
static json_t *trend_json(const trend_ent_t *e, double base_per_window)
{
    const char *colon = strchr(e->key, ':');
    json_t *series = json_array();
    for (size_t i = 0; i < TRENDS_SERIES; i++)
        json_array_append_new(series, json_integer(e->series[i]));
    return json_pack("{s:s%, s:s, s:f, s:f, s:f, s:o}", "type", e->key, colon ? (size_t)(colon - e->key) : 0,
                     "name", colon ? colon + 1 : e->key, "count", round(e->recent * 10) / 10, "baseline",
                     round(base_per_window * 100) / 100, "ratio",
                     round((e->recent + 1) / (base_per_window + 1) * 100) / 100, "series", series);
}

typedef struct {
    const trend_ent_t *e;
    double score;
} ranked_t;

static int ranked_cmp(const void *a, const void *b)
{
    const ranked_t *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(x->e->key, y->e->key);
}

/* GET /api/trends?window=hour|day&limit=N&type=PER&now=MS
 * From the hourly entity counts (<prefix>ent:<hour>, entstats.h), in event
 * time. hour: recent = the last 60 minutes (the current bucket plus the
 * unexpired part of the previous one), baseline = the mean hour of the 24
 * before; day: recent = the last 24 buckets, baseline = the mean day of the
 * 7 before. "most" ranks by recent, "rising" by (recent+1)/(baseline+1)
 * among entities with at least 3 recent mentions. Each row has the hourly
 * series of the last 48 hours. */
enum MHD_Result console_api_trends(console_t *c, struct MHD_Connection *conn)
{
    ww_redis_t *r = console_redis(c, conn);
    if (!r)
        return console_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "Redis is not reachable");
    const char *w = console_arg(conn, "window"), *ls = console_arg(conn, "limit"), *ty = console_arg(conn, "type"),
               *ns = console_arg(conn, "now");
    bool day = w && strcmp(w, "day") == 0;
    if (w && !day && strcmp(w, "hour") != 0)
        return console_error(conn, MHD_HTTP_BAD_REQUEST, "window: hour or day");
    long limit = ls ? strtol(ls, NULL, 10) : 20;
    if (limit < 1 || limit > 200)
        limit = 20;
    int64_t now = ww_now_ms();
    if (ns) {
        /* a time in range (bucket arithmetic below must not overflow) */
        char *end;
        errno = 0;
        long long v = strtoll(ns, &end, 10);
        if (!*ns || *end || errno || v < 0 || v > (INT64_C(1) << 53))
            return console_error(conn, MHD_HTTP_BAD_REQUEST, "now: Unix milliseconds");
        now = v;
    }
    int64_t H = ww_entstats_bucket(now);
    double frac = (double)(now - H * WW_ENTSTATS_BUCKET_MS) / (double)WW_ENTSTATS_BUCKET_MS;
    /* buckets read: H-nb+1 .. H */
    int64_t nb = day ? 24 * 8 : 26;
    if (nb < TRENDS_SERIES)
        nb = TRENDS_SERIES;
    for (int64_t k = 0; k < nb; k++)
        ww_redis_append(r, "HGETALL %sent:%lld", c->cc.cfg.prefix, (long long)(H - k));
    trend_map_t m = {0};
    bool failed = false;
    for (int64_t k = 0; k < nb; k++) {
        redisReply *rep;
        if (ww_redis_get_reply(r, &rep) < 0) {
            failed = true;
            break;
        }
        for (size_t i = 0; rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2) {
            if (rep->element[i]->type != REDIS_REPLY_STRING || rep->element[i + 1]->type != REDIS_REPLY_STRING)
                continue;
            const char *key = rep->element[i]->str;
            if (ty && *ty && (strncmp(key, ty, strlen(ty)) != 0 || key[strlen(ty)] != ':'))
                continue;
            double n = atof(rep->element[i + 1]->str);
            if (!(n > 0 && n < 1e12)) /* not a count: skip (NaN too) */
                continue;
            trend_ent_t *e = trend_get(&m, key);
            if (!e)
                continue;
            if (k < TRENDS_SERIES)
                e->series[TRENDS_SERIES - 1 - k] = (uint32_t)n;
            if (day) {
                if (k < 24)
                    e->recent += n;
                else
                    e->base += n;
            } else {
                if (k == 0)
                    e->recent += n;
                else if (k == 1)
                    e->recent += n * (1 - frac), e->base += n;
                else if (k <= 24)
                    e->base += n;
            }
        }
        freeReplyObject(rep);
    }
    if (failed) {
        trend_map_free(&m);
        return console_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "reading entity counts failed");
    }
    double base_windows = day ? (double)(nb - 24) / 24.0 : 24.0;
    ranked_t *most = ww_calloc(m.n + 1, sizeof *most), *rising = ww_calloc(m.n + 1, sizeof *rising);
    size_t nm = 0, nr = 0;
    for (size_t i = 0; i < m.cap; i++) {
        const trend_ent_t *e = &m.slots[i];
        if (!e->key || e->recent <= 0)
            continue;
        most[nm++] = (ranked_t){e, e->recent};
        if (e->recent >= 3)
            rising[nr++] = (ranked_t){e, (e->recent + 1) / (e->base / base_windows + 1)};
    }
    qsort(most, nm, sizeof *most, ranked_cmp);
    qsort(rising, nr, sizeof *rising, ranked_cmp);
    json_t *jm = json_array(), *jr = json_array();
    for (size_t i = 0; i < nm && (long)i < limit; i++)
        json_array_append_new(jm, trend_json(most[i].e, most[i].e->base / base_windows));
    for (size_t i = 0; i < nr && (long)i < limit; i++)
        json_array_append_new(jr, trend_json(rising[i].e, rising[i].e->base / base_windows));
    json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "window", day ? "day" : "hour", "now",
                          (json_int_t)now, "series_start", (json_int_t)((H - TRENDS_SERIES + 1) * WW_ENTSTATS_BUCKET_MS),
                          "series_step", (json_int_t)WW_ENTSTATS_BUCKET_MS, "entities", (json_int_t)m.n, "buckets",
                          (json_int_t)nb, "most", jm, "rising", jr);
    ww_free(most);
    ww_free(rising);
    trend_map_free(&m);
    return console_json(conn, MHD_HTTP_OK, o);
}

/* ---- rules: alert tally, cost, the page's data ------------------------------------ */

void console_tally_init(console_tally_t *t)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->lock, NULL);
    snprintf(t->last_sid, sizeof t->last_sid, "0-0");
}

void console_tally_free(console_tally_t *t)
{
    for (size_t i = 0; i < t->len; i++)
        ww_free(t->rule[i]);
    ww_free(t->rule);
    ww_free(t->n);
    pthread_mutex_destroy(&t->lock);
}

/* Counts the history entries newer than the last call (at most 200,000 per
 * call, so a first call on a huge history is bounded too). Caller holds the lock. */
static void tally_update(console_t *c, ww_redis_t *r)
{
    console_tally_t *t = &c->tally;
    for (int round = 0; round < 200; round++) {
        redisReply *rep = ww_redis_cmd(r, "XRANGE %salerts (%s + COUNT 1000", c->cc.cfg.prefix, t->last_sid);
        if (!rep || rep->type != REDIS_REPLY_ARRAY) {
            if (rep)
                freeReplyObject(rep);
            return;
        }
        size_t n = rep->elements;
        for (size_t i = 0; i < n; i++) {
            const redisReply *e = rep->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 || e->element[0]->type != REDIS_REPLY_STRING ||
                e->element[0]->len >= sizeof t->last_sid || e->element[1]->type != REDIS_REPLY_ARRAY)
                continue;
            snprintf(t->last_sid, sizeof t->last_sid, "%s", e->element[0]->str);
            const redisReply *kv = e->element[1];
            for (size_t j = 0; j + 1 < kv->elements; j += 2) {
                if (kv->element[j]->type != REDIS_REPLY_STRING || kv->element[j + 1]->type != REDIS_REPLY_STRING ||
                    strcmp(kv->element[j]->str, "alert") != 0)
                    continue;
                ww_alert_t *a;
                if (ww_alert_decode(kv->element[j + 1]->str, kv->element[j + 1]->len, &a) < 0)
                    continue;
                size_t k = 0;
                while (k < t->len && strcmp(t->rule[k], a->rule) != 0)
                    k++;
                if (k == t->len && t->len < 100000) {
                    if (t->len == t->cap) {
                        size_t cap = t->cap;
                        WW_GROW(t->rule, cap, t->len + 1);
                        WW_GROW(t->n, t->cap, t->len + 1);
                    }
                    t->rule[t->len] = ww_strdup(a->rule);
                    t->n[t->len++] = 0;
                }
                if (k < t->len)
                    t->n[k]++;
                t->counted++;
                ww_alert_destroy(&a);
            }
        }
        freeReplyObject(rep);
        if (n < 1000)
            return;
    }
}

/* Merged cost of one rule over the alert workers' heartbeats. */
typedef struct {
    double evals, hits, avg_us_weighted, total_ms;
    bool any;
} cost_t;

/* GET /api/rules */
enum MHD_Result console_api_rules(console_t *c, struct MHD_Connection *conn)
{
    ww_redis_t *r = console_redis(c, conn);
    if (!r)
        return console_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "Redis is not reachable");
    size_t len;
    const char *source;
    char *text = console_rules_text(c, r, &len, &source);
    char err[1024] = "";
    ww_ruleset_t *rs = text ? ww_rules_load_buffer(text, len, "rules", err, sizeof err) : NULL;
    size_t n = rs ? ww_rules_count(rs) : 0;
    /* cost: every alert worker's `slow` list (its most expensive rules) */
    cost_t *cost = ww_calloc(n + 1, sizeof *cost);
    json_t *workers = json_array();
    char cursor[32] = "0";
    size_t wpre = strlen(c->cc.cfg.prefix) + strlen("workers:");
    /* SCAN (never KEYS): at most 1,000 rounds, so a huge keyspace bounds the request */
    int rounds = 0;
    do {
        redisReply *rep = ww_redis_cmd(r, "SCAN %s MATCH %sworkers:alert:* COUNT 1000", cursor, c->cc.cfg.prefix);
        if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 || rep->element[0]->type != REDIS_REPLY_STRING ||
            rep->element[0]->len >= sizeof cursor || rep->element[1]->type != REDIS_REPLY_ARRAY) {
            if (rep)
                freeReplyObject(rep);
            break;
        }
        snprintf(cursor, sizeof cursor, "%s", rep->element[0]->str);
        for (size_t i = 0; i < rep->element[1]->elements; i++) {
            const redisReply *kr = rep->element[1]->element[i];
            if (kr->type != REDIS_REPLY_STRING || kr->len <= wpre)
                continue;
            const char *key = kr->str;
            redisReply *h = ww_redis_cmd(r, "HMGET %b rules_version slow candidates_per_event events", key, kr->len);
            if (h && h->type == REDIS_REPLY_ARRAY && h->elements == 4) {
                const char *v[4]; /* the fields; NULL when nil (or not a string) */
                for (size_t f = 0; f < 4; f++)
                    v[f] = h->element[f]->type == REDIS_REPLY_STRING ? h->element[f]->str : NULL;
                const char *ver = v[0], *slow = v[1], *cpe = v[2];
                json_array_append_new(workers, json_pack("{s:s, s:s, s:s, s:I}", "name", key + wpre,
                                                         "rules_version", ver ? ver : "", "candidates_per_event",
                                                         cpe ? cpe : "", "events",
                                                         (json_int_t)(v[3] ? atoll(v[3]) : 0)));
                json_t *sj = slow && rs && ver && strcmp(ver, ww_rules_version(rs)) == 0 ? json_loads(slow, 0, NULL) : NULL;
                size_t k;
                json_t *it;
                json_array_foreach(sj, k, it)
                {
                    const char *id = json_string_value(json_object_get(it, "rule"));
                    for (size_t ri = 0; id && ri < n; ri++) {
                        if (strcmp(ww_rules_get(rs, ri)->id, id) != 0)
                            continue;
                        double ev = json_number_value(json_object_get(it, "evals"));
                        cost[ri].any = true;
                        cost[ri].evals += ev;
                        cost[ri].hits += json_number_value(json_object_get(it, "hits"));
                        cost[ri].avg_us_weighted += ev * json_number_value(json_object_get(it, "avg_us"));
                        cost[ri].total_ms += json_number_value(json_object_get(it, "total_ms"));
                    }
                }
                json_decref(sj);
            }
            if (h)
                freeReplyObject(h);
        }
        freeReplyObject(rep);
    } while (strcmp(cursor, "0") != 0 && ++rounds < 1000);
    pthread_mutex_lock(&c->tally.lock);
    tally_update(c, r);
    json_t *rules = json_array();
    for (size_t i = 0; i < n; i++) {
        const ww_rule_t *ru = ww_rules_get(rs, i);
        uint64_t alerts = 0;
        for (size_t k = 0; k < c->tally.len; k++)
            if (strcmp(c->tally.rule[k], ru->id) == 0)
                alerts = c->tally.n[k];
        json_t *jr = json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:I}", "id", ru->id, "channel", ru->channel,
                               "severity", ww_severity_name(ru->severity), "match", ru->match ? ru->match : "",
                               "line", ru->line, "cooldown_ms", (json_int_t)ru->cooldown_ms, "alerts",
                               (json_int_t)alerts);
        json_object_set_new(jr, "kind", json_string(ru->threshold.on ? "threshold" : ru->spike.on ? "spike" : "plain"));
        if (cost[i].any)
            json_object_set_new(jr, "cost",
                                json_pack("{s:f, s:f, s:f, s:f}", "evals", cost[i].evals, "hits", cost[i].hits,
                                          "avg_us", cost[i].evals > 0 ? cost[i].avg_us_weighted / cost[i].evals : 0.0,
                                          "total_ms", cost[i].total_ms));
        else
            json_object_set_new(jr, "cost", json_null());
        json_array_append_new(rules, jr);
    }
    json_int_t counted = (json_int_t)c->tally.counted;
    pthread_mutex_unlock(&c->tally.lock);
    json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:b, s:I}", "version", rs ? ww_rules_version(rs) : "", "source",
                          source, "rules", rules, "workers", workers, "editable", c->cc.cfg.console.token != NULL,
                          "alerts_counted", counted);
    json_object_set_new(o, "text", text ? json_stringn(text, len) : json_string(""));
    if (text && !rs)
        json_object_set_new(o, "error", json_string(err));
    ww_free(cost);
    ww_rules_destroy(&rs);
    ww_free(text);
    return console_json(conn, MHD_HTTP_OK, o);
}

/* Compares the presented bearer token with the configured one in time
 * independent of where they differ. */
static bool token_ok(const char *want, const char *auth)
{
    if (!auth || strncmp(auth, "Bearer ", 7) != 0)
        return false;
    const char *got = auth + 7;
    size_t lw = strlen(want), lg = strlen(got);
    unsigned char diff = lw != lg;
    for (size_t i = 0; i < lg; i++)
        diff |= (unsigned char)(got[i] ^ want[i % (lw ? lw : 1)]);
    return diff == 0 && lw > 0;
}

/* The body as a JSON object (NULL: 400 queued into *ret). */
static json_t *body_json(struct MHD_Connection *conn, const console_req_t *rq, enum MHD_Result *ret)
{
    json_error_t je;
    json_t *j = rq->body ? json_loadb(rq->body, rq->len, 0, &je) : NULL;
    if (!json_is_object(j)) {
        json_decref(j);
        *ret = console_error(conn, MHD_HTTP_BAD_REQUEST, "the body must be a JSON object");
        return NULL;
    }
    return j;
}

/* POST /api/rules {"text": RULES}: stores a new rule set (as `rules load`). */
enum MHD_Result console_api_rules_store(console_t *c, struct MHD_Connection *conn, const console_req_t *rq)
{
    if (!c->cc.cfg.console.token)
        return console_error(conn, MHD_HTTP_FORBIDDEN, "the console is read-only (no console.token configured)");
    if (!token_ok(c->cc.cfg.console.token, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"))) {
        ww_warn("console", "msg=\"rules change refused: bad or missing token\"");
        struct MHD_Response *resp = MHD_create_response_from_buffer(
            strlen("{\"error\":\"a valid bearer token is needed\"}"), (void *)"{\"error\":\"a valid bearer token is needed\"}",
            MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(resp, "Content-Type", "application/json");
        MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"wirewatch\"");
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_UNAUTHORIZED, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    enum MHD_Result ret;
    json_t *j = body_json(conn, rq, &ret);
    if (!j)
        return ret;
    const char *text = json_string_value(json_object_get(j, "text"));
    if (!text) {
        json_decref(j);
        return console_error(conn, MHD_HTTP_BAD_REQUEST, "text: the rules file's text is required");
    }
    ww_redis_t *r = console_redis(c, conn);
    if (!r) {
        json_decref(j);
        return console_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "Redis is not reachable");
    }
    char version[17], err[1024];
    size_t count;
    if (cli_rules_store_buffer(r, c->cc.cfg.prefix, text, strlen(text), "rules", version, &count, err, sizeof err) < 0) {
        json_decref(j);
        return console_error(conn, strncmp(err, "rules:", 6) == 0 ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_SERVICE_UNAVAILABLE,
                             err);
    }
    json_decref(j);
    ww_info("console", "msg=\"rules stored\" version=%s rules=%zu", version, count);
    return console_json(conn, MHD_HTTP_OK, json_pack("{s:s, s:I}", "version", version, "count", (json_int_t)count));
}

/* ---- backtests ---------------------------------------------------------------------- */

#define BACKTEST_MAX_LISTED 1000

/* Collects a backtest's alerts: the first BACKTEST_MAX_LISTED in full, all counted per rule. */
typedef struct {
    json_t *alerts;
    uint64_t *per_rule; /* indexed like the rules */
} bt_out_t;

static void bt_alert(void *ud, const ww_alert_t *a, const ww_hit_t *hit, int64_t t)
{
    (void)t;
    bt_out_t *o = ud;
    o->per_rule[hit->rule_index]++;
    if (json_array_size(o->alerts) < BACKTEST_MAX_LISTED) {
        char *s = ww_alert_to_json(a);
        json_t *j = json_loads(s, 0, NULL);
        ww_free(s);
        if (j)
            json_array_append_new(o->alerts, j);
    }
}

/* A time from the form: empty/absent keeps *ms; else Unix ms, RFC 3339 or a date. */
static int form_time(json_t *j, const char *key, int64_t *ms)
{
    json_t *v = json_object_get(j, key);
    if (!v || json_is_null(v))
        return 0;
    if (json_is_integer(v)) {
        *ms = json_integer_value(v);
        return 0;
    }
    const char *s = json_string_value(v);
    if (!s)
        return -1;
    if (!*s)
        return 0;
    return ww_archive_parse_time(s, ms);
}

/* POST /api/backtest {"text": RULES, "from": T, "to": T, "max_events": N}
 * Read-only (no token needed) but bounded: the time range (default the last
 * 7 days), console.backtest_max_events, console.backtest_timeout, and at
 * most CONSOLE_MAX_BACKTESTS at once. */
enum MHD_Result console_api_backtest(console_t *c, struct MHD_Connection *conn, const console_req_t *rq)
{
    enum MHD_Result ret;
    json_t *j = body_json(conn, rq, &ret);
    if (!j)
        return ret;
    /* a slot first: compiling a large rule set is work too */
    if (atomic_fetch_add(&c->backtests, 1) >= CONSOLE_MAX_BACKTESTS) {
        atomic_fetch_sub(&c->backtests, 1);
        json_decref(j);
        return console_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "too many backtests running; try again shortly");
    }
    const char *text = json_string_value(json_object_get(j, "text"));
    int64_t now = ww_now_ms(), from = now - 7 * 24 * 3600 * 1000LL, to = now + 3600 * 1000LL;
    int64_t max_events = c->cc.cfg.console.backtest_max_events;
    json_t *me = json_object_get(j, "max_events");
    if (json_is_integer(me) && json_integer_value(me) > 0 && json_integer_value(me) < max_events)
        max_events = json_integer_value(me);
    if (!text || form_time(j, "from", &from) < 0 || form_time(j, "to", &to) < 0 || from >= to) {
        json_decref(j);
        atomic_fetch_sub(&c->backtests, 1);
        return console_error(conn, MHD_HTTP_BAD_REQUEST,
                             "text (the rules) is required; from/to are Unix ms, RFC 3339 times or dates, from < to");
    }
    char err[1024];
    ww_ruleset_t *rs = ww_rules_load_buffer(text, strlen(text), "rules", err, sizeof err);
    json_decref(j);
    if (!rs) {
        atomic_fetch_sub(&c->backtests, 1);
        return console_error(conn, MHD_HTTP_BAD_REQUEST, err);
    }
    if (!c->archive) {
        atomic_fetch_sub(&c->backtests, 1);
        ww_rules_destroy(&rs);
        return console_error(conn, MHD_HTTP_CONFLICT, "no archive configured (console.archive or ingest.archive)");
    }
    const char *paths[] = {c->archive};
    ww_archive_reader_t *rd = ww_archive_reader_open(paths, 1, from, to, err, sizeof err);
    if (!rd) {
        atomic_fetch_sub(&c->backtests, 1);
        ww_rules_destroy(&rs);
        return console_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "the archive cannot be opened");
    }
    int64_t t0 = ww_mono_ms();
    cli_enricher_t le = {.shared = console_extractor(c)};
    le.tried = le.shared == NULL; /* no extractor: do not try again per request */
    cli_backtest_limits_t lim = {(uint64_t)max_events, t0 + c->cc.cfg.console.backtest_timeout_ms, &c->stopping};
    bt_out_t o = {json_array(), ww_calloc(ww_rules_count(rs) + 1, sizeof(uint64_t))};
    cli_backtest_result_t res;
    int rc = cli_backtest(rs, rd, &le, &lim, bt_alert, &o, &res);
    cli_enricher_free(&le);
    ww_archive_reader_close(&rd);
    atomic_fetch_sub(&c->backtests, 1);
    json_t *per = json_array();
    for (size_t i = 0; i < ww_rules_count(rs); i++)
        json_array_append_new(per, json_pack("{s:s, s:I}", "rule", ww_rules_get(rs, i)->id, "alerts",
                                             (json_int_t)o.per_rule[i]));
    json_t *out = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:b, s:I, s:I, s:I, s:o, s:o}", "rules_version",
                            ww_rules_version(rs), "events", (json_int_t)res.events, "alerts", (json_int_t)res.alerts,
                            "duplicate", (json_int_t)res.suppressed[WW_FIRE_DUPLICATE], "below",
                            (json_int_t)res.suppressed[WW_FIRE_BELOW], "cooldown",
                            (json_int_t)res.suppressed[WW_FIRE_COOLDOWN], "truncated", res.truncated, "from",
                            (json_int_t)from, "to", (json_int_t)to, "ms", (json_int_t)(ww_mono_ms() - t0), "per_rule",
                            per, "list", o.alerts);
    json_object_set_new(out, "stopped_by", res.stopped_by ? json_string(res.stopped_by) : json_null());
    if (rc < 0)
        json_object_set_new(out, "error", json_string("reading the archive failed part way"));
    ww_free(o.per_rule);
    ww_rules_destroy(&rs);
    return console_json(conn, MHD_HTTP_OK, out);
}
