/* event.c - the event model (SPEC §4): lifetime, enrichment lists, names of
 * entity types, fields and bad-input kinds, decoding limits.
 *
 * The codecs live in codec.c (MessagePack) and json.c (JSON); sanitising and
 * identity in ident.c. */
#include "ww/event.h"

#include "event_internal.h"
#include "ww/alloc.h"

#include <string.h>

/* ---- names ------------------------------------------------------------------------ */

static const char *const ww_ent_names[WW_ENT__COUNT] = {
    [WW_ENT_PER] = "PER",       [WW_ENT_ORG] = "ORG",     [WW_ENT_LOC] = "LOC",
    [WW_ENT_MISC] = "MISC",     [WW_ENT_DATE] = "DATE",   [WW_ENT_MONEY] = "MONEY",
    [WW_ENT_PERCENT] = "PERCENT",
};

const char *ww_ent_type_name(ww_ent_type_t t)
{
    if ((int)t < 0 || t >= WW_ENT__COUNT)
        return NULL;
    return ww_ent_names[t];
}

int ww_ent_type_parse(const char *s, ww_ent_type_t *out)
{
    if (!s)
        return -1;
    for (int i = 0; i < WW_ENT__COUNT; i++) {
        if (strcmp(s, ww_ent_names[i]) == 0) {
            if (out)
                *out = (ww_ent_type_t)i;
            return 0;
        }
    }
    return -1;
}

const char *ww_field_name(ww_field_t f)
{
    switch (f) {
    case WW_FIELD_TITLE:
        return "title";
    case WW_FIELD_BODY:
        return "body";
    }
    return NULL;
}

/* Stable metric/log names: never rename one, dashboards depend on them. */
static const char *const ww_bad_names[WW_BAD__COUNT] = {
    [WW_BAD_NONE] = "none",         [WW_BAD_MSGPACK] = "msgpack", [WW_BAD_JSON] = "json",
    [WW_BAD_NOT_MAP] = "not_map",   [WW_BAD_TYPE] = "type",       [WW_BAD_LIMIT] = "limit",
    [WW_BAD_OVERSIZE] = "oversize", [WW_BAD_EMPTY] = "empty",     [WW_BAD_UTF8] = "utf8",
    [WW_BAD_VERSION] = "version",
};

const char *ww_bad_name(ww_bad_t b)
{
    if ((int)b < 0 || b >= WW_BAD__COUNT)
        return "unknown";
    return ww_bad_names[b];
}

void ww_limits_default(ww_limits_t *l)
{
    if (!l)
        return;
    l->max_bytes = 1024 * 1024;
    l->max_depth = 8;
    l->max_elements = 10000;
    l->max_string = 1024 * 1024;
}

/* ---- lifetime --------------------------------------------------------------------- */

ww_event_t *ww_event_new(void)
{
    ww_event_t *ev = ww_calloc(1, sizeof(*ev));
    ev->v = WW_EVENT_VERSION;
    return ev;
}

/* ---- the enrichment block ------------------------------------------------------------- */

/* Size of the first chunk: holds the enrichment of a typical 5 KB article
 * (70 entities) in one allocation. */
#define WW_BLOCK_FIRST 4096

void *ww_event_block_grow(ww_event_t *ev, size_t n)
{
    struct ww_event_block *b = ev->enrich_block;
    size_t sz = b ? 2 * b->size : WW_BLOCK_FIRST;
    if (sz < n)
        sz = n;
    struct ww_event_block *nb = ww_malloc(sizeof(*nb) + sz);
    nb->next = b;
    nb->size = sz;
    nb->used = n; /* a new chunk's data is aligned for anything */
    ev->enrich_block = nb;
    return nb->data;
}

/* Frees every chunk of ev's block (the arrays and strings in it go too). */
static void ww_event_block_free(ww_event_t *ev)
{
    struct ww_event_block *b = ev->enrich_block;
    while (b) {
        struct ww_event_block *next = b->next;
        ww_free(b);
        b = next;
    }
    ev->enrich_block = NULL;
}

void ww_event_own_enrichment(ww_event_t *ev)
{
    if (!ev || !ev->enrich_block)
        return;
    ww_entity_t *ents = ev->n_entities ? ww_malloc(ev->n_entities * sizeof(*ents)) : NULL;
    for (size_t i = 0; i < ev->n_entities; i++) {
        ents[i] = ev->entities[i];
        ents[i].text = ww_strdup(ev->entities[i].text);
        ents[i].canonical = ww_strdup(ev->entities[i].canonical);
    }
    ww_keyword_t *kws = ev->n_keywords ? ww_malloc(ev->n_keywords * sizeof(*kws)) : NULL;
    for (size_t i = 0; i < ev->n_keywords; i++) {
        kws[i] = ev->keywords[i];
        kws[i].term = ww_strdup(ev->keywords[i].term);
    }
    ww_quote_t *qs = ev->n_quotes ? ww_malloc(ev->n_quotes * sizeof(*qs)) : NULL;
    for (size_t i = 0; i < ev->n_quotes; i++) {
        qs[i].speaker = ww_strdup(ev->quotes[i].speaker);
        qs[i].text = ww_strdup(ev->quotes[i].text);
    }
    ww_event_block_free(ev);
    ev->entities = ents;
    ev->cap_entities = ev->n_entities;
    ev->keywords = kws;
    ev->cap_keywords = ev->n_keywords;
    ev->quotes = qs;
    ev->cap_quotes = ev->n_quotes;
}

