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
#include "ww/alloc.h"
#include "ww/event.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
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

/* ---- enrichment lists ---------------------------------------------------------------- */

static void ww_free_entities(ww_event_t *ev)
{
    for (size_t i = 0; i < ev->n_entities; i++) {
        ww_free(ev->entities[i].text);
        ww_free(ev->entities[i].canonical);
    }
    ev->n_entities = 0;
}

static void ww_free_keywords(ww_event_t *ev)
{
    for (size_t i = 0; i < ev->n_keywords; i++)
        ww_free(ev->keywords[i].term);
    ev->n_keywords = 0;
}

static void ww_free_quotes(ww_event_t *ev)
{
    for (size_t i = 0; i < ev->n_quotes; i++) {
        ww_free(ev->quotes[i].speaker);
        ww_free(ev->quotes[i].text);
    }
    ev->n_quotes = 0;
}

/* Decodes one entity map and appends it; a malformed entity is dropped
 * (WW_BAD_TYPE). Offsets are checked against the field later
 * (ww_check_offsets), once title and body are known. */
/* The compact internal entity [text, canonical|nil, type, field, start, end,
 * count] (see the top of the file); a malformed one is dropped. */
static void ww_dec_entity_array(ww_event_t *ev, const msgpack_object_array *a,
                                ww_decode_status_t *st, bool *utf8)
{
    uint64_t type = 0, field = 0, start = 0, end = 0, count = 0;
    const msgpack_object *c = a->size == 7 ? &a->ptr[1] : NULL;
    if (a->size != 7 || !(c->type == MSGPACK_OBJECT_NIL || c->type == MSGPACK_OBJECT_STR ||
                          c->type == MSGPACK_OBJECT_BIN) ||
        ww_obj_uint(&a->ptr[2], WW_ENT__COUNT - 1, &type) != 0 ||
        ww_obj_uint(&a->ptr[3], WW_FIELD_BODY, &field) != 0 ||
        ww_obj_uint(&a->ptr[4], UINT32_MAX, &start) != 0 ||
        ww_obj_uint(&a->ptr[5], UINT32_MAX, &end) != 0 ||
        ww_obj_uint(&a->ptr[6], UINT32_MAX, &count) != 0 || start > end) {
        ww_st_repair(st, WW_BAD_TYPE, "malformed entity dropped");
        return;
    }
    char *text = ww_obj_strdup(&a->ptr[0], utf8);
    if (!text) {
        ww_st_repair(st, WW_BAD_TYPE, "malformed entity dropped");
        return;
    }
    char *canon = c->type == MSGPACK_OBJECT_NIL ? NULL : ww_obj_strdup(c, utf8);
    /* appended without copying the strings again */
    WW_GROW(ev->entities, ev->cap_entities, ev->n_entities + 1);
    ww_entity_t *e = &ev->entities[ev->n_entities++];
    e->text = text;
    e->canonical = canon ? canon : ww_strdup(text);
    e->type = (ww_ent_type_t)type;
    e->field = (ww_field_t)field;
    e->start = (uint32_t)start;
    e->end = (uint32_t)end;
    e->count = (uint32_t)count;
}

static void ww_dec_entity(ww_event_t *ev, const msgpack_object *o, ww_decode_status_t *st,
                          bool *utf8)
{
    if (o->type == MSGPACK_OBJECT_ARRAY) {
        ww_dec_entity_array(ev, &o->via.array, st, utf8);
        return;
    }
    if (o->type != MSGPACK_OBJECT_MAP) {
        ww_st_repair(st, WW_BAD_TYPE, "entity is not a map: dropped");
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
            ww_free(text);
            bad = !(text = ww_obj_strdup(v, utf8));
        } else if (ww_key_is(kp, kn, "canonical")) {
            ww_free(canon);
            bad = !(canon = ww_obj_strdup(v, utf8));
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
        ww_st_repair(st, WW_BAD_TYPE, "malformed entity dropped");
    } else {
        ww_event_add_entity(ev, text, canon ? canon : text, type, (ww_field_t)field,
                            (uint32_t)start, (uint32_t)end, (uint32_t)count);
    }
    ww_free(text);
    ww_free(canon);
}

