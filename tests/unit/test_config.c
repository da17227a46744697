/* test_config.c - the YAML configuration loader (SPEC §3): defaults, every
 * field parsed, every kind of error with its file:line, durations and sizes,
 * feeds, nulls, the precedence of ww_config_resolve and the reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ww/config.h"

#define MS_S   INT64_C(1000)
#define MS_MIN (60 * MS_S)
#define MS_H   (60 * MS_MIN)
#define MS_D   (24 * MS_H)

/* Loads the NUL-terminated text `y` as "test.yaml". */
static int load(ww_config_t *c, const char *y, char *err, size_t errlen)
{
    return ww_config_load_buffer(c, y, strlen(y), "test.yaml", err, errlen);
}

/* Asserts that every field of c holds the default documented in config.h,
 * except redis which the caller checks. */
static void assert_defaults_but_redis(const ww_config_t *c)
{
    assert_string_equal(c->prefix, "ww:");
    assert_string_equal(c->log_level, "info");
    assert_int_equal(c->max_message_bytes, 1048576);
    assert_string_equal(c->ingest.intake, "tcp://127.0.0.1:7400");
    assert_string_equal(c->ingest.dispatch, "tcp://127.0.0.1:7401");
    assert_null(c->ingest.archive);
    assert_int_equal(c->ingest.dedup_window_ms, 24 * MS_H);
    assert_null(c->ingest.feeds);
    assert_int_equal(c->ingest.n_feeds, 0);
    assert_null(c->ingest.watch);
    assert_int_equal(c->ingest.n_watch, 0);
    assert_int_equal(c->ingest.batch, 64);
    assert_null(c->extract.model);
    assert_null(c->extract.gazetteer);
    assert_string_equal(c->extract.results, "tcp://127.0.0.1:7402");
    assert_string_equal(c->alert.publish, "tcp://127.0.0.1:7405");
    assert_string_equal(c->alert.work, "tcp://127.0.0.1:7403");
    assert_string_equal(c->alert.publish_in, "tcp://127.0.0.1:7404");
    assert_null(c->alert.rules);
    assert_int_equal(c->alert.history_max, 100000);
    assert_int_equal(c->alert.dedup_ttl_ms, 7 * MS_D);
}

static void assert_zeroed(const ww_config_t *c)
{
    static const ww_config_t zero;
    assert_memory_equal(c, &zero, sizeof zero);
}

/* ---- defaults -------------------------------------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    ww_config_t c;
    memset(&c, 0xa5, sizeof c); /* defaults must not depend on prior contents */
    ww_config_defaults(&c);
    assert_null(c.path);
    assert_null(c.redis);
    assert_defaults_but_redis(&c);
    ww_config_free(&c);
    assert_zeroed(&c);
    ww_config_free(&c); /* twice is harmless */
    ww_config_free(NULL);
}

static void test_empty_inputs_are_defaults(void **state)
{
    (void)state;
    static const char *inputs[] = {"", "\n\n", "# only a comment\n", "~\n", "---\n", "--- ~\n...\n",
                                   "ingest:\nextract: ~\nalert:\n"};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        ww_config_t c;
        char err[256] = "untouched";
        assert_int_equal(load(&c, inputs[i], err, sizeof err), 0);
        assert_string_equal(err, "");
        assert_string_equal(c.path, "test.yaml");
        assert_null(c.redis);
        assert_defaults_but_redis(&c);
        ww_config_free(&c);
    }
    /* NULL buffer and NULL name */
    ww_config_t c;
    char err[64];
    assert_int_equal(ww_config_load_buffer(&c, NULL, 0, NULL, err, sizeof err), 0);
    assert_null(c.path);
    assert_defaults_but_redis(&c);
    ww_config_free(&c);
}

/* ---- a full file --------------------------------------------------------------- */

