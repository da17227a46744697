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
#include <utf8proc.h>
#include <yaml.h>

#include "rules_internal.h"
#include "ww/alloc.h"
#include "ww/config.h"
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

/* One slot of the word table: the rules triggered by a folded word. */
typedef struct {
    uint64_t hash; /* ww_hash_bytes of the folded word */
    uint32_t off;  /* first rule id in wpost */
    uint32_t cnt;  /* number of rule ids; 0: empty slot */
} rs_wslot_t;

/* A prefix trigger. */
typedef struct {
    const char *s; /* folded prefix (borrowed from the tree) */
    uint32_t len;  /* its length */
    uint32_t rule; /* rule index */
} rs_pfx_t;

struct ww_ruleset {
    ww_rule_t *rules;       /* in file order */
    ww_rx_node_t **trees;   /* parsed match expression of each rule */
    size_t n;
    char version[17];       /* 16 hex digits */
    rs_wslot_t *wtab;       /* open addressing, size wmask+1 (power of two) */
    size_t wmask;
    uint32_t *wpost;        /* rule ids, grouped by word */
    rs_pfx_t *pfx;          /* sorted by (prefix bytes, rule) */
    size_t n_pfx;
    uint32_t *pfx_lens;     /* distinct prefix lengths, ascending */
    size_t n_pfx_lens;
    uint32_t *ent_type[WW_ENT__COUNT]; /* rules triggered by an entity of that type */
    size_t n_ent_type[WW_ENT__COUNT];
    uint32_t *ent_any;      /* rules triggered by any entity */
    size_t n_ent_any;
    uint32_t *always;       /* rules evaluated for every event */
    size_t n_always;
};

