/* gazetteer.c - phrase -> type table keyed by hashes of folded token sequences.
 *
 * Every phrase is tokenized with ww_tokenize, so it is compared exactly as
 * text words are. The key of a phrase is a chain of the token hashes
 * (seq_step). Every proper prefix of a phrase is stored too (PREFIX bit), so a
 * longest-match scan extends one token at a time and stops at the first
 * sequence that no phrase starts with: usually a single probe per token.
 * Keys are 64-bit hashes and are not verified against the words; with a few
 * ten thousand phrases a false hit has a probability near 1e-10. */
#include "ww/gazetteer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww/alloc.h"
#include "ww/log.h"

#define GAZ_PREFIX 0x80000000u /* internal: some longer phrase starts with this */
#define GAZ_NO_CANON UINT32_MAX

typedef struct {
    uint64_t key;       /* chained token hash; 0 = empty slot */
    uint32_t mask;      /* WW_GAZ_* bits | GAZ_PREFIX */
    uint32_t canon_off; /* offset of the canonical spelling in pool, or GAZ_NO_CANON */
} gaz_slot_t;

struct ww_gazetteer {
    gaz_slot_t *slots; /* open addressing, linear probing, power-of-two size */
    size_t cap;        /* number of slots */
    size_t used;       /* occupied slots (phrases and prefixes) */
    size_t phrases;    /* slots that are whole phrases */
    char *pool;        /* canonical spellings, NUL-terminated */
    size_t pool_len, pool_cap;
    ww_tokens_t toks;  /* scratch for tokenizing phrases while loading */
};

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

#define SEQ_SEED 0x9e3779b97f4a7c15ULL

/* Next key of a token sequence after appending a token hash. Never 0. */
static inline uint64_t seq_step(uint64_t h, uint64_t tok)
{
    uint64_t r = mix64(h ^ tok);
    return r ? r : 1;
}

ww_gazetteer_t *ww_gazetteer_new(void)
{
    ww_gazetteer_t *g = ww_calloc(1, sizeof *g);
    g->cap = 1024;
    g->slots = ww_calloc(g->cap, sizeof *g->slots);
    ww_tokens_init(&g->toks);
    return g;
}

void ww_gazetteer_destroy(ww_gazetteer_t **gp)
{
    if (!gp || !*gp)
        return;
    ww_gazetteer_t *g = *gp;
    ww_free(g->slots);
    ww_free(g->pool);
    ww_tokens_deinit(&g->toks);
    ww_free(g);
    *gp = NULL;
}

size_t ww_gazetteer_size(const ww_gazetteer_t *g)
{
    return g ? g->phrases : 0;
}

static const gaz_slot_t *find_slot(const ww_gazetteer_t *g, uint64_t key)
{
    size_t m = g->cap - 1;
    for (size_t i = (size_t)key & m;; i = (i + 1) & m) {
        const gaz_slot_t *s = &g->slots[i];
        if (s->key == key)
            return s;
        if (s->key == 0)
            return NULL;
    }
}

static void rehash(ww_gazetteer_t *g)
{
    size_t ncap = g->cap * 2;
    gaz_slot_t *ns = ww_calloc(ncap, sizeof *ns);
    for (size_t i = 0; i < g->cap; i++) {
        if (!g->slots[i].key)
            continue;
        size_t j = (size_t)g->slots[i].key & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = g->slots[i];
    }
    ww_free(g->slots);
    g->slots = ns;
    g->cap = ncap;
}

/* Returns the slot of key, inserting an empty one (mask 0) when absent. */
static gaz_slot_t *upsert_slot(ww_gazetteer_t *g, uint64_t key)
{
    if ((g->used + 1) * 2 > g->cap)
        rehash(g);
    size_t m = g->cap - 1;
    for (size_t i = (size_t)key & m;; i = (i + 1) & m) {
        gaz_slot_t *s = &g->slots[i];
        if (s->key == key)
            return s;
        if (s->key == 0) {
            s->key = key;
            s->mask = 0;
            s->canon_off = GAZ_NO_CANON;
            g->used++;
            return s;
        }
    }
}

static uint32_t pool_add(ww_gazetteer_t *g, const char *s, size_t n)
{
    WW_GROW(g->pool, g->pool_cap, g->pool_len + n + 1);
    uint32_t off = (uint32_t)g->pool_len;
    memcpy(g->pool + off, s, n);
    g->pool[off + n] = '\0';
    g->pool_len += n + 1;
    return off;
}

/* Trims ASCII white space on both ends of s[0..*n); returns the new start. */
static const char *trim(const char *s, size_t *n)
{
    size_t a = 0, b = *n;
    while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r' || s[a] == '\n'))
        a++;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r' || s[b - 1] == '\n'))
        b--;
    *n = b - a;
    return s + a;
}

