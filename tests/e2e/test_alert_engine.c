/* test_alert_engine.c - end to end: the alert engine with real daemons.
 *
 *   reload under load   a steady stream of events (published in chunks for
 *                       several seconds) while `wirewatch rules load` swaps
 *                       the rule set four times. Every version has one rule
 *                       that matches every event, under its own rule id, so
 *                       each evaluated event yields exactly one alert naming
 *                       the version that evaluated it. Checked: every
 *                       accepted event has exactly one alert (none skipped,
 *                       none evaluated twice); in stream order the versions
 *                       only move forward (the swap is atomic between
 *                       events); the per-version counters in
 *                       <prefix>stats:alert:versions sum to the events
 *                       accepted and equal, version by version, the alerts
 *                       that version published; several versions did work.
 *   backtest = live     a stream archived with `wirewatch archive import`,
 *                       replayed (`wirewatch replay --max`) through a fresh
 *                       pipeline with one alert worker: the alert ids read
 *                       back from <prefix>alerts equal, in order, those of
 *                       `wirewatch rules test --archive --json`, with
 *                       cooldown, threshold (per rule and per entity) and
 *                       spike rules that suppress many hits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ww/alert.h"
#include "ww/alloc.h"
#include "wwtest.h"

#define T0 1714560000000LL

/* ---- helpers ------------------------------------------------------------------- */

/* Sum of the per-version event counters. */
static long versions_sum(const wwt_redis_t *r)
{
    redisReply *rep = wwt_redis_cmd(r, "HGETALL t:stats:alert:versions");
    long sum = 0;
    if (rep && rep->type == REDIS_REPLY_ARRAY)
        for (size_t i = 1; i < rep->elements; i += 2)
            sum += atol(rep->element[i]->str);
    if (rep)
        freeReplyObject(rep);
    return sum;
}

/* Waits until ingest accepted `accepted` events, the alert workers counted
 * as many, and the alert stream stopped growing for 1.5 s. */
static void wait_settled(const wwt_redis_t *r, long accepted)
{
    long until = wwt_ms() + 60000;
    while (wwt_ms() < until && (wwt_redis_hget(r, "t:stats:ingest", "accepted") < accepted ||
                                wwt_redis_hget(r, "t:stats:alert", "events") < accepted))
        wwt_sleep_ms(50);
    wwt_wait_stream_quiet(r, "t:alerts", 1500, until);
}

/* The alerts of <prefix>alerts in stream order (caller frees each). */
static size_t stream_alerts(const wwt_redis_t *r, ww_alert_t ***out)
{
    redisReply *rep = wwt_redis_cmd(r, "XRANGE t:alerts - +");
    assert_non_null(rep);
    assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
    *out = ww_calloc(rep->elements + 1, sizeof **out);
    size_t n = 0;
    for (size_t i = 0; i < rep->elements; i++) {
        redisReply *fields = rep->element[i]->element[1];
        for (size_t f = 0; f + 1 < fields->elements; f += 2) {
            if (strcmp(fields->element[f]->str, "alert") != 0)
                continue;
            ww_alert_t *a = NULL;
            assert_int_equal(ww_alert_decode(fields->element[f + 1]->str, fields->element[f + 1]->len, &a), 0);
            (*out)[n++] = a;
        }
    }
    freeReplyObject(rep);
    return n;
}

static void free_alerts(ww_alert_t **a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ww_alert_destroy(&a[i]);
    ww_free(a);
}

/* Runs `wirewatch rules load FILE -c CONFIG`; returns the version it printed. */
static void rules_load(const char *config, const char *file, char version[17])
{
    const char *args[] = {"rules", "load", file, "-c", config, NULL};
    char *out = NULL;
    assert_int_equal(wwt_run("wirewatch", args, NULL, &out, true), 0);
    const char *v = strstr(out, "version ");
    assert_non_null(v);
    snprintf(version, 17, "%.16s", v + 8);
    ww_free(out);
}

/* The version `wirewatch rules check FILE` reports. */
static void rules_version(const char *file, char version[17])
{
    const char *args[] = {"rules", "check", file, NULL};
    char *out = NULL;
    assert_int_equal(wwt_run("wirewatch", args, NULL, &out, true), 0);
    const char *v = strstr(out, "version ");
    assert_non_null(v);
    snprintf(version, 17, "%.16s", v + 8);
    ww_free(out);
}

/* ---- reload under load ------------------------------------------------------------- */

