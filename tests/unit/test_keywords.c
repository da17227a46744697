/* test_keywords.c - TF-IDF keywords (common/extract.c, common/keywords.c):
 * term keys, table files, scoring against document frequencies built from
 * our own fixture texts, and document-frequency counting in a real Redis. */
#include <math.h>
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
#include "ww/event.h"
#include "ww/extract.h"
#include "ww/keywords.h"
#include "ww/redis.h"
#include "ww/text.h"

#define EXTRA WW_SOURCE_DATADIR "/gazetteer-extra.tsv"

/* Our own fixture corpus: every text talks about markets; one about steel. */
static const char *const CORPUS[] = {
    "Markets rose on Monday as investors weighed new trade figures from the ministry.",
    "Markets fell after the central bank kept interest rates unchanged, traders said.",
    "Grain markets were quiet. Wheat futures eased and corn futures held steady in thin trade.",
    "Markets in Asia opened higher while the currency markets waited for the jobs report.",
    "Steel tariffs lifted steel prices; steel tariffs also hurt car makers, markets said.",
};
#define NCORPUS (sizeof CORPUS / sizeof CORPUS[0])

typedef struct {
    ww_extractor_t *x;
    ww_extract_scratch_t *s;
} fix_t;

static int setup(void **state)
{
    char err[256] = "";
    fix_t *f = ww_calloc(1, sizeof *f);
    f->x = ww_extractor_new(EXTRA, "", err, sizeof err);
    if (!f->x) {
        fprintf(stderr, "extractor: %s\n", err);
        ww_free(f);
        return -1;
    }
    ww_extractor_set_df(f->x, NULL); /* no bundled table: every score comes from the fixtures */
    f->s = ww_extract_scratch_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fix_t *f = *state;
    ww_extract_scratch_destroy(&f->s);
    ww_extractor_destroy(&f->x);
    ww_free(f);
    return 0;
}

static ww_event_t *run(fix_t *f, const char *title, const char *body)
{
    ww_event_t *ev = ww_event_new();
    ev->title = title ? ww_strdup(title) : NULL;
    ev->body = body ? ww_strdup(body) : NULL;
    assert_int_equal(ww_extract_event(f->x, f->s, ev), 0);
    return ev;
}

static const ww_keyword_t *kw_find(const ww_event_t *ev, const char *term)
{
    for (size_t i = 0; i < ev->n_keywords; i++)
        if (strcmp(ev->keywords[i].term, term) == 0)
            return &ev->keywords[i];
    return NULL;
}

/* Document frequencies of the fixture corpus, counted from the extractor's own terms. */
static ww_df_t *corpus_df(fix_t *f)
{
    ww_df_t *df = ww_df_new();
    for (size_t d = 0; d < NCORPUS; d++) {
        ww_event_t *ev = run(f, NULL, CORPUS[d]);
        const ww_term_t *t;
        size_t n = ww_extract_doc_terms(f->s, &t);
        for (size_t i = 0; i < n; i++)
            ww_df_set(df, t[i].key, ww_df_get(df, t[i].key) + 1);
        ww_event_destroy(&ev);
    }
    ww_df_set_docs(df, NCORPUS);
    return df;
}

static void test_term_keys(void **state)
{
    (void)state;
    /* a word's key is its token hash, a phrase chains its words */
    ww_tokens_t tk;
    ww_tokens_init(&tk);
    ww_tokenize("Crude Oil prices", 16, &tk);
    assert_int_equal(tk.n, 3);
    assert_true(ww_df_term_key("crude", 5) == tk.toks[0].hash);
    uint64_t k2 = ww_df_phrase_key(tk.toks[0].hash, tk.toks[1].hash);
    assert_true(ww_df_term_key("crude oil", 9) == k2);
    assert_true(ww_df_term_key("crude oil prices", 16) == ww_df_phrase_key(k2, tk.toks[2].hash));
    assert_true(ww_df_term_key("oil crude", 9) != k2); /* order matters */
    ww_tokens_deinit(&tk);
}

