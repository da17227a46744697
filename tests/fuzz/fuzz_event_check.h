/* fuzz_event_check.h - shared checks of the event fuzz targets: decoded events
 * obey the invariants, and a re-encoded event decodes to the same fields.
 * Any violation aborts (libFuzzer reports it as a crash). */
#ifndef WW_FUZZ_EVENT_CHECK_H
#define WW_FUZZ_EVENT_CHECK_H
#include "ww/alloc.h"
#include "ww/event.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_CHECK(cond)                                                                  \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
            abort();                                                                    \
        }                                                                               \
    } while (0)

/* Limits of the second decode: depth and counts as usual, but sizes free,
 * since a repair (1 byte -> U+FFFD) or re-encoding may grow the message. */
static inline void fz_limits_relaxed(ww_limits_t *l)
{
    ww_limits_default(l);
    l->max_bytes = SIZE_MAX;
    l->max_string = SIZE_MAX;
}

static inline void fz_check_str(const char *s)
{
    if (!s)
        return;
    bool rep = true;
    char *c = ww_utf8_repair(s, strlen(s), &rep);
    FZ_CHECK(!rep); /* valid UTF-8, no NUL */
    ww_free(c);
}

/* Invariants of every decoded event. */
static inline void fz_check_event(const ww_event_t *ev)
{
    FZ_CHECK(ev->v == WW_EVENT_VERSION);
    FZ_CHECK((ev->title && ev->title[0]) || (ev->body && ev->body[0]));
    const char *s[] = {ev->id, ev->source, ev->url, ev->title, ev->body, ev->lang};
    for (size_t i = 0; i < 6; i++)
        fz_check_str(s[i]);
    for (size_t i = 0; i < ev->n_entities; i++) {
        const ww_entity_t *e = &ev->entities[i];
        const char *f = e->field == WW_FIELD_TITLE ? ev->title : ev->body;
        FZ_CHECK(ww_ent_type_name(e->type) != NULL);
        FZ_CHECK(f && e->start <= e->end && e->end <= strlen(f));
        fz_check_str(e->text);
        fz_check_str(e->canonical);
    }
    for (size_t i = 0; i < ev->n_keywords; i++)
        fz_check_str(ev->keywords[i].term);
    for (size_t i = 0; i < ev->n_quotes; i++) {
        fz_check_str(ev->quotes[i].speaker);
        fz_check_str(ev->quotes[i].text);
    }
}

static inline bool fz_str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* A time after one more decode: values that look like seconds are scaled. */
static inline int64_t fz_time_again(int64_t t)
{
    return (t > -100000000000LL && t < 100000000000LL) ? t * 1000 : t;
}

/* a and b carry the same entities, keywords and quotes, in order. */
static inline void fz_check_same_enrichment(const ww_event_t *a, const ww_event_t *b)
{
    FZ_CHECK(a->n_entities == b->n_entities);
    for (size_t i = 0; i < a->n_entities; i++) {
        const ww_entity_t *x = &a->entities[i], *y = &b->entities[i];
        FZ_CHECK(fz_str_eq(x->text, y->text) && fz_str_eq(x->canonical, y->canonical));
        FZ_CHECK(x->type == y->type && x->field == y->field);
        FZ_CHECK(x->start == y->start && x->end == y->end && x->count == y->count);
    }
    FZ_CHECK(a->n_keywords == b->n_keywords);
    for (size_t i = 0; i < a->n_keywords; i++) {
        FZ_CHECK(fz_str_eq(a->keywords[i].term, b->keywords[i].term));
        FZ_CHECK(a->keywords[i].score == b->keywords[i].score);
    }
    FZ_CHECK(a->n_quotes == b->n_quotes);
    for (size_t i = 0; i < a->n_quotes; i++) {
        FZ_CHECK(fz_str_eq(a->quotes[i].speaker, b->quotes[i].speaker));
        FZ_CHECK(fz_str_eq(a->quotes[i].text, b->quotes[i].text));
    }
}

/* b is a's re-encoding decoded: the key fields must agree. */
static inline void fz_check_same(const ww_event_t *a, const ww_event_t *b, bool internal)
{
    FZ_CHECK(fz_str_eq(a->id, b->id));
    FZ_CHECK(fz_str_eq(a->source, b->source));
    FZ_CHECK(fz_str_eq(a->url, b->url));
    FZ_CHECK(fz_str_eq(a->title, b->title));
    FZ_CHECK(fz_str_eq(a->body, b->body));
    FZ_CHECK(fz_str_eq(a->lang, b->lang));
    FZ_CHECK(b->published_at == fz_time_again(a->published_at));
    FZ_CHECK(b->ingested_at == fz_time_again(a->ingested_at));
    if (internal) {
        FZ_CHECK(a->replay == b->replay);
        FZ_CHECK(a->seq == b->seq);
    }
    fz_check_same_enrichment(a, b);
}

/* Packs ev (with the internal keys), decodes it again and compares. */
static inline void fz_msgpack_roundtrip(const ww_event_t *ev)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    ww_event_pack(&pk, ev, true);
    ww_limits_t lim;
    fz_limits_relaxed(&lim);
    ww_event_t *again = NULL;
    ww_decode_status_t st;
    FZ_CHECK(ww_event_decode_msgpack(sb.data, sb.size, &lim, &again, &st) == 0);
    FZ_CHECK(st.repaired == 0);
    fz_check_event(again);
    fz_check_same(ev, again, true);
    ww_event_destroy(&again);
    msgpack_sbuffer_destroy(&sb);
}

/* Writes ev as JSON, decodes it again and compares the public fields. */
static inline void fz_json_roundtrip(const ww_event_t *ev)
{
    char *js = ww_event_to_json(ev);
    FZ_CHECK(js && !strchr(js, '\n'));
    ww_limits_t lim;
    fz_limits_relaxed(&lim);
    ww_event_t *again = NULL;
    ww_decode_status_t st;
    FZ_CHECK(ww_event_decode_json(js, strlen(js), &lim, &again, &st) == 0);
    FZ_CHECK(st.repaired == 0);
    fz_check_event(again);
    fz_check_same(ev, again, false);
    ww_event_destroy(&again);
    ww_free(js);
}

#endif
