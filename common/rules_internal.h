/* rules_internal.h - private to common/rules.c and common/rules_expr.c (and
 * their tests): the match-expression AST, the prepared view of one event the
 * evaluator works on, and the evaluator itself.
 *
 * Life of an expression: ww_rx_parse() turns the text into a tree of
 * ww_rx_node_t (words already case-folded and hashed); rules.c indexes the
 * tree's positive terms; per event ww_rx_view_prepare() tokenizes every field
 * once, then ww_rx_eval() / ww_rx_evidence() answer for one rule. */
#ifndef WW_RULES_INTERNAL_H
#define WW_RULES_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ww/event.h"
#include "ww/rules.h"
#include "ww/text.h"

/* Finishes a word hash from a 64-bit value (two multiply/xor-shift rounds). */
static inline uint64_t ww_rx_mix(uint64_t h)
{
    h *= 0x9E3779B97F4A7C15ULL;
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ULL;
    h ^= h >> 29;
    return h;
}

/* The hash of a folded word everywhere in the matcher (event tokens, rule
 * terms, entity name words, prefixes): a word of up to 8 bytes is its bytes
 * as one little-endian integer (plus its length), mixed; longer words are
 * folded 8 bytes at a time. Reads only p[0..n). Not ww_hash_bytes: token
 * hashes from ww_tokenize are replaced by it. */
static inline uint64_t ww_rx_word_hash(const char *p, size_t n)
{
    if (n <= 8) {
        uint64_t w = 0;
        for (size_t i = 0; i < n; i++)
            w |= (uint64_t)(unsigned char)p[i] << (8 * i);
        return ww_rx_mix(w + n);
    }
    uint64_t h = n, w;
    size_t i = 0;
    for (; i + 8 < n; i += 8) {
        __builtin_memcpy(&w, p + i, 8);
        h = ww_rx_mix(h ^ w);
    }
    __builtin_memcpy(&w, p + n - 8, 8);
    return ww_rx_mix(h ^ w ^ 0x5bd1e9955bd1e995ULL);
}

/* ww_rx_word_hash for p readable 8 bytes from its start whatever n is (a
 * padded buffer): a short word costs one load and a mask. Little-endian
 * machines only take the short way. */
static inline uint64_t ww_rx_word_hash_padded(const char *p, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n - 1 < 8) { /* 1..8 */
        uint64_t w;
        __builtin_memcpy(&w, p, 8);
        w &= ~0ULL >> (64 - 8 * n);
        return ww_rx_mix(w + n);
    }
#endif
    return ww_rx_word_hash(p, n);
}

/* Prefix hashes: FNV-1a over the folded bytes, so that all the prefixes of
 * an event word are hashed in one pass (one step per byte). Prefixes longer
 * than WW_RX_PFX_MAXLEN bytes are keyed by their first WW_RX_PFX_MAXLEN. */
#define WW_RX_FNV_INIT 14695981039346656037ULL
#define WW_RX_FNV_PRIME 1099511628211ULL
#define WW_RX_PFX_MAXLEN 63

/* The words any rule of a set can ask about, for indexing only those: a
 * blocked Bloom filter (two bits in one 64-bit word) over the filter keys
 * of every word of every term (under NOT too) and of every prefix term. An
 * event word that fails it cannot take part in any match, so the view does
 * not store it (it still counts for positions) and does not even hash it
 * fully. False positives only cost an index entry. Owned by the rule set.
 *
 * A filter key is one multiplication of a word's first 8 bytes (as a
 * little-endian integer, zero-padded) plus its length: words longer than 8
 * bytes that share their first 8 and their length share a key (a false
 * positive, never a miss). Only the high 32 bits of a key are used. */
typedef struct {
    uint64_t *bits;       /* mask + 1 words of 64 bits (at most 2^20 words) */
    size_t mask;
    uint64_t pfx_lens;    /* bit L set: some prefix term is L bytes long (1 <= L <= 63) */
    uint64_t *pfx_start;  /* 65536 bits by the first two folded bytes (a 1-byte prefix b0 sets
                           * all 256 of b0); NULL when there is no prefix term of 1 or 2 bytes */
    uint64_t *pfx3;       /* 65536 bits by the first three folded bytes (ww_rx_pfx3_bit) of the
                           * prefix terms of 3 bytes or more; NULL when there are none */
} ww_rx_filter_t;

#define WW_RX_FKEY_MUL 0x9E3779B97F4A7C15ULL
#define WW_RX_PFX_SALT 0x2545F4914F6CDD1DULL /* prefix keys: (w8 + len) ^ salt */

/* The first min(n, 8) bytes of p as a little-endian integer (reads only
 * p[0..n)). */