static void test_doc_terms(void **state)
{
    fix_t *f = *state;
    ww_event_t *ev = run(f, "Steel tariffs", "Steel tariffs rose. The steel tariffs of 2024 hurt the makers of steel.");
    const ww_term_t *t;
    size_t n = ww_extract_doc_terms(f->s, &t);
    bool steel = false, phrase = false;
    for (size_t i = 0; i < n; i++) {
        assert_true(ww_df_term_key(t[i].term, strlen(t[i].term)) == t[i].key);
        for (size_t j = 0; j < i; j++)
            assert_true(t[j].key != t[i].key); /* distinct */
        assert_true(strcmp(t[i].term, "the") != 0 && strcmp(t[i].term, "of") != 0);
        assert_null(strpbrk(t[i].term, "0123456789"));
        steel |= strcmp(t[i].term, "steel") == 0;
        phrase |= strcmp(t[i].term, "steel tariffs") == 0;
        assert_true(strcmp(t[i].term, "tariffs rose") != 0); /* a phrase seen once is not counted */
    }
    assert_true(steel);
    assert_true(phrase);
    ww_event_destroy(&ev);
}

static void test_plain_tf(void **state)
{
    fix_t *f = *state;
    /* no table: scores follow (1 + ln tf) and the best is 1 */
    ww_event_t *ev = run(f, NULL, "Markets rose, markets fell, markets. Steel, steel. Copper.");
    assert_int_equal(ev->n_keywords, 5);
    assert_string_equal(ev->keywords[0].term, "markets");
    assert_string_equal(ev->keywords[1].term, "steel");
    assert_true(ev->keywords[0].score == 1.0);
    assert_true(fabs(ev->keywords[1].score - (1 + log(2.0)) / (1 + log(3.0))) < 1e-9);
    assert_true(fabs(kw_find(ev, "copper")->score - 1 / (1 + log(3.0))) < 1e-9);
    assert_true(fabs(kw_find(ev, "rose")->score - 1 / (1 + log(3.0))) < 1e-9);
    ww_event_destroy(&ev);
}

static void test_tfidf_scores(void **state)
{
    fix_t *f = *state;
    ww_df_t *df = corpus_df(f);
    assert_int_equal(ww_df_get(df, ww_df_term_key("markets", 7)), 5);
    assert_int_equal(ww_df_get(df, ww_df_term_key("steel", 5)), 1);
    assert_int_equal(ww_df_get(df, ww_df_term_key("steel tariffs", 13)), 1);
    assert_int_equal(ww_df_get(df, ww_df_term_key("futures", 7)), 1);
    const char *body = "Markets watched steel. Markets and steel: markets cheered copper.";
    /* plain TF first: markets (3) beats steel (2) */
    ww_event_t *tf = run(f, NULL, body);
    assert_string_equal(tf->keywords[0].term, "markets");
    /* with the corpus: markets is in every document, steel in one, copper in none */
    ww_extract_scratch_set_live_df(f->s, df);
    ww_event_t *ev = run(f, NULL, body);
    double idf_m = log(6.0 / 6.0) + 1, idf_s = log(6.0 / 2.0) + 1, idf_c = log(6.0 / 1.0) + 1;
    double sm = (1 + log(3.0)) * idf_m, ss = (1 + log(2.0)) * idf_s, sc = idf_c;
    double best = fmax(sm, fmax(ss, sc));
    const ww_keyword_t *m = kw_find(ev, "markets"), *s = kw_find(ev, "steel"), *c = kw_find(ev, "copper");
    assert_non_null(m);
    assert_non_null(s);
    assert_non_null(c);
    assert_true(fabs(m->score - sm / best) < 1e-9);
    assert_true(fabs(s->score - ss / best) < 1e-9);
    assert_true(fabs(c->score - sc / best) < 1e-9);
    assert_true(s->score > m->score); /* the rare term overtakes the frequent common one */
    assert_true(ev->keywords[0].score == 1.0);
    for (size_t i = 1; i < ev->n_keywords; i++)
        assert_true(ev->keywords[i - 1].score >= ev->keywords[i].score);
    /* the same counts as the built-in table (the extractor's own) give the same scores */
    ww_extract_scratch_set_live_df(f->s, NULL);
    ww_df_t *copy = corpus_df(f);
    ww_extractor_set_df(f->x, copy);
    ww_event_t *ev2 = run(f, NULL, body);
    assert_int_equal(ev2->n_keywords, ev->n_keywords);
    for (size_t i = 0; i < ev->n_keywords; i++) {
        assert_string_equal(ev2->keywords[i].term, ev->keywords[i].term);
        assert_true(fabs(ev2->keywords[i].score - ev->keywords[i].score) < 1e-12);
    }
    /* layered: built-in + live counts add up (N = 10, df(markets) = 10, df(steel) = 2) */
    ww_extract_scratch_set_live_df(f->s, df);
    ww_event_t *ev3 = run(f, NULL, body);
    double sm3 = (1 + log(3.0)) * (log(11.0 / 11.0) + 1), ss3 = (1 + log(2.0)) * (log(11.0 / 3.0) + 1);
    double sc3 = log(11.0) + 1, best3 = fmax(sm3, fmax(ss3, sc3));
    assert_true(fabs(kw_find(ev3, "steel")->score - ss3 / best3) < 1e-9);
    assert_true(fabs(kw_find(ev3, "markets")->score - sm3 / best3) < 1e-9);
    ww_extract_scratch_set_live_df(f->s, NULL);
    ww_extractor_set_df(f->x, NULL);
    ww_event_destroy(&ev3);
    ww_event_destroy(&ev2);
    ww_event_destroy(&ev);
    ww_event_destroy(&tf);
    ww_df_destroy(&df);
}