int ww_gazetteer_add(ww_gazetteer_t *g, const char *phrase, size_t len, uint32_t mask,
                     const char *canonical)
{
    phrase = trim(phrase, &len);
    ww_tokenize(phrase, len, &g->toks);
    size_t n = g->toks.n;
    if (n == 0 || n > WW_GAZ_MAX_TOKENS)
        return -1;
    if (n == 1 && (g->toks.toks[0].flags & WW_TOK_ALL_UPPER) &&
        g->toks.toks[0].end - g->toks.toks[0].start >= 2)
        mask |= WW_GAZ_ACRONYM;
    uint64_t h = SEQ_SEED;
    for (size_t i = 0; i < n; i++) {
        h = seq_step(h, g->toks.toks[i].hash);
        gaz_slot_t *s = upsert_slot(g, h);
        if (i + 1 < n) {
            s->mask |= GAZ_PREFIX;
            continue;
        }
        if ((s->mask & ~GAZ_PREFIX) == 0)
            g->phrases++;
        s->mask |= mask;
        if (s->canon_off == GAZ_NO_CANON) {
            if (canonical && *canonical) {
                size_t cl = strlen(canonical);
                const char *c = trim(canonical, &cl);
                s->canon_off = pool_add(g, c, cl);
            } else {
                s->canon_off = pool_add(g, phrase, len);
            }
        }
    }
    return 0;
}

static const struct {
    const char *name;
    uint32_t bit;
} gaz_types[] = {
    {"PER", WW_GAZ_PER},         {"ORG", WW_GAZ_ORG},     {"LOC", WW_GAZ_LOC},
    {"MISC", WW_GAZ_MISC},       {"DEMONYM", WW_GAZ_DEMONYM}, {"TITLE", WW_GAZ_TITLE},
    {"FIRST", WW_GAZ_FIRST},     {"CUR", WW_GAZ_CUR},
};

int ww_gazetteer_type_parse(const char *s, size_t len, uint32_t *bit)
{
    for (size_t i = 0; i < sizeof gaz_types / sizeof gaz_types[0]; i++) {
        if (strlen(gaz_types[i].name) == len && memcmp(gaz_types[i].name, s, len) == 0) {
            *bit = gaz_types[i].bit;
            return 0;
        }
    }
    return -1;
}

ww_gazetteer_t *ww_gazetteer_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (err && errlen)
            snprintf(err, errlen, "cannot open gazetteer %s: %s", path, strerror(errno));
        return NULL;
    }
    ww_gazetteer_t *g = ww_gazetteer_new();
    char *line = NULL;
    size_t linecap = 0;
    ssize_t r;
    unsigned long lineno = 0, bad = 0;
    while ((r = getline(&line, &linecap, f)) >= 0) {
        lineno++;
        size_t n = (size_t)r;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        size_t skip = 0;
        while (skip < n && (line[skip] == ' ' || line[skip] == '\t'))
            skip++;
        if (skip == n || line[skip] == '#')
            continue;
        char *tab1 = memchr(line, '\t', n);
        uint32_t bit = 0;
        const char *canon = NULL;
        if (tab1) {
            char *type = tab1 + 1;
            char *tab2 = strchr(type, '\t');
            size_t tl = tab2 ? (size_t)(tab2 - type) : strlen(type);
            const char *t = trim(type, &tl);
            if (ww_gazetteer_type_parse(t, tl, &bit) < 0)
                bit = 0;
            if (tab2)
                canon = tab2 + 1;
        }
        if (!bit || ww_gazetteer_add(g, line, (size_t)(tab1 - line), bit, canon) < 0) {
            if (bad++ < 5)
                ww_warn("gazetteer", "file=%s line=%lu msg=\"bad entry skipped\"", path, lineno);
        }
    }
    free(line);
    fclose(f);
    if (bad > 5)
        ww_warn("gazetteer", "file=%s skipped=%lu msg=\"bad entries skipped\"", path, bad);
    /* the scratch buffer is only needed while adding */
    ww_tokens_deinit(&g->toks);
    ww_tokens_init(&g->toks);
    return g;
}

size_t ww_gazetteer_match(const ww_gazetteer_t *g, const ww_tokens_t *t, size_t i, size_t max_tok,
                          ww_gaz_match_t *m)
{
    m->ntok = 0;
    m->mask = 0;
    m->canonical = NULL;
    if (!g || i >= t->n)
        return 0;
    if (max_tok > WW_GAZ_MAX_TOKENS)
        max_tok = WW_GAZ_MAX_TOKENS;
    if (max_tok > t->n - i)
        max_tok = t->n - i;
    uint64_t h = SEQ_SEED;
    for (size_t k = 0; k < max_tok; k++) {
        h = seq_step(h, t->toks[i + k].hash);
        const gaz_slot_t *s = find_slot(g, h);
        if (!s)
            break;
        if (s->mask & ~GAZ_PREFIX) {
            m->ntok = k + 1;
            m->mask = s->mask & ~GAZ_PREFIX;
            m->canonical = s->canon_off == GAZ_NO_CANON ? NULL : g->pool + s->canon_off;
        }
        if (!(s->mask & GAZ_PREFIX))
            break;
    }
    return m->ntok;
}

uint32_t ww_gazetteer_lookup(const ww_gazetteer_t *g, const char *phrase, size_t len)
{
    if (!g)
        return 0;
    ww_tokens_t t;
    ww_tokens_init(&t);
    ww_tokenize(phrase, len, &t);
    ww_gaz_match_t m;
    uint32_t mask = 0;
    if (t.n > 0 && ww_gazetteer_match(g, &t, 0, t.n, &m) == t.n)
        mask = m.mask;
    ww_tokens_deinit(&t);
    return mask;
}
