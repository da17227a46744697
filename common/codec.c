/* codec.c - the MessagePack codec of events (SPEC §4) and of batches.
 *
 * Event map (string keys; every key optional except that title or body must
 * be present; unknown keys are ignored):
 *   v             int    1 (absent = 1; any other value is refused)
 *   id            str    stable id
 *   source, url, title, body, lang   str (msgpack str or bin)
 *   published_at  int    Unix ms (see ww_ms_from_int for the seconds rule)
 *   ingested_at   int    Unix ms
 *   entities      array of {text:str, type:str, canonical:str, field:str,
 *                           start:int, end:int, count:int}
 *   keywords      array of {term:str, score:float}
 *   quotes        array of {speaker:str, text:str}
 *   duplicate_of  str    id of an earlier near-duplicate (ingest, SimHash)
 *   story         str    story id: the id of the story's first event
 *   replay        bool   internal hop only
 *   seq           int    internal hop only
 *
 * Internal hops (include_internal: batches between ingest, extract and
 * alert, and replay) use a compact form of the enrichment, since SPEC §4
 * fixes only the intake and alert formats: each entity is an array
 * [text, canonical or nil when equal to text, type (int), field (int),
 * start, end, count], each keyword [term, score], each quote [speaker,
 * text]. The decoder accepts both forms anywhere.
 *
 * Batch (internal hop): an array of event maps, each packed with the
 * internal keys. ww_event_decode_batch_ex(WW_DECODE_TRUSTED) skips the
 * UTF-8 re-check and the per-event limit walk for input our own stages
 * produced (ingest sanitises everything at intake); structure and types
 * are still checked, so hostile bytes cannot corrupt memory.
 *
 * Decoding is hostile-input safe: the raw bytes are first walked by a small
 * validator (ww_mp_prescan) that bounds depth, element counts and string
 * lengths and refuses counts the remaining bytes cannot hold, so msgpack-c
 * never allocates for elements that are not there; the object tree is then
 * checked again (ww_obj_check) because ww_event_from_object is public. */
#include "event_internal.h"
#include "ww/alloc.h"
#include "ww/event.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Values whose magnitude is below this are taken as Unix *seconds* and
 * multiplied by 1000: 10^11 s is the year 5138, while 10^11 ms is only
 * 1973-03-03, so a real millisecond timestamp of a news article is never
 * that small. The cost: a genuine ms value within ±10^11 (1966-10 .. 1973-03)
 * cannot be expressed. */
#define WW_SECONDS_BELOW 100000000000LL

/* Containers nested deeper than this are refused by msgpack-c's own unpacker
 * (MSGPACK_EMBED_STACK_SIZE); used as the depth cap of the batch pre-scan. */
#define WW_MP_STACK_CAP 32

/* ---- status helpers ------------------------------------------------------------ */

static void ww_st_init(ww_decode_status_t *st)
{
    st->fatal = WW_BAD_NONE;
    st->repaired = 0;
    st->detail[0] = '\0';
}

/* Records a fatal reason (the first one wins) with a log text. */
static void ww_st_fail(ww_decode_status_t *st, ww_bad_t bad, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void ww_st_fail(ww_decode_status_t *st, ww_bad_t bad, const char *fmt, ...)
{
    if (st->fatal != WW_BAD_NONE)
        return;
    st->fatal = bad;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->detail, sizeof(st->detail), fmt, ap);
    va_end(ap);
}

