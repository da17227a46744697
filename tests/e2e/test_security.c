/* test_security.c - SPEC §7 end to end: `wirewatch keygen`, a pipeline with
 * CurveZMQ on every TCP endpoint and Redis behind an ACL user with a
 * password; a producer without a key and one with an unauthorised key are
 * refused (their events never arrive, the refusals are logged); an oversize
 * message is refused by the socket (ZMQ_MAXMSGSIZE); no secret (key or Redis
 * password) appears in any log or output. */
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "ww/alloc.h"
#include "wwtest.h"

#define REDIS_USER "wwsec"
#define REDIS_PASSWORD "Pw-n0t-in-logs-7f3a9c"

static const char *RULES = "rules:\n"
                           "  - id: quake\n"
                           "    channel: disasters.quake\n"
                           "    severity: high\n"
                           "    match: 'earthquake'\n";

typedef struct {
    char *dir, *config, *log, *cli_log;
    char intake[64];
    int redis_port;
    pid_t redis, ingest, extract, alert;
    char server_secret[41], client_secret[41], client_public[41], rogue_public[41], rogue_secret[41],
        server_public[41];
} sec_t;

static sec_t S;

/* Reads the first non-comment line (the Z85 key) of a key file. */
static void read_key(const char *path, char out[41])
{
    char *t = wwt_read_file(path);
    assert_non_null(t);
    char *p = t;
    while (*p == '#')
        p = strchr(p, '\n') + 1;
    memcpy(out, p, 40);
    out[40] = '\0';
    uint8_t bin[32];
    assert_non_null(zmq_z85_decode(bin, out));
    ww_free(t);
}

static redisContext *redis_conn(void)
{
    redisContext *c = redisConnect("127.0.0.1", S.redis_port);
    if (!c || c->err) {
        if (c)
            redisFree(c);
        return NULL;
    }
    return c;
}

static long long redis_hget_ll(const char *key, const char *field)
{
    redisContext *c = redis_conn();
    if (!c)
        return -1;
    redisReply *r = redisCommand(c, "HGET %s %s", key, field);
    long long v = r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
    if (r)
        freeReplyObject(r);
    redisFree(c);
    return v;
}

static long long redis_count(const char *pattern)
{
    redisContext *c = redis_conn();
    if (!c)
        return -1;
    redisReply *r = redisCommand(c, "KEYS %s", pattern);
    long long n = r && r->type == REDIS_REPLY_ARRAY ? (long long)r->elements : -1;
    if (r)
        freeReplyObject(r);
    redisFree(c);
    return n;
}

/* All alert history entries' bytes concatenated (titles are in them). */
static char *alert_history(void)
{
    redisContext *c = redis_conn();
    assert_non_null(c);
    redisReply *r = redisCommand(c, "XRANGE t:alerts - +");
    size_t cap = 1, len = 0;
    char *out = ww_malloc(cap);
    out[0] = '\0';
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        redisReply *f = r->element[i]->element[1];
        for (size_t j = 0; j < f->elements; j++) {
            WW_GROW(out, cap, len + f->element[j]->len + 2);
            for (size_t k = 0; k < f->element[j]->len; k++) /* msgpack bytes: keep printable ones */
                out[len++] = f->element[j]->str[k] ? f->element[j]->str[k] : ' ';
            out[len++] = '\n';
            out[len] = '\0';
        }
    }
    if (r)
        freeReplyObject(r);
    redisFree(c);
    return out;
}

static pid_t start_redis(const char *dir, int port)
{
    char conf[1024];
    snprintf(conf, sizeof conf,
             "port %d\nbind 127.0.0.1\nsave \"\"\nappendonly no\ndir %s\n"
             "user default on nopass ~* &* +@all\n"
             "user " REDIS_USER " on >" REDIS_PASSWORD " ~t:* &* +@all -@admin\n",
             port, dir);
    char *path = wwt_write_file(dir, "redis.conf", conf);
    char *log = ww_asprintf("%s/redis.log", dir);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = freopen(log, "w", stdout);
        (void)f;
        execlp("redis-server", "redis-server", path, (char *)NULL);
        _exit(127);
    }
    ww_free(path);
    ww_free(log);
    for (int i = 0; i < 100; i++) {
        redisContext *c = redisConnect("127.0.0.1", port);
        bool ok = c && !c->err;
        if (c)
            redisFree(c);
        if (ok)
            return pid;
        wwt_sleep_ms(50);
    }
    return pid;
}