/* Drops entities whose offsets fall outside their field's text. */
static void ww_check_offsets(ww_event_t *ev, ww_decode_status_t *st)
{
    size_t tl = ev->title ? strlen(ev->title) : 0, bl = ev->body ? strlen(ev->body) : 0;
    size_t w = 0;
    for (size_t i = 0; i < ev->n_entities; i++) {
        ww_entity_t *e = &ev->entities[i];
        const char *f = e->field == WW_FIELD_TITLE ? ev->title : ev->body;
        size_t fl = e->field == WW_FIELD_TITLE ? tl : bl;
        if (!f || e->end > fl || e->start > e->end) {
            ww_st_repair(st, WW_BAD_TYPE, "entity offsets out of range: dropped");
            ww_free(e->text);
            ww_free(e->canonical);
            continue;
        }
        ev->entities[w++] = *e;
    }
    ev->n_entities = w;
}

static void ww_dec_keyword(ww_event_t *ev, const msgpack_object *o, ww_decode_status_t *st,
                           bool *utf8)
{
    if (o->type == MSGPACK_OBJECT_ARRAY) { /* compact: [term, score] */
        const msgpack_object_array *a = &o->via.array;
        double score = 0;
        bool ok = a->size == 2;
        if (ok && (a->ptr[1].type == MSGPACK_OBJECT_FLOAT32 || a->ptr[1].type == MSGPACK_OBJECT_FLOAT64))
            score = a->ptr[1].via.f64;
        else if (ok && a->ptr[1].type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            score = (double)a->ptr[1].via.u64;
        else if (ok && a->ptr[1].type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            score = (double)a->ptr[1].via.i64;
        else
            ok = false;
        char *term = ok && isfinite(score) ? ww_obj_strdup(&a->ptr[0], utf8) : NULL;
        if (!term)
            ww_st_repair(st, WW_BAD_TYPE, "malformed keyword dropped");
        else
            ww_event_add_keyword(ev, term, score);
        ww_free(term);
        return;
    }
    if (o->type != MSGPACK_OBJECT_MAP) {
        ww_st_repair(st, WW_BAD_TYPE, "keyword is not a map: dropped");
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
            ww_free(term);
            bad = !(term = ww_obj_strdup(v, utf8));
        } else if (ww_key_is(kp, kn, "score")) {
            if (v->type == MSGPACK_OBJECT_FLOAT32 || v->type == MSGPACK_OBJECT_FLOAT64)
                score = v->via.f64;
            else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
                score = (double)v->via.u64;
            else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
                score = (double)v->via.i64;
            else
                bad = true;
            bad = bad || !isfinite(score);
        }
    }
    if (bad || !term)
        ww_st_repair(st, WW_BAD_TYPE, "malformed keyword dropped");
    else
        ww_event_add_keyword(ev, term, score);
    ww_free(term);
}

static void ww_dec_quote(ww_event_t *ev, const msgpack_object *o, ww_decode_status_t *st,
                         bool *utf8)
{
    if (o->type == MSGPACK_OBJECT_ARRAY) { /* compact: [speaker, text] */
        const msgpack_object_array *a = &o->via.array;
        char *speaker = NULL, *text = NULL;
        if (a->size == 2) {
            speaker = a->ptr[0].type == MSGPACK_OBJECT_NIL ? ww_strdup("") : ww_obj_strdup(&a->ptr[0], utf8);
            text = ww_obj_strdup(&a->ptr[1], utf8);
        }
        if (!speaker || !text)
            ww_st_repair(st, WW_BAD_TYPE, "malformed quote dropped");
        else
            ww_event_add_quote(ev, speaker, text);
        ww_free(speaker);
        ww_free(text);
        return;
    }
    if (o->type != MSGPACK_OBJECT_MAP) {
        ww_st_repair(st, WW_BAD_TYPE, "quote is not a map: dropped");
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
            ww_free(speaker);
            speaker = NULL;
            if (v->type != MSGPACK_OBJECT_NIL) /* nil: unknown speaker */
                bad = !(speaker = ww_obj_strdup(v, utf8));
        } else if (ww_key_is(kp, kn, "text")) {
            ww_free(text);
            bad = !(text = ww_obj_strdup(v, utf8));
        }
    }
    if (bad || !text)
        ww_st_repair(st, WW_BAD_TYPE, "malformed quote dropped");
    else
        ww_event_add_quote(ev, speaker ? speaker : "", text);
    ww_free(speaker);
    ww_free(text);
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

static int ww_event_from_object_f(const msgpack_object *obj, const ww_limits_t *lim,
                                  ww_event_t **out, ww_decode_status_t *st, bool trusted);

int ww_event_from_object(const msgpack_object *obj, const ww_limits_t *lim, ww_event_t **out,
                         ww_decode_status_t *st)
{
    return ww_event_from_object_f(obj, lim, out, st, false);
}

/* Nil is treated as an absent key everywhere (JSON producers write null).
 * trusted: input from our own stages; the limit walk, the UTF-8 checks and
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

    ww_event_t *ev = ww_event_new();
    bool utf8 = false;
    bool *u8 = trusted ? NULL : &utf8; /* NULL: strings copied without the UTF-8 pass */
    for (uint32_t i = 0; i < obj->via.map.size && st->fatal == WW_BAD_NONE; i++) {
        const msgpack_object *k = &obj->via.map.ptr[i].key, *v = &obj->via.map.ptr[i].val;
        const char *kp;
        size_t kn;
        if (!ww_obj_bytes(k, &kp, &kn))
            continue; /* non-string keys are unknown keys */
        if (v->type == MSGPACK_OBJECT_NIL)
            continue;
        char **sf = ww_str_field(ev, kp, kn);
        if (sf) {
            char *s = ww_obj_strdup(v, u8);
            if (!s) {
                ww_st_repair(st, WW_BAD_TYPE, "key '%.*s' is not a string: dropped", (int)kn, kp);
                continue;
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
                continue;
            }
            if (kp[0] == 'p')
                ev->published_at = t;
            else
                ev->ingested_at = t;
        } else if (ww_key_is(kp, kn, "replay")) {
            if (v->type != MSGPACK_OBJECT_BOOLEAN) {
                ww_st_repair(st, WW_BAD_TYPE, "key 'replay' is not a bool: dropped");
                continue;
            }
            ev->replay = v->via.boolean;
        } else if (ww_key_is(kp, kn, "seq")) {
            uint64_t seq;
            if (ww_obj_uint(v, UINT64_MAX, &seq) != 0) {
                ww_st_repair(st, WW_BAD_TYPE, "key 'seq' is not an unsigned integer: dropped");
                continue;
            }
            ev->seq = seq;
        } else if (ww_key_is(kp, kn, "entities") || ww_key_is(kp, kn, "keywords") ||
                   ww_key_is(kp, kn, "quotes")) {
            if (v->type != MSGPACK_OBJECT_ARRAY) {
                ww_st_repair(st, WW_BAD_TYPE, "key '%.*s' is not an array: dropped", (int)kn, kp);
                continue;
            }
            const msgpack_object_array *a = &v->via.array;
            if (kp[0] == 'e') {
                ww_free_entities(ev);
                for (uint32_t j = 0; j < a->size; j++)
                    ww_dec_entity(ev, &a->ptr[j], st, u8);
            } else if (kp[0] == 'k') {
                ww_free_keywords(ev);
                for (uint32_t j = 0; j < a->size; j++)
                    ww_dec_keyword(ev, &a->ptr[j], st, u8);
            } else {
                ww_free_quotes(ev);
                for (uint32_t j = 0; j < a->size; j++)
                    ww_dec_quote(ev, &a->ptr[j], st, u8);
            }
        }
    }
    if (st->fatal != WW_BAD_NONE) {
        ww_event_destroy(&ev);
        return -1;
    }
    /* strings were repaired while copied (embedded NULs cannot survive a
     * C string); this pass is then a no-op kept as the final guarantee */
    if (!trusted && ww_event_sanitize(ev))
        utf8 = true;
    if (utf8)
        ww_st_repair(st, WW_BAD_UTF8, "invalid UTF-8 or NUL replaced");
    ww_check_offsets(ev, st);
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