static const char full_yaml[] =
    "# every key, none at its default\n"
    "redis: redis://user:pw@10.0.0.5:6380/3\n"
    "prefix: \"news:\"\n"
    "log_level: debug\n"
    "max_message_bytes: 256k\n"
    "ingest:\n"
    "  intake: tcp://0.0.0.0:9400\n"
    "  dispatch: ipc:///run/ww/dispatch\n"
    "  archive: /var/lib/ww/archive\n"
    "  dedup_window: 90m\n"
    "  feeds:\n"
    "    - url: http://127.0.0.1:8080/world.xml\n"
    "      interval: 30s\n"
    "    - {url: 'https://example.org/rss'}\n"
    "    - url: file:///srv/feed.atom\n"
    "      interval: 250ms\n"
    "  watch: [/var/spool/a, \"/var/spool/b c\"]\n"
    "  batch: 128\n"
    "extract:\n"
    "  model: /opt/ner.model\n"
    "  gazetteer: /opt/gaz.tsv\n"
    "  results: inproc://results\n"
    "alert:\n"
    "  publish: tcp://*:9405\n"
    "  work: tcp://[::1]:9403\n"
    "  publish_in: tcp://localhost:9404\n"
    "  rules: /etc/ww/rules.yaml\n"
    "  history_max: 5000\n"
    "  dedup_ttl: 2d\n";