static int setup(void **state)
{
    (void)state;
    memset(&S, 0, sizeof S);
    S.dir = wwt_tmpdir("sec");
    S.log = ww_asprintf("%s/daemons.log", S.dir);
    S.cli_log = ww_asprintf("%s/cli.log", S.dir);
    S.redis_port = wwt_free_port();
    S.redis = start_redis(S.dir, S.redis_port);
    if (S.redis <= 0)
        return -1;
    const char *names[] = {"server", "client", "rogue"};
    for (int i = 0; i < 3; i++) {
        char *prefix = ww_asprintf("%s/%s", S.dir, names[i]);
        const char *args[] = {"keygen", "--out", prefix, NULL};
        int rc = wwt_run("wirewatch", args, NULL, NULL, false);
        ww_free(prefix);
        if (rc != 0)
            return -1;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/server.key", S.dir);
    read_key(path, S.server_secret);
    snprintf(path, sizeof path, "%s/server.pub", S.dir);
    read_key(path, S.server_public);
    snprintf(path, sizeof path, "%s/client.key", S.dir);
    read_key(path, S.client_secret);
    snprintf(path, sizeof path, "%s/client.pub", S.dir);
    read_key(path, S.client_public);
    snprintf(path, sizeof path, "%s/rogue.key", S.dir);
    read_key(path, S.rogue_secret);
    snprintf(path, sizeof path, "%s/rogue.pub", S.dir);
    read_key(path, S.rogue_public);
    char auth[256];
    snprintf(auth, sizeof auth, "# who may connect\n%s  client machine\n", S.client_public);
    ww_free(wwt_write_file(S.dir, "authorized_keys", auth));
    ww_free(wwt_write_file(S.dir, "rules.yaml", RULES));
    int port[6];
    for (int i = 0; i < 6; i++)
        port[i] = wwt_free_port();
    snprintf(S.intake, sizeof S.intake, "tcp://127.0.0.1:%d", port[0]);
    char cfg[4096];
    /* relative key paths: resolved against the config file's directory */
    snprintf(cfg, sizeof cfg,
             "redis: redis://" REDIS_USER ":" REDIS_PASSWORD "@127.0.0.1:%d/0\n"
             "prefix: \"t:\"\n"
             "max_message_bytes: 4KiB\n"
             "ingest:\n  intake: tcp://127.0.0.1:%d\n  dispatch: tcp://127.0.0.1:%d\n"
             "extract:\n  results: tcp://127.0.0.1:%d\n"
             "alert:\n  work: tcp://127.0.0.1:%d\n  publish_in: tcp://127.0.0.1:%d\n"
             "  publish: tcp://127.0.0.1:%d\n  rules: %s/rules.yaml\n"
             "curve:\n  server_public: server.pub\n  server_secret: server.key\n"
             "  client_public: client.pub\n  client_secret: client.key\n  authorized_keys: authorized_keys\n",
             S.redis_port, port[0], port[1], port[2], port[3], port[4], port[5], S.dir);
    S.config = wwt_write_file(S.dir, "wirewatch.yaml", cfg);
    const char *args[] = {"-c", S.config, "--log-level", "debug", NULL};
    S.ingest = wwt_spawn("wirewatch-ingest", args, S.log);
    S.extract = wwt_spawn("wirewatch-extract", args, S.log);
    S.alert = wwt_spawn("wirewatch-alert", args, S.log);
    long until = wwt_ms() + 20000;
    while (wwt_ms() < until) {
        if (redis_count("t:workers:extract:*") >= 1 && redis_count("t:workers:alert:*") >= 1)
            return 0;
        wwt_sleep_ms(50);
    }
    fprintf(stderr, "pipeline did not start; log %s\n", S.log);
    return -1;
}

static int teardown(void **state)
{
    (void)state;
    int bad = 0;
    pid_t pids[] = {S.alert, S.extract, S.ingest};
    for (int i = 0; i < 3; i++) {
        int st = wwt_stop(pids[i], SIGTERM, 10000);
        bad += !(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    wwt_stop(S.redis, SIGTERM, 5000);
    if (getenv("WW_KEEP_LOGS"))
        fprintf(stderr, "logs kept in %s\n", S.dir);
    else
        wwt_rmdir(S.dir);
    ww_free(S.dir);
    ww_free(S.config);
    ww_free(S.log);
    ww_free(S.cli_log);
    return bad;
}

static void test_keygen_files(void **state)
{
    (void)state;
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/client.key", S.dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(path, sizeof path, "%s/client.pub", S.dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    /* the public key belongs to the secret one */
    char derived[41];
    assert_int_equal(zmq_curve_public(derived, S.client_secret), 0);
    assert_string_equal(derived, S.client_public);
    assert_string_not_equal(S.client_public, S.server_public);
    /* existing files are not overwritten without --force */
    char *prefix = ww_asprintf("%s/client", S.dir);
    const char *again[] = {"keygen", "--out", prefix, NULL};
    char *out = NULL;
    assert_int_equal(wwt_run("wirewatch", again, NULL, &out, true), 1);
    assert_non_null(strstr(out, "--force"));
    ww_free(out);
    char still[41];
    snprintf(path, sizeof path, "%s/client.key", S.dir);
    read_key(path, still);
    assert_string_equal(still, S.client_secret);
    /* with --force a new pair is written, printed on stdout */
    char *p2 = ww_asprintf("%s/other", S.dir);
    const char *fresh[] = {"keygen", "--out", p2, NULL};
    assert_int_equal(wwt_run("wirewatch", fresh, NULL, &out, false), 0);
    char pub2[41];
    snprintf(path, sizeof path, "%s/other.pub", S.dir);
    read_key(path, pub2);
    assert_non_null(strstr(out, pub2));
    ww_free(out);
    const char *forced[] = {"keygen", "--out", p2, "--force", NULL};
    assert_int_equal(wwt_run("wirewatch", forced, NULL, &out, false), 0);
    assert_null(strstr(out, pub2));
    ww_free(out);
    ww_free(p2);
    ww_free(prefix);
}

/* A raw producer: PUSH one JSON event to intake, with the given CURVE client
 * keys (NULL: no CURVE at all). */
static void raw_push(const char *json, const char *pub, const char *sec)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_PUSH);
    int linger = 1500;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (pub) {
        uint8_t k[32];
        zmq_z85_decode(k, S.server_public);
        zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, k, 32);
        zmq_z85_decode(k, pub);
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, k, 32);
        zmq_z85_decode(k, sec);
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, k, 32);
    }
    assert_int_equal(zmq_connect(s, S.intake), 0);
    zmq_send(s, json, strlen(json), ZMQ_DONTWAIT);
    wwt_sleep_ms(1000);
    zmq_close(s);
    zmq_ctx_term(ctx);
}