static void test_phrases(void **state)
{
    fix_t *f = *state;
    const char *body = "Steel tariffs rose again. Steel tariffs worry car makers. Car makers fear steel "
                       "tariffs. European car makers met.";
    ww_event_t *ev = run(f, "Steel tariffs", body);
    const ww_keyword_t *p2 = kw_find(ev, "steel tariffs"), *p3 = kw_find(ev, "car makers"),
                       *p4 = kw_find(ev, "european car makers");
    assert_non_null(p2);
    assert_non_null(p3);
    assert_null(p4); /* a three-word phrase seen once is no keyword */
    assert_null(kw_find(ev, "tariffs rose"));
    size_t phrases = 0, words = 0;
    for (size_t i = 0; i < ev->n_keywords; i++)
        *(strchr(ev->keywords[i].term, ' ') ? &phrases : &words) += 1;
    assert_true(phrases <= 5 && words <= 10);
    ww_event_destroy(&ev);
    /* three-word phrases */
    ev = run(f, NULL, "The World Trade Organization met. The World Trade Organization ruled.");
    assert_non_null(kw_find(ev, "world trade organization"));
    ww_event_destroy(&ev);
}

static void test_table_file(void **state)
{
    fix_t *f = *state;
    char *dir = wwt_tmpdir("kw");
    char *good = wwt_write_file(dir, "idf.tsv", "#docs\t100\nsteel\t50\nsteel tariffs\t2\ncopper\t1\n");
    char err[256] = "";
    ww_df_t *df = ww_df_load(good, err, sizeof err);
    assert_non_null(df);
    assert_int_equal(ww_df_docs(df), 100);
    assert_int_equal(ww_df_size(df), 3);
    assert_int_equal(ww_df_get(df, ww_df_term_key("steel", 5)), 50);
    assert_int_equal(ww_df_get(df, ww_df_term_key("steel tariffs", 13)), 2);
    assert_int_equal(ww_df_get(df, ww_df_term_key("tariffs", 7)), 0);
    assert_true(fabs(ww_df_idf(df, NULL, ww_df_term_key("steel", 5)) - (log(101.0 / 51.0) + 1)) < 1e-12);
    assert_true(fabs(ww_df_idf(NULL, NULL, 42) - 1.0) < 1e-12);
    /* the file's phrase counts reach the extractor's phrases */
    ww_extractor_set_df(f->x, df);
    ww_event_t *ev = run(f, NULL, "Steel tariffs. Steel tariffs. Steel tariffs. Steel. Copper.");
    const ww_keyword_t *p = kw_find(ev, "steel tariffs"), *s = kw_find(ev, "steel");
    assert_non_null(p);
    assert_non_null(s);
    double sp = (1 + log(3.0)) * (log(101.0 / 3.0) + 1), ss = (1 + log(4.0)) * (log(101.0 / 51.0) + 1);
    assert_true(fabs(s->score / p->score - ss / sp) < 1e-9);
    ww_extractor_set_df(f->x, NULL);
    ww_event_destroy(&ev);
    const char *bad[] = {"steel\t5\n", "#docs\t10\nsteel\n", "#docs\t10\nsteel\tx\n", ""};
    for (size_t i = 0; i < 4; i++) {
        char *p2 = wwt_write_file(dir, "bad.tsv", bad[i]);
        err[0] = '\0';
        assert_null(ww_df_load(p2, err, sizeof err));
        assert_true(err[0] != '\0');
        ww_free(p2);
    }
    assert_null(ww_df_load("/nonexistent/idf.tsv", err, sizeof err));
    ww_free(good);
    wwt_rmdir(dir);
    ww_free(dir);
}

