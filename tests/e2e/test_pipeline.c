/* test_pipeline.c - end to end: a real redis-server, the three real daemons
 * (two extract and two alert workers), and a client that speaks only SPEC §4
 * (raw ZeroMQ + msgpack-c, no wirewatch code) on both ends. Asserts the exact
 * set of alerts, once each, then hot-swaps the rules with `wirewatch rules
 * load` and asserts the new set is in force. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <hiredis/hiredis.h>
#include <msgpack.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <zmq.h>

#include "wwtest.h"
#include "ww/alloc.h"

typedef struct {
    wwt_pipeline_t p;
    void *zctx, *push, *sub;
} env_t;

static const char *RULES =
    "rules:\n"
    "  - id: tariffs\n"
    "    channel: trade.tariffs\n"
    "    severity: high\n"
    "    match: 'tariff*'\n"
    "  - id: rates\n"
    "    channel: markets.rates\n"
    "    match: '\"interest rates\" AND NOT title:opinion'\n"
    "  - id: china\n"
    "    channel: geo.china\n"
    "    match: 'entity:LOC:\"China\"'\n"
    "  - id: storms\n"
    "    channel: weather.storms\n"
    "    severity: medium\n"
    "    match: 'title:storm*'\n"
    "  - id: port-strike\n"
    "    channel: labour.ports\n"
    "    match: 'port NEAR/3 strike'\n"
    "  - id: wire2-elections\n"
    "    channel: politics.elections\n"
    "    match: 'source:wire2 AND (election OR elections OR ballot)'\n";

static const char *RULES2 =
    "rules:\n"
    "  - id: quakes\n"
    "    channel: disasters.quakes\n"
    "    severity: critical\n"
    "    match: 'quake* OR earthquake*'\n";

static int setup(void **state)
{
    env_t *e = ww_calloc(1, sizeof *e);
    assert_int_equal(wwt_pipeline_start(&e->p, RULES, 2, 2), 0);
    e->zctx = zmq_ctx_new();
    e->push = zmq_socket(e->zctx, ZMQ_PUSH);
    e->sub = zmq_socket(e->zctx, ZMQ_SUB);
    zmq_setsockopt(e->sub, ZMQ_SUBSCRIBE, "", 0);
    assert_int_equal(zmq_connect(e->sub, e->p.publish), 0);
    assert_int_equal(zmq_connect(e->push, e->p.intake), 0);
    wwt_sleep_ms(400); /* subscription reaches the alert workers */
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env_t *e = *state;
    int linger = 0;
    zmq_setsockopt(e->push, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(e->push);
    zmq_close(e->sub);
    zmq_ctx_term(e->zctx);
    /* every daemon drains and exits 0 on SIGTERM */
    assert_int_equal(wwt_pipeline_stop(&e->p), 0);
    ww_free(e);
    return 0;
}

/* ---- a SPEC-only producer: msgpack-c maps and plain JSON text -------------- */

static void pack_s(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

static void push_msgpack(env_t *e, const char *source, const char *url, const char *title, const char *body)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, url ? 6 : 5);
    pack_s(&pk, "v");
    msgpack_pack_int(&pk, 1);
    pack_s(&pk, "source");
    pack_s(&pk, source);
    if (url) {
        pack_s(&pk, "url");
        pack_s(&pk, url);
    }
    pack_s(&pk, "title");
    pack_s(&pk, title);
    pack_s(&pk, "body");
    pack_s(&pk, body);
    pack_s(&pk, "published_at");
    msgpack_pack_int64(&pk, 1772438400000LL);
    assert_true(zmq_send(e->push, sb.data, sb.size, 0) >= 0);
    msgpack_sbuffer_destroy(&sb);
}

static void push_raw(env_t *e, const char *bytes, size_t len)
{
    assert_true(zmq_send(e->push, bytes, len, 0) >= 0);
}

/* ---- a SPEC-only subscriber -------------------------------------------------- */

typedef struct {
    char channel[64], id[40], rule[64], title[256];
} got_t;

static void copy_str(const msgpack_object *o, char *dst, size_t cap)
{
    if (o->type == MSGPACK_OBJECT_STR)
        snprintf(dst, cap, "%.*s", (int)o->via.str.size, o->via.str.ptr);
}

static bool key_is(const msgpack_object *k, const char *s)
{
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(s) &&
           memcmp(k->via.str.ptr, s, k->via.str.size) == 0;
}

/* Collects alerts until `want` arrived and then `quiet_ms` passed without
 * more, or timeout_ms. Returns the number collected. */