static bool wait_accepted(long long n, long ms)
{
    long until = wwt_ms() + ms;
    while (wwt_ms() < until) {
        if (redis_hget_ll("t:stats:ingest", "accepted") >= n && redis_hget_ll("t:stats:alert", "events") >= n)
            return true;
        wwt_sleep_ms(50);
    }
    return false;
}

static void test_curve_pipeline_and_refusals(void **state)
{
    (void)state;
    /* a subscriber (CURVE client through the config) */
    char *sub_out = ww_asprintf("%s/sub.out", S.dir);
    const char *sub_args[] = {"subscribe", "-c", S.config, "--json", "--count", "2", "--timeout", "30", NULL};
    pid_t sub = wwt_spawn_io("wirewatch", sub_args, sub_out, S.cli_log);
    wwt_sleep_ms(1000);
    /* the legitimate producer: `wirewatch publish` with the client key */
    char *ev = wwt_write_file(S.dir, "ok.jsonl",
                              "{\"title\":\"Earthquake shakes the coast\",\"body\":\"A strong earthquake hit.\","
                              "\"url\":\"http://example.test/a\"}\n");
    const char *pub_args[] = {"publish", "-c", S.config, ev, NULL};
    assert_int_equal(wwt_run("wirewatch", pub_args, NULL, NULL, false), 0);
    assert_true(wait_accepted(1, 20000));

    /* no key at all, and an unauthorised key: refused */
    raw_push("{\"title\":\"Earthquake plaintext intruder\",\"url\":\"http://example.test/p\"}", NULL, NULL);
    raw_push("{\"title\":\"Earthquake rogue key intruder\",\"url\":\"http://example.test/r\"}", S.rogue_public,
             S.rogue_secret);
    /* an authorised raw producer gets through */
    raw_push("{\"title\":\"Earthquake second report\",\"url\":\"http://example.test/b\"}", S.client_public,
             S.client_secret);
    assert_true(wait_accepted(2, 20000));
    wwt_sleep_ms(1000);
    assert_int_equal(redis_hget_ll("t:stats:ingest", "accepted"), 2);

    int st = 0;
    long until = wwt_ms() + 20000;
    while (waitpid(sub, &st, WNOHANG) == 0 && wwt_ms() < until)
        wwt_sleep_ms(50);
    char *got = wwt_read_file(sub_out);
    assert_non_null(got);
    assert_non_null(strstr(got, "Earthquake shakes the coast"));
    assert_non_null(strstr(got, "Earthquake second report"));
    assert_null(strstr(got, "intruder"));
    char *hist = alert_history();
    assert_non_null(strstr(hist, "Earthquake second report"));
    assert_null(strstr(hist, "intruder"));

    /* refusals logged: the unauthorised key by ZAP, the keyless peer by the monitor */
    char *log = wwt_read_file(S.log);
    assert_non_null(log);
    assert_non_null(strstr(log, "reason=unauthorized_key"));
    assert_non_null(strstr(log, S.rogue_public)); /* the refused public key is named */
    assert_non_null(strstr(log, "reason=handshake_failed"));
    assert_non_null(strstr(log, "curve=on"));
    ww_free(log);
    ww_free(hist);
    ww_free(got);
    ww_free(ev);
    ww_free(sub_out);
    if (waitpid(sub, &st, WNOHANG) == 0)
        wwt_stop(sub, SIGTERM, 2000);
}