#define N_VERSIONS 5
#define N_CHUNKS 24
#define CHUNK 125

/* Version k's rules: one rule matching every event ("v<k>-all"), plus a
 * selective one that differs between versions. */
static char *version_rules(int k)
{
    return ww_asprintf("rules:\n"
                       "  - id: v%d-all\n"
                       "    channel: reload.v%d\n"
                       "    match: 'wwmark'\n"
                       "  - id: v%d-rare\n"
                       "    channel: reload.rare\n"
                       "    match: 'neverseenword%d AND wwmark'\n",
                       k, k, k, k);
}

/* Chunk c of the stream: CHUNK events, unique URLs, all with the marker. */
static char *write_chunk(const char *dir, int c)
{
    size_t cap = 0, len = 0;
    char *buf = NULL;
    for (int i = 0; i < CHUNK; i++) {
        int k = c * CHUNK + i;
        char *line = ww_asprintf("{\"title\":\"Bulletin %d\",\"body\":\"wwmark item %d of the steady stream.\","
                                 "\"url\":\"https://reload.example/%d\",\"source\":\"fixture\",\"published_at\":%lld}\n",
                                 k, k, k, T0 + (long long)k * 100);
        ww_grow((void **)&buf, &cap, len + strlen(line) + 1, 1);
        memcpy(buf + len, line, strlen(line) + 1);
        len += strlen(line);
        ww_free(line);
    }
    char name[32];
    snprintf(name, sizeof name, "chunk%d.jsonl", c);
    char *p = wwt_write_file(dir, name, buf);
    ww_free(buf);
    return p;
}

static wwt_pipeline_t pipe_a; /* static: the teardown stops what a failed test left */
static bool pipe_a_up;

static int pipe_teardown(void **state)
{
    (void)state;
    if (pipe_a_up) {
        wwt_pipeline_stop(&pipe_a);
        pipe_a_up = false;
    }
    return 0;
}

static void test_reload_under_load(void **state)
{
    (void)state;
    char *r0 = version_rules(0);
    assert_int_equal(wwt_pipeline_start(&pipe_a, r0, 1, 1), 0);
    pipe_a_up = true;
    ww_free(r0);
    wwt_pipeline_t *p = &pipe_a;
    char versions[N_VERSIONS][17];
    rules_version(p->rules, versions[0]);
    char *files[N_VERSIONS] = {NULL};
    for (int k = 1; k < N_VERSIONS; k++) {
        char *y = version_rules(k), name[32];
        snprintf(name, sizeof name, "v%d.yaml", k);
        files[k] = wwt_write_file(p->dir, name, y);
        ww_free(y);
    }
    char *chunks[N_CHUNKS];
    for (int c = 0; c < N_CHUNKS; c++)
        chunks[c] = write_chunk(p->dir, c);

    /* a chunk every 200 ms (about 5 s of stream); a new rule set every
     * fifth chunk, i.e. about once a second, while events are in flight */
    int next_version = 1;
    for (int c = 0; c < N_CHUNKS; c++) {
        const char *args[] = {"publish", chunks[c], "-c", p->config, NULL};
        assert_int_equal(wwt_run("wirewatch", args, NULL, NULL, true), 0);
        if (c % 5 == 4 && next_version < N_VERSIONS) {
            char v[17];
            rules_load(p->config, files[next_version], v);
            memcpy(versions[next_version], v, 17);
            next_version++;
        }
        wwt_sleep_ms(200);
    }
    assert_int_equal(next_version, N_VERSIONS);
    const long total = (long)N_CHUNKS * CHUNK;
    wait_settled(&p->redis, total);
    long accepted = wwt_redis_hget(&p->redis, "t:stats:ingest", "accepted");
    assert_int_equal(accepted, total);

    /* every event evaluated exactly once, by exactly one version */
    assert_int_equal(versions_sum(&p->redis), accepted);
    ww_alert_t **al = NULL;
    size_t n = stream_alerts(&p->redis, &al);
    assert_int_equal((long)n, accepted);
    long per_version[N_VERSIONS] = {0};
    int last = 0;
    char **seen = ww_calloc(n, sizeof *seen);
    for (size_t i = 0; i < n; i++) {
        int k = -1;
        assert_int_equal(sscanf(al[i]->rule, "v%d-all", &k), 1);
        assert_true(k >= 0 && k < N_VERSIONS);
        /* versions only move forward in stream order: the swap is atomic */
        if (k < last)
            fail_msg("alert %zu from version %d after version %d", i, k, last);
        last = k;
        per_version[k]++;
        seen[i] = al[i]->event.id;
    }
    /* each event id exactly once */
    qsort(seen, n, sizeof *seen, (int (*)(const void *, const void *))strcmp);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            if (strcmp(seen[i], seen[j]) == 0)
                fail_msg("event %s evaluated twice", seen[i]);
            break;
        }
    }
    ww_free(seen);
    /* the versions' own counters agree with what each published */
    int worked = 0;
    for (int k = 0; k < N_VERSIONS; k++) {
        long c = wwt_redis_hget(&p->redis, "t:stats:alert:versions", versions[k]);
        assert_int_equal(c, per_version[k]);
        worked += c > 0;
    }
    print_message("reload under load: %ld events; per version %ld %ld %ld %ld %ld\n", accepted, per_version[0],
                  per_version[1], per_version[2], per_version[3], per_version[4]);
    assert_true(worked >= 3); /* the swaps really happened mid-stream */
    /* the workers report the version they run */
    redisReply *rep = wwt_redis_cmd(&p->redis, "KEYS t:workers:alert:*");
    assert_non_null(rep);
    assert_int_equal(rep->elements, 1);
    char key[512];
    snprintf(key, sizeof key, "%s", rep->element[0]->str);
    freeReplyObject(rep);
    rep = wwt_redis_cmd(&p->redis, "HGET %s rules_version", key);
    assert_non_null(rep);
    assert_int_equal(rep->type, REDIS_REPLY_STRING);
    assert_string_equal(rep->str, versions[N_VERSIONS - 1]);
    freeReplyObject(rep);

    free_alerts(al, n);
    for (int c = 0; c < N_CHUNKS; c++)
        ww_free(chunks[c]);
    for (int k = 1; k < N_VERSIONS; k++)
        ww_free(files[k]);
    pipe_a_up = false;
    assert_int_equal(wwt_pipeline_stop(p), 0);
}

