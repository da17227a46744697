/* event.h - the event model (SPEC §4) and its codecs.
 *
 * An event is one news article travelling through the pipeline. Every string
 * is owned by the event, NUL-terminated, valid UTF-8 once the event has been
 * through ww_event_sanitize(), and NULL when the key was absent.
 *
 * Wire schema (MessagePack map, string keys; JSON intake uses the same keys):
 *   v            int   format version, 1
 *   id           str   stable id (see ww_event_compute_id)
 *   source,url,title,body,lang  str
 *   published_at,ingested_at    int   Unix ms
 *   entities     [ {text,type,canonical,field,start,end,count} ... ]
 *   keywords     [ {term,score} ... ]
 *   quotes       [ {speaker,text} ... ]
 *   duplicate_of str   id of an earlier near-duplicate (set by ingest, SimHash)
 *   story        str   id of the story the event belongs to (set by ingest)
 *   replay       bool  internal: set by `wirewatch replay`, bypasses dedup
 *   seq          int   internal: ingest's sequence number of the event
 */
#ifndef WW_EVENT_H
#define WW_EVENT_H
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WW_EVENT_VERSION 1

typedef enum {
    WW_ENT_PER = 0,
    WW_ENT_ORG,
    WW_ENT_LOC,
    WW_ENT_MISC,
    WW_ENT_DATE,
    WW_ENT_MONEY,
    WW_ENT_PERCENT,
    WW_ENT__COUNT
} ww_ent_type_t;

typedef enum { WW_FIELD_TITLE = 0, WW_FIELD_BODY = 1 } ww_field_t;

/* "PER", "ORG", ... ; NULL for an out-of-range value. Borrowed (static). */
const char *ww_ent_type_name(ww_ent_type_t t);
/* Parses "PER" etc. (exact, upper case); returns 0 or -1. */
int ww_ent_type_parse(const char *s, ww_ent_type_t *out);
/* "title" / "body". Borrowed (static). */
const char *ww_field_name(ww_field_t f);

typedef struct {
    char *text;          /* the mention as written */
    char *canonical;     /* the document's fullest form of the name */
    ww_ent_type_t type;  /* PER ORG LOC MISC DATE MONEY PERCENT */
    ww_field_t field;    /* where the mention is */
    uint32_t start, end; /* byte offsets of the mention in that field */
    uint32_t count;      /* mentions of this canonical name in the document */
} ww_entity_t;

typedef struct {
    char *term;   /* a word or a 2-3 word phrase, lower case */
    double score; /* higher is more characteristic */
} ww_keyword_t;

typedef struct {
    char *speaker; /* canonical name, or "" when unknown */
    char *text;    /* the quoted words */
} ww_quote_t;

typedef struct ww_event {
    int v;                /* format version */
    char *id;             /* stable id, 32 lower-case hex digits */
    char *source;         /* where the event came from */
    char *url;            /* article URL as given */
    char *title;          /* headline */
    char *body;           /* article text */
    char *lang;           /* language tag, e.g. "en" */
    int64_t published_at; /* Unix ms, 0 when unknown */
    int64_t ingested_at;  /* Unix ms, stamped by ingest */
    bool replay;          /* internal: replayed from an archive */
    uint64_t seq;         /* internal: ingest sequence number, 0 when unset */
    char *duplicate_of;   /* id of the earlier near-duplicate, NULL when none */
    char *story;          /* story id (the first event's id), NULL when unset */

    ww_entity_t *entities; /* added by extract */
    size_t n_entities, cap_entities;
    ww_keyword_t *keywords;
    size_t n_keywords, cap_keywords;
    ww_quote_t *quotes;
    size_t n_quotes, cap_quotes;

    /* Internal (event.c, codec.c): NULL, or the block that holds the entity,
     * keyword and quote arrays and all their strings, for an event decoded from
     * a trusted batch (one allocation instead of one per string; an entity's
     * canonical may then be the same string as its text). While it is set
     * those arrays and strings must not be ww_free'd, realloc'd or replaced
     * one by one: the ww_event_add_* functions and ww_event_own_enrichment copy
     * them out first; ww_event_clear_enrichment and ww_event_destroy release
     * the block. The top-level strings (id ... story) are always owned one by
     * one. A zero-initialised event has none. */
    struct ww_event_block *enrich_block;
} ww_event_t;

