/* test_feed.c - the feed parser on our own fixtures (tests/fixtures/feeds)
 * and, when ../shared/data is present, on every real-world feed there: each
 * yields items or a clear, counted error, and never text with control
 * characters or invalid UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww/alloc.h"
#include "ww/feed.h"
#include "wwtest.h"

#define FIXTURES WW_SOURCE_DATADIR "/../tests/fixtures/feeds"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, r;
    char *buf = ww_malloc(cap);
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap)
            buf = ww_realloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

static ww_feed_t *parse_fixture(const char *name, const char *url)
{
    char *path = ww_asprintf("%s/%s", FIXTURES, name);
    size_t len;
    char *buf = slurp(path, &len);
    assert_non_null(buf);
    ww_feed_t *f = NULL;
    char err[200];
    int rc = ww_feed_parse(buf, len, url, NULL, &f, err, sizeof err);
    ww_free(buf);
    ww_free(path);
    if (rc < 0)
        return NULL;
    return f;
}

/* No C0/C1 control characters except \n, valid UTF-8 (the parser repairs). */
static bool clean_text(const char *s)
{
    if (!s)
        return true;
    const unsigned char *p = (const unsigned char *)s;
    for (; *p; p++) {
        if (*p < 0x20 && *p != '\n')
            return false;
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            return false;
    }
    bool rep;
    char *fixed = ww_utf8_repair(s, strlen(s), &rep);
    ww_free(fixed);
    return !rep;
}

static void test_rss2(void **state)
{
    (void)state;
    ww_feed_t *f = parse_fixture("rss2.xml", "https://gazette.example/feeds/main.xml");
    assert_non_null(f);
    assert_int_equal(f->format, WW_FEED_RSS);
    assert_false(f->recovered);
    assert_string_equal(f->title, "Harbour Gazette");
    assert_int_equal(f->n_items, 2);
    ww_feed_item_t *a = &f->items[0];
    assert_string_equal(a->id, "gazette-1001");
    assert_string_equal(a->title, "Ferry strike ends & services resume");
    /* relative link resolved against the feed URL */
    assert_string_equal(a->link, "https://gazette.example/2024/ferry-strike?utm_campaign=rss#top");
    assert_int_equal(a->published_ms, INT64_C(1714548600000)); /* 07:30Z */
    assert_string_equal(a->author, "Ann Reed");
    assert_string_equal(a->lang, "en-gb");
    /* content:encoded: tags and scripts gone, &nbsp; a space, blocks on lines */
    assert_string_equal(a->content, "Ferries sailed again on Wednesday.\nUnions agreed.");
    assert_string_equal(a->summary, "Short summary.");
    ww_feed_item_t *b = &f->items[1];
    assert_string_equal(b->title, "Harbour lights festival");
    assert_string_equal(b->link, "https://gazette.example/2024/lights"); /* permalink guid */
    assert_string_equal(b->summary, "Lanterns along the quay.");
    assert_int_equal(b->published_ms, INT64_C(1714676400000));
    ww_event_t *ev = ww_feed_item_to_event(f, a, "https://gazette.example/feeds/main.xml");
    assert_non_null(ev);
    assert_string_equal(ev->source, "https://gazette.example/feeds/main.xml");
    assert_string_equal(ev->body, a->content); /* the longer text */
    assert_int_equal(ev->published_at, a->published_ms);
    ww_event_destroy(&ev);
    ww_feed_destroy(&f);
    assert_null(f);
}

static void test_rdf_and_atom(void **state)
{
    (void)state;
    ww_feed_t *f = parse_fixture("rdf.xml", NULL);
    assert_non_null(f);
    assert_int_equal(f->format, WW_FEED_RDF);
    assert_int_equal(f->n_items, 1);
    assert_string_equal(f->items[0].id, "http://moor.example/notes/7");
    assert_int_equal(f->items[0].published_ms, INT64_C(1723694400000));
    ww_feed_destroy(&f);

    f = parse_fixture("atom.xml", "https://elsewhere.example/feed");
    assert_non_null(f);
    assert_int_equal(f->format, WW_FEED_ATOM);
    assert_int_equal(f->n_items, 1);
    ww_feed_item_t *e = &f->items[0];
    assert_string_equal(e->title, "La mar\xC3\xA9" "e monte");
    /* alternate (not enclosure) link, resolved against xml:base */
    assert_string_equal(e->link, "https://quai.example/journal/2024/maree");
    assert_int_equal(e->published_ms, INT64_C(1717226130500)); /* published wins over updated */
    assert_string_equal(e->lang, "fr");
    assert_string_equal(e->author, "Luc Moreau");
    assert_string_equal(e->content, "Coefficient record.\nDeuxi\xC3\xA8me paragraphe.");
    ww_feed_destroy(&f);
}

static void test_latin1_and_broken(void **state)
{
    (void)state;
    ww_feed_t *f = parse_fixture("latin1.xml", NULL);
    assert_non_null(f);
    assert_string_equal(f->encoding, "ISO-8859-1");
    assert_string_equal(f->items[0].title, "Gr\xC3\xBC\xC3\x9F" "e aus M\xC3\xBCnchen");
    assert_int_equal(f->items[0].published_ms, INT64_C(1704629100000)); /* 2-digit year, CET */
    ww_feed_destroy(&f);

    f = parse_fixture("broken.xml", NULL);
    assert_non_null(f);
    assert_true(f->recovered);
    assert_true(f->n_repairs > 0);
    assert_int_equal(f->n_items, 2);
    assert_string_equal(f->items[0].link, "http://bay.example/a?x=1&y=2");
    assert_non_null(strstr(f->items[0].title, "\xC2\xA3" "5")); /* &pound; decoded */
    assert_true(clean_text(f->items[0].title));
    assert_string_equal(f->items[1].title, "Truncated item");
    ww_feed_destroy(&f);

    assert_null(parse_fixture("notafeed.xml", NULL));
}

