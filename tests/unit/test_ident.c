/* test_ident.c - sanitising (ww_utf8_repair, ww_event_sanitize), canonical
 * URLs and event ids (ident.c). Ids are checked by their properties (format,
 * equal for equivalent inputs, different otherwise), not by stored values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ww/alloc.h"
#include "ww/event.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <utf8proc.h>

#define FFFD "\xef\xbf\xbd"

/* Independent UTF-8 check (utf8proc) of s[0..n): valid, no NUL. */
static bool valid_utf8n(const char *s, size_t n)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = (utf8proc_ssize_t)n;
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, left, &cp);
        if (k <= 0 || cp <= 0)
            return false;
        p += k;
        left -= k;
    }
    return true;
}

/* Repairs in[0..n) and compares with the expected output. */
static void check_repair(const char *in, size_t n, const char *want, bool want_rep)
{
    bool rep = !want_rep;
    char *out = ww_utf8_repair(in, n, &rep);
    assert_string_equal(out, want);
    assert_int_equal(rep, want_rep);
    assert_true(valid_utf8n(out, strlen(out)));
    ww_free(out);
}

static void test_utf8_repair_cases(void **state)
{
    (void)state;
    /* valid text is copied unchanged */
    check_repair("plain", 5, "plain", false);
    const char *mixed = "Zürich – 東京 😀";
    check_repair(mixed, strlen(mixed), mixed, false);
    check_repair("", 0, "", false);
    /* boundaries of the valid ranges */
    check_repair("\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 18,
                 "\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", false);
    /* stray continuation, invalid lead bytes */
    check_repair("a\x80z", 3, "a" FFFD "z", true);
    check_repair("\xf5\xff", 2, FFFD FFFD, true);
    /* overlong forms: C0/C1 leads, E0 80..9F, F0 80..8F */
    check_repair("\xc0\xaf", 2, FFFD FFFD, true);
    check_repair("\xc1\xbf", 2, FFFD FFFD, true);
    check_repair("\xe0\x80\xaf", 3, FFFD FFFD FFFD, true);
    check_repair("\xf0\x80\x80\xaf", 4, FFFD FFFD FFFD FFFD, true);
    /* UTF-16 surrogates encoded in UTF-8 */
    check_repair("\xed\xa0\x80", 3, FFFD FFFD FFFD, true);
    check_repair("\xed\xbf\xbf", 3, FFFD FFFD FFFD, true);
    check_repair("\xed\x9f\xbf", 3, "\xed\x9f\xbf", false); /* U+D7FF is fine */
    /* above U+10FFFF */
    check_repair("\xf4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD, true);
    /* a truncated sequence is one U+FFFD (maximal subpart), then goes on */
    check_repair("\xe2\x82", 2, FFFD, true);
    check_repair("\xe2\x82z", 3, FFFD "z", true);
    check_repair("\xf0\x9f\x98", 3, FFFD, true);
    /* NUL characters are removed */
    check_repair("a\0b\0", 4, "ab", true);
    check_repair("\0", 1, "", true);
    check_repair(NULL, 0, "", false);
}

static void test_utf8_repair_random(void **state)
{
    (void)state;
    /* any bytes in: valid UTF-8 out, no NUL, and valid input unchanged */
    uint64_t x = 88172645463325252ULL;
    unsigned char buf[48];
    for (int round = 0; round < 50000; round++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t n = x % sizeof(buf);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            /* bias towards the interesting high bytes */
            buf[i] = (unsigned char)((x >> 8) & 1 ? 0x80 | (x >> 16) : (x >> 16));
        }
        bool rep;
        char *out = ww_utf8_repair((const char *)buf, n, &rep);
        size_t on = strlen(out);
        assert_true(valid_utf8n(out, on));
        bool input_ok = valid_utf8n((const char *)buf, n);
        assert_int_equal(rep, !input_ok);
        if (input_ok) {
            assert_int_equal(on, n);
            assert_memory_equal(out, buf, n);
        }
        /* repairing twice changes nothing */
        bool rep2;
        char *again = ww_utf8_repair(out, on, &rep2);
        assert_false(rep2);
        assert_string_equal(again, out);
        ww_free(again);
        ww_free(out);
    }
}