/* Caller owns the return value: an empty event (v = 1). */
ww_event_t *ww_event_new(void);
/* NULL-safe; nulls *ev. */
void ww_event_destroy(ww_event_t **ev);
/* Deep copy. Caller owns. */
ww_event_t *ww_event_dup(const ww_event_t *ev);
/* Appends an entity; the strings are copied. Returns the new element (borrowed). */
ww_entity_t *ww_event_add_entity(ww_event_t *ev, const char *text, const char *canonical,
                                 ww_ent_type_t type, ww_field_t field, uint32_t start,
                                 uint32_t end, uint32_t count);
void ww_event_add_keyword(ww_event_t *ev, const char *term, double score);
void ww_event_add_quote(ww_event_t *ev, const char *speaker, const char *text);
/* Frees entities, keywords and quotes (before re-extraction). */
void ww_event_clear_enrichment(ww_event_t *ev);
/* Gives every entity, keyword and quote string (and the three arrays) their own
 * allocation, copying them out of ev->enrich_block, so that code may ww_free or
 * replace them one by one. No-op for an event without the block. NULL-safe. */
void ww_event_own_enrichment(ww_event_t *ev);

/* Event time: published_at, else ingested_at. */
int64_t ww_event_time(const ww_event_t *ev);

/* ---- bad input accounting ------------------------------------------------------
 * Every reason an input can be refused or repaired; the daemons count each kind
 * (metrics, stats) and log each at most once a minute. */
typedef enum {
    WW_BAD_NONE = 0,
    WW_BAD_MSGPACK,      /* malformed or truncated MessagePack */
    WW_BAD_JSON,         /* malformed JSON */
    WW_BAD_NOT_MAP,      /* top level is not a map/object */
    WW_BAD_TYPE,         /* a known key has the wrong type (dropped: the key) */
    WW_BAD_LIMIT,        /* too deep, too many elements, string too long */
    WW_BAD_OVERSIZE,     /* message larger than the configured limit */
    WW_BAD_EMPTY,        /* neither title nor body */
    WW_BAD_UTF8,         /* invalid UTF-8 (repaired with U+FFFD, event kept) */
    WW_BAD_VERSION,      /* v is not 1 */
    WW_BAD__COUNT
} ww_bad_t;

/* Short stable name for metrics/logs, e.g. "msgpack". Borrowed (static). */
const char *ww_bad_name(ww_bad_t b);

/* Decoding limits (SPEC §7). */
typedef struct {
    size_t max_bytes;    /* whole message, default 1 MiB */
    size_t max_depth;    /* nesting, default 8 */
    size_t max_elements; /* per array/map, default 10000 */
    size_t max_string;   /* per string, default 1 MiB */
} ww_limits_t;
/* Fills the defaults. */
void ww_limits_default(ww_limits_t *l);

/* Result of decoding one message. `fatal` says the event was refused
 * (ev is NULL); otherwise the event is usable and `repaired` lists the
 * non-fatal repairs (bit (1<<ww_bad_t)). */
typedef struct {
    ww_bad_t fatal;     /* WW_BAD_NONE when an event was produced */
    uint32_t repaired;  /* bitmask of non-fatal ww_bad_t kinds */
    char detail[160];   /* human text for the log */
} ww_decode_status_t;

/* ---- MessagePack codec (common/codec.c) -------------------------------------- */

/* Packs ev as one map into pk (the packer is reused by the caller).
 * include_internal adds replay/seq (pipeline hops) - never on public output. */
void ww_event_pack(msgpack_packer *pk, const ww_event_t *ev, bool include_internal);