/* Records a non-fatal repair; the text is kept only when none is there yet. */
static void ww_st_repair(ww_decode_status_t *st, ww_bad_t bad, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void ww_st_repair(ww_decode_status_t *st, ww_bad_t bad, const char *fmt, ...)
{
    st->repaired |= 1u << bad;
    if (st->detail[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->detail, sizeof(st->detail), fmt, ap);
    va_end(ap);
}

/* ---- packing ------------------------------------------------------------------------ */

static void ww_pack_cstr(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

static void ww_pack_kv_str(msgpack_packer *pk, const char *key, const char *val)
{
    ww_pack_cstr(pk, key);
    ww_pack_cstr(pk, val ? val : "");
}

/* True when an entity can be written (its type and field have names). */
static bool ww_entity_packable(const ww_entity_t *e)
{
    return ww_ent_type_name(e->type) && ww_field_name(e->field);
}

void ww_event_pack(msgpack_packer *pk, const ww_event_t *ev, bool include_internal)
{
    const char *skeys[] = {"id", "source", "url", "title", "body", "lang", "duplicate_of", "story"};
    const char *svals[] = {ev->id,    ev->source, ev->url,          ev->title,
                           ev->body,  ev->lang,   ev->duplicate_of, ev->story};
    const size_t nstr = sizeof skeys / sizeof skeys[0];
    size_t n_ent = 0;
    for (size_t i = 0; i < ev->n_entities; i++)
        n_ent += ww_entity_packable(&ev->entities[i]);
    bool w_ent = include_internal || n_ent > 0;
    bool w_kw = include_internal || ev->n_keywords > 0;
    bool w_q = include_internal || ev->n_quotes > 0;
    bool w_replay = include_internal && ev->replay;
    bool w_seq = include_internal && ev->seq != 0;

    size_t nkeys = 1; /* v */
    for (size_t i = 0; i < nstr; i++)
        nkeys += svals[i] != NULL;
    nkeys += (ev->published_at != 0) + (ev->ingested_at != 0);
    nkeys += w_ent + w_kw + w_q + w_replay + w_seq;

    msgpack_pack_map(pk, nkeys);
    ww_pack_cstr(pk, "v");
    msgpack_pack_int(pk, WW_EVENT_VERSION);
    for (size_t i = 0; i < nstr; i++)
        if (svals[i])
            ww_pack_kv_str(pk, skeys[i], svals[i]);
    if (ev->published_at != 0) {
        ww_pack_cstr(pk, "published_at");
        msgpack_pack_int64(pk, ev->published_at);
    }
    if (ev->ingested_at != 0) {
        ww_pack_cstr(pk, "ingested_at");
        msgpack_pack_int64(pk, ev->ingested_at);
    }
    if (w_ent) {
        ww_pack_cstr(pk, "entities");
        msgpack_pack_array(pk, n_ent);
        for (size_t i = 0; i < ev->n_entities; i++) {
            const ww_entity_t *e = &ev->entities[i];
            if (!ww_entity_packable(e))
                continue;
            if (include_internal) { /* compact: see the top of the file */
                const char *text = e->text ? e->text : "";
                msgpack_pack_array(pk, 7);
                ww_pack_cstr(pk, text);
                if (!e->canonical || strcmp(e->canonical, text) == 0)
                    msgpack_pack_nil(pk);
                else
                    ww_pack_cstr(pk, e->canonical);
                msgpack_pack_uint8(pk, (uint8_t)e->type);
                msgpack_pack_uint8(pk, (uint8_t)e->field);
                msgpack_pack_uint32(pk, e->start);
                msgpack_pack_uint32(pk, e->end);
                msgpack_pack_uint32(pk, e->count);
                continue;
            }
            msgpack_pack_map(pk, 7);
            ww_pack_kv_str(pk, "text", e->text);
            ww_pack_kv_str(pk, "type", ww_ent_type_name(e->type));
            ww_pack_kv_str(pk, "canonical", e->canonical);
            ww_pack_kv_str(pk, "field", ww_field_name(e->field));
            ww_pack_cstr(pk, "start");
            msgpack_pack_uint32(pk, e->start);
            ww_pack_cstr(pk, "end");
            msgpack_pack_uint32(pk, e->end);
            ww_pack_cstr(pk, "count");
            msgpack_pack_uint32(pk, e->count);
        }
    }
    if (w_kw) {
        ww_pack_cstr(pk, "keywords");
        msgpack_pack_array(pk, ev->n_keywords);
        for (size_t i = 0; i < ev->n_keywords; i++) {
            if (include_internal) {
                msgpack_pack_array(pk, 2);
                ww_pack_cstr(pk, ev->keywords[i].term ? ev->keywords[i].term : "");
                msgpack_pack_double(pk, ev->keywords[i].score);
                continue;
            }
            msgpack_pack_map(pk, 2);
            ww_pack_kv_str(pk, "term", ev->keywords[i].term);
            ww_pack_cstr(pk, "score");
            msgpack_pack_double(pk, ev->keywords[i].score);
        }
    }
    if (w_q) {
        ww_pack_cstr(pk, "quotes");
        msgpack_pack_array(pk, ev->n_quotes);
        for (size_t i = 0; i < ev->n_quotes; i++) {
            if (include_internal) {
                msgpack_pack_array(pk, 2);
                ww_pack_cstr(pk, ev->quotes[i].speaker ? ev->quotes[i].speaker : "");
                ww_pack_cstr(pk, ev->quotes[i].text ? ev->quotes[i].text : "");
                continue;
            }
            msgpack_pack_map(pk, 2);
            ww_pack_kv_str(pk, "speaker", ev->quotes[i].speaker);
            ww_pack_kv_str(pk, "text", ev->quotes[i].text);
        }
    }
    if (w_replay) {
        ww_pack_cstr(pk, "replay");
        msgpack_pack_true(pk);
    }
    if (w_seq) {
        ww_pack_cstr(pk, "seq");
        msgpack_pack_uint64(pk, ev->seq);
    }
}

void ww_event_pack_batch(msgpack_packer *pk, ww_event_t *const *evs, size_t n)
{
    size_t live = 0;
    for (size_t i = 0; i < n; i++)
        live += evs[i] != NULL;
    msgpack_pack_array(pk, live);
    for (size_t i = 0; i < n; i++)
        if (evs[i])
            ww_event_pack(pk, evs[i], true);
}

/* ---- raw pre-scan ------------------------------------------------------------------- */

/* Reads a big-endian unsigned integer of w bytes at p. */
static uint64_t ww_be(const unsigned char *p, size_t w)
{
    uint64_t v = 0;
    for (size_t i = 0; i < w; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Walks the MessagePack bytes buf[0..len) without building anything.
 * Checks: exactly one top-level object filling the buffer, nesting at most
 * max_depth containers (the top-level one is depth 1), at most max_elements
 * entries per array/map, str/bin/ext payloads at most max_string bytes, no
 * container claiming more entries than bytes remain, no reserved byte 0xc1.
 * Returns WW_BAD_NONE, WW_BAD_MSGPACK (malformed/truncated/trailing bytes)
 * or WW_BAD_LIMIT; *what says which (static text). */
static ww_bad_t ww_mp_prescan(const char *buf, size_t len, size_t max_depth,
                              size_t max_elements, size_t max_string, const char **what)
{
    const unsigned char *p = (const unsigned char *)buf;
    size_t cap = max_depth < len ? max_depth : len; /* depth cannot exceed the bytes */
    size_t *need = ww_malloc((cap + 1) * sizeof(*need));
    size_t d = 0, pos = 0;
    ww_bad_t res = WW_BAD_NONE;
    need[0] = 1; /* the virtual root holds the one top-level object */
    *what = "";

    for (;;) {
        while (d > 0 && need[d] == 0)
            d--;
        if (d == 0 && need[0] == 0)
            break;
        need[d]--;
        if (pos >= len) {
            res = WW_BAD_MSGPACK;
            *what = "truncated";
            goto done;
        }
        unsigned char b = p[pos++];
        size_t skip = 0;      /* payload bytes after the header */
        size_t lenw = 0;      /* width of a length field to read */
        int kind = 0;         /* 0 scalar, 1 str/bin/ext, 2 array, 3 map */
        size_t extra = 0;     /* ext: the type byte */
        uint64_t count = 0;   /* container entries or payload length */
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
            kind = 0;
        } else if (b <= 0x8f) {
            kind = 3;
            count = b & 0x0f;
        } else if (b <= 0x9f) {
            kind = 2;
            count = b & 0x0f;
        } else if (b <= 0xbf) {
            kind = 1;
            count = b & 0x1f;
        } else {
            switch (b) {
            case 0xc4: case 0xd9: kind = 1; lenw = 1; break;
            case 0xc5: case 0xda: kind = 1; lenw = 2; break;
            case 0xc6: case 0xdb: kind = 1; lenw = 4; break;
            case 0xc7: kind = 1; lenw = 1; extra = 1; break;
            case 0xc8: kind = 1; lenw = 2; extra = 1; break;
            case 0xc9: kind = 1; lenw = 4; extra = 1; break;
            case 0xca: skip = 4; break;
            case 0xcb: skip = 8; break;
            case 0xcc: case 0xd0: skip = 1; break;
            case 0xcd: case 0xd1: skip = 2; break;
            case 0xce: case 0xd2: skip = 4; break;
            case 0xcf: case 0xd3: skip = 8; break;
            case 0xd4: kind = 1; count = 1; extra = 1; break;
            case 0xd5: kind = 1; count = 2; extra = 1; break;
            case 0xd6: kind = 1; count = 4; extra = 1; break;
            case 0xd7: kind = 1; count = 8; extra = 1; break;
            case 0xd8: kind = 1; count = 16; extra = 1; break;
            case 0xdc: kind = 2; lenw = 2; break;
            case 0xdd: kind = 2; lenw = 4; break;
            case 0xde: kind = 3; lenw = 2; break;
            case 0xdf: kind = 3; lenw = 4; break;
            default: /* 0xc1 is never used */
                res = WW_BAD_MSGPACK;
                *what = "reserved byte 0xc1";
                goto done;
            }
        }
        if (lenw) {
            if (len - pos < lenw) {
                res = WW_BAD_MSGPACK;
                *what = "truncated length";
                goto done;
            }
            count = ww_be(p + pos, lenw);
            pos += lenw;
        }
        if (kind == 0) {
            if (len - pos < skip) {
                res = WW_BAD_MSGPACK;
                *what = "truncated number";
                goto done;
            }
            pos += skip;
        } else if (kind == 1) {
            if (count > max_string) {
                res = WW_BAD_LIMIT;
                *what = "string too long";
                goto done;
            }
            if (len - pos < extra || len - pos - extra < count) {
                res = WW_BAD_MSGPACK;
                *what = "truncated string";
                goto done;
            }
            pos += extra + (size_t)count;
        } else {
            if (d + 1 > max_depth) {
                res = WW_BAD_LIMIT;
                *what = "nested too deep";
                goto done;
            }
            if (count > max_elements) {
                res = WW_BAD_LIMIT;
                *what = "too many elements";
                goto done;
            }
            uint64_t items = kind == 3 ? 2 * count : count;
            if (items > len - pos) { /* every item takes at least one byte */
                res = WW_BAD_MSGPACK;
                *what = "container larger than the message";
                goto done;
            }
            if (d + 1 > cap) { /* cap == len < max_depth: cannot happen, be safe */
                res = WW_BAD_MSGPACK;
                *what = "truncated";
                goto done;
            }
            need[++d] = (size_t)items;
        }
    }
    if (pos != len) {
        res = WW_BAD_MSGPACK;
        *what = "trailing bytes after the message";
    }
done:
    ww_free(need);
    return res;
}

/* ---- object tree checks --------------------------------------------------------------- */

/* Size of a str/bin/ext payload, or 0 for other types. */
static size_t ww_obj_payload(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_STR:
        return o->via.str.size;
    case MSGPACK_OBJECT_BIN:
        return o->via.bin.size;
    case MSGPACK_OBJECT_EXT:
        return o->via.ext.size;
    default:
        return 0;
    }
}

/* Checks the tree under o (at nesting `depth`, top-level container = 1)
 * against lim. Recursion is bounded by lim->max_depth. Returns WW_BAD_NONE
 * or WW_BAD_LIMIT. */
static ww_bad_t ww_obj_check(const msgpack_object *o, size_t depth, const ww_limits_t *lim)
{
    if (o->type == MSGPACK_OBJECT_ARRAY || o->type == MSGPACK_OBJECT_MAP) {
        if (depth > lim->max_depth)
            return WW_BAD_LIMIT;
        size_t n = o->type == MSGPACK_OBJECT_ARRAY ? o->via.array.size : o->via.map.size;
        if (n > lim->max_elements)
            return WW_BAD_LIMIT;
        for (size_t i = 0; i < n; i++) {
            ww_bad_t r;
            if (o->type == MSGPACK_OBJECT_ARRAY) {
                r = ww_obj_check(&o->via.array.ptr[i], depth + 1, lim);
            } else {
                r = ww_obj_check(&o->via.map.ptr[i].key, depth + 1, lim);
                if (r == WW_BAD_NONE)
                    r = ww_obj_check(&o->via.map.ptr[i].val, depth + 1, lim);
            }
            if (r != WW_BAD_NONE)
                return r;
        }
        return WW_BAD_NONE;
    }
    return ww_obj_payload(o) > lim->max_string ? WW_BAD_LIMIT : WW_BAD_NONE;
}

/* ---- scalar conversions ---------------------------------------------------------------- */

/* A str or bin object as bytes (not NUL-terminated). */
static bool ww_obj_bytes(const msgpack_object *o, const char **p, size_t *n)
{
    if (o->type == MSGPACK_OBJECT_STR) {
        *p = o->via.str.ptr;
        *n = o->via.str.size;
        return true;
    }
    if (o->type == MSGPACK_OBJECT_BIN) {
        *p = o->via.bin.ptr;
        *n = o->via.bin.size;
        return true;
    }
    return false;
}

/* True when the map key k is the string `name`. */
static bool ww_key_is(const char *kp, size_t kn, const char *name)
{
    return strlen(name) == kn && memcmp(kp, name, kn) == 0;
}

/* An owned, repaired (valid UTF-8, NUL-free) copy of a str/bin object, or
 * NULL when o has another type. *utf8 is set when a repair happened. */
static char *ww_obj_strdup(const msgpack_object *o, bool *utf8)
{
    const char *p;
    size_t n;
    if (!ww_obj_bytes(o, &p, &n))
        return NULL;
    if (!utf8) /* trusted input: copied as is (a NUL would end the C string early) */
        return ww_strndup(p, n);
    bool rep = false;
    char *s = ww_utf8_repair(p, n, &rep);
    if (rep)
        *utf8 = true;
    return s;
}

/* An unsigned integer: positive ints, and floats with an integral value.
 * Returns 0 or -1 (wrong type, negative, above max). */
static int ww_obj_uint(const msgpack_object *o, uint64_t max, uint64_t *out)
{
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (o->via.u64 > max)
            return -1;
        *out = o->via.u64;
        return 0;
    }
    if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64) {
        double f = o->via.f64;
        if (!isfinite(f) || f < 0 || f != floor(f) || f > (double)max ||
            f >= 18446744073709551616.0) /* 2^64 */
            return -1;
        *out = (uint64_t)f;
        return 0;
    }
    return -1;
}

/* Applies the seconds rule (WW_SECONDS_BELOW) to an integer timestamp. */
static int64_t ww_ms_from_int(int64_t v)
{
    if (v > -WW_SECONDS_BELOW && v < WW_SECONDS_BELOW)
        return v * 1000;
    return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t ww_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Reads exactly `w` decimal digits at s[*i]. Returns 0 or -1. */
static int ww_digits(const char *s, size_t n, size_t *i, int w, int *out)
{
    int v = 0;
    for (int k = 0; k < w; k++) {
        if (*i >= n || !isdigit((unsigned char)s[*i]))
            return -1;
        v = v * 10 + (s[(*i)++] - '0');
    }
    *out = v;
    return 0;
}

/* Parses an ISO 8601 / RFC 3339 time into Unix ms:
 *   YYYY-MM-DD[(T| )hh:mm[:ss[(.|,)fraction]]][Z | (+|-)hh[[:]mm]]
 * No zone means UTC (the Reuters corpus gives local wire time without a
 * zone). Surrounding blanks are allowed. Returns 0 or -1. */
static int ww_parse_iso8601(const char *s, size_t n, int64_t *ms)
{
    size_t i = 0;
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    while (i < n && isspace((unsigned char)s[i]))
        i++;
    int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
    if (ww_digits(s, n, &i, 4, &y) || i >= n || s[i++] != '-' || ww_digits(s, n, &i, 2, &mo) ||
        i >= n || s[i++] != '-' || ww_digits(s, n, &i, 2, &d))
        return -1;
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
        return -1;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return -1;
    int64_t off_min = 0;
    if (i < n && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        i++;
        if (ww_digits(s, n, &i, 2, &h) || i >= n || s[i++] != ':' || ww_digits(s, n, &i, 2, &mi))
            return -1;
        if (i < n && s[i] == ':') {
            i++;
            if (ww_digits(s, n, &i, 2, &sec))
                return -1;
            if (i < n && (s[i] == '.' || s[i] == ',')) {
                i++;
                int k = 0;
                if (i >= n || !isdigit((unsigned char)s[i]))
                    return -1;
                while (i < n && isdigit((unsigned char)s[i])) {
                    if (k < 3)
                        frac = frac * 10 + (s[i] - '0');
                    k++;
                    i++;
                }
                for (; k < 3; k++)
                    frac *= 10;
            }
        }
        if (h > 23 || mi > 59 || sec > 60)
            return -1;
        if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < n && (s[i] == '+' || s[i] == '-')) {
            int sign = s[i++] == '-' ? -1 : 1, oh, om = 0;
            if (ww_digits(s, n, &i, 2, &oh))
                return -1;
            if (i < n && s[i] == ':')
                i++;
            if (i < n && ww_digits(s, n, &i, 2, &om))
                return -1;
            if (oh > 23 || om > 59)
                return -1;
            off_min = sign * (oh * 60 + om);
        }
    }
    if (i != n)
        return -1;
    int64_t days = ww_days_from_civil(y, mo, d);
    int64_t secs = ((days * 24 + h) * 60 + mi) * 60 + sec - off_min * 60;
    *ms = secs * 1000 + frac;
    return 0;
}

/* A timestamp in Unix ms from an int, a float (truncated) or a string (an
 * optionally signed decimal integer, or ISO 8601). Integers and floats
 * follow the seconds rule; ISO strings are exact. Returns 0 or -1. */
static int ww_obj_time(const msgpack_object *o, int64_t *out)
{
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > (uint64_t)INT64_MAX)
            return -1;
        *out = ww_ms_from_int((int64_t)o->via.u64);
        return 0;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        *out = ww_ms_from_int(o->via.i64);
        return 0;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: {
        double f = o->via.f64;
        if (!isfinite(f))
            return -1;
        if (f > -(double)WW_SECONDS_BELOW && f < (double)WW_SECONDS_BELOW)
            f *= 1000.0;
        if (f >= 9.2e18 || f <= -9.2e18)
            return -1;
        *out = (int64_t)f; /* truncates toward zero */
        return 0;
    }
    case MSGPACK_OBJECT_STR:
    case MSGPACK_OBJECT_BIN: {
        const char *p;
        size_t n;
        ww_obj_bytes(o, &p, &n);
        if (n == 0 || n > 64)
            return -1;
        char tmp[65];
        memcpy(tmp, p, n);
        tmp[n] = '\0';
        if (strlen(tmp) != n)
            return -1;
        char *end = NULL;
        errno = 0;
        long long v = strtoll(tmp, &end, 10);
        if (end != tmp && errno == 0) {
            while (*end && isspace((unsigned char)*end))
                end++;
            if (*end == '\0') {
                *out = ww_ms_from_int(v);
                return 0;
            }
        }
        return ww_parse_iso8601(tmp, n, out);
    }
    default:
        return -1;
    }
}

