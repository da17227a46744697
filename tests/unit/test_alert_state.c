/* test_alert_state.c - cooldown, threshold and spike decisions in event time,
 * in the in-memory store and, through WW_ALERT_FIRE_LUA, in a real Redis:
 * each scenario asserts the expected decisions and that both stores agree
 * call for call (what makes backtests equal the live system). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "wwtest.h"
#include "ww/alert.h"
#include "ww/alert_state.h"
#include "ww/alloc.h"

static wwt_redis_t redis;
static bool have_redis;
static int scenario; /* key prefix per scenario so scenarios do not share state */

static int setup(void **state)
{
    (void)state;
    have_redis = wwt_redis_start(&redis) == 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (have_redis)
        wwt_redis_stop(&redis);
    return 0;
}

/* The script's decision for the same call, against the real Redis. */
static ww_fire_t redis_decide(const char *alert_id, const char *rule_id, const char *key,
                              const char *event_id, int64_t t, const ww_fire_params_t *p)
{
    char k1[256], k2[64], k3[256], k4[256], ts[32], cd[32], mode[8], win[32], cnt[32], base[32], factor[40];
    snprintf(k1, sizeof k1, "s%d:alert:{%s}", scenario, alert_id);
    snprintf(k2, sizeof k2, "s%d:alerts", scenario);
    snprintf(k3, sizeof k3, "s%d:win:{%s}:%s", scenario, rule_id, key);
    snprintf(k4, sizeof k4, "s%d:fire:{%s}:%s", scenario, rule_id, key);
    snprintf(ts, sizeof ts, "%lld", (long long)t);
    snprintf(cd, sizeof cd, "%lld", (long long)p->cooldown_ms);
    snprintf(mode, sizeof mode, "%d", (int)p->mode);
    snprintf(win, sizeof win, "%lld", (long long)p->window_ms);
    snprintf(cnt, sizeof cnt, "%u", p->mode == WW_FIRE_MODE_SPIKE ? p->min : p->count);
    snprintf(base, sizeof base, "%lld", (long long)p->baseline_ms);
    snprintf(factor, sizeof factor, "%.17g", p->factor);
    const char *argv[] = {"EVAL", WW_ALERT_FIRE_LUA, "4", k1, k2, k3, k4, "chan", "bytes", "86400000",
                          "1000", ts, event_id, cd, mode, win, cnt, base, factor};
    size_t lens[19];
    for (int i = 0; i < 19; i++)
        lens[i] = strlen(argv[i]);
    redisContext *c = redisConnectUnix(redis.url + strlen("unix://"));
    assert_non_null(c);
    assert_int_equal(c->err, 0);
    redisReply *r = redisCommandArgv(c, 19, argv, lens);
    assert_non_null(r);
    if (r->type == REDIS_REPLY_ERROR)
        fail_msg("script error: %s", r->str);
    ww_fire_t res = r->type == REDIS_REPLY_STRING ? WW_FIRE_YES : (ww_fire_t)r->integer;
    freeReplyObject(r);
    redisFree(c);
    return res;
}

/* Runs one call in memory and (when available) in Redis; they must agree. */
static ww_fire_t decide(ww_alert_state_t *st, const char *rule, const char *key, const char *event,
                        int64_t t, const ww_fire_params_t *p)
{
    char id[33];
    ww_alert_compute_id(rule, event, key, id);
    ww_fire_t mem = ww_alert_state_decide(st, id, rule, key, event, t, p);
    if (have_redis) {
        ww_fire_t red = redis_decide(id, rule, key, event, t, p);
        if (red != mem)
            fail_msg("rule %s key '%s' event %s t=%lld: memory says %s, Redis says %s", rule, key, event,
                     (long long)t, ww_fire_name(mem), ww_fire_name(red));
    }
    return mem;
}

#define MIN 60000LL
#define T0 1700000000000LL

static void test_plain_and_duplicate(void **state)
{
    (void)state;
    scenario++;
    ww_alert_state_t *st = ww_alert_state_new();
    ww_fire_params_t p = {0};
    assert_int_equal(decide(st, "r", "", "e1", T0, &p), WW_FIRE_YES);
    assert_int_equal(decide(st, "r", "", "e1", T0, &p), WW_FIRE_DUPLICATE); /* redelivery */
    assert_int_equal(decide(st, "r", "", "e2", T0 + 1, &p), WW_FIRE_YES);
    assert_int_equal(decide(st, "r2", "", "e1", T0, &p), WW_FIRE_YES);     /* another rule */
    ww_alert_state_destroy(&st);
    assert_null(st);
}