static void test_oversize_refused(void **state)
{
    (void)state;
    long long before = redis_hget_ll("t:stats:ingest", "accepted");
    size_t big = 8 * 1024; /* max_message_bytes is 4 KiB */
    char *json = ww_malloc(big + 128);
    int k = snprintf(json, big + 128, "{\"title\":\"Earthquake oversize\",\"url\":\"http://example.test/o\",\"body\":\"");
    memset(json + k, 'x', big);
    snprintf(json + k + big, 128, "\"}");
    raw_push(json, S.client_public, S.client_secret);
    raw_push("{\"title\":\"Earthquake after the big one\",\"url\":\"http://example.test/c\"}", S.client_public,
             S.client_secret);
    assert_true(wait_accepted(before + 1, 20000));
    wwt_sleep_ms(500);
    assert_int_equal(redis_hget_ll("t:stats:ingest", "accepted"), before + 1);
    char *hist = alert_history();
    assert_non_null(strstr(hist, "after the big one"));
    assert_null(strstr(hist, "oversize"));
    ww_free(hist);
    ww_free(json);
}

/* Runs last: SIGHUP and `wirewatch stats` add their own lines first. */
static void test_no_secret_in_logs(void **state)
{
    (void)state;
    kill(S.ingest, SIGHUP);
    kill(S.alert, SIGHUP);
    const char *stats[] = {"stats", "-c", S.config, "--sample", "0", NULL};
    char *out = NULL;
    assert_int_equal(wwt_run("wirewatch", stats, NULL, &out, true), 0);
    assert_non_null(strstr(out, "workers"));
    assert_null(strstr(out, REDIS_PASSWORD));
    ww_free(out);
    /* a wrong password is reported without the password either */
    char *badurl = ww_asprintf("redis://" REDIS_USER ":wrong-" REDIS_PASSWORD "@127.0.0.1:%d/0", S.redis_port);
    const char *bad[] = {"stats", "-c", S.config, "--redis", badurl, "--sample", "0", NULL};
    assert_int_not_equal(wwt_run("wirewatch", bad, NULL, &out, true), 0);
    assert_null(strstr(out, REDIS_PASSWORD));
    ww_free(out);
    ww_free(badurl);
    wwt_sleep_ms(1500);
    const char *files[] = {S.log, S.cli_log};
    for (int i = 0; i < 2; i++) {
        char *log = wwt_read_file(files[i]);
        if (!log)
            continue;
        assert_null(strstr(log, REDIS_PASSWORD));
        assert_null(strstr(log, S.server_secret));
        assert_null(strstr(log, S.client_secret));
        assert_null(strstr(log, S.rogue_secret));
        if (i == 0) {
            assert_non_null(strstr(log, "configuration reloaded"));
            assert_non_null(strstr(log, "redis://***@127.0.0.1")); /* the URL is logged, redacted */
        }
        ww_free(log);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keygen_files),
        cmocka_unit_test(test_curve_pipeline_and_refusals),
        cmocka_unit_test(test_oversize_refused),
        cmocka_unit_test(test_no_secret_in_logs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
