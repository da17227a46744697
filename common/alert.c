/* alert.c - the alert model and its MessagePack/JSON codecs. */
#include "ww/alert.h"

#include <jansson.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ww/alloc.h"

void ww_alert_compute_id(const char *rule_id, const char *event_id, const char *key, char out[33])
{
    XXH3_state_t st;
    XXH3_128bits_reset(&st);
    XXH3_128bits_update(&st, "alert", 6);
    XXH3_128bits_update(&st, rule_id, strlen(rule_id) + 1);
    XXH3_128bits_update(&st, event_id, strlen(event_id) + 1);
    if (key)
        XXH3_128bits_update(&st, key, strlen(key));
    XXH128_hash_t h = XXH3_128bits_digest(&st);
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
}

static void copy_match(ww_match_t *d, const ww_match_t *s)
{
    *d = *s;
    d->value = ww_strdup(s->value ? s->value : "");
}

ww_alert_t *ww_alert_from_hit(const ww_hit_t *hit, const ww_event_t *ev, const char *key,
                              int64_t fired_at)
{
    ww_alert_t *a = ww_calloc(1, sizeof *a);
    char id[33];
    ww_alert_compute_id(hit->rule->id, ev->id ? ev->id : "", key, id);
    a->id = ww_strdup(id);
    a->rule = ww_strdup(hit->rule->id);
    a->channel = ww_strdup(hit->rule->channel);
    a->severity = ww_strdup(ww_severity_name(hit->rule->severity));
    a->event.id = ww_strdup(ev->id ? ev->id : "");
    a->event.title = ww_strdup(ev->title ? ev->title : "");
    a->event.url = ww_strdup(ev->url ? ev->url : "");
    a->event.source = ww_strdup(ev->source ? ev->source : "");
    a->event.published_at = ww_event_time(ev);
    a->n_matches = hit->n_matches;
    a->matches = ww_calloc(hit->n_matches ? hit->n_matches : 1, sizeof *a->matches);
    for (size_t i = 0; i < hit->n_matches; i++)
        copy_match(&a->matches[i], &hit->matches[i]);
    a->fired_at = fired_at;
    return a;
}

void ww_alert_add_state_match(ww_alert_t *a, const ww_rule_t *r, const char *key)
{
    if (!r->threshold.on && !r->spike.on)
        return;
    a->matches = ww_realloc(a->matches, (a->n_matches + 1) * sizeof *a->matches);
    ww_match_t *m = &a->matches[a->n_matches++];
    memset(m, 0, sizeof *m);
    m->kind = r->threshold.on ? WW_MATCH_THRESHOLD : WW_MATCH_SPIKE;
    m->value = ww_strdup(key && *key ? key : r->id);
    m->count = r->threshold.on ? r->threshold.count : r->spike.min;
}

void ww_alert_destroy(ww_alert_t **ap)
{
    if (!ap || !*ap)
        return;
    ww_alert_t *a = *ap;
    ww_free(a->id);
    ww_free(a->rule);
    ww_free(a->channel);
    ww_free(a->severity);
    ww_free(a->event.id);
    ww_free(a->event.title);
    ww_free(a->event.url);
    ww_free(a->event.source);
    for (size_t i = 0; i < a->n_matches; i++)
        ww_free(a->matches[i].value);
    ww_free(a->matches);
    ww_free(a->stream_id);
    ww_free(a);
    *ap = NULL;
}

static void pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s ? s : "", n);
}

static void pack_kv(msgpack_packer *pk, const char *k, const char *v)
{
    pack_str(pk, k);
    pack_str(pk, v);
}

