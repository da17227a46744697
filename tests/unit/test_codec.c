/* test_codec.c - the event model (event.c) and its codecs (codec.c MessagePack,
 * json.c JSON): round trips, pack rules, intake equivalence, timestamps,
 * wrong types, hostile bytes, limits and batches; the direct decoder of
 * trusted batches against the msgpack-c tree path, and the lifetime of
 * events whose enrichment lives in one block. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ww/alloc.h"
#include "ww/event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utf8proc.h>

/* ---- helpers -------------------------------------------------------------------- */

/* Independent UTF-8 check (utf8proc): valid and NUL-free. */
static bool valid_utf8(const char *s)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t n = (utf8proc_ssize_t)strlen(s);
    while (n > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, n, &cp);
        if (k <= 0 || cp < 0)
            return false;
        p += k;
        n -= k;
    }
    return true;
}

static void assert_str_or_null(const char *a, const char *b)
{
    if (!a || !b) {
        assert_null(a);
        assert_null(b);
        return;
    }
    assert_string_equal(a, b);
}

/* Packs ev into a new malloc'd buffer (free()). */
static char *pack(const ww_event_t *ev, bool internal, size_t *len)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    ww_event_pack(&pk, ev, internal);
    *len = sb.size;
    return msgpack_sbuffer_release(&sb);
}

static void pk_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

static void pk_bin(msgpack_packer *pk, const char *s, size_t n)
{
    msgpack_pack_bin(pk, n);
    msgpack_pack_bin_body(pk, s, n);
}

/* Offset of needle in hay (must be there). */
static uint32_t off(const char *hay, const char *needle)
{
    const char *p = strstr(hay, needle);
    assert_non_null(p);
    return (uint32_t)(p - hay);
}

/* An event with every field set. */
static ww_event_t *full_event(void)
{
    ww_event_t *ev = ww_event_new();
    ev->source = ww_strdup("unit-test producer");
    ev->url = ww_strdup("https://news.example.org/2024/harbour?id=7");
    ev->title = ww_strdup("Minister Ana Lind opens the Zürich harbour");
    ev->body = ww_strdup("Ana Lind said \"We open today.\" Trade talks follow in Zürich.");
    ev->lang = ww_strdup("en");
    ev->published_at = 1709632800123;
    ev->ingested_at = 1709632801456;
    ev->replay = true;
    ev->seq = 424242;
    ww_event_compute_id(ev);
    uint32_t s = off(ev->title, "Ana Lind");
    ww_event_add_entity(ev, "Ana Lind", "Minister Ana Lind", WW_ENT_PER, WW_FIELD_TITLE, s,
                        s + 8, 2);
    s = off(ev->body, "Zürich");
    ww_event_add_entity(ev, "Zürich", "Zürich", WW_ENT_LOC, WW_FIELD_BODY, s,
                        s + (uint32_t)strlen("Zürich"), 2);
    ww_event_add_keyword(ev, "trade talks", 0.8125);
    ww_event_add_keyword(ev, "harbour", 2.5);
    ww_event_add_quote(ev, "Minister Ana Lind", "We open today.");
    ww_event_add_quote(ev, "", "No comment.");
    return ev;
}

static void assert_events_equal(const ww_event_t *a, const ww_event_t *b, bool internal)
{
    assert_int_equal(a->v, b->v);
    assert_str_or_null(a->id, b->id);
    assert_str_or_null(a->source, b->source);
    assert_str_or_null(a->url, b->url);
    assert_str_or_null(a->title, b->title);
    assert_str_or_null(a->body, b->body);
    assert_str_or_null(a->lang, b->lang);
    assert_true(a->published_at == b->published_at);
    assert_true(a->ingested_at == b->ingested_at);
    if (internal) {
        assert_int_equal(a->replay, b->replay);
        assert_true(a->seq == b->seq);
    }
    assert_int_equal(a->n_entities, b->n_entities);
    for (size_t i = 0; i < a->n_entities; i++) {
        const ww_entity_t *x = &a->entities[i], *y = &b->entities[i];
        assert_string_equal(x->text, y->text);
        assert_string_equal(x->canonical, y->canonical);
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->field, y->field);
        assert_int_equal(x->start, y->start);
        assert_int_equal(x->end, y->end);
        assert_int_equal(x->count, y->count);
    }
    assert_int_equal(a->n_keywords, b->n_keywords);
    for (size_t i = 0; i < a->n_keywords; i++) {
        assert_string_equal(a->keywords[i].term, b->keywords[i].term);
        assert_true(a->keywords[i].score == b->keywords[i].score);
    }
    assert_int_equal(a->n_quotes, b->n_quotes);
    for (size_t i = 0; i < a->n_quotes; i++) {
        assert_string_equal(a->quotes[i].speaker, b->quotes[i].speaker);
        assert_string_equal(a->quotes[i].text, b->quotes[i].text);
    }
}

/* Decodes a JSON literal; returns the event or NULL, status in *st. */
static ww_event_t *dj(const char *json, ww_decode_status_t *st)
{
    ww_event_t *ev = NULL;
    int rc = ww_event_decode_json(json, strlen(json), NULL, &ev, st);
    assert_int_equal(rc == 0, ev != NULL);
    assert_int_equal(rc == 0, st->fatal == WW_BAD_NONE);
    return ev;
}

/* Unix ms of a UTC civil time, computed by the C library (the oracle). */
static int64_t utc_ms(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return (int64_t)timegm(&tm) * 1000;
}

#define BIT(b) (1u << (b))

/* ---- event.c -------------------------------------------------------------------- */

static void test_names(void **state)
{
    (void)state;
    for (int t = 0; t < WW_ENT__COUNT; t++) {
        const char *n = ww_ent_type_name((ww_ent_type_t)t);
        assert_non_null(n);
        ww_ent_type_t back = WW_ENT__COUNT;
        assert_int_equal(ww_ent_type_parse(n, &back), 0);
        assert_int_equal(back, t);
    }
    assert_null(ww_ent_type_name(WW_ENT__COUNT));
    assert_int_equal(ww_ent_type_parse("per", NULL), -1);
    assert_int_equal(ww_ent_type_parse("PERSON", NULL), -1);
    assert_int_equal(ww_ent_type_parse(NULL, NULL), -1);
    assert_string_equal(ww_field_name(WW_FIELD_TITLE), "title");
    assert_string_equal(ww_field_name(WW_FIELD_BODY), "body");
    /* every bad kind has its own name */
    for (int i = 0; i < WW_BAD__COUNT; i++)
        for (int j = i + 1; j < WW_BAD__COUNT; j++)
            assert_string_not_equal(ww_bad_name((ww_bad_t)i), ww_bad_name((ww_bad_t)j));
    assert_string_equal(ww_bad_name(WW_BAD_MSGPACK), "msgpack");
    ww_limits_t l;
    ww_limits_default(&l);
    assert_int_equal(l.max_bytes, 1024 * 1024);
    assert_int_equal(l.max_depth, 8);
    assert_int_equal(l.max_elements, 10000);
}

static void test_lifetime_dup_clear(void **state)
{
    (void)state;
    ww_event_t *ev = full_event();
    ww_event_t *d = ww_event_dup(ev);
    assert_events_equal(ev, d, true);
    /* deep copy: changing the copy leaves the original alone */
    d->title[0] = 'X';
    d->entities[0].text[0] = 'X';
    assert_int_equal(ev->title[0], 'M');
    assert_int_equal(ev->entities[0].text[0], 'A');
    ww_event_clear_enrichment(d);
    assert_int_equal(d->n_entities + d->n_keywords + d->n_quotes, 0);
    assert_null(d->entities);
    ww_event_add_keyword(d, "again", 1.0); /* usable after clearing */
    assert_int_equal(d->n_keywords, 1);
    ww_event_destroy(&d);
    assert_null(d);
    ww_event_destroy(&d); /* NULL-safe */
    ww_event_destroy(&ev);
    ev = ww_event_new();
    assert_int_equal(ev->v, WW_EVENT_VERSION);
    assert_null(ev->title);
    assert_true(ev->published_at == 0 && ev->seq == 0 && !ev->replay);
    ww_event_destroy(&ev);
}

static void test_event_time(void **state)
{
    (void)state;
    ww_event_t *ev = ww_event_new();
    assert_true(ww_event_time(ev) == 0);
    ev->ingested_at = 2000;
    assert_true(ww_event_time(ev) == 2000);
    ev->published_at = 1000;
    assert_true(ww_event_time(ev) == 1000);
    ww_event_destroy(&ev);
}

