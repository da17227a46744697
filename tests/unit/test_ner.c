/* test_ner.c - the trained labeller (common/ner.c, common/ner_train.c): the
 * CoNLL-style tokenizer and sentence splitter, BILOU spans, model file
 * checks, a tiny model trained here that must learn, `ner --conll` output,
 * and the extractor with the bundled model (skipped when it is absent).
 * All fixture text is our own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ww/alloc.h"
#include "ww/event.h"
#include "ww/extract.h"
#include "ww/ner.h"
#include "ww/paths.h"
#include "wwtest.h"

/* Tokens of text as NUL-separated strings joined by '|'. */
static char *tok_string(const char *text, uint32_t **flags_out, size_t *n_out)
{
    ww_ner_tok_t *t = NULL;
    size_t cap = 0;
    size_t n = ww_ner_tokenize(text, strlen(text), &t, &cap);
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += t[i].len + 1;
    char *s = ww_calloc(1, len);
    uint32_t *fl = ww_calloc(n + 1, sizeof *fl);
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(s, "|");
        strncat(s, text + t[i].start, t[i].len);
        fl[i] = t[i].flags;
    }
    ww_free(t);
    if (flags_out)
        *flags_out = fl;
    else
        ww_free(fl);
    if (n_out)
        *n_out = n;
    return s;
}

static void test_tokenizer(void **state)
{
    (void)state;
    char *s = tok_string("U.S. officials said Mr. Smith's firm didn't pay $5 (about 3%), \"ever.\"", NULL, NULL);
    assert_string_equal(s, "U.S.|officials|said|Mr.|Smith|'s|firm|did|n't|pay|$|5|(|about|3|%|)|,|\"|ever|.|\"");
    ww_free(s);
    /* hyphens, slashes and numbers stay whole; initials keep their period */
    s = tok_string("J. R. Smith-Jones paid 1,250.50 on 1996-08-22 in Winston-Salem/N.C.", NULL, NULL);
    assert_string_equal(s, "J.|R.|Smith-Jones|paid|1,250.50|on|1996-08-22|in|Winston-Salem/N.C.");
    ww_free(s);
    /* curly quotes and non-breaking spaces */
    s = tok_string("\xE2\x80\x9CYes,\xE2\x80\x9D said\xC2\xA0Zo\xC3\xAB.", NULL, NULL);
    assert_string_equal(s, "\xE2\x80\x9C|Yes|,|\xE2\x80\x9D|said|Zo\xC3\xAB|.");
    ww_free(s);
    s = tok_string("   ", NULL, NULL);
    assert_string_equal(s, "");
    ww_free(s);
}

static void test_sentences(void **state)
{
    (void)state;
    uint32_t *fl;
    size_t n;
    /* He|left|.|Dr.|Jones|met|J.|Smith|.|"|Fine|,|"|he|said|.|Next|para */
    char *s = tok_string("He left. Dr. Jones met J. Smith. \"Fine,\" he said.\n\nnext para", &fl, &n);
    assert_int_equal(n, 18);
    uint32_t want = (1u << 0) | (1u << 3) | (1u << 9) | (1u << 16);
    for (size_t i = 0; i < n; i++)
        assert_int_equal((fl[i] & WW_NER_TOK_SENT) != 0, (want >> i) & 1u);
    ww_free(s);
    ww_free(fl);
    /* an indented wire paragraph starts a sentence, a plain line break does not */
    s = tok_string("TOKYO, March 3 - Shares rose\non hopes.\n    Bonds fell", &fl, &n);
    assert_int_equal(n, 12); /* TOKYO|,|March|3|-|Shares|rose|on|hopes|.|Bonds|fell */
    assert_true(fl[0] & WW_NER_TOK_SENT);
    assert_false(fl[7] & WW_NER_TOK_SENT); /* on */
    assert_true(fl[10] & WW_NER_TOK_SENT); /* Bonds */
    ww_free(s);
    ww_free(fl);
}

static void test_tokenizer_hostile(void **state)
{
    (void)state;
    uint64_t x = 88172645463325252ULL;
    ww_ner_tok_t *t = NULL;
    size_t cap = 0;
    char buf[300];
    for (int round = 0; round < 3000; round++) {
        size_t len = (size_t)(round % 290);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            static const char pool[] = "aZ. ,'\"$%(\n\t-\xE2\x80\x9C\x9D\xC2\xA0\xC3\xA9\xFF";
            buf[i] = (x >> 40) % 3 ? pool[(x >> 20) % (sizeof pool - 1)] : (char)(x >> 8);
        }
        size_t n = ww_ner_tokenize(buf, len, &t, &cap);
        size_t prev_end = 0;
        for (size_t i = 0; i < n; i++) {
            assert_true(t[i].len > 0);
            assert_true(t[i].start >= prev_end);
            assert_true((size_t)t[i].start + t[i].len <= len);
            prev_end = t[i].start + t[i].len;
        }
    }
    ww_free(t);
}

