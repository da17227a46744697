/* test_extract.c - the first extractor (common/extract.c) and the gazetteer
 * (common/gazetteer.c). The gazetteer is loaded from data/gazetteer-extra.tsv
 * directly so the test does not depend on the build step. Fixture sentences
 * are our own. */
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
#include "ww/gazetteer.h"
#include "ww/text.h"

#define EXTRA WW_SOURCE_DATADIR "/gazetteer-extra.tsv"

typedef struct {
    ww_extractor_t *x;
    ww_extract_scratch_t *s;
} fix_t;

static int setup(void **state)
{
    char err[256] = "";
    fix_t *f = ww_calloc(1, sizeof *f);
    f->x = ww_extractor_new(EXTRA, "", err, sizeof err); /* the rule-based names */
    if (!f->x) {
        fprintf(stderr, "extractor: %s\n", err);
        ww_free(f);
        return -1;
    }
    ww_extractor_set_df(f->x, NULL); /* keywords by plain TF here; TF-IDF: test_keywords.c */
    f->s = ww_extract_scratch_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fix_t *f = *state;
    ww_extract_scratch_destroy(&f->s);
    ww_extractor_destroy(&f->x);
    assert_null(f->x);
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

/* The n-th (0-based) entity of `field` whose text is `text`, or NULL. */
static const ww_entity_t *find_ent(const ww_event_t *ev, ww_field_t field, const char *text, int nth)
{
    for (size_t i = 0; i < ev->n_entities; i++) {
        const ww_entity_t *e = &ev->entities[i];
        if (e->field == field && strcmp(e->text, text) == 0 && nth-- == 0)
            return e;
    }
    return NULL;
}

/* Asserts an entity `text` of `type` at its nth occurrence in the field's string. */
static const ww_entity_t *expect(const ww_event_t *ev, ww_field_t field, const char *text,
                                 ww_ent_type_t type, const char *canonical)
{
    const ww_entity_t *e = find_ent(ev, field, text, 0);
    if (!e)
        fail_msg("no entity \"%s\"", text);
    assert_int_equal(e->type, type);
    const char *src = field == WW_FIELD_TITLE ? ev->title : ev->body;
    const char *at = strstr(src, text);
    assert_non_null(at);
    assert_int_equal(e->start, (uint32_t)(at - src));
    assert_int_equal(e->end, (uint32_t)(at - src + strlen(text)));
    if (canonical)
        assert_string_equal(e->canonical, canonical);
    return e;
}

static bool has_ent_text(const ww_event_t *ev, const char *text)
{
    return find_ent(ev, WW_FIELD_TITLE, text, 0) || find_ent(ev, WW_FIELD_BODY, text, 0);
}

/* Every entity lies inside its field and its text is the bytes it points at. */
static void check_offsets(const ww_event_t *ev)
{
    for (size_t i = 0; i < ev->n_entities; i++) {
        const ww_entity_t *e = &ev->entities[i];
        const char *src = e->field == WW_FIELD_TITLE ? ev->title : ev->body;
        size_t len = src ? strlen(src) : 0;
        assert_true(e->start < e->end);
        assert_true(e->end <= len);
        assert_int_equal(strlen(e->text), e->end - e->start);
        assert_memory_equal(e->text, src + e->start, e->end - e->start);
        assert_non_null(e->canonical);
        assert_true(e->canonical[0] != '\0');
        assert_true(e->count >= 1);
        assert_true(e->type < WW_ENT__COUNT);
        if (i > 0) {
            const ww_entity_t *p = &ev->entities[i - 1];
            assert_true(p->field < e->field || (p->field == e->field && p->end <= e->start));
        }
    }
}

/* ---- entities ------------------------------------------------------------------ */

static void test_leaders_sentence(void **state)
{
    fix_t *f = *state;
    const char *s = "Chinese Premier Li Qiang met President Joe Biden in Washington on Monday.";
    ww_event_t *ev = run(f, NULL, s);
    check_offsets(ev);
    expect(ev, WW_FIELD_BODY, "Chinese", WW_ENT_MISC, "Chinese");
    expect(ev, WW_FIELD_BODY, "Li Qiang", WW_ENT_PER, "Li Qiang");
    expect(ev, WW_FIELD_BODY, "Joe Biden", WW_ENT_PER, "Joe Biden");
    expect(ev, WW_FIELD_BODY, "Washington", WW_ENT_LOC, "Washington");
    expect(ev, WW_FIELD_BODY, "Monday", WW_ENT_DATE, NULL);
    /* titles are not part of names and name nobody on their own */
    assert_false(has_ent_text(ev, "Premier"));
    assert_false(has_ent_text(ev, "President Joe Biden"));
    assert_false(has_ent_text(ev, "Chinese Premier Li Qiang"));
    assert_int_equal(ev->n_entities, 5);
    ww_event_destroy(&ev);
}

static void test_orgs_and_spans(void **state)
{
    fix_t *f = *state;
    const char *s =
        "The European Union and Microsoft Corp agreed with the Ministry of Commerce and Industry. "
        "Officials said Goldman Sachs Chief Executive David Solomon spoke to the Bank of England. "
        "Later, Premier Li Qiang of China visited NATO headquarters near the Hague.";
    ww_event_t *ev = run(f, NULL, s);
    check_offsets(ev);
    expect(ev, WW_FIELD_BODY, "European Union", WW_ENT_ORG, NULL);
    expect(ev, WW_FIELD_BODY, "Microsoft Corp", WW_ENT_ORG, NULL);
    expect(ev, WW_FIELD_BODY, "Ministry of Commerce and Industry", WW_ENT_ORG, NULL);
    expect(ev, WW_FIELD_BODY, "David Solomon", WW_ENT_PER, NULL);
    expect(ev, WW_FIELD_BODY, "Bank of England", WW_ENT_ORG, NULL);
    expect(ev, WW_FIELD_BODY, "Li Qiang", WW_ENT_PER, NULL);
    expect(ev, WW_FIELD_BODY, "NATO", WW_ENT_ORG, NULL);
    /* sentence-initial common words are no names */
    assert_false(has_ent_text(ev, "The"));
    assert_false(has_ent_text(ev, "Officials"));
    assert_false(has_ent_text(ev, "Later"));
    assert_false(has_ent_text(ev, "The European Union"));
    assert_false(has_ent_text(ev, "Li Qiang of China"));
    ww_event_destroy(&ev);
}

static void test_canonical_and_counts(void **state)
{
    fix_t *f = *state;
    const char *title = "Li Qiang warns of trade war";
    const char *body = "Premier Li Qiang spoke in Beijing. Li said tariffs hurt everyone. "
                       "Mr Li later met Olaf Scholz, and Scholz agreed with Li.";
    ww_event_t *ev = run(f, title, body);
    check_offsets(ev);
    const ww_entity_t *t = expect(ev, WW_FIELD_TITLE, "Li Qiang", WW_ENT_PER, "Li Qiang");
    /* Li Qiang: title 1 + body 1 full + 3 short forms */
    assert_int_equal(t->count, 5);
    int shorts = 0;
    for (size_t i = 0; i < ev->n_entities; i++) {
        const ww_entity_t *e = &ev->entities[i];
        if (strcmp(e->text, "Li") == 0) {
            shorts++;
            assert_int_equal(e->type, WW_ENT_PER);
            assert_string_equal(e->canonical, "Li Qiang");
            assert_int_equal(e->count, 5);
        }
    }
    assert_int_equal(shorts, 3);
    const ww_entity_t *sc = find_ent(ev, WW_FIELD_BODY, "Scholz", 0);
    assert_non_null(sc);
    assert_int_equal(sc->type, WW_ENT_PER);
    assert_string_equal(sc->canonical, "Olaf Scholz");
    assert_int_equal(sc->count, 2);
    /* each mention is its own entity with its own offsets */
    const ww_entity_t *li2 = find_ent(ev, WW_FIELD_BODY, "Li", 1);
    assert_non_null(li2);
    assert_int_equal(li2->start, (uint32_t)(strstr(body, "Mr Li") - body + 3));
    ww_event_destroy(&ev);
}

static void test_numbers(void **state)
{
    fix_t *f = *state;
    static const struct {
        const char *text;
        ww_ent_type_t type;
    } cases[] = {
        {"$18 billion", WW_ENT_MONEY},     {"18 billion dollars", WW_ENT_MONEY},
        {"EUR 5 million", WW_ENT_MONEY},   {"£3.2bn", WW_ENT_MONEY},
        {"US$1,250.50", WW_ENT_MONEY},     {"3.5%", WW_ENT_PERCENT},
        {"3.5 percent", WW_ENT_PERCENT},   {"12 per cent", WW_ENT_PERCENT},
        {"March 5, 2024", WW_ENT_DATE},    {"5 March 2024", WW_ENT_DATE},
        {"2024-03-07", WW_ENT_DATE},       {"Tuesday", WW_ENT_DATE},
        {"December", WW_ENT_DATE},         {"Sept. 11", WW_ENT_DATE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[256];
        snprintf(body, sizeof body, "The figure was %s, officials noted.", cases[i].text);
        ww_event_t *ev = run(f, NULL, body);
        check_offsets(ev);
        const ww_entity_t *e = find_ent(ev, WW_FIELD_BODY, cases[i].text, 0);
        if (!e)
            fail_msg("no entity for \"%s\"", cases[i].text);
        assert_int_equal(e->type, cases[i].type);
        assert_int_equal(e->start, (uint32_t)strlen("The figure was "));
        ww_event_destroy(&ev);
    }
    /* numbers without a unit are none of these; a weak month needs a number */
    const char *b = "They counted 18 boats and 3.5 tonnes. We may march in May or June.";
    ww_event_t *ev = run(f, NULL, b);
    check_offsets(ev);
    assert_int_equal(ev->n_entities, 1);
    expect(ev, WW_FIELD_BODY, "June", WW_ENT_DATE, NULL);
    ww_event_destroy(&ev);
}

static void test_quotes(void **state)
{
    fix_t *f = *state;
    const char *body =
        "Premier Li Qiang met Olaf Scholz. \"We oppose tariffs,\" Li said. "
        "\xE2\x80\x9C" "Europe will respond,\xE2\x80\x9D" " said Scholz. "
        "\"The talks were useful,\" he said. "
        "Scholz told reporters: \"Trade must stay open.\" "
        "\"Nothing is agreed,\" the ministry said. "
        "Some called it \"fake news\" without evidence.";
    ww_event_t *ev = run(f, NULL, body);
    check_offsets(ev);
    assert_int_equal(ev->n_quotes, 5);
    assert_string_equal(ev->quotes[0].text, "We oppose tariffs");
    assert_string_equal(ev->quotes[0].speaker, "Li Qiang");
    assert_string_equal(ev->quotes[1].text, "Europe will respond");
    assert_string_equal(ev->quotes[1].speaker, "Olaf Scholz");
    assert_string_equal(ev->quotes[2].text, "The talks were useful");
    assert_string_equal(ev->quotes[2].speaker, "Olaf Scholz"); /* he = last person named */
    assert_string_equal(ev->quotes[3].text, "Trade must stay open.");
    assert_string_equal(ev->quotes[3].speaker, "Olaf Scholz");
    assert_string_equal(ev->quotes[4].text, "Nothing is agreed");
    assert_string_equal(ev->quotes[4].speaker, "");
    ww_event_destroy(&ev);
}

static void test_keywords(void **state)
{
    fix_t *f = *state;
    const char *body = "Tariffs on steel rose. Steel tariffs hurt steel makers, and the tariffs "
                       "on aluminium hurt too. Steel tariffs were raised in 2024 by 25 points.";
    ww_event_t *ev = run(f, "Steel tariffs rise", body);
    assert_true(ev->n_keywords >= 3);
    assert_true(ev->n_keywords <= 15);
    /* steel: 5, tariffs: 5 -> tie broken by term; score 1 for the most frequent */
    assert_string_equal(ev->keywords[0].term, "steel");
    assert_string_equal(ev->keywords[1].term, "tariffs");
    assert_true(ev->keywords[0].score == 1.0);
    bool phrase = false;
    for (size_t i = 0; i < ev->n_keywords; i++) {
        const ww_keyword_t *k = &ev->keywords[i];
        assert_true(strlen(k->term) >= 3);
        assert_true(strpbrk(k->term, "0123456789") == NULL);
        assert_true(strcmp(k->term, "the") != 0 && strcmp(k->term, "and") != 0);
        assert_true(k->score > 0 && k->score <= 1.0);
        if (i > 0) {
            const ww_keyword_t *p = &ev->keywords[i - 1];
            assert_true(p->score > k->score || (p->score == k->score && strcmp(p->term, k->term) < 0));
        }
        if (strcmp(k->term, "steel tariffs") == 0)
            phrase = true;
    }
    assert_true(phrase);
    /* deterministic: same input, same output with a reused scratch */
    ww_event_t *ev2 = run(f, "Steel tariffs rise", body);
    assert_int_equal(ev2->n_keywords, ev->n_keywords);
    for (size_t i = 0; i < ev->n_keywords; i++)
        assert_string_equal(ev2->keywords[i].term, ev->keywords[i].term);
    ww_event_destroy(&ev2);
    ww_event_destroy(&ev);
}

static void test_all_caps_headline(void **state)
{
    fix_t *f = *state;
    const char *title = "LI QIANG WARNS NATO OVER TARIFFS IN WASHINGTON";
    const char *body = "Premier Li Qiang said NATO should not meddle. He spoke in Washington.";
    ww_event_t *ev = run(f, title, body);
    check_offsets(ev);
    const ww_entity_t *e = expect(ev, WW_FIELD_TITLE, "LI QIANG", WW_ENT_PER, "Li Qiang");
    assert_int_equal(e->count, 2);
    expect(ev, WW_FIELD_TITLE, "NATO", WW_ENT_ORG, NULL);
    expect(ev, WW_FIELD_TITLE, "WASHINGTON", WW_ENT_LOC, "Washington");
    size_t in_title = 0;
    for (size_t i = 0; i < ev->n_entities; i++)
        in_title += ev->entities[i].field == WW_FIELD_TITLE;
    assert_int_equal(in_title, 3); /* no WARNS, OVER, TARIFFS */
    ww_event_destroy(&ev);

    /* Title Case says nothing either; without a body only the gazetteer speaks */
    ev = run(f, "Biden Meets Xi In Washington To Ease Tensions", NULL);
    check_offsets(ev);
    expect(ev, WW_FIELD_TITLE, "Washington", WW_ENT_LOC, NULL);
    assert_int_equal(ev->n_entities, 1);
    ww_event_destroy(&ev);
}

static void test_reextract_replaces(void **state)
{
    fix_t *f = *state;
    ww_event_t *ev = run(f, "Scholz visits Paris", "Olaf Scholz visited Paris. \"Fine,\" Scholz said.");
    size_t n = ev->n_entities, q = ev->n_quotes, k = ev->n_keywords;
    assert_true(n > 0 && q == 1 && k > 0);
    assert_int_equal(ww_extract_event(f->x, f->s, ev), 0);
    assert_int_equal(ev->n_entities, n);
    assert_int_equal(ev->n_quotes, q);
    assert_int_equal(ev->n_keywords, k);
    ww_event_destroy(&ev);
    ev = run(f, NULL, NULL); /* neither title nor body */
    assert_int_equal(ev->n_entities, 0);
    assert_int_equal(ev->n_keywords, 0);
    ww_event_destroy(&ev);
}

/* ---- hostile input ------------------------------------------------------------- */

/* Appends the UTF-8 encoding of cp. */
static size_t put_cp(char *d, uint32_t cp)
{
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xC0 | (cp >> 6));
        d[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xE0 | (cp >> 12));
        d[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (char)(0xF0 | (cp >> 18));
    d[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    d[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static void test_hostile_utf8(void **state)
{
    fix_t *f = *state;
    /* pieces that stress the patterns: names, quotes, currency, percent, dots */
    static const char *const pieces[] = {
        "Li", "Qiang", "President", "Mr", ".", ",", "\"", "\xE2\x80\x9C", "\xE2\x80\x9D", "'",
        "\xE2\x80\x99", "$", "€", "%", "-", " ", " ", " ", "\n", "of", "and", "said", "he",
        "5", "3.5", "billion", "March", "Monday", "US", "U.S.", "NATO", "É", "ǅ", "\xCC\x81",
        "中国", "İ", "«", "»", "per", "cent", "EUR", ":", "2024-03-07", "Bank", "The"};
    size_t np = sizeof pieces / sizeof pieces[0];
    unsigned seed = 12345;
    char *buf = ww_malloc(8192);
    for (int it = 0; it < 3000; it++) {
        size_t len = 0, n = (size_t)(rand_r(&seed) % 120);
        for (size_t i = 0; i < n && len < 8000; i++) {
            if (rand_r(&seed) % 4 == 0) {
                /* a random valid scalar value (no surrogates, no NUL) */
                uint32_t cp;
                do
                    cp = (uint32_t)(rand_r(&seed) % 0x110000);
                while (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF));
                len += put_cp(buf + len, cp);
            } else {
                const char *p = pieces[rand_r(&seed) % np];
                memcpy(buf + len, p, strlen(p));
                len += strlen(p);
            }
        }
        buf[len] = '\0';
        size_t cut = len ? (size_t)rand_r(&seed) % (len + 1) : 0;
        while (cut > 0 && ((unsigned char)buf[cut] & 0xC0) == 0x80)
            cut--; /* keep the title valid UTF-8 */
        char *title = ww_strndup(buf, cut);
        ww_event_t *ev = run(f, title, buf + cut);
        check_offsets(ev);
        for (size_t i = 0; i < ev->n_quotes; i++) {
            assert_non_null(ev->quotes[i].speaker);
            assert_true(ev->quotes[i].text[0] != '\0');
        }
        ww_event_destroy(&ev);
        ww_free(title);
    }
    ww_free(buf);
}

/* ---- gazetteer --------------------------------------------------------------- */

static void test_gazetteer_match(void **state)
{
    (void)state;
    ww_gazetteer_t *g = ww_gazetteer_new();
    assert_int_equal(ww_gazetteer_add(g, "New York", 8, WW_GAZ_LOC, NULL), 0);
    assert_int_equal(ww_gazetteer_add(g, "New York Times", 14, WW_GAZ_ORG, NULL), 0);
    assert_int_equal(ww_gazetteer_add(g, "Bosnia and Herzegovina", 22, WW_GAZ_LOC, NULL), 0);
    assert_int_equal(ww_gazetteer_add(g, "U.S.", 4, WW_GAZ_LOC, "United States"), 0);
    assert_int_equal(ww_gazetteer_add(g, "Jordan", 6, WW_GAZ_LOC, NULL), 0);
    assert_int_equal(ww_gazetteer_add(g, "Jordan", 6, WW_GAZ_FIRST, "ignored"), 0);
    assert_int_equal(ww_gazetteer_add(g, "NATO", 4, WW_GAZ_ORG, NULL), 0);
    assert_int_equal(ww_gazetteer_add(g, " ,; ", 4, WW_GAZ_ORG, NULL), -1);
    assert_int_equal(ww_gazetteer_add(g, "a b c d e f g", 13, WW_GAZ_ORG, NULL), -1);
    assert_int_equal(ww_gazetteer_size(g), 6);

    const char *s = "the new york times said new-york and Bosnia and the U.S. JORDAN";
    ww_tokens_t t;
    ww_tokens_init(&t);
    ww_tokenize(s, strlen(s), &t);
    ww_gaz_match_t m;
    assert_int_equal(ww_gazetteer_match(g, &t, 0, 6, &m), 0);
    assert_int_equal(ww_gazetteer_match(g, &t, 1, 6, &m), 3); /* longest wins */
    assert_int_equal(m.mask, WW_GAZ_ORG);
    assert_string_equal(m.canonical, "New York Times");
    assert_int_equal(ww_gazetteer_match(g, &t, 1, 2, &m), 2); /* limited by the caller */
    assert_int_equal(m.mask, WW_GAZ_LOC);
    assert_int_equal(ww_gazetteer_match(g, &t, 5, 6, &m), 2); /* punctuation between words */
    /* "Bosnia and" is only a prefix: no match */
    assert_int_equal(ww_gazetteer_match(g, &t, 8, 6, &m), 0);
    assert_int_equal(ww_gazetteer_match(g, &t, 11, 6, &m), 2);
    assert_string_equal(m.canonical, "United States");
    assert_int_equal(ww_gazetteer_match(g, &t, 13, 6, &m), 1);
    assert_int_equal(m.mask, WW_GAZ_LOC | WW_GAZ_FIRST); /* types collect */
    assert_string_equal(m.canonical, "Jordan");          /* first canonical wins */
    assert_int_equal(ww_gazetteer_match(g, &t, 99, 6, &m), 0);
    assert_int_equal(ww_gazetteer_lookup(g, "NATO", 4), WW_GAZ_ORG | WW_GAZ_ACRONYM);
    assert_int_equal(ww_gazetteer_lookup(g, "new YORK", 8), WW_GAZ_LOC);
    assert_int_equal(ww_gazetteer_lookup(g, "york", 4), 0);
    ww_tokens_deinit(&t);
    ww_gazetteer_destroy(&g);
    assert_null(g);
    ww_gazetteer_destroy(&g); /* NULL-safe */
}

static void test_gazetteer_file(void **state)
{
    (void)state;
    char path[] = "/tmp/ww_gaz_test_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *content = "# comment\n"
                          "\n"
                          "Straße des 17. Juni\tLOC\n"
                          "ÉLYSÉE PALACE\tORG\tÉlysée Palace\r\n"
                          "no tab here\n"
                          "Foo\tBOGUS\n"
                          "President\tTITLE\n";
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
    char err[256] = "";
    ww_gazetteer_t *g = ww_gazetteer_load(path, err, sizeof err);
    assert_non_null(g);
    assert_int_equal(ww_gazetteer_size(g), 3);
    assert_int_equal(ww_gazetteer_lookup(g, "STRASSE DES 17 JUNI", 19), WW_GAZ_LOC);
    assert_int_equal(ww_gazetteer_lookup(g, "élysée palace", strlen("élysée palace")), WW_GAZ_ORG);
    assert_int_equal(ww_gazetteer_lookup(g, "president", 9), WW_GAZ_TITLE);
    assert_int_equal(ww_gazetteer_lookup(g, "Foo", 3), 0);
    ww_gazetteer_destroy(&g);
    unlink(path);
    uint32_t bit = 0;
    assert_int_equal(ww_gazetteer_type_parse("DEMONYM", 7, &bit), 0);
    assert_int_equal(bit, WW_GAZ_DEMONYM);
    assert_int_equal(ww_gazetteer_type_parse("loc", 3, &bit), -1);

    assert_null(ww_gazetteer_load("/nonexistent/gaz.tsv", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/gaz.tsv"));
    err[0] = '\0';
    assert_null(ww_extractor_new("/nonexistent/gaz.tsv", NULL, err, sizeof err));
    assert_true(err[0] != '\0');
    /* the bundled default: gazetteer.tsv, or at least the source tree's extra list */
    ww_extractor_t *x = ww_extractor_new(NULL, NULL, err, sizeof err);
    assert_non_null(x);
    ww_extractor_destroy(&x);
}

static void test_extra_list_loads(void **state)
{
    (void)state;
    char err[256];
    ww_gazetteer_t *g = ww_gazetteer_load(EXTRA, err, sizeof err);
    assert_non_null(g);
    assert_true(ww_gazetteer_size(g) > 800);
    assert_true(ww_gazetteer_lookup(g, "Washington", 10) & WW_GAZ_LOC);
    assert_true(ww_gazetteer_lookup(g, "United Nations", 14) & WW_GAZ_ORG);
    assert_true(ww_gazetteer_lookup(g, "Chinese", 7) & WW_GAZ_DEMONYM);
    assert_true(ww_gazetteer_lookup(g, "Prime Minister", 14) & WW_GAZ_TITLE);
    assert_true(ww_gazetteer_lookup(g, "Joe", 3) & WW_GAZ_FIRST);
    ww_gazetteer_destroy(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leaders_sentence),  cmocka_unit_test(test_orgs_and_spans),
        cmocka_unit_test(test_canonical_and_counts), cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_quotes),            cmocka_unit_test(test_keywords),
        cmocka_unit_test(test_all_caps_headline), cmocka_unit_test(test_reextract_replaces),
        cmocka_unit_test(test_hostile_utf8),      cmocka_unit_test(test_gazetteer_match),
        cmocka_unit_test(test_gazetteer_file),    cmocka_unit_test(test_extra_list_loads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