/* ---- backtest = live ------------------------------------------------------------------ */

static const char *STATE_RULES =
    "rules:\n"
    "  - id: storms-cooldown\n"
    "    channel: weather.storms\n"
    "    match: 'storm*'\n"
    "    cooldown: 20s\n"
    "  - id: strike-threshold\n"
    "    channel: labour.strikes\n"
    "    match: 'strike'\n"
    "    threshold: {count: 3, window: 30s}\n"
    "  - id: tariffs\n"
    "    channel: trade.tariffs\n"
    "    match: 'tariff* AND NOT title:opinion'\n"
    "    cooldown: 5s\n"
    "  - id: places-per-entity\n"
    "    channel: geo.places\n"
    "    match: 'entity:LOC AND (port OR harbour)'\n"
    "    threshold: {count: 2, window: 1m, per: entity}\n"
    "  - id: grain-spike\n"
    "    channel: commodities.grain\n"
    "    match: 'grain OR wheat'\n"
    "    spike: {window: 20s, baseline: 2m, factor: 2, min: 3}\n";

/* Our fixture: n events 2 s apart in event time, topics rotating, with
 * places the extractor knows, so per-entity keys vary. */
static char *write_state_fixture(const char *dir, int n)
{
    static const char *const titles[] = {"Storm warning for the coast", "Port strike enters another day",
                                         "New tariffs on steel announced", "Opinion: tariffs again",
                                         "Wheat and grain prices jump", "Quiet session",
                                         "Storms and a strike disrupt shipping", "Grain harvest report"};
    static const char *const places[] = {"Rotterdam", "Hamburg", "Antwerp", "Singapore", "Shanghai"};
    size_t cap = 0, len = 0;
    char *buf = NULL;
    for (int i = 0; i < n; i++) {
        const char *title = titles[(i * 5 + i / 8) % 8];
        const char *place = places[(i / 3) % 5];
        /* grain news comes in bursts: quiet, then a run (the spike) */
        bool grain = (i % 40) >= 30 || i % 11 == 0;
        char *line = ww_asprintf(
            "{\"title\":\"%s %d\",\"body\":\"Officials in %s said the port of %s stayed open. "
            "%s The strike was discussed and tariffs were mentioned.\",\"url\":\"https://state.example/%d\","
            "\"source\":\"fixture\",\"published_at\":%lld}\n",
            title, i, place, place, grain ? "Wheat and grain shipments rose." : "Nothing else happened.", i,
            T0 + (long long)i * 2000);
        ww_grow((void **)&buf, &cap, len + strlen(line) + 1, 1);
        memcpy(buf + len, line, strlen(line) + 1);
        len += strlen(line);
        ww_free(line);
    }
    char *p = wwt_write_file(dir, "state.jsonl", buf);
    ww_free(buf);
    return p;
}

