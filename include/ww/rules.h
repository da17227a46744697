/* rules.h - the rule language (SPEC §5): rules files, match expressions and
 * their evaluation against an enriched event.
 *
 * A ruleset is immutable once loaded and may be shared by threads; each
 * thread evaluates with its own ww_rules_scratch_t. */
#ifndef WW_RULES_H
#define WW_RULES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ww/event.h"

typedef enum {
    WW_SEV_INFO = 0,
    WW_SEV_LOW,
    WW_SEV_MEDIUM,
    WW_SEV_HIGH,
    WW_SEV_CRITICAL
} ww_severity_t;

/* "info" ... "critical". Borrowed (static). */
const char *ww_severity_name(ww_severity_t s);

/* What a threshold/spike/cooldown counts per. */
typedef enum { WW_PER_RULE = 0, WW_PER_ENTITY, WW_PER_STORY } ww_per_t;

typedef struct {
    char *id;           /* unique within the file */
    char *channel;      /* publish channel (subscription prefix) */
    ww_severity_t severity; /* default info */
    char *match;        /* the match expression as written */
    int64_t cooldown_ms; /* 0: none */
    struct {
        bool on;
        uint32_t count;   /* events within window */
        int64_t window_ms;
        ww_per_t per;
    } threshold;
    struct {
        bool on;
        int64_t window_ms, baseline_ms;
        double factor;
        uint32_t min;
        ww_per_t per;
    } spike;
    int line;           /* where the rule starts in its file */
} ww_rule_t;

typedef struct ww_ruleset ww_ruleset_t;

/* Parses a rules file. On any error returns NULL and writes
 * "FILE:LINE:COL: message" into err (whole file rejected). Caller owns. */
ww_ruleset_t *ww_rules_load_file(const char *path, char *err, size_t errlen);
/* The same from memory; `name` stands for the file name in messages. */
ww_ruleset_t *ww_rules_load_buffer(const char *buf, size_t len, const char *name, char *err,
                                   size_t errlen);
void ww_rules_destroy(ww_ruleset_t **rs);

size_t ww_rules_count(const ww_ruleset_t *rs);
/* Borrowed until the ruleset is destroyed. */
const ww_rule_t *ww_rules_get(const ww_ruleset_t *rs, size_t i);
/* 16 hex digits identifying the rule set's content. Borrowed. */
const char *ww_rules_version(const ww_ruleset_t *rs);

/* One reason a rule matched, reported in the alert's `matches`. */
typedef enum { WW_MATCH_KEYWORD = 0, WW_MATCH_ENTITY, WW_MATCH_THRESHOLD, WW_MATCH_SPIKE } ww_match_kind_t;
const char *ww_match_kind_name(ww_match_kind_t k);

typedef struct {
    ww_match_kind_t kind;
    char *value;        /* keyword: the matched text as written in the event; entity: canonical name */
    ww_ent_type_t type; /* entity only */
    bool has_pos;       /* field/start/end apply */
    ww_field_t field;
    uint32_t start, end; /* byte offsets in the field */
    uint32_t count;      /* entity mentions, threshold count */
} ww_match_t;

/* The rules that matched one event, in rule order. */
typedef struct {
    const ww_rule_t *rule; /* borrowed from the ruleset */
    size_t rule_index;
    ww_match_t *matches;   /* positive evidence, owned by the hits object */
    size_t n_matches, cap_matches;
} ww_hit_t;

typedef struct {
    ww_hit_t *hits;
    size_t n, cap;
} ww_hits_t;

void ww_hits_init(ww_hits_t *h);
/* Frees every hit's matches and empties the list (keeps capacity). */
void ww_hits_reset(ww_hits_t *h);
void ww_hits_deinit(ww_hits_t *h);

/* Per-thread evaluation state (token buffers, candidate sets). */
typedef struct ww_rules_scratch ww_rules_scratch_t;
ww_rules_scratch_t *ww_rules_scratch_new(void);
void ww_rules_scratch_destroy(ww_rules_scratch_t **s);

/* Evaluates every rule's match expression on ev and appends the matching rules
 * to out (which is reset first). Threshold/spike/cooldown are NOT applied here:
 * they need state and are the alert stage's job. Returns the number of hits. */
size_t ww_rules_eval(const ww_ruleset_t *rs, const ww_event_t *ev, ww_rules_scratch_t *s,
                     ww_hits_t *out);

/* ---- cost accounting ---------------------------------------------------------- */

/* Every WW_RULES_SAMPLE-th event's verifications are timed. */
#define WW_RULES_SAMPLE 16

/* What verifying one rule has cost in one scratch since the rule set was
 * first evaluated with it (or the last reset). */
typedef struct {
    uint64_t evals;    /* times the rule was verified exactly (it was a candidate) */
    uint64_t hits;     /* times it matched */
    uint64_t timed;    /* verifications that were timed (sampled) */
    uint64_t timed_ns; /* their total time; timed_ns / timed estimates one verification */
} ww_rule_cost_t;

/* The per-rule counters of s for rs (indexed like the rules), NULL when s has
 * not evaluated rs. *n = rule count, *events = events evaluated, *candidates
 * = verifications in all (each may be NULL). Borrowed until the next eval. */
const ww_rule_cost_t *ww_rules_costs(const ww_rules_scratch_t *s, const ww_ruleset_t *rs,
                                     size_t *n, uint64_t *events, uint64_t *candidates);
/* Zeroes the counters. */
void ww_rules_costs_reset(ww_rules_scratch_t *s);
/* Milliseconds ww_rules_load_* spent parsing, validating and indexing. */
double ww_rules_compile_ms(const ww_ruleset_t *rs);

/* ---- explanations --------------------------------------------------------------- */

/* True when the index makes rule i a candidate for ev (it is then verified
 * exactly); a rule that is not a candidate cannot match. */
bool ww_rules_is_candidate(const ww_ruleset_t *rs, const ww_event_t *ev, ww_rules_scratch_t *s,
                           size_t i);
/* Explains rule i's match expression on ev, one line per node of the
 * expression (indented like the tree): matched or not, where each term and
 * entity matched (field and byte offsets) or that it is absent, and which
 * condition failed. *matched (may be NULL) gets the verdict. Caller owns. */
char *ww_rules_explain(const ww_ruleset_t *rs, size_t i, const ww_event_t *ev,
                       ww_rules_scratch_t *s, bool *matched);

#endif