static void test_spans(void **state)
{
    (void)state;
    enum { O = WW_NER_O };
    uint8_t lab[] = {O,
                     (uint8_t)ww_ner_label_make(0, WW_NER_B),
                     (uint8_t)ww_ner_label_make(0, WW_NER_I),
                     (uint8_t)ww_ner_label_make(0, WW_NER_L),
                     (uint8_t)ww_ner_label_make(2, WW_NER_U),
                     O,
                     (uint8_t)ww_ner_label_make(1, WW_NER_B),
                     (uint8_t)ww_ner_label_make(1, WW_NER_L)};
    ww_ner_ent_t *e = NULL;
    size_t cap = 0;
    size_t n = ww_ner_spans(lab, sizeof lab, &e, &cap);
    assert_int_equal(n, 3);
    assert_int_equal(e[0].ta, 1);
    assert_int_equal(e[0].tb, 4);
    assert_int_equal(e[0].type, 0);
    assert_int_equal(e[1].ta, 4);
    assert_int_equal(e[1].tb, 5);
    assert_int_equal(e[1].type, 2);
    assert_int_equal(e[2].ta, 6);
    assert_int_equal(e[2].tb, 8);
    assert_int_equal(e[2].type, 1);
    ww_free(e);
    assert_int_equal(ww_ner_label_type(ww_ner_label_make(3, WW_NER_L)), 3);
    assert_int_equal(ww_ner_label_pos(ww_ner_label_make(3, WW_NER_L)), WW_NER_L);
    assert_int_equal(ww_ner_label_type(WW_NER_O), -1);
}

/* ---- a tiny model trained here ---------------------------------------------------- */

static const char *const first_a[] = {"Arlo", "Bexa", "Corin", "Dalma", "Evrin", "Fenna", "Gorim", "Hessa"};
static const char *const last_a[] = {"Talven", "Morsk", "Quillan", "Brandt", "Ostrow", "Velling", "Harrim"};
static const char *const city_a[] = {"Quenton", "Dravik", "Morlow", "Estavin", "Pelleck", "Sarrow"};
static const char *const org_a[] = {"Zentrix", "Calvor", "Monteq", "Hyrdan", "Ombrel"};
static const char *const misc_a[] = {"Veltrian", "Mordish", "Caspean"};
static const char *const first_b[] = {"Zoltar", "Yeva"};
static const char *const last_b[] = {"Krask", "Umbrin"};
static const char *const city_b[] = {"Brask", "Turvell"};
static const char *const org_b[] = {"Plexor", "Vantic"};
static const char *const misc_b[] = {"Ulvish"};

#define PICK(arr, k) arr[(k) % (sizeof arr / sizeof arr[0])]

/* Writes n sentences of our templates in CoNLL columns (token POS chunk NER). */
static void write_corpus(FILE *f, int n, bool held_out, unsigned seed)
{
    for (int i = 0; i < n; i++) {
        if (i % 10 == 0)
            fprintf(f, "-DOCSTART- -X- -X- O\n\n");
        unsigned k = seed + (unsigned)i * 7u;
        const char *fi = held_out ? PICK(first_b, k) : PICK(first_a, k);
        const char *la = held_out ? PICK(last_b, k / 3) : PICK(last_a, k / 3);
        const char *ci = held_out ? PICK(city_b, k / 5) : PICK(city_a, k / 5);
        const char *og = held_out ? PICK(org_b, k / 2) : PICK(org_a, k / 2);
        const char *mi = held_out ? PICK(misc_b, k) : PICK(misc_a, k);
        switch (i % 4) {
        case 0:
            fprintf(f, "Mr. x x O\n%s x x B-PER\n%s x x I-PER\nvisited x x O\n%s x x B-LOC\n"
                       "on x x O\nMonday x x O\n. x x O\n\n", fi, la, ci);
            break;
        case 1:
            fprintf(f, "%s x x B-ORG\nCorp x x I-ORG\nsaid x x O\nit x x O\nhired x x O\n%s x x B-PER\n"
                       "%s x x I-PER\n. x x O\n\n", og, fi, la);
            break;
        case 2:
            fprintf(f, "The x x O\n%s x x B-MISC\ngovernment x x O\nin x x O\n%s x x B-LOC\n"
                       "praised x x O\n%s x x B-ORG\nCorp x x I-ORG\n. x x O\n\n", mi, ci, og);
            break;
        default:
            fprintf(f, "Shares x x O\nof x x O\n%s x x B-ORG\nfell x x O\n, x x O\nsaid x x O\n"
                       "analyst x x O\n%s x x B-PER\n. x x O\n\n", og, la);
            break;
        }
    }
}