static void test_backtest_equals_live(void **state)
{
    (void)state;
    char *dir = wwt_tmpdir("alertengine");
    const int n_events = 160;
    char *fx = write_state_fixture(dir, n_events);
    char *arch = ww_asprintf("%s/archive", dir);
    const char *imp[] = {"archive", "import", fx, "--out", arch, NULL};
    char *out = NULL;
    assert_int_equal(wwt_run("wirewatch", imp, NULL, &out, true), 0);
    ww_free(out);

    /* live: a fresh pipeline, one extract and one alert worker */
    assert_int_equal(wwt_pipeline_start(&pipe_a, STATE_RULES, 1, 1), 0);
    pipe_a_up = true;
    const char *rp[] = {"replay", arch, "--max", "-c", pipe_a.config, NULL};
    assert_int_equal(wwt_run("wirewatch", rp, NULL, &out, true), 0);
    ww_free(out);
    wait_settled(&pipe_a.redis, n_events);
    assert_int_equal(wwt_redis_hget(&pipe_a.redis, "t:stats:ingest", "accepted"), n_events);
    ww_alert_t **live = NULL;
    size_t n_live = stream_alerts(&pipe_a.redis, &live);
    char *rules_file = wwt_write_file(dir, "rules.yaml", STATE_RULES);
    pipe_a_up = false;
    assert_int_equal(wwt_pipeline_stop(&pipe_a), 0);

    /* backtest: no daemons, no Redis */
    const char *bt[] = {"rules", "test", rules_file, "--archive", arch, "--json", NULL};
    assert_int_equal(wwt_run("wirewatch", bt, NULL, &out, false), 0);
    size_t n_bt = 0;
    bool per_rule_seen[5] = {0};
    static const char *const ids[] = {"storms-cooldown", "strike-threshold", "tariffs", "places-per-entity",
                                      "grain-spike"};
    for (char *line = out, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (!*line)
            continue;
        const char *idp = strstr(line, "\"id\": \"");
        size_t skip = 7;
        if (!idp) {
            idp = strstr(line, "\"id\":\"");
            skip = 6;
        }
        assert_non_null(idp);
        idp += skip;
        const char *end = strchr(idp, '"');
        assert_non_null(end);
        if (n_bt >= n_live)
            fail_msg("backtest has more alerts than live (%zu): %.*s", n_live, (int)(end - idp), idp);
        if ((size_t)(end - idp) != strlen(live[n_bt]->id) || memcmp(idp, live[n_bt]->id, (size_t)(end - idp)) != 0)
            fail_msg("alert %zu: backtest %.*s, live %s (%s)", n_bt, (int)(end - idp), idp, live[n_bt]->id,
                     live[n_bt]->rule);
        for (int r = 0; r < 5; r++)
            per_rule_seen[r] |= strcmp(live[n_bt]->rule, ids[r]) == 0;
        n_bt++;
    }
    assert_int_equal(n_bt, n_live);
    /* every kind of rule fired, and fired less often than it matched */
    for (int r = 0; r < 5; r++)
        if (!per_rule_seen[r])
            fail_msg("rule %s never fired", ids[r]);
    ww_free(out);
    /* the state really suppressed hits: the readable summary says how many */
    const char *bt2[] = {"rules", "test", rules_file, "--archive", arch, NULL};
    assert_int_equal(wwt_run("wirewatch", bt2, NULL, &out, false), 0);
    const char *sum = strstr(out, "suppressed: ");
    assert_non_null(sum);
    unsigned long dup = 0, below = 0, cool = 0;
    assert_int_equal(sscanf(sum, "suppressed: %lu duplicate, %lu below threshold/spike, %lu cooldown", &dup, &below,
                            &cool),
                     3);
    assert_true(below > 0);
    assert_true(cool > 0);
    print_message("backtest = live: %zu alerts, same ids in the same order\n", n_live);

    ww_free(out);
    free_alerts(live, n_live);
    ww_free(rules_file);
    ww_free(fx);
    char *cmd = ww_asprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    ww_free(cmd);
    ww_free(arch);
    ww_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_reload_under_load, pipe_teardown),
        cmocka_unit_test_teardown(test_backtest_equals_live, pipe_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
