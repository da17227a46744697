/* json.c - JSON intake and output of events (jansson).
 *
 * Intake accepts one UTF-8 JSON object with the keys of the MessagePack map
 * (see codec.c). The parsed tree is converted, within the decoding limits,
 * into a msgpack_object tree and decoded by ww_event_from_object, so both
 * intakes apply exactly the same rules. Invalid UTF-8 bytes in the text are
 * replaced by U+FFFD before parsing (they can never be JSON syntax, which is
 * ASCII), so such an event is repaired rather than refused. */
#include "ww/alloc.h"
#include "ww/event.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Converts the jansson value j (at nesting `depth`, top level = 1) into *o,
 * allocating arrays and maps in z. Strings point into j (valid while j
 * lives). Returns WW_BAD_NONE or WW_BAD_LIMIT (too deep, too many elements,
 * string too long). Recursion is bounded by lim->max_depth. */
static ww_bad_t ww_json_to_obj(json_t *j, msgpack_zone *z, size_t depth, const ww_limits_t *lim,
                               msgpack_object *o)
{
    memset(o, 0, sizeof(*o));
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(j), i = 0;
        if (depth > lim->max_depth || n > lim->max_elements || n > UINT32_MAX)
            return WW_BAD_LIMIT;
        o->type = MSGPACK_OBJECT_MAP;
        o->via.map.size = (uint32_t)n;
        if (n == 0)
            return WW_BAD_NONE;
        msgpack_object_kv *kv = msgpack_zone_malloc(z, n * sizeof(*kv));
        if (!kv)
            return WW_BAD_LIMIT;
        o->via.map.ptr = kv;
        const char *key;
        size_t kl;
        json_t *val;
        /* keys may hold "\u0000" (JSON_ALLOW_NUL): use their real length */
        json_object_keylen_foreach(j, key, kl, val)
        {
            if (i >= n)
                break;
            if (kl > lim->max_string)
                return WW_BAD_LIMIT;
            kv[i].key.type = MSGPACK_OBJECT_STR;
            kv[i].key.via.str.ptr = key;
            kv[i].key.via.str.size = (uint32_t)kl;
            ww_bad_t r = ww_json_to_obj(val, z, depth + 1, lim, &kv[i].val);
            if (r != WW_BAD_NONE)
                return r;
            i++;
        }
        o->via.map.size = (uint32_t)i;
        return WW_BAD_NONE;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        if (depth > lim->max_depth || n > lim->max_elements || n > UINT32_MAX)
            return WW_BAD_LIMIT;
        o->type = MSGPACK_OBJECT_ARRAY;
        o->via.array.size = (uint32_t)n;
        if (n == 0)
            return WW_BAD_NONE;
        msgpack_object *a = msgpack_zone_malloc(z, n * sizeof(*a));
        if (!a)
            return WW_BAD_LIMIT;
        o->via.array.ptr = a;
        for (size_t i = 0; i < n; i++) {
            ww_bad_t r = ww_json_to_obj(json_array_get(j, i), z, depth + 1, lim, &a[i]);
            if (r != WW_BAD_NONE)
                return r;
        }
        return WW_BAD_NONE;
    }
    case JSON_STRING: {
        size_t n = json_string_length(j);
        if (n > lim->max_string || n > UINT32_MAX)
            return WW_BAD_LIMIT;
        o->type = MSGPACK_OBJECT_STR;
        o->via.str.ptr = json_string_value(j);
        o->via.str.size = (uint32_t)n;
        return WW_BAD_NONE;
    }
    case JSON_INTEGER: {
        json_int_t v = json_integer_value(j);
        if (v >= 0) {
            o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
            o->via.u64 = (uint64_t)v;
        } else {
            o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
            o->via.i64 = (int64_t)v;
        }
        return WW_BAD_NONE;
    }
    case JSON_REAL:
        o->type = MSGPACK_OBJECT_FLOAT64;
        o->via.f64 = json_real_value(j);
        return WW_BAD_NONE;
    case JSON_TRUE:
    case JSON_FALSE:
        o->type = MSGPACK_OBJECT_BOOLEAN;
        o->via.boolean = json_is_true(j);
        return WW_BAD_NONE;
    case JSON_NULL:
    default:
        o->type = MSGPACK_OBJECT_NIL;
        return WW_BAD_NONE;
    }
}