/* ---- decoding context ------------------------------------------------------------------ */

/* One event being decoded, and where its enrichment goes. */
typedef struct {
    ww_event_t *ev;         /* the event being filled */
    ww_decode_status_t *st; /* its status */
    bool *utf8;             /* set on a UTF-8 repair; NULL: trusted, strings copied as they are */
    bool block;             /* trusted batches only: the enrichment arrays and strings go to
                             * ev's block (event_internal.h); else each is its own allocation */
} ww_dctx_t;

/* A copy of a str/bin object for the enrichment (in the block, or owned), or
 * NULL when o has another type. */
static char *ww_dc_str(ww_dctx_t *c, const msgpack_object *o)
{
    if (!c->block)
        return ww_obj_strdup(o, c->utf8);
    const char *p;
    size_t n;
    if (!ww_obj_bytes(o, &p, &n))
        return NULL;
    return ww_event_block_strndup(c->ev, p, n);
}

/* The empty string for the enrichment (an unknown speaker). */
static char *ww_dc_empty(ww_dctx_t *c)
{
    return c->block ? ww_event_block_strndup(c->ev, "", 0) : ww_strdup("");
}

/* Drops a string from ww_dc_str / ww_dc_empty (NULL-safe; a block string
 * goes with the block). */
static void ww_dc_free(ww_dctx_t *c, char *s)
{
    if (!c->block)
        ww_free(s);
}

/* Starts a list of n entities (keywords, quotes), replacing one an earlier
 * repeated key gave. With the block, its array is taken from the block with
 * room for exactly n: each element appends at most one. */
static void ww_dc_begin_entities(ww_dctx_t *c, size_t n)
{
    ww_event_t *ev = c->ev;
    if (c->block) {
        /* the entities and their strings (the text ~12 bytes, the canonical
         * often the same string), with room for keywords and quotes after */
        ww_event_block_reserve(ev, n * (sizeof(*ev->entities) + 24) + 1024);
        ev->entities = n ? ww_event_block_alloc(ev, n * sizeof(*ev->entities), alignof(ww_entity_t)) : NULL;
        ev->n_entities = 0;
        ev->cap_entities = n;
        return;
    }
    for (size_t i = 0; i < ev->n_entities; i++) {
        ww_free(ev->entities[i].text);
        ww_free(ev->entities[i].canonical);
    }
    ev->n_entities = 0;
}

static void ww_dc_begin_keywords(ww_dctx_t *c, size_t n)
{
    ww_event_t *ev = c->ev;
    if (c->block) {
        ev->keywords = n ? ww_event_block_alloc(ev, n * sizeof(*ev->keywords), alignof(ww_keyword_t)) : NULL;
        ev->n_keywords = 0;
        ev->cap_keywords = n;
        return;
    }
    for (size_t i = 0; i < ev->n_keywords; i++)
        ww_free(ev->keywords[i].term);
    ev->n_keywords = 0;
}

static void ww_dc_begin_quotes(ww_dctx_t *c, size_t n)
{
    ww_event_t *ev = c->ev;
    if (c->block) {
        ev->quotes = n ? ww_event_block_alloc(ev, n * sizeof(*ev->quotes), alignof(ww_quote_t)) : NULL;
        ev->n_quotes = 0;
        ev->cap_quotes = n;
        return;
    }
    for (size_t i = 0; i < ev->n_quotes; i++) {
        ww_free(ev->quotes[i].speaker);
        ww_free(ev->quotes[i].text);
    }
    ev->n_quotes = 0;
}

