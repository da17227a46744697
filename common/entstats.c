/* entstats.c - per-entity mention counts in hourly buckets, accumulated in
 * the worker and written to Redis in pipelined batches (layout: entstats.h). */
#include "ww/entstats.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww/alloc.h"
#include "ww/keywords.h"
#include "ww/log.h"
#include "ww/text.h"

#define MOD "entstats"
#define PEND_MAX (1u << 20) /* pending fields kept while Redis is away; more events are dropped */

typedef struct {
    int64_t bucket;    /* hour */
    size_t off, len;   /* "TYPE:canonical" in the arena */
    int64_t mentions;  /* since the last flush */
} ent_pend_t;

struct ww_entstats {
    char *prefix;
    ww_df_t *idx;         /* hash(bucket, field) -> index + 1 into pend */
    ent_pend_t *pend;
    size_t npend, cap_pend;
    char *arena;          /* field texts */
    size_t alen, acap;
    char *fbuf;           /* "TYPE:canonical" being built */
    size_t fcap;
    /* flush scratch */
    const char **fields;
    size_t *flens;
    int64_t *m_incs;
    size_t cap_f;
    size_t *order;        /* pending indexes by bucket */
    size_t cap_o;
};

ww_entstats_t *ww_entstats_new(const char *prefix)
{
    ww_entstats_t *e = ww_calloc(1, sizeof *e);
    e->prefix = ww_strdup(prefix ? prefix : "");
    e->idx = ww_df_new();
    return e;
}

void ww_entstats_destroy(ww_entstats_t **ep)
{
    if (!ep || !*ep)
        return;
    ww_entstats_t *e = *ep;
    ww_free(e->prefix);
    ww_df_destroy(&e->idx);
    ww_free(e->pend);
    ww_free(e->arena);
    ww_free(e->fbuf);
    ww_free(e->fields);
    ww_free(e->flens);
    ww_free(e->m_incs);
    ww_free(e->order);
    ww_free(e);
    *ep = NULL;
}

int64_t ww_entstats_bucket(int64_t event_ms)
{
    return event_ms > 0 ? event_ms / WW_ENTSTATS_BUCKET_MS : 0;
}

void ww_entstats_add_event(ww_entstats_t *e, const ww_event_t *ev)
{
    if (e->npend + ev->n_entities > PEND_MAX) {
        if (ww_log_ratelimit(43, 60))
            ww_warn(MOD, "msg=\"entity statistics not sent for long: new events not counted\"");
        return;
    }
    int64_t bucket = ww_entstats_bucket(ww_event_time(ev));
    for (size_t i = 0; i < ev->n_entities; i++) {
        const ww_entity_t *en = &ev->entities[i];
        if (en->type > WW_ENT_MISC || !en->canonical || !*en->canonical)
            continue;
        const char *tn = ww_ent_type_name(en->type);
        size_t tl = strlen(tn), cl = strlen(en->canonical), len = tl + 1 + cl;
        WW_GROW(e->fbuf, e->fcap, len + 1);
        memcpy(e->fbuf, tn, tl);
        e->fbuf[tl] = ':';
        memcpy(e->fbuf + tl + 1, en->canonical, cl + 1);
        uint64_t key = ww_hash_bytes(e->fbuf, len) ^ ((uint64_t)bucket * 0x9e3779b97f4a7c15ULL);
        uint64_t at = ww_df_get(e->idx, key);
        ent_pend_t *p;
        if (at) {
            p = &e->pend[at - 1];
        } else {
            WW_GROW(e->arena, e->acap, e->alen + len + 1);
            memcpy(e->arena + e->alen, e->fbuf, len + 1);
            WW_GROW(e->pend, e->cap_pend, e->npend + 1);
            p = &e->pend[e->npend];
            *p = (ent_pend_t){bucket, e->alen, len, 0};
            e->alen += len + 1;
            ww_df_set(e->idx, key, ++e->npend);
        }
        p->mentions++;
    }
}

size_t ww_entstats_pending(const ww_entstats_t *e)
{
    return e->npend;
}

/* Orders pending indexes by bucket (qsort_r context: the pending array). */
static int cmp_pend(const void *a, const void *b, void *ctx)
{
    const ent_pend_t *p = ctx;
    int64_t x = p[*(const size_t *)a].bucket, y = p[*(const size_t *)b].bucket;
    if (x != y)
        return x < y ? -1 : 1;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

int ww_entstats_flush(ww_entstats_t *e, ww_redis_t *r)
{
    if (!e->npend)
        return 0;
    size_t np = e->npend;
    WW_GROW(e->fields, e->cap_f, np);
    e->flens = ww_realloc(e->flens, e->cap_f * sizeof *e->flens);
    e->m_incs = ww_realloc(e->m_incs, e->cap_f * sizeof *e->m_incs);
    WW_GROW(e->order, e->cap_o, np);
    for (size_t i = 0; i < np; i++)
        e->order[i] = i;
    qsort_r(e->order, np, sizeof *e->order, cmp_pend, e->pend);
    size_t cmds = 0;
    bool ok = true;
    for (size_t a = 0; a < np && ok;) {
        int64_t bucket = e->pend[e->order[a]].bucket;
        size_t n = 0;
        for (; a < np && e->pend[e->order[a]].bucket == bucket; a++, n++) {
            const ent_pend_t *p = &e->pend[e->order[a]];
            e->fields[n] = e->arena + p->off;
            e->flens[n] = p->len;
            e->m_incs[n] = p->mentions;
        }
        char key[512];
        snprintf(key, sizeof key, "%sent:%lld", e->prefix, (long long)bucket);
        int c1 = ww_redis_append_hincr(r, key, n, e->fields, e->flens, e->m_incs);
        if (c1 < 0 || ww_redis_append(r, "EXPIRE %s %d", key, WW_ENTSTATS_TTL_S) < 0) {
            ok = false;
            break;
        }
        cmds += (size_t)c1 + 1;
    }
    if (!ok) {
        if (ww_redis_pending(r))
            ww_redis_close(r); /* half a pipeline: drop it */
        return -1;
    }
    for (size_t c = 0; c < cmds; c++) {
        redisReply *rep;
        if (ww_redis_get_reply(r, &rep) < 0)
            return -1; /* counts kept: sent again (at least once) by the next flush */
        if (rep->type == REDIS_REPLY_ERROR && ww_log_ratelimit(41, 60))
            ww_warn(MOD, "msg=\"entity statistics update refused\" error=\"%s\"", rep->str);
        freeReplyObject(rep);
    }
    e->npend = 0;
    e->alen = 0;
    ww_df_clear(e->idx);
    return 0;
}