static void test_cooldown_event_time(void **state)
{
    (void)state;
    scenario++;
    ww_alert_state_t *st = ww_alert_state_new();
    ww_fire_params_t p = {.cooldown_ms = 10 * MIN};
    assert_int_equal(decide(st, "c", "", "e1", T0, &p), WW_FIRE_YES);
    assert_int_equal(decide(st, "c", "", "e2", T0 + 9 * MIN, &p), WW_FIRE_COOLDOWN);
    /* event time, not arrival: an older event within the cooldown is refused too */
    assert_int_equal(decide(st, "c", "", "e3", T0 - 5 * MIN, &p), WW_FIRE_COOLDOWN);
    assert_int_equal(decide(st, "c", "", "e4", T0 + 10 * MIN, &p), WW_FIRE_YES);
    assert_int_equal(decide(st, "c", "", "e5", T0 + 15 * MIN, &p), WW_FIRE_COOLDOWN);
    /* keys are independent */
    assert_int_equal(decide(st, "c", "China", "e5", T0 + 15 * MIN, &p), WW_FIRE_YES);
    ww_alert_state_destroy(&st);
}

static void test_threshold_window(void **state)
{
    (void)state;
    scenario++;
    ww_alert_state_t *st = ww_alert_state_new();
    ww_fire_params_t p = {.mode = WW_FIRE_MODE_THRESHOLD, .count = 3, .window_ms = 10 * MIN};
    assert_int_equal(decide(st, "t", "Li", "e1", T0, &p), WW_FIRE_BELOW);
    assert_int_equal(decide(st, "t", "Li", "e2", T0 + 4 * MIN, &p), WW_FIRE_BELOW);
    /* the same event again does not count twice */
    assert_int_equal(decide(st, "t", "Li", "e2", T0 + 4 * MIN, &p), WW_FIRE_BELOW);
    /* another key does not add to Li's count */
    assert_int_equal(decide(st, "t", "Wu", "e3", T0 + 5 * MIN, &p), WW_FIRE_BELOW);
    assert_int_equal(decide(st, "t", "Li", "e3", T0 + 9 * MIN, &p), WW_FIRE_YES);
    /* the window then acts as a cooldown */
    assert_int_equal(decide(st, "t", "Li", "e4", T0 + 10 * MIN, &p), WW_FIRE_COOLDOWN);
    assert_int_equal(decide(st, "t", "Li", "e4b", T0 + 12 * MIN, &p), WW_FIRE_COOLDOWN);
    /* at 19m the window is (9m, 19m]: e4, e4b, e5 (e3 at 9m just left it),
     * and the cooldown since 9m has run out */
    assert_int_equal(decide(st, "t", "Li", "e5", T0 + 19 * MIN, &p), WW_FIRE_YES);
    /* sparse events never reach the count */
    assert_int_equal(decide(st, "t", "Wu", "e6", T0 + 40 * MIN, &p), WW_FIRE_BELOW);
    assert_int_equal(decide(st, "t", "Wu", "e7", T0 + 60 * MIN, &p), WW_FIRE_BELOW);
    assert_int_equal(decide(st, "t", "Wu", "e8", T0 + 80 * MIN, &p), WW_FIRE_BELOW);
    ww_alert_state_destroy(&st);
}

static void test_spike(void **state)
{
    (void)state;
    scenario++;
    ww_alert_state_t *st = ww_alert_state_new();
    /* window 1h, baseline 24h, factor 3, min 4 */
    ww_fire_params_t p = {.mode = WW_FIRE_MODE_SPIKE, .window_ms = 60 * MIN, .baseline_ms = 24 * 60 * MIN,
                          .factor = 3, .min = 4};
    char ev[32];
    int k = 0;
    /* a steady baseline: 2 mentions an hour for 24 hours (rate 2/h) */
    for (int h = 0; h < 24; h++)
        for (int i = 0; i < 2; i++) {
            snprintf(ev, sizeof ev, "b%d", k++);
            ww_fire_t f = decide(st, "s", "Acme", ev, T0 + h * 60 * MIN + i * 20 * MIN, &p);
            assert_int_not_equal(f, WW_FIRE_YES); /* 2 < min 4 */
        }
    int64_t t = T0 + 24 * 60 * MIN + MIN;
    /* the last hour already holds one baseline mention (23h20m); the
     * baseline (t-25h, t-1h] holds the other 47: rate 47/24 per hour, so a
     * spike needs recent >= 3 x 47/24 = 5.875, i.e. 6 */
    for (int i = 0; i < 4; i++) { /* recent 2..5 */
        snprintf(ev, sizeof ev, "x%d", i);
        assert_int_equal(decide(st, "s", "Acme", ev, t + i * MIN, &p), WW_FIRE_BELOW);
    }
    assert_int_equal(decide(st, "s", "Acme", "x4", t + 4 * MIN, &p), WW_FIRE_YES); /* recent 6 */
    assert_int_equal(decide(st, "s", "Acme", "x5", t + 5 * MIN, &p), WW_FIRE_COOLDOWN);
    /* a key with no history spikes as soon as it reaches min */
    for (int i = 0; i < 3; i++) {
        snprintf(ev, sizeof ev, "n%d", i);
        assert_int_equal(decide(st, "s", "New", ev, t + i * MIN, &p), WW_FIRE_BELOW);
    }
    assert_int_equal(decide(st, "s", "New", "n3", t + 3 * MIN, &p), WW_FIRE_YES);
    /* fractional factors: 1.5 x 47/24 = 2.94, so min 4 decides */
    ww_fire_params_t q = p;
    q.factor = 1.5;
    k = 0;
    for (int h = 0; h < 24; h++)
        for (int i = 0; i < 2; i++) {
            snprintf(ev, sizeof ev, "fb%d", k++);
            decide(st, "s2", "", ev, T0 + h * 60 * MIN + i * 20 * MIN, &q);
        }
    for (int i = 0; i < 2; i++) { /* recent 2, 3 */
        snprintf(ev, sizeof ev, "fx%d", i);
        assert_int_equal(decide(st, "s2", "", ev, t + i * MIN, &q), WW_FIRE_BELOW);
    }
    assert_int_equal(decide(st, "s2", "", "fx2", t + 2 * MIN, &q), WW_FIRE_YES); /* recent 4 */
    ww_alert_state_destroy(&st);
}