/* Appends an entity, taking over text and canon (from ww_dc_str); canon NULL
 * means the same as text (in the block the very same string). */
static void ww_dc_add_entity(ww_dctx_t *c, char *text, char *canon, ww_ent_type_t type,
                             ww_field_t field, uint32_t start, uint32_t end, uint32_t count)
{
    ww_event_t *ev = c->ev;
    if (!c->block)
        WW_GROW(ev->entities, ev->cap_entities, ev->n_entities + 1);
    ww_entity_t *e = &ev->entities[ev->n_entities++];
    e->text = text;
    e->canonical = canon ? canon : c->block ? text : ww_strdup(text);
    e->type = type;
    e->field = field;
    e->start = start;
    e->end = end;
    e->count = count;
}

/* Appends a keyword, taking over term. */
static void ww_dc_add_keyword(ww_dctx_t *c, char *term, double score)
{
    ww_event_t *ev = c->ev;
    if (!c->block)
        WW_GROW(ev->keywords, ev->cap_keywords, ev->n_keywords + 1);
    ww_keyword_t *k = &ev->keywords[ev->n_keywords++];
    k->term = term;
    k->score = score;
}

/* Appends a quote, taking over speaker and text. */
static void ww_dc_add_quote(ww_dctx_t *c, char *speaker, char *text)
{
    ww_event_t *ev = c->ev;
    if (!c->block)
        WW_GROW(ev->quotes, ev->cap_quotes, ev->n_quotes + 1);
    ww_quote_t *q = &ev->quotes[ev->n_quotes++];
    q->speaker = speaker;
    q->text = text;
}

/* ---- enrichment elements ---------------------------------------------------------------- */

/* Each decoder takes one list element and appends it, or drops a malformed
 * one (WW_BAD_TYPE). An element's entries are only looked at as scalars
 * (their type, number or bytes), never descended into, so the direct decoder
 * can hand over elements whose nested containers it skipped. */

/* The compact internal entity [text, canonical|nil, type, field, start, end,
 * count] (see the top of the file). Offsets are checked against the field
 * later (ww_check_offsets), once title and body are known. */
static void ww_dec_entity_array(ww_dctx_t *c, const msgpack_object_array *a)
{
    uint64_t type = 0, field = 0, start = 0, end = 0, count = 0;
    const msgpack_object *cn = a->size == 7 ? &a->ptr[1] : NULL;
    if (a->size != 7 || !(cn->type == MSGPACK_OBJECT_NIL || cn->type == MSGPACK_OBJECT_STR ||
                          cn->type == MSGPACK_OBJECT_BIN) ||
        ww_obj_uint(&a->ptr[2], WW_ENT__COUNT - 1, &type) != 0 ||
        ww_obj_uint(&a->ptr[3], WW_FIELD_BODY, &field) != 0 ||
        ww_obj_uint(&a->ptr[4], UINT32_MAX, &start) != 0 ||
        ww_obj_uint(&a->ptr[5], UINT32_MAX, &end) != 0 ||
        ww_obj_uint(&a->ptr[6], UINT32_MAX, &count) != 0 || start > end) {
        ww_st_repair(c->st, WW_BAD_TYPE, "malformed entity dropped");
        return;
    }
    char *text = ww_dc_str(c, &a->ptr[0]);
    if (!text) {
        ww_st_repair(c->st, WW_BAD_TYPE, "malformed entity dropped");
        return;
    }
    char *canon = cn->type == MSGPACK_OBJECT_NIL ? NULL : ww_dc_str(c, cn);
    ww_dc_add_entity(c, text, canon, (ww_ent_type_t)type, (ww_field_t)field, (uint32_t)start,
                     (uint32_t)end, (uint32_t)count);
}

/* An entity: the compact array, or the public map {text, type, canonical,
 * field, start, end, count}. */
static void ww_dec_entity(ww_dctx_t *c, const msgpack_object *o)
{
    if (o->type == MSGPACK_OBJECT_ARRAY) {
        ww_dec_entity_array(c, &o->via.array);
        return;
    }
    if (o->type != MSGPACK_OBJECT_MAP) {
        ww_st_repair(c->st, WW_BAD_TYPE, "entity is not a map: dropped");
        return;
    }
    char *text = NULL, *canon = NULL;
    ww_ent_type_t type = WW_ENT__COUNT;
    int field = -1;
    uint64_t start = 0, end = 0, count = 1;
    bool has_start = false, has_end = false, bad = false;
    for (uint32_t i = 0; i < o->via.map.size && !bad; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
        const char *kp, *sp;
        size_t kn, sn;
        if (!ww_obj_bytes(k, &kp, &kn))
            continue;
        if (ww_key_is(kp, kn, "text")) {
            ww_dc_free(c, text);
            bad = !(text = ww_dc_str(c, v));
        } else if (ww_key_is(kp, kn, "canonical")) {
            ww_dc_free(c, canon);
            bad = !(canon = ww_dc_str(c, v));
        } else if (ww_key_is(kp, kn, "type")) {
            char name[16];
            bad = !ww_obj_bytes(v, &sp, &sn) || sn >= sizeof(name);
            if (!bad) {
                memcpy(name, sp, sn);
                name[sn] = '\0';
                bad = strlen(name) != sn || ww_ent_type_parse(name, &type) != 0;
            }
        } else if (ww_key_is(kp, kn, "field")) {
            bad = !ww_obj_bytes(v, &sp, &sn);
            if (!bad && ww_key_is(sp, sn, "title"))
                field = WW_FIELD_TITLE;
            else if (!bad && ww_key_is(sp, sn, "body"))
                field = WW_FIELD_BODY;
            else
                bad = true;
        } else if (ww_key_is(kp, kn, "start")) {
            bad = ww_obj_uint(v, UINT32_MAX, &start) != 0;
            has_start = true;
        } else if (ww_key_is(kp, kn, "end")) {
            bad = ww_obj_uint(v, UINT32_MAX, &end) != 0;
            has_end = true;
        } else if (ww_key_is(kp, kn, "count")) {
            bad = ww_obj_uint(v, UINT32_MAX, &count) != 0;
        }
    }
    if (bad || !text || type == WW_ENT__COUNT || field < 0 || !has_start || !has_end ||
        start > end) {
        ww_st_repair(c->st, WW_BAD_TYPE, "malformed entity dropped");
        ww_dc_free(c, text);
        ww_dc_free(c, canon);
        return;
    }
    ww_dc_add_entity(c, text, canon, type, (ww_field_t)field, (uint32_t)start, (uint32_t)end,
                     (uint32_t)count);
}

/* A keyword score: a float or an integer. Returns false for other types. */
static bool ww_obj_score(const msgpack_object *v, double *score)
{
    if (v->type == MSGPACK_OBJECT_FLOAT32 || v->type == MSGPACK_OBJECT_FLOAT64)
        *score = v->via.f64;
    else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        *score = (double)v->via.u64;
    else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *score = (double)v->via.i64;
    else
        return false;
    return true;
}

/* A keyword: [term, score] (compact) or {term, score}. */
static void ww_dec_keyword(ww_dctx_t *c, const msgpack_object *o)
{
    if (o->type == MSGPACK_OBJECT_ARRAY) { /* compact: [term, score] */
        const msgpack_object_array *a = &o->via.array;
        double score = 0;
        bool ok = a->size == 2 && ww_obj_score(&a->ptr[1], &score);
        char *term = ok && isfinite(score) ? ww_dc_str(c, &a->ptr[0]) : NULL;
        if (!term)
            ww_st_repair(c->st, WW_BAD_TYPE, "malformed keyword dropped");
        else
            ww_dc_add_keyword(c, term, score);
        return;
    }
    if (o->type != MSGPACK_OBJECT_MAP) {
        ww_st_repair(c->st, WW_BAD_TYPE, "keyword is not a map: dropped");
        return;
    }
    char *term = NULL;
    double score = 0;
    bool bad = false;
    for (uint32_t i = 0; i < o->via.map.size && !bad; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
        const char *kp;
        size_t kn;
        if (!ww_obj_bytes(k, &kp, &kn))
            continue;
        if (ww_key_is(kp, kn, "term")) {
            ww_dc_free(c, term);
            bad = !(term = ww_dc_str(c, v));
        } else if (ww_key_is(kp, kn, "score")) {
            bad = !ww_obj_score(v, &score) || !isfinite(score);
        }
    }
    if (bad || !term) {
        ww_st_repair(c->st, WW_BAD_TYPE, "malformed keyword dropped");
        ww_dc_free(c, term);
        return;
    }
    ww_dc_add_keyword(c, term, score);
}

/* A quote: [speaker|nil, text] (compact) or {speaker, text}; a nil or absent
 * speaker is unknown (""). */