/* Decodes an already unpacked msgpack object. Caller owns *out on success.
 * Returns 0 and *out, or -1 with st->fatal set. Never aborts on hostile input. */
int ww_event_from_object(const msgpack_object *obj, const ww_limits_t *lim, ww_event_t **out,
                         ww_decode_status_t *st);

/* Decodes one MessagePack message (exactly one object; trailing bytes are an
 * error). Caller owns *out. Returns 0 or -1 (st->fatal). */
int ww_event_decode_msgpack(const char *buf, size_t len, const ww_limits_t *lim,
                            ww_event_t **out, ww_decode_status_t *st);

/* Decodes one JSON object (UTF-8). Caller owns *out. Returns 0 or -1. */
int ww_event_decode_json(const char *buf, size_t len, const ww_limits_t *lim, ww_event_t **out,
                         ww_decode_status_t *st);

/* Intake: MessagePack or JSON, chosen by the first non-blank byte ('{' is JSON).
 * Checks max_bytes first (WW_BAD_OVERSIZE). Caller owns *out. */
int ww_event_decode_any(const char *buf, size_t len, const ww_limits_t *lim, ww_event_t **out,
                        ww_decode_status_t *st);

/* JSON text of the event (public keys only), one line, no trailing newline.
 * Caller owns (ww_free). */
char *ww_event_to_json(const ww_event_t *ev);

/* ---- a batch: the internal hop format is a MessagePack array of event maps --- */

/* Packs n events as one array. */
void ww_event_pack_batch(msgpack_packer *pk, ww_event_t *const *evs, size_t n);
/* Decodes a batch message. Bad elements are skipped and counted in bad[]
 * (may be NULL). Returns the number of events placed in *out (a new array the
 * caller owns, each event too), or -1 when the message itself is not an array. */
long ww_event_decode_batch(const char *buf, size_t len, const ww_limits_t *lim, ww_event_t ***out,
                           uint64_t bad[WW_BAD__COUNT]);

/* Flags of ww_event_decode_batch_ex. */
#define WW_DECODE_TRUSTED 1u /* the batch comes from our own pipeline stages, whose
                              * input ingest sanitised: no UTF-8 re-check, no
                              * per-event limit walk (structure and types are
                              * still checked; memory safety does not depend on it) */
#define WW_DECODE_TREE 2u    /* testing and benchmarks: decode through msgpack-c's
                              * object tree even when trusted (the reference the
                              * direct trusted decoder must agree with) */
/* ww_event_decode_batch with flags (0: the same). A trusted batch is decoded
 * straight from the bytes in one pass (no msgpack-c object tree), each event's
 * enrichment in one block (ww_event_t.enrich_block); a malformed batch is then
 * classified by the reference path, so bad[] counts the same either way. */
long ww_event_decode_batch_ex(const char *buf, size_t len, const ww_limits_t *lim, unsigned flags,
                              ww_event_t ***out, uint64_t bad[WW_BAD__COUNT]);

/* ---- sanitising and identity (common/ident.c) ----------------------------------- */

/* Makes every string field valid UTF-8 (invalid bytes become U+FFFD, NUL
 * characters are removed). Returns true if anything was repaired. */
bool ww_event_sanitize(ww_event_t *ev);

/* Returns a newly allocated copy of s[0..len) with invalid UTF-8 replaced by
 * U+FFFD and NULs removed; *repaired is set when the copy differs. Caller owns. */
char *ww_utf8_repair(const char *s, size_t len, bool *repaired);

/* Canonical form of a URL: lower-case scheme and host, default port dropped,
 * fragment dropped, tracking parameters (utm_*, fbclid, gclid, ...) dropped,
 * empty path as "/". Returns NULL when the URL cannot be parsed. Caller owns. */
char *ww_url_canonical(const char *url);

/* Sets ev->id: 32 hex digits of XXH3-128 over "url\0" + canonical URL, or,
 * without a usable URL, over "text\0" + title + "\0" + body. */
void ww_event_compute_id(ww_event_t *ev);

#endif
