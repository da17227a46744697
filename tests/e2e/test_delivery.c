/* test_delivery.c - SPEC §6 under failure, with the real daemons:
 *  - kill -9 of extract and alert workers (one at a time and together) in the
 *    middle of a steady stream loses no event and shows no alert id twice at a
 *    subscriber (`wirewatch subscribe --resume`), and the alert history holds
 *    exactly the expected alerts, once each;
 *  - Redis restarted mid-stream: no accepted event lost, every daemon stays up.
 * The expected alerts are known independently: rule `alpha` fires on every
 * event whose body has "alpha" (i % 3 == 0), `beta` on "beta" (i % 5 == 0). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "wwtest.h"
#include "ww/alert.h"
#include "ww/alloc.h"

static const char *RULES = "rules:\n"
                           "  - id: alpha\n    channel: test.alpha\n    match: 'alpha'\n"
                           "  - id: beta\n    channel: test.beta\n    match: 'beta'\n"
                           "  - id: sentinel\n    channel: test.sentinel\n    match: 'sentinelword'\n";

static void push_event(void *push, const char *run, int i)
{
    char msg[512];
    int n = snprintf(msg, sizeof msg,
                     "{\"title\":\"Report %d\",\"body\":\"Routine report %d.%s%s\","
                     "\"url\":\"https://d.example/%s/%d\",\"source\":\"delivery\"}",
                     i, i, i % 3 == 0 ? " alpha" : "", i % 5 == 0 ? " beta" : "", run, i);
    assert_true(zmq_send(push, msg, (size_t)n, 0) >= 0);
}

/* Waits until `accepted` events were accepted and the ledger is empty. */
static void wait_drained(wwt_pipeline_t *p, long long accepted, long timeout_ms)
{
    long until = wwt_ms() + timeout_ms;
    long long inflight = -1, acc = 0;
    while (wwt_ms() < until) {
        acc = wwt_redis_hget(&p->redis, "t:stats:ingest", "accepted");
        redisReply *r = wwt_redis_cmd(&p->redis, "ZCARD t:inflight");
        inflight = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
        if (r)
            freeReplyObject(r);
        if (acc >= accepted && inflight == 0)
            return;
        wwt_sleep_ms(100);
    }
    fail_msg("pipeline did not drain: accepted %lld of %lld, %lld in flight", acc, accepted, inflight);
}

/* Checks the alert history: exactly the expected (rule, event) pairs, each
 * once, no id twice. Returns the number of alerts. */
static size_t check_history(wwt_pipeline_t *p, int n_events, bool sentinel)
{
    redisReply *r = wwt_redis_cmd(&p->redis, "XRANGE t:alerts - +");
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    char *seen = ww_calloc((size_t)n_events * 2, 1);
    char **ids = ww_calloc(r->elements + 1, sizeof *ids);
    size_t n = 0, sentinels = 0;
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *kv = r->element[i]->element[1];
        for (size_t j = 0; j + 1 < kv->elements; j += 2) {
            if (strcmp(kv->element[j]->str, "alert") != 0)
                continue;
            ww_alert_t *a;
            assert_int_equal(ww_alert_decode(kv->element[j + 1]->str, kv->element[j + 1]->len, &a), 0);
            for (size_t k = 0; k < n; k++)
                if (strcmp(ids[k], a->id) == 0)
                    fail_msg("alert id %s twice in the history", a->id);
            ids[n++] = ww_strdup(a->id);
            if (strcmp(a->rule, "sentinel") == 0) {
                sentinels++;
            } else {
                int ev = atoi(a->event.title + 7); /* "Report N" */
                assert_true(ev >= 0 && ev < n_events);
                int slot = ev * 2 + (strcmp(a->rule, "beta") == 0);
                if (seen[slot])
                    fail_msg("rule %s fired twice on event %d", a->rule, ev);
                seen[slot] = 1;
            }
            ww_alert_destroy(&a);
        }
    }
    for (int i = 0; i < n_events; i++) {
        if ((i % 3 == 0) != (seen[i * 2] != 0))
            fail_msg("event %d: alpha %s", i, seen[i * 2] ? "fired but should not" : "missing");
        if ((i % 5 == 0) != (seen[i * 2 + 1] != 0))
            fail_msg("event %d: beta %s", i, seen[i * 2 + 1] ? "fired but should not" : "missing");
    }
    assert_int_equal(sentinels, sentinel ? 1 : 0);
    for (size_t k = 0; k < n; k++)
        ww_free(ids[k]);
    ww_free(ids);
    ww_free(seen);
    freeReplyObject(r);
    return n;
}

static int expected_alerts(int n)
{
    return (n + 2) / 3 + (n + 4) / 5;
}