static void ww_dec_quote(ww_dctx_t *c, const msgpack_object *o)
{
    if (o->type == MSGPACK_OBJECT_ARRAY) { /* compact: [speaker, text] */
        const msgpack_object_array *a = &o->via.array;
        char *speaker = NULL, *text = NULL;
        if (a->size == 2) {
            speaker = a->ptr[0].type == MSGPACK_OBJECT_NIL ? ww_dc_empty(c) : ww_dc_str(c, &a->ptr[0]);
            text = ww_dc_str(c, &a->ptr[1]);
        }
        if (!speaker || !text) {
            ww_st_repair(c->st, WW_BAD_TYPE, "malformed quote dropped");
            ww_dc_free(c, speaker);
            ww_dc_free(c, text);
            return;
        }
        ww_dc_add_quote(c, speaker, text);
        return;
    }
    if (o->type != MSGPACK_OBJECT_MAP) {
        ww_st_repair(c->st, WW_BAD_TYPE, "quote is not a map: dropped");
        return;
    }
    char *speaker = NULL, *text = NULL;
    bool bad = false;
    for (uint32_t i = 0; i < o->via.map.size && !bad; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
        const char *kp;
        size_t kn;
        if (!ww_obj_bytes(k, &kp, &kn))
            continue;
        if (ww_key_is(kp, kn, "speaker")) {
            ww_dc_free(c, speaker);
            speaker = NULL;
            if (v->type != MSGPACK_OBJECT_NIL) /* nil: unknown speaker */
                bad = !(speaker = ww_dc_str(c, v));
        } else if (ww_key_is(kp, kn, "text")) {
            ww_dc_free(c, text);
            bad = !(text = ww_dc_str(c, v));
        }
    }
    if (bad || !text) {
        ww_st_repair(c->st, WW_BAD_TYPE, "malformed quote dropped");
        ww_dc_free(c, speaker);
        ww_dc_free(c, text);
        return;
    }
    ww_dc_add_quote(c, speaker ? speaker : ww_dc_empty(c), text);
}

/* Drops entities whose offsets fall outside their field's text. */
static void ww_check_offsets(ww_dctx_t *c)
{
    ww_event_t *ev = c->ev;
    size_t tl = ev->title ? strlen(ev->title) : 0, bl = ev->body ? strlen(ev->body) : 0;
    size_t w = 0;
    for (size_t i = 0; i < ev->n_entities; i++) {
        ww_entity_t *e = &ev->entities[i];
        const char *f = e->field == WW_FIELD_TITLE ? ev->title : ev->body;
        size_t fl = e->field == WW_FIELD_TITLE ? tl : bl;
        if (!f || e->end > fl || e->start > e->end) {
            ww_st_repair(c->st, WW_BAD_TYPE, "entity offsets out of range: dropped");
            ww_dc_free(c, e->text);
            ww_dc_free(c, e->canonical);
            continue;
        }
        ev->entities[w++] = *e;
    }
    ev->n_entities = w;
}

/* ---- event decoding ----------------------------------------------------------------------- */

/* Which owned string field of ev a key names, or NULL. */
static char **ww_str_field(ww_event_t *ev, const char *kp, size_t kn)
{
    if (ww_key_is(kp, kn, "id"))
        return &ev->id;
    if (ww_key_is(kp, kn, "source"))
        return &ev->source;
    if (ww_key_is(kp, kn, "url"))
        return &ev->url;
    if (ww_key_is(kp, kn, "title"))
        return &ev->title;
    if (ww_key_is(kp, kn, "body"))
        return &ev->body;
    if (ww_key_is(kp, kn, "lang"))
        return &ev->lang;
    if (ww_key_is(kp, kn, "duplicate_of"))
        return &ev->duplicate_of;
    if (ww_key_is(kp, kn, "story"))
        return &ev->story;
    return NULL;
}

/* Which enrichment list a key names: 'e', 'k', 'q', or 0. */
static char ww_list_key(const char *kp, size_t kn)
{
    if (ww_key_is(kp, kn, "entities"))
        return 'e';
    if (ww_key_is(kp, kn, "keywords"))
        return 'k';
    if (ww_key_is(kp, kn, "quotes"))
        return 'q';
    return 0;
}

/* Starts enrichment list `which` ('e', 'k', 'q') of n elements. */
static void ww_dc_begin_list(ww_dctx_t *c, char which, size_t n)
{
    if (which == 'e')
        ww_dc_begin_entities(c, n);
    else if (which == 'k')
        ww_dc_begin_keywords(c, n);
    else
        ww_dc_begin_quotes(c, n);
}

/* Decodes one element of enrichment list `which`. */
static void ww_dc_list_elem(ww_dctx_t *c, char which, const msgpack_object *o)
{
    if (which == 'e')
        ww_dec_entity(c, o);
    else if (which == 'k')
        ww_dec_keyword(c, o);
    else
        ww_dec_quote(c, o);
}

/* Applies one key/value pair of an event map (key kp[0..kn)) to c->ev. Nil
 * is treated as an absent key everywhere (JSON producers write null). An
 * array value of a list key is walked through its ptr; the direct decoder
 * streams those lists itself and passes every other container value with
 * its entries skipped (only its type counts here). */
static void ww_dec_pair(ww_dctx_t *c, const char *kp, size_t kn, const msgpack_object *v)
{
    ww_event_t *ev = c->ev;
    ww_decode_status_t *st = c->st;
    if (v->type == MSGPACK_OBJECT_NIL)
        return;
    char **sf = ww_str_field(ev, kp, kn);
    if (sf) {
        char *s = ww_obj_strdup(v, c->utf8); /* top-level strings: always owned one by one */
        if (!s) {
            ww_st_repair(st, WW_BAD_TYPE, "key '%.*s' is not a string: dropped", (int)kn, kp);
            return;
        }
        ww_free(*sf);
        *sf = s;
    } else if (ww_key_is(kp, kn, "v")) {
        uint64_t ver = 0;
        if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ||
            (ww_obj_uint(v, UINT64_MAX, &ver) == 0 && ver != WW_EVENT_VERSION)) {
            ww_st_fail(st, WW_BAD_VERSION, "unsupported format version");
        } else if (ver != WW_EVENT_VERSION) {
            ww_st_repair(st, WW_BAD_TYPE, "key 'v' is not an integer: dropped");
        }
    } else if (ww_key_is(kp, kn, "published_at") || ww_key_is(kp, kn, "ingested_at")) {
        int64_t t;
        if (ww_obj_time(v, &t) != 0) {
            ww_st_repair(st, WW_BAD_TYPE, "key '%.*s' is not a time: dropped", (int)kn, kp);
            return;
        }
        if (kp[0] == 'p')
            ev->published_at = t;
        else
            ev->ingested_at = t;
    } else if (ww_key_is(kp, kn, "replay")) {
        if (v->type != MSGPACK_OBJECT_BOOLEAN) {
            ww_st_repair(st, WW_BAD_TYPE, "key 'replay' is not a bool: dropped");
            return;
        }
        ev->replay = v->via.boolean;
    } else if (ww_key_is(kp, kn, "seq")) {
        uint64_t seq;
        if (ww_obj_uint(v, UINT64_MAX, &seq) != 0) {
            ww_st_repair(st, WW_BAD_TYPE, "key 'seq' is not an unsigned integer: dropped");
            return;
        }
        ev->seq = seq;
    } else {
        char which = ww_list_key(kp, kn);
        if (!which)
            return; /* unknown keys are ignored */
        if (v->type != MSGPACK_OBJECT_ARRAY) {
            ww_st_repair(st, WW_BAD_TYPE, "key '%.*s' is not an array: dropped", (int)kn, kp);
            return;
        }
        const msgpack_object_array *a = &v->via.array;
        ww_dc_begin_list(c, which, a->size);
        for (uint32_t j = 0; j < a->size; j++)
            ww_dc_list_elem(c, which, &a->ptr[j]);
    }
}

/* Finishes c->ev once its map is read: the final UTF-8 pass (untrusted),
 * the entity offsets, title-or-body. Returns 0 with *out (or the event
 * destroyed when out is NULL), or -1 with st->fatal (event destroyed). */
static int ww_dec_finish(ww_dctx_t *c, bool trusted, ww_event_t **out)
{
    ww_event_t *ev = c->ev;
    ww_decode_status_t *st = c->st;
    if (st->fatal != WW_BAD_NONE) {
        ww_event_destroy(&ev);
        return -1;
    }
    /* strings were repaired while copied (embedded NULs cannot survive a
     * C string); this pass is then a no-op kept as the final guarantee */
    bool utf8 = c->utf8 && *c->utf8;
    if (!trusted && ww_event_sanitize(ev))
        utf8 = true;
    if (utf8)
        ww_st_repair(st, WW_BAD_UTF8, "invalid UTF-8 or NUL replaced");
    ww_check_offsets(c);
    if ((!ev->title || !ev->title[0]) && (!ev->body || !ev->body[0])) {
        ww_st_fail(st, WW_BAD_EMPTY, "neither title nor body");
        ww_event_destroy(&ev);
        return -1;
    }
    if (out)
        *out = ev;
    else
        ww_event_destroy(&ev);
    return 0;
}