static void test_full_file(void **state)
{
    (void)state;
    ww_config_t c;
    char err[256];
    int rc = load(&c, full_yaml, err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
    assert_string_equal(c.path, "test.yaml");
    assert_string_equal(c.redis, "redis://user:pw@10.0.0.5:6380/3");
    assert_string_equal(c.prefix, "news:");
    assert_string_equal(c.log_level, "debug");
    assert_int_equal(c.max_message_bytes, 256 * 1024);
    assert_string_equal(c.ingest.intake, "tcp://0.0.0.0:9400");
    assert_string_equal(c.ingest.dispatch, "ipc:///run/ww/dispatch");
    assert_string_equal(c.ingest.archive, "/var/lib/ww/archive");
    assert_int_equal(c.ingest.dedup_window_ms, 90 * MS_MIN);
    assert_int_equal(c.ingest.n_feeds, 3);
    assert_string_equal(c.ingest.feeds[0].url, "http://127.0.0.1:8080/world.xml");
    assert_int_equal(c.ingest.feeds[0].interval_ms, 30 * MS_S);
    assert_string_equal(c.ingest.feeds[1].url, "https://example.org/rss");
    assert_int_equal(c.ingest.feeds[1].interval_ms, 60 * MS_S); /* the item default */
    assert_string_equal(c.ingest.feeds[2].url, "file:///srv/feed.atom");
    assert_int_equal(c.ingest.feeds[2].interval_ms, 250);
    assert_int_equal(c.ingest.n_watch, 2);
    assert_string_equal(c.ingest.watch[0], "/var/spool/a");
    assert_string_equal(c.ingest.watch[1], "/var/spool/b c");
    assert_int_equal(c.ingest.batch, 128);
    assert_string_equal(c.extract.model, "/opt/ner.model");
    assert_string_equal(c.extract.gazetteer, "/opt/gaz.tsv");
    assert_string_equal(c.extract.results, "inproc://results");
    assert_string_equal(c.alert.publish, "tcp://*:9405");
    assert_string_equal(c.alert.work, "tcp://[::1]:9403");
    assert_string_equal(c.alert.publish_in, "tcp://localhost:9404");
    assert_string_equal(c.alert.rules, "/etc/ww/rules.yaml");
    assert_int_equal(c.alert.history_max, 5000);
    assert_int_equal(c.alert.dedup_ttl_ms, 2 * MS_D);
    ww_config_free(&c);
    assert_zeroed(&c);
}

/* Keys in any order, sections split by other keys, flow style, an alias. */
static void test_order_flow_and_alias(void **state)
{
    (void)state;
    ww_config_t c;
    char err[256];
    const char *y = "alert: {rules: &r /etc/r.yaml, history_max: 7}\n"
                    "max_message_bytes: 2097152\n"
                    "ingest: {watch: [*r], batch: 1}\n";
    assert_int_equal(load(&c, y, err, sizeof err), 0);
    assert_string_equal(c.alert.rules, "/etc/r.yaml");
    assert_int_equal(c.alert.history_max, 7);
    assert_int_equal(c.max_message_bytes, 2 * 1024 * 1024);
    assert_int_equal(c.ingest.n_watch, 1);
    assert_string_equal(c.ingest.watch[0], "/etc/r.yaml");
    assert_int_equal(c.ingest.batch, 1);
    assert_string_equal(c.prefix, "ww:");
    ww_config_free(&c);
}

static void test_example_file(void **state)
{
    (void)state;
    const char *path = WW_SOURCE_DATADIR "/../deploy/wirewatch.example.yaml";
    ww_config_t c;
    char err[256];
    int rc = ww_config_load(&c, path, err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
    assert_string_equal(c.path, path);
    assert_string_equal(c.redis, "redis://127.0.0.1:6379/0");
    assert_defaults_but_redis(&c);
    ww_config_free(&c);
}

/* ---- nulls ---------------------------------------------------------------------- */

static void test_null_values(void **state)
{
    (void)state;
    ww_config_t c;
    char err[256];
    const char *y = "redis: ~\n"
                    "ingest:\n"
                    "  archive: null\n"
                    "  feeds: ~\n"
                    "  watch:\n"
                    "extract:\n"
                    "  model: Null\n"
                    "  gazetteer: NULL\n"
                    "alert:\n"
                    "  rules:\n";
    assert_int_equal(load(&c, y, err, sizeof err), 0);
    assert_null(c.redis);
    assert_null(c.ingest.archive);
    assert_null(c.extract.model);
    assert_null(c.extract.gazetteer);
    assert_null(c.alert.rules);
    assert_int_equal(c.ingest.n_feeds, 0);
    assert_int_equal(c.ingest.n_watch, 0);
    ww_config_free(&c);

    /* quoted, "~" and "null" are strings, not null */
    assert_int_equal(load(&c, "ingest: {archive: \"~\"}\nalert: {rules: 'null'}\n", err, sizeof err),
                     0);
    assert_string_equal(c.ingest.archive, "~");
    assert_string_equal(c.alert.rules, "null");
    ww_config_free(&c);

    /* a quoted empty prefix is allowed (no prefix at all) */
    assert_int_equal(load(&c, "prefix: ''\n", err, sizeof err), 0);
    assert_string_equal(c.prefix, "");
    ww_config_free(&c);
}

/* ---- errors ---------------------------------------------------------------------- */

typedef struct {
    const char *yaml;
    const char *err; /* the exact message */
} err_case_t;

static const err_case_t err_cases[] = {
    /* unknown keys */
    {"prefix: a\nbogus: 1\n", "test.yaml:2: unknown key 'bogus'"},
    {"redis: redis://h:1\nprefix: x\n\ningest:\n  intake: tcp://127.0.0.1:1\n  batch: 3\n"
     "  dedup_windw: 24h\n",
     "test.yaml:7: unknown key 'ingest.dedup_windw'"},
    {"alert:\n  publish: tcp://127.0.0.1:9\n  model: /x\n", "test.yaml:3: unknown key 'alert.model'"},
    {"ingest.intake: tcp://127.0.0.1:1\n", "test.yaml:1: unknown key 'ingest.intake'"},
    {"Prefix: x\n", "test.yaml:1: unknown key 'Prefix'"},
    {"intake: tcp://127.0.0.1:1\n", "test.yaml:1: unknown key 'intake'"},
    {"ingest:\n  feeds:\n    - url: http://h/x\n      every: 5s\n",
     "test.yaml:4: unknown key 'ingest.feeds[0].every'"},
    /* duplicates */
    {"prefix: a\nprefix: b\n", "test.yaml:2: duplicate key 'prefix'"},
    {"ingest:\n  batch: 1\nalert: {}\ningest:\n  batch: 2\n", "test.yaml:4: duplicate key 'ingest'"},
    {"ingest:\n  batch: 1\n  batch: 2\n", "test.yaml:3: duplicate key 'ingest.batch'"},
    /* wrong types */
    {"prefix: x\nredis:\n  host: a\n", "test.yaml:3: 'redis' must be a string, not a mapping"},
    {"ingest:\n  intake: [tcp://127.0.0.1:1]\n",
     "test.yaml:2: 'ingest.intake' must be a string, not a list"},
    {"ingest: tcp://127.0.0.1:1\n", "test.yaml:1: 'ingest' must be a mapping, not a scalar"},
    {"alert:\n  - publish\n", "test.yaml:2: 'alert' must be a mapping, not a list"},
    {"ingest:\n  batch: {a: 1}\n", "test.yaml:2: 'ingest.batch' must be an integer, not a mapping"},
    {"ingest:\n  watch: /var/spool\n",
     "test.yaml:2: 'ingest.watch' must be a list of strings, not a scalar"},
    {"ingest:\n  watch:\n    - /a\n    - [/b]\n",
     "test.yaml:4: 'ingest.watch[1]' must be a string, not a list"},
    {"ingest:\n  watch: ['/a', '']\n", "test.yaml:2: 'ingest.watch[1]': '' must not be empty"},
    {"ingest:\n  feeds: http://h/x\n",
     "test.yaml:2: 'ingest.feeds' must be a list of feeds, not a scalar"},
    {"ingest:\n  feeds:\n    - http://h/x\n",
     "test.yaml:3: 'ingest.feeds[0]' must be a mapping {url, interval}, not a scalar"},
    {"ingest:\n  feeds:\n    - url: http://h/x\n    - interval: 5s\n",
     "test.yaml:4: 'ingest.feeds[1]' has no url"},
    {"ingest:\n  feeds:\n    - url: ftp://h/x\n",
     "test.yaml:3: 'ingest.feeds[0].url': 'ftp://h/x' is not a feed URL (http://, https:// or "
     "file://)"},
    {"ingest:\n  feeds:\n    - url: http://h/x\n      interval: 5\u00b5s\n",
     "test.yaml:4: 'ingest.feeds[0].interval': invalid duration '5\u00b5s' (e.g. 250ms, 10s, 5m, "
     "24h, 7d)"},
    {"ingest:\n  feeds:\n    - url: http://h/x\n      interval: 1ms\n",
     "test.yaml:4: 'ingest.feeds[0].interval': 1ms is out of range [10ms, 7d]"},
    {"[a, b]\n", "test.yaml:1: the top level must be a mapping, not a list"},
    {"\n\njust text\n", "test.yaml:3: the top level must be a mapping, not a scalar"},
    {"? [a, b]\n: c\n", "test.yaml:1: keys must be strings, not a list"},
    /* an alias is reported where its anchor is */
    {"ingest: &a\n  intake: *a\n", "test.yaml:1: 'ingest.intake' must be a string, not a mapping"},
    {"prefix: \"a\\0b\"\n", "test.yaml:1: 'prefix' contains a NUL byte"},
    /* nulls where a value is required */
    {"prefix: ~\n", "test.yaml:1: 'prefix' must not be null"},
    {"log_level:\nprefix: x\n", "test.yaml:1: 'log_level' must not be null"},
    {"ingest:\n  dedup_window: null\n", "test.yaml:2: 'ingest.dedup_window' must not be null"},
    {"ingest:\n  archive: ''\n", "test.yaml:2: 'ingest.archive': '' must not be empty"},
    /* bad values */
    {"ingest:\n  dedup_window: 24 hours\n",
     "test.yaml:2: 'ingest.dedup_window': invalid duration '24 hours' (e.g. 250ms, 10s, 5m, 24h, "
     "7d)"},
    {"alert:\n  dedup_ttl: -5s\n",
     "test.yaml:2: 'alert.dedup_ttl': invalid duration '-5s' (e.g. 250ms, 10s, 5m, 24h, 7d)"},
    {"max_message_bytes: 1 MiB\n",
     "test.yaml:1: 'max_message_bytes': invalid size '1 MiB' (e.g. 1048576, 64k, 1MiB, 2G)"},
    {"max_message_bytes: 1.5M\n",
     "test.yaml:1: 'max_message_bytes': invalid size '1.5M' (e.g. 1048576, 64k, 1MiB, 2G)"},
    {"log_level: verbose\n",
     "test.yaml:1: 'log_level': 'verbose' is not a log level (error, warn, info or debug)"},
    {"log_level: INFO\n",
     "test.yaml:1: 'log_level': 'INFO' is not a log level (error, warn, info or debug)"},
    {"ingest:\n  batch: 0x10\n", "test.yaml:2: 'ingest.batch': invalid integer '0x10'"},
    {"ingest:\n  batch: 99999999999999999999\n",
     "test.yaml:2: 'ingest.batch': invalid integer '99999999999999999999'"},
    {"redis: http://127.0.0.1:6379\n",
     "test.yaml:1: 'redis': 'http://127.0.0.1:6379' is not a Redis URL "
     "(redis://[user:password@]host:port[/db] or unix:///path)"},
    {"redis: unix://relative.sock\n",
     "test.yaml:1: 'redis': 'unix://relative.sock' is not a Redis URL "
     "(redis://[user:password@]host:port[/db] or unix:///path)"},
    {"ingest:\n  intake: 127.0.0.1:7400\n",
     "test.yaml:2: 'ingest.intake': '127.0.0.1:7400' is not a ZeroMQ endpoint (tcp://HOST:PORT, "
     "ipc://PATH or inproc://NAME)"},
    {"alert:\n  publish: tcp://127.0.0.1\n",
     "test.yaml:2: 'alert.publish': 'tcp://127.0.0.1' is not a ZeroMQ endpoint (tcp://HOST:PORT, "
     "ipc://PATH or inproc://NAME)"},
    {"alert:\n  work: tcp://127.0.0.1:70000\n",
     "test.yaml:2: 'alert.work': 'tcp://127.0.0.1:70000' is not a ZeroMQ endpoint "
     "(tcp://HOST:PORT, ipc://PATH or inproc://NAME)"},
    {"extract:\n  results: inproc://\n",
     "test.yaml:2: 'extract.results': 'inproc://' is not a ZeroMQ endpoint (tcp://HOST:PORT, "
     "ipc://PATH or inproc://NAME)"},
    /* out of bounds */
    {"ingest:\n  batch: 0\n", "test.yaml:2: 'ingest.batch': 0 is out of range [1, 65536]"},
    {"ingest:\n  batch: 65537\n", "test.yaml:2: 'ingest.batch': 65537 is out of range [1, 65536]"},
    {"alert:\n  history_max: -1\n",
     "test.yaml:2: 'alert.history_max': -1 is out of range [1, 1000000000]"},
    {"alert:\n  dedup_ttl: 500ms\n", "test.yaml:2: 'alert.dedup_ttl': 500ms is out of range [1s, 365d]"},
    {"ingest:\n  dedup_window: 366d\n",
     "test.yaml:2: 'ingest.dedup_window': 366d is out of range [1ms, 365d]"},
    {"max_message_bytes: 1000\n",
     "test.yaml:1: 'max_message_bytes': 1000 is out of range [1KiB, 1GiB]"},
    {"max_message_bytes: 2G\n", "test.yaml:1: 'max_message_bytes': 2G is out of range [1KiB, 1GiB]"},
    /* more than one document */
    {"prefix: a\n---\nprefix: b\n", "test.yaml:2: only one YAML document is allowed"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
        ww_config_t c;
        char err[512] = "";
        int rc = load(&c, err_cases[i].yaml, err, sizeof err);
        if (rc != -1 || strcmp(err, err_cases[i].err) != 0)
            fail_msg("case %zu: rc=%d\n  got:  %s\n  want: %s", i, rc, err, err_cases[i].err);
        assert_zeroed(&c);
        ww_config_free(&c);
    }
}

/* libyaml's own messages are its business; we fix the file:line prefix. */
typedef struct {
    const char *yaml;
    const char *prefix;
} syntax_case_t;

static void test_syntax_errors(void **state)
{
    (void)state;
    static const syntax_case_t cases[] = {
        {"prefix: a\nredis: [unclosed\n", "test.yaml:3: "},
        {"prefix: a\n  redis: b\n", "test.yaml:2: "},
        {"prefix: a\nalert:\n\tpublish: x\n", "test.yaml:3: "},
        {"prefix: 'a\n", "test.yaml:2: "},
        {"prefix: *nowhere\n", "test.yaml:1: "},
        {"prefix: ok\nlog_level: \"\xff\xfe\"\n", "test.yaml:2: "}, /* invalid UTF-8 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ww_config_t c;
        char err[512] = "";
        int rc = load(&c, cases[i].yaml, err, sizeof err);
        if (rc != -1 || strncmp(err, cases[i].prefix, strlen(cases[i].prefix)) != 0 ||
            strlen(err) <= strlen(cases[i].prefix) + 3)
            fail_msg("case %zu: rc=%d got '%s', want prefix '%s'", i, rc, err, cases[i].prefix);
        assert_zeroed(&c);
    }
}

/* The message is cut to the buffer, never overflowing it; NULL err is allowed. */
static void test_error_buffer_limits(void **state)
{
    (void)state;
    ww_config_t c;
    char err[16];
    memset(err, 'x', sizeof err);
    assert_int_equal(load(&c, "bogus_key_with_a_long_name: 1\n", err, 12), -1);
    assert_string_equal(err, "test.yaml:1");
    assert_int_equal(err[12], 'x');
    assert_int_equal(load(&c, "bogus: 1\n", NULL, 0), -1);
    assert_zeroed(&c);
    /* a 300-character key is reported, shortened */
    char y[400], big[512];
    memset(y, 'k', 300);
    strcpy(y + 300, ": 1\n");
    assert_int_equal(load(&c, y, big, sizeof big), -1);
    assert_true(strncmp(big, "test.yaml:1: unknown key 'kkkk", 30) == 0);
}

/* ---- durations and sizes --------------------------------------------------------- */

typedef struct {
    const char *s;
    int rc;
    int64_t v;
} num_case_t;

static void test_parse_duration(void **state)
{
    (void)state;
    static const num_case_t cases[] = {
        {"250ms", 0, 250},
        {"0", 0, 0},
        {"0ms", 0, 0},
        {"10", 0, 10 * MS_S},
        {"10s", 0, 10 * MS_S},
        {"10m", 0, 10 * MS_MIN},
        {"24h", 0, 24 * MS_H},
        {"7d", 0, 7 * MS_D},
        {"007s", 0, 7 * MS_S},
        {"9223372036854775807ms", 0, INT64_MAX},
        {"9223372036854775808ms", -1, 0}, /* overflow in the digits */
        {"9223372036854775807s", -1, 0},  /* overflow in the unit */
        {"106751991167d", 0, 106751991167 * MS_D},
        {"106751991168d", -1, 0},
        {"", -1, 0},
        {"s", -1, 0},
        {"-1s", -1, 0},
        {"+1s", -1, 0},
        {"1.5s", -1, 0},
        {"10 s", -1, 0},
        {" 10s", -1, 0},
        {"10sec", -1, 0},
        {"10S", -1, 0},
        {"10w", -1, 0},
        {"1h30m", -1, 0},
        {"abc", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = -42;
        int rc = ww_parse_duration(cases[i].s, &v);
        if (rc != cases[i].rc || (rc == 0 && v != cases[i].v))
            fail_msg("'%s': rc=%d v=%lld", cases[i].s, rc, (long long)v);
    }
    int64_t v;
    assert_int_equal(ww_parse_duration(NULL, &v), -1);
}

static void test_parse_size(void **state)
{
    (void)state;
    static const num_case_t cases[] = {
        {"1048576", 0, 1048576},
        {"0", 0, 0},
        {"512b", 0, 512},
        {"64k", 0, 64 * 1024},
        {"64K", 0, 64 * 1024},
        {"64KB", 0, 64 * 1024},
        {"64KiB", 0, 64 * 1024},
        {"64kib", 0, 64 * 1024},
        {"1M", 0, 1048576},
        {"1MB", 0, 1048576},
        {"1MiB", 0, 1048576},
        {"2G", 0, INT64_C(2) << 30},
        {"2GB", 0, INT64_C(2) << 30},
        {"2GiB", 0, INT64_C(2) << 30},
        {"3T", 0, INT64_C(3) << 40},
        {"8388607T", 0, INT64_C(8388607) << 40},
        {"8388608T", -1, 0}, /* 2^63: overflow */
        {"99999999999999999999", -1, 0},
        {"", -1, 0},
        {"k", -1, 0},
        {"-1k", -1, 0},
        {"1.5M", -1, 0},
        {"1 M", -1, 0},
        {"1MiBs", -1, 0},
        {"1Mi", -1, 0},
        {"1P", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = -42;
        int rc = ww_parse_size(cases[i].s, &v);
        if (rc != cases[i].rc || (rc == 0 && v != cases[i].v))
            fail_msg("'%s': rc=%d v=%lld", cases[i].s, rc, (long long)v);
    }
    int64_t v;
    assert_int_equal(ww_parse_size(NULL, &v), -1);
}

/* ---- files and precedence -------------------------------------------------------- */

/* Writes text to a new temporary file; returns its path (static buffer of the caller). */
static void write_tmp(char *path, size_t len, const char *text)
{
    snprintf(path, len, "/tmp/ww_test_config_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
}

static void test_load_file(void **state)
{
    (void)state;
    char path[64], err[512], want[600];
    write_tmp(path, sizeof path, "prefix: a\nalert:\n  history_max: 0\n");
    ww_config_t c;
    assert_int_equal(ww_config_load(&c, path, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:3: 'alert.history_max': 0 is out of range [1, 1000000000]",
             path);
    assert_string_equal(err, want);
    assert_zeroed(&c);
    unlink(path);

    assert_int_equal(ww_config_load(&c, "/nonexistent/ww.yaml", err, sizeof err), -1);
    assert_string_equal(err, "/nonexistent/ww.yaml: cannot open: No such file or directory");
    assert_zeroed(&c);
    ww_config_free(&c);
}

static void test_resolve_precedence(void **state)
{
    (void)state;
    char file_a[64], file_b[64], err[512];
    write_tmp(file_a, sizeof file_a, "redis: redis://file-a:6379\nprefix: 'a:'\n");
    write_tmp(file_b, sizeof file_b, "prefix: 'b:'\n");
    ww_config_t c;

    /* nothing at all: the defaults */
    unsetenv("WIREWATCH_CONFIG");
    unsetenv("WIREWATCH_REDIS_URL");
    assert_int_equal(ww_config_resolve(&c, NULL, NULL, err, sizeof err), 0);
    assert_null(c.path);
    assert_null(c.redis);
    assert_defaults_but_redis(&c);
    ww_config_free(&c);

    /* empty environment variables count as unset */
    setenv("WIREWATCH_CONFIG", "", 1);
    setenv("WIREWATCH_REDIS_URL", "", 1);
    assert_int_equal(ww_config_resolve(&c, NULL, NULL, err, sizeof err), 0);
    assert_null(c.path);
    assert_null(c.redis);
    ww_config_free(&c);

    /* WIREWATCH_CONFIG names the file */
    setenv("WIREWATCH_CONFIG", file_a, 1);
    assert_int_equal(ww_config_resolve(&c, NULL, NULL, err, sizeof err), 0);
    assert_string_equal(c.path, file_a);
    assert_string_equal(c.prefix, "a:");
    assert_string_equal(c.redis, "redis://file-a:6379");
    ww_config_free(&c);

    /* -c wins over WIREWATCH_CONFIG */
    assert_int_equal(ww_config_resolve(&c, file_b, NULL, err, sizeof err), 0);
    assert_string_equal(c.path, file_b);
    assert_string_equal(c.prefix, "b:");
    assert_null(c.redis);
    ww_config_free(&c);

    /* WIREWATCH_REDIS_URL wins over the file */
    setenv("WIREWATCH_REDIS_URL", "unix:///run/redis.sock", 1);
    assert_int_equal(ww_config_resolve(&c, NULL, NULL, err, sizeof err), 0);
    assert_string_equal(c.prefix, "a:");
    assert_string_equal(c.redis, "unix:///run/redis.sock");
    ww_config_free(&c);

    /* --redis wins over WIREWATCH_REDIS_URL */
    assert_int_equal(ww_config_resolve(&c, NULL, "redis://flag:1/2", err, sizeof err), 0);
    assert_string_equal(c.redis, "redis://flag:1/2");
    assert_string_equal(c.prefix, "a:");
    ww_config_free(&c);

    /* a bad URL in the environment is an error that does not echo it (password) */
    setenv("WIREWATCH_REDIS_URL", "http://user:secret@h", 1);
    assert_int_equal(ww_config_resolve(&c, NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "WIREWATCH_REDIS_URL"));
    assert_null(strstr(err, "secret"));
    assert_zeroed(&c);
    /* ... unless the flag replaces it? No: each source is checked. */
    assert_int_equal(ww_config_resolve(&c, NULL, "redis://ok:1", err, sizeof err), -1);
    unsetenv("WIREWATCH_REDIS_URL");

    /* a bad flag */
    assert_int_equal(ww_config_resolve(&c, NULL, "localhost:6379", err, sizeof err), -1);
    assert_non_null(strstr(err, "--redis"));
    assert_zeroed(&c);

    /* a missing file named by the environment */
    setenv("WIREWATCH_CONFIG", "/nonexistent/ww.yaml", 1);
    assert_int_equal(ww_config_resolve(&c, NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/ww.yaml"));
    assert_zeroed(&c);

    /* a bad file still fails even when the flag is fine */
    char bad[64];
    write_tmp(bad, sizeof bad, "\nprefix: [x\n");
    assert_int_equal(ww_config_resolve(&c, bad, "redis://ok:1", err, sizeof err), -1);
    assert_true(strncmp(err, bad, strlen(bad)) == 0);
    assert_zeroed(&c);

    unsetenv("WIREWATCH_CONFIG");
    unlink(file_a);
    unlink(file_b);
    unlink(bad);
}

/* ---- reference ------------------------------------------------------------------- */

static void test_reference(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    ww_config_write_reference(f);
    fclose(f);
    assert_true(strncmp(text, "| key | type | default | meaning |\n|---|---|---|---|\n", 52) == 0);
    /* every key of the struct is documented, with its default */
    static const char *rows[] = {
        "| `redis` | string or `~` | `~` (none) |",
        "| `prefix` | string | `ww:` |",
        "| `log_level` | string | `info` |",
        "| `max_message_bytes` | size | `1MiB` |",
        "| `ingest.intake` | string | `tcp://127.0.0.1:7400` |",
        "| `ingest.dispatch` | string | `tcp://127.0.0.1:7401` |",
        "| `ingest.archive` | string or `~` | `~` (none) |",
        "| `ingest.dedup_window` | duration | `24h` |",
        "| `ingest.feeds` | list of maps | `[]` |",
        "| `ingest.feeds[].url` | string | (required) |",
        "| `ingest.feeds[].interval` | duration | `60s` |",
        "| `ingest.watch` | list of strings | `[]` |",
        "| `ingest.batch` | integer | `64` |",
        "| `extract.model` | string or `~` | `~` (none) |",
        "| `extract.gazetteer` | string or `~` | `~` (none) |",
        "| `extract.results` | string | `tcp://127.0.0.1:7402` |",
        "| `alert.publish` | string | `tcp://127.0.0.1:7405` |",
        "| `alert.work` | string | `tcp://127.0.0.1:7403` |",
        "| `alert.publish_in` | string | `tcp://127.0.0.1:7404` |",
        "| `alert.rules` | string or `~` | `~` (none) |",
        "| `alert.history_max` | integer | `100000` |",
        "| `alert.dedup_ttl` | duration | `7d` |",
    };
    /* keys added later by other modules must be documented too: every row
     * has four cells and a meaning */
    size_t n_rows = 0;
    for (const char *p = text; (p = strstr(p, "\n| `")) != NULL; p++) {
        n_rows++;
        const char *eol = strchr(p + 1, '\n');
        size_t cells = 0;
        for (const char *q = p + 1; q < eol; q++)
            cells += *q == '|';
        assert_int_equal(cells, 5);
        assert_true(eol - p > 40);
    }
    assert_true(n_rows >= sizeof rows / sizeof rows[0]);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (!strstr(text, rows[i]))
            fail_msg("missing row: %s", rows[i]);
    assert_non_null(strstr(text, "Range: 1 to 65536."));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_empty_inputs_are_defaults),
        cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_order_flow_and_alias),
        cmocka_unit_test(test_example_file),
        cmocka_unit_test(test_null_values),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_error_buffer_limits),
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_resolve_precedence),
        cmocka_unit_test(test_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