static inline uint64_t ww_rx_head8(const char *p, size_t n)
{
    uint64_t w = 0;
    for (size_t i = 0; i < n && i < 8; i++)
        w |= (uint64_t)(unsigned char)p[i] << (8 * i);
    return w;
}

/* The filter key of a word (head8 = ww_rx_head8 of it) and of a prefix. */
static inline uint64_t ww_rx_fkey(uint64_t head8, size_t n)
{
    return (head8 + n) * WW_RX_FKEY_MUL;
}
static inline uint64_t ww_rx_fkey_prefix(uint64_t head8, size_t n)
{
    return ((head8 + n) ^ WW_RX_PFX_SALT) * WW_RX_FKEY_MUL;
}

/* Membership of a key (or of any well-mixed 64-bit hash). */
static inline bool ww_rx_filter_has(const ww_rx_filter_t *f, uint64_t key)
{
    uint64_t want = 1ULL << (key >> 58) | 1ULL << ((key >> 52) & 63);
    return (f->bits[(size_t)(key >> 32) & f->mask] & want) == want;
}

static inline void ww_rx_filter_add(ww_rx_filter_t *f, uint64_t key)
{
    f->bits[(size_t)(key >> 32) & f->mask] |= 1ULL << (key >> 58) | 1ULL << ((key >> 52) & 63);
}

/* The pfx3 bit of a word's first three folded bytes (head8's low 24 bits). */
static inline unsigned ww_rx_pfx3_bit(uint64_t head8)
{
    return (unsigned)(((uint32_t)head8 & 0xFFFFFFu) * 0x9E3779B1u >> 16);
}

/* True when a folded word of n bytes whose first bytes are head8 (see
 * ww_rx_head8) may start with a prefix term: prefixes up to 8 bytes are
 * keyed by head8 masked to their length, longer ones by the first 8 bytes
 * and their length, like words. */
bool ww_rx_filter_prefix(const ww_rx_filter_t *f, size_t n, uint64_t head8);

/* True when a folded word of n bytes (first bytes head8) may be a term
 * word or start with a prefix term. */
static inline __attribute__((always_inline)) bool ww_rx_filter_keep(const ww_rx_filter_t *f, size_t n,
                                                                    uint64_t head8)
{
    if (ww_rx_filter_has(f, ww_rx_fkey(head8, n)))
        return true;
    bool maybe = false;
    if (f->pfx3 && n >= 3) {
        unsigned bit = ww_rx_pfx3_bit(head8);
        maybe = (f->pfx3[bit >> 6] >> (bit & 63)) & 1;
    }
    if (!maybe && f->pfx_start) {
        unsigned bit = (unsigned)(head8 & 0xFF) << 8 | (n >= 2 ? (unsigned)(head8 >> 8 & 0xFF) : 0);
        maybe = (f->pfx_start[bit >> 6] >> (bit & 63)) & 1;
    }
    return maybe && ww_rx_filter_prefix(f, n, head8);
}

/* Salts of a name's first and last word hashes (entity-name lookups). */
#define WW_RX_SALT_FIRST 0x61C8864680B583EBULL
#define WW_RX_SALT_LAST 0x85EBCA77C2B2AE63ULL

/* Sorts a[0..n) ascending: insertion sort for the short lists the matcher
 * sorts per event, qsort for long ones. */
void ww_rx_sort_u32(uint32_t *a, size_t n);

/* Deepest nesting of parentheses and NOTs an expression may have. */
#define WW_RX_MAX_DEPTH 64
/* Largest n accepted in NEAR/n. */
#define WW_RX_MAX_NEAR 1000

typedef enum {
    WW_RX_TERM = 0, /* a word, prefix or phrase (term a) */
    WW_RX_NEAR,     /* a NEAR/n b */
    WW_RX_ENTITY,   /* entity:TYPE, entity:TYPE:"Name", entity:"Name" */
    WW_RX_AND,      /* every kid */
    WW_RX_OR,       /* any kid */
    WW_RX_NOT       /* kids[0] does not match */
} ww_rx_kind_t;

/* Which event fields a term searches. */
typedef enum {
    WW_RX_SC_TEXT = 0, /* unscoped: title and body */
    WW_RX_SC_TITLE,
    WW_RX_SC_BODY,
    WW_RX_SC_SOURCE,
    WW_RX_SC_LANG
} ww_rx_scope_t;

/* Event fields as the view indexes them. */
enum { WW_RX_F_TITLE = 0, WW_RX_F_BODY, WW_RX_F_SOURCE, WW_RX_F_LANG, WW_RX_F__COUNT };

