/* test_replay.c - end to end: the archive in the running pipeline and replay.
 *
 *   determinism   the same archive replayed (`wirewatch replay --max`) into two
 *                 fresh pipelines with one alert worker gives the same alert
 *                 ids in the same order (read back from <prefix>alerts); the
 *                 archive comes from `wirewatch archive import`
 *   backtest      `wirewatch rules test` on that archive names the same alerts
 *                 in the same order (skipped while `rules test` does not exist)
 *   ingest        with ingest.archive set, every accepted event is archived once
 *                 (duplicates not); after kill -9 and a torn write ingest
 *                 restarts, truncates and reports the torn tail and keeps every
 *                 event; replayed events are not archived again, pass dedup, and
 *                 --speed/--from/--to are honoured */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <msgpack.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ww/alloc.h"
#include "ww/archive.h"
#include "wwtest.h"

static const char *RULES =
    "rules:\n"
    "  - id: storms\n"
    "    channel: weather.storms\n"
    "    severity: medium\n"
    "    match: 'storm*'\n"
    "  - id: port-strike\n"
    "    channel: labour.ports\n"
    "    match: 'port NEAR/3 strike'\n"
    "  - id: tariffs\n"
    "    channel: trade.tariffs\n"
    "    severity: high\n"
    "    match: 'tariff* AND NOT title:opinion'\n";

#define T0 1714560000000LL

/* Writes our fixture: n events one second apart, topics rotating, every 7th a
 * repeat of an earlier URL (a duplicate for import). Returns the path. */
static char *write_fixture(const char *dir, const char *name, int n, int base)
{
    static const char *topics[] = {"Storm warning for the coast", "Port strike enters second day",
                                   "New tariffs on steel announced", "Opinion: tariffs again",
                                   "Quiet market session", "Storms and a port strike disrupt shipping"};
    size_t cap = 0, len = 0;
    char *buf = NULL;
    for (int i = 0; i < n; i++) {
        int k = base + i;
        int url = (i % 7 == 6) ? base + i - 3 : k;
        char *line = ww_asprintf("{\"title\":\"%s %d\",\"body\":\"Report %d. Dock workers said the port strike "
                                 "would go on. Tariffs and storms were mentioned.\",\"url\":\"https://wire.example/%d\","
                                 "\"source\":\"fixture\",\"published_at\":%lld}\n",
                                 topics[k % 6], k, k, url, T0 + (long long)k * 1000);
        ww_grow((void **)&buf, &cap, len + strlen(line) + 1, 1);
        memcpy(buf + len, line, strlen(line) + 1);
        len += strlen(line);
        ww_free(line);
    }
    char *p = wwt_write_file(dir, name, buf);
    ww_free(buf);
    return p;
}

/* Alert ids of <prefix>alerts in stream order; returns the count, *ids a
 * newly allocated array of newly allocated strings. */
static size_t alert_ids(const wwt_redis_t *r, const char *key, char ***ids)
{
    redisReply *rep = wwt_redis_cmd(r, "XRANGE %s - +", key);
    assert_non_null(rep);
    assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
    *ids = ww_calloc(rep->elements + 1, sizeof **ids);
    size_t n = 0;
    for (size_t i = 0; i < rep->elements; i++) {
        redisReply *fields = rep->element[i]->element[1];
        for (size_t f = 0; f + 1 < fields->elements; f += 2) {
            if (strcmp(fields->element[f]->str, "alert") != 0)
                continue;
            msgpack_unpacked u;
            msgpack_unpacked_init(&u);
            size_t off = 0;
            assert_int_equal(msgpack_unpack_next(&u, fields->element[f + 1]->str, fields->element[f + 1]->len, &off),
                             MSGPACK_UNPACK_SUCCESS);
            assert_int_equal(u.data.type, MSGPACK_OBJECT_MAP);
            for (uint32_t k = 0; k < u.data.via.map.size; k++) {
                msgpack_object_kv *kv = &u.data.via.map.ptr[k];
                if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 2 &&
                    memcmp(kv->key.via.str.ptr, "id", 2) == 0 && kv->val.type == MSGPACK_OBJECT_STR)
                    (*ids)[n++] = ww_strndup(kv->val.via.str.ptr, kv->val.via.str.size);
            }
            msgpack_unpacked_destroy(&u);
        }
    }
    freeReplyObject(rep);
    return n;
}

static void free_ids(char **ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ww_free(ids[i]);
    ww_free(ids);
}