/* Sets st to a fatal reason; st->repaired is cleared (no event). */
static void ww_json_fail(ww_decode_status_t *st, ww_bad_t bad, const char *detail)
{
    st->fatal = bad;
    st->repaired = 0;
    snprintf(st->detail, sizeof(st->detail), "%s", detail);
}

int ww_event_decode_json(const char *buf, size_t len, const ww_limits_t *lim, ww_event_t **out,
                         ww_decode_status_t *st)
{
    ww_decode_status_t local;
    ww_limits_t dlim;
    if (!st)
        st = &local;
    st->fatal = WW_BAD_NONE;
    st->repaired = 0;
    st->detail[0] = '\0';
    if (out)
        *out = NULL;
    if (!lim) {
        ww_limits_default(&dlim);
        lim = &dlim;
    }
    if (len > lim->max_bytes) {
        char d[96];
        snprintf(d, sizeof(d), "message of %zu bytes over the limit of %zu", len, lim->max_bytes);
        ww_json_fail(st, WW_BAD_OVERSIZE, d);
        return -1;
    }
    if (!buf)
        len = 0;
    /* a UTF-8 byte order mark is not JSON but harmless: skip it */
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
        buf += 3;
        len -= 3;
    }

    int rc = -1;
    bool utf8 = false;
    json_t *root = NULL;
    msgpack_zone *zone = NULL;
    char *text = ww_utf8_repair(buf, len, &utf8); /* also drops raw NUL bytes */

    json_error_t err;
    root = json_loadb(text, strlen(text), JSON_ALLOW_NUL, &err);
    if (!root) {
        char d[160];
        snprintf(d, sizeof(d), "json: %.100s at line %d column %d", err.text, err.line,
                 err.column);
        ww_json_fail(st, WW_BAD_JSON, d);
        goto cleanup;
    }
    if (!json_is_object(root)) {
        ww_json_fail(st, WW_BAD_NOT_MAP, "top level is not an object");
        goto cleanup;
    }
    zone = msgpack_zone_new(4096);
    if (!zone) {
        ww_json_fail(st, WW_BAD_LIMIT, "out of memory");
        goto cleanup;
    }
    msgpack_object obj;
    if (ww_json_to_obj(root, zone, 1, lim, &obj) != WW_BAD_NONE) {
        ww_json_fail(st, WW_BAD_LIMIT, "nesting, element count or string length over the limit");
        goto cleanup;
    }
    rc = ww_event_from_object(&obj, lim, out, st);
    if (rc == 0 && utf8) {
        st->repaired |= 1u << WW_BAD_UTF8;
        if (!st->detail[0])
            snprintf(st->detail, sizeof(st->detail), "invalid UTF-8 or NUL replaced");
    }

cleanup:
    if (zone)
        msgpack_zone_free(zone);
    json_decref(root);
    ww_free(text);
    return rc;
}

