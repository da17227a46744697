/* rules.c - rules files (SPEC §5): YAML loading and validation, the rule set,
 * its version, the term index and indexed evaluation.
 *
 * Rules file:
 *   rules:
 *     - id: asia-trade                 [A-Za-z0-9_.:-]+, unique
 *       channel: trade.asia            non-empty, no whitespace
 *       severity: high                 info|low|medium|high|critical (default info)
 *       match: 'tariff* AND ...'       see rules_expr.c
 *       cooldown: 10m                  duration >= 0 (0: none)
 *       threshold: {count: 5, window: 10m, per: entity}
 *       spike: {window: 1h, baseline: 24h, factor: 3, min: 4, per: entity}
 *
 * Index: every rule has a set of "trigger" keys, at least one of which an
 * event must contain for the rule to possibly match (a folded word, a prefix,
 * an entity type, or "any entity"). Rules without such a set (pure negations)
 * are checked for every event. Evaluation looks up each distinct event word
 * once, collects candidate rules, and evaluates only those exactly. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utf8proc.h>
#include <yaml.h>

#include "rules_internal.h"
#include "ww/alloc.h"
#include "ww/config.h"
#include "ww/paths.h"
#include "ww/text.h"

/* ======================================================================== */
/* names and hits                                                            */
/* ======================================================================== */

static const char *const rs_sev_names[] = {"info", "low", "medium", "high", "critical"};
static const char *const rs_per_names[] = {"rule", "entity", "story"};

const char *ww_severity_name(ww_severity_t s)
{
    if ((int)s < 0 || (size_t)s >= sizeof rs_sev_names / sizeof rs_sev_names[0])
        return "info";
    return rs_sev_names[s];
}

const char *ww_match_kind_name(ww_match_kind_t k)
{
    switch (k) {
    case WW_MATCH_KEYWORD: return "keyword";
    case WW_MATCH_ENTITY: return "entity";
    case WW_MATCH_THRESHOLD: return "threshold";
    case WW_MATCH_SPIKE: return "spike";
    }
    return "keyword";
}

void ww_hits_init(ww_hits_t *h)
{
    memset(h, 0, sizeof *h);
}

void ww_hits_reset(ww_hits_t *h)
{
    for (size_t i = 0; i < h->n; i++) {
        ww_hit_t *hit = &h->hits[i];
        for (size_t k = 0; k < hit->n_matches; k++)
            ww_free(hit->matches[k].value);
        ww_free(hit->matches);
        memset(hit, 0, sizeof *hit);
    }
    h->n = 0;
}

void ww_hits_deinit(ww_hits_t *h)
{
    ww_hits_reset(h);
    ww_free(h->hits);
    memset(h, 0, sizeof *h);
}

void ww_rules_hit_add(ww_hit_t *hit, ww_match_kind_t kind, const char *value, size_t vlen,
                      ww_ent_type_t type, bool has_pos, ww_field_t field, uint32_t start,
                      uint32_t end, uint32_t count)
{
    for (size_t i = 0; i < hit->n_matches; i++) {
        const ww_match_t *m = &hit->matches[i];
        if (m->kind == kind && m->has_pos == has_pos && m->field == field && m->start == start &&
            m->end == end && (kind != WW_MATCH_ENTITY || m->type == type) &&
            strlen(m->value) == vlen && memcmp(m->value, value, vlen) == 0)
            return;
    }
    WW_GROW(hit->matches, hit->cap_matches, hit->n_matches + 1);
    ww_match_t *m = &hit->matches[hit->n_matches++];
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->value = ww_strndup(value, vlen);
    m->type = type;
    m->has_pos = has_pos;
    m->field = field;
    m->start = start;
    m->end = end;
    m->count = count;
}

/* ======================================================================== */
/* the rule set                                                              */
/* ======================================================================== */

/* One slot of a trigger table: the rules filed under one key hash. */
typedef struct {
    uint64_t hash; /* the key's hash */
    uint32_t off;  /* first rule id in the table's postings */
    uint32_t cnt;  /* number of rule ids; 0: empty slot */
} rs_wslot_t;

/* An open-addressing table from key hashes to lists of rule ids. */
typedef struct {
    rs_wslot_t *tab;  /* size mask+1 (power of two) */
    size_t mask;
    uint32_t *post;   /* rule ids, grouped by key, ascending within a key */
    size_t n_keys;    /* distinct keys */
} rs_table_t;

struct ww_ruleset {
    ww_rule_t *rules;       /* in file order */
    ww_rx_node_t **trees;   /* parsed match expression of each rule */
    size_t n;
    char version[17];       /* 16 hex digits */
    rs_table_t words;       /* folded word hash -> rules */
    rs_table_t prefixes;    /* rolling hash of a folded prefix -> rules */
    uint64_t pfx_lens;      /* bit L set: some prefix is L bytes long (L < 64) */
    uint64_t *pfx_start;    /* 65536 bits: bit (b0 << 8 | b1) set when some prefix
                             * starts with folded bytes b0 b1 (a 1-byte prefix b0
                             * sets all 256 bits of b0); words starting otherwise
                             * skip the prefix probes */
    rs_table_t names;       /* hash of a folded entity name / its joined words -> rules */
    uint32_t *ent_type[WW_ENT__COUNT]; /* rules triggered by an entity of that type */
    size_t n_ent_type[WW_ENT__COUNT];
    uint32_t *ent_any;      /* rules triggered by any entity */
    size_t n_ent_any;
    uint32_t *always;       /* rules evaluated for every event */
    size_t n_always;
    uint64_t *bloom;        /* one bit per key hash of the three tables (bits (h >> 40) & bloom_mask) */
    size_t bloom_mask;      /* bits - 1 */
    ww_rx_filter_t filter;  /* every term word and prefix of every rule: the words the view indexes */
    ww_rx_filter_t name_edge; /* first words (hash ^ RS_SALT_FIRST) and last words (^ RS_SALT_LAST)
                               * of every entity name of every rule (bits/mask only) */
    double compile_ms;      /* time the last load spent parsing and indexing */
};

struct ww_rules_scratch {
    ww_rx_view_t view;  /* the prepared event */
    uint32_t *stamp;    /* per rule: epoch when last made a candidate */
    size_t cap_stamp;
    uint32_t epoch;
    uint32_t *cand;     /* candidate rule ids of the current event */
    size_t n_cand, cap_cand;
    char *nbuf;         /* joining entity words for the name table */
    size_t nbuf_cap;
    /* cost accounting, for the rule set named by cost_version */
    char cost_version[17];
    size_t cost_n;
    ww_rule_cost_t *costs;
    uint64_t events, candidates; /* events evaluated, candidate rules verified */
    uint32_t sample_tick;        /* every WW_RULES_SAMPLE-th event is timed */
};

static void rs_rule_free(ww_rule_t *r)
{
    ww_free(r->id);
    ww_free(r->channel);
    ww_free(r->match);
}

void ww_rules_destroy(ww_ruleset_t **rsp)
{
    if (!rsp || !*rsp)
        return;
    ww_ruleset_t *rs = *rsp;
    for (size_t i = 0; i < rs->n; i++) {
        rs_rule_free(&rs->rules[i]);
        ww_rx_free(rs->trees[i]);
    }
    ww_free(rs->rules);
    ww_free(rs->trees);
    ww_free(rs->words.tab);
    ww_free(rs->words.post);
    ww_free(rs->prefixes.tab);
    ww_free(rs->prefixes.post);
    ww_free(rs->names.tab);
    ww_free(rs->names.post);
    ww_free(rs->bloom);
    ww_free(rs->pfx_start);
    ww_free(rs->filter.bits);
    ww_free(rs->filter.pfx_start);
    ww_free(rs->filter.pfx3);
    ww_free(rs->name_edge.bits);
    for (int t = 0; t < WW_ENT__COUNT; t++)
        ww_free(rs->ent_type[t]);
    ww_free(rs->ent_any);
    ww_free(rs->always);
    ww_free(rs);
    *rsp = NULL;
}

size_t ww_rules_count(const ww_ruleset_t *rs)
{
    return rs ? rs->n : 0;
}

const ww_rule_t *ww_rules_get(const ww_ruleset_t *rs, size_t i)
{
    if (!rs || i >= rs->n)
        return NULL;
    return &rs->rules[i];
}

const char *ww_rules_version(const ww_ruleset_t *rs)
{
    return rs->version;
}

const ww_rx_node_t *ww_rules_tree(const ww_ruleset_t *rs, size_t i)
{
    return i < rs->n ? rs->trees[i] : NULL;
}

void ww_rules_scratch_forget_names(ww_rules_scratch_t *s)
{
    ww_rx_view_t *v = &s->view;
    v->n_names = 0;
    v->pool_len = 0;
    v->w_n = 0;
    if (v->etab)
        memset(v->etab, 0, v->etab_cap * sizeof *v->etab);
}

const ww_rx_filter_t *ww_rules_filter(const ww_ruleset_t *rs)
{
    return &rs->filter;
}

size_t ww_rules_always_count(const ww_ruleset_t *rs)
{
    return rs->n_always;
}

/* ---- version ---------------------------------------------------------------- */