/* Waits until ingest has accepted `accepted` events and the alert stream has
 * not grown for 1.5 s. */
static void wait_settled(const wwt_redis_t *r, long accepted)
{
    long until = wwt_ms() + 30000;
    while (wwt_ms() < until && wwt_redis_hget(r, "t:stats:ingest", "accepted") < accepted)
        wwt_sleep_ms(50);
    assert_true(wwt_redis_hget(r, "t:stats:ingest", "accepted") >= accepted);
    wwt_wait_stream_quiet(r, "t:alerts", 1500, until);
}

/* Counts events in an archive. */
static long archive_count(const char *dir)
{
    char err[256];
    const char *paths[] = {dir};
    ww_archive_reader_t *r = ww_archive_reader_open(paths, 1, 0, INT64_MAX, err, sizeof err);
    if (!r)
        return -1;
    long n = 0;
    ww_event_t *ev;
    while (ww_archive_reader_next(r, &ev) == 1) {
        n++;
        ww_event_destroy(&ev);
    }
    ww_archive_reader_close(&r);
    return n;
}

/* Replays `archive` into a fresh pipeline; returns the alert ids in order. */
static size_t replay_into_fresh(const char *archive, char ***ids)
{
    wwt_pipeline_t p;
    assert_int_equal(wwt_pipeline_start(&p, RULES, 1, 1), 0);
    const char *args[] = {"replay", archive, "--max", "-c", p.config, NULL};
    char *out = NULL;
    assert_int_equal(wwt_run("wirewatch", args, NULL, &out, true), 0);
    long n = archive_count(archive);
    assert_non_null(strstr(out, "events sent"));
    ww_free(out);
    wait_settled(&p.redis, n);
    assert_int_equal(wwt_redis_hget(&p.redis, "t:stats:ingest", "accepted"), n);
    size_t k = alert_ids(&p.redis, "t:alerts", ids);
    assert_int_equal(wwt_pipeline_stop(&p), 0);
    return k;
}

static void test_determinism_and_backtest(void **state)
{
    (void)state;
    char *dir = wwt_tmpdir("replay");
    char *fx = write_fixture(dir, "events.jsonl", 120, 0);
    char *arch = ww_asprintf("%s/archive", dir);
    const char *imp[] = {"archive", "import", fx, "--out", arch, NULL};
    char *out = NULL;
    assert_int_equal(wwt_run("wirewatch", imp, NULL, &out, true), 0);
    /* 120 lines, every 7th a duplicate URL: 17 dropped */
    assert_non_null(strstr(out, "103 events archived, 17 duplicates dropped"));
    ww_free(out);
    assert_int_equal(archive_count(arch), 103);

    char **a, **b;
    size_t na = replay_into_fresh(arch, &a);
    size_t nb = replay_into_fresh(arch, &b);
    assert_true(na >= 60); /* the rules fire on most events */
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++)
        assert_string_equal(a[i], b[i]);

    /* backtest = live replay: the same ids, in the same order */
    const char *bt[] = {"rules", "test", RULES[0] ? "RULES" : "", "--archive", arch, "--json", NULL};
    char *rules = wwt_write_file(dir, "rules.yaml", RULES);
    bt[2] = rules;
    int rc = wwt_run("wirewatch", bt, NULL, &out, false);
    if (rc == 0) {
        const char *pos = out;
        for (size_t i = 0; i < na; i++) {
            const char *hit = strstr(pos, a[i]);
            assert_non_null(hit);
            pos = hit + strlen(a[i]);
        }
        size_t lines = 0;
        for (const char *c = out; *c; c++)
            lines += *c == '\n';
        assert_int_equal(lines, na);
    } else {
        fprintf(stderr, "note: 'wirewatch rules test' not available (exit %d): backtest comparison skipped\n", rc);
    }
    ww_free(out);
    ww_free(rules);
    free_ids(a, na);
    free_ids(b, nb);
    ww_free(fx);
    char *cmd = ww_asprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    ww_free(cmd);
    ww_free(arch);
    ww_free(dir);
}

typedef struct {
    wwt_redis_t redis;
    char *dir, *config, *log, *archive;
    pid_t ingest, extract, alert;
} mini_t;

static pid_t spawn_ingest(mini_t *m)
{
    const char *args[] = {"-c", m->config, "--log-level", "info", NULL};
    return wwt_spawn("wirewatch-ingest", args, m->log);
}

