/* cmd_stats.c - `wirewatch stats [--watch [SEC]] [--json] [--metrics HOST:PORT]...`:
 * one screen for the whole pipeline.
 *
 * Sources: Redis (counters <prefix>stats:{ingest,extract,alert}, worker
 * heartbeats <prefix>workers:STAGE:PID@HOST, rules version, alert history,
 * the slow-rule list <prefix>rules:slow when a worker keeps one) and,
 * optionally, the daemons' Prometheus endpoints (stage latency histograms).
 * Rates need two samples: a single shot samples twice, --sample ms apart;
 * --watch uses consecutive refreshes. */
#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ww/alloc.h"
#include "ww/daemon.h"

#define STATS_MAX_SLOW 5
#define STATS_MAX_ENDPOINTS 16
#define STATS_MAX_BUCKETS 40

/* One worker heartbeat. */
typedef struct {
    char *name;          /* key without the prefix, e.g. "extract:123@host" */
    char *stage;         /* "extract" or "alert" */
    long long events;    /* events handled since the worker started */
    long long alerts;    /* alert workers: alerts published */
    long long updated;   /* Unix ms of the last heartbeat */
    char *rules_version; /* alert workers: the rule set they run, else NULL */
    double rate;         /* events/s between two samples, NAN when unknown */
} stats_worker_t;

/* A histogram merged over every scraped endpoint: cumulative bucket counts. */
typedef struct {
    char *series; /* e.g. "stage=extract" or "ingest_to_publish" */
    double le[STATS_MAX_BUCKETS];
    double cum[STATS_MAX_BUCKETS];
    size_t n;
    double count, sum;
} stats_hist_t;

/* One snapshot of the pipeline. */
typedef struct {
    int64_t mono_ms;     /* when it was taken */
    bool redis_up;
    char redis_version[32];
    long long redis_uptime_s;
    double redis_ping_ms;
    char redis_memory[32];
    long long redis_clients;
    long long accepted, duplicates, dropped, extracted, evaluated, alerts;
    stats_worker_t *workers;
    size_t n_workers;
    char rules_version[40];
    long long history;
    char *slow_id[STATS_MAX_SLOW];
    double slow_score[STATS_MAX_SLOW];
    size_t n_slow;
    size_t endpoints_up, endpoints_total;
    stats_hist_t *hists;
    size_t n_hists;
} stats_snap_t;

static void snap_free(stats_snap_t *s)
{
    for (size_t i = 0; i < s->n_workers; i++) {
        ww_free(s->workers[i].name);
        ww_free(s->workers[i].stage);
        ww_free(s->workers[i].rules_version);
    }
    ww_free(s->workers);
    for (size_t i = 0; i < s->n_slow; i++)
        ww_free(s->slow_id[i]);
    for (size_t i = 0; i < s->n_hists; i++)
        ww_free(s->hists[i].series);
    ww_free(s->hists);
    memset(s, 0, sizeof *s);
}

/* ---- Redis -------------------------------------------------------------------- */

static long long hash_ll(const redisReply *rep, const char *field)
{
    for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2)
        if (rep->element[i]->type == REDIS_REPLY_STRING && strcmp(rep->element[i]->str, field) == 0)
            return atoll(rep->element[i + 1]->str);
    return 0;
}

static const char *hash_str(const redisReply *rep, const char *field)
{
    for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2)
        if (rep->element[i]->type == REDIS_REPLY_STRING && strcmp(rep->element[i]->str, field) == 0 &&
            rep->element[i + 1]->type == REDIS_REPLY_STRING)
            return rep->element[i + 1]->str;
    return NULL;
}

/* Sum of the hash's fields that start with prefix. */
static long long hash_sum_prefix(const redisReply *rep, const char *prefix)
{
    long long sum = 0;
    for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2)
        if (strncmp(rep->element[i]->str, prefix, strlen(prefix)) == 0)
            sum += atoll(rep->element[i + 1]->str);
    return sum;
}