static char *corpus_file(const char *dir, const char *name, int n, bool held_out, unsigned seed)
{
    char *path = ww_asprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    write_corpus(f, n, held_out, seed);
    fclose(f);
    return path;
}

static void test_train_tiny(void **state)
{
    (void)state;
    char *dir = wwt_tmpdir("ner");
    char *train = corpus_file(dir, "train.txt", 160, false, 1);
    char *dev = corpus_file(dir, "dev.txt", 40, false, 5);
    char *test = corpus_file(dir, "test.txt", 40, true, 3);
    char *model = ww_asprintf("%s/tiny.model", dir);
    char err[512];
    ww_ner_corpus_t *tr = ww_ner_corpus_read(train, err, sizeof err);
    ww_ner_corpus_t *dv = ww_ner_corpus_read(dev, err, sizeof err);
    ww_ner_corpus_t *te = ww_ner_corpus_read(test, err, sizeof err);
    assert_non_null(tr);
    assert_non_null(dv);
    assert_non_null(te);
    assert_int_equal(ww_ner_corpus_tokens(tr), 16 + 40 * (8 + 8 + 9 + 9)); /* DOCSTARTs + tokens */
    ww_ner_train_opts_t o = {.bits = 14, .epochs = 8, .folds = 2, .seed = 7};
    assert_int_equal(ww_ner_train(tr, dv, &o, model, err, sizeof err), 0);
    ww_ner_model_t *m = ww_ner_load(model, err, sizeof err);
    assert_non_null(m);
    assert_true(ww_ner_model_size(m) > ((size_t)1 << 14) * WW_NER_NLAB * 2 * 2);
    ww_ner_score_t sc;
    ww_ner_evaluate(m, tr, &sc);
    assert_true(ww_ner_f1(&sc, -1) > 98.0);
    /* names it never saw, in the contexts it learned */
    ww_ner_evaluate(m, te, &sc);
    assert_true(ww_ner_f1(&sc, -1) > 80.0);
    assert_true(ww_ner_f1(&sc, 0) > 80.0);
    assert_true(sc.tokens == ww_ner_corpus_tokens(te));
    /* --conll: each input line with a tag appended */
    char *outp = ww_asprintf("%s/out.txt", dir);
    FILE *f = fopen(outp, "w");
    ww_ner_write_conll(m, te, f);
    fclose(f);
    char *in = wwt_read_file(test), *out = wwt_read_file(outp);
    size_t lin = 0, lout = 0;
    for (char *p = in; *p; p++)
        lin += *p == '\n';
    for (char *p = out; *p; p++)
        lout += *p == '\n';
    assert_int_equal(lin, lout);
    assert_non_null(strstr(out, "-DOCSTART- -X- -X- O O\n"));
    assert_non_null(strstr(out, "Zoltar x x B-PER B-PER\n"));
    ww_free(in);
    ww_free(out);
    ww_ner_free(&m);
    assert_null(m);
    /* a truncated model is refused */
    char *cmd = ww_asprintf("head -c 100000 %s > %s.cut", model, model);
    assert_int_equal(system(cmd), 0);
    char *cut = ww_asprintf("%s.cut", model);
    assert_null(ww_ner_load(cut, err, sizeof err));
    assert_non_null(strstr(err, "corrupt"));
    assert_null(ww_ner_load(train, err, sizeof err));
    assert_non_null(strstr(err, "not a wirewatch NER model"));
    assert_null(ww_ner_load("/nonexistent/x.model", err, sizeof err));
    ww_ner_corpus_free(&tr);
    ww_ner_corpus_free(&dv);
    ww_ner_corpus_free(&te);
    unlink(cut);
    unlink(outp);
    unlink(model);
    unlink(train);
    unlink(dev);
    unlink(test);
    wwt_rmdir(dir);
    ww_free(cmd);
    ww_free(cut);
    ww_free(outp);
    ww_free(model);
    ww_free(train);
    ww_free(dev);
    ww_free(test);
    ww_free(dir);
}

/* ---- the extractor with the bundled model --------------------------------------------- */

static const ww_entity_t *find_ent(const ww_event_t *ev, const char *text, int nth)
{
    for (size_t i = 0; i < ev->n_entities; i++)
        if (strcmp(ev->entities[i].text, text) == 0 && nth-- == 0)
            return &ev->entities[i];
    return NULL;
}

