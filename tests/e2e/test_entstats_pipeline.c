/* test_entstats_pipeline.c - entity statistics written by a real pipeline:
 * events pushed at the intake (two extract workers) land in the hourly
 * buckets <prefix>ent:<hour> with exactly the mention counts of the
 * entities the extractor finds in them, in the hour of their event time; the
 * keyword document frequencies <prefix>df and df:docs count exactly the
 * sampled events (ww_df_sampled). Each article is sent under COPIES URLs. */
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <zmq.h>

#include "wwtest.h"
#include "ww/alloc.h"
#include "ww/entstats.h"
#include "ww/event.h"
#include "ww/extract.h"

#define H 3600000LL
#define T0 (472222LL * H)

static const char *RULES = "rules:\n  - id: any\n    channel: t.any\n    match: 'the'\n";

/* Our own fixture articles. */
static const struct {
    const char *title, *body;
    int hour; /* event time: T0 + hour */
} ARTS[] = {
    {"Premier Li Qiang visits Berlin",
     "Chinese Premier Li Qiang arrived in Berlin on Monday for talks with Chancellor Olaf Scholz. "
     "Li said the visit would strengthen trade ties between China and Germany.", 0},
    {"Siemens wins rail order",
     "Siemens said on Tuesday it won a rail contract in Egypt worth $3 billion. "
     "The Munich-based company will build trains for Egyptian National Railways.", 0},
    {"Scholz meets Macron in Paris",
     "German Chancellor Olaf Scholz met French President Emmanuel Macron in Paris. "
     "Scholz and Macron discussed Ukraine, and Macron said Europe must act together.", 1},
    {"Floods hit Bavaria",
     "Heavy rain flooded towns across Bavaria, the German weather service said. "
     "Officials in Munich closed several roads.", 1},
};
#define NARTS (sizeof ARTS / sizeof ARTS[0])
#define COPIES 6

static void url_of(char *buf, size_t cap, size_t a, int copy)
{
    snprintf(buf, cap, "https://entstats.example/%zu/%d", a, copy);
}

/* Sum of a hash's values and its field count. */
static long long hsum(const wwt_redis_t *r, const char *key, long long *fields)
{
    redisReply *rep = wwt_redis_cmd(r, "HGETALL %s", key);
    long long s = 0;
    *fields = 0;
    for (size_t i = 1; rep && rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i += 2) {
        s += atoll(rep->element[i]->str);
        (*fields)++;
    }
    if (rep)
        freeReplyObject(rep);
    return s;
}

typedef struct {
    char field[256];
    int hour;
    long long mentions;
} want_t;

