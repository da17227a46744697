/* test_ledger.c - the in-flight ledger against a real redis-server: track,
 * ack, claim of overdue entries (only those), deadline moved on claim, and
 * replayed events kept apart from live ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "wwtest.h"
#include "ww/alloc.h"
#include "ww/ledger.h"

static wwt_redis_t R;

static int setup(void **state)
{
    (void)state;
    return wwt_redis_start(&R);
}

static int teardown(void **state)
{
    (void)state;
    wwt_redis_stop(&R);
    return 0;
}

static ww_event_t *mk(const char *id, bool replay)
{
    ww_event_t *e = ww_event_new();
    e->id = ww_strdup(id);
    e->title = ww_strdup(id);
    e->replay = replay;
    return e;
}

static void drain(ww_redis_t *r, long n)
{
    for (long i = 0; i < n; i++) {
        redisReply *rep;
        assert_int_equal(ww_redis_get_reply(r, &rep), 0);
        assert_int_not_equal(rep->type, REDIS_REPLY_ERROR);
        freeReplyObject(rep);
    }
}

static void test_track_ack_claim(void **state)
{
    (void)state;
    ww_redis_t *r = ww_redis_new(R.url, NULL, 0);
    assert_non_null(r);
    ww_event_t *evs[3] = {mk("aaaa", false), mk("bbbb", false), mk("aaaa", true)};
    const char *bytes[3] = {"A", "B\0b", "R"};
    size_t lens[3] = {1, 3, 1};
    long n = ww_ledger_append_track(r, "l:", evs, bytes, lens, 2, 1000);
    assert_int_equal(n, 4);
    drain(r, n);
    n = ww_ledger_append_track(r, "l:", evs + 2, bytes + 2, lens + 2, 1, 5000);
    drain(r, n);
    assert_int_equal(ww_ledger_count(r, "l:"), 3); /* the replay is its own entry */

    /* nothing is due before its deadline */
    ww_ledger_item_t *items;
    assert_int_equal(ww_ledger_claim_due(r, "l:", 999, 2000, 10, &items), 0);
    ww_ledger_items_free(items, 0);
    /* at 1000 the two live ones are due; the bytes come back intact */
    n = ww_ledger_claim_due(r, "l:", 1000, 3000, 10, &items);
    assert_int_equal(n, 2);
    bool saw_b = false;
    for (long i = 0; i < n; i++)
        if (strcmp(items[i].member, "bbbb") == 0) {
            saw_b = true;
            assert_int_equal(items[i].len, 3);
            assert_memory_equal(items[i].bytes, "B\0b", 3);
        }
    assert_true(saw_b);
    ww_ledger_items_free(items, (size_t)n);
    /* claiming moved their deadline to 3000 */
    assert_int_equal(ww_ledger_claim_due(r, "l:", 2999, 4000, 10, &items), 0);
    ww_ledger_items_free(items, 0);

    /* ack one live event: gone from both keys; the replay stays */
    n = ww_ledger_append_ack(r, "l:", evs, 1);
    assert_int_equal(n, 2);
    drain(r, n);
    assert_int_equal(ww_ledger_count(r, "l:"), 2);
    n = ww_ledger_claim_due(r, "l:", 10000, 20000, 10, &items);
    assert_int_equal(n, 2);
    for (long i = 0; i < n; i++)
        assert_string_not_equal(items[i].member, "aaaa");
    ww_ledger_items_free(items, (size_t)n);
    /* an entry whose event data vanished is dropped, not returned */
    redisReply *rep = wwt_redis_cmd(&R, "HDEL l:inflight:ev bbbb");
    freeReplyObject(rep);
    n = ww_ledger_claim_due(r, "l:", 30000, 40000, 10, &items);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].member, "r:aaaa");
    ww_ledger_items_free(items, (size_t)n);
    assert_int_equal(ww_ledger_count(r, "l:"), 1);
    for (int i = 0; i < 3; i++)
        ww_event_destroy(&evs[i]);
    ww_redis_destroy(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_track_ack_claim)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