static void test_extract_with_model(void **state)
{
    (void)state;
    char *path = ww_data_path("ner/ner-en.model");
    if (!path) {
        fprintf(stderr, "bundled NER model not found: skipped\n");
        skip();
    }
    char err[512];
    ww_extractor_t *x = ww_extractor_new(WW_SOURCE_DATADIR "/gazetteer-extra.tsv", path, err, sizeof err);
    ww_free(path);
    assert_non_null(x);
    ww_extract_scratch_t *s = ww_extract_scratch_new();
    ww_event_t *ev = ww_event_new();
    ev->title = ww_strdup("PREMIER LI QIANG VISITS TOKYO");
    ev->body = ww_strdup("Chinese Premier Li Qiang met Prime Minister Fumio Kishida in Tokyo on Monday "
                         "and pledged $18 billion, 3.5% more than in December 2019. \"We want calm "
                         "seas,\" Li said. Kishida thanked him.");
    assert_int_equal(ww_extract_event(x, s, ev), 0);
    const ww_entity_t *e = find_ent(ev, "Li Qiang", 0);
    assert_non_null(e);
    assert_int_equal(e->type, WW_ENT_PER);
    assert_int_equal(e->field, WW_FIELD_BODY);
    assert_int_equal(e->start, (uint32_t)(strstr(ev->body, "Li Qiang") - ev->body));
    e = find_ent(ev, "Li", 0);
    assert_non_null(e);
    assert_string_equal(e->canonical, "Li Qiang");
    e = find_ent(ev, "Kishida", 0);
    assert_non_null(e);
    assert_string_equal(e->canonical, "Fumio Kishida");
    assert_null(find_ent(ev, "Chinese Premier Li Qiang", 0));
    assert_null(find_ent(ev, "Premier Li Qiang", 0));
    e = find_ent(ev, "Chinese", 0);
    assert_non_null(e);
    assert_int_equal(e->type, WW_ENT_MISC);
    e = find_ent(ev, "Tokyo", 0);
    assert_non_null(e);
    assert_int_equal(e->type, WW_ENT_LOC);
    /* the all-caps headline takes the body's names */
    e = find_ent(ev, "LI QIANG", 0);
    assert_non_null(e);
    assert_int_equal(e->field, WW_FIELD_TITLE);
    assert_string_equal(e->canonical, "Li Qiang");
    /* the rules still give DATE, MONEY, PERCENT */
    assert_int_equal(find_ent(ev, "$18 billion", 0)->type, WW_ENT_MONEY);
    assert_int_equal(find_ent(ev, "3.5%", 0)->type, WW_ENT_PERCENT);
    assert_int_equal(find_ent(ev, "December 2019", 0)->type, WW_ENT_DATE);
    assert_int_equal(find_ent(ev, "Monday", 0)->type, WW_ENT_DATE);
    assert_int_equal(ev->n_quotes, 1);
    assert_string_equal(ev->quotes[0].speaker, "Li Qiang");
    for (size_t i = 0; i < ev->n_entities; i++) {
        const ww_entity_t *t = &ev->entities[i];
        const char *src = t->field == WW_FIELD_TITLE ? ev->title : ev->body;
        assert_true(t->start < t->end && t->end <= strlen(src));
        assert_memory_equal(src + t->start, t->text, t->end - t->start);
    }
    /* hostile bytes: no crash, offsets inside the fields */
    uint64_t r = 0x9E3779B97F4A7C15ULL;
    for (int round = 0; round < 200; round++) {
        char buf[400];
        size_t len = (size_t)(round * 2 % 399);
        for (size_t i = 0; i < len; i++) {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            static const char lit[] = "Li Qiang of ACME Corp. said \"X\" in Paris.\n\xE2\x80\x9C";
            buf[i] = (r >> 50) % 4 ? lit[(r >> 8) % (sizeof lit - 1)] : (char)r;
            if (!buf[i])
                buf[i] = ' ';
        }
        buf[len] = '\0';
        ww_free(ev->body);
        ev->body = ww_strdup(buf);
        assert_int_equal(ww_extract_event(x, s, ev), 0);
        for (size_t i = 0; i < ev->n_entities; i++) {
            const ww_entity_t *t = &ev->entities[i];
            const char *src = t->field == WW_FIELD_TITLE ? ev->title : ev->body;
            assert_true(t->start < t->end && t->end <= strlen(src));
        }
    }
    ww_event_destroy(&ev);
    ww_extract_scratch_destroy(&s);
    ww_extractor_destroy(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokenizer),   cmocka_unit_test(test_sentences),
        cmocka_unit_test(test_tokenizer_hostile), cmocka_unit_test(test_spans),
        cmocka_unit_test(test_train_tiny),  cmocka_unit_test(test_extract_with_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