/* ---- MessagePack ------------------------------------------------------------------- */

static void test_msgpack_roundtrip_full(void **state)
{
    (void)state;
    ww_event_t *ev = full_event();
    size_t n;
    char *buf = pack(ev, true, &n);
    ww_event_t *back = NULL;
    ww_decode_status_t st;
    assert_int_equal(ww_event_decode_msgpack(buf, n, NULL, &back, &st), 0);
    assert_int_equal(st.fatal, WW_BAD_NONE);
    assert_int_equal(st.repaired, 0);
    assert_events_equal(ev, back, true);
    ww_event_destroy(&back);
    free(buf);

    /* public output: no replay, no seq, everything else kept */
    buf = pack(ev, false, &n);
    assert_int_equal(ww_event_decode_msgpack(buf, n, NULL, &back, &st), 0);
    assert_events_equal(ev, back, false);
    assert_false(back->replay);
    assert_true(back->seq == 0);
    ww_event_destroy(&back);
    free(buf);
    ww_event_destroy(&ev);
}

static bool map_has(const msgpack_object *m, const char *key)
{
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object *k = &m->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
            memcmp(k->via.str.ptr, key, k->via.str.size) == 0)
            return true;
    }
    return false;
}

/* Packs ev and returns the number of keys of the map; *u holds it. */
static uint32_t pack_keys(const ww_event_t *ev, bool internal, msgpack_unpacked *u, char **buf)
{
    size_t n, o = 0;
    *buf = pack(ev, internal, &n);
    msgpack_unpacked_init(u);
    assert_int_equal(msgpack_unpack_next(u, *buf, n, &o), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(o, n);
    assert_int_equal(u->data.type, MSGPACK_OBJECT_MAP);
    return u->data.via.map.size;
}

static void test_pack_rules(void **state)
{
    (void)state;
    ww_event_t *ev = ww_event_new();
    ev->title = ww_strdup("Only a title");
    msgpack_unpacked u;
    char *buf;

    assert_int_equal(pack_keys(ev, false, &u, &buf), 2);
    assert_true(map_has(&u.data, "v"));
    assert_true(map_has(&u.data, "title"));
    msgpack_unpacked_destroy(&u);
    free(buf);

    /* internal: empty enrichment arrays always, replay/seq only when set */
    assert_int_equal(pack_keys(ev, true, &u, &buf), 5);
    assert_true(map_has(&u.data, "entities"));
    assert_true(map_has(&u.data, "keywords"));
    assert_true(map_has(&u.data, "quotes"));
    assert_false(map_has(&u.data, "replay"));
    assert_false(map_has(&u.data, "seq"));
    msgpack_unpacked_destroy(&u);
    free(buf);

    ev->replay = true;
    ev->seq = 7;
    ev->published_at = 1709632800000;
    assert_int_equal(pack_keys(ev, true, &u, &buf), 8);
    assert_true(map_has(&u.data, "replay"));
    assert_true(map_has(&u.data, "seq"));
    assert_true(map_has(&u.data, "published_at"));
    assert_false(map_has(&u.data, "ingested_at"));
    msgpack_unpacked_destroy(&u);
    free(buf);

    /* public: never replay/seq; enrichment only when non-empty */
    ww_event_add_keyword(ev, "title", 1.0);
    assert_int_equal(pack_keys(ev, false, &u, &buf), 4);
    assert_true(map_has(&u.data, "keywords"));
    assert_false(map_has(&u.data, "entities"));
    assert_false(map_has(&u.data, "replay"));
    assert_false(map_has(&u.data, "seq"));
    msgpack_unpacked_destroy(&u);
    free(buf);
    ww_event_destroy(&ev);
}

/* A tiny packer wrapper for hand-built messages. */
typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} mp_t;

static void mp_init(mp_t *m)
{
    msgpack_sbuffer_init(&m->sb);
    msgpack_packer_init(&m->pk, &m->sb, msgpack_sbuffer_write);
}

static int mp_decode(mp_t *m, ww_event_t **ev, ww_decode_status_t *st)
{
    int rc = ww_event_decode_msgpack(m->sb.data, m->sb.size, NULL, ev, st);
    msgpack_sbuffer_destroy(&m->sb);
    return rc;
}

static void test_json_and_msgpack_same_event(void **state)
{
    (void)state;
    const char *json = "{\"v\":1,\"source\":\"wire\",\"url\":\"https://Example.org:443/story?id=7&"
                       "utm_source=feed#top\",\"title\":\"Harbour reopens\",\"body\":\"The "
                       "harbour reopened on Tuesday.\",\"lang\":\"en\",\"published_at\":"
                       "\"2024-03-05T10:00:00Z\",\"extra\":{\"ignored\":[1,2,3]}}";
    ww_decode_status_t st;
    ww_event_t *a = dj(json, &st);
    assert_non_null(a);
    assert_int_equal(st.repaired, 0);

    /* the same article as MessagePack: seconds instead of ISO, title as bin,
     * keys in another order, an unknown key of another shape */
    mp_t m;
    mp_init(&m);
    msgpack_pack_map(&m.pk, 8);
    pk_str(&m.pk, "published_at");
    msgpack_pack_int64(&m.pk, 1709632800);
    pk_str(&m.pk, "title");
    pk_bin(&m.pk, "Harbour reopens", 15);
    pk_str(&m.pk, "body");
    pk_str(&m.pk, "The harbour reopened on Tuesday.");
    pk_str(&m.pk, "url");
    pk_str(&m.pk, "https://example.org/story?id=7");
    pk_str(&m.pk, "source");
    pk_str(&m.pk, "wire");
    pk_str(&m.pk, "lang");
    pk_str(&m.pk, "en");
    msgpack_pack_int(&m.pk, 99); /* non-string key: ignored */
    msgpack_pack_nil(&m.pk);
    pk_str(&m.pk, "v");
    msgpack_pack_int(&m.pk, 1);
    ww_event_t *b = NULL;
    assert_int_equal(mp_decode(&m, &b, &st), 0);
    assert_int_equal(st.repaired, 0);

    assert_true(a->published_at == utc_ms(2024, 3, 5, 10, 0, 0));
    assert_true(b->published_at == a->published_at);
    assert_string_equal(a->title, b->title);
    assert_string_equal(a->body, b->body);
    assert_string_equal(a->source, b->source);
    assert_string_equal(a->lang, b->lang);
    ww_event_compute_id(a);
    ww_event_compute_id(b);
    assert_string_equal(a->id, b->id); /* URLs differ only in non-canonical parts */
    ww_event_destroy(&a);
    ww_event_destroy(&b);
}

static void test_timestamps(void **state)
{
    (void)state;
    ww_decode_status_t st;
    const int64_t t0 = utc_ms(2024, 3, 5, 10, 0, 0);
    struct {
        const char *json;
        int64_t want;
    } ok[] = {
#define PA "{\"title\":\"t\",\"published_at\":"
        {PA "1709632800}", t0},
        {PA "1709632800123}", t0 + 123},
        {PA "1709632800.5}", t0 + 500},
        {PA "1709632800123.9}", t0 + 123},
        {PA "-86400}", -86400000},
        {PA "\"2024-03-05T10:00:00Z\"}", t0},
        {PA "\"1987-02-26 15:01:01\"}", utc_ms(1987, 2, 26, 15, 1, 1)},
        {PA "\"1987-02-26T15:01:01\"}", utc_ms(1987, 2, 26, 15, 1, 1)},
        {PA "\"2024-03-05T12:00:00+02:00\"}", t0},
        {PA "\"2024-03-05T09:30:00.25-0030\"}", t0 + 250},
        {PA "\"2000-02-29\"}", utc_ms(2000, 2, 29, 0, 0, 0)},
        {PA "\"1709632800\"}", t0},
#undef PA
        {"{\"title\":\"t\",\"ingested_at\":1709632800}", 0},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ww_event_t *ev = dj(ok[i].json, &st);
        assert_non_null(ev);
        assert_int_equal(st.repaired, 0);
        assert_true(ev->published_at == ok[i].want);
        ww_event_destroy(&ev);
    }
    /* ingested_at follows the same rule */
    ww_event_t *ev = dj("{\"title\":\"t\",\"ingested_at\":1709632800}", &st);
    assert_true(ev->ingested_at == utc_ms(2024, 3, 5, 10, 0, 0));
    ww_event_destroy(&ev);

    const char *bad[] = {
        "{\"title\":\"t\",\"published_at\":\"yesterday\"}",
        "{\"title\":\"t\",\"published_at\":\"2023-02-29T00:00:00Z\"}",
        "{\"title\":\"t\",\"published_at\":\"2024-13-01\"}",
        "{\"title\":\"t\",\"published_at\":\"2024-03-05T25:00:00Z\"}",
        "{\"title\":\"t\",\"published_at\":\"2024-03-05T10:00:00Zjunk\"}",
        "{\"title\":\"t\",\"published_at\":[1709632800]}",
        "{\"title\":\"t\",\"published_at\":true}",
        "{\"title\":\"t\",\"published_at\":1e300}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ev = dj(bad[i], &st);
        assert_non_null(ev);
        assert_true(st.repaired & BIT(WW_BAD_TYPE));
        assert_true(ev->published_at == 0);
        ww_event_destroy(&ev);
    }
    /* null is an absent key, not a wrong type */
    ev = dj("{\"title\":\"t\",\"published_at\":null}", &st);
    assert_int_equal(st.repaired, 0);
    ww_event_destroy(&ev);
}