/* A sequence of folded words that must appear consecutively. */
typedef struct {
    uint32_t n;     /* number of words, >= 1 */
    char **w;       /* folded words, NUL-terminated, owned */
    uint32_t *len;  /* byte length of each */
    uint64_t *hash; /* ww_rx_word_hash of each */
    bool prefix;    /* the last word is a prefix (`tariff*`) */
} ww_rx_term_t;

typedef struct ww_rx_node ww_rx_node_t;
struct ww_rx_node {
    ww_rx_kind_t kind;
    uint32_t pos;          /* byte offset in the expression where the node starts */
    ww_rx_scope_t scope;   /* TERM, NEAR: fields searched */
    ww_rx_term_t a, b;     /* TERM: a; NEAR: a and b */
    uint32_t near_n;       /* NEAR: at most this many words between a and b */
    bool has_type;         /* ENTITY: a type is required */
    ww_ent_type_t type;    /* ENTITY: that type */
    char *name_fold;       /* ENTITY: case-folded name, NULL when none */
    size_t name_fold_len;  /* its length */
    uint64_t name_hash;    /* ENTITY with name: ww_rx_word_hash of name_fold */
    ww_rx_term_t name_words; /* ENTITY with name: the name's folded words */
    ww_rx_node_t **kids;   /* AND/OR: >= 2 kids; NOT: 1 kid; owned */
    size_t n_kids;
};

/* Parses a match expression. Returns the tree (caller owns, ww_rx_free), or
 * NULL with *err_off = byte offset of the offending token in expr and a
 * message (without position) in msg. */
ww_rx_node_t *ww_rx_parse(const char *expr, size_t len, size_t *err_off, char *msg,
                          size_t msglen);
/* Frees a tree. NULL-safe. */
void ww_rx_free(ww_rx_node_t *n);
/* Canonical text of a tree, e.g. (AND tariff* (NOT title:opinion)); equal trees
 * give equal text. Used for the rules version and for tests. Caller owns. */
char *ww_rx_to_string(const ww_rx_node_t *n);
/* Ent type name table (independent of event.c): "PER" ... ; NULL if out of range. */
const char *ww_rx_ent_type_name(ww_ent_type_t t);

/* ---- the prepared event ------------------------------------------------------ */

/* One slot of a field's word table (open addressing), 16 bytes so that a
 * 5 KB body's table stays in L1: the tag is the hash's high half, a tag
 * match is confirmed with the full hash of token `first`. */
typedef struct {
    uint32_t tag;   /* folded word hash >> 32 */
    uint32_t first; /* first token with that word */
    uint32_t last;  /* last token with it (to append to the chain) */
    uint32_t stamp; /* slot valid when equal to the field's stamp */
} ww_rx_wslot_t;

/* One field, tokenized once per event. Words are found through a hash table
 * (no sorting): each distinct word's occurrences form an ascending chain. */
typedef struct {
    const char *text;      /* the field (borrowed from the event), "" when absent */
    size_t len;            /* its length */
    ww_tokens_t toks;      /* its words that passed the view's filter (all without one), in text order */
    uint32_t *pos;         /* per stored token: its word number in the field (0, 1, ...) */
    size_t cap_pos;
    size_t n_words;        /* words in the field, stored or not */
    uint32_t *next;        /* per token: next token with the same word, UINT32_MAX at the end */
    uint32_t *uniq;        /* first token of each distinct word, in text order */
    size_t n_uniq;         /* number of distinct words */
    size_t cap_next, cap_uniq;
    ww_rx_wslot_t *tab;    /* word table, size tab_mask + 1 (power of two) */
    size_t tab_mask;
    uint32_t stamp;        /* current generation of tab */
    bool fb_ready;         /* fb_* valid for this event (built on the first prefix search) */
    uint32_t fb_start[257]; /* distinct words by first folded byte: fb_word[fb_start[c] .. fb_start[c+1]) */
    uint32_t *fb_word;     /* first tokens of distinct words, grouped by first byte, text order within */
    size_t cap_fb;
} ww_rx_field_t;

/* One distinct entity string (a canonical or a text as written) and its
 * folded forms, kept across events: news names recur, so most entities of
 * an event are found here by their raw bytes and folded only once. */
typedef struct {
    uint64_t raw_hash;           /* ww_hash_bytes of the raw string */
    uint32_t raw_off, raw_len;   /* the raw string in pool */
    uint32_t fold_off, fold_len; /* its case folding in pool */
    uint64_t fold_hash;          /* ww_rx_word_hash of the folding */
    uint32_t w_off, w_n;         /* its words in the word arrays; w_n == UINT32_MAX: not split yet */
    uint32_t cstamp, tstamp;     /* event epoch when last used as a canonical / as a text */
} ww_rx_name_t;