static int ww_event_from_object_f(const msgpack_object *obj, const ww_limits_t *lim,
                                  ww_event_t **out, ww_decode_status_t *st, bool trusted);

int ww_event_from_object(const msgpack_object *obj, const ww_limits_t *lim, ww_event_t **out,
                         ww_decode_status_t *st)
{
    return ww_event_from_object_f(obj, lim, out, st, false);
}

/* trusted: input from our own stages; the limit walk, the UTF-8 checks and
 * the final sanitising pass are skipped (types are still checked). */
static int ww_event_from_object_f(const msgpack_object *obj, const ww_limits_t *lim,
                                  ww_event_t **out, ww_decode_status_t *st, bool trusted)
{
    ww_decode_status_t local;
    ww_limits_t dlim;
    if (!st)
        st = &local;
    ww_st_init(st);
    if (out)
        *out = NULL;
    if (!lim) {
        ww_limits_default(&dlim);
        lim = &dlim;
    }
    if (!obj || obj->type != MSGPACK_OBJECT_MAP) {
        ww_st_fail(st, WW_BAD_NOT_MAP, "top level is not a map");
        return -1;
    }
    if (!trusted && ww_obj_check(obj, 1, lim) != WW_BAD_NONE) {
        ww_st_fail(st, WW_BAD_LIMIT, "nesting, element count or string length over the limit");
        return -1;
    }

    bool utf8 = false;
    ww_dctx_t c = {ww_event_new(), st, trusted ? NULL : &utf8, false};
    for (uint32_t i = 0; i < obj->via.map.size && st->fatal == WW_BAD_NONE; i++) {
        const char *kp;
        size_t kn;
        if (!ww_obj_bytes(&obj->via.map.ptr[i].key, &kp, &kn))
            continue; /* non-string keys are unknown keys */
        ww_dec_pair(&c, kp, kn, &obj->via.map.ptr[i].val);
    }
    return ww_dec_finish(&c, trusted, out);
}

/* ---- direct decoding of trusted batches ----------------------------------------------------- */

/* A trusted batch is decoded in one pass over its bytes, without msgpack-c's
 * object tree: each value's header is read into a msgpack_object the way
 * msgpack-c would unpack it (strings point into the bytes), containers are
 * streamed, and the per-key and per-element code above is shared with the
 * tree path. Nesting levels: the batch array is 1, an event map 2, its keys
 * and values 3, list elements 4, their entries 5. Every read is checked
 * against the end of the bytes; the pass succeeds only when the bytes are one
 * well-formed array (at most max_elements events, no container deeper than
 * WW_MP_STACK_CAP or claiming more entries than bytes remain, no 0xc1, no
 * trailing bytes) - exactly the batches the tree path accepts; for any other
 * the tree path runs instead and classifies the failure. */

/* A cursor over MessagePack bytes. */
typedef struct {
    const unsigned char *p, *end;
} ww_rd_t;