/* Copies "field:value" from an INFO reply into out. */
static void info_field(const char *info, const char *field, char *out, size_t outlen)
{
    out[0] = '\0';
    char pat[64];
    snprintf(pat, sizeof pat, "\n%s:", field);
    const char *p = strstr(info, pat);
    if (!p && strncmp(info, pat + 1, strlen(pat + 1)) == 0)
        p = info - 1;
    if (!p)
        return;
    p += strlen(pat);
    snprintf(out, outlen, "%.*s", (int)strcspn(p, "\r\n"), p);
}

static void read_redis(ww_redis_t *r, const char *pfx, stats_snap_t *s)
{
    int64_t t0 = ww_mono_us();
    redisReply *rep = ww_redis_cmd(r, "PING");
    s->redis_up = rep && rep->type == REDIS_REPLY_STATUS;
    s->redis_ping_ms = (double)(ww_mono_us() - t0) / 1000.0;
    if (rep)
        freeReplyObject(rep);
    if (!s->redis_up)
        return;
    rep = ww_redis_cmd(r, "INFO");
    if (rep && rep->type == REDIS_REPLY_STRING) {
        char v[64];
        info_field(rep->str, "redis_version", s->redis_version, sizeof s->redis_version);
        info_field(rep->str, "uptime_in_seconds", v, sizeof v);
        s->redis_uptime_s = atoll(v);
        info_field(rep->str, "used_memory_human", s->redis_memory, sizeof s->redis_memory);
        info_field(rep->str, "connected_clients", v, sizeof v);
        s->redis_clients = atoll(v);
    }
    if (rep)
        freeReplyObject(rep);
    rep = ww_redis_cmd(r, "HGETALL %sstats:ingest", pfx);
    s->accepted = hash_ll(rep, "accepted");
    s->duplicates = hash_ll(rep, "duplicate");
    s->dropped = hash_sum_prefix(rep, "bad:");
    if (rep)
        freeReplyObject(rep);
    rep = ww_redis_cmd(r, "HGETALL %sstats:extract", pfx);
    s->extracted = hash_ll(rep, "events");
    if (rep)
        freeReplyObject(rep);
    rep = ww_redis_cmd(r, "HGETALL %sstats:alert", pfx);
    s->evaluated = hash_ll(rep, "events");
    s->alerts = hash_ll(rep, "alerts");
    if (rep)
        freeReplyObject(rep);
    /* workers: SCAN, not KEYS, so that a big keyspace is never blocked */
    char cursor[32] = "0";
    size_t cap = 0;
    do {
        rep = ww_redis_cmd(r, "SCAN %s MATCH %sworkers:* COUNT 1000", cursor, pfx);
        if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
            if (rep)
                freeReplyObject(rep);
            break;
        }
        snprintf(cursor, sizeof cursor, "%s", rep->element[0]->str);
        redisReply *keys = rep->element[1];
        for (size_t i = 0; i < keys->elements; i++) {
            redisReply *h = ww_redis_cmd(r, "HGETALL %s", keys->element[i]->str);
            if (h && h->type == REDIS_REPLY_ARRAY && h->elements) {
                WW_GROW(s->workers, cap, s->n_workers + 1);
                stats_worker_t *w = &s->workers[s->n_workers++];
                memset(w, 0, sizeof *w);
                w->name = ww_strdup(keys->element[i]->str + strlen(pfx) + strlen("workers:"));
                w->stage = ww_strndup(w->name, strcspn(w->name, ":"));
                w->events = hash_ll(h, "events");
                w->alerts = hash_ll(h, "alerts");
                w->updated = hash_ll(h, "updated");
                const char *rv = hash_str(h, "rules_version");
                w->rules_version = rv ? ww_strdup(rv) : NULL;
                w->rate = NAN;
            }
            if (h)
                freeReplyObject(h);
        }
        freeReplyObject(rep);
    } while (strcmp(cursor, "0") != 0);
    rep = ww_redis_cmd(r, "GET %srules:version", pfx);
    snprintf(s->rules_version, sizeof s->rules_version, "%s",
             rep && rep->type == REDIS_REPLY_STRING ? rep->str : "");
    if (rep)
        freeReplyObject(rep);
    rep = ww_redis_cmd(r, "XLEN %salerts", pfx);
    s->history = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : 0;
    if (rep)
        freeReplyObject(rep);
    /* the slowest rules, when the alert stage keeps that list (ZSET: rule id ->
     * microseconds per evaluation) */
    rep = ww_redis_cmd(r, "ZREVRANGE %srules:slow 0 %d WITHSCORES", pfx, STATS_MAX_SLOW - 1);
    for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements && s->n_slow < STATS_MAX_SLOW;
         i += 2) {
        s->slow_id[s->n_slow] = ww_strdup(rep->element[i]->str);
        s->slow_score[s->n_slow++] = atof(rep->element[i + 1]->str);
    }
    if (rep)
        freeReplyObject(rep);
}