static void test_sanitize_event(void **state)
{
    (void)state;
    ww_event_t *ev = ww_event_new();
    ev->title = ww_strdup("fine");
    ev->body = ww_strdup("fine too");
    ww_event_add_entity(ev, "ok", "ok", WW_ENT_ORG, WW_FIELD_BODY, 0, 2, 1);
    assert_false(ww_event_sanitize(ev));
    assert_string_equal(ev->title, "fine");

    ww_event_add_entity(ev, "bad\xff", "bad\xc0\xaf", WW_ENT_ORG, WW_FIELD_BODY, 0, 2, 1);
    assert_true(ww_event_sanitize(ev));
    assert_string_equal(ev->entities[1].text, "bad" FFFD);
    assert_true(valid_utf8n(ev->entities[1].canonical, strlen(ev->entities[1].canonical)));
    assert_false(ww_event_sanitize(ev)); /* idempotent */

    for (size_t i = 0; i < 6; i++) {
        char **f = i == 0   ? &ev->source
                   : i == 1 ? &ev->url
                   : i == 2 ? &ev->title
                   : i == 3 ? &ev->body
                   : i == 4 ? &ev->lang
                            : &ev->id;
        ww_free(*f);
        *f = ww_strdup("x\xe2\x82");
        assert_true(ww_event_sanitize(ev));
        assert_string_equal(*f, "x" FFFD);
    }
    ww_event_add_keyword(ev, "\xed\xa0\x80", 1);
    ww_event_add_quote(ev, "\xff", "\xfe");
    assert_true(ww_event_sanitize(ev));
    assert_string_equal(ev->keywords[0].term, FFFD FFFD FFFD);
    assert_string_equal(ev->quotes[0].speaker, FFFD);
    assert_string_equal(ev->quotes[0].text, FFFD);
    assert_false(ww_event_sanitize(NULL));
    ww_event_destroy(&ev);
}

/* ---- URLs ------------------------------------------------------------------------------- */

static void check_url(const char *in, const char *want)
{
    char *c = ww_url_canonical(in);
    if (!want) {
        assert_null(c);
        return;
    }
    assert_non_null(c);
    assert_string_equal(c, want);
    /* canonical form is a fixed point */
    char *again = ww_url_canonical(c);
    assert_non_null(again);
    assert_string_equal(again, c);
    ww_free(again);
    ww_free(c);
}

static void test_url_canonical(void **state)
{
    (void)state;
    /* case of scheme and host; path case kept */
    check_url("HTTPS://News.Example.ORG/World/Story", "https://news.example.org/World/Story");
    /* default ports dropped, others kept */
    check_url("http://example.org:80/a", "http://example.org/a");
    check_url("https://example.org:443/a", "https://example.org/a");
    check_url("https://example.org:8443/a", "https://example.org:8443/a");
    check_url("http://example.org:443/a", "http://example.org:443/a");
    /* fragment dropped; empty path becomes "/" */
    check_url("https://example.org/a#comments", "https://example.org/a");
    check_url("https://example.org", "https://example.org/");
    check_url("https://example.org#x", "https://example.org/");
    /* tracking parameters dropped, the rest kept in their order */
    check_url("https://example.org/a?utm_source=rss&b=2&utm_medium=feed&a=1&fbclid=Z",
              "https://example.org/a?b=2&a=1");
    check_url("https://example.org/a?gclid=1&dclid=2&msclkid=3&mc_cid=4&mc_eid=5&igshid=6"
              "&_ga=7&ref_src=8&UTM_Campaign=9",
              "https://example.org/a");
    check_url("https://example.org/a?z=1&y=2", "https://example.org/a?z=1&y=2");
    /* look-alike names are not tracking parameters */
    check_url("https://example.org/a?utm=1&ref=2&gclidx=3",
              "https://example.org/a?utm=1&ref=2&gclidx=3");
    check_url("https://example.org/a?&&id=3&", "https://example.org/a?id=3");
    /* surrounding blanks and dot segments */
    check_url("  https://example.org/a/../b/./c\n", "https://example.org/b/c");
    /* not URLs */
    check_url("not a url", NULL);
    check_url("example.org/no-scheme", NULL);
    check_url("", NULL);
    check_url("   ", NULL);
    check_url("https://", NULL);
    check_url(NULL, NULL);
}

/* ---- ids -------------------------------------------------------------------------------- */

static bool is_id(const char *id)
{
    if (!id || strlen(id) != 32)
        return false;
    for (int i = 0; i < 32; i++)
        if (!isdigit((unsigned char)id[i]) && !(id[i] >= 'a' && id[i] <= 'f'))
            return false;
    return true;
}

/* Computes the id of an event with these fields. Caller owns. */
static char *id_of(const char *url, const char *title, const char *body)
{
    ww_event_t *ev = ww_event_new();
    ev->url = ww_strdup(url);
    ev->title = ww_strdup(title);
    ev->body = ww_strdup(body);
    ww_event_compute_id(ev);
    assert_true(is_id(ev->id));
    char *id = ww_strdup(ev->id);
    ww_event_destroy(&ev);
    return id;
}