/* Hash of a canonical serialisation of every rule (the match expression in its
 * canonical tree form, so spacing and quoting style do not count). */
static void rs_compute_version(ww_ruleset_t *rs)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (size_t i = 0; i < rs->n; i++) {
        const ww_rule_t *r = &rs->rules[i];
        char *tree = ww_rx_to_string(rs->trees[i]);
        char *s = ww_asprintf(
            "id=%s\x1f" "channel=%s\x1f" "severity=%s\x1f" "match=%s\x1f" "cooldown=%lld\x1f"
            "threshold=%d,%u,%lld,%s\x1f" "spike=%d,%lld,%lld,%.17g,%u,%s\x1e",
            r->id, r->channel, ww_severity_name(r->severity), tree, (long long)r->cooldown_ms,
            r->threshold.on, r->threshold.count, (long long)r->threshold.window_ms,
            rs_per_names[r->threshold.per], r->spike.on, (long long)r->spike.window_ms,
            (long long)r->spike.baseline_ms, r->spike.factor, r->spike.min,
            rs_per_names[r->spike.per]);
        size_t n = strlen(s);
        WW_GROW(buf, cap, len + n + 1);
        memcpy(buf + len, s, n);
        len += n;
        ww_free(s);
        ww_free(tree);
    }
    uint64_t h = ww_hash_bytes(buf ? buf : "", len);
    snprintf(rs->version, sizeof rs->version, "%016llx", (unsigned long long)h);
    ww_free(buf);
}

static inline uint64_t rs_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- index -------------------------------------------------------------------- */

/* Trigger keys: an event must contain at least one of a rule's keys for the
 * rule to possibly match. */
enum { RS_KEY_WORD = 0, RS_KEY_PREFIX, RS_KEY_NAME, RS_KEY_ETYPE, RS_KEY_EANY };

typedef struct {
    int kind;
    uint64_t hash;      /* WORD: word hash; PREFIX: rolling hash; NAME: name hash */
    uint32_t len;       /* PREFIX: its length in bytes */
    unsigned char b0, b1; /* PREFIX: its first two folded bytes (b1 when len >= 2) */
    ww_ent_type_t type; /* ETYPE */
    double cost;        /* estimated share of events containing it (relative) */
} rs_key_t;

typedef struct {
    rs_key_t *k;
    size_t n, cap;
} rs_keys_t;

static void rs_keys_push(rs_keys_t *ks, rs_key_t k)
{
    WW_GROW(ks->k, ks->cap, ks->n + 1);
    ks->k[ks->n++] = k;
}

/* FNV-1a over folded bytes, extended one byte at a time: the prefix table is
 * keyed by it so that an event word's prefixes are found in one pass. */
#define RS_FNV_INIT WW_RX_FNV_INIT
#define RS_FNV_PRIME WW_RX_FNV_PRIME
#define RS_PFX_MAXLEN WW_RX_PFX_MAXLEN /* longer prefixes are filed under their first 63 bytes */

static uint64_t rs_pfx_hash(const char *s, size_t len)
{
    uint64_t h = RS_FNV_INIT;
    for (size_t i = 0; i < len && i < RS_PFX_MAXLEN; i++) {
        h ^= (unsigned char)s[i];
        h *= RS_FNV_PRIME;
    }
    return h;
}

/* Common words of news text: a rule term made of them is a poor trigger. */
static const char *const rs_stop[] = {
    "a", "about", "after", "against", "all", "also", "an", "and", "any", "are", "as", "at",
    "be", "because", "been", "before", "being", "between", "both", "but", "by", "can", "could",
    "did", "do", "does", "down", "during", "each", "early", "first", "for", "from", "had", "has",
    "have", "he", "her", "his", "how", "i", "if", "in", "into", "is", "it", "its", "last",
    "later", "like", "made", "make", "many", "may", "more", "most", "mr", "much", "new", "no",
    "not", "now", "of", "on", "one", "only", "or", "other", "our", "out", "over", "people",
    "per", "said", "same", "says", "she", "should", "since", "so", "some", "such", "than",
    "that", "the", "their", "them", "then", "there", "these", "they", "this", "those",
    "three", "through", "time", "to", "two", "under", "up", "us", "very", "was", "we",
    "week", "well", "were", "what", "when", "where", "which", "while", "who", "will", "with",
    "would", "year", "years", "you", "pct", "mln", "billion", "million", "percent", "told",
    "reuters", "government", "today", "yesterday", "according", "official", "officials"};

/* How often news text contains a word: the bundled document frequencies of
 * the keyword extractor (data/keywords/idf.tsv: "#docs\tN", then
 * "word\tdocuments", one a line; phrases are skipped). Used only to choose
 * triggers: a rule is filed under its rarest key, so a rule like
 * `restructur* AND (shares OR sales)` is filed under the prefix (1.7% of
 * articles) rather than under two words found in a quarter of them. */
typedef struct {
    double docs;       /* documents counted; 0: no table (rule-set heuristics only) */
    uint64_t *h;       /* word hash (ww_rx_word_hash) -> documents, open addressing */
    uint32_t *c;       /* 0: empty slot */
    size_t mask;
    char **sorted;     /* the words, sorted bytewise (prefix ranges) */
    uint32_t *sorted_c;
    size_t n;
} rs_news_t;

static int rs_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void rs_news_free(rs_news_t *nw)
{
    for (size_t i = 0; i < nw->n; i++)
        ww_free(nw->sorted[i]);
    ww_free(nw->sorted);
    ww_free(nw->sorted_c);
    ww_free(nw->h);
    ww_free(nw->c);
    memset(nw, 0, sizeof *nw);
}

/* Loads the bundled table into nw; without it nw->docs stays 0. */
static void rs_news_load(rs_news_t *nw)
{
    memset(nw, 0, sizeof *nw);
    char *path = ww_data_path("keywords/idf.tsv");
    FILE *f = path ? fopen(path, "r") : NULL;
    ww_free(path);
    if (!f)
        return;
    char *line = NULL;
    size_t lcap = 0, cap = 0;
    ssize_t got;
    while ((got = getline(&line, &lcap, f)) > 0) {
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = '\0';
        long long cnt = strtoll(tab + 1, NULL, 10);
        if (strcmp(line, "#docs") == 0) {
            nw->docs = (double)cnt;
            continue;
        }
        if (!line[0] || strchr(line, ' ') || cnt <= 0)
            continue;
        if (nw->n + 1 > cap) {
            size_t c2 = cap;
            WW_GROW(nw->sorted, c2, nw->n + 1);
            WW_GROW(nw->sorted_c, cap, nw->n + 1);
        }
        /* the count travels after the word's NUL so that sorting keeps them together */
        size_t wl = strlen(line);
        char *w = ww_malloc(wl + 1 + sizeof(uint32_t));
        memcpy(w, line, wl + 1);
        uint32_t c32 = cnt > UINT32_MAX ? UINT32_MAX : (uint32_t)cnt;
        memcpy(w + wl + 1, &c32, sizeof c32);
        nw->sorted[nw->n++] = w;
    }
    free(line);
    fclose(f);
    if (nw->docs <= 0 || nw->n == 0) {
        rs_news_free(nw);
        return;
    }
    qsort(nw->sorted, nw->n, sizeof *nw->sorted, rs_cmp_str);
    size_t size = 16;
    while (size < nw->n * 2)
        size *= 2;
    nw->h = ww_calloc(size, sizeof *nw->h);
    nw->c = ww_calloc(size, sizeof *nw->c);
    nw->mask = size - 1;
    for (size_t i = 0; i < nw->n; i++) {
        size_t wl = strlen(nw->sorted[i]);
        memcpy(&nw->sorted_c[i], nw->sorted[i] + wl + 1, sizeof(uint32_t));
        uint64_t h = ww_rx_word_hash(nw->sorted[i], wl);
        size_t slot = (size_t)h & nw->mask;
        while (nw->c[slot] && nw->h[slot] != h)
            slot = (slot + 1) & nw->mask;
        nw->h[slot] = h;
        nw->c[slot] = nw->sorted_c[i];
    }
}

/* Share of news articles containing the folded word w (0 when unknown). */
static double rs_news_word(const rs_news_t *nw, const char *w, size_t len)
{
    if (!nw || nw->docs <= 0)
        return 0;
    uint64_t h = ww_rx_word_hash(w, len);
    size_t slot = (size_t)h & nw->mask;
    while (nw->c[slot]) {
        if (nw->h[slot] == h)
            return nw->c[slot] / nw->docs;
        slot = (slot + 1) & nw->mask;
    }
    return 0;
}

/* Share of news articles containing a word that starts with the folded
 * prefix p (the sum over such words, at most 1). */