void ww_event_clear_enrichment(ww_event_t *ev)
{
    if (!ev)
        return;
    if (ev->enrich_block) { /* the arrays and strings live in the block */
        ww_event_block_free(ev);
    } else {
        for (size_t i = 0; i < ev->n_entities; i++) {
            ww_free(ev->entities[i].text);
            ww_free(ev->entities[i].canonical);
        }
        for (size_t i = 0; i < ev->n_keywords; i++)
            ww_free(ev->keywords[i].term);
        for (size_t i = 0; i < ev->n_quotes; i++) {
            ww_free(ev->quotes[i].speaker);
            ww_free(ev->quotes[i].text);
        }
        ww_free(ev->entities);
        ww_free(ev->keywords);
        ww_free(ev->quotes);
    }
    ev->entities = NULL;
    ev->keywords = NULL;
    ev->quotes = NULL;
    ev->n_entities = ev->cap_entities = 0;
    ev->n_keywords = ev->cap_keywords = 0;
    ev->n_quotes = ev->cap_quotes = 0;
}

void ww_event_destroy(ww_event_t **evp)
{
    if (!evp || !*evp)
        return;
    ww_event_t *ev = *evp;
    ww_event_clear_enrichment(ev);
    ww_free(ev->id);
    ww_free(ev->source);
    ww_free(ev->url);
    ww_free(ev->title);
    ww_free(ev->body);
    ww_free(ev->lang);
    ww_free(ev->duplicate_of);
    ww_free(ev->story);
    ww_free(ev);
    *evp = NULL;
}

ww_event_t *ww_event_dup(const ww_event_t *ev)
{
    if (!ev)
        return NULL;
    ww_event_t *d = ww_event_new();
    d->v = ev->v;
    d->id = ww_strdup(ev->id);
    d->source = ww_strdup(ev->source);
    d->url = ww_strdup(ev->url);
    d->title = ww_strdup(ev->title);
    d->body = ww_strdup(ev->body);
    d->lang = ww_strdup(ev->lang);
    d->published_at = ev->published_at;
    d->ingested_at = ev->ingested_at;
    d->replay = ev->replay;
    d->seq = ev->seq;
    d->duplicate_of = ww_strdup(ev->duplicate_of);
    d->story = ww_strdup(ev->story);
    for (size_t i = 0; i < ev->n_entities; i++) {
        const ww_entity_t *e = &ev->entities[i];
        ww_event_add_entity(d, e->text, e->canonical, e->type, e->field, e->start, e->end,
                            e->count);
    }
    for (size_t i = 0; i < ev->n_keywords; i++)
        ww_event_add_keyword(d, ev->keywords[i].term, ev->keywords[i].score);
    for (size_t i = 0; i < ev->n_quotes; i++)
        ww_event_add_quote(d, ev->quotes[i].speaker, ev->quotes[i].text);
    return d;
}

/* ---- enrichment --------------------------------------------------------------------- */

/* The ww_event_add_* functions copy their arguments before they take the
 * lists out of a block (ww_event_own_enrichment frees it), so an argument
 * may be a string of the same event. */

ww_entity_t *ww_event_add_entity(ww_event_t *ev, const char *text, const char *canonical,
                                 ww_ent_type_t type, ww_field_t field, uint32_t start,
                                 uint32_t end, uint32_t count)
{
    char *t = ww_strdup(text ? text : "");
    char *c = ww_strdup(canonical ? canonical : t);
    ww_event_own_enrichment(ev); /* arrays in a block cannot grow */
    WW_GROW(ev->entities, ev->cap_entities, ev->n_entities + 1);
    ww_entity_t *e = &ev->entities[ev->n_entities++];
    e->text = t;
    e->canonical = c;
    e->type = type;
    e->field = field;
    e->start = start;
    e->end = end;
    e->count = count;
    return e;
}

void ww_event_add_keyword(ww_event_t *ev, const char *term, double score)
{
    char *t = ww_strdup(term ? term : "");
    ww_event_own_enrichment(ev);
    WW_GROW(ev->keywords, ev->cap_keywords, ev->n_keywords + 1);
    ww_keyword_t *k = &ev->keywords[ev->n_keywords++];
    k->term = t;
    k->score = score;
}

void ww_event_add_quote(ww_event_t *ev, const char *speaker, const char *text)
{
    char *sp = ww_strdup(speaker ? speaker : "");
    char *tx = ww_strdup(text ? text : "");
    ww_event_own_enrichment(ev);
    WW_GROW(ev->quotes, ev->cap_quotes, ev->n_quotes + 1);
    ww_quote_t *q = &ev->quotes[ev->n_quotes++];
    q->speaker = sp;
    q->text = tx;
}

int64_t ww_event_time(const ww_event_t *ev)
{
    if (!ev)
        return 0;
    return ev->published_at ? ev->published_at : ev->ingested_at;
}