static long long hget(const wwt_redis_t *r, const char *key, const char *field)
{
    redisReply *rep = wwt_redis_cmd(r, "HGET %s %s", key, field);
    long long v = rep && rep->type == REDIS_REPLY_STRING ? atoll(rep->str) : -1;
    if (rep)
        freeReplyObject(rep);
    return v;
}

static long long get_int(const wwt_redis_t *r, const char *key)
{
    redisReply *rep = wwt_redis_cmd(r, "GET %s", key);
    long long v = rep && rep->type == REDIS_REPLY_STRING ? atoll(rep->str) : -1;
    if (rep)
        freeReplyObject(rep);
    return v;
}

static void test_df_redis(void **state)
{
    fix_t *f = *state;
    wwt_redis_t R;
    assert_int_equal(wwt_redis_start(&R), 0);
    char err[256];
    ww_redis_t *r1 = ww_redis_new(R.url, err, sizeof err), *r2 = ww_redis_new(R.url, err, sizeof err);
    assert_non_null(r1);
    assert_non_null(r2);
    assert_int_equal(ww_redis_connect(r1), 0);
    assert_int_equal(ww_redis_connect(r2), 0);
    ww_df_sync_t *w1 = ww_df_sync_new("k:"), *w2 = ww_df_sync_new("k:");
    /* worker 1 counts the fixture corpus, worker 2 the steel text twice */
    for (size_t d = 0; d < NCORPUS; d++) {
        ww_event_t *ev = run(f, NULL, CORPUS[d]);
        const ww_term_t *t;
        size_t n = ww_extract_doc_terms(f->s, &t);
        ww_df_sync_add_doc(w1, t, n);
        ww_event_destroy(&ev);
    }
    assert_int_equal(ww_df_sync_pending(w1), NCORPUS);
    assert_int_equal(get_int(&R, "k:df:docs"), -1); /* nothing sent before the flush */
    assert_int_equal(ww_df_sync_flush(w1, r1), 0);
    assert_int_equal(ww_df_sync_pending(w1), 0);
    assert_int_equal(get_int(&R, "k:df:docs"), NCORPUS);
    assert_int_equal(hget(&R, "k:df", "markets"), 5);
    assert_int_equal(hget(&R, "k:df", "steel"), 1);
    assert_int_equal(hget(&R, "k:df", "steel tariffs"), 1);
    assert_int_equal(hget(&R, "k:df", "the"), -1);
    const ww_df_t *live1 = ww_df_sync_live(w1);
    assert_int_equal(ww_df_docs(live1), NCORPUS);
    assert_int_equal(ww_df_get(live1, ww_df_term_key("markets", 7)), 5);
    for (int k = 0; k < 2; k++) {
        ww_event_t *ev = run(f, NULL, CORPUS[NCORPUS - 1]);
        const ww_term_t *t;
        size_t n = ww_extract_doc_terms(f->s, &t);
        ww_df_sync_add_doc(w2, t, n);
        ww_event_destroy(&ev);
    }
    assert_int_equal(ww_df_sync_flush(w2, r2), 0);
    assert_int_equal(hget(&R, "k:df", "steel"), 3);
    assert_int_equal(hget(&R, "k:df", "markets"), 7);
    assert_int_equal(get_int(&R, "k:df:docs"), NCORPUS + 2);
    /* worker 2 sees both workers' totals for its terms */
    assert_int_equal(ww_df_get(ww_df_sync_live(w2), ww_df_term_key("steel", 5)), 3);
    assert_int_equal(ww_df_docs(ww_df_sync_live(w2)), NCORPUS + 2);
    /* worker 1 is refreshed at its next flush for the terms it sends */
    assert_int_equal(ww_df_get(live1, ww_df_term_key("steel", 5)), 1);
    ww_event_t *ev = run(f, NULL, "Steel output rose.");
    const ww_term_t *t;
    size_t n = ww_extract_doc_terms(f->s, &t);
    ww_df_sync_add_doc(w1, t, n);
    ww_event_destroy(&ev);
    assert_int_equal(ww_df_sync_flush(w1, r1), 0);
    assert_int_equal(ww_df_get(live1, ww_df_term_key("steel", 5)), 4);
    assert_int_equal(ww_df_docs(live1), NCORPUS + 3);
    /* the live table changes scores: the worker's scratch reads it */
    ww_extract_scratch_set_live_df(f->s, live1);
    ev = run(f, NULL, "Markets watched steel. Markets and steel: markets cheered copper.");
    assert_true(kw_find(ev, "copper")->score == 1.0); /* unseen in Redis: the rarest */
    /* N = 8; markets 5 (as of worker 1's first flush: it was not sent since), steel 4 */
    double sm = (1 + log(3.0)) * (log(9.0 / 6.0) + 1), ss = (1 + log(2.0)) * (log(9.0 / 5.0) + 1);
    double sc = log(9.0) + 1;
    assert_true(fabs(kw_find(ev, "markets")->score - sm / sc) < 1e-9);
    assert_true(fabs(kw_find(ev, "steel")->score - ss / sc) < 1e-9);
    ww_extract_scratch_set_live_df(f->s, NULL);
    ww_event_destroy(&ev);
    /* Redis unreachable: the flush fails, the counts are kept and sent by the next one */
    ev = run(f, NULL, "Copper output rose.");
    n = ww_extract_doc_terms(f->s, &t);
    ww_df_sync_add_doc(w1, t, n);
    ww_event_destroy(&ev);
    ww_redis_t *down = ww_redis_new("unix:///nonexistent/redis.sock", err, sizeof err);
    assert_non_null(down);
    assert_int_equal(ww_redis_connect(down), -1);
    assert_int_equal(ww_df_sync_flush(w1, down), -1);
    assert_int_equal(ww_df_sync_pending(w1), 1);
    ww_redis_destroy(&down);
    assert_int_equal(hget(&R, "k:df", "copper"), -1);
    assert_int_equal(ww_df_sync_flush(w1, r1), 0);
    assert_int_equal(hget(&R, "k:df", "copper"), 1);
    assert_int_equal(ww_df_sync_pending(w1), 0);
    ww_df_sync_destroy(&w1);
    ww_df_sync_destroy(&w2);
    ww_redis_destroy(&r1);
    ww_redis_destroy(&r2);
    wwt_redis_stop(&R);
}