/* ---- metrics endpoints ------------------------------------------------------------ */

typedef struct {
    char *buf;
    size_t len, cap;
} stats_body_t;

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    stats_body_t *b = arg;
    size_t n = size * nmemb;
    if (b->len + n > (8u << 20))
        return 0; /* absurdly large: give up */
    WW_GROW(b->buf, b->cap, b->len + n + 1);
    memcpy(b->buf + b->len, data, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return n;
}

/* GET http://HOSTPORT/metrics. Caller owns; NULL when unreachable. */
static char *fetch_metrics(const char *hostport)
{
    char url[300];
    snprintf(url, sizeof url, "http://%s/metrics", hostport);
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    stats_body_t b = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK || status != 200) {
        ww_free(b.buf);
        return NULL;
    }
    return b.buf;
}

static stats_hist_t *hist_get(stats_snap_t *s, size_t *cap, const char *series)
{
    for (size_t i = 0; i < s->n_hists; i++)
        if (strcmp(s->hists[i].series, series) == 0)
            return &s->hists[i];
    WW_GROW(s->hists, *cap, s->n_hists + 1);
    stats_hist_t *h = &s->hists[s->n_hists++];
    memset(h, 0, sizeof *h);
    h->series = ww_strdup(series);
    return h;
}

/* Adds the latency histograms of one /metrics text to the snapshot. */
static void merge_metrics(stats_snap_t *s, size_t *cap, const char *text)
{
    static const struct {
        const char *name, *label; /* metric name; label that names the series (NULL: none) */
    } wanted[] = {{"wirewatch_stage_seconds", "stage"}, {"wirewatch_ingest_to_publish_seconds", NULL}};
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (*line == '#')
            continue;
        for (size_t w = 0; w < sizeof wanted / sizeof wanted[0]; w++) {
            size_t nl = strlen(wanted[w].name);
            if (strncmp(line, wanted[w].name, nl) != 0)
                continue;
            const char *suffix = line + nl;
            char series[64] = "ingest_to_publish";
            if (wanted[w].label) {
                char pat[32];
                snprintf(pat, sizeof pat, "%s=\"", wanted[w].label);
                const char *l = strstr(suffix, pat);
                const char *eol = strchr(suffix, '\n');
                if (!l || (eol && l > eol))
                    continue;
                l += strlen(pat);
                snprintf(series, sizeof series, "%.*s", (int)strcspn(l, "\""), l);
            }
            const char *val = strchr(suffix, ' ');
            const char *eol = strchr(suffix, '\n');
            if (!val || (eol && val > eol))
                continue;
            double v = atof(val + 1);
            stats_hist_t *h = hist_get(s, cap, series);
            if (strncmp(suffix, "_bucket{", 8) == 0) {
                const char *le = strstr(suffix, "le=\"");
                if (!le || (eol && le > eol))
                    continue;
                le += 4;
                double bound = strncmp(le, "+Inf", 4) == 0 ? INFINITY : atof(le);
                size_t k = 0;
                while (k < h->n && h->le[k] != bound)
                    k++;
                if (k == h->n) {
                    if (h->n == STATS_MAX_BUCKETS)
                        continue;
                    h->le[h->n] = bound;
                    h->cum[h->n++] = 0;
                }
                h->cum[k] += v;
            } else if (strncmp(suffix, "_sum", 4) == 0) {
                h->sum += v;
            } else if (strncmp(suffix, "_count", 6) == 0) {
                h->count += v;
            }
        }
    }
}

