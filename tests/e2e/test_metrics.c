/* test_metrics.c - the daemons' Prometheus endpoints (--metrics) scraped with
 * libcurl while events flow: counters move by exactly what was sent, latency
 * histograms are well formed, the rules version is exported, /health answers;
 * and `wirewatch stats` (text, --json, --watch) reports the same pipeline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <zmq.h>

#include "ww/alloc.h"
#include "wwtest.h"

static const char *RULES = "rules:\n"
                           "  - id: flood\n"
                           "    channel: disasters.flood\n"
                           "    match: 'flood*'\n";

static struct {
    wwt_redis_t redis;
    char *dir, *config, *log;
    pid_t ingest, extract, alert;
    char mx[3][32]; /* metrics HOST:PORT of ingest, extract, alert */
    char intake[64];
} M;

typedef struct {
    char *buf;
    size_t len, cap;
} body_t;

static size_t on_body(char *d, size_t size, size_t n, void *arg)
{
    body_t *b = arg;
    WW_GROW(b->buf, b->cap, b->len + size * n + 1);
    memcpy(b->buf + b->len, d, size * n);
    b->len += size * n;
    b->buf[b->len] = '\0';
    return size * n;
}

/* GETs (or POSTs) http://hostport/path; returns the body (caller owns) and the status. */
static char *http(const char *hostport, const char *path, bool post, long *status)
{
    char url[256];
    snprintf(url, sizeof url, "http://%s%s", hostport, path);
    CURL *c = curl_easy_init();
    body_t b = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    if (post)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "x=1");
    CURLcode rc = curl_easy_perform(c);
    *status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        ww_free(b.buf);
        return NULL;
    }
    return b.buf ? b.buf : ww_strdup("");
}

static char *scrape(int which)
{
    long st;
    char *t = http(M.mx[which], "/metrics", false, &st);
    assert_non_null(t);
    assert_int_equal(st, 200);
    return t;
}

/* Value of the exact series `series` (name plus labels as rendered), NAN when absent. */
static double value_of(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, series, n) == 0 && l[n] == ' ')
            return atof(l + n + 1);
    return NAN;
}

/* Checks one histogram: cumulative buckets never decrease, +Inf == _count.
 * labels: "" or `stage="x"`. Returns _count. */
static double check_histogram(const char *text, const char *name, const char *labels)
{
    char pfx[256];
    snprintf(pfx, sizeof pfx, "%s_bucket{%s%sle=\"", name, labels, *labels ? "," : "");
    double last = -1, inf = NAN;
    int buckets = 0;
    for (const char *l = strstr(text, pfx); l; l = strstr(l + 1, pfx)) {
        const char *v = strchr(l, ' ');
        double x = atof(v + 1);
        assert_true(x >= last);
        last = x;
        buckets++;
        if (strncmp(l + strlen(pfx), "+Inf\"", 5) == 0)
            inf = x;
    }
    assert_true(buckets >= 2);
    char series[256];
    snprintf(series, sizeof series, *labels ? "%s_count{%s}" : "%s_count%s", name, labels);
    double count = value_of(text, series);
    assert_false(isnan(count));
    assert_true(inf == count);
    snprintf(series, sizeof series, *labels ? "%s_sum{%s}" : "%s_sum%s", name, labels);
    double sum = value_of(text, series);
    assert_true(sum >= 0);
    char type[256];
    snprintf(type, sizeof type, "# TYPE %s histogram\n", name);
    assert_non_null(strstr(text, type));
    return count;
}

static int setup(void **state)
{
    (void)state;
    memset(&M, 0, sizeof M);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (wwt_redis_start(&M.redis) < 0)
        return -1;
    M.dir = wwt_tmpdir("metrics");
    int port[6];
    for (int i = 0; i < 6; i++)
        port[i] = wwt_free_port();
    snprintf(M.intake, sizeof M.intake, "tcp://127.0.0.1:%d", port[0]);
    char *rules = wwt_write_file(M.dir, "rules.yaml", RULES);
    char cfg[2048];
    snprintf(cfg, sizeof cfg,
             "redis: %s\nprefix: \"t:\"\n"
             "ingest:\n  intake: tcp://127.0.0.1:%d\n  dispatch: tcp://127.0.0.1:%d\n"
             "extract:\n  results: tcp://127.0.0.1:%d\n"
             "alert:\n  work: tcp://127.0.0.1:%d\n  publish_in: tcp://127.0.0.1:%d\n"
             "  publish: tcp://127.0.0.1:%d\n  rules: %s\n",
             M.redis.url, port[0], port[1], port[2], port[3], port[4], port[5], rules);
    ww_free(rules);
    M.config = wwt_write_file(M.dir, "wirewatch.yaml", cfg);
    M.log = ww_asprintf("%s/daemons.log", M.dir);
    const char *names[] = {"wirewatch-ingest", "wirewatch-extract", "wirewatch-alert"};
    pid_t *pids[] = {&M.ingest, &M.extract, &M.alert};
    for (int i = 0; i < 3; i++) {
        snprintf(M.mx[i], sizeof M.mx[i], "127.0.0.1:%d", wwt_free_port());
        const char *args[] = {"-c", M.config, "--metrics", M.mx[i], NULL};
        *pids[i] = wwt_spawn(names[i], args, M.log);
    }
    long until = wwt_ms() + 20000;
    while (wwt_ms() < until) {
        if (wwt_redis_count_keys(&M.redis, "t:workers:extract:*") >= 1 &&
            wwt_redis_count_keys(&M.redis, "t:workers:alert:*") >= 1)
            return 0;
        wwt_sleep_ms(50);
    }
    return -1;
}