static void mini_start(mini_t *m)
{
    memset(m, 0, sizeof *m);
    assert_int_equal(wwt_redis_start(&m->redis), 0);
    m->dir = wwt_tmpdir("replay");
    m->archive = ww_asprintf("%s/archive", m->dir);
    int port[6];
    for (int i = 0; i < 6; i++)
        port[i] = wwt_free_port();
    char *rules = wwt_write_file(m->dir, "rules.yaml", RULES);
    char cfg[2048];
    snprintf(cfg, sizeof cfg,
             "redis: %s\nprefix: \"t:\"\n"
             "ingest:\n  intake: tcp://127.0.0.1:%d\n  dispatch: tcp://127.0.0.1:%d\n  dedup_window: 1h\n"
             "  archive: %s\n  archive_fsync: always\n  archive_segment_size: 64KiB\n"
             "extract:\n  results: tcp://127.0.0.1:%d\n"
             "alert:\n  work: tcp://127.0.0.1:%d\n  publish_in: tcp://127.0.0.1:%d\n"
             "  publish: tcp://127.0.0.1:%d\n  rules: %s\n",
             m->redis.url, port[0], port[1], m->archive, port[2], port[3], port[4], port[5], rules);
    ww_free(rules);
    m->config = wwt_write_file(m->dir, "wirewatch.yaml", cfg);
    m->log = ww_asprintf("%s/daemons.log", m->dir);
    const char *args[] = {"-c", m->config, "--log-level", "info", NULL};
    m->ingest = spawn_ingest(m);
    m->extract = wwt_spawn("wirewatch-extract", args, m->log);
    m->alert = wwt_spawn("wirewatch-alert", args, m->log);
    long until = wwt_ms() + 20000;
    while (wwt_ms() < until && (wwt_redis_count_keys(&m->redis, "t:workers:extract:*") < 1 ||
                                wwt_redis_count_keys(&m->redis, "t:workers:alert:*") < 1))
        wwt_sleep_ms(50);
    assert_true(wwt_redis_count_keys(&m->redis, "t:workers:alert:*") >= 1);
}

static void wait_archive(const char *archive, long n)
{
    long until = wwt_ms() + 15000;
    while (wwt_ms() < until && archive_count(archive) < n)
        wwt_sleep_ms(50);
    assert_int_equal(archive_count(archive), n);
}

/* The path of the highest-numbered segment. Caller owns. */
static char *last_segment(const char *archive)
{
    ww_archive_segment_info_t *segs;
    size_t n;
    char err[256];
    assert_int_equal(ww_archive_segments(archive, false, NULL, NULL, &segs, &n, err, sizeof err), 0);
    assert_true(n >= 1);
    char *p = ww_strdup(segs[n - 1].path);
    ww_archive_segments_free(&segs, n);
    return p;
}

static mini_t m; /* static so that the teardown can stop what a failed test left running */

/* Stops whatever of the mini pipeline is still running (after a failure). */
static int mini_teardown(void **state)
{
    (void)state;
    pid_t pids[] = {m.alert, m.extract, m.ingest};
    for (int i = 0; i < 3; i++)
        if (pids[i] > 0)
            wwt_stop(pids[i], SIGKILL, 2000);
    if (m.redis.pid > 0)
        wwt_redis_stop(&m.redis);
    memset(&m, 0, sizeof m);
    return 0;
}