static size_t collect(env_t *e, got_t *got, size_t cap, size_t want, long quiet_ms, long timeout_ms)
{
    size_t n = 0;
    long until = wwt_ms() + timeout_ms, quiet_until = 0;
    while (wwt_ms() < until && (n < want || wwt_ms() < quiet_until)) {
        zmq_pollitem_t it[] = {{e->sub, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(it, 1, 50) <= 0)
            continue;
        zmq_msg_t ch, body;
        zmq_msg_init(&ch);
        zmq_msg_init(&body);
        assert_true(zmq_msg_recv(&ch, e->sub, 0) >= 0);
        assert_true(zmq_msg_more(&ch)); /* two frames */
        assert_true(zmq_msg_recv(&body, e->sub, 0) >= 0);
        assert_false(zmq_msg_more(&body));
        assert_true(n < cap);
        got_t *g = &got[n++];
        memset(g, 0, sizeof *g);
        snprintf(g->channel, sizeof g->channel, "%.*s", (int)zmq_msg_size(&ch), (char *)zmq_msg_data(&ch));
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        assert_int_equal(msgpack_unpack_next(&up, zmq_msg_data(&body), zmq_msg_size(&body), NULL),
                         MSGPACK_UNPACK_SUCCESS);
        assert_int_equal(up.data.type, MSGPACK_OBJECT_MAP);
        char chan2[64] = "";
        bool has_v = false, has_fired = false, has_matches = false;
        for (uint32_t i = 0; i < up.data.via.map.size; i++) {
            const msgpack_object *k = &up.data.via.map.ptr[i].key, *v = &up.data.via.map.ptr[i].val;
            if (key_is(k, "id"))
                copy_str(v, g->id, sizeof g->id);
            else if (key_is(k, "rule"))
                copy_str(v, g->rule, sizeof g->rule);
            else if (key_is(k, "channel"))
                copy_str(v, chan2, sizeof chan2);
            else if (key_is(k, "v"))
                has_v = v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 == 1;
            else if (key_is(k, "fired_at"))
                has_fired = v->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
            else if (key_is(k, "matches"))
                has_matches = v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size > 0;
            else if (key_is(k, "event") && v->type == MSGPACK_OBJECT_MAP)
                for (uint32_t j = 0; j < v->via.map.size; j++)
                    if (key_is(&v->via.map.ptr[j].key, "title"))
                        copy_str(&v->via.map.ptr[j].val, g->title, sizeof g->title);
        }
        assert_true(has_v);
        assert_true(has_fired);
        assert_true(has_matches);
        assert_string_equal(chan2, g->channel);
        assert_int_equal(strlen(g->id), 32);
        msgpack_unpacked_destroy(&up);
        zmq_msg_close(&ch);
        zmq_msg_close(&body);
        if (n >= want && !quiet_until)
            quiet_until = wwt_ms() + quiet_ms;
    }
    return n;
}

static bool has(const got_t *got, size_t n, const char *rule, const char *title)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(got[i].rule, rule) == 0 && strcmp(got[i].title, title) == 0)
            return true;
    return false;
}

