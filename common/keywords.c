/* keywords.c - document-frequency tables for TF-IDF keywords and their
 * counting into Redis (see keywords.h for the layout). */
#include "ww/keywords.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww/alloc.h"
#include "ww/log.h"
#include "ww/text.h"

#define MOD "keywords"

/* ---- keys -------------------------------------------------------------------------- */

uint64_t ww_df_term_key(const char *term, size_t len)
{
    uint64_t key = 0;
    bool first = true;
    size_t a = 0;
    while (a <= len) {
        size_t b = a;
        while (b < len && term[b] != ' ')
            b++;
        uint64_t w = ww_hash_bytes(term + a, b - a);
        key = first ? w : ww_df_phrase_key(key, w);
        first = false;
        a = b + 1;
    }
    return key;
}

/* ---- tables ------------------------------------------------------------------------ */

typedef struct {
    uint64_t key; /* 0 = empty slot (key 0 is stored as 1) */
    uint64_t val; /* documents */
} df_slot_t;

struct ww_df {
    df_slot_t *slots; /* key and value side by side: one cache miss per lookup */
    size_t cap;       /* slots, power of two (0 before the first insert) */
    size_t n;       /* terms held */
    uint64_t docs;  /* documents counted */
};

static inline uint64_t df_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

/* Slot holding key or the empty slot where it would go (cap > 0). */
static size_t df_slot(const ww_df_t *df, uint64_t key)
{
    size_t mask = df->cap - 1, i = (size_t)df_mix(key) & mask;
    while (df->slots[i].key && df->slots[i].key != key)
        i = (i + 1) & mask;
    return i;
}

static void df_grow(ww_df_t *df)
{
    size_t ocap = df->cap;
    df_slot_t *old = df->slots;
    df->cap = ocap ? ocap * 2 : 1024;
    df->slots = ww_calloc(df->cap, sizeof *df->slots);
    for (size_t i = 0; i < ocap; i++)
        if (old[i].key)
            df->slots[df_slot(df, old[i].key)] = old[i];
    ww_free(old);
}

ww_df_t *ww_df_new(void)
{
    return ww_calloc(1, sizeof(ww_df_t));
}

void ww_df_destroy(ww_df_t **dfp)
{
    if (!dfp || !*dfp)
        return;
    ww_free((*dfp)->slots);
    ww_free(*dfp);
    *dfp = NULL;
}

void ww_df_clear(ww_df_t *df)
{
    if (df->cap)
        memset(df->slots, 0, df->cap * sizeof *df->slots);
    df->n = 0;
    df->docs = 0;
}

void ww_df_set(ww_df_t *df, uint64_t key, uint64_t docs)
{
    key = key ? key : 1;
    if ((df->n + 1) * 2 > df->cap)
        df_grow(df);
    size_t i = df_slot(df, key);
    if (!df->slots[i].key) {
        df->slots[i].key = key;
        df->n++;
    }
    df->slots[i].val = docs;
}

uint64_t ww_df_get(const ww_df_t *df, uint64_t key)
{
    if (!df || !df->n)
        return 0;
    const df_slot_t *sl = &df->slots[df_slot(df, key ? key : 1)];
    return sl->key ? sl->val : 0;
}

void ww_df_set_docs(ww_df_t *df, uint64_t docs)
{
    df->docs = docs;
}

uint64_t ww_df_docs(const ww_df_t *df)
{
    return df ? df->docs : 0;
}

size_t ww_df_size(const ww_df_t *df)
{
    return df ? df->n : 0;
}

ww_df_t *ww_df_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    ww_df_t *df = ww_df_new();
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    bool ok = true;
    while ((len = getline(&line, &cap, f)) > 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (!len)
            continue;
        char *tab = memchr(line, '\t', (size_t)len);
        char *end = NULL;
        unsigned long long v = tab ? strtoull(tab + 1, &end, 10) : 0;
        if (!tab || tab == line || !end || end == tab + 1 || *end) {
            snprintf(err, errlen, "%s:%zu: expected TERM<TAB>COUNT", path, lineno);
            ok = false;
            break;
        }
        if (lineno == 1) {
            if (strncmp(line, "#docs", 5) != 0 || tab != line + 5) {
                snprintf(err, errlen, "%s:1: expected #docs<TAB>N", path);
                ok = false;
                break;
            }
            df->docs = v;
            continue;
        }
        ww_df_set(df, ww_df_term_key(line, (size_t)(tab - line)), v);
    }
    if (ok && lineno == 0) {
        snprintf(err, errlen, "%s: empty", path);
        ok = false;
    }
    free(line);
    fclose(f);
    if (!ok)
        ww_df_destroy(&df);
    return df;
}

double ww_df_idf(const ww_df_t *a, const ww_df_t *b, uint64_t key)
{
    uint64_t n = ww_df_docs(a) + ww_df_docs(b);
    if (!n)
        return 1.0;
    uint64_t d = ww_df_get(a, key) + ww_df_get(b, key);
    if (d > n)
        d = n;
    return log((1.0 + (double)n) / (1.0 + (double)d)) + 1.0;
}

/* ---- Redis: pipelined HINCRBYs ------------------------------------------------------- */