struct ww_rules_scratch {
    ww_rx_view_t view;  /* the prepared event */
    uint32_t *stamp;    /* per rule: epoch when last made a candidate */
    size_t cap_stamp;
    uint32_t epoch;
    uint32_t *cand;     /* candidate rule ids of the current event */
    size_t n_cand, cap_cand;
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
    ww_free(rs->wtab);
    ww_free(rs->wpost);
    ww_free(rs->pfx);
    ww_free(rs->pfx_lens);
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

/* ---- index -------------------------------------------------------------------- */

enum { RS_KEY_WORD = 0, RS_KEY_PREFIX, RS_KEY_ETYPE, RS_KEY_EANY };

typedef struct {
    int kind;
    uint64_t hash;   /* WORD */
    const char *s;   /* PREFIX */
    uint32_t len;
    ww_ent_type_t type; /* ETYPE */
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

static rs_key_t rs_term_key(const ww_rx_term_t *t)
{
    rs_key_t k = {0};
    if (t->n == 1 && t->prefix) {
        k.kind = RS_KEY_PREFIX;
        k.s = t->w[0];
        k.len = t->len[0];
    } else {
        k.kind = RS_KEY_WORD;
        k.hash = t->hash[0];
    }
    return k;
}

/* Appends to out a set of keys at least one of which must be present in an
 * event for n to match. Returns false when no such set exists (n can match
 * an event that has none of its positive terms, e.g. NOT x). */
static bool rs_triggers(const ww_rx_node_t *n, rs_keys_t *out)
{
    rs_key_t k = {0};
    switch (n->kind) {
    case WW_RX_TERM:
    case WW_RX_NEAR: /* both sides must be present: a's key suffices */
        rs_keys_push(out, rs_term_key(&n->a));
        return true;
    case WW_RX_ENTITY:
        k.kind = n->has_type ? RS_KEY_ETYPE : RS_KEY_EANY;
        k.type = n->type;
        rs_keys_push(out, k);
        return true;
    case WW_RX_AND: {
        /* any one kid's set will do: take the smallest */
        rs_keys_t best = {0};
        bool have = false;
        for (size_t i = 0; i < n->n_kids; i++) {
            rs_keys_t tmp = {0};
            if (rs_triggers(n->kids[i], &tmp) && (!have || tmp.n < best.n)) {
                ww_free(best.k);
                best = tmp;
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
            if (!rs_triggers(n->kids[i], out))
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

static int rs_cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

static int rs_cmp_pfx(const void *a, const void *b)
{
    const rs_pfx_t *x = a, *y = b;
    int c = rs_cmp_bytes(x->s, x->len, y->s, y->len);
    if (c)
        return c;
    return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static int rs_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Appends r to a list of rule ids unless it is already the last one. */
static void rs_list_add(uint32_t **list, size_t *n, size_t *cap, uint32_t r)
{
    if (*n > 0 && (*list)[*n - 1] == r)
        return;
    WW_GROW(*list, *cap, *n + 1);
    (*list)[(*n)++] = r;
}

static void rs_build_index(ww_ruleset_t *rs)
{
    rs_wpair_t *wp = NULL;
    size_t n_wp = 0, cap_wp = 0, cap_pfx = 0, cap_always = 0, cap_any = 0;
    size_t cap_et[WW_ENT__COUNT] = {0};
    for (size_t i = 0; i < rs->n; i++) {
        uint32_t r = (uint32_t)i;
        rs_keys_t ks = {0};
        if (!rs_triggers(rs->trees[i], &ks)) {
            rs_list_add(&rs->always, &rs->n_always, &cap_always, r);
            ww_free(ks.k);
            continue;
        }
        for (size_t k = 0; k < ks.n; k++) {
            const rs_key_t *key = &ks.k[k];
            switch (key->kind) {
            case RS_KEY_WORD:
                WW_GROW(wp, cap_wp, n_wp + 1);
                wp[n_wp++] = (rs_wpair_t){key->hash, r};
                break;
            case RS_KEY_PREFIX:
                WW_GROW(rs->pfx, cap_pfx, rs->n_pfx + 1);
                rs->pfx[rs->n_pfx++] = (rs_pfx_t){key->s, key->len, r};
                break;
            case RS_KEY_ETYPE:
                rs_list_add(&rs->ent_type[key->type], &rs->n_ent_type[key->type],
                            &cap_et[key->type], r);
                break;
            default:
                rs_list_add(&rs->ent_any, &rs->n_ent_any, &cap_any, r);
                break;
            }
        }
        ww_free(ks.k);
    }
    /* words: sort, dedupe, then one table slot per distinct hash */
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
    rs->wtab = ww_calloc(size, sizeof *rs->wtab);
    rs->wmask = size - 1;
    rs->wpost = ww_malloc((m ? m : 1) * sizeof *rs->wpost);
    for (size_t i = 0; i < m;) {
        size_t j = i;
        while (j < m && wp[j].hash == wp[i].hash) {
            rs->wpost[j] = wp[j].rule;
            j++;
        }
        size_t slot = (size_t)wp[i].hash & rs->wmask;
        while (rs->wtab[slot].cnt)
            slot = (slot + 1) & rs->wmask;
        rs->wtab[slot] = (rs_wslot_t){wp[i].hash, (uint32_t)i, (uint32_t)(j - i)};
        i = j;
    }
    ww_free(wp);
    /* prefixes: sorted, deduped, plus their distinct lengths */
    if (rs->n_pfx > 1)
        qsort(rs->pfx, rs->n_pfx, sizeof *rs->pfx, rs_cmp_pfx);
    m = 0;
    for (size_t i = 0; i < rs->n_pfx; i++) {
        if (m > 0 && rs_cmp_pfx(&rs->pfx[m - 1], &rs->pfx[i]) == 0)
            continue;
        rs->pfx[m++] = rs->pfx[i];
    }
    rs->n_pfx = m;
    if (m) {
        rs->pfx_lens = ww_malloc(m * sizeof *rs->pfx_lens);
        for (size_t i = 0; i < m; i++)
            rs->pfx_lens[i] = rs->pfx[i].len;
        qsort(rs->pfx_lens, m, sizeof *rs->pfx_lens, rs_cmp_u32);
        size_t k = 0;
        for (size_t i = 0; i < m; i++)
            if (k == 0 || rs->pfx_lens[k - 1] != rs->pfx_lens[i])
                rs->pfx_lens[k++] = rs->pfx_lens[i];
        rs->n_pfx_lens = k;
    }
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
    ww_free(s);
    *sp = NULL;
}

static void rs_cand_add(ww_rules_scratch_t *s, uint32_t r)
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

/* Rules triggered by the folded word w[0..len) as a prefix. */
static void rs_cand_prefixes(const ww_ruleset_t *rs, ww_rules_scratch_t *s, const char *w,
                             uint32_t len)
{
    for (size_t li = 0; li < rs->n_pfx_lens && rs->pfx_lens[li] <= len; li++) {
        uint32_t L = rs->pfx_lens[li];
        size_t lo = 0, hi = rs->n_pfx;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (rs_cmp_bytes(rs->pfx[mid].s, rs->pfx[mid].len, w, L) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t k = lo; k < rs->n_pfx && rs->pfx[k].len == L && memcmp(rs->pfx[k].s, w, L) == 0;
             k++)
            rs_cand_add(s, rs->pfx[k].rule);
    }
}

/* Fills s->cand with the rules the index cannot rule out, ascending. */
static void rs_collect(const ww_ruleset_t *rs, ww_rules_scratch_t *s)
{
    ww_rx_view_t *v = &s->view;
    for (int fi = 0; fi < WW_RX_F__COUNT; fi++) {
        const ww_rx_field_t *f = &v->f[fi];
        for (size_t k = 0; k < f->toks.n; k++) {
            uint64_t h = f->by_hash[k].hash;
            if (k > 0 && f->by_hash[k - 1].hash == h)
                continue;
            size_t slot = (size_t)h & rs->wmask;
            while (rs->wtab[slot].cnt) {
                if (rs->wtab[slot].hash == h) {
                    rs_cand_add_list(s, rs->wpost + rs->wtab[slot].off, rs->wtab[slot].cnt);
                    break;
                }
                slot = (slot + 1) & rs->wmask;
            }
        }
        if (rs->n_pfx) {
            ww_rx_view_need_fold(v, fi);
            for (size_t k = 0; k < f->toks.n; k++) {
                const ww_rx_fidx_t *e = &f->by_fold[k];
                if (k > 0 && f->by_fold[k - 1].len == e->len &&
                    memcmp(f->by_fold[k - 1].fold, e->fold, e->len) == 0)
                    continue;
                rs_cand_prefixes(rs, s, e->fold, e->len);
            }
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
    rs_cand_add_list(s, rs->always, rs->n_always);
    if (s->n_cand > 1)
        qsort(s->cand, s->n_cand, sizeof *s->cand, rs_cmp_u32);
}

/* Starts a new event: prepares the view and an empty candidate set. */
static void rs_begin(const ww_ruleset_t *rs, const ww_event_t *ev, ww_rules_scratch_t *s,
                     ww_hits_t *out)
{
    ww_hits_reset(out);
    ww_rx_view_prepare(&s->view, ev);
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

/* Evaluates rule r exactly and appends a hit with its evidence if it matches. */
static void rs_try(const ww_ruleset_t *rs, ww_rules_scratch_t *s, size_t r, ww_hits_t *out)
{
    if (!ww_rx_eval(rs->trees[r], &s->view))
        return;
    WW_GROW(out->hits, out->cap, out->n + 1);
    ww_hit_t *hit = &out->hits[out->n++];
    memset(hit, 0, sizeof *hit);
    hit->rule = &rs->rules[r];
    hit->rule_index = r;
    ww_rx_evidence(rs->trees[r], &s->view, hit);
}

size_t ww_rules_eval(const ww_ruleset_t *rs, const ww_event_t *ev, ww_rules_scratch_t *s,
                     ww_hits_t *out)
{
    rs_begin(rs, ev, s, out);
    rs_collect(rs, s);
    for (size_t i = 0; i < s->n_cand; i++)
        rs_try(rs, s, s->cand[i], out);
    return out->n;
}

size_t ww_rules_eval_brute(const ww_ruleset_t *rs, const ww_event_t *ev, ww_rules_scratch_t *s,
                           ww_hits_t *out)
{
    rs_begin(rs, ev, s, out);
    for (size_t r = 0; r < rs->n; r++)
        rs_try(rs, s, r, out);
    return out->n;
}