static void test_entity_buckets(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    /* what the pipeline must count: the same extractor, run here */
    char err[512];
    ww_extractor_t *x = ww_extractor_new(NULL, NULL, err, sizeof err);
    assert_non_null(x);
    ww_extract_scratch_t *s = ww_extract_scratch_new();
    want_t want[256];
    size_t nw = 0;
    long long total[2] = {0, 0}, sampled = 0, df_scholz = 0, df_macron = 0;
    for (size_t a = 0; a < NARTS; a++) {
        ww_event_t *ev = ww_event_new();
        ev->title = ww_strdup(ARTS[a].title);
        ev->body = ww_strdup(ARTS[a].body);
        ww_extract_event(x, s, ev);
        for (size_t i = 0; i < ev->n_entities; i++) {
            const ww_entity_t *en = &ev->entities[i];
            if (en->type > WW_ENT_MISC)
                continue;
            char f[256];
            snprintf(f, sizeof f, "%s:%s", ww_ent_type_name(en->type), en->canonical);
            size_t k = 0;
            while (k < nw && !(want[k].hour == ARTS[a].hour && strcmp(want[k].field, f) == 0))
                k++;
            if (k == nw) {
                assert_true(nw < 256);
                snprintf(want[nw].field, sizeof want[nw].field, "%s", f);
                want[nw].hour = ARTS[a].hour;
                want[nw].mentions = 0;
                nw++;
            }
            want[k].mentions += COPIES;
            total[ARTS[a].hour] += COPIES;
        }
        /* the sampled copies count this article's terms once each */
        const ww_term_t *t;
        size_t nt = ww_extract_doc_terms(s, &t);
        for (int c = 0; c < COPIES; c++) {
            ww_event_t *id = ww_event_new();
            char url[64];
            url_of(url, sizeof url, a, c);
            id->url = ww_strdup(url);
            ww_event_compute_id(id);
            if (ww_df_sampled(id->id)) {
                sampled++;
                for (size_t i = 0; i < nt; i++) {
                    df_scholz += strcmp(t[i].term, "scholz") == 0;
                    df_macron += strcmp(t[i].term, "macron") == 0;
                }
            }
            ww_event_destroy(&id);
        }
        ww_event_destroy(&ev);
    }
    ww_extract_scratch_destroy(&s);
    assert_true(sampled >= 1);
    ww_extractor_destroy(&x);
    assert_true(nw >= 8); /* the fixtures name people, places and firms */

    wwt_pipeline_t p;
    assert_int_equal(wwt_pipeline_start(&p, RULES, 2, 1), 0);
    void *zctx = zmq_ctx_new();
    void *push = zmq_socket(zctx, ZMQ_PUSH);
    assert_int_equal(zmq_connect(push, p.intake), 0);
    for (size_t a = 0; a < NARTS * COPIES; a++) {
        char url[64];
        url_of(url, sizeof url, a % NARTS, (int)(a / NARTS));
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I}", "source", "test", "url", url, "title",
                              ARTS[a % NARTS].title, "body", ARTS[a % NARTS].body, "published_at",
                              (json_int_t)(T0 + ARTS[a % NARTS].hour * H + 60000));
        char *txt = json_dumps(j, JSON_COMPACT);
        assert_true(zmq_send(push, txt, strlen(txt), 0) >= 0);
        free(txt);
        json_decref(j);
    }
    /* the workers flush every 2 s */
    char key[2][64];
    for (int h = 0; h < 2; h++)
        snprintf(key[h], sizeof key[h], "t:ent:%lld", 472222LL + h);
    long long fields = 0;
    for (long until = wwt_ms() + 20000; wwt_ms() < until; wwt_sleep_ms(100))
        if (hsum(&p.redis, key[0], &fields) == total[0] && hsum(&p.redis, key[1], &fields) == total[1])
            break;
    wwt_sleep_ms(700); /* nothing more arrives later */
    for (int h = 0; h < 2; h++) {
        long long nf = 0;
        assert_int_equal(hsum(&p.redis, key[h], &nf), total[h]);
        long long expect_fields = 0;
        for (size_t k = 0; k < nw; k++)
            expect_fields += want[k].hour == h;
        assert_int_equal(nf, expect_fields);
    }
    for (size_t k = 0; k < nw; k++) {
        assert_int_equal(wwt_redis_hget(&p.redis, key[want[k].hour], want[k].field), want[k].mentions);
    }
    /* named in the fixtures: Scholz in both hours */
    assert_true(wwt_redis_hget(&p.redis, key[0], "PER:Olaf Scholz") >= 1);
    assert_true(wwt_redis_hget(&p.redis, key[1], "PER:Olaf Scholz") >= 1);
    redisReply *rep = wwt_redis_cmd(&p.redis, "TTL %s", key[0]);
    assert_true(rep->integer > 0 && rep->integer <= WW_ENTSTATS_TTL_S);
    freeReplyObject(rep);
    /* keyword document frequencies: every event counted once */
    rep = wwt_redis_cmd(&p.redis, "GET t:df:docs");
    assert_non_null(rep);
    assert_int_equal(rep->type, REDIS_REPLY_STRING);
    assert_int_equal(atoll(rep->str), sampled);
    freeReplyObject(rep);
    assert_int_equal(wwt_redis_hget(&p.redis, "t:df", "scholz"), df_scholz);
    assert_int_equal(wwt_redis_hget(&p.redis, "t:df", "macron"), df_macron);
    int linger = 0;
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(push);
    zmq_ctx_term(zctx);
    assert_int_equal(wwt_pipeline_stop(&p), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_entity_buckets)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