static void test_errors(void **state)
{
    (void)state;
    ww_feed_t *f = NULL;
    char err[200];
    assert_int_equal(ww_feed_parse("", 0, NULL, NULL, &f, err, sizeof err), -1);
    assert_string_equal(err, "empty document");
    assert_int_equal(ww_feed_parse("  \n ", 4, NULL, NULL, &f, err, sizeof err), -1);
    assert_int_equal(ww_feed_parse("hello world", 11, NULL, NULL, &f, err, sizeof err), -1);
    assert_true(err[0] != '\0');
    assert_null(f);
    /* an HTTP charset is used when the document declares none */
    const char koi[] = "<rss><channel><item><title>\xf0\xd2\xc9\xd7\xc5\xd4</title></item></channel></rss>";
    assert_int_equal(ww_feed_parse(koi, sizeof koi - 1, NULL, "koi8-r", &f, err, sizeof err), 0);
    assert_string_equal(f->items[0].title, "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"); /* Привет */
    ww_feed_destroy(&f);
    /* double-encoded UTF-8 is undone */
    char *fixed = ww_fix_mojibake("caf\xC3\x83\xC2\xA9");
    assert_non_null(fixed);
    assert_string_equal(fixed, "caf\xC3\xA9");
    ww_free(fixed);
    assert_null(ww_fix_mojibake("caf\xC3\xA9")); /* real Latin-1 text is left alone */
    assert_null(ww_fix_mojibake("plain"));
}

/* Every real-world file: items, or a clear error; clean text; no crash. */
static void test_shared_feeds(void **state)
{
    (void)state;
    const char *data = wwt_shared_data();
    if (!data) {
        print_message("skipped: ../shared/data not present\n");
        skip();
    }
    char *dir = ww_asprintf("%s/feeds", data);
    DIR *d = opendir(dir);
    if (!d) {
        ww_free(dir);
        print_message("skipped: no feeds directory in shared data\n");
        skip();
    }
    struct dirent *de;
    int files = 0, ok = 0, errors = 0, recovered = 0;
    size_t items = 0;
    while ((de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        if (nl < 5 || strcmp(de->d_name + nl - 4, ".xml") != 0)
            continue;
        char *path = ww_asprintf("%s/%s", dir, de->d_name);
        size_t len;
        char *buf = slurp(path, &len);
        assert_non_null(buf);
        ww_feed_t *f = NULL;
        char err[200] = "";
        files++;
        if (ww_feed_parse(buf, len, "http://feeds.example/x.xml", NULL, &f, err, sizeof err) < 0) {
            errors++;
            assert_true(strlen(err) > 5); /* a clear message */
            print_message("  %s: error: %s\n", de->d_name, err);
        } else {
            ok++;
            recovered += f->recovered;
            items += f->n_items;
            assert_true(clean_text(f->title));
            for (size_t i = 0; i < f->n_items; i++) {
                ww_feed_item_t *it = &f->items[i];
                assert_non_null(it->id);
                assert_true(clean_text(it->title));
                assert_true(clean_text(it->summary));
                assert_true(clean_text(it->content));
                assert_true(clean_text(it->link));
                assert_false(it->link && strchr(it->link, ' '));
                if (it->title)
                    assert_null(strstr(it->title, "<p>")); /* HTML turned into text */
            }
        }
        /* the malformed ones are flagged, never passed as clean */
        bool wellformed_edge = strstr(de->d_name, "always_strip_doctype") || strstr(de->d_name, "high_bit_date");
        if (f && !wellformed_edge && (strstr(de->d_name, "illformed") || strstr(de->d_name, "bozo") || strstr(de->d_name, "invalid") ||
                  strstr(de->d_name, "illegal_char")))
            assert_true(f->recovered);
        if (f && strstr(de->d_name, "koi8r")) {
            assert_string_equal(f->encoding, "KOI8-R");
            assert_true((unsigned char)f->items[0].title[0] == 0xd0 || (unsigned char)f->items[0].title[0] == 0xd1);
        }
        if (f && strstr(de->d_name, "shiftjis"))
            assert_string_equal(f->encoding, "SHIFT_JIS");
        if (f && strstr(de->d_name, "corrupted_ampersands"))
            assert_string_equal(f->items[0].link, "http://link/get?a=1&b=2");
        if (f && strstr(de->d_name, "double-encoded"))
            assert_string_equal(f->items[0].summary, "\xE2\x80\xA6"); /* U+2026 */
        if (f && strstr(de->d_name, "rss_2.0_reddit"))
            assert_int_equal(f->format, WW_FEED_ATOM); /* sniffed, not trusted from the name */
        if (f && (strstr(de->d_name, "ilgiornale") || strstr(de->d_name, "kdist")))
            assert_true(f->items[0].published_ms > 0);
        ww_feed_destroy(&f);
        ww_free(buf);
        ww_free(path);
    }
    closedir(d);
    ww_free(dir);
    print_message("  shared feeds: %d files, %d parsed (%d recovered), %d errors, %zu items\n", files, ok,
                  recovered, errors, items);
    assert_true(files > 0);
    assert_int_equal(ok + errors, files);
    assert_true(errors <= 2); /* the 0-byte and the comment-only documents */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rss2),          cmocka_unit_test(test_rdf_and_atom),
        cmocka_unit_test(test_latin1_and_broken), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_shared_feeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