static void test_kill_workers(void **state)
{
    (void)state;
    wwt_pipeline_t p;
    assert_int_equal(wwt_pipeline_start_ex(&p, RULES, 2, 2, "  redeliver_after: 2s\n", false), 0);
    /* a subscriber that cannot lose alerts */
    const char *reg[] = {"subscribe", "--resume", "s1", "--timeout", "1", "-c", p.config, NULL};
    assert_int_equal(wwt_run("wirewatch", reg, NULL, NULL, false), 0);
    const int N = 3000;
    int want = expected_alerts(N) + 1;
    char count[16];
    snprintf(count, sizeof count, "%d", want);
    char *out_path = ww_asprintf("%s/sub.out", p.dir);
    const char *sub_args[] = {"subscribe", "--json", "--resume", "s1", "--count", count, "--timeout", "120",
                              "-c", p.config, NULL};
    pid_t sub = wwt_spawn_io("wirewatch", sub_args, out_path, p.log);
    wwt_sleep_ms(500);

    void *zctx = zmq_ctx_new();
    void *push = zmq_socket(zctx, ZMQ_PUSH);
    assert_int_equal(zmq_connect(push, p.intake), 0);
    char run[32];
    snprintf(run, sizeof run, "k%d", (int)getpid());
    pid_t extra[4];
    int n_extra = 0;
    for (int i = 0; i < N; i++) {
        push_event(push, run, i);
        /* a steady ~1000 events/s, with a burst just before each kill so
         * that the victims die holding events */
        bool burst = i % (N / 4) >= N / 4 - 200;
        if (i % 10 == 9 && !burst)
            wwt_sleep_ms(10);
        /* the first two victims are frozen (SIGSTOP) for the burst before
         * their kill, so they certainly die holding events */
        if (i == N / 4 - 200)
            kill(p.extract[0], SIGSTOP);
        else if (i == N / 2 - 200)
            kill(p.alert[0], SIGSTOP);
        if (i == N / 4 || i == N / 2)
            wwt_sleep_ms(500); /* ingest has dispatched the burst, part of it to the frozen victim */
        if (i == N / 4) {
            kill(p.extract[0], SIGKILL);
            extra[n_extra++] = wwt_pipeline_spawn(&p, "extract");
        } else if (i == N / 2) {
            kill(p.alert[0], SIGKILL);
            extra[n_extra++] = wwt_pipeline_spawn(&p, "alert");
        } else if (i == 3 * N / 4) {
            kill(p.extract[1], SIGKILL);
            kill(p.alert[1], SIGKILL);
            extra[n_extra++] = wwt_pipeline_spawn(&p, "extract");
            extra[n_extra++] = wwt_pipeline_spawn(&p, "alert");
        }
    }
    wait_drained(&p, N, 90000);
    /* one more alert after everything: a lost live alert before it would show
     * up as a gap that the subscriber fills from the history */
    char sentinel[] = "{\"title\":\"Last word\",\"body\":\"sentinelword\",\"source\":\"delivery\"}";
    assert_true(zmq_send(push, sentinel, strlen(sentinel), 0) >= 0);
    wait_drained(&p, N + 1, 30000);

    size_t n = check_history(&p, N, true);
    assert_int_equal(n, (size_t)want);
    long long redelivered = wwt_redis_hget(&p.redis, "t:stats:ingest", "redelivered");
    fprintf(stderr, "  %zu alerts, %lld events redelivered after the kills\n", n, redelivered);
    assert_true(redelivered > 0); /* the kills did lose events in flight, and the ledger recovered them */

    int st;
    long until = wwt_ms() + 30000;
    pid_t w = 0;
    while (wwt_ms() < until && (w = waitpid(sub, &st, WNOHANG)) == 0)
        wwt_sleep_ms(100);
    if (w == 0)
        wwt_stop(sub, SIGTERM, 5000);
    char *out = wwt_read_file(out_path);
    /* the subscriber saw every alert, each id once */
    size_t lines = 0;
    char **ids = ww_calloc((size_t)want + 1, sizeof *ids);
    for (char *l = out; l && *l;) {
        char *nl = strchr(l, '\n');
        char *id = strstr(l, "\"id\":\"");
        if (id && (!nl || id < nl)) {
            assert_true(lines < (size_t)want);
            ids[lines] = ww_strndup(id + 6, 32);
            for (size_t k = 0; k < lines; k++)
                if (strcmp(ids[k], ids[lines]) == 0)
                    fail_msg("subscriber saw alert %s twice", ids[lines]);
            lines++;
        }
        l = nl ? nl + 1 : NULL;
    }
    assert_int_equal(lines, (size_t)want);
    for (size_t k = 0; k < lines; k++)
        ww_free(ids[k]);
    ww_free(ids);
    ww_free(out);
    ww_free(out_path);

    int linger = 0;
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(push);
    zmq_ctx_term(zctx);
    for (int i = 0; i < n_extra; i++)
        assert_int_equal(WEXITSTATUS(wwt_stop(extra[i], SIGTERM, 10000)), 0);
    p.n_extract = p.n_alert = 0; /* the originals are dead */
    assert_int_equal(wwt_pipeline_stop(&p), 0);
}

static void test_redis_restart(void **state)
{
    (void)state;
    wwt_pipeline_t p;
    assert_int_equal(wwt_pipeline_start_ex(&p, RULES, 1, 1, "  redeliver_after: 3s\n", true), 0);
    void *zctx = zmq_ctx_new();
    void *push = zmq_socket(zctx, ZMQ_PUSH);
    assert_int_equal(zmq_connect(push, p.intake), 0);
    char run[32];
    snprintf(run, sizeof run, "r%d", (int)getpid());
    const int N = 1500;
    for (int i = 0; i < N; i++) {
        push_event(push, run, i);
        if (i % 10 == 9)
            wwt_sleep_ms(10);
        if (i == N / 3) {
            wwt_stop(p.redis.pid, SIGTERM, 10000);
            wwt_sleep_ms(1500);
            assert_int_equal(wwt_redis_restart(&p.redis), 0);
        }
    }
    wait_drained(&p, N, 90000);
    assert_int_equal(check_history(&p, N, false), (size_t)expected_alerts(N));
    /* every daemon is still up */
    assert_int_equal(waitpid(p.ingest, NULL, WNOHANG), 0);
    assert_int_equal(waitpid(p.extract[0], NULL, WNOHANG), 0);
    assert_int_equal(waitpid(p.alert[0], NULL, WNOHANG), 0);
    int linger = 0;
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(push);
    zmq_ctx_term(zctx);
    assert_int_equal(wwt_pipeline_stop(&p), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_workers),
        cmocka_unit_test(test_redis_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