static void test_wrong_types(void **state)
{
    (void)state;
    ww_decode_status_t st;
    ww_event_t *ev = dj("{\"title\":5,\"body\":\"text\"}", &st);
    assert_non_null(ev);
    assert_null(ev->title);
    assert_string_equal(ev->body, "text");
    assert_true(st.repaired & BIT(WW_BAD_TYPE));
    assert_true(st.detail[0] != '\0');
    ww_event_destroy(&ev);

    assert_null(dj("{\"title\":5}", &st));
    assert_int_equal(st.fatal, WW_BAD_EMPTY);
    assert_null(dj("{\"title\":\"\",\"body\":\"\"}", &st));
    assert_int_equal(st.fatal, WW_BAD_EMPTY);
    assert_null(dj("{\"lang\":\"en\"}", &st));
    assert_int_equal(st.fatal, WW_BAD_EMPTY);
    assert_null(dj("{\"title\":\"x\",\"v\":2}", &st));
    assert_int_equal(st.fatal, WW_BAD_VERSION);
    assert_null(dj("{\"title\":\"x\",\"v\":-1}", &st));
    assert_int_equal(st.fatal, WW_BAD_VERSION);

    ev = dj("{\"title\":\"x\",\"v\":\"1\"}", &st);
    assert_true(st.repaired & BIT(WW_BAD_TYPE));
    assert_int_equal(ev->v, 1);
    ww_event_destroy(&ev);
    ev = dj("{\"title\":\"x\",\"v\":1,\"lang\":[\"en\"],\"entities\":\"none\",\"seq\":-3,"
            "\"replay\":\"yes\"}",
            &st);
    assert_non_null(ev);
    assert_int_equal(st.repaired, BIT(WW_BAD_TYPE));
    assert_null(ev->lang);
    assert_int_equal(ev->n_entities, 0);
    assert_false(ev->replay);
    ww_event_destroy(&ev);

    /* unknown keys of any shape are ignored; replay/seq are always accepted */
    ev = dj("{\"title\":\"x\",\"mystery\":{\"a\":[1,{\"b\":null}]},\"replay\":true,\"seq\":9}",
            &st);
    assert_int_equal(st.repaired, 0);
    assert_true(ev->replay);
    assert_true(ev->seq == 9);
    ww_event_destroy(&ev);

    /* not a map */
    assert_null(dj("[{\"title\":\"x\"}]", &st));
    assert_int_equal(st.fatal, WW_BAD_NOT_MAP);
    mp_t m;
    mp_init(&m);
    msgpack_pack_array(&m.pk, 1);
    pk_str(&m.pk, "title");
    assert_int_equal(mp_decode(&m, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_NOT_MAP);
    assert_null(ev);
}

static void test_enrichment_decoding(void **state)
{
    (void)state;
    const char *title = "Ana Lind speaks";
    mp_t m;
    mp_init(&m);
    msgpack_pack_map(&m.pk, 4);
    pk_str(&m.pk, "title");
    pk_str(&m.pk, title);
    pk_str(&m.pk, "entities");
    msgpack_pack_array(&m.pk, 7);
    /* entity: type, field, start, end */
    const struct {
        const char *type, *field;
        int start, end;
    } ents[] = {
        {"PER", "title", 0, 8},    /* kept */
        {"XYZ", "title", 0, 8},    /* unknown type */
        {"PER", "title", 9, 99},   /* end past the field */
        {"PER", "summary", 0, 8},  /* unknown field */
        {"PER", "title", 5, 3},    /* start after end */
        {"PER", "body", 0, 3},     /* no body */
    };
    for (size_t i = 0; i < 6; i++) {
        msgpack_pack_map(&m.pk, 7);
        pk_str(&m.pk, "text");
        pk_str(&m.pk, "Ana Lind");
        pk_str(&m.pk, "type");
        pk_str(&m.pk, ents[i].type);
        pk_str(&m.pk, "canonical");
        pk_str(&m.pk, "Ana Lind");
        pk_str(&m.pk, "field");
        pk_str(&m.pk, ents[i].field);
        pk_str(&m.pk, "start");
        msgpack_pack_int(&m.pk, ents[i].start);
        pk_str(&m.pk, "end");
        msgpack_pack_int(&m.pk, ents[i].end);
        pk_str(&m.pk, "count");
        msgpack_pack_int(&m.pk, 3);
    }
    msgpack_pack_int(&m.pk, 5); /* not a map */
    pk_str(&m.pk, "keywords");
    msgpack_pack_array(&m.pk, 3);
    msgpack_pack_map(&m.pk, 2);
    pk_str(&m.pk, "term");
    pk_str(&m.pk, "lind");
    pk_str(&m.pk, "score");
    msgpack_pack_int(&m.pk, 2); /* an int score is fine */
    msgpack_pack_map(&m.pk, 1);
    pk_str(&m.pk, "score"); /* no term */
    msgpack_pack_double(&m.pk, 1.0);
    msgpack_pack_nil(&m.pk);
    pk_str(&m.pk, "quotes");
    msgpack_pack_array(&m.pk, 2);
    msgpack_pack_map(&m.pk, 1);
    pk_str(&m.pk, "text");
    pk_str(&m.pk, "Hello."); /* speaker missing: "" */
    msgpack_pack_map(&m.pk, 1);
    pk_str(&m.pk, "speaker");
    pk_str(&m.pk, "Ana Lind"); /* no text */

    ww_event_t *ev = NULL;
    ww_decode_status_t st;
    assert_int_equal(mp_decode(&m, &ev, &st), 0);
    assert_int_equal(st.repaired, BIT(WW_BAD_TYPE));
    assert_int_equal(ev->n_entities, 1);
    assert_int_equal(ev->entities[0].type, WW_ENT_PER);
    assert_int_equal(ev->entities[0].end, 8);
    assert_int_equal(ev->entities[0].count, 3);
    assert_int_equal(ev->n_keywords, 1);
    assert_true(ev->keywords[0].score == 2.0);
    assert_int_equal(ev->n_quotes, 1);
    assert_string_equal(ev->quotes[0].speaker, "");
    assert_string_equal(ev->quotes[0].text, "Hello.");
    ww_event_destroy(&ev);
}

/* ---- JSON ---------------------------------------------------------------------------- */

static void test_json_roundtrip(void **state)
{
    (void)state;
    ww_event_t *ev = full_event();
    char *js = ww_event_to_json(ev);
    assert_non_null(js);
    assert_null(strchr(js, '\n'));
    assert_non_null(strstr(js, "Zürich"));     /* UTF-8 kept, not \u escaped */
    assert_null(strstr(js, "\\u00fc"));
    assert_null(strstr(js, "\"replay\""));     /* internal keys stay inside */
    assert_null(strstr(js, "\"seq\""));
    assert_non_null(strstr(js, "\"entities\":[{"));
    assert_non_null(strstr(js, "\"v\":1,"));    /* compact */

    ww_decode_status_t st;
    ww_event_t *back = dj(js, &st);
    assert_non_null(back);
    assert_int_equal(st.repaired, 0);
    assert_events_equal(ev, back, false);
    ww_free(js);
    ww_event_destroy(&back);

    /* absent things stay absent */
    ww_event_clear_enrichment(ev);
    ww_free(ev->url);
    ev->url = NULL;
    ev->published_at = 0;
    js = ww_event_to_json(ev);
    assert_null(strstr(js, "\"entities\""));
    assert_null(strstr(js, "\"url\""));
    assert_null(strstr(js, "\"published_at\""));
    assert_non_null(strstr(js, "\"ingested_at\":1709632801456"));
    ww_free(js);
    ww_event_destroy(&ev);
}

static void test_json_hostile(void **state)
{
    (void)state;
    ww_decode_status_t st;
    const struct {
        const char *text;
        ww_bad_t want;
    } cases[] = {
        {"", WW_BAD_JSON},
        {"{", WW_BAD_JSON},
        {"{\"title\":\"x\"", WW_BAD_JSON},
        {"{\"title\":\"x\"} {}", WW_BAD_JSON},
        {"{'title':'x'}", WW_BAD_JSON},
        {"{\"title\":\"\\ud800\"}", WW_BAD_JSON}, /* lone surrogate escape */
        {"{\"title\":\"x\",\"n\":123456789012345678901234567890}", WW_BAD_JSON},
        {"[1,2]", WW_BAD_NOT_MAP},
        {"[]", WW_BAD_NOT_MAP},
        {"\"title\"", WW_BAD_JSON},
        {"42", WW_BAD_JSON},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_null(dj(cases[i].text, &st));
        assert_int_equal(st.fatal, cases[i].want);
    }

    /* 1000 levels of nesting under an unknown key */
    char *deep = ww_malloc(3000);
    size_t n = (size_t)sprintf(deep, "{\"title\":\"x\",\"d\":");
    for (int i = 0; i < 1000; i++)
        deep[n++] = '[';
    for (int i = 0; i < 1000; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    ww_event_t *ev = NULL;
    assert_int_equal(ww_event_decode_json(deep, n, NULL, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_LIMIT);
    assert_int_equal(ww_event_decode_any(deep, n, NULL, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_LIMIT);
    ww_free(deep);

    /* NULs and invalid bytes are repaired, the event kept */
    const char raw[] = "{\"title\":\"a\\u0000b\",\"body\":\"x\xff\xc0\xafy\xed\xa0\x80z\"}";
    ev = dj(raw, &st);
    assert_non_null(ev);
    assert_true(st.repaired & BIT(WW_BAD_UTF8));
    assert_string_equal(ev->title, "ab");
    assert_true(valid_utf8(ev->body));
    assert_non_null(strstr(ev->body, "\xef\xbf\xbd"));
    assert_int_equal(ev->body[0], 'x');
    assert_int_equal(ev->body[strlen(ev->body) - 1], 'z');
    ww_event_destroy(&ev);

    /* a raw NUL byte inside the text */
    const char rawnul[] = "{\"title\":\"a\0b\"}";
    assert_int_equal(ww_event_decode_json(rawnul, sizeof(rawnul) - 1, NULL, &ev, &st), 0);
    assert_string_equal(ev->title, "ab");
    assert_true(st.repaired & BIT(WW_BAD_UTF8));
    ww_event_destroy(&ev);

    /* a key with an escaped NUL is not the key before the NUL */
    const char nulkey[] = "{\"title\\u0000x\":\"bad\",\"body\":\"b\"}";
    if (ww_event_decode_json(nulkey, sizeof(nulkey) - 1, NULL, &ev, &st) == 0) {
        assert_null(ev->title);
        ww_event_destroy(&ev);
    }

    /* leading BOM and blanks */
    const char bom[] = "\xef\xbb\xbf  {\"title\":\"x\"}";
    assert_int_equal(ww_event_decode_any(bom, sizeof(bom) - 1, NULL, &ev, &st), 0);
    assert_string_equal(ev->title, "x");
    ww_event_destroy(&ev);
}

/* ---- hostile MessagePack -------------------------------------------------------------- */

static void test_msgpack_truncated(void **state)
{
    (void)state;
    ww_event_t *ev = full_event();
    size_t n;
    char *buf = pack(ev, true, &n);
    ww_event_destroy(&ev);
    ww_decode_status_t st;
    for (size_t k = 0; k < n; k++) {
        char *cut = ww_malloc(k ? k : 1); /* exact size: ASan catches over-reads */
        memcpy(cut, buf, k);
        assert_int_equal(ww_event_decode_msgpack(cut, k, NULL, &ev, &st), -1);
        assert_int_equal(st.fatal, WW_BAD_MSGPACK);
        assert_null(ev);
        ww_free(cut);
    }
    /* trailing bytes */
    char *more = ww_malloc(n + 1);
    memcpy(more, buf, n);
    more[n] = (char)0xc0;
    assert_int_equal(ww_event_decode_msgpack(more, n + 1, NULL, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_MSGPACK);
    ww_free(more);
    free(buf);
}

static void test_msgpack_hostile(void **state)
{
    (void)state;
    ww_decode_status_t st;
    ww_event_t *ev = NULL;

    /* 1000 nested arrays, alone and under an unknown key */
    char deep[1100];
    memset(deep, 0x91, 1000);
    deep[1000] = (char)0xc0;
    assert_int_equal(ww_event_decode_msgpack(deep, 1001, NULL, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_LIMIT);
    char deep2[1100];
    memcpy(deep2, "\x82\xa5title\xa1x\xa1" "d", 11);
    memset(deep2 + 11, 0x91, 1000);
    deep2[1011] = (char)0xc0;
    assert_int_equal(ww_event_decode_msgpack(deep2, 1012, NULL, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_LIMIT);
    /* with a permissive depth limit msgpack-c's own bound still holds */
    ww_limits_t lim;
    ww_limits_default(&lim);
    lim.max_depth = 100000;
    assert_int_equal(ww_event_decode_msgpack(deep2, 1012, &lim, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_LIMIT);

    /* an array claiming 2^31 elements, at the top and as a value */
    const char huge[] = "\xdd\x80\x00\x00\x00\xc0";
    assert_int_equal(ww_event_decode_msgpack(huge, 6, NULL, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_LIMIT);
    const char huge2[] = "\x81\xa8" "entities" "\xdd\x80\x00\x00\x00";
    assert_int_equal(ww_event_decode_msgpack(huge2, sizeof(huge2) - 1, NULL, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_LIMIT);
    /* even with no element limit: nothing is allocated for missing elements */
    lim.max_depth = 8;
    lim.max_elements = SIZE_MAX;
    assert_int_equal(ww_event_decode_msgpack(huge2, sizeof(huge2) - 1, &lim, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_MSGPACK);
    const char hugemap[] = "\xdf\xff\xff\xff\xff";
    assert_int_equal(ww_event_decode_msgpack(hugemap, 5, &lim, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_MSGPACK);

    /* a string claiming 4 GiB */
    const char bigstr[] = "\x81\xa5title\xdb\xff\xff\xff\xff" "abc";
    assert_int_equal(ww_event_decode_msgpack(bigstr, sizeof(bigstr) - 1, NULL, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_LIMIT);

    /* reserved byte */
    assert_int_equal(ww_event_decode_msgpack("\xc1", 1, NULL, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_MSGPACK);

    /* scalars at the top */
    assert_int_equal(ww_event_decode_msgpack("\x2a", 1, NULL, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_NOT_MAP);
    assert_int_equal(ww_event_decode_any("\x2a", 1, NULL, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_NOT_MAP);

    /* deterministic garbage and mutations: never crash, and whatever is
     * accepted obeys the event invariants */
    ww_event_t *full = full_event();
    size_t n;
    char *good = pack(full, true, &n);
    ww_event_destroy(&full);
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    char *buf = ww_malloc(n);
    int accepted = 0;
    for (int round = 0; round < 20000; round++) {
        size_t len;
        if (round % 2) {
            memcpy(buf, good, n);
            len = n;
            for (int k = 0; k < 1 + round % 4; k++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                buf[x % n] = (char)(x >> 32);
            }
        } else {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            len = 1 + x % (n < 64 ? n : 64);
            for (size_t k = 0; k < len; k++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                buf[k] = (char)x;
            }
        }
        if (ww_event_decode_any(buf, len, NULL, &ev, &st) == 0) {
            assert_int_equal(st.fatal, WW_BAD_NONE);
            assert_true((ev->title && ev->title[0]) || (ev->body && ev->body[0]));
            if (ev->title)
                assert_true(valid_utf8(ev->title));
            if (ev->body)
                assert_true(valid_utf8(ev->body));
            for (size_t i = 0; i < ev->n_entities; i++) {
                const char *f = ev->entities[i].field == WW_FIELD_TITLE ? ev->title : ev->body;
                assert_true(ev->entities[i].end <= strlen(f));
            }
            ww_event_destroy(&ev);
            accepted++;
        } else {
            assert_int_not_equal(st.fatal, WW_BAD_NONE);
            assert_null(ev);
        }
    }
    assert_true(accepted > 100); /* the invariants above were really exercised */
    ww_free(buf);
    free(good);
}

static void test_msgpack_utf8(void **state)
{
    (void)state;
    /* invalid bytes, an overlong '/', a surrogate, a NUL: all in one title */
    const char bad[] = "ok\xff-\xc0\xaf-\xed\xa0\x80-a\0b-\xe2\x82";
    mp_t m;
    mp_init(&m);
    msgpack_pack_map(&m.pk, 2);
    pk_str(&m.pk, "title");
    msgpack_pack_str(&m.pk, sizeof(bad) - 1);
    msgpack_pack_str_body(&m.pk, bad, sizeof(bad) - 1);
    pk_str(&m.pk, "source");
    pk_bin(&m.pk, "src\x80", 4);
    ww_event_t *ev = NULL;
    ww_decode_status_t st;
    assert_int_equal(mp_decode(&m, &ev, &st), 0);
    assert_int_equal(st.repaired, BIT(WW_BAD_UTF8));
    assert_true(valid_utf8(ev->title));
    assert_true(valid_utf8(ev->source));
    assert_non_null(strstr(ev->title, "-ab-")); /* NUL removed, neighbours kept */
    assert_int_equal(strncmp(ev->title, "ok", 2), 0);
    assert_null(strstr(ev->title, "\xc0"));
    assert_null(strstr(ev->title, "\xed\xa0"));
    ww_event_destroy(&ev);
}

static void test_limits(void **state)
{
    (void)state;
    ww_limits_t lim;
    ww_decode_status_t st;
    ww_event_t *ev = NULL;
    const char *js = "{\"title\":\"0123456789A\",\"entities\":[{},{},{}]}";

    ww_limits_default(&lim);
    lim.max_string = 10;
    assert_int_equal(ww_event_decode_json(js, strlen(js), &lim, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_LIMIT);
    ww_limits_default(&lim);
    lim.max_elements = 2;
    assert_int_equal(ww_event_decode_json(js, strlen(js), &lim, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_LIMIT);
    ww_limits_default(&lim);
    lim.max_depth = 2; /* the entity maps are at depth 3 */
    assert_int_equal(ww_event_decode_json(js, strlen(js), &lim, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_LIMIT);
    lim.max_depth = 3;
    assert_int_equal(ww_event_decode_json(js, strlen(js), &lim, &ev, &st), 0);
    ww_event_destroy(&ev);

    /* the same limits in MessagePack */
    ww_event_t *full = full_event();
    size_t n;
    char *buf = pack(full, true, &n);
    ww_limits_default(&lim);
    lim.max_string = 20;
    assert_int_equal(ww_event_decode_msgpack(buf, n, &lim, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_LIMIT);
    ww_limits_default(&lim);
    lim.max_elements = 1;
    assert_int_equal(ww_event_decode_msgpack(buf, n, &lim, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_LIMIT);

    /* oversize: every entry point */
    ww_limits_default(&lim);
    lim.max_bytes = n - 1;
    assert_int_equal(ww_event_decode_msgpack(buf, n, &lim, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_OVERSIZE);
    assert_int_equal(ww_event_decode_any(buf, n, &lim, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_OVERSIZE);
    char *j = ww_event_to_json(full);
    lim.max_bytes = strlen(j) - 1;
    assert_int_equal(ww_event_decode_json(j, strlen(j), &lim, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_OVERSIZE);
    assert_int_equal(ww_event_decode_any(j, strlen(j), &lim, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_OVERSIZE);
    lim.max_bytes = strlen(j);
    assert_int_equal(ww_event_decode_any(j, strlen(j), &lim, &ev, &st), 0);
    ww_event_destroy(&ev);

    /* ww_event_from_object checks the tree itself */
    msgpack_unpacked u;
    size_t o = 0;
    msgpack_unpacked_init(&u);
    assert_int_equal(msgpack_unpack_next(&u, buf, n, &o), MSGPACK_UNPACK_SUCCESS);
    ww_limits_default(&lim);
    lim.max_depth = 1;
    assert_int_equal(ww_event_from_object(&u.data, &lim, &ev, &st), -1);
    assert_int_equal(st.fatal, WW_BAD_LIMIT);
    assert_int_equal(ww_event_from_object(&u.data, NULL, &ev, &st), 0);
    assert_events_equal(full, ev, true);
    ww_event_destroy(&ev);
    msgpack_unpacked_destroy(&u);

    ww_free(j);
    free(buf);
    ww_event_destroy(&full);
}

/* ---- batches ------------------------------------------------------------------------- */

static void test_batch(void **state)
{
    (void)state;
    ww_event_t *a = full_event(), *b = full_event();
    ww_free(b->title);
    b->title = ww_strdup("Minister Ana Lind opens the Zürich harbour, again"); /* offsets hold */
    b->seq = 99;
    b->replay = false;

    /* a good batch */
    ww_event_t *list[3] = {a, NULL, b};
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    ww_event_pack_batch(&pk, list, 3);
    ww_event_t **out = NULL;
    uint64_t bad[WW_BAD__COUNT] = {0};
    assert_int_equal(ww_event_decode_batch(sb.data, sb.size, NULL, &out, bad), 2);
    assert_events_equal(a, out[0], true);
    assert_events_equal(b, out[1], true);
    for (int i = 0; i < 2; i++)
        ww_event_destroy(&out[i]);
    ww_free(out);

    /* bad elements in the middle are skipped and counted */
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_array(&pk, 5);
    ww_event_pack(&pk, a, true);
    msgpack_pack_map(&pk, 1); /* no title, no body */
    pk_str(&pk, "lang");
    pk_str(&pk, "en");
    msgpack_pack_int(&pk, 17); /* not a map */
    msgpack_pack_map(&pk, 2);  /* wrong version */
    pk_str(&pk, "v");
    msgpack_pack_int(&pk, 3);
    pk_str(&pk, "title");
    pk_str(&pk, "x");
    ww_event_pack(&pk, b, true);
    memset(bad, 0, sizeof(bad));
    assert_int_equal(ww_event_decode_batch(sb.data, sb.size, NULL, &out, bad), 2);
    assert_string_equal(out[0]->title, a->title);
    assert_string_equal(out[1]->title, b->title);
    assert_true(out[1]->seq == 99);
    assert_true(bad[WW_BAD_EMPTY] == 1);
    assert_true(bad[WW_BAD_NOT_MAP] == 1);
    assert_true(bad[WW_BAD_VERSION] == 1);
    for (int i = 0; i < 2; i++)
        ww_event_destroy(&out[i]);
    ww_free(out);

    /* a truncated batch, a map instead of an array, an empty batch */
    memset(bad, 0, sizeof(bad));
    assert_int_equal(ww_event_decode_batch(sb.data, sb.size - 1, NULL, &out, bad), -1);
    assert_true(bad[WW_BAD_MSGPACK] == 1);
    assert_null(out);
    msgpack_sbuffer_clear(&sb);
    ww_event_pack(&pk, a, true);
    assert_int_equal(ww_event_decode_batch(sb.data, sb.size, NULL, &out, NULL), -1);
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_array(&pk, 0);
    assert_int_equal(ww_event_decode_batch(sb.data, sb.size, NULL, &out, NULL), 0);
    ww_free(out);

    msgpack_sbuffer_destroy(&sb);
    ww_event_destroy(&a);
    ww_event_destroy(&b);
}

/* The internal hop form: entities, keywords and quotes as compact arrays
 * (smaller than the public maps), decoded by both the trusted batch decoder
 * and the public decoder; malformed compact elements are dropped; trusted
 * decoding skips the UTF-8 repair that the untrusted path does. */
static void test_internal_compact(void **state)
{
    (void)state;
    ww_event_t *ev = full_event();
    size_t lp, li;
    char *pub = pack(ev, false, &lp), *in = pack(ev, true, &li);
    assert_true(li < lp); /* compact, although it also carries replay and seq */
    /* the public map form has no arrays inside the enrichment, the internal one has */
    assert_non_null(memmem(pub, lp, "canonical", 9));
    assert_null(memmem(in, li, "canonical", 9));
    ww_event_t *d = NULL;
    ww_decode_status_t st;
    assert_int_equal(ww_event_decode_msgpack(in, li, NULL, &d, &st), 0);
    assert_int_equal(st.repaired, 0);
    assert_events_equal(ev, d, true);
    ww_event_destroy(&d);

    /* the same through the trusted batch decoder */
    ww_event_t *list[1] = {ev};
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    ww_event_pack_batch(&pk, list, 1);
    ww_event_t **out = NULL;
    uint64_t bad[WW_BAD__COUNT] = {0};
    assert_int_equal(ww_event_decode_batch_ex(sb.data, sb.size, NULL, WW_DECODE_TRUSTED, &out, bad), 1);
    assert_events_equal(ev, out[0], true);
    ww_event_destroy(&out[0]);
    ww_free(out);

    /* malformed compact elements: wrong arity, type out of range, field out
     * of range, start > end, offsets past the field, non-string text */
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_map(&pk, 3);
    pk_str(&pk, "title");
    pk_str(&pk, "Harbour news");
    pk_str(&pk, "entities");
    msgpack_pack_array(&pk, 7);
    struct {
        int arity, type, field, start, end;
        bool text_ok;
    } cases[] = {{7, 2, 0, 0, 7, true},  {6, 2, 0, 0, 7, true},  {7, 9, 0, 0, 7, true}, {7, 2, 5, 0, 7, true},
                 {7, 2, 0, 5, 2, true},  {7, 2, 0, 0, 99, true}, {7, 2, 0, 0, 7, false}};
    for (size_t i = 0; i < 7; i++) {
        msgpack_pack_array(&pk, (size_t)cases[i].arity);
        if (cases[i].text_ok)
            pk_str(&pk, "Harbour");
        else
            msgpack_pack_int(&pk, 3);
        msgpack_pack_nil(&pk); /* canonical = text */
        msgpack_pack_int(&pk, cases[i].type);
        msgpack_pack_int(&pk, cases[i].field);
        msgpack_pack_int(&pk, cases[i].start);
        msgpack_pack_int(&pk, cases[i].end);
        if (cases[i].arity == 7)
            msgpack_pack_int(&pk, 1);
    }
    pk_str(&pk, "keywords");
    msgpack_pack_array(&pk, 2);
    msgpack_pack_array(&pk, 2);
    pk_str(&pk, "harbour");
    msgpack_pack_double(&pk, 1.5);
    msgpack_pack_array(&pk, 2);
    pk_str(&pk, "bad");
    pk_str(&pk, "not a score");
    for (int trusted = 0; trusted < 2; trusted++) {
        memset(bad, 0, sizeof bad);
        assert_int_equal(ww_event_decode_batch_ex(sb.data, sb.size, NULL, trusted ? WW_DECODE_TRUSTED : 0, &out, bad),
                         1);
        assert_int_equal(out[0]->n_entities, 1); /* only the first case survives */
        assert_string_equal(out[0]->entities[0].canonical, "Harbour");
        assert_int_equal(out[0]->entities[0].type, WW_ENT_LOC);
        assert_int_equal(out[0]->entities[0].end, 7);
        assert_int_equal(out[0]->n_keywords, 1);
        ww_event_destroy(&out[0]);
        ww_free(out);
    }

    /* invalid UTF-8: repaired unless trusted (ingest repaired it already) */
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_map(&pk, 1);
    pk_str(&pk, "title");
    pk_bin(&pk, "caf\xe9 news", 9);
    assert_int_equal(ww_event_decode_batch_ex(sb.data, sb.size, NULL, 0, &out, NULL), 1);
    assert_string_equal(out[0]->title, "caf\xef\xbf\xbd news");
    ww_event_destroy(&out[0]);
    ww_free(out);
    assert_int_equal(ww_event_decode_batch_ex(sb.data, sb.size, NULL, WW_DECODE_TRUSTED, &out, NULL), 1);
    assert_string_equal(out[0]->title, "caf\xe9 news");
    ww_event_destroy(&out[0]);
    ww_free(out);

    msgpack_sbuffer_destroy(&sb);
    free(pub);
    free(in);
    ww_event_destroy(&ev);
}

/* ---- the direct decoder of trusted batches and the enrichment block ---------------------- */

/* Decodes buf[0..len) as a trusted batch both directly and through the
 * reference tree path; asserts the same count, bad[] and events, and that
 * the direct events keep their enrichment in a block. Returns the count. */
static long assert_same_trusted(const char *buf, size_t len, const ww_limits_t *lim)
{
    ww_event_t **a = NULL, **b = NULL;
    uint64_t bad_a[WW_BAD__COUNT] = {0}, bad_b[WW_BAD__COUNT] = {0};
    long na = ww_event_decode_batch_ex(buf, len, lim, WW_DECODE_TRUSTED, &a, bad_a);
    long nb = ww_event_decode_batch_ex(buf, len, lim, WW_DECODE_TRUSTED | WW_DECODE_TREE, &b, bad_b);
    assert_int_equal(na, nb);
    assert_memory_equal(bad_a, bad_b, sizeof bad_a);
    for (long i = 0; i < na; i++) {
        assert_events_equal(a[i], b[i], true);
        assert_null(b[i]->enrich_block);
        if (a[i]->n_entities || a[i]->n_keywords || a[i]->n_quotes)
            assert_non_null(a[i]->enrich_block);
        ww_event_destroy(&a[i]);
        ww_event_destroy(&b[i]);
    }
    ww_free(a);
    ww_free(b);
    return na;
}

/* An event with n entities (both canonical forms), n/4 keywords and n/16
 * quotes, one of them longer than the block's first chunk. */
static ww_event_t *big_event(size_t n, unsigned seed)
{
    ww_event_t *ev = ww_event_new();
    ev->title = ww_strdup("Harbour board meets");
    size_t cap = 64 * n + 64, len = 0;
    char *body = ww_malloc(cap);
    body[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(body + len, cap - len, "Port%u board %zu. ", seed, i);
    ev->body = body;
    ev->seq = seed;
    ww_event_compute_id(ev);
    for (size_t i = 0; i < n; i++) {
        char name[32], canon[48];
        snprintf(name, sizeof name, "Port%u", seed);
        snprintf(canon, sizeof canon, "Port%u Authority %zu", seed, i);
        uint32_t s = (uint32_t)(strstr(body, name) - body);
        ww_event_add_entity(ev, name, i % 2 ? canon : NULL, (ww_ent_type_t)(i % WW_ENT__COUNT),
                            WW_FIELD_BODY, s, s + (uint32_t)strlen(name), (uint32_t)(i * 70000));
    }
    for (size_t i = 0; i < n / 4; i++) {
        char term[32];
        snprintf(term, sizeof term, "term %zu", i);
        ww_event_add_keyword(ev, term, 1.0 / (double)(i + 1));
    }
    for (size_t i = 0; i < n / 16 + 1; i++)
        ww_event_add_quote(ev, i % 2 ? "" : "Port Authority", "We meet today.");
    char *long_text = ww_malloc(9000);
    memset(long_text, 'q', 8999);
    long_text[8999] = '\0';
    ww_event_add_quote(ev, "Chair", long_text);
    ww_free(long_text);
    return ev;
}

/* Packs evs[0..n) as a batch into sb (cleared first). */
static void pack_batch(msgpack_sbuffer *sb, ww_event_t **evs, size_t n)
{
    msgpack_sbuffer_clear(sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    ww_event_pack_batch(&pk, evs, n);
}

/* Batches of many large events: the block grows over several chunks, and
 * every field comes out as the tree path gives it and as it went in. */
static void test_trusted_many_entities(void **state)
{
    (void)state;
    ww_event_t *evs[12];
    for (size_t i = 0; i < 12; i++)
        evs[i] = big_event(i == 0 ? 0 : i * 150, (unsigned)i + 1);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    pack_batch(&sb, evs, 12);
    assert_int_equal(assert_same_trusted(sb.data, sb.size, NULL), 12);
    ww_event_t **out = NULL;
    assert_int_equal(ww_event_decode_batch_ex(sb.data, sb.size, NULL, WW_DECODE_TRUSTED, &out, NULL), 12);
    for (size_t i = 0; i < 12; i++) {
        assert_events_equal(evs[i], out[i], true);
        assert_int_equal(out[i]->n_entities, i * 150);
        /* canonical nil on the wire: the very same string as the text */
        if (out[i]->n_entities)
            assert_ptr_equal(out[i]->entities[0].canonical, out[i]->entities[0].text);
        ww_event_destroy(&out[i]);
    }
    ww_free(out);
    msgpack_sbuffer_destroy(&sb);
    for (size_t i = 0; i < 12; i++)
        ww_event_destroy(&evs[i]);
}

/* Events whose enrichment lives in a block: copied, extended (with their
 * own strings as arguments), taken out of the block, freed string by string,
 * sanitised, cleared and re-enriched - all without leaks or bad frees
 * (ASan, valgrind). */
static void test_trusted_block_lifetime(void **state)
{
    (void)state;
    ww_event_t *src = big_event(40, 9);
    /* trusted input is not UTF-8 checked: a broken byte survives decoding */
    ww_free(src->entities[3].text);
    src->entities[3].text = ww_strdup("Port\xff");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    ww_event_t *list[1] = {src};
    ww_event_t **out = NULL;
    pack_batch(&sb, list, 1);

    /* dup: a deep copy that owns every string */
    assert_int_equal(ww_event_decode_batch_ex(sb.data, sb.size, NULL, WW_DECODE_TRUSTED, &out, NULL), 1);
    ww_event_t *ev = out[0];
    ww_free(out);
    assert_non_null(ev->enrich_block);
    assert_string_equal(ev->entities[3].text, "Port\xff");
    ww_event_t *d = ww_event_dup(ev);
    assert_null(d->enrich_block);
    assert_events_equal(ev, d, true);
    ww_event_destroy(&ev);
    assert_events_equal(src, d, true); /* the copy outlives the block */
    ww_event_destroy(&d);

    /* add_*: arguments that are the event's own block strings */
    assert_int_equal(ww_event_decode_batch_ex(sb.data, sb.size, NULL, WW_DECODE_TRUSTED, &out, NULL), 1);
    ev = out[0];
    ww_free(out);
    size_t ne = ev->n_entities, nk = ev->n_keywords, nq = ev->n_quotes;
    ww_event_add_entity(ev, ev->entities[1].text, ev->entities[1].canonical, WW_ENT_ORG, WW_FIELD_TITLE, 0, 7, 1);
    assert_null(ev->enrich_block);
    ww_event_add_keyword(ev, ev->keywords[0].term, 9.5);
    ww_event_add_quote(ev, ev->quotes[0].speaker, ev->quotes[0].text);
    assert_int_equal(ev->n_entities, ne + 1);
    assert_int_equal(ev->n_keywords, nk + 1);
    assert_int_equal(ev->n_quotes, nq + 1);
    assert_string_equal(ev->entities[ne].text, src->entities[1].text);
    assert_string_equal(ev->entities[ne].canonical, src->entities[1].canonical);
    assert_string_equal(ev->keywords[nk].term, "term 0");
    assert_string_equal(ev->quotes[nq].text, "We meet today.");
    for (size_t i = 0; i < ne; i++) /* the earlier entries came along unchanged */
        assert_string_equal(ev->entities[i].canonical, src->entities[i].canonical);
    ww_event_destroy(&ev);

    /* own_enrichment: then strings may be freed and replaced one by one */
    assert_int_equal(ww_event_decode_batch_ex(sb.data, sb.size, NULL, WW_DECODE_TRUSTED, &out, NULL), 1);
    ev = out[0];
    ww_free(out);
    ww_event_own_enrichment(ev);
    assert_null(ev->enrich_block);
    assert_events_equal(src, ev, true);
    ww_free(ev->entities[0].canonical); /* was the same string as the text in the block */
    ev->entities[0].canonical = ww_strdup("Replaced");
    assert_string_equal(ev->entities[0].text, src->entities[0].text);
    ww_free(ev->keywords[0].term);
    ev->keywords[0].term = ww_strdup("replaced");
    ww_event_own_enrichment(ev); /* no block: nothing to do */
    ww_event_destroy(&ev);

    /* sanitize repairs the broken entity text of a block event */
    assert_int_equal(ww_event_decode_batch_ex(sb.data, sb.size, NULL, WW_DECODE_TRUSTED, &out, NULL), 1);
    ev = out[0];
    ww_free(out);
    assert_true(ww_event_sanitize(ev));
    assert_null(ev->enrich_block);
    assert_string_equal(ev->entities[3].text, "Port\xef\xbf\xbd");
    assert_true(valid_utf8(ev->entities[3].text));
    ww_event_destroy(&ev);

    /* clear (as the extractor does before re-extracting), then enrich again */
    assert_int_equal(ww_event_decode_batch_ex(sb.data, sb.size, NULL, WW_DECODE_TRUSTED, &out, NULL), 1);
    ev = out[0];
    ww_free(out);
    ww_event_clear_enrichment(ev);
    assert_null(ev->enrich_block);
    assert_int_equal(ev->n_entities + ev->n_keywords + ev->n_quotes, 0);
    ww_event_add_entity(ev, "Harbour", NULL, WW_ENT_LOC, WW_FIELD_TITLE, 0, 7, 1);
    assert_string_equal(ev->entities[0].canonical, "Harbour");
    /* re-packed and decoded again: the same event */
    list[0] = ev;
    msgpack_sbuffer sb2;
    msgpack_sbuffer_init(&sb2);
    pack_batch(&sb2, list, 1);
    assert_int_equal(ww_event_decode_batch_ex(sb2.data, sb2.size, NULL, WW_DECODE_TRUSTED, &out, NULL), 1);
    assert_events_equal(ev, out[0], true);
    ww_event_destroy(&out[0]);
    ww_free(out);
    ww_event_destroy(&ev);

    /* a zero-initialised event has no block; clearing and destroying is fine */
    ww_event_t stub = {0};
    ww_event_clear_enrichment(&stub);
    ww_event_own_enrichment(&stub);
    ww_event_own_enrichment(NULL);
    msgpack_sbuffer_destroy(&sb2);
    msgpack_sbuffer_destroy(&sb);
    ww_event_destroy(&src);
}

/* Writes the bytes of one msgpack header or value into sb. */
static void raw(msgpack_sbuffer *sb, const char *bytes, size_t n)
{
    msgpack_sbuffer_write(sb, bytes, n);
}

/* Unusual but well-formed batches decode the same both ways: the public
 * map form inside a batch, repeated keys, nil values, non-string keys,
 * containers where scalars belong, elements that are not maps, a refused
 * version, empty events, signed and float numbers, float32 scores, bin and
 * ext values, embedded NULs, nesting at msgpack-c's limit and past it. */
static void test_trusted_equivalence(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    ww_event_t *fe = full_event();

    /* 1: a mixed batch */
    msgpack_pack_array(&pk, 8);
    ww_event_pack(&pk, fe, false); /* public map form */
    ww_event_pack(&pk, fe, true);
    msgpack_pack_int(&pk, 5);      /* not a map */
    msgpack_pack_array(&pk, 2);    /* not a map, nested */
    msgpack_pack_array(&pk, 0);
    msgpack_pack_map(&pk, 0);
    msgpack_pack_map(&pk, 3); /* refused version, then keys that are not read */
    pk_str(&pk, "v");
    msgpack_pack_int(&pk, 2);
    pk_str(&pk, "title");
    pk_str(&pk, "x");
    pk_str(&pk, "entities");
    msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_nil(&pk);
    msgpack_pack_map(&pk, 2); /* empty: neither title nor body */
    pk_str(&pk, "title");
    pk_str(&pk, "");
    pk_str(&pk, "body");
    msgpack_pack_nil(&pk);
    msgpack_pack_map(&pk, 12); /* repeated keys, odd types */
    pk_str(&pk, "title");
    pk_str(&pk, "first");
    pk_str(&pk, "title");
    pk_bin(&pk, "Zeta\0hidden Harbour", 19); /* a NUL ends the C string */
    msgpack_pack_int(&pk, 7);                 /* a non-string key */
    pk_str(&pk, "ignored");
    msgpack_pack_array(&pk, 1); /* a container key */
    pk_str(&pk, "title");
    pk_str(&pk, "not this");
    pk_str(&pk, "entities");
    msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, 7);
    pk_str(&pk, "lost");
    msgpack_pack_nil(&pk);
    for (int i = 0; i < 5; i++)
        msgpack_pack_int(&pk, 0);
    pk_str(&pk, "entities"); /* the second list replaces the first */
    msgpack_pack_array(&pk, 6);
    msgpack_pack_array(&pk, 7); /* signed ints and a float as offsets */
    pk_str(&pk, "Zeta");
    pk_bin(&pk, "Zeta Corp", 9);
    msgpack_pack_int8(&pk, 1);
    msgpack_pack_int16(&pk, 0);
    msgpack_pack_double(&pk, 0.0);
    msgpack_pack_int64(&pk, 4);
    msgpack_pack_uint64(&pk, 3);
    msgpack_pack_array(&pk, 7); /* a nested container in a slot */
    pk_str(&pk, "Zeta");
    msgpack_pack_array(&pk, 2);
    msgpack_pack_array(&pk, 0);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_nil(&pk);
    msgpack_pack_nil(&pk);
    for (int i = 0; i < 5; i++)
        msgpack_pack_int(&pk, 0);
    msgpack_pack_map(&pk, 8); /* the map form, with a repeated text */
    pk_str(&pk, "text");
    pk_str(&pk, "Zet");
    pk_str(&pk, "text");
    pk_str(&pk, "Zeta");
    pk_str(&pk, "type");
    pk_str(&pk, "ORG");
    pk_str(&pk, "field");
    pk_str(&pk, "title");
    pk_str(&pk, "start");
    msgpack_pack_int(&pk, 0);
    pk_str(&pk, "end");
    msgpack_pack_float(&pk, 4.0f);
    pk_str(&pk, "count");
    msgpack_pack_int(&pk, 2);
    msgpack_pack_array(&pk, 1);
    pk_str(&pk, "nested key ignored");
    msgpack_pack_int(&pk, 1);
    pk_str(&pk, "not an entity"); /* a scalar element */
    msgpack_pack_array(&pk, 7);   /* offsets past the title: dropped later */
    pk_str(&pk, "Zeta");
    msgpack_pack_nil(&pk);
    msgpack_pack_int(&pk, 0);
    msgpack_pack_int(&pk, 0);
    msgpack_pack_int(&pk, 0);
    msgpack_pack_uint32(&pk, 4000000000u);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_array(&pk, 0); /* empty */
    pk_str(&pk, "keywords");
    msgpack_pack_array(&pk, 5);
    msgpack_pack_array(&pk, 2);
    pk_str(&pk, "f32");
    msgpack_pack_float(&pk, 0.25f);
    msgpack_pack_array(&pk, 2);
    pk_str(&pk, "int");
    msgpack_pack_int(&pk, -3);
    msgpack_pack_array(&pk, 2);
    pk_str(&pk, "inf");
    msgpack_pack_double(&pk, 1.0 / 0.0);
    msgpack_pack_map(&pk, 2);
    pk_str(&pk, "term");
    pk_str(&pk, "mapped");
    pk_str(&pk, "score");
    msgpack_pack_double(&pk, 0.5);
    msgpack_pack_map(&pk, 1);
    pk_str(&pk, "score");
    msgpack_pack_double(&pk, 0.5);
    pk_str(&pk, "quotes");
    msgpack_pack_array(&pk, 4);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_nil(&pk);
    pk_str(&pk, "unknown speaker");
    msgpack_pack_map(&pk, 1);
    pk_str(&pk, "text");
    pk_str(&pk, "map, no speaker");
    msgpack_pack_array(&pk, 2);
    msgpack_pack_int(&pk, 1);
    pk_str(&pk, "bad speaker");
    msgpack_pack_array(&pk, 3);
    pk_str(&pk, "a");
    pk_str(&pk, "b");
    pk_str(&pk, "c");
    pk_str(&pk, "published_at");
    pk_str(&pk, "2024-03-05T10:00:00+01:00");
    pk_str(&pk, "replay");
    msgpack_pack_int(&pk, 1); /* not a bool: dropped */
    pk_str(&pk, "seq");
    msgpack_pack_double(&pk, 12.0);
    pk_str(&pk, "ext");
    raw(&sb, "\xd5\x01\xaa\xbb", 4); /* fixext 2 */
    msgpack_pack_map(&pk, 2); /* deep nesting under an unknown key: 30 levels (total 32) */
    pk_str(&pk, "title");
    pk_str(&pk, "Deep");
    pk_str(&pk, "deep");
    for (int i = 0; i < 29; i++)
        msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, 0);
    assert_int_equal(assert_same_trusted(sb.data, sb.size, NULL), 4);
    ww_event_t **out = NULL;
    uint64_t bad[WW_BAD__COUNT] = {0};
    assert_int_equal(ww_event_decode_batch_ex(sb.data, sb.size, NULL, WW_DECODE_TRUSTED, &out, bad), 4);
    assert_int_equal(bad[WW_BAD_NOT_MAP], 2);
    assert_int_equal(bad[WW_BAD_VERSION], 1);
    assert_int_equal(bad[WW_BAD_EMPTY], 1);
    ww_event_t *z = out[2];
    assert_string_equal(z->title, "Zeta");
    assert_int_equal(z->n_entities, 2);
    assert_string_equal(z->entities[0].canonical, "Zeta Corp");
    assert_int_equal(z->entities[0].type, WW_ENT_ORG);
    assert_int_equal(z->entities[1].count, 2);
    assert_int_equal(z->n_keywords, 3);
    assert_true(z->keywords[0].score == 0.25);
    assert_int_equal(z->n_quotes, 2);
    assert_string_equal(z->quotes[0].speaker, "");
    assert_true(z->seq == 12);
    assert_false(z->replay);
    for (int i = 0; i < 4; i++)
        ww_event_destroy(&out[i]);
    ww_free(out);

    /* 2: every prefix (truncated) and every one-byte change of a batch */
    ww_event_t *two[2] = {fe, fe};
    msgpack_sbuffer_clear(&sb);
    ww_event_pack_batch(&pk, two, 2);
    char *copy = ww_malloc(sb.size);
    for (size_t n = 0; n < sb.size; n++)
        assert_int_equal(assert_same_trusted(sb.data, n, NULL), -1);
    static const unsigned char subst[] = {0x00, 0x7f, 0x80, 0x9f, 0xc0, 0xc1, 0xc3, 0xca, 0xcb, 0xcf,
                                          0xd3, 0xd9, 0xdb, 0xdc, 0xdf, 0xe0, 0xff};
    size_t ok = 0;
    for (size_t i = 0; i < sb.size; i++) {
        for (size_t k = 0; k < sizeof subst; k++) {
            memcpy(copy, sb.data, sb.size);
            copy[i] = (char)subst[k];
            ok += assert_same_trusted(copy, sb.size, NULL) >= 0;
        }
    }
    assert_true(ok > 0);
    ww_free(copy);

    /* 3: batch-level refusals are classified as before */
    ww_limits_t lim;
    ww_limits_default(&lim);
    lim.max_elements = 1;
    assert_int_equal(assert_same_trusted(sb.data, sb.size, &lim), -1); /* 2 events > 1 */
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_map(&pk, 2);
    pk_str(&pk, "title");
    pk_str(&pk, "Too deep");
    pk_str(&pk, "deep");
    for (int i = 0; i < 30; i++) /* levels 3..32 */
        msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, 0); /* level 33 */
    memset(bad, 0, sizeof bad);
    assert_int_equal(ww_event_decode_batch_ex(sb.data, sb.size, NULL, WW_DECODE_TRUSTED, &out, bad), -1);
    assert_int_equal(bad[WW_BAD_LIMIT], 1);
    assert_int_equal(assert_same_trusted(sb.data, sb.size, NULL), -1);
    msgpack_sbuffer_clear(&sb);
    raw(&sb, "\xdd\x00\x01\x00\x00\xc0", 6); /* claims 65536 events in 1 byte */
    memset(bad, 0, sizeof bad);
    assert_int_equal(ww_event_decode_batch_ex(sb.data, sb.size, NULL, WW_DECODE_TRUSTED, &out, bad), -1);
    assert_int_equal(bad[WW_BAD_MSGPACK], 1);
    msgpack_sbuffer_clear(&sb);
    ww_event_t *one[1] = {fe};
    ww_event_pack_batch(&pk, one, 1);
    raw(&sb, "\xc0", 1); /* trailing byte */
    assert_int_equal(assert_same_trusted(sb.data, sb.size, NULL), -1);
    msgpack_sbuffer_clear(&sb);
    ww_event_pack(&pk, fe, true); /* a map, not a batch */
    memset(bad, 0, sizeof bad);
    assert_int_equal(ww_event_decode_batch_ex(sb.data, sb.size, NULL, WW_DECODE_TRUSTED, &out, bad), -1);
    assert_int_equal(bad[WW_BAD_NOT_MAP], 1);

    msgpack_sbuffer_destroy(&sb);
    ww_event_destroy(&fe);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_lifetime_dup_clear),
        cmocka_unit_test(test_event_time),
        cmocka_unit_test(test_msgpack_roundtrip_full),
        cmocka_unit_test(test_pack_rules),
        cmocka_unit_test(test_json_and_msgpack_same_event),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_enrichment_decoding),
        cmocka_unit_test(test_json_roundtrip),
        cmocka_unit_test(test_json_hostile),
        cmocka_unit_test(test_msgpack_truncated),
        cmocka_unit_test(test_msgpack_hostile),
        cmocka_unit_test(test_msgpack_utf8),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_internal_compact),
        cmocka_unit_test(test_trusted_many_entities),
        cmocka_unit_test(test_trusted_block_lifetime),
        cmocka_unit_test(test_trusted_equivalence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