static double rs_news_prefix(const rs_news_t *nw, const char *p, size_t len)
{
    if (!nw || nw->docs <= 0)
        return 0;
    size_t lo = 0, hi = nw->n;
    while (lo < hi) { /* first word >= p */
        size_t mid = lo + (hi - lo) / 2;
        if (strncmp(nw->sorted[mid], p, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    double sum = 0;
    for (size_t i = lo; i < nw->n && strncmp(nw->sorted[i], p, len) == 0 && sum < nw->docs; i++)
        sum += nw->sorted_c[i];
    return sum >= nw->docs ? 1.0 : sum / nw->docs;
}

/* Document frequencies of terms across the rule set (how many term nodes
 * use a key), and the news frequencies when available. */
typedef struct {
    uint64_t *h;
    uint32_t *c;
    size_t mask;
    const rs_news_t *news; /* may have docs == 0 */
} rs_df_t;

static uint32_t *rs_df_slot(rs_df_t *df, uint64_t h)
{
    size_t i = (size_t)h & df->mask;
    while (df->c[i] && df->h[i] != h)
        i = (i + 1) & df->mask;
    df->h[i] = h;
    return &df->c[i];
}

static uint32_t rs_df_get(const rs_df_t *df, uint64_t h)
{
    size_t i = (size_t)h & df->mask;
    while (df->c[i]) {
        if (df->h[i] == h)
            return df->c[i];
        i = (i + 1) & df->mask;
    }
    return 0;
}

/* Counts every word, prefix and name of tree n into df. */
/* Calls fn for every word of every term of n (NOT included): with the
 * word's hash, or for a prefix its prefix hash and pfx = true. */
static void rs_each_term_word(const ww_rx_node_t *n, void (*fn)(void *, const ww_rx_term_t *, uint32_t, bool),
                              void *ud)
{
    switch (n->kind) {
    case WW_RX_TERM:
    case WW_RX_NEAR:
        for (int side = 0; side < (n->kind == WW_RX_NEAR ? 2 : 1); side++) {
            const ww_rx_term_t *t = side ? &n->b : &n->a;
            for (uint32_t i = 0; i < t->n; i++)
                fn(ud, t, i, t->prefix && i == t->n - 1);
        }
        return;
    case WW_RX_ENTITY:
        return;
    default:
        for (size_t i = 0; i < n->n_kids; i++)
            rs_each_term_word(n->kids[i], fn, ud);
    }
}

/* The filter key of word i of t (a prefix key when pfx). */
static uint64_t rs_filter_key(const ww_rx_term_t *t, uint32_t i, bool pfx)
{
    if (!pfx)
        return ww_rx_fkey(ww_rx_head8(t->w[i], t->len[i]), t->len[i]);
    size_t len = t->len[i] > WW_RX_PFX_MAXLEN ? WW_RX_PFX_MAXLEN : t->len[i];
    return ww_rx_fkey_prefix(ww_rx_head8(t->w[i], len), len);
}

typedef struct {
    uint64_t *k;
    size_t n, cap;
} rs_u64s_t;

static void rs_collect_key(void *ud, const ww_rx_term_t *t, uint32_t i, bool pfx)
{
    rs_u64s_t *ks = ud;
    WW_GROW(ks->k, ks->cap, ks->n + 1);
    ks->k[ks->n++] = rs_filter_key(t, i, pfx);
}

static int rs_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void rs_filter_word(void *ud, const ww_rx_term_t *t, uint32_t i, bool pfx)
{
    ww_rx_filter_t *f = ud;
    ww_rx_filter_add(f, rs_filter_key(t, i, pfx));
    if (!pfx)
        return;
    size_t len = t->len[i] > WW_RX_PFX_MAXLEN ? WW_RX_PFX_MAXLEN : t->len[i];
    f->pfx_lens |= 1ULL << len;
    if (len >= 3) {
        if (!f->pfx3)
            f->pfx3 = ww_calloc(65536 / 64, sizeof *f->pfx3);
        unsigned bit = ww_rx_pfx3_bit(ww_rx_head8(t->w[i], 3));
        f->pfx3[bit >> 6] |= 1ULL << (bit & 63);
        return;
    }
    if (!f->pfx_start)
        f->pfx_start = ww_calloc(65536 / 64, sizeof *f->pfx_start);
    unsigned b0 = (unsigned char)t->w[i][0];
    for (unsigned b1 = 0; b1 < 256; b1++) {
        if (len >= 2 && b1 != (unsigned char)t->w[i][1])
            continue;
        unsigned bit = b0 << 8 | b1;
        f->pfx_start[bit >> 6] |= 1ULL << (bit & 63);
    }
}

#define RS_SALT_FIRST WW_RX_SALT_FIRST
#define RS_SALT_LAST WW_RX_SALT_LAST

static void rs_count_names(const ww_rx_node_t *n, size_t *count)
{
    if (n->kind == WW_RX_ENTITY)
        *count += n->name_fold != NULL;
    for (size_t i = 0; i < n->n_kids; i++)
        rs_count_names(n->kids[i], count);
}

static void rs_edge_names(const ww_rx_node_t *n, ww_rx_filter_t *e)
{
    if (n->kind == WW_RX_ENTITY && n->name_fold && n->name_words.n > 0) {
        ww_rx_filter_add(e, n->name_words.hash[0] ^ RS_SALT_FIRST);
        ww_rx_filter_add(e, n->name_words.hash[n->name_words.n - 1] ^ RS_SALT_LAST);
    }
    for (size_t i = 0; i < n->n_kids; i++)
        rs_edge_names(n->kids[i], e);
}

/* Builds rs->name_edge: an entity's leading (trailing) runs of words can be
 * some rule's name only when its first (last) word starts (ends) a name. */
static void rs_build_name_edge(ww_ruleset_t *rs)
{
    size_t names = 0;
    for (size_t i = 0; i < rs->n; i++)
        rs_count_names(rs->trees[i], &names);
    size_t n64 = 16;
    while (n64 * 64 < names * 32)
        n64 *= 2;
    rs->name_edge.bits = ww_calloc(n64, sizeof *rs->name_edge.bits);
    rs->name_edge.mask = n64 - 1;
    for (size_t i = 0; i < rs->n; i++)
        rs_edge_names(rs->trees[i], &rs->name_edge);
}

/* Builds rs->filter from every rule's terms: about 16 bits per distinct
 * key (two in one 64-bit word: about 1.5% of other words pass), so that the
 * filter of 10,000 rules stays in the L1 cache (16 KB for ~6,000 words). */
static void rs_build_filter(ww_ruleset_t *rs)
{
    rs_u64s_t ks = {0};
    for (size_t i = 0; i < rs->n; i++)
        rs_each_term_word(rs->trees[i], rs_collect_key, &ks);
    if (ks.n > 1)
        qsort(ks.k, ks.n, sizeof *ks.k, rs_cmp_u64);
    size_t distinct = 0;
    for (size_t i = 0; i < ks.n; i++)
        distinct += i == 0 || ks.k[i] != ks.k[i - 1];
    ww_free(ks.k);
    size_t n64 = 16;
    while (n64 * 64 < distinct * 16 && n64 < (1u << 20))
        n64 *= 2;
    rs->filter.bits = ww_calloc(n64, sizeof *rs->filter.bits);
    rs->filter.mask = n64 - 1;
    for (size_t i = 0; i < rs->n; i++)
        rs_each_term_word(rs->trees[i], rs_filter_word, &rs->filter);
}

static void rs_df_count(rs_df_t *df, const ww_rx_node_t *n)
{
    switch (n->kind) {
    case WW_RX_TERM:
    case WW_RX_NEAR:
        for (int side = 0; side < (n->kind == WW_RX_NEAR ? 2 : 1); side++) {
            const ww_rx_term_t *t = side ? &n->b : &n->a;
            for (uint32_t i = 0; i < t->n; i++) {
                bool pfx = t->prefix && i == t->n - 1;
                (*rs_df_slot(df, pfx ? rs_pfx_hash(t->w[i], t->len[i]) : t->hash[i]))++;
            }
        }
        return;
    case WW_RX_ENTITY:
        if (n->name_fold)
            (*rs_df_slot(df, ww_rx_word_hash(n->name_fold, n->name_fold_len)))++;
        return;
    default:
        for (size_t i = 0; i < n->n_kids; i++)
            rs_df_count(df, n->kids[i]);
    }
}

static bool rs_is_stop(const char *w, uint32_t len)
{
    for (size_t i = 0; i < sizeof rs_stop / sizeof rs_stop[0]; i++)
        if (strlen(rs_stop[i]) == len && memcmp(rs_stop[i], w, len) == 0)
            return true;
    return false;
}

/* The estimated cost of word i of term t as a trigger: how often events
 * will contain it (relative): stop words, very short words and numbers are
 * expensive, words many rules share a little more so. */
static rs_key_t rs_word_key(const rs_df_t *df, const ww_rx_term_t *t, uint32_t i)
{
    rs_key_t k = {0};
    const char *w = t->w[i];
    uint32_t len = t->len[i];
    /* with news frequencies, a key's cost is mostly 1e5 x the share of
     * articles containing it (rule-set sharing breaks ties) */
    bool news = df->news && df->news->docs > 0;
    if (t->prefix && i == t->n - 1) {
        k.kind = RS_KEY_PREFIX;
        k.hash = rs_pfx_hash(w, len);
        k.len = len > RS_PFX_MAXLEN ? RS_PFX_MAXLEN : len;
        k.b0 = (unsigned char)w[0];
        k.b1 = len >= 2 ? (unsigned char)w[1] : 0;
        k.cost = (news ? 1e5 * rs_news_prefix(df->news, w, len) + 0.01 * rs_df_get(df, k.hash)
                       : 10.0 + rs_df_get(df, k.hash) + 2000.0 / len) +
                 (len <= 2 ? 50000.0 : len == 3 ? 5000.0 : 10.0);
        return k;
    }
    k.kind = RS_KEY_WORD;
    k.hash = t->hash[i];
    k.len = len;
    bool digits = true;
    for (uint32_t j = 0; j < len && digits; j++)
        digits = w[j] >= '0' && w[j] <= '9';
    double p = news ? rs_news_word(df->news, w, len) : 0;
    k.cost = 1.0 + (news ? 1e5 * p + 0.01 * rs_df_get(df, k.hash) : rs_df_get(df, k.hash)) +
             (rs_is_stop(w, len) ? 100000.0 : 0.0) + (len <= 2 ? 5000.0 : 0.0) +
             (digits && p == 0 ? 1000.0 : 0.0);
    return k;
}

/* The cheapest single word of a term (every word must be present). */
static rs_key_t rs_term_key(const rs_df_t *df, const ww_rx_term_t *t)
{
    rs_key_t best = rs_word_key(df, t, 0);
    for (uint32_t i = 1; i < t->n; i++) {
        rs_key_t k = rs_word_key(df, t, i);
        if (k.cost < best.cost)
            best = k;
    }
    return best;
}

static double rs_keys_cost(const rs_keys_t *ks)
{
    double c = 0;
    for (size_t i = 0; i < ks->n; i++)
        c += ks->k[i].cost;
    return c;
}

/* Appends to out a set of keys at least one of which must be present in an
 * event for n to match, choosing the cheapest such set for AND. Returns
 * false when no such set exists (n can match an event that has none of its
 * positive terms, e.g. NOT x). */
static bool rs_triggers(const rs_df_t *df, const ww_rx_node_t *n, rs_keys_t *out)
{
    rs_key_t k = {0};
    switch (n->kind) {
    case WW_RX_TERM:
        rs_keys_push(out, rs_term_key(df, &n->a));
        return true;
    case WW_RX_NEAR: { /* both sides must be present: the cheaper side's key */
        rs_key_t ka = rs_term_key(df, &n->a), kb = rs_term_key(df, &n->b);
        rs_keys_push(out, kb.cost < ka.cost ? kb : ka);
        return true;
    }
    case WW_RX_ENTITY:
        if (n->name_fold) {
            /* a name matches the canonical or text (folded) or whole words at
             * the start/end of the canonical: file it under both forms */
            k.kind = RS_KEY_NAME;
            k.hash = ww_rx_word_hash(n->name_fold, n->name_fold_len);
            k.cost = 1.0 + rs_df_get(df, k.hash);
            if (df->news && df->news->docs > 0 && n->name_words.n > 0) {
                /* a name is at most as common as its rarest word */
                double p = 1.0;
                for (uint32_t i = 0; i < n->name_words.n; i++) {
                    double q = rs_news_word(df->news, n->name_words.w[i], n->name_words.len[i]);
                    p = q < p ? q : p;
                }
                k.cost = 1.0 + 1e5 * p + 0.01 * rs_df_get(df, k.hash);
            }
            rs_keys_push(out, k);
            const ww_rx_term_t *nw = &n->name_words;
            if (nw->n > 0) {
                size_t len = 0;
                for (uint32_t i = 0; i < nw->n; i++)
                    len += nw->len[i] + 1;
                char *j = ww_malloc(len + 1), *d = j;
                for (uint32_t i = 0; i < nw->n; i++) {
                    if (i)
                        *d++ = ' ';
                    memcpy(d, nw->w[i], nw->len[i]);
                    d += nw->len[i];
                }
                uint64_t h = ww_rx_word_hash(j, (size_t)(d - j));
                ww_free(j);
                if (h != k.hash) {
                    k.hash = h;
                    rs_keys_push(out, k);
                }
            }
            return true;
        }
        k.kind = n->has_type ? RS_KEY_ETYPE : RS_KEY_EANY;
        k.type = n->type;
        k.cost = n->has_type ? 1e6 : 2e6;
        rs_keys_push(out, k);
        return true;
    case WW_RX_AND: {
        /* any one kid's set will do: take the cheapest */
        rs_keys_t best = {0};
        bool have = false;
        double best_cost = 0;
        for (size_t i = 0; i < n->n_kids; i++) {
            rs_keys_t tmp = {0};
            if (rs_triggers(df, n->kids[i], &tmp) && (!have || rs_keys_cost(&tmp) < best_cost)) {
                ww_free(best.k);
                best = tmp;
                best_cost = rs_keys_cost(&tmp);
                have = true;
            } else {
                ww_free(tmp.k);
            }
        }
        for (size_t i = 0; have && i < best.n; i++)
            rs_keys_push(out, best.k[i]);
        ww_free(best.k);
        return have;
    }
    case WW_RX_OR:
        for (size_t i = 0; i < n->n_kids; i++)
            if (!rs_triggers(df, n->kids[i], out))
                return false;
        return true;
    case WW_RX_NOT:
        return false;
    }
    return false;
}

typedef struct {
    uint64_t hash;
    uint32_t rule;
} rs_wpair_t;

static int rs_cmp_wpair(const void *a, const void *b)
{
    const rs_wpair_t *x = a, *y = b;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* Appends r to a list of rule ids unless it is already the last one. */
static void rs_list_add(uint32_t **list, size_t *n, size_t *cap, uint32_t r)
{
    if (*n > 0 && (*list)[*n - 1] == r)
        return;
    WW_GROW(*list, *cap, *n + 1);
    (*list)[(*n)++] = r;
}

/* Builds a table from (hash, rule) pairs (sorted and deduplicated here). */
static void rs_table_build(rs_table_t *t, rs_wpair_t *wp, size_t n_wp)
{
    if (n_wp > 1)
        qsort(wp, n_wp, sizeof *wp, rs_cmp_wpair);
    size_t distinct = 0, m = 0;
    for (size_t i = 0; i < n_wp; i++) {
        if (m > 0 && wp[m - 1].hash == wp[i].hash && wp[m - 1].rule == wp[i].rule)
            continue;
        if (m == 0 || wp[m - 1].hash != wp[i].hash)
            distinct++;
        wp[m++] = wp[i];
    }
    size_t size = 16;
    while (size < distinct * 2)
        size *= 2;
    t->tab = ww_calloc(size, sizeof *t->tab);
    t->mask = size - 1;
    t->n_keys = distinct;
    t->post = ww_malloc((m ? m : 1) * sizeof *t->post);
    for (size_t i = 0; i < m;) {
        size_t j = i;
        while (j < m && wp[j].hash == wp[i].hash) {
            t->post[j] = wp[j].rule;
            j++;
        }
        size_t slot = (size_t)wp[i].hash & t->mask;
        while (t->tab[slot].cnt)
            slot = (slot + 1) & t->mask;
        t->tab[slot] = (rs_wslot_t){wp[i].hash, (uint32_t)i, (uint32_t)(j - i)};
        i = j;
    }
}

/* The postings of hash h in t (NULL, *n = 0 when absent). */
static inline const uint32_t *rs_table_get(const rs_table_t *t, uint64_t h, size_t *n)
{
    size_t slot = (size_t)h & t->mask;
    while (t->tab[slot].cnt) {
        if (t->tab[slot].hash == h) {
            *n = t->tab[slot].cnt;
            return t->post + t->tab[slot].off;
        }
        slot = (slot + 1) & t->mask;
    }
    *n = 0;
    return NULL;
}

static void rs_build_index(ww_ruleset_t *rs)
{
    rs_wpair_t *wp[3] = {NULL, NULL, NULL};
    size_t n_wp[3] = {0}, cap_wp[3] = {0};
    size_t cap_always = 0, cap_any = 0;
    size_t cap_et[WW_ENT__COUNT] = {0};
    /* pass 1: document frequencies of every term key */
    rs_df_t df;
    size_t dsize = 1024;
    while (dsize < rs->n * 8)
        dsize *= 2;
    df.h = ww_calloc(dsize, sizeof *df.h);
    df.c = ww_calloc(dsize, sizeof *df.c);
    df.mask = dsize - 1;
    rs_news_t news;
    rs_news_load(&news);
    df.news = &news;
    for (size_t i = 0; i < rs->n; i++)
        rs_df_count(&df, rs->trees[i]);
    /* pass 2: each rule's cheapest trigger set */
    for (size_t i = 0; i < rs->n; i++) {
        uint32_t r = (uint32_t)i;
        rs_keys_t ks = {0};
        if (!rs_triggers(&df, rs->trees[i], &ks)) {
            rs_list_add(&rs->always, &rs->n_always, &cap_always, r);
            ww_free(ks.k);
            continue;
        }
        for (size_t k = 0; k < ks.n; k++) {
            const rs_key_t *key = &ks.k[k];
            int ti = -1;
            switch (key->kind) {
            case RS_KEY_WORD: ti = 0; break;
            case RS_KEY_PREFIX: {
                ti = 1;
                rs->pfx_lens |= 1ULL << key->len;
                if (!rs->pfx_start)
                    rs->pfx_start = ww_calloc(65536 / 64, sizeof *rs->pfx_start);
                unsigned b0 = key->b0;
                for (unsigned b1 = 0; b1 < 256; b1++) {
                    if (key->len >= 2 && b1 != key->b1)
                        continue;
                    unsigned bit = b0 << 8 | b1;
                    rs->pfx_start[bit >> 6] |= 1ULL << (bit & 63);
                }
                break;
            }
            case RS_KEY_NAME: ti = 2; break;
            case RS_KEY_ETYPE:
                rs_list_add(&rs->ent_type[key->type], &rs->n_ent_type[key->type],
                            &cap_et[key->type], r);
                break;
            default:
                rs_list_add(&rs->ent_any, &rs->n_ent_any, &cap_any, r);
                break;
            }
            if (ti >= 0) {
                WW_GROW(wp[ti], cap_wp[ti], n_wp[ti] + 1);
                wp[ti][n_wp[ti]++] = (rs_wpair_t){key->hash, r};
            }
        }
        ww_free(ks.k);
    }
    ww_free(df.h);
    ww_free(df.c);
    rs_news_free(&news);
    rs_table_build(&rs->words, wp[0], n_wp[0]);
    rs_table_build(&rs->prefixes, wp[1], n_wp[1]);
    rs_table_build(&rs->names, wp[2], n_wp[2]);
    /* a bit array in front of the tables: most event words are no rule's
     * key, and the tables of a large rule set do not fit in the cache */
    size_t keys = n_wp[0] + n_wp[1] + n_wp[2], bits = 4096;
    while (bits < keys * 16)
        bits *= 2;
    rs->bloom = ww_calloc(bits / 64, sizeof *rs->bloom);
    rs->bloom_mask = bits - 1;
    for (int t = 0; t < 3; t++)
        for (size_t i = 0; i < n_wp[t]; i++) {
            size_t b = (size_t)(wp[t][i].hash >> 40) & rs->bloom_mask;
            rs->bloom[b >> 6] |= 1ULL << (b & 63);
        }
    for (int i = 0; i < 3; i++)
        ww_free(wp[i]);
    rs_build_filter(rs);
    rs_build_name_edge(rs);
}

/* ======================================================================== */
/* loading                                                                   */
/* ======================================================================== */

typedef struct {
    const char *name;       /* file name for messages */
    const char *src;        /* the file's bytes */
    size_t len;
    yaml_document_t *doc;
    char *err;
    size_t errlen;
    bool failed;
} rs_loader_t;

static void rs_fail_at(rs_loader_t *ld, size_t line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records "FILE:LINE:COL: message" (the first error only). */
static void rs_fail_at(rs_loader_t *ld, size_t line, size_t col, const char *fmt, ...)
{
    if (ld->failed)
        return;
    ld->failed = true;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ld->errlen)
        snprintf(ld->err, ld->errlen, "%s:%zu:%zu: %s", ld->name, line, col, msg);
}

#define RS_FAIL_NODE(ld, node, ...)                                                          \
    rs_fail_at((ld), (node)->start_mark.line + 1, (node)->start_mark.column + 1, __VA_ARGS__)

static size_t rs_utf8_len(uint32_t cp)
{
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/* Advances over one source byte, keeping line/col (col counts characters). */
static void rs_src_step(const char *src, size_t *i, size_t *line, size_t *col)
{
    unsigned char c = (unsigned char)src[*i];
    if (c == '\n') {
        (*line)++;
        *col = 1;
    } else if ((c & 0xC0) != 0x80) {
        (*col)++;
    }
    (*i)++;
}

/* Where byte `off` of a scalar's value lies in the file (1-based line and
 * column). Walks the source text and the value side by side: exact for plain
 * and single-quoted scalars on one line and for double-quoted escapes; line
 * folding in multi-line and block scalars is followed by skipping blanks. */
static void rs_scalar_pos(const rs_loader_t *ld, const yaml_node_t *node, size_t off,
                          size_t *line_out, size_t *col_out)
{
    const char *src = ld->src;
    size_t n = ld->len;
    const char *val = (const char *)node->data.scalar.value;
    size_t vlen = node->data.scalar.length;
    size_t i = node->start_mark.index, line = node->start_mark.line + 1,
           col = node->start_mark.column + 1;
    yaml_scalar_style_t style = node->data.scalar.style;
    if (i > n)
        i = n;
    if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE || style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
        if (i < n)
            rs_src_step(src, &i, &line, &col);
    } else if (style == YAML_LITERAL_SCALAR_STYLE || style == YAML_FOLDED_SCALAR_STYLE) {
        while (i < n && src[i] != '\n')
            rs_src_step(src, &i, &line, &col);
        if (i < n)
            rs_src_step(src, &i, &line, &col);
    }
    size_t j = 0;
    while (j < off && i < n) {
        unsigned char c = (unsigned char)src[i];
        if (style == YAML_DOUBLE_QUOTED_SCALAR_STYLE && c == '\\' && i + 1 < n) {
            char e = src[i + 1];
            if (e == '\n' || e == '\r') {
                rs_src_step(src, &i, &line, &col);
                while (i < n && (src[i] == '\n' || src[i] == '\r' || src[i] == ' ' || src[i] == '\t'))
                    rs_src_step(src, &i, &line, &col);
                continue;
            }
            size_t hex = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
            size_t produced = 1;
            if (hex) {
                uint32_t cp = 0;
                for (size_t k = 0; k < hex && i + 2 + k < n; k++) {
                    char h = src[i + 2 + k];
                    cp = cp * 16 + (uint32_t)(isdigit((unsigned char)h) ? h - '0'
                                                                        : (tolower((unsigned char)h) - 'a' + 10));
                }
                produced = rs_utf8_len(cp);
            } else if (e == '_' || e == 'N') {
                produced = 2;
            } else if (e == 'L' || e == 'P') {
                produced = 3;
            }
            for (size_t k = 0; k < 2 + hex && i < n; k++)
                rs_src_step(src, &i, &line, &col);
            j += produced;
            continue;
        }
        if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE && c == '\'' && i + 1 < n && src[i + 1] == '\'') {
            rs_src_step(src, &i, &line, &col);
            rs_src_step(src, &i, &line, &col);
            j++;
            continue;
        }
        if (j < vlen && (unsigned char)val[j] == c) {
            rs_src_step(src, &i, &line, &col);
            j++;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            /* folded line break or stripped indentation */
            while (i < n && (src[i] == ' ' || src[i] == '\t' || src[i] == '\r' || src[i] == '\n'))
                rs_src_step(src, &i, &line, &col);
            while (j < off && j < vlen && (val[j] == ' ' || val[j] == '\n' || val[j] == '\t'))
                j++;
            continue;
        }
        break; /* lost track: report the nearest position we know */
    }
    /* indentation before the target character of a continuation line */
    if (j < vlen && val[j] != ' ' && val[j] != '\t')
        while (i < n && (src[i] == ' ' || src[i] == '\t'))
            rs_src_step(src, &i, &line, &col);
    *line_out = line;
    *col_out = col;
}

/* The scalar's text, or NULL (error recorded) when node is not a scalar or
 * holds a NUL character. */
static const char *rs_scalar(rs_loader_t *ld, const yaml_node_t *node, const char *what)
{
    if (node->type != YAML_SCALAR_NODE) {
        RS_FAIL_NODE(ld, node, "%s must be a string", what);
        return NULL;
    }
    const char *s = (const char *)node->data.scalar.value;
    if (strlen(s) != node->data.scalar.length) {
        RS_FAIL_NODE(ld, node, "%s contains a NUL character", what);
        return NULL;
    }
    return s;
}

/* Parses a duration scalar; min_ms is the smallest accepted value. */
static int rs_duration(rs_loader_t *ld, const yaml_node_t *node, const char *what, int64_t min_ms,
                       int64_t *out)
{
    const char *s = rs_scalar(ld, node, what);
    if (!s)
        return -1;
    if (ww_parse_duration(s, out) < 0) {
        RS_FAIL_NODE(ld, node, "bad duration '%s' for %s (e.g. 250ms, 30s, 10m, 24h, 7d)", s, what);
        return -1;
    }
    if (*out < min_ms) {
        RS_FAIL_NODE(ld, node, "%s must be greater than 0", what);
        return -1;
    }
    return 0;
}

/* Parses a whole decimal number in [lo, hi]. */
static int rs_uint(rs_loader_t *ld, const yaml_node_t *node, const char *what, uint32_t lo,
                   uint32_t hi, uint32_t *out)
{
    const char *s = rs_scalar(ld, node, what);
    if (!s)
        return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!isdigit((unsigned char)s[0]) || *end != '\0' || errno) {
        RS_FAIL_NODE(ld, node, "%s must be a whole number, got '%s'", what, s);
        return -1;
    }
    if (v < (long long)lo || v > (long long)hi) {
        RS_FAIL_NODE(ld, node, "%s out of range: %lld (allowed %u..%u)", what, v, lo, hi);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static int rs_per(rs_loader_t *ld, const yaml_node_t *node, ww_per_t *out)
{
    const char *s = rs_scalar(ld, node, "per");
    if (!s)
        return -1;
    for (int i = 0; i < 3; i++) {
        if (strcmp(s, rs_per_names[i]) == 0) {
            *out = (ww_per_t)i;
            return 0;
        }
    }
    RS_FAIL_NODE(ld, node, "bad per '%s' (expected rule, entity or story)", s);
    return -1;
}

/* threshold: {count, window, per} */
static int rs_threshold(rs_loader_t *ld, const yaml_node_t *node, ww_rule_t *r)
{
    if (node->type != YAML_MAPPING_NODE) {
        RS_FAIL_NODE(ld, node, "threshold must be a mapping {count, window, per}");
        return -1;
    }
    bool have_count = false, have_window = false, have_per = false;
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(ld->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(ld->doc, p->value);
        const char *key = rs_scalar(ld, k, "a key");
        if (!key)
            return -1;
        bool *seen = strcmp(key, "count") == 0    ? &have_count
                     : strcmp(key, "window") == 0 ? &have_window
                     : strcmp(key, "per") == 0    ? &have_per
                                                  : NULL;
        if (!seen) {
            RS_FAIL_NODE(ld, k, "unknown key '%s' in threshold (expected count, window, per)", key);
            return -1;
        }
        if (*seen) {
            RS_FAIL_NODE(ld, k, "duplicate key '%s' in threshold", key);
            return -1;
        }
        *seen = true;
        int rc = seen == &have_count    ? rs_uint(ld, v, "threshold count", 1, 1000000, &r->threshold.count)
                 : seen == &have_window ? rs_duration(ld, v, "threshold window", 1, &r->threshold.window_ms)
                                        : rs_per(ld, v, &r->threshold.per);
        if (rc < 0)
            return -1;
    }
    if (!have_count || !have_window) {
        RS_FAIL_NODE(ld, node, "threshold needs '%s'", have_count ? "window" : "count");
        return -1;
    }
    r->threshold.on = true;
    return 0;
}

/* spike: {window, baseline, factor, min, per} */
static int rs_spike(rs_loader_t *ld, const yaml_node_t *node, ww_rule_t *r)
{
    if (node->type != YAML_MAPPING_NODE) {
        RS_FAIL_NODE(ld, node, "spike must be a mapping {window, baseline, factor, min, per}");
        return -1;
    }
    static const char *const keys[] = {"window", "baseline", "factor", "min", "per"};
    const yaml_node_t *vals[5] = {0};
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(ld->doc, p->key);
        const char *key = rs_scalar(ld, k, "a key");
        if (!key)
            return -1;
        int idx = -1;
        for (int i = 0; i < 5; i++)
            if (strcmp(key, keys[i]) == 0)
                idx = i;
        if (idx < 0) {
            RS_FAIL_NODE(ld, k, "unknown key '%s' in spike (expected window, baseline, factor, min, per)",
                         key);
            return -1;
        }
        if (vals[idx]) {
            RS_FAIL_NODE(ld, k, "duplicate key '%s' in spike", key);
            return -1;
        }
        vals[idx] = yaml_document_get_node(ld->doc, p->value);
    }
    for (int i = 0; i < 3; i++) {
        if (!vals[i]) {
            RS_FAIL_NODE(ld, node, "spike needs '%s'", keys[i]);
            return -1;
        }
    }
    if (rs_duration(ld, vals[0], "spike window", 1, &r->spike.window_ms) < 0 ||
        rs_duration(ld, vals[1], "spike baseline", 1, &r->spike.baseline_ms) < 0)
        return -1;
    if (r->spike.baseline_ms <= r->spike.window_ms) {
        RS_FAIL_NODE(ld, vals[1], "spike baseline must be longer than its window");
        return -1;
    }
    const char *f = rs_scalar(ld, vals[2], "spike factor");
    if (!f)
        return -1;
    char *end = NULL;
    errno = 0;
    double factor = strtod(f, &end);
    if (end == f || *end != '\0' || errno || !isfinite(factor) || factor <= 0 || factor > 1e6) {
        RS_FAIL_NODE(ld, vals[2], "spike factor must be a number > 0 and <= 1000000, got '%s'", f);
        return -1;
    }
    r->spike.factor = factor;
    r->spike.min = 1;
    if (vals[3] && rs_uint(ld, vals[3], "spike min", 1, 1000000, &r->spike.min) < 0)
        return -1;
    if (vals[4] && rs_per(ld, vals[4], &r->spike.per) < 0)
        return -1;
    r->spike.on = true;
    return 0;
}

static bool rs_id_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!(isalnum(c) || c == '_' || c == '.' || c == ':' || c == '-') || c >= 0x80)
            return false;
    }
    return true;
}

