/* archive_json.c - a fast JSON writer for `archive cat`: the same text as
 * ww_event_to_json (same keys, order, compact form and escaping as jansson's
 * JSON_COMPACT | JSON_PRESERVE_ORDER dump), written straight into a reused
 * buffer. Keyword scores (doubles) are left to ww_event_to_json so number
 * formatting can never differ. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ww/alloc.h"
#include "ww/archive.h"

typedef struct {
    char *p;
    size_t n, cap;
} wwa_jbuf_t;

static void jb_need(wwa_jbuf_t *b, size_t more)
{
    if (b->n + more > b->cap)
        ww_grow((void **)&b->p, &b->cap, b->n + more, 1);
}

static void jb_raw(wwa_jbuf_t *b, const char *s, size_t len)
{
    jb_need(b, len);
    memcpy(b->p + b->n, s, len);
    b->n += len;
}

/* A JSON string: '"', '\\' and control characters escaped as jansson does. */
static void jb_str(wwa_jbuf_t *b, const char *s)
{
    size_t len = strlen(s);
    jb_need(b, len + 2);
    b->p[b->n++] = '"';
    const unsigned char *p = (const unsigned char *)s, *run = p;
    for (;; p++) {
        /* eight plain bytes at a time: none < 0x20, '"' or '\\' (SWAR) */
        while ((size_t)(p - (const unsigned char *)s) + 8 <= len) {
            uint64_t x;
            memcpy(&x, p, 8);
            const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
            uint64_t lt20 = (x - ones * 0x20) & ~x & high;
            uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
            uint64_t hit = lt20 | ((q - ones) & ~q & high) | ((bs - ones) & ~bs & high);
            if (hit)
                break;
            p += 8;
        }
        unsigned char c = *p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        jb_raw(b, (const char *)run, (size_t)(p - run));
        if (c == '\0')
            break;
        char esc[8];
        switch (c) {
        case '"': jb_raw(b, "\\\"", 2); break;
        case '\\': jb_raw(b, "\\\\", 2); break;
        case '\b': jb_raw(b, "\\b", 2); break;
        case '\f': jb_raw(b, "\\f", 2); break;
        case '\n': jb_raw(b, "\\n", 2); break;
        case '\r': jb_raw(b, "\\r", 2); break;
        case '\t': jb_raw(b, "\\t", 2); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04X", c);
            jb_raw(b, esc, 6);
        }
        run = p + 1;
    }
    jb_need(b, 1);
    b->p[b->n++] = '"';
}

static void jb_key(wwa_jbuf_t *b, const char *k, bool *first)
{
    jb_need(b, strlen(k) + 4);
    if (!*first)
        b->p[b->n++] = ',';
    *first = false;
    b->p[b->n++] = '"';
    jb_raw(b, k, strlen(k));
    jb_raw(b, "\":", 2);
}

static void jb_int(wwa_jbuf_t *b, long long v)
{
    char tmp[24];
    int k = snprintf(tmp, sizeof tmp, "%lld", v);
    jb_raw(b, tmp, (size_t)k);
}

size_t ww_archive_event_json(const ww_event_t *ev, char **buf, size_t *cap)
{
    wwa_jbuf_t b = {*buf, 0, *cap};
    if (ev->n_keywords) {
        char *js = ww_event_to_json(ev);
        jb_raw(&b, js, strlen(js) + 1);
        ww_free(js);
        *buf = b.p;
        *cap = b.cap;
        return b.n - 1;
    }
    bool first = true;
    jb_raw(&b, "{", 1);
    jb_key(&b, "v", &first);
    jb_int(&b, ev->v ? ev->v : WW_EVENT_VERSION);
    const char *skeys[] = {"id", "source", "url", "title", "body", "lang", "duplicate_of", "story"};
    const char *svals[] = {ev->id,    ev->source, ev->url,          ev->title,
                           ev->body,  ev->lang,   ev->duplicate_of, ev->story};
    for (size_t i = 0; i < sizeof skeys / sizeof skeys[0]; i++) {
        if (!svals[i])
            continue;
        jb_key(&b, skeys[i], &first);
        jb_str(&b, svals[i]);
    }
    if (ev->published_at) {
        jb_key(&b, "published_at", &first);
        jb_int(&b, ev->published_at);
    }
    if (ev->ingested_at) {
        jb_key(&b, "ingested_at", &first);
        jb_int(&b, ev->ingested_at);
    }
    if (ev->n_entities) {
        jb_key(&b, "entities", &first);
        jb_raw(&b, "[", 1);
        bool any = false;
        for (size_t i = 0; i < ev->n_entities; i++) {
            const ww_entity_t *e = &ev->entities[i];
            const char *tn = ww_ent_type_name(e->type), *fn = ww_field_name(e->field);
            if (!tn || !fn)
                continue;
            if (any)
                jb_raw(&b, ",", 1);
            any = true;
            bool f2 = true;
            jb_raw(&b, "{", 1);
            jb_key(&b, "text", &f2);
            jb_str(&b, e->text ? e->text : "");
            jb_key(&b, "type", &f2);
            jb_str(&b, tn);
            jb_key(&b, "canonical", &f2);
            jb_str(&b, e->canonical ? e->canonical : "");
            jb_key(&b, "field", &f2);
            jb_str(&b, fn);
            jb_key(&b, "start", &f2);
            jb_int(&b, e->start);
            jb_key(&b, "end", &f2);
            jb_int(&b, e->end);
            jb_key(&b, "count", &f2);
            jb_int(&b, e->count);
            jb_raw(&b, "}", 1);
        }
        jb_raw(&b, "]", 1);
    }
    if (ev->n_quotes) {
        jb_key(&b, "quotes", &first);
        jb_raw(&b, "[", 1);
        for (size_t i = 0; i < ev->n_quotes; i++) {
            if (i)
                jb_raw(&b, ",", 1);
            bool f2 = true;
            jb_raw(&b, "{", 1);
            jb_key(&b, "speaker", &f2);
            jb_str(&b, ev->quotes[i].speaker ? ev->quotes[i].speaker : "");
            jb_key(&b, "text", &f2);
            jb_str(&b, ev->quotes[i].text ? ev->quotes[i].text : "");
            jb_raw(&b, "}", 1);
        }
        jb_raw(&b, "]", 1);
    }
    jb_raw(&b, "}", 2); /* with the NUL */
    *buf = b.p;
    *cap = b.cap;
    return b.n - 1;
}