static inline uint64_t ww_rd_be(const unsigned char *p, unsigned w)
{
    switch (w) {
    case 1:
        return p[0];
    case 2:
        return (uint64_t)p[0] << 8 | p[1];
    case 4:
        return (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
    default:
        return (uint64_t)ww_rd_be(p, 4) << 32 | ww_rd_be(p + 4, 4);
    }
}

/* ww_rd_head for every kind of value (the common ones take the inline path). */
__attribute__((noinline)) static bool ww_rd_head_any(ww_rd_t *r, msgpack_object *o)
{
    if (r->p >= r->end)
        return false;
    unsigned b = *r->p++;
    size_t avail = (size_t)(r->end - r->p);
    uint64_t n;
    unsigned w;
    if (b <= 0x7f) {
        o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        o->via.u64 = b;
        return true;
    }
    if (b >= 0xe0) {
        o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
        o->via.i64 = (int8_t)b;
        return true;
    }
    if (b >= 0xa0 && b <= 0xbf) {
        n = b & 0x1f;
        goto str;
    }
    if (b <= 0x8f) {
        n = b & 0x0f;
        goto map;
    }
    if (b <= 0x9f) {
        n = b & 0x0f;
        goto array;
    }
    switch (b) {
    case 0xc0:
        o->type = MSGPACK_OBJECT_NIL;
        return true;
    case 0xc2:
    case 0xc3:
        o->type = MSGPACK_OBJECT_BOOLEAN;
        o->via.boolean = b == 0xc3;
        return true;
    case 0xcc: case 0xcd: case 0xce: case 0xcf: /* uint 8/16/32/64 */
        w = 1u << (b - 0xcc);
        if (avail < w)
            return false;
        o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        o->via.u64 = ww_rd_be(r->p, w);
        r->p += w;
        return true;
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: { /* int 8/16/32/64 */
        w = 1u << (b - 0xd0);
        if (avail < w)
            return false;
        uint64_t u = ww_rd_be(r->p, w);
        int64_t v = w == 1 ? (int8_t)u : w == 2 ? (int16_t)u : w == 4 ? (int32_t)u : (int64_t)u;
        r->p += w;
        if (v >= 0) { /* msgpack-c: a non-negative signed value is a positive integer */
            o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
            o->via.u64 = (uint64_t)v;
        } else {
            o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
            o->via.i64 = v;
        }
        return true;
    }
    case 0xca: { /* float 32 */
        if (avail < 4)
            return false;
        uint32_t u = (uint32_t)ww_rd_be(r->p, 4);
        float f;
        memcpy(&f, &u, sizeof f);
        r->p += 4;
        o->type = MSGPACK_OBJECT_FLOAT32;
        o->via.f64 = f;
        return true;
    }
    case 0xcb: { /* float 64 */
        if (avail < 8)
            return false;
        uint64_t u = ww_rd_be(r->p, 8);
        double f;
        memcpy(&f, &u, sizeof f);
        r->p += 8;
        o->type = MSGPACK_OBJECT_FLOAT64;
        o->via.f64 = f;
        return true;
    }
    case 0xd9: case 0xda: case 0xdb: /* str 8/16/32 */
        w = 1u << (b - 0xd9);
        if (avail < w)
            return false;
        n = ww_rd_be(r->p, w);
        r->p += w;
        avail -= w;
        goto str;
    case 0xc4: case 0xc5: case 0xc6: /* bin 8/16/32 */
        w = 1u << (b - 0xc4);
        if (avail < w)
            return false;
        n = ww_rd_be(r->p, w);
        r->p += w;
        avail -= w;
        if (n > avail)
            return false;
        o->type = MSGPACK_OBJECT_BIN;
        o->via.bin.ptr = (const char *)r->p;
        o->via.bin.size = (uint32_t)n;
        r->p += n;
        return true;
    case 0xc7: case 0xc8: case 0xc9: /* ext 8/16/32: length, type, payload */
        w = 1u << (b - 0xc7);
        if (avail < w)
            return false;
        n = ww_rd_be(r->p, w);
        r->p += w;
        avail -= w;
        goto ext;
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: /* fixext 1/2/4/8/16 */
        n = 1u << (b - 0xd4);
        goto ext;
    case 0xdc: case 0xdd: /* array 16/32 */
        w = b == 0xdc ? 2 : 4;
        if (avail < w)
            return false;
        n = ww_rd_be(r->p, w);
        r->p += w;
        goto array;
    case 0xde: case 0xdf: /* map 16/32 */
        w = b == 0xde ? 2 : 4;
        if (avail < w)
            return false;
        n = ww_rd_be(r->p, w);
        r->p += w;
        goto map;
    default: /* 0xc1 is never used */
        return false;
    }
str:
    if (n > avail)
        return false;
    o->type = MSGPACK_OBJECT_STR;
    o->via.str.ptr = (const char *)r->p;
    o->via.str.size = (uint32_t)n;
    r->p += n;
    return true;
ext:
    if (avail < 1 || n > avail - 1)
        return false;
    o->type = MSGPACK_OBJECT_EXT;
    o->via.ext.type = (int8_t)r->p[0];
    o->via.ext.ptr = (const char *)r->p + 1;
    o->via.ext.size = (uint32_t)n;
    r->p += 1 + n;
    return true;
array:
    o->type = MSGPACK_OBJECT_ARRAY;
    o->via.array.size = (uint32_t)n;
    o->via.array.ptr = NULL;
    return true;
map:
    o->type = MSGPACK_OBJECT_MAP;
    o->via.map.size = (uint32_t)n;
    o->via.map.ptr = NULL;
    return true;
}

/* Reads one value's header into o as msgpack-c unpacks it: a scalar
 * completely (str/bin/ext payloads pointing into the bytes, past which the
 * cursor moves); an array or map gets its type and entry count (via.array.size
 * / via.map.size, ptr NULL), its entries left to read. Returns false on
 * truncated bytes or the reserved byte 0xc1. */
static inline bool ww_rd_head(ww_rd_t *r, msgpack_object *o)
{
    if (r->p < r->end) {
        unsigned b = *r->p;
        if (b <= 0x7f) {
            r->p++;
            o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
            o->via.u64 = b;
            return true;
        }
        if ((b & 0xe0) == 0xa0 && (size_t)(b & 0x1f) < (size_t)(r->end - r->p)) { /* fixstr */
            o->type = MSGPACK_OBJECT_STR;
            o->via.str.ptr = (const char *)r->p + 1;
            o->via.str.size = b & 0x1f;
            r->p += 1 + (b & 0x1f);
            return true;
        }
    }
    return ww_rd_head_any(r, o);
}

/* True for an array or map. */
static inline bool ww_obj_is_container(const msgpack_object *o)
{
    return o->type == MSGPACK_OBJECT_ARRAY || o->type == MSGPACK_OBJECT_MAP;
}

/* The values a container just read by ww_rd_head holds (a map's keys and
 * values both count). */
static inline uint64_t ww_obj_items(const msgpack_object *o)
{
    return o->type == MSGPACK_OBJECT_MAP ? 2 * (uint64_t)o->via.map.size : o->via.array.size;
}

/* Checks a container read at nesting `level`: not deeper than msgpack-c's
 * stack, and no more entries than bytes remain (each takes at least one). */
static inline bool ww_rd_container_ok(const ww_rd_t *r, const msgpack_object *o, size_t level)
{
    return level <= WW_MP_STACK_CAP && ww_obj_items(o) <= (uint64_t)(r->end - r->p);
}

/* Skips `items` values inside a container at nesting `level` (their own
 * containers are at level + 1 and deeper). Returns false on malformed bytes. */
static bool ww_rd_skip(ww_rd_t *r, uint64_t items, size_t level)
{
    uint64_t need[WW_MP_STACK_CAP + 1];
    size_t d = 0;
    need[0] = items;
    for (;;) {
        while (need[d] == 0) {
            if (d == 0)
                return true;
            d--;
        }
        need[d]--;
        msgpack_object o;
        if (!ww_rd_head(r, &o))
            return false;
        if (ww_obj_is_container(&o)) {
            if (!ww_rd_container_ok(r, &o, level + d + 1))
                return false; /* level + d + 1 <= WW_MP_STACK_CAP, so d + 1 fits need[] */
            need[++d] = ww_obj_items(&o);
        }
    }
}

/* Reads one value at nesting `level` whose entries, if it is a container,
 * are not wanted: they are skipped and it is left with size 0 (only its type
 * counts). Returns false on malformed bytes. */
static bool ww_rd_shallow(ww_rd_t *r, msgpack_object *o, size_t level)
{
    if (!ww_rd_head(r, o))
        return false;
    if (!ww_obj_is_container(o))
        return true;
    if (!ww_rd_container_ok(r, o, level) || !ww_rd_skip(r, ww_obj_items(o), level))
        return false;
    if (o->type == MSGPACK_OBJECT_MAP)
        o->via.map.size = 0;
    else
        o->via.array.size = 0;
    return true;
}

/* Scratch room for the entries of one list element. */
typedef struct {
    msgpack_object_kv *kv; /* stack[] or a heap array */
    size_t cap;            /* in msgpack_object_kv (each holds two objects) */
    msgpack_object_kv stack[8];
} ww_rd_kids_t;

static void ww_rd_kids_init(ww_rd_kids_t *k)
{
    k->kv = k->stack;
    k->cap = sizeof(k->stack) / sizeof(k->stack[0]);
}

static void ww_rd_kids_free(ww_rd_kids_t *k)
{
    if (k->kv != k->stack)
        ww_free(k->kv);
}

/* Reads one list element (nesting 4) into o; an array's or map's entries
 * (nesting 5) are read shallowly into k, which o then points at. Returns
 * false on malformed bytes. */
static bool ww_rd_elem(ww_rd_t *r, msgpack_object *o, ww_rd_kids_t *k)
{
    if (!ww_rd_head(r, o))
        return false;
    if (!ww_obj_is_container(o))
        return true;
    if (!ww_rd_container_ok(r, o, 4))
        return false;
    uint64_t items = ww_obj_items(o); /* bounded by the bytes left */
    if ((items + 1) / 2 > k->cap) {
        if (k->kv != k->stack)
            ww_free(k->kv);
        k->cap = (size_t)(items + 1) / 2;
        k->kv = ww_malloc(k->cap * sizeof(*k->kv));
    }
    msgpack_object *e = (msgpack_object *)k->kv; /* a kv is two objects, key then val */
    for (uint64_t i = 0; i < items; i++)
        if (!ww_rd_shallow(r, &e[i], 5))
            return false;
    if (o->type == MSGPACK_OBJECT_MAP)
        o->via.map.ptr = k->kv;
    else
        o->via.array.ptr = e;
    return true;
}

/* Fast paths for the elements our own packer writes (ww_event_pack with
 * include_internal): each either decodes the element completely and
 * returns true, or leaves the cursor where it was and returns false, and
 * the general path (ww_rd_elem + ww_dec_*) decodes it. They accept only
 * the common encodings, on which they agree with the general path. */

/* A str of up to 65535 bytes (fixstr, str 8, str 16) at *pp (< end). */
static inline bool ww_fast_str(const unsigned char **pp, const unsigned char *end,
                               const char **sp, size_t *sn)
{
    const unsigned char *p = *pp;
    size_t n;
    if ((*p & 0xe0) == 0xa0) {
        n = *p++ & 0x1f;
    } else if (*p == 0xd9 && end - p >= 2) {
        n = p[1];
        p += 2;
    } else if (*p == 0xda && end - p >= 3) {
        n = (size_t)p[1] << 8 | p[2];
        p += 3;
    } else {
        return false;
    }
    if (n > (size_t)(end - p))
        return false;
    *sp = (const char *)p;
    *sn = n;
    *pp = p + n;
    return true;
}

/* An unsigned int up to 32 bits (positive fixint, uint 8/16/32) at *pp (< end). */
static inline bool ww_fast_u32(const unsigned char **pp, const unsigned char *end, uint32_t *v)
{
    const unsigned char *p = *pp;
    if (p >= end)
        return false;
    if (*p <= 0x7f) {
        *v = *p;
        *pp = p + 1;
        return true;
    }
    unsigned w = *p == 0xcc ? 1 : *p == 0xcd ? 2 : *p == 0xce ? 4 : 0;
    if (!w || (size_t)(end - p) < 1 + w)
        return false;
    *v = (uint32_t)ww_rd_be(p + 1, w);
    *pp = p + 1 + w;
    return true;
}

/* The compact entity [str, nil|str, fixint type, fixint field, start, end, count]. */
static bool ww_fast_entity(ww_rd_t *r, ww_dctx_t *c)
{
    const unsigned char *p = r->p, *end = r->end;
    const char *tp, *cp = NULL;
    size_t tn, cnn = 0;
    uint32_t start, stop, count;
    if (end - p < 8 || *p++ != 0x97 || !ww_fast_str(&p, end, &tp, &tn) || p >= end)
        return false;
    if (*p == 0xc0)
        p++;
    else if (!ww_fast_str(&p, end, &cp, &cnn))
        return false;
    if (end - p < 2 || p[0] >= WW_ENT__COUNT || p[1] > WW_FIELD_BODY)
        return false;
    ww_ent_type_t type = (ww_ent_type_t)p[0];
    ww_field_t field = (ww_field_t)p[1];
    p += 2;
    if (!ww_fast_u32(&p, end, &start) || !ww_fast_u32(&p, end, &stop) ||
        !ww_fast_u32(&p, end, &count) || start > stop)
        return false;
    r->p = p;
    char *text = ww_event_block_strndup(c->ev, tp, tn);
    char *canon = cp ? ww_event_block_strndup(c->ev, cp, cnn) : NULL;
    ww_dc_add_entity(c, text, canon, type, field, start, stop, count);
    return true;
}

/* The compact keyword [str, float 64] with a finite score. */
static bool ww_fast_keyword(ww_rd_t *r, ww_dctx_t *c)
{
    const unsigned char *p = r->p, *end = r->end;
    const char *tp;
    size_t tn;
    if (end - p < 11 || *p++ != 0x92 || !ww_fast_str(&p, end, &tp, &tn) || end - p < 9 || *p != 0xcb)
        return false;
    uint64_t u = ww_rd_be(p + 1, 8);
    double score;
    memcpy(&score, &u, sizeof score);
    if (!isfinite(score))
        return false;
    r->p = p + 9;
    ww_dc_add_keyword(c, ww_event_block_strndup(c->ev, tp, tn), score);
    return true;
}

/* Decodes the event map at nesting 2 (its header in top, just read) as
 * ww_event_from_object_f(trusted) decodes its tree. Returns 1 with *out, 0
 * when the event is refused (st->fatal; its bytes are still consumed), -1
 * on malformed bytes. */
static int ww_rd_event(ww_rd_t *r, const msgpack_object *top, ww_rd_kids_t *k, ww_event_t **out,
                       ww_decode_status_t *st)
{
    ww_dctx_t c = {ww_event_new(), st, NULL, true};
    for (uint32_t i = 0; i < top->via.map.size; i++) {
        msgpack_object key, v;
        if (!ww_rd_shallow(r, &key, 3) || !ww_rd_head(r, &v))
            goto malformed;
        const char *kp = NULL;
        size_t kn = 0;
        /* as the tree path: pairs after a fatal one, and non-string keys, are ignored */
        bool use = st->fatal == WW_BAD_NONE && ww_obj_bytes(&key, &kp, &kn);
        if (!ww_obj_is_container(&v)) {
            if (use)
                ww_dec_pair(&c, kp, kn, &v);
            continue;
        }
        if (!ww_rd_container_ok(r, &v, 3))
            goto malformed;
        char which = use && v.type == MSGPACK_OBJECT_ARRAY ? ww_list_key(kp, kn) : 0;
        if (which) { /* an enrichment list, streamed element by element */
            ww_dc_begin_list(&c, which, v.via.array.size);
            for (uint32_t j = 0; j < v.via.array.size; j++) {
                if ((which == 'e' && ww_fast_entity(r, &c)) || (which == 'k' && ww_fast_keyword(r, &c)))
                    continue;
                msgpack_object el;
                if (!ww_rd_elem(r, &el, k))
                    goto malformed;
                ww_dc_list_elem(&c, which, &el);
            }
            continue;
        }
        if (!ww_rd_skip(r, ww_obj_items(&v), 3))
            goto malformed;
        if (v.type == MSGPACK_OBJECT_MAP)
            v.via.map.size = 0;
        else
            v.via.array.size = 0;
        if (use)
            ww_dec_pair(&c, kp, kn, &v);
    }
    return ww_dec_finish(&c, true, out) == 0 ? 1 : 0;
malformed:
    ww_event_destroy(&c.ev);
    return -1;
}

/* The direct decoding of a trusted batch (see above). Returns the number of
 * events placed in *out, or -1 (nothing placed, bad[] untouched) when the
 * bytes are not a batch the tree path would accept. */
static long ww_batch_direct(const char *buf, size_t len, const ww_limits_t *lim, ww_event_t ***out,
                            uint64_t bad[WW_BAD__COUNT])
{
    ww_rd_t r = {(const unsigned char *)buf, (const unsigned char *)buf + len};
    msgpack_object top;
    if (!ww_rd_head(&r, &top) || top.type != MSGPACK_OBJECT_ARRAY || !ww_rd_container_ok(&r, &top, 1) ||
        top.via.array.size > lim->max_elements)
        return -1;
    uint64_t nbad[WW_BAD__COUNT] = {0};
    ww_event_t **evs = ww_calloc(top.via.array.size ? top.via.array.size : 1, sizeof(*evs));
    ww_rd_kids_t kids;
    ww_rd_kids_init(&kids);
    long n = 0;
    for (uint32_t i = 0; i < top.via.array.size; i++) {
        msgpack_object el;
        ww_decode_status_t st;
        ww_st_init(&st);
        if (!ww_rd_head(&r, &el))
            goto malformed;
        if (el.type != MSGPACK_OBJECT_MAP) {
            if (ww_obj_is_container(&el) &&
                (!ww_rd_container_ok(&r, &el, 2) || !ww_rd_skip(&r, ww_obj_items(&el), 2)))
                goto malformed;
            nbad[WW_BAD_NOT_MAP]++;
            continue;
        }
        if (!ww_rd_container_ok(&r, &el, 2))
            goto malformed;
        ww_event_t *ev = NULL;
        int rc = ww_rd_event(&r, &el, &kids, &ev, &st);
        if (rc < 0)
            goto malformed;
        if (rc > 0)
            evs[n++] = ev;
        else
            nbad[st.fatal]++;
    }
    if (r.p != r.end)
        goto malformed;
    ww_rd_kids_free(&kids);
    if (bad)
        for (int b = 0; b < WW_BAD__COUNT; b++)
            bad[b] += nbad[b];
    *out = evs;
    return n;
malformed:
    for (long i = 0; i < n; i++)
        ww_event_destroy(&evs[i]);
    ww_free(evs);
    ww_rd_kids_free(&kids);
    return -1;
}

/* Unpacks buf (already pre-scanned) into u. Returns 0, or -1 with st set. */
static int ww_mp_unpack(const char *buf, size_t len, msgpack_unpacked *u, ww_decode_status_t *st)
{
    size_t off = 0;
    msgpack_unpack_return r = msgpack_unpack_next(u, buf, len, &off);
    if (r == MSGPACK_UNPACK_NOMEM_ERROR) {
        ww_st_fail(st, WW_BAD_LIMIT, "msgpack: nested too deep or out of memory");
        return -1;
    }
    if (r != MSGPACK_UNPACK_SUCCESS && r != MSGPACK_UNPACK_EXTRA_BYTES) {
        ww_st_fail(st, WW_BAD_MSGPACK, "msgpack: malformed or truncated");
        return -1;
    }
    if (off != len) {
        ww_st_fail(st, WW_BAD_MSGPACK, "msgpack: %zu trailing bytes", len - off);
        return -1;
    }
    return 0;
}

int ww_event_decode_msgpack(const char *buf, size_t len, const ww_limits_t *lim,
                            ww_event_t **out, ww_decode_status_t *st)
{
    ww_decode_status_t local;
    ww_limits_t dlim;
    if (!st)
        st = &local;
    ww_st_init(st);
    if (out)
        *out = NULL;
    if (!lim) {
        ww_limits_default(&dlim);
        lim = &dlim;
    }
    if (len > lim->max_bytes) {
        ww_st_fail(st, WW_BAD_OVERSIZE, "message of %zu bytes over the limit of %zu", len,
                   lim->max_bytes);
        return -1;
    }
    if (!buf || len == 0) {
        ww_st_fail(st, WW_BAD_MSGPACK, "empty message");
        return -1;
    }
    const char *what;
    ww_bad_t b =
        ww_mp_prescan(buf, len, lim->max_depth, lim->max_elements, lim->max_string, &what);
    if (b != WW_BAD_NONE) {
        ww_st_fail(st, b, "msgpack: %s", what);
        return -1;
    }
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = ww_mp_unpack(buf, len, &u, st);
    if (rc == 0)
        rc = ww_event_from_object(&u.data, lim, out, st);
    msgpack_unpacked_destroy(&u);
    return rc;
}

long ww_event_decode_batch(const char *buf, size_t len, const ww_limits_t *lim, ww_event_t ***out,
                           uint64_t bad[WW_BAD__COUNT])
{
    return ww_event_decode_batch_ex(buf, len, lim, 0, out, bad);
}

long ww_event_decode_batch_ex(const char *buf, size_t len, const ww_limits_t *lim, unsigned flags,
                              ww_event_t ***out, uint64_t bad[WW_BAD__COUNT])
{
    ww_limits_t dlim;
    ww_decode_status_t st;
    ww_st_init(&st);
    *out = NULL;
    if (!lim) {
        ww_limits_default(&dlim);
        lim = &dlim;
    }
    if (!buf || len == 0) {
        if (bad)
            bad[WW_BAD_MSGPACK]++;
        return -1;
    }
    if ((flags & WW_DECODE_TRUSTED) && !(flags & WW_DECODE_TREE)) {
        long n = ww_batch_direct(buf, len, lim, out, bad);
        if (n >= 0)
            return n;
        /* not a well-formed batch: the tree path below says why */
    }
    /* The batch as a whole is only checked for well-formedness and against
     * allocation attacks (counts bounded by the bytes); the real limits apply
     * to each event, so one bad event does not sink its neighbours. */
    size_t depth = lim->max_depth + 1 > WW_MP_STACK_CAP ? lim->max_depth + 1 : WW_MP_STACK_CAP;
    const char *what;
    ww_bad_t b = ww_mp_prescan(buf, len, depth, SIZE_MAX, SIZE_MAX, &what);
    if (b != WW_BAD_NONE) {
        if (bad)
            bad[b]++;
        return -1;
    }
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    long n = -1;
    if (ww_mp_unpack(buf, len, &u, &st) != 0) {
        if (bad)
            bad[st.fatal]++;
        goto cleanup;
    }
    if (u.data.type != MSGPACK_OBJECT_ARRAY) {
        if (bad)
            bad[WW_BAD_NOT_MAP]++;
        goto cleanup;
    }
    const msgpack_object_array *a = &u.data.via.array;
    if (a->size > lim->max_elements) {
        if (bad)
            bad[WW_BAD_LIMIT]++;
        goto cleanup;
    }
    ww_event_t **evs = ww_calloc(a->size ? a->size : 1, sizeof(*evs));
    n = 0;
    for (uint32_t i = 0; i < a->size; i++) {
        ww_event_t *ev = NULL;
        if (ww_event_from_object_f(&a->ptr[i], lim, &ev, &st, (flags & WW_DECODE_TRUSTED) != 0) == 0)
            evs[n++] = ev;
        else if (bad)
            bad[st.fatal]++;
    }
    *out = evs;
cleanup:
    msgpack_unpacked_destroy(&u);
    return n;
}