void ww_alert_pack(msgpack_packer *pk, const ww_alert_t *a)
{
    msgpack_pack_map(pk, a->stream_id ? 9 : 8);
    pack_str(pk, "v");
    msgpack_pack_int(pk, 1);
    pack_kv(pk, "id", a->id);
    pack_kv(pk, "rule", a->rule);
    pack_kv(pk, "channel", a->channel);
    pack_kv(pk, "severity", a->severity);
    pack_str(pk, "event");
    msgpack_pack_map(pk, 5);
    pack_kv(pk, "id", a->event.id);
    pack_kv(pk, "title", a->event.title);
    pack_kv(pk, "url", a->event.url);
    pack_kv(pk, "source", a->event.source);
    pack_str(pk, "published_at");
    msgpack_pack_int64(pk, a->event.published_at);
    pack_str(pk, "matches");
    msgpack_pack_array(pk, a->n_matches);
    for (size_t i = 0; i < a->n_matches; i++) {
        const ww_match_t *m = &a->matches[i];
        bool ent = m->kind == WW_MATCH_ENTITY;
        bool cnt = ent || m->kind == WW_MATCH_THRESHOLD || m->kind == WW_MATCH_SPIKE;
        msgpack_pack_map(pk, 2 + (ent ? 1 : 0) + (m->has_pos ? 3 : 0) + (cnt ? 1 : 0));
        pack_kv(pk, "kind", ww_match_kind_name(m->kind));
        pack_kv(pk, "value", m->value);
        if (ent)
            pack_kv(pk, "type", ww_ent_type_name(m->type));
        if (m->has_pos) {
            pack_kv(pk, "field", ww_field_name(m->field));
            pack_str(pk, "start");
            msgpack_pack_uint32(pk, m->start);
            pack_str(pk, "end");
            msgpack_pack_uint32(pk, m->end);
        }
        if (cnt) {
            pack_str(pk, "count");
            msgpack_pack_uint32(pk, m->count);
        }
    }
    pack_str(pk, "fired_at");
    msgpack_pack_int64(pk, a->fired_at);
    if (a->stream_id)
        pack_kv(pk, "seq", a->stream_id);
}

/* ---- decoding (used by subscribers) ------------------------------------------ */

static bool key_is(const msgpack_object *k, const char *s)
{
    size_t n = strlen(s);
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n && memcmp(k->via.str.ptr, s, n) == 0;
}

static char *obj_str(const msgpack_object *o)
{
    if (o->type == MSGPACK_OBJECT_STR)
        return ww_strndup(o->via.str.ptr, o->via.str.size);
    if (o->type == MSGPACK_OBJECT_BIN)
        return ww_strndup(o->via.bin.ptr, o->via.bin.size);
    return ww_strdup("");
}

static int64_t obj_int(const msgpack_object *o)
{
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return (int64_t)o->via.u64;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return o->via.i64;
    return 0;
}

static void decode_match(const msgpack_object *o, ww_match_t *m)
{
    memset(m, 0, sizeof *m);
    if (o->type != MSGPACK_OBJECT_MAP) {
        m->value = ww_strdup("");
        return;
    }
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
        if (key_is(k, "kind")) {
            char *s = obj_str(v);
            for (int kk = 0; kk <= WW_MATCH_SPIKE; kk++)
                if (strcmp(s, ww_match_kind_name((ww_match_kind_t)kk)) == 0)
                    m->kind = (ww_match_kind_t)kk;
            ww_free(s);
        } else if (key_is(k, "value") && !m->value) {
            m->value = obj_str(v);
        } else if (key_is(k, "type")) {
            char *s = obj_str(v);
            ww_ent_type_parse(s, &m->type);
            ww_free(s);
        } else if (key_is(k, "field")) {
            char *s = obj_str(v);
            m->field = strcmp(s, "title") == 0 ? WW_FIELD_TITLE : WW_FIELD_BODY;
            m->has_pos = true;
            ww_free(s);
        } else if (key_is(k, "start")) {
            m->start = (uint32_t)obj_int(v);
        } else if (key_is(k, "end")) {
            m->end = (uint32_t)obj_int(v);
        } else if (key_is(k, "count")) {
            m->count = (uint32_t)obj_int(v);
        }
    }
    if (!m->value)
        m->value = ww_strdup("");
}