/* Many fields in one flush: chunked commands, every count right. */
static void test_df_redis_many(void **state)
{
    (void)state;
    wwt_redis_t R;
    assert_int_equal(wwt_redis_start(&R), 0);
    char err[256];
    ww_redis_t *r = ww_redis_new(R.url, err, sizeof err);
    ww_df_sync_t *w = ww_df_sync_new("m:");
    enum { NT = 3000 };
    static char names[NT][16];
    static ww_term_t terms[NT];
    for (int i = 0; i < NT; i++) {
        snprintf(names[i], sizeof names[i], "term%d", i);
        terms[i] = (ww_term_t){names[i], ww_df_term_key(names[i], strlen(names[i]))};
    }
    for (int d = 1; d <= 3; d++) /* document d holds terms 0 .. NT/d */
        ww_df_sync_add_doc(w, terms, (size_t)(NT / d));
    assert_int_equal(ww_redis_connect(r), 0);
    assert_int_equal(ww_df_sync_flush(w, r), 0);
    assert_int_equal(hget(&R, "m:df", "term0"), 3);
    assert_int_equal(hget(&R, "m:df", "term1499"), 2);
    assert_int_equal(hget(&R, "m:df", "term1500"), 1);
    assert_int_equal(hget(&R, "m:df", "term2999"), 1);
    redisReply *rep = wwt_redis_cmd(&R, "HLEN m:df");
    assert_int_equal(rep->integer, NT);
    freeReplyObject(rep);
    assert_int_equal(ww_df_get(ww_df_sync_live(w), terms[1000].key), 2);
    ww_df_sync_destroy(&w);
    ww_redis_destroy(&r);
    wwt_redis_stop(&R);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* a stopped Redis must fail the flush, not kill us */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_term_keys),   cmocka_unit_test(test_doc_terms),
        cmocka_unit_test(test_plain_tf),    cmocka_unit_test(test_tfidf_scores),
        cmocka_unit_test(test_phrases),     cmocka_unit_test(test_table_file),
        cmocka_unit_test(test_df_redis),    cmocka_unit_test(test_df_redis_many),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