/* Offset of the first whitespace or control character of s, or -1. */
static long rs_channel_bad(const char *s)
{
    size_t n = strlen(s), i = 0;
    while (i < n) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t step =
            utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
        if (step <= 0)
            return (long)i;
        utf8proc_category_t cat = utf8proc_category(cp);
        if (cp <= 0x20 || cp == 0x7f || cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
            cat == UTF8PROC_CATEGORY_ZP || cat == UTF8PROC_CATEGORY_CC)
            return (long)i;
        i += (size_t)step;
    }
    return -1;
}

enum { RS_K_ID = 0, RS_K_CHANNEL, RS_K_SEVERITY, RS_K_MATCH, RS_K_COOLDOWN, RS_K_THRESHOLD, RS_K_SPIKE, RS_K__N };
static const char *const rs_rule_keys[RS_K__N] = {"id",       "channel",   "severity", "match",
                                                 "cooldown", "threshold", "spike"};

/* One rule mapping into r (and its tree into *tree). Returns 0 or -1. */
static int rs_rule(rs_loader_t *ld, const yaml_node_t *node, ww_rule_t *r, ww_rx_node_t **tree)
{
    if (node->type != YAML_MAPPING_NODE) {
        RS_FAIL_NODE(ld, node, "each rule must be a mapping (id, channel, match, ...)");
        return -1;
    }
    r->line = (int)node->start_mark.line + 1;
    const yaml_node_t *vals[RS_K__N] = {0};
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(ld->doc, p->key);
        const char *key = rs_scalar(ld, k, "a key");
        if (!key)
            return -1;
        int idx = -1;
        for (int i = 0; i < RS_K__N; i++)
            if (strcmp(key, rs_rule_keys[i]) == 0)
                idx = i;
        if (idx < 0) {
            RS_FAIL_NODE(ld, k, "unknown key '%s' in rule (expected id, channel, severity, match, "
                                "cooldown, threshold, spike)", key);
            return -1;
        }
        if (vals[idx]) {
            RS_FAIL_NODE(ld, k, "duplicate key '%s' in rule", key);
            return -1;
        }
        vals[idx] = yaml_document_get_node(ld->doc, p->value);
    }
    for (int i = 0; i <= RS_K_MATCH; i++) {
        if (i != RS_K_SEVERITY && !vals[i]) {
            RS_FAIL_NODE(ld, node, "rule is missing '%s'", rs_rule_keys[i]);
            return -1;
        }
    }
    const char *id = rs_scalar(ld, vals[RS_K_ID], "id");
    if (!id)
        return -1;
    if (!rs_id_ok(id)) {
        RS_FAIL_NODE(ld, vals[RS_K_ID], "bad rule id '%s' (use letters, digits and _ . : -)", id);
        return -1;
    }
    r->id = ww_strdup(id);
    const char *ch = rs_scalar(ld, vals[RS_K_CHANNEL], "channel");
    if (!ch)
        return -1;
    if (!*ch) {
        RS_FAIL_NODE(ld, vals[RS_K_CHANNEL], "channel must not be empty");
        return -1;
    }
    long bad = rs_channel_bad(ch);
    if (bad >= 0) {
        size_t line, col;
        rs_scalar_pos(ld, vals[RS_K_CHANNEL], (size_t)bad, &line, &col);
        rs_fail_at(ld, line, col, "channel must not contain whitespace or control characters");
        return -1;
    }
    r->channel = ww_strdup(ch);
    if (vals[RS_K_SEVERITY]) {
        const char *s = rs_scalar(ld, vals[RS_K_SEVERITY], "severity");
        if (!s)
            return -1;
        int sev = -1;
        for (int i = 0; i < 5; i++)
            if (strcmp(s, rs_sev_names[i]) == 0)
                sev = i;
        if (sev < 0) {
            RS_FAIL_NODE(ld, vals[RS_K_SEVERITY],
                         "bad severity '%s' (expected info, low, medium, high or critical)", s);
            return -1;
        }
        r->severity = (ww_severity_t)sev;
    }
    const yaml_node_t *mn = vals[RS_K_MATCH];
    const char *m = rs_scalar(ld, mn, "match");
    if (!m)
        return -1;
    char msg[256];
    size_t off = 0;
    *tree = ww_rx_parse(m, strlen(m), &off, msg, sizeof msg);
    if (!*tree) {
        size_t line, col;
        rs_scalar_pos(ld, mn, off, &line, &col);
        rs_fail_at(ld, line, col, "%s", msg);
        return -1;
    }
    r->match = ww_strdup(m);
    if (vals[RS_K_COOLDOWN] &&
        rs_duration(ld, vals[RS_K_COOLDOWN], "cooldown", 0, &r->cooldown_ms) < 0)
        return -1;
    if (vals[RS_K_THRESHOLD] && rs_threshold(ld, vals[RS_K_THRESHOLD], r) < 0)
        return -1;
    if (vals[RS_K_SPIKE] && rs_spike(ld, vals[RS_K_SPIKE], r) < 0)
        return -1;
    if (r->threshold.on && r->spike.on) {
        RS_FAIL_NODE(ld, vals[RS_K_SPIKE], "a rule can have a threshold or a spike, not both");
        return -1;
    }
    return 0;
}