/* Quantile q of a cumulative histogram, interpolated inside the bucket (as
 * Prometheus' histogram_quantile). NAN when empty. */
static double hist_quantile(const stats_hist_t *h, double q)
{
    if (h->n == 0 || h->count <= 0)
        return NAN;
    double target = q * h->count, prev_le = 0, prev_cum = 0;
    for (size_t i = 0; i < h->n; i++) {
        if (h->cum[i] >= target) {
            if (isinf(h->le[i]))
                return prev_le;
            double in = h->cum[i] - prev_cum;
            return in > 0 ? prev_le + (h->le[i] - prev_le) * (target - prev_cum) / in : h->le[i];
        }
        prev_le = h->le[i];
        prev_cum = h->cum[i];
    }
    return prev_le;
}

static int cmp_le(const void *a, const void *b, void *arg)
{
    (void)arg;
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts each histogram's buckets by bound (endpoints may list them in any order). */
static void hist_sort(stats_hist_t *h)
{
    for (size_t i = 1; i < h->n; i++) /* insertion sort on (le, cum) pairs */
        for (size_t j = i; j > 0 && cmp_le(&h->le[j - 1], &h->le[j], NULL) > 0; j--) {
            double t = h->le[j];
            h->le[j] = h->le[j - 1];
            h->le[j - 1] = t;
            t = h->cum[j];
            h->cum[j] = h->cum[j - 1];
            h->cum[j - 1] = t;
        }
}

static void read_endpoints(char **eps, size_t n_eps, stats_snap_t *s)
{
    size_t cap = 0;
    s->endpoints_total = n_eps;
    for (size_t i = 0; i < n_eps; i++) {
        char *text = fetch_metrics(eps[i]);
        if (!text)
            continue;
        s->endpoints_up++;
        merge_metrics(s, &cap, text);
        ww_free(text);
    }
    for (size_t i = 0; i < s->n_hists; i++)
        hist_sort(&s->hists[i]);
}

/* ---- rates and output --------------------------------------------------------------- */

static double rate(long long now, long long before, double dt_s)
{
    return dt_s > 0 && now >= before ? (double)(now - before) / dt_s : NAN;
}

/* Worker rates from the previous snapshot (same worker name). */
static void worker_rates(stats_snap_t *s, const stats_snap_t *prev)
{
    double dt = (double)(s->mono_ms - prev->mono_ms) / 1000.0;
    for (size_t i = 0; i < s->n_workers; i++)
        for (size_t j = 0; j < prev->n_workers; j++)
            if (strcmp(s->workers[i].name, prev->workers[j].name) == 0)
                s->workers[i].rate = rate(s->workers[i].events, prev->workers[j].events, dt);
}

static void fmt_rate(char *buf, size_t len, double r)
{
    if (isnan(r))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.1f/s", r);
}

static void fmt_secs(char *buf, size_t len, double s)
{
    if (isnan(s))
        snprintf(buf, len, "-");
    else if (s < 0.001)
        snprintf(buf, len, "%.0fus", s * 1e6);
    else if (s < 1)
        snprintf(buf, len, "%.1fms", s * 1e3);
    else
        snprintf(buf, len, "%.2fs", s);
}

static void print_text(const stats_snap_t *s, const stats_snap_t *prev, const char *pfx)
{
    double dt = prev ? (double)(s->mono_ms - prev->mono_ms) / 1000.0 : 0;
    char r1[32], r2[32], r3[32], r4[32];
    time_t now = time(NULL);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&now));
    printf("wirewatch stats  %s  prefix %s\n\n", when, pfx);
    if (!s->redis_up) {
        printf("redis      DOWN (no answer to PING)\n");
        return;
    }
    printf("redis      up  version %s  uptime %llds  ping %.2fms  memory %s  clients %lld\n", s->redis_version,
           s->redis_uptime_s, s->redis_ping_ms, s->redis_memory, s->redis_clients);
    fmt_rate(r1, sizeof r1, prev ? rate(s->accepted, prev->accepted, dt) : NAN);
    fmt_rate(r2, sizeof r2, prev ? rate(s->extracted, prev->extracted, dt) : NAN);
    fmt_rate(r3, sizeof r3, prev ? rate(s->evaluated, prev->evaluated, dt) : NAN);
    fmt_rate(r4, sizeof r4, prev ? rate(s->alerts, prev->alerts, dt) : NAN);
    printf("ingest     accepted %lld (%s)  duplicates %lld  dropped %lld\n", s->accepted, r1, s->duplicates,
           s->dropped);
    printf("extract    events %lld (%s)\n", s->extracted, r2);
    printf("alert      evaluated %lld (%s)  alerts %lld (%s)  history %lld\n", s->evaluated, r3, s->alerts, r4,
           s->history);
    printf("lag        %lld events accepted but not yet evaluated\n", s->accepted - s->evaluated);
    printf("rules      version %s\n", s->rules_version[0] ? s->rules_version : "(none in Redis)");
    int64_t wall = ww_now_ms();
    printf("\nworkers    %zu alive\n", s->n_workers);
    for (size_t i = 0; i < s->n_workers; i++) {
        const stats_worker_t *w = &s->workers[i];
        fmt_rate(r1, sizeof r1, w->rate);
        printf("  %-36s events %-10lld %-10s", w->name, w->events, r1);
        if (w->rules_version)
            printf(" alerts %-8lld rules %s", w->alerts, w->rules_version);
        printf("  seen %.1fs ago\n", w->updated ? (double)(wall - w->updated) / 1000.0 : -1.0);
    }
    if (s->n_slow) {
        printf("\nslowest rules (us per evaluation)\n");
        for (size_t i = 0; i < s->n_slow; i++)
            printf("  %-36s %.1f\n", s->slow_id[i], s->slow_score[i]);
    }
    if (s->endpoints_total) {
        printf("\nlatency    %zu of %zu metrics endpoints answered     p50       p99       count\n",
               s->endpoints_up, s->endpoints_total);
        for (size_t i = 0; i < s->n_hists; i++) {
            const stats_hist_t *h = &s->hists[i];
            fmt_secs(r1, sizeof r1, hist_quantile(h, 0.5));
            fmt_secs(r2, sizeof r2, hist_quantile(h, 0.99));
            printf("  %-52s %-9s %-9s %.0f\n", h->series, r1, r2, h->count);
        }
    }
}