int ww_event_decode_any(const char *buf, size_t len, const ww_limits_t *lim, ww_event_t **out,
                        ww_decode_status_t *st)
{
    ww_decode_status_t local;
    ww_limits_t dlim;
    if (!st)
        st = &local;
    if (out)
        *out = NULL;
    if (!lim) {
        ww_limits_default(&dlim);
        lim = &dlim;
    }
    if (len > lim->max_bytes) {
        char d[96];
        snprintf(d, sizeof(d), "message of %zu bytes over the limit of %zu", len, lim->max_bytes);
        ww_json_fail(st, WW_BAD_OVERSIZE, d);
        return -1;
    }
    /* A MessagePack map starts with 0x80..0x8f, 0xde or 0xdf, never with a
     * blank, '{' or '['. '[' goes to JSON too, so a JSON array is reported
     * as "not a map" rather than as broken MessagePack. */
    size_t i = 0;
    if (buf && len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (buf && i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    if (buf && i < len && (buf[i] == '{' || buf[i] == '['))
        return ww_event_decode_json(buf, len, lim, out, st);
    return ww_event_decode_msgpack(buf, len, lim, out, st);
}

/* ---- output ------------------------------------------------------------------------------- */

/* A jansson string of s (repaired first if it is not valid UTF-8). New reference. */
static json_t *ww_json_str(const char *s)
{
    if (!s)
        s = "";
    json_t *j = json_stringn(s, strlen(s));
    if (!j) {
        char *fixed = ww_utf8_repair(s, strlen(s), NULL);
        j = json_stringn(fixed, strlen(fixed));
        ww_free(fixed);
    }
    return j ? j : json_string("");
}

char *ww_event_to_json(const ww_event_t *ev)
{
    if (!ev)
        return NULL;
    json_t *root = json_object();
    json_object_set_new(root, "v", json_integer(ev->v ? ev->v : WW_EVENT_VERSION));
    const char *skeys[] = {"id", "source", "url", "title", "body", "lang", "duplicate_of", "story"};
    const char *svals[] = {ev->id,    ev->source, ev->url,          ev->title,
                           ev->body,  ev->lang,   ev->duplicate_of, ev->story};
    for (size_t i = 0; i < sizeof skeys / sizeof skeys[0]; i++)
        if (svals[i])
            json_object_set_new(root, skeys[i], ww_json_str(svals[i]));
    if (ev->published_at)
        json_object_set_new(root, "published_at", json_integer(ev->published_at));
    if (ev->ingested_at)
        json_object_set_new(root, "ingested_at", json_integer(ev->ingested_at));
    if (ev->n_entities) {
        json_t *a = json_array();
        for (size_t i = 0; i < ev->n_entities; i++) {
            const ww_entity_t *e = &ev->entities[i];
            const char *tn = ww_ent_type_name(e->type), *fn = ww_field_name(e->field);
            if (!tn || !fn)
                continue;
            json_t *o = json_object();
            json_object_set_new(o, "text", ww_json_str(e->text));
            json_object_set_new(o, "type", json_string(tn));
            json_object_set_new(o, "canonical", ww_json_str(e->canonical));
            json_object_set_new(o, "field", json_string(fn));
            json_object_set_new(o, "start", json_integer(e->start));
            json_object_set_new(o, "end", json_integer(e->end));
            json_object_set_new(o, "count", json_integer(e->count));
            json_array_append_new(a, o);
        }
        json_object_set_new(root, "entities", a);
    }
    if (ev->n_keywords) {
        json_t *a = json_array();
        for (size_t i = 0; i < ev->n_keywords; i++) {
            json_t *o = json_object();
            double sc = ev->keywords[i].score;
            json_object_set_new(o, "term", ww_json_str(ev->keywords[i].term));
            json_object_set_new(o, "score", json_real(isfinite(sc) ? sc : 0.0));
            json_array_append_new(a, o);
        }
        json_object_set_new(root, "keywords", a);
    }
    if (ev->n_quotes) {
        json_t *a = json_array();
        for (size_t i = 0; i < ev->n_quotes; i++) {
            json_t *o = json_object();
            json_object_set_new(o, "speaker", ww_json_str(ev->quotes[i].speaker));
            json_object_set_new(o, "text", ww_json_str(ev->quotes[i].text));
            json_array_append_new(a, o);
        }
        json_object_set_new(root, "quotes", a);
    }
    size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER;
    size_t n = json_dumpb(root, NULL, 0, flags);
    char *out = ww_malloc(n + 1);
    if (n)
        json_dumpb(root, out, n, flags);
    out[n] = '\0';
    json_decref(root);
    return out;
}