/* Random calls: the two stores agree on every one (and the mix fires some
 * and suppresses some of every kind). */
static void test_random_agreement(void **state)
{
    (void)state;
    scenario++;
    ww_alert_state_t *st = ww_alert_state_new();
    unsigned seed = 4242;
    int seen[4] = {0};
    const ww_fire_params_t ps[] = {
        {.cooldown_ms = 5 * MIN},
        {.mode = WW_FIRE_MODE_THRESHOLD, .count = 3, .window_ms = 10 * MIN, .cooldown_ms = 2 * MIN},
        {.mode = WW_FIRE_MODE_SPIKE, .window_ms = 10 * MIN, .baseline_ms = 60 * MIN, .factor = 2.5, .min = 2},
        {0}};
    int n = have_redis ? 600 : 3000;
    for (int i = 0; i < n; i++) {
        char rule[8], key[8], ev[16];
        int r = rand_r(&seed) % 4;
        snprintf(rule, sizeof rule, "q%d", r);
        snprintf(key, sizeof key, "k%d", rand_r(&seed) % 3);
        snprintf(ev, sizeof ev, "e%d", rand_r(&seed) % 400);
        int64_t t = T0 + (int64_t)(i * 20000) + (rand_r(&seed) % 5 - 2) * MIN; /* slightly out of order */
        seen[decide(st, rule, key, ev, t, &ps[r])]++;
    }
    for (int k = 0; k < 4; k++)
        assert_true(seen[k] > 0);
    ww_alert_state_destroy(&st);
}

static void test_hit_keys(void **state)
{
    (void)state;
    ww_rule_t rule = {0};
    rule.id = "x";
    ww_hit_t hit = {0};
    hit.rule = &rule;
    ww_match_t m[3] = {{.kind = WW_MATCH_ENTITY, .value = "China"},
                       {.kind = WW_MATCH_KEYWORD, .value = "tariffs"},
                       {.kind = WW_MATCH_ENTITY, .value = "China"}};
    hit.matches = m;
    hit.n_matches = 3;
    ww_event_t ev = {0};
    ev.id = "ev1";
    const char *keys[8];
    assert_int_equal(ww_alert_hit_keys(&hit, &ev, keys, 8), 1);
    assert_string_equal(keys[0], "");
    rule.threshold.on = true;
    rule.threshold.per = WW_PER_ENTITY;
    assert_int_equal(ww_alert_hit_keys(&hit, &ev, keys, 8), 1);
    assert_string_equal(keys[0], "China");
    rule.threshold.on = false;
    rule.spike.on = true;
    rule.spike.per = WW_PER_STORY;
    assert_int_equal(ww_alert_hit_keys(&hit, &ev, keys, 8), 1);
    assert_string_equal(keys[0], "ev1");
    rule.spike.per = WW_PER_ENTITY;
    hit.n_matches = 2;
    m[0].kind = WW_MATCH_KEYWORD;
    assert_int_equal(ww_alert_hit_keys(&hit, &ev, keys, 8), 1);
    assert_string_equal(keys[0], ""); /* no entity evidence: the rule's key */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_duplicate), cmocka_unit_test(test_cooldown_event_time),
        cmocka_unit_test(test_threshold_window),    cmocka_unit_test(test_spike),
        cmocka_unit_test(test_random_agreement),    cmocka_unit_test(test_hit_keys),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