static json_t *jnum(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

static void print_json(const stats_snap_t *s, const stats_snap_t *prev, const char *pfx)
{
    double dt = prev ? (double)(s->mono_ms - prev->mono_ms) / 1000.0 : 0;
    json_t *o = json_object();
    json_object_set_new(o, "prefix", json_string(pfx));
    json_object_set_new(o, "time", json_integer(ww_now_ms()));
    json_t *redis = json_object();
    json_object_set_new(redis, "up", json_boolean(s->redis_up));
    if (s->redis_up) {
        json_object_set_new(redis, "version", json_string(s->redis_version));
        json_object_set_new(redis, "uptime_s", json_integer(s->redis_uptime_s));
        json_object_set_new(redis, "ping_ms", json_real(s->redis_ping_ms));
        json_object_set_new(redis, "used_memory", json_string(s->redis_memory));
        json_object_set_new(redis, "clients", json_integer(s->redis_clients));
    }
    json_object_set_new(o, "redis", redis);
    json_t *c = json_object();
    json_object_set_new(c, "accepted", json_integer(s->accepted));
    json_object_set_new(c, "duplicates", json_integer(s->duplicates));
    json_object_set_new(c, "dropped", json_integer(s->dropped));
    json_object_set_new(c, "extracted", json_integer(s->extracted));
    json_object_set_new(c, "evaluated", json_integer(s->evaluated));
    json_object_set_new(c, "alerts", json_integer(s->alerts));
    json_object_set_new(c, "history", json_integer(s->history));
    json_object_set_new(o, "counters", c);
    json_t *r = json_object();
    json_object_set_new(r, "accepted", jnum(prev ? rate(s->accepted, prev->accepted, dt) : NAN));
    json_object_set_new(r, "extracted", jnum(prev ? rate(s->extracted, prev->extracted, dt) : NAN));
    json_object_set_new(r, "evaluated", jnum(prev ? rate(s->evaluated, prev->evaluated, dt) : NAN));
    json_object_set_new(r, "alerts", jnum(prev ? rate(s->alerts, prev->alerts, dt) : NAN));
    json_object_set_new(o, "rates", r);
    json_object_set_new(o, "lag", json_integer(s->accepted - s->evaluated));
    json_object_set_new(o, "rules_version", s->rules_version[0] ? json_string(s->rules_version) : json_null());
    json_t *ws = json_array();
    int64_t wall = ww_now_ms();
    for (size_t i = 0; i < s->n_workers; i++) {
        const stats_worker_t *w = &s->workers[i];
        json_t *wj = json_object();
        json_object_set_new(wj, "name", json_string(w->name));
        json_object_set_new(wj, "stage", json_string(w->stage));
        json_object_set_new(wj, "events", json_integer(w->events));
        json_object_set_new(wj, "rate", jnum(w->rate));
        if (w->rules_version) {
            json_object_set_new(wj, "alerts", json_integer(w->alerts));
            json_object_set_new(wj, "rules_version", json_string(w->rules_version));
        }
        json_object_set_new(wj, "seen_ms_ago", json_integer(w->updated ? wall - w->updated : -1));
        json_array_append_new(ws, wj);
    }
    json_object_set_new(o, "workers", ws);
    json_t *sl = json_array();
    for (size_t i = 0; i < s->n_slow; i++) {
        json_t *x = json_object();
        json_object_set_new(x, "rule", json_string(s->slow_id[i]));
        json_object_set_new(x, "us", json_real(s->slow_score[i]));
        json_array_append_new(sl, x);
    }
    json_object_set_new(o, "slow_rules", sl);
    json_t *lat = json_object();
    for (size_t i = 0; i < s->n_hists; i++) {
        json_t *x = json_object();
        json_object_set_new(x, "p50_s", jnum(hist_quantile(&s->hists[i], 0.5)));
        json_object_set_new(x, "p99_s", jnum(hist_quantile(&s->hists[i], 0.99)));
        json_object_set_new(x, "count", json_real(s->hists[i].count));
        json_object_set_new(lat, s->hists[i].series, x);
    }
    json_object_set_new(o, "latency", lat);
    json_object_set_new(o, "metrics_endpoints_up", json_integer((json_int_t)s->endpoints_up));
    char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
    printf("%s\n", text);
    free(text);
    json_decref(o);
}

/* Sleeps ms, waking early on SIGINT/SIGTERM. */
static void nap(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (!ww_stop && nanosleep(&ts, &ts) < 0) {
    }
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: wirewatch stats [-c FILE] [--redis URL] [--json] [--watch [SEC]] [--count N]\n"
               "                       [--metrics HOST:PORT]... [--sample MS]\n"
               "One screen for the whole pipeline: Redis health, counters and rates, lag (accepted -\n"
               "evaluated), workers alive, slowest rules and, with --metrics, stage latencies (p50/p99)\n"
               "from the daemons' Prometheus endpoints.\n"
               "  --watch [SEC]   refresh every SEC seconds (default 2) until interrupted\n"
               "  --count N       with --watch: stop after N screens\n"
               "  --sample MS     single shot: measure rates over MS milliseconds (default 1000; 0: no rates)\n"
               "  --json          one JSON object per screen\n");
}