/* Finds the first duplicate id; returns its rule index or -1. */
static long rs_find_duplicate(const ww_ruleset_t *rs)
{
    size_t size = 16;
    while (size < rs->n * 2)
        size *= 2;
    uint32_t *tab = ww_malloc(size * sizeof *tab); /* rule index + 1; 0: empty */
    memset(tab, 0, size * sizeof *tab);
    long dup = -1;
    for (size_t i = 0; i < rs->n && dup < 0; i++) {
        const char *id = rs->rules[i].id;
        size_t slot = (size_t)ww_hash_bytes(id, strlen(id)) & (size - 1);
        while (tab[slot]) {
            if (strcmp(rs->rules[tab[slot] - 1].id, id) == 0) {
                dup = (long)i;
                break;
            }
            slot = (slot + 1) & (size - 1);
        }
        tab[slot] = (uint32_t)i + 1;
    }
    ww_free(tab);
    return dup;
}

/* Walks the document's `rules` list into rs. Returns 0 or -1. */
static int rs_load_doc(rs_loader_t *ld, ww_ruleset_t *rs, const yaml_node_t **id_nodes_out[])
{
    yaml_node_t *root = yaml_document_get_root_node(ld->doc);
    if (!root || (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0 &&
                  root->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)) {
        rs_fail_at(ld, 1, 1, "missing 'rules' list");
        return -1;
    }
    if (root->type != YAML_MAPPING_NODE) {
        RS_FAIL_NODE(ld, root, "a rules file is a mapping with a 'rules' list");
        return -1;
    }
    const yaml_node_t *list = NULL;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(ld->doc, p->key);
        const char *key = rs_scalar(ld, k, "a key");
        if (!key)
            return -1;
        if (strcmp(key, "rules") != 0) {
            RS_FAIL_NODE(ld, k, "unknown top-level key '%s' (expected 'rules')", key);
            return -1;
        }
        if (list) {
            RS_FAIL_NODE(ld, k, "duplicate key 'rules'");
            return -1;
        }
        list = yaml_document_get_node(ld->doc, p->value);
    }
    if (!list) {
        RS_FAIL_NODE(ld, root, "missing 'rules' list");
        return -1;
    }
    if (list->type != YAML_SEQUENCE_NODE) {
        RS_FAIL_NODE(ld, list, "'rules' must be a list of rules");
        return -1;
    }
    size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    rs->rules = ww_calloc(n ? n : 1, sizeof *rs->rules);
    rs->trees = ww_calloc(n ? n : 1, sizeof *rs->trees);
    const yaml_node_t **id_nodes = ww_calloc(n ? n : 1, sizeof *id_nodes);
    *id_nodes_out = id_nodes;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = yaml_document_get_node(ld->doc, list->data.sequence.items.start[i]);
        rs->n = i + 1; /* so that destroy frees the partial rule */
        if (rs_rule(ld, item, &rs->rules[i], &rs->trees[i]) < 0)
            return -1;
        for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(ld->doc, p->key);
            if (strcmp((const char *)k->data.scalar.value, "id") == 0)
                id_nodes[i] = yaml_document_get_node(ld->doc, p->value);
        }
    }
    rs->n = n;
    return 0;
}