static void test_pipeline_end_to_end(void **state)
{
    env_t *e = *state;
    /* 1 tariffs + china; 2 nothing (opinion); 3 rates; 4 storms; 5 nothing
     * (storm only in body); 6 port-strike; 7 nothing (too far apart); 8 wire2
     * election; 9 nothing (wrong source); then duplicates and hostile input */
    push_msgpack(e, "wire1", "https://news.example.org/a/1", "Tariffs rise on steel imports",
                 "Officials in China said the new tariffs would take effect next month.");
    const char *j2 = "{\"source\":\"wire1\",\"title\":\"Opinion: interest rates are too high\","
                     "\"body\":\"Many argue that interest rates should fall.\"}";
    push_raw(e, j2, strlen(j2));
    push_msgpack(e, "wire1", "https://news.example.org/a/3", "Central bank holds steady",
                 "The bank left interest rates unchanged on Thursday.");
    push_msgpack(e, "wire1", "https://news.example.org/a/4", "Storms batter the northern coast",
                 "Heavy rain closed roads.");
    push_msgpack(e, "wire1", "https://news.example.org/a/5", "Weather update",
                 "A storm warning remains in place.");
    push_msgpack(e, "wire1", "https://news.example.org/a/6", "Dock workers walk out",
                 "The port workers went on strike at dawn.");
    push_msgpack(e, "wire1", "https://news.example.org/a/7", "Harbour news",
                 "The port authority said that after many long weeks of talks a strike was avoided.");
    push_msgpack(e, "wire2", "https://news.example.org/a/8", "Vote count begins",
                 "Officials prepared for the elections next week.");
    push_msgpack(e, "wire1", "https://news.example.org/a/9", "Vote count continues",
                 "Officials prepared for the elections next week.");
    /* duplicates: same URL, and the same URL with a tracking parameter */
    push_msgpack(e, "wire3", "https://news.example.org/a/1", "Tariffs rise on steel imports",
                 "Officials in China said the new tariffs would take effect next month.");
    push_msgpack(e, "wire3", "https://NEWS.example.org/a/3?utm_source=feed#top", "Central bank holds steady",
                 "The bank left interest rates unchanged on Thursday.");
    /* hostile: garbage, truncated msgpack, a JSON array, JSON without title/body */
    push_raw(e, "\xc1\xc1\xc1garbage", 10);
    push_raw(e, "\x85\xa1v\x01\xa5title", 10);
    push_raw(e, "[1,2,3]", 7);
    push_raw(e, "{\"source\":\"x\"}", 14);
    push_raw(e, "{\"title\": \"unterminated", 23);
    /* deep nesting (1,000 levels) and an array claiming 2^31 elements */
    char deep[2200];
    size_t dl = (size_t)snprintf(deep, sizeof deep, "{\"title\":\"deep\",\"x\":");
    for (int i = 0; i < 1000; i++)
        deep[dl++] = '[';
    for (int i = 0; i < 1000; i++)
        deep[dl++] = ']';
    deep[dl++] = '}';
    push_raw(e, deep, dl);
    push_raw(e, "\x82\xa5title\xa1x\xa8" "entities\xdd\x7f\xff\xff\xff", 23);
    /* a wrong type in one field: that field is dropped, the event goes on */
    const char *wrong = "{\"title\":42,\"body\":\"Nothing to see here.\",\"url\":\"https://news.example.org/a/13\"}";
    push_raw(e, wrong, strlen(wrong));
    /* invalid UTF-8 in a good event: repaired, still alerts */
    const char *bad_utf8 = "{\"source\":\"wire1\",\"url\":\"https://news.example.org/a/12\","
                           "\"title\":\"Tariff talks \xff\xfe resume\",\"body\":\"More to come.\"}";
    push_raw(e, bad_utf8, strlen(bad_utf8));

    got_t got[64];
    size_t n = collect(e, got, 64, 7, 1500, 20000);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "  got %-18s %s\n", got[i].rule, got[i].title);
    assert_int_equal(n, 7);
    assert_true(has(got, n, "tariffs", "Tariffs rise on steel imports"));
    assert_true(has(got, n, "china", "Tariffs rise on steel imports"));
    assert_true(has(got, n, "rates", "Central bank holds steady"));
    assert_true(has(got, n, "storms", "Storms batter the northern coast"));
    assert_true(has(got, n, "port-strike", "Dock workers walk out"));
    assert_true(has(got, n, "wire2-elections", "Vote count begins"));
    assert_true(has(got, n, "tariffs", "Tariff talks \xef\xbf\xbd\xef\xbf\xbd resume"));
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++)
            assert_string_not_equal(got[i].id, got[j].id);
        if (strcmp(got[i].rule, "tariffs") == 0)
            assert_string_equal(got[i].channel, "trade.tariffs");
    }
    /* the same alerts are in the history stream, once each */
    redisReply *r = wwt_redis_cmd(&e->p.redis, "XLEN t:alerts");
    assert_int_equal(r->integer, 7);
    freeReplyObject(r);
    /* counters: duplicates and every bad kind were counted, nothing else lost */
    r = wwt_redis_cmd(&e->p.redis, "HGETALL t:stats:ingest");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    long long accepted = -1, dup = -1, bad = 0, repaired = 0;
    const char *fatal_kinds[] = {"bad:msgpack", "bad:json", "bad:not_map", "bad:empty", "bad:limit"};
    bool kinds_seen[5] = {false};
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const char *k = r->element[i]->str;
        long long v = atoll(r->element[i + 1]->str);
        fprintf(stderr, "  stats %s = %lld\n", k, v);
        if (strcmp(k, "accepted") == 0)
            accepted = v;
        else if (strcmp(k, "duplicate") == 0)
            dup = v;
        else if (strcmp(k, "bad:utf8") == 0 || strcmp(k, "bad:type") == 0)
            repaired += v;
        else if (strncmp(k, "bad:", 4) == 0)
            bad += v;
        for (int j = 0; j < 5; j++)
            kinds_seen[j] |= strcmp(k, fatal_kinds[j]) == 0;
    }
    freeReplyObject(r);
    assert_int_equal(accepted, 11); /* 9 + the repaired UTF-8 one + the wrong-type one */
    assert_int_equal(dup, 2);
    assert_int_equal(bad, 7);
    assert_int_equal(repaired, 2);
    for (int j = 0; j < 5; j++)
        if (!kinds_seen[j])
            fail_msg("bad kind %s not counted", fatal_kinds[j]);

    /* hot swap: load new rules; the old ones stop, the new one fires */
    char *out = NULL;
    char *rules2 = wwt_write_file(e->p.dir, "rules2.yaml", RULES2);
    const char *args2[] = {"rules", "load", rules2, "-c", e->p.config, NULL};
    assert_int_equal(wwt_run("wirewatch", args2, NULL, &out, false), 0);
    assert_non_null(strstr(out, "loaded 1 rules"));
    ww_free(out);
    ww_free(rules2);
    wwt_sleep_ms(1500); /* workers poll the version every second */
    push_msgpack(e, "wire1", "https://news.example.org/b/1", "Earthquake shakes the valley",
                 "New tariffs were announced the same day.");
    n = collect(e, got, 64, 1, 1500, 10000);
    assert_int_equal(n, 1);
    assert_string_equal(got[0].rule, "quakes");
    assert_string_equal(got[0].channel, "disasters.quakes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pipeline_end_to_end, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