static void assert_same_id(char *a, char *b)
{
    assert_string_equal(a, b);
    ww_free(a);
    ww_free(b);
}

static void assert_other_id(char *a, char *b)
{
    assert_string_not_equal(a, b);
    ww_free(a);
    ww_free(b);
}

static void test_ids(void **state)
{
    (void)state;
    /* equivalent URLs: same id whatever the text */
    assert_same_id(id_of("https://Example.org:443/a?utm_source=x&id=1#top", "One", "x"),
                   id_of("https://example.org/a?id=1", "Other title", "y"));
    assert_same_id(id_of("http://EXAMPLE.org", NULL, "b"),
                   id_of("http://example.org:80/", "t", NULL));
    /* different URLs: different ids */
    assert_other_id(id_of("https://example.org/a?id=1", "t", "b"),
                    id_of("https://example.org/a?id=2", "t", "b"));
    assert_other_id(id_of("https://example.org/a", "t", "b"),
                    id_of("http://example.org/a", "t", "b"));
    assert_other_id(id_of("https://example.org/A", "t", "b"),
                    id_of("https://example.org/a", "t", "b"));
    /* no URL, or an unusable one: title and body decide */
    assert_same_id(id_of(NULL, "Title", "Body"), id_of("not a url", "Title", "Body"));
    assert_same_id(id_of(NULL, "Title", "Body"), id_of(NULL, "Title", "Body"));
    assert_other_id(id_of(NULL, "Title", "Body"), id_of(NULL, "Title", "Body!"));
    assert_other_id(id_of(NULL, "Title", "Body"), id_of(NULL, "Body", "Title"));
    /* the separator matters: "ab"+"" is not "a"+"b" */
    assert_other_id(id_of(NULL, "ab", ""), id_of(NULL, "a", "b"));
    /* an absent field hashes like an empty one */
    assert_same_id(id_of(NULL, "t", NULL), id_of(NULL, "t", ""));
    /* a URL id never collides with the text id of the same string */
    assert_other_id(id_of("https://example.org/", NULL, NULL),
                    id_of(NULL, "https://example.org/", NULL));

    /* other fields do not matter; an old id is replaced */
    ww_event_t *a = ww_event_new(), *b = ww_event_new();
    a->title = ww_strdup("Same");
    b->title = ww_strdup("Same");
    b->source = ww_strdup("elsewhere");
    b->lang = ww_strdup("de");
    b->published_at = 12345000;
    b->id = ww_strdup("stale");
    ww_event_compute_id(a);
    ww_event_compute_id(b);
    assert_string_equal(a->id, b->id);
    ww_event_compute_id(b); /* stable on recomputation */
    assert_string_equal(a->id, b->id);
    ww_event_destroy(&a);
    ww_event_destroy(&b);

    /* ids are spread out: many distinct texts give distinct ids */
    char *ids[200];
    for (int i = 0; i < 200; i++) {
        char t[32];
        snprintf(t, sizeof(t), "story %d", i);
        ids[i] = id_of(NULL, t, NULL);
    }
    for (int i = 0; i < 200; i++)
        for (int j = i + 1; j < 200; j++)
            assert_string_not_equal(ids[i], ids[j]);
    for (int i = 0; i < 200; i++)
        ww_free(ids[i]);
}

/* Decoding repairs before hashing: two producers sending the same bad bytes
 * get the same id, and the id only ever sees valid UTF-8. */
static void test_id_after_decode(void **state)
{
    (void)state;
    const char *j1 = "{\"title\":\"caf\xe9\",\"body\":\"b\"}";
    const char *j2 = "{\"body\":\"b\",\"title\":\"caf\xe9\"}";
    ww_event_t *a = NULL, *b = NULL;
    ww_decode_status_t st;
    assert_int_equal(ww_event_decode_json(j1, strlen(j1), NULL, &a, &st), 0);
    assert_true(st.repaired & (1u << WW_BAD_UTF8));
    assert_int_equal(ww_event_decode_json(j2, strlen(j2), NULL, &b, &st), 0);
    ww_event_compute_id(a);
    ww_event_compute_id(b);
    assert_string_equal(a->id, b->id);
    char *direct = id_of(NULL, "caf" FFFD, "b");
    assert_string_equal(a->id, direct);
    ww_free(direct);
    ww_event_destroy(&a);
    ww_event_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_repair_cases),
        cmocka_unit_test(test_utf8_repair_random),
        cmocka_unit_test(test_sanitize_event),
        cmocka_unit_test(test_url_canonical),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_id_after_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
