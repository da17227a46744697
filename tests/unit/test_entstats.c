/* test_entstats.c - entity statistics (common/entstats.c): hourly buckets of
 * event time, mentions per TYPE:canonical, written to a real
 * Redis in one flush, kept when Redis is unreachable. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wwtest.h"
#include "ww/alloc.h"
#include "ww/entstats.h"
#include "ww/event.h"
#include "ww/redis.h"

#define H 3600000LL
#define T0 (472222LL * H) /* the start of an hour */

static ww_event_t *event(int64_t published, int64_t ingested)
{
    ww_event_t *ev = ww_event_new();
    ev->published_at = published;
    ev->ingested_at = ingested;
    return ev;
}

static void ent(ww_event_t *ev, ww_ent_type_t t, const char *canon)
{
    ww_event_add_entity(ev, canon, canon, t, WW_FIELD_BODY, 0, (uint32_t)strlen(canon), 1);
}

static long long hget(const wwt_redis_t *r, const char *key, const char *field)
{
    redisReply *rep = wwt_redis_cmd(r, "HGET %s %s", key, field);
    long long v = rep && rep->type == REDIS_REPLY_STRING ? atoll(rep->str) : -1;
    if (rep)
        freeReplyObject(rep);
    return v;
}

static long long ttl(const wwt_redis_t *r, const char *key)
{
    redisReply *rep = wwt_redis_cmd(r, "TTL %s", key);
    long long v = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -3;
    if (rep)
        freeReplyObject(rep);
    return v;
}

static void test_bucket(void **state)
{
    (void)state;
    assert_int_equal(ww_entstats_bucket(T0), 472222);
    assert_int_equal(ww_entstats_bucket(T0 + H - 1), 472222);
    assert_int_equal(ww_entstats_bucket(T0 + H), 472223);
    assert_int_equal(ww_entstats_bucket(-5), 0);
}

static void test_flush(void **state)
{
    (void)state;
    wwt_redis_t R;
    assert_int_equal(wwt_redis_start(&R), 0);
    char err[256];
    ww_redis_t *r = ww_redis_new(R.url, err, sizeof err);
    assert_int_equal(ww_redis_connect(r), 0);
    ww_entstats_t *es = ww_entstats_new("s:");
    /* hour 0: Li Qiang twice in one event, once in another; Beijing once */
    ww_event_t *a = event(T0 + 10, T0 + 5 * H);
    ent(a, WW_ENT_PER, "Li Qiang");
    ent(a, WW_ENT_PER, "Li Qiang");
    ent(a, WW_ENT_LOC, "Beijing");
    ent(a, WW_ENT_MONEY, "$5 billion"); /* not counted */
    ent(a, WW_ENT_DATE, "Monday");      /* not counted */
    ww_event_t *b = event(T0 + H - 1, 0);
    ent(b, WW_ENT_PER, "Li Qiang");
    ent(b, WW_ENT_ORG, "Li Qiang"); /* same name, other type: its own field */
    /* hour 1 by ingested_at (no published_at) */
    ww_event_t *c = event(0, T0 + H + 7);
    ent(c, WW_ENT_PER, "Li Qiang");
    ent(c, WW_ENT_MISC, "Chinese");
    ww_entstats_add_event(es, a);
    ww_entstats_add_event(es, b);
    ww_entstats_add_event(es, c);
    assert_int_equal(ww_entstats_pending(es), 5);
    assert_int_equal(wwt_redis_count_keys(&R, "s:ent*"), 0); /* nothing before the flush */
    assert_int_equal(ww_entstats_flush(es, r), 0);
    assert_int_equal(ww_entstats_pending(es), 0);
    assert_int_equal(hget(&R, "s:ent:472222", "PER:Li Qiang"), 3);
    assert_int_equal(hget(&R, "s:ent:472222", "ORG:Li Qiang"), 1);
    assert_int_equal(hget(&R, "s:ent:472222", "LOC:Beijing"), 1);
    assert_int_equal(hget(&R, "s:ent:472222", "MONEY:$5 billion"), -1);
    assert_int_equal(hget(&R, "s:ent:472222", "DATE:Monday"), -1);
    assert_int_equal(hget(&R, "s:ent:472223", "PER:Li Qiang"), 1);
    assert_int_equal(hget(&R, "s:ent:472223", "MISC:Chinese"), 1);
    assert_int_equal(wwt_redis_count_keys(&R, "s:ent*"), 2);
    long long t = ttl(&R, "s:ent:472222");
    assert_true(t > WW_ENTSTATS_TTL_S - 60 && t <= WW_ENTSTATS_TTL_S);
    assert_true(ttl(&R, "s:ent:472223") > 0);
    /* counts add up over flushes; an unreachable Redis keeps them */
    ww_entstats_add_event(es, a);
    ww_redis_t *down = ww_redis_new("unix:///nonexistent/redis.sock", err, sizeof err);
    assert_int_equal(ww_entstats_flush(es, down), -1);
    assert_int_equal(ww_entstats_pending(es), 2);
    ww_redis_destroy(&down);
    assert_int_equal(ww_entstats_flush(es, r), 0);
    assert_int_equal(hget(&R, "s:ent:472222", "PER:Li Qiang"), 5);
    assert_int_equal(hget(&R, "s:ent:472222", "LOC:Beijing"), 2);
    assert_int_equal(ww_entstats_flush(es, r), 0); /* nothing pending: nothing sent */
    assert_int_equal(hget(&R, "s:ent:472222", "LOC:Beijing"), 2);
    ww_event_destroy(&a);
    ww_event_destroy(&b);
    ww_event_destroy(&c);
    ww_entstats_destroy(&es);
    assert_null(es);
    ww_redis_destroy(&r);
    wwt_redis_stop(&R);
}

/* Many buckets and entities in one flush (chunked commands). */
static void test_many(void **state)
{
    (void)state;
    wwt_redis_t R;
    assert_int_equal(wwt_redis_start(&R), 0);
    char err[256];
    ww_redis_t *r = ww_redis_new(R.url, err, sizeof err);
    assert_int_equal(ww_redis_connect(r), 0);
    ww_entstats_t *es = ww_entstats_new("m:");
    for (int h = 0; h < 30; h++) {
        ww_event_t *ev = event(T0 + h * H, 0);
        for (int k = 0; k < 700; k++) {
            char name[32];
            snprintf(name, sizeof name, "Org %d", k);
            ent(ev, WW_ENT_ORG, name);
            if (k % (h + 1) == 0)
                ent(ev, WW_ENT_ORG, name);
        }
        ww_entstats_add_event(es, ev);
        ww_event_destroy(&ev);
    }
    assert_int_equal(ww_entstats_pending(es), 30 * 700);
    assert_int_equal(ww_entstats_flush(es, r), 0);
    for (int h = 0; h < 30; h += 7) {
        char key[64];
        snprintf(key, sizeof key, "m:ent:%lld", 472222LL + h);
        redisReply *rep = wwt_redis_cmd(&R, "HLEN %s", key);
        assert_int_equal(rep->integer, 700);
        freeReplyObject(rep);
        for (int k = 0; k < 700; k += 99) {
            char f[32];
            snprintf(f, sizeof f, "ORG:Org %d", k);
            assert_int_equal(hget(&R, key, f), k % (h + 1) == 0 ? 2 : 1);
        }
    }
    ww_entstats_destroy(&es);
    ww_redis_destroy(&r);
    wwt_redis_stop(&R);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_flush),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