ww_ruleset_t *ww_rules_load_buffer(const char *buf, size_t len, const char *name, char *err,
                                   size_t errlen)
{
    rs_loader_t ld = {.name = name ? name : "<rules>", .src = buf, .len = len, .err = err,
                      .errlen = errlen};
    uint64_t t0 = rs_now_ns();
    if (errlen)
        err[0] = '\0';
    yaml_parser_t parser;
    yaml_document_t doc, doc2;
    bool have_doc = false;
    ww_ruleset_t *rs = NULL;
    const yaml_node_t **id_nodes = NULL;
    if (!yaml_parser_initialize(&parser)) {
        rs_fail_at(&ld, 1, 1, "cannot initialise the YAML parser");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rs_fail_at(&ld, parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                   "YAML syntax error: %s%s%s", parser.problem ? parser.problem : "unknown",
                   parser.context ? " " : "", parser.context ? parser.context : "");
        goto cleanup;
    }
    have_doc = true;
    ld.doc = &doc;
    rs = ww_calloc(1, sizeof *rs);
    if (rs_load_doc(&ld, rs, &id_nodes) < 0)
        goto cleanup;
    long dup = rs_find_duplicate(rs);
    if (dup >= 0) {
        RS_FAIL_NODE(&ld, id_nodes[dup], "duplicate rule id '%s'", rs->rules[dup].id);
        goto cleanup;
    }
    /* a second document is refused */
    if (!yaml_parser_load(&parser, &doc2)) {
        rs_fail_at(&ld, parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                   "YAML syntax error: %s", parser.problem ? parser.problem : "unknown");
        goto cleanup;
    }
    yaml_node_t *root2 = yaml_document_get_root_node(&doc2);
    if (root2)
        RS_FAIL_NODE(&ld, root2, "a rules file holds one YAML document");
    yaml_document_delete(&doc2);
    if (ld.failed)
        goto cleanup;
    rs_compute_version(rs);
    rs_build_index(rs);
    rs->compile_ms = (double)(rs_now_ns() - t0) / 1e6;
cleanup:
    ww_free(id_nodes);
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (ld.failed)
        ww_rules_destroy(&rs);
    return rs;
}