static void test_ingest_archive_crash_replay(void **state)
{
    (void)state;
    mini_start(&m);
    char *fx = write_fixture(m.dir, "a.jsonl", 40, 0); /* 40 lines, 5 duplicates */
    const char *pub[] = {"publish", fx, "-c", m.config, NULL};
    assert_int_equal(wwt_run("wirewatch", pub, NULL, NULL, false), 0);
    wait_archive(m.archive, 35);
    long until1 = wwt_ms() + 10000; /* and counted (stats are flushed after the hand-on) */
    while (wwt_ms() < until1 && wwt_redis_hget(&m.redis, "t:stats:ingest", "accepted") < 35)
        wwt_sleep_ms(50);
    assert_int_equal(wwt_redis_hget(&m.redis, "t:stats:ingest", "accepted"), 35);

    /* kill -9, then a torn write at the end of the last segment */
    assert_true(wwt_stop(m.ingest, SIGKILL, 5000) >= 0);
    char *seg = last_segment(m.archive);
    int fd = open(seg, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    static const char torn[] = "WWR1\x40\x01\x00\x00partial record";
    assert_int_equal(write(fd, torn, sizeof torn - 1), (ssize_t)(sizeof torn - 1));
    close(fd);
    m.ingest = spawn_ingest(&m);
    long until = wwt_ms() + 15000;
    char *log = NULL;
    while (wwt_ms() < until) {
        ww_free(log);
        log = wwt_read_file(m.log);
        if (log && strstr(log, "torn tail truncated"))
            break;
        wwt_sleep_ms(50);
    }
    assert_non_null(log);
    assert_non_null(strstr(log, "torn tail truncated"));
    assert_non_null(strstr(log, seg));
    ww_free(log);
    /* nothing lost, nothing torn left */
    const char *ver[] = {"archive", "verify", m.archive, NULL};
    char *out = NULL;
    assert_int_equal(wwt_run("wirewatch", ver, NULL, &out, true), 0);
    assert_non_null(strstr(out, "35 good records, 0 problems: OK"));
    ww_free(out);

    /* more events after the restart: archived after the good data */
    char *fx2 = write_fixture(m.dir, "b.jsonl", 10, 100);
    const char *pub2[] = {"publish", fx2, "-c", m.config, NULL};
    assert_int_equal(wwt_run("wirewatch", pub2, NULL, NULL, false), 0);
    wait_archive(m.archive, 44); /* 10 lines, 1 duplicate */

    /* replay a window at 20x: 10 events 1 s apart take >= 9/20 s; they pass
     * dedup (marked replay) and are not archived again */
    long until0 = wwt_ms() + 10000;
    while (wwt_ms() < until0 && wwt_redis_hget(&m.redis, "t:stats:ingest", "accepted") < 44)
        wwt_sleep_ms(50);
    long before = wwt_redis_hget(&m.redis, "t:stats:ingest", "accepted");
    assert_int_equal(before, 44); /* 35 + 9, each counted once across the restart */
    const char *rp[] = {"replay", m.archive, "--speed", "20", "--from", "2024-05-01T10:40:10Z",
                        "--to", "1714560020000", "-c", m.config, NULL};
    long t0 = wwt_ms();
    assert_int_equal(wwt_run("wirewatch", rp, NULL, &out, true), 0);
    long took = wwt_ms() - t0;
    assert_non_null(strstr(out, " events sent"));
    ww_free(out);
    long expect = 0;
    for (int i = 10; i < 20; i++)
        expect += (i % 7 != 6); /* the duplicates were never archived */
    assert_true(took >= (expect - 1) * 1000 / 20 - 50);
    until = wwt_ms() + 15000;
    while (wwt_ms() < until && wwt_redis_hget(&m.redis, "t:stats:ingest", "accepted") < before + expect)
        wwt_sleep_ms(50);
    assert_int_equal(wwt_redis_hget(&m.redis, "t:stats:ingest", "accepted"), before + expect);
    wwt_sleep_ms(300);
    assert_int_equal(archive_count(m.archive), 44);

    /* bad usage */
    const char *bad1[] = {"replay", m.archive, "--speed", "0", NULL};
    assert_int_equal(wwt_run("wirewatch", bad1, NULL, NULL, true), 2);
    const char *bad2[] = {"replay", m.archive, "--from", "yesterday", NULL};
    assert_int_equal(wwt_run("wirewatch", bad2, NULL, NULL, true), 2);
    const char *bad3[] = {"replay", "--max", NULL};
    assert_int_equal(wwt_run("wirewatch", bad3, NULL, NULL, true), 2);

    int bad = 0;
    pid_t pids[] = {m.alert, m.extract, m.ingest};
    for (int i = 0; i < 3; i++) {
        int st = wwt_stop(pids[i], SIGTERM, 10000);
        bad += !(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    m.alert = m.extract = m.ingest = 0;
    assert_int_equal(bad, 0);
    wwt_redis_stop(&m.redis);
    m.redis.pid = 0;
    char *cmd = ww_asprintf("rm -rf '%s'", m.dir);
    if (!getenv("WW_KEEP_LOGS"))
        assert_int_equal(system(cmd), 0);
    ww_free(cmd);
    ww_free(seg);
    ww_free(fx);
    ww_free(fx2);
    ww_free(m.dir);
    ww_free(m.config);
    ww_free(m.log);
    ww_free(m.archive);
    memset(&m, 0, sizeof m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_determinism_and_backtest),
        cmocka_unit_test_teardown(test_ingest_archive_crash_replay, mini_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