int cmd_stats(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"redis", required_argument, NULL, 'r'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"watch", optional_argument, NULL, 'w'},
                                         {"count", required_argument, NULL, 'n'},
                                         {"metrics", required_argument, NULL, 'm'},
                                         {"sample", required_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    cli_common_t cc;
    memset(&cc, 0, sizeof cc);
    bool json = false;
    double watch = 0;
    long count = 0, sample_ms = 1000;
    char *eps[STATS_MAX_ENDPOINTS];
    size_t n_eps = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': cc.config_path = optarg; break;
        case 'r': cc.redis_url = optarg; break;
        case 'j': json = true; break;
        case 'w': {
            const char *v = optarg;
            char *end;
            if (!v && optind < argc && strtod(argv[optind], &end) > 0 && *end == '\0')
                v = argv[optind++]; /* `--watch 5` as well as `--watch=5` */
            watch = v ? strtod(v, &end) : 2.0;
            if (watch <= 0 || (v && *end)) {
                fprintf(stderr, "wirewatch stats: --watch wants a positive number of seconds\n");
                return 2;
            }
            break;
        }
        case 'n': count = atol(optarg); break;
        case 's': sample_ms = atol(optarg); break;
        case 'm':
            if (n_eps == STATS_MAX_ENDPOINTS) {
                fprintf(stderr, "wirewatch stats: at most %d --metrics endpoints\n", STATS_MAX_ENDPOINTS);
                return 2;
            }
            eps[n_eps++] = optarg;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "wirewatch stats: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (cli_load_config(&cc) != 0)
        return 2;
    ww_redis_t *r = cli_redis(&cc, 2000);
    if (!r) {
        ww_config_free(&cc.cfg);
        return 1;
    }
    ww_signals_install();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *pfx = cc.cfg.prefix;
    stats_snap_t prev, cur;
    memset(&prev, 0, sizeof prev);
    memset(&cur, 0, sizeof cur);
    bool have_prev = false;
    int rc = 0;
    if (!watch && sample_ms > 0) { /* a first sample for the rates */
        prev.mono_ms = ww_mono_ms();
        read_redis(r, pfx, &prev);
        have_prev = prev.redis_up;
        nap(sample_ms);
    }
    for (long shown = 0; !ww_stop;) {
        cur.mono_ms = ww_mono_ms();
        read_redis(r, pfx, &cur);
        read_endpoints(eps, n_eps, &cur);
        if (have_prev)
            worker_rates(&cur, &prev);
        if (watch && !json)
            printf("\033[H\033[2J");
        if (json)
            print_json(&cur, have_prev ? &prev : NULL, pfx);
        else
            print_text(&cur, have_prev ? &prev : NULL, pfx);
        fflush(stdout);
        if (!cur.redis_up)
            rc = 1;
        snap_free(&prev);
        prev = cur;
        memset(&cur, 0, sizeof cur);
        have_prev = prev.redis_up;
        shown++;
        if (!watch || (count > 0 && shown >= count))
            break;
        nap((long)(watch * 1000));
    }
    snap_free(&prev);
    curl_global_cleanup();
    ww_redis_destroy(&r);
    ww_config_free(&cc.cfg);
    return rc;
}