int ww_redis_append_hincr(ww_redis_t *r, const char *key, size_t n, const char *const *fields,
                          const size_t *flens, const int64_t *incs)
{
    const char *argv[4] = {"HINCRBY", key, NULL, NULL};
    size_t lens[4] = {7, strlen(key), 0, 0};
    char num[24];
    for (size_t i = 0; i < n; i++) {
        argv[2] = fields[i];
        lens[2] = flens[i];
        lens[3] = (size_t)snprintf(num, sizeof num, "%" PRId64, incs[i]);
        argv[3] = num;
        if (ww_redis_appendargv(r, 4, argv, lens) < 0)
            return -1;
    }
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

/* ---- the worker's counts ------------------------------------------------------------ */

#define LIVE_MAX (1u << 20) /* live table is forgotten past this many terms */

typedef struct {
    uint64_t key;  /* term key */
    size_t off;    /* term text in the arena */
    size_t len;    /* its length */
    int64_t count; /* documents since the last flush */
} pend_t;

struct ww_df_sync {
    char *key;          /* <prefix>df */
    char *docs_key;     /* <prefix>df:docs */
    ww_df_t *idx;       /* term key -> index + 1 into pend */
    pend_t *pend;       /* pending increments */
    size_t npend, cap_pend;
    char *arena;        /* pending term texts */
    size_t alen, acap;
    uint64_t docs;      /* documents since the last flush */
    ww_df_t *live;      /* totals Redis returned */
    const char **fields; /* flush scratch */
    size_t *flens;
    int64_t *incs;
    size_t cap_f;
};

bool ww_df_sampled(const char *event_id)
{
    if (!event_id)
        return true;
    return ww_hash_bytes(event_id, strlen(event_id)) % WW_DF_SAMPLE == 0;
}

ww_df_sync_t *ww_df_sync_new(const char *prefix)
{
    ww_df_sync_t *s = ww_calloc(1, sizeof *s);
    s->key = ww_asprintf("%sdf", prefix);
    s->docs_key = ww_asprintf("%sdf:docs", prefix);
    s->idx = ww_df_new();
    s->live = ww_df_new();
    return s;
}

void ww_df_sync_destroy(ww_df_sync_t **sp)
{
    if (!sp || !*sp)
        return;
    ww_df_sync_t *s = *sp;
    ww_free(s->key);
    ww_free(s->docs_key);
    ww_df_destroy(&s->idx);
    ww_df_destroy(&s->live);
    ww_free(s->pend);
    ww_free(s->arena);
    ww_free(s->fields);
    ww_free(s->flens);
    ww_free(s->incs);
    ww_free(s);
    *sp = NULL;
}

#define PEND_MAX (1u << 20) /* pending terms kept while Redis is away; more documents are dropped */

void ww_df_sync_add_doc(ww_df_sync_t *s, const ww_term_t *terms, size_t n)
{
    if (s->npend + n > PEND_MAX) {
        if (ww_log_ratelimit(42, 60))
            ww_warn(MOD, "msg=\"document frequencies not sent for long: new documents not counted\"");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t at = ww_df_get(s->idx, terms[i].key);
        if (at) {
            s->pend[at - 1].count++;
            continue;
        }
        size_t len = strlen(terms[i].term);
        WW_GROW(s->arena, s->acap, s->alen + len + 1);
        memcpy(s->arena + s->alen, terms[i].term, len + 1);
        WW_GROW(s->pend, s->cap_pend, s->npend + 1);
        s->pend[s->npend] = (pend_t){terms[i].key, s->alen, len, 1};
        s->alen += len + 1;
        ww_df_set(s->idx, terms[i].key, ++s->npend);
    }
    s->docs++;
}

uint64_t ww_df_sync_pending(const ww_df_sync_t *s)
{
    return s->docs;
}

int ww_df_sync_flush(ww_df_sync_t *s, ww_redis_t *r)
{
    if (!s->docs)
        return 0;
    WW_GROW(s->fields, s->cap_f, s->npend + 1);
    s->flens = ww_realloc(s->flens, s->cap_f * sizeof *s->flens);
    s->incs = ww_realloc(s->incs, s->cap_f * sizeof *s->incs);
    for (size_t i = 0; i < s->npend; i++) {
        s->fields[i] = s->arena + s->pend[i].off;
        s->flens[i] = s->pend[i].len;
        s->incs[i] = s->pend[i].count;
    }
    int cmds = ww_redis_append_hincr(r, s->key, s->npend, s->fields, s->flens, s->incs);
    if (cmds < 0 || ww_redis_append(r, "INCRBY %s %llu", s->docs_key, (unsigned long long)s->docs) < 0) {
        if (ww_redis_pending(r))
            ww_redis_close(r); /* half a pipeline: drop it */
        return -1;
    }
    if (ww_df_size(s->live) + s->npend > LIVE_MAX)
        ww_df_clear(s->live);
    int rc = 0;
    for (int c = 0; c <= cmds; c++) {
        redisReply *rep;
        if (ww_redis_get_reply(r, &rep) < 0) {
            rc = -1;
            break;
        }
        if (rep->type == REDIS_REPLY_INTEGER && rep->integer > 0) {
            if (c < cmds)
                ww_df_set(s->live, s->pend[c].key, (uint64_t)rep->integer);
            else
                ww_df_set_docs(s->live, (uint64_t)rep->integer);
        } else if (rep->type == REDIS_REPLY_ERROR && ww_log_ratelimit(40, 60)) {
            ww_warn(MOD, "msg=\"document frequency update refused\" error=\"%s\"", rep->str);
        }
        freeReplyObject(rep);
    }
    if (rc < 0)
        return -1; /* counts kept: sent again (at least once) by the next flush */
    s->npend = 0;
    s->alen = 0;
    s->docs = 0;
    ww_df_clear(s->idx);
    return 0;
}

const ww_df_t *ww_df_sync_live(const ww_df_sync_t *s)
{
    return s->live;
}