static int teardown(void **state)
{
    (void)state;
    int bad = 0;
    pid_t pids[] = {M.alert, M.extract, M.ingest};
    for (int i = 0; i < 3; i++) {
        int st = wwt_stop(pids[i], SIGTERM, 10000);
        bad += !(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    wwt_redis_stop(&M.redis);
    wwt_rmdir(M.dir);
    ww_free(M.dir);
    ww_free(M.config);
    ww_free(M.log);
    curl_global_cleanup();
    return bad;
}

static long long stat_field(const char *key, const char *field)
{
    redisReply *r = wwt_redis_cmd(&M.redis, "HGET %s %s", key, field);
    long long v = r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
    if (r)
        freeReplyObject(r);
    return v;
}

static void test_endpoints_and_counters(void **state)
{
    (void)state;
    long st;
    for (int i = 0; i < 3; i++) {
        char *h = http(M.mx[i], "/health", false, &st);
        assert_non_null(h);
        assert_int_equal(st, 200);
        assert_string_equal(h, "ok\n");
        ww_free(h);
        h = http(M.mx[i], "/nope", false, &st);
        assert_int_equal(st, 404);
        ww_free(h);
        h = http(M.mx[i], "/metrics", true, &st);
        assert_int_equal(st, 405);
        ww_free(h);
    }
    char *before[3];
    for (int i = 0; i < 3; i++)
        before[i] = scrape(i);
    double acc0 = value_of(before[0], "wirewatch_ingest_accepted_total");
    double ext0 = value_of(before[1], "wirewatch_extract_events_total");
    double ev0 = value_of(before[2], "wirewatch_alert_events_total");
    double al0 = value_of(before[2], "wirewatch_alerts_published_total");
    assert_false(isnan(acc0) || isnan(ext0) || isnan(ev0) || isnan(al0));

    char *ev = wwt_write_file(M.dir, "events.jsonl",
                              "{\"title\":\"Floods cut the valley road\",\"url\":\"http://example.test/1\"}\n"
                              "{\"title\":\"Market opens higher\",\"url\":\"http://example.test/2\"}\n"
                              "{\"title\":\"River flooding expected\",\"url\":\"http://example.test/3\"}\n");
    const char *pub[] = {"publish", "-c", M.config, ev, NULL};
    assert_int_equal(wwt_run("wirewatch", pub, NULL, NULL, true), 0);
    /* and one malformed message straight to the intake */
    void *ctx = zmq_ctx_new();
    void *push = zmq_socket(ctx, ZMQ_PUSH);
    int linger = 2000;
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_connect(push, M.intake), 0);
    zmq_send(push, "{not json at all", 16, 0);
    zmq_close(push);
    zmq_ctx_term(ctx);
    long until = wwt_ms() + 20000;
    while (wwt_ms() < until && stat_field("t:stats:alert", "events") < 3)
        wwt_sleep_ms(50);
    assert_int_equal(stat_field("t:stats:alert", "events"), 3);
    wwt_sleep_ms(500);

    char *after[3];
    for (int i = 0; i < 3; i++)
        after[i] = scrape(i);
    assert_true(value_of(after[0], "wirewatch_ingest_accepted_total") - acc0 == 3);
    assert_true(value_of(after[1], "wirewatch_extract_events_total") - ext0 == 3);
    assert_true(value_of(after[2], "wirewatch_alert_events_total") - ev0 == 3);
    assert_true(value_of(after[2], "wirewatch_alerts_published_total") - al0 == 2);
    /* the bad line is counted by reason */
    double dropped = 0;
    for (const char *l = strstr(after[0], "wirewatch_ingest_dropped_total{"); l;
         l = strstr(l + 1, "wirewatch_ingest_dropped_total{"))
        dropped += atof(strchr(l, ' ') + 1);
    assert_true(dropped >= 1);
    /* latency histograms, one per stage, and ingest-to-publish per event */
    assert_true(check_histogram(after[0], "wirewatch_stage_seconds", "stage=\"ingest\"") >= 1);
    assert_true(check_histogram(after[1], "wirewatch_stage_seconds", "stage=\"extract\"") >= 1);
    assert_true(check_histogram(after[2], "wirewatch_stage_seconds", "stage=\"alert\"") >= 1);
    assert_true(check_histogram(after[2], "wirewatch_ingest_to_publish_seconds", "") == 3);
    /* Redis round trips counted */
    for (int i = 0; i < 3; i++) {
        double b = value_of(before[i], "wirewatch_redis_replies_total"), a = value_of(after[i], "wirewatch_redis_replies_total");
        if (!(a > b))
            fprintf(stderr, "daemon %d: redis replies %g -> %g\n", i, b, a);
        assert_true(a > b);
    }
    /* rules version as a label: the one the worker reports in its heartbeat */
    redisReply *keys = wwt_redis_cmd(&M.redis, "KEYS t:workers:alert:*");
    assert_non_null(keys);
    assert_int_equal(keys->elements, 1);
    redisReply *rv = wwt_redis_cmd(&M.redis, "HGET %s rules_version", keys->element[0]->str);
    assert_non_null(rv);
    assert_int_equal(rv->type, REDIS_REPLY_STRING);
    char series[128];
    snprintf(series, sizeof series, "wirewatch_rules_info{version=\"%s\"}", rv->str);
    assert_true(value_of(after[2], series) == 1);
    freeReplyObject(rv);
    freeReplyObject(keys);
    assert_non_null(strstr(after[1], "wirewatch_config_info{version=\""));
    for (int i = 0; i < 3; i++) {
        ww_free(before[i]);
        ww_free(after[i]);
    }
    ww_free(ev);
}

static void test_stats_command(void **state)
{
    (void)state;
    const char *args[] = {"stats",     "-c",      M.config,  "--json", "--sample", "300", "--metrics", M.mx[0],
                          "--metrics", M.mx[1],   "--metrics", M.mx[2], NULL};
    char *out = NULL;
    assert_int_equal(wwt_run("wirewatch", args, NULL, &out, false), 0);
    json_error_t je;
    json_t *o = json_loads(out, 0, &je);
    assert_non_null(o);
    assert_true(json_is_true(json_object_get(json_object_get(o, "redis"), "up")));
    json_t *c = json_object_get(o, "counters");
    long long accepted = json_integer_value(json_object_get(c, "accepted"));
    assert_true(accepted >= 3);
    assert_int_equal(json_integer_value(json_object_get(c, "evaluated")), accepted);
    assert_int_equal(json_integer_value(json_object_get(o, "lag")), 0);
    assert_int_equal(json_array_size(json_object_get(o, "workers")), 2);
    assert_int_equal(json_integer_value(json_object_get(o, "metrics_endpoints_up")), 3);
    json_t *lat = json_object_get(o, "latency");
    for (const char *k = "extract"; k; k = strcmp(k, "extract") == 0 ? "ingest_to_publish" : NULL) {
        json_t *h = json_object_get(lat, k);
        assert_non_null(h);
        assert_true(json_real_value(json_object_get(h, "count")) >= 1);
        double p50 = json_real_value(json_object_get(h, "p50_s")), p99 = json_real_value(json_object_get(h, "p99_s"));
        assert_true(p50 >= 0 && p99 >= p50);
    }
    json_t *rates = json_object_get(o, "rates");
    assert_true(json_is_real(json_object_get(rates, "accepted"))); /* two samples: a rate, not null */
    json_decref(o);
    ww_free(out);

    /* --watch: refreshes; text screen names the workers and the lag */
    const char *watch[] = {"stats", "-c", M.config, "--watch", "0.2", "--count", "2", NULL};
    assert_int_equal(wwt_run("wirewatch", watch, NULL, &out, false), 0);
    const char *first = strstr(out, "workers    2 alive");
    assert_non_null(first);
    assert_non_null(strstr(first + 1, "workers    2 alive"));
    assert_non_null(strstr(out, "lag        0 events"));
    assert_non_null(strstr(out, "\033[2J"));
    ww_free(out);
    /* bad usage */
    const char *bad[] = {"stats", "--watch", "-1", NULL};
    assert_int_equal(wwt_run("wirewatch", bad, NULL, NULL, true), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoints_and_counters),
        cmocka_unit_test(test_stats_command),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