ww_ruleset_t *ww_rules_load_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errlen)
            snprintf(err, errlen, "%s:0:0: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        WW_GROW(buf, cap, len + 65536);
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    bool bad = ferror(f) != 0;
    int saved = errno;
    fclose(f);
    ww_ruleset_t *rs = NULL;
    if (bad) {
        if (errlen)
            snprintf(err, errlen, "%s:0:0: cannot read: %s", path, strerror(saved));
    } else {
        rs = ww_rules_load_buffer(buf, len, path, err, errlen);
    }
    ww_free(buf);
    return rs;
}

/* ======================================================================== */
/* evaluation                                                                */
/* ======================================================================== */

ww_rules_scratch_t *ww_rules_scratch_new(void)
{
    ww_rules_scratch_t *s = ww_calloc(1, sizeof *s);
    ww_rx_view_init(&s->view);
    return s;
}

void ww_rules_scratch_destroy(ww_rules_scratch_t **sp)
{
    if (!sp || !*sp)
        return;
    ww_rules_scratch_t *s = *sp;
    ww_rx_view_deinit(&s->view);
    ww_free(s->stamp);
    ww_free(s->cand);
    ww_free(s->nbuf);
    ww_free(s->costs);
    ww_free(s);
    *sp = NULL;
}

static inline void rs_cand_add(ww_rules_scratch_t *s, uint32_t r)
{
    if (s->stamp[r] == s->epoch)
        return;
    s->stamp[r] = s->epoch;
    WW_GROW(s->cand, s->cap_cand, s->n_cand + 1);
    s->cand[s->n_cand++] = r;
}

static void rs_cand_add_list(ww_rules_scratch_t *s, const uint32_t *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rs_cand_add(s, list[i]);
}

/* Adds the rules filed under hash h in table t. */
static inline void rs_cand_table(const ww_ruleset_t *rs, ww_rules_scratch_t *s, const rs_table_t *t,
                                 uint64_t h)
{
    size_t b = (size_t)(h >> 40) & rs->bloom_mask;
    if (!((rs->bloom[b >> 6] >> (b & 63)) & 1))
        return;
    size_t n;
    const uint32_t *p = rs_table_get(t, h, &n);
    if (n)
        rs_cand_add_list(s, p, n);
}

/* Rules triggered by the folded word w[0..len) through a prefix: one pass
 * over its bytes, looking up only at lengths some prefix has. */
static void rs_cand_prefixes(const ww_ruleset_t *rs, ww_rules_scratch_t *s, const char *w,
                             uint32_t len)
{
    if (len == 0)
        return;
    unsigned bit = (unsigned)(unsigned char)w[0] << 8 | (len >= 2 ? (unsigned char)w[1] : 0);
    if (!((rs->pfx_start[bit >> 6] >> (bit & 63)) & 1))
        return; /* (a 1-byte word: bit b0<<8 is set only by a 1-byte prefix b0) */
    uint64_t h = RS_FNV_INIT, lens = rs->pfx_lens;
    for (uint32_t i = 0; i < len && i < RS_PFX_MAXLEN; i++) {
        h ^= (unsigned char)w[i];
        h *= RS_FNV_PRIME;
        if ((lens >> (i + 1)) & 1)
            rs_cand_table(rs, s, &rs->prefixes, h);
        if ((lens >> (i + 1)) == 0)
            break;
    }
}