int ww_alert_decode(const char *buf, size_t len, ww_alert_t **out)
{
    *out = NULL;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    if (msgpack_unpack_next(&up, buf, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        up.data.type != MSGPACK_OBJECT_MAP) {
        msgpack_unpacked_destroy(&up);
        return -1;
    }
    ww_alert_t *a = ww_calloc(1, sizeof *a);
    const msgpack_object *o = &up.data;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
        char **dst = NULL;
        if (key_is(k, "id"))
            dst = &a->id;
        else if (key_is(k, "seq"))
            dst = &a->stream_id;
        else if (key_is(k, "rule"))
            dst = &a->rule;
        else if (key_is(k, "channel"))
            dst = &a->channel;
        else if (key_is(k, "severity"))
            dst = &a->severity;
        if (dst) {
            ww_free(*dst);
            *dst = obj_str(v);
        } else if (key_is(k, "fired_at")) {
            a->fired_at = obj_int(v);
        } else if (key_is(k, "event") && v->type == MSGPACK_OBJECT_MAP) {
            for (uint32_t j = 0; j < v->via.map.size; j++) {
                const msgpack_object *ek = &v->via.map.ptr[j].key, *ev = &v->via.map.ptr[j].val;
                char **ed = NULL;
                if (key_is(ek, "id"))
                    ed = &a->event.id;
                else if (key_is(ek, "title"))
                    ed = &a->event.title;
                else if (key_is(ek, "url"))
                    ed = &a->event.url;
                else if (key_is(ek, "source"))
                    ed = &a->event.source;
                if (ed) {
                    ww_free(*ed);
                    *ed = obj_str(ev);
                } else if (key_is(ek, "published_at")) {
                    a->event.published_at = obj_int(ev);
                }
            }
        } else if (key_is(k, "matches") && v->type == MSGPACK_OBJECT_ARRAY && !a->matches) {
            a->n_matches = v->via.array.size;
            a->matches = ww_calloc(a->n_matches ? a->n_matches : 1, sizeof *a->matches);
            for (uint32_t j = 0; j < v->via.array.size; j++)
                decode_match(&v->via.array.ptr[j], &a->matches[j]);
        }
    }
    msgpack_unpacked_destroy(&up);
    char **must[] = {&a->id, &a->rule, &a->channel, &a->severity,
                     &a->event.id, &a->event.title, &a->event.url, &a->event.source};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        if (!*must[i])
            *must[i] = ww_strdup("");
    *out = a;
    return 0;
}

char *ww_alert_to_json(const ww_alert_t *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "v", json_integer(1));
    json_object_set_new(o, "id", json_string(a->id));
    json_object_set_new(o, "rule", json_string(a->rule));
    json_object_set_new(o, "channel", json_string(a->channel));
    json_object_set_new(o, "severity", json_string(a->severity));
    json_t *e = json_object();
    json_object_set_new(e, "id", json_string(a->event.id));
    json_object_set_new(e, "title", json_string(a->event.title));
    json_object_set_new(e, "url", json_string(a->event.url));
    json_object_set_new(e, "source", json_string(a->event.source));
    json_object_set_new(e, "published_at", json_integer(a->event.published_at));
    json_object_set_new(o, "event", e);
    json_t *ms = json_array();
    for (size_t i = 0; i < a->n_matches; i++) {
        const ww_match_t *m = &a->matches[i];
        json_t *mo = json_object();
        json_object_set_new(mo, "kind", json_string(ww_match_kind_name(m->kind)));
        json_object_set_new(mo, "value", json_string(m->value));
        if (m->kind == WW_MATCH_ENTITY)
            json_object_set_new(mo, "type", json_string(ww_ent_type_name(m->type)));
        if (m->has_pos) {
            json_object_set_new(mo, "field", json_string(ww_field_name(m->field)));
            json_object_set_new(mo, "start", json_integer(m->start));
            json_object_set_new(mo, "end", json_integer(m->end));
        }
        if (m->kind != WW_MATCH_KEYWORD)
            json_object_set_new(mo, "count", json_integer(m->count));
        json_array_append_new(ms, mo);
    }
    json_object_set_new(o, "matches", ms);
    json_object_set_new(o, "fired_at", json_integer(a->fired_at));
    if (a->stream_id)
        json_object_set_new(o, "seq", json_string(a->stream_id));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    char *r = ww_strdup(s ? s : "{}");
    free(s);
    return r;
}