/* Per-entity folded forms, built on demand. */
typedef struct {
    uint32_t canon_off, canon_len; /* folded canonical in pool */
    uint32_t text_off, text_len;   /* folded text in pool */
    uint32_t w_off, w_n;           /* canonical's words in the word arrays */
    uint64_t canon_hash, text_hash; /* ww_rx_word_hash of the folded canonical / text */
    bool canon_repeat;             /* an earlier entity has the same folded canonical (shares its forms) */
    bool text_repeat;              /* an earlier entity has the same folded text */
} ww_rx_entinfo_t;

/* The view of one event the evaluator reads. Reused between events: no
 * allocation once its buffers have grown. */
typedef struct {
    const ww_event_t *ev;           /* borrowed */
    ww_rx_field_t f[WW_RX_F__COUNT];
    uint32_t *occ;                  /* stack of occurrence lists (token indices) */
    size_t n_occ, cap_occ;
    bool ents_ready;                /* ei valid for this event */
    ww_rx_entinfo_t *ei;
    size_t cap_ei;
    /* the name cache, kept across events (emptied between events when it
     * outgrows its bounds): raw and folded entity strings and their words */
    char *pool;                     /* raw and folded strings, 8 readable bytes past pool_len */
    size_t pool_len, pool_cap;
    uint32_t *w_off, *w_len;        /* canonical words: offset/len in pool */
    uint64_t *w_hash;               /* and hash */
    size_t w_n, w_cap;
    ww_rx_name_t *names;            /* distinct strings */
    size_t n_names, cap_names;
    uint32_t *etab;                 /* raw hash -> name index + 1 (0 empty), size etab_cap */
    size_t etab_cap;                /* power of two, at least twice n_names */
    uint32_t epoch;                 /* current event (for the names' stamps) */
    int32_t *cp;                    /* code point buffer for folding */
    size_t cap_cp;
    ww_tokens_t tmp;                /* tokenizing entity names */
    uint32_t *wb;                   /* word starts and ends while tokenizing */
    size_t cap_wb;
    uint32_t *ecand;                /* candidate entities of one name test */
    size_t cap_ecand;
} ww_rx_view_t;

void ww_rx_view_init(ww_rx_view_t *v);
void ww_rx_view_deinit(ww_rx_view_t *v);
/* Tokenizes and indexes every field of ev (borrowed until the next prepare).
 * With a filter, only the words it keeps are stored and indexed: then the
 * view answers only for terms of the rule set the filter was made from. */
void ww_rx_view_prepare(ww_rx_view_t *v, const ww_event_t *ev, const ww_rx_filter_t *flt);
/* First token of field fi whose folded word hashes to h, UINT32_MAX when
 * none; follow v->f[fi].next for the others (ascending). */
uint32_t ww_rx_field_find(const ww_rx_field_t *f, uint64_t h);
/* Builds the folded forms of the event's entities (idempotent per event). */
void ww_rx_view_need_ents(ww_rx_view_t *v);

/* True when the expression matches the prepared event. */
bool ww_rx_eval(const ww_rx_node_t *n, ww_rx_view_t *v);
/* Appends the positive evidence of n (terms not under NOT that match) to hit,
 * without duplicates. Call only after ww_rx_eval said true. */
void ww_rx_evidence(const ww_rx_node_t *n, ww_rx_view_t *v, ww_hit_t *hit);

/* Multi-line explanation of n on the prepared event (see ww_rules_explain).
 * Caller owns. */
char *ww_rx_explain(const ww_rx_node_t *n, ww_rx_view_t *v, bool *matched);

/* Appends one match to hit unless an equal one is there; value is copied
 * (vlen bytes). Defined in rules.c. */
void ww_rules_hit_add(ww_hit_t *hit, ww_match_kind_t kind, const char *value, size_t vlen,
                      ww_ent_type_t type, bool has_pos, ww_field_t field, uint32_t start,
                      uint32_t end, uint32_t count);

/* Reference evaluation for tests: every rule's tree is evaluated directly,
 * without the index. Same output contract as ww_rules_eval. */
size_t ww_rules_eval_brute(const ww_ruleset_t *rs, const ww_event_t *ev, ww_rules_scratch_t *s,
                           ww_hits_t *out);
/* The parsed tree of rule i (borrowed). */
const ww_rx_node_t *ww_rules_tree(const ww_ruleset_t *rs, size_t i);
/* Empties the entity-name cache of a scratch (benchmarks: every pass over
 * the same events starts as a stream of new events would). */
void ww_rules_scratch_forget_names(ww_rules_scratch_t *s);
/* The word filter of a rule set (borrowed). */
const ww_rx_filter_t *ww_rules_filter(const ww_ruleset_t *rs);
/* How many rules the index cannot skip (evaluated for every event). */
size_t ww_rules_always_count(const ww_ruleset_t *rs);

#endif