/* Rules filed under the names an entity can be matched by: its folded
 * canonical and text, and the leading and trailing runs of its canonical's
 * words (joined by one space). */
static void rs_cand_entity(const ww_ruleset_t *rs, ww_rules_scratch_t *s, size_t e)
{
    ww_rx_view_t *v = &s->view;
    const ww_rx_entinfo_t *ei = &v->ei[e];
    if (!ei->text_repeat && ei->text_hash != ei->canon_hash)
        rs_cand_table(rs, s, &rs->names, ei->text_hash);
    if (ei->canon_repeat) /* an earlier mention of the same name did the rest */
        return;
    rs_cand_table(rs, s, &rs->names, ei->canon_hash);
    if (ei->w_n == 0)
        return;
    const uint64_t *wh = v->w_hash + ei->w_off;
    const ww_rx_filter_t *edge = &rs->name_edge;
    for (int side = 0; side < 2; side++) {
        /* leading runs all start with the first word, trailing runs all end
         * with the last: most entities' words start or end no rule's name */
        if (side == 0 ? !ww_rx_filter_has(edge, wh[0] ^ RS_SALT_FIRST)
                      : !ww_rx_filter_has(edge, wh[ei->w_n - 1] ^ RS_SALT_LAST))
            continue;
        for (uint32_t k = 1; k <= ei->w_n; k++) {
            uint32_t first = ei->w_off + (side == 0 ? 0 : ei->w_n - k);
            if (side == 0 ? !ww_rx_filter_has(edge, wh[k - 1] ^ RS_SALT_LAST)
                          : !ww_rx_filter_has(edge, wh[ei->w_n - k] ^ RS_SALT_FIRST))
                continue;
            size_t len = 0, need = 1;
            for (uint32_t j = 0; j < k; j++)
                need += v->w_len[first + j] + 1;
            WW_GROW(s->nbuf, s->nbuf_cap, need);
            for (uint32_t j = 0; j < k; j++) {
                uint32_t w = first + j;
                if (j)
                    s->nbuf[len++] = ' ';
                memcpy(s->nbuf + len, v->pool + v->w_off[w], v->w_len[w]);
                len += v->w_len[w];
            }
            rs_cand_table(rs, s, &rs->names, ww_rx_word_hash(s->nbuf, len));
        }
    }
}

/* Fills s->cand with the rules the index cannot rule out, ascending. */
static void rs_collect(const ww_ruleset_t *rs, ww_rules_scratch_t *s)
{
    ww_rx_view_t *v = &s->view;
    for (int fi = 0; fi < WW_RX_F__COUNT; fi++) {
        const ww_rx_field_t *f = &v->f[fi];
        for (size_t u = 0; u < f->n_uniq; u++) {
            uint32_t k = f->uniq[u];
            const ww_token_t *tk = &f->toks.toks[k];
            rs_cand_table(rs, s, &rs->words, tk->hash);
            if (rs->pfx_lens)
                rs_cand_prefixes(rs, s, ww_token_fold(&f->toks, k), tk->fold_len);
        }
    }
    const ww_event_t *ev = v->ev;
    bool type_done[WW_ENT__COUNT] = {0};
    for (size_t i = 0; i < ev->n_entities; i++) {
        ww_ent_type_t t = ev->entities[i].type;
        if ((int)t >= 0 && t < WW_ENT__COUNT && !type_done[t]) {
            type_done[t] = true;
            rs_cand_add_list(s, rs->ent_type[t], rs->n_ent_type[t]);
        }
    }
    if (ev->n_entities)
        rs_cand_add_list(s, rs->ent_any, rs->n_ent_any);
    if (ev->n_entities && rs->names.n_keys) {
        ww_rx_view_need_ents(v);
        for (size_t i = 0; i < ev->n_entities; i++)
            rs_cand_entity(rs, s, i);
    }
    rs_cand_add_list(s, rs->always, rs->n_always);
    if (s->n_cand > 1)
        ww_rx_sort_u32(s->cand, s->n_cand);
}

/* Starts a new event: prepares the view (indexing only the words of rs's
 * terms when filtered) and an empty candidate set. */
static void rs_begin(const ww_ruleset_t *rs, const ww_event_t *ev, ww_rules_scratch_t *s,
                     ww_hits_t *out, bool filtered)
{
    ww_hits_reset(out);
    ww_rx_view_prepare(&s->view, ev, filtered ? &rs->filter : NULL);
    if (s->cap_stamp < rs->n) {
        size_t old = s->cap_stamp;
        WW_GROW(s->stamp, s->cap_stamp, rs->n);
        memset(s->stamp + old, 0, (s->cap_stamp - old) * sizeof *s->stamp);
    }
    if (++s->epoch == 0) {
        memset(s->stamp, 0, s->cap_stamp * sizeof *s->stamp);
        s->epoch = 1;
    }
    s->n_cand = 0;
}

/* Evaluates rule r exactly and appends a hit with its evidence if it
 * matches. Returns true on a match. */
static bool rs_try(const ww_ruleset_t *rs, ww_rules_scratch_t *s, size_t r, ww_hits_t *out)
{
    if (!ww_rx_eval(rs->trees[r], &s->view))
        return false;
    WW_GROW(out->hits, out->cap, out->n + 1);
    ww_hit_t *hit = &out->hits[out->n++];
    memset(hit, 0, sizeof *hit);
    hit->rule = &rs->rules[r];
    hit->rule_index = r;
    ww_rx_evidence(rs->trees[r], &s->view, hit);
    return true;
}

/* Makes s->costs belong to rs (cleared when the rule set changed). */
static void rs_costs_bind(const ww_ruleset_t *rs, ww_rules_scratch_t *s)
{
    if (s->costs && s->cost_n == rs->n && strcmp(s->cost_version, rs->version) == 0)
        return;
    ww_free(s->costs);
    s->costs = ww_calloc(rs->n ? rs->n : 1, sizeof *s->costs);
    s->cost_n = rs->n;
    memcpy(s->cost_version, rs->version, sizeof s->cost_version);
    s->events = s->candidates = 0;
}

size_t ww_rules_eval(const ww_ruleset_t *rs, const ww_event_t *ev, ww_rules_scratch_t *s,
                     ww_hits_t *out)
{
    rs_begin(rs, ev, s, out, true);
    rs_collect(rs, s);
    rs_costs_bind(rs, s);
    s->events++;
    s->candidates += s->n_cand;
    bool timed = ++s->sample_tick >= WW_RULES_SAMPLE;
    if (timed)
        s->sample_tick = 0;
    for (size_t i = 0; i < s->n_cand; i++) {
        uint32_t r = s->cand[i];
        ww_rule_cost_t *c = &s->costs[r];
        uint64_t t0 = timed ? rs_now_ns() : 0;
        bool hit = rs_try(rs, s, r, out);
        if (timed) {
            c->timed++;
            c->timed_ns += rs_now_ns() - t0;
        }
        c->evals++;
        c->hits += hit;
    }
    return out->n;
}

size_t ww_rules_eval_brute(const ww_ruleset_t *rs, const ww_event_t *ev, ww_rules_scratch_t *s,
                           ww_hits_t *out)
{
    rs_begin(rs, ev, s, out, false); /* the reference: every word indexed */
    for (size_t r = 0; r < rs->n; r++)
        rs_try(rs, s, r, out);
    return out->n;
}

const ww_rule_cost_t *ww_rules_costs(const ww_rules_scratch_t *s, const ww_ruleset_t *rs,
                                     size_t *n, uint64_t *events, uint64_t *candidates)
{
    bool ok = s->costs && s->cost_n == rs->n && strcmp(s->cost_version, rs->version) == 0;
    if (n)
        *n = ok ? s->cost_n : 0;
    if (events)
        *events = ok ? s->events : 0;
    if (candidates)
        *candidates = ok ? s->candidates : 0;
    return ok ? s->costs : NULL;
}

void ww_rules_costs_reset(ww_rules_scratch_t *s)
{
    if (s->costs)
        memset(s->costs, 0, s->cost_n * sizeof *s->costs);
    s->events = s->candidates = 0;
}

double ww_rules_compile_ms(const ww_ruleset_t *rs)
{
    return rs->compile_ms;
}

bool ww_rules_is_candidate(const ww_ruleset_t *rs, const ww_event_t *ev, ww_rules_scratch_t *s,
                           size_t i)
{
    ww_hits_t tmp;
    ww_hits_init(&tmp);
    rs_begin(rs, ev, s, &tmp, true);
    rs_collect(rs, s);
    bool found = false;
    for (size_t k = 0; k < s->n_cand && !found; k++)
        found = s->cand[k] == i;
    ww_hits_deinit(&tmp);
    return found;
}

char *ww_rules_explain(const ww_ruleset_t *rs, size_t i, const ww_event_t *ev,
                       ww_rules_scratch_t *s, bool *matched)
{
    ww_hits_t tmp;
    ww_hits_init(&tmp);
    rs_begin(rs, ev, s, &tmp, true);
    ww_hits_deinit(&tmp);
    bool m = false;
    char *text = ww_rx_explain(rs->trees[i], &s->view, &m);
    if (matched)
        *matched = m;
    return text;
}
