/* test_rules.c - the rule language (SPEC §5): every construct of the match
 * grammar, evidence offsets, every rules-file error with its exact line and
 * column, version stability, and a property test proving that indexed
 * evaluation equals brute-force evaluation and an independent naive matcher. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/rules_internal.h"
#include "ww/alloc.h"
#include "ww/event.h"
#include "ww/rules.h"
#include "ww/text.h"
#include "ww/extract.h"
#include "wwtest.h"
#include <jansson.h>

/* ---- helpers ------------------------------------------------------------------ */

static ww_event_t *mk_event(const char *title, const char *body)
{
    ww_event_t *ev = ww_event_new();
    ev->title = ww_strdup(title);
    ev->body = ww_strdup(body);
    return ev;
}

/* expr as the body of a single-quoted YAML scalar ('' for '). Caller frees. */
static char *yaml_quote(const char *expr)
{
    char *q = ww_malloc(2 * strlen(expr) + 1), *d = q;
    for (const char *p = expr; *p; p++) {
        if (*p == '\'')
            *d++ = '\'';
        *d++ = *p;
    }
    *d = '\0';
    return q;
}

/* A rules file with one rule per expression, ids r0, r1, ... */
static ww_ruleset_t *load_exprs(const char *const *exprs, size_t n)
{
    char *buf = ww_strdup("rules:\n");
    for (size_t i = 0; i < n; i++) {
        char *q = yaml_quote(exprs[i]);
        char *next = ww_asprintf("%s  - id: r%zu\n    channel: c.%zu\n    match: '%s'\n", buf, i, i, q);
        ww_free(q);
        ww_free(buf);
        buf = next;
    }
    char err[512];
    ww_ruleset_t *rs = ww_rules_load_buffer(buf, strlen(buf), "t.yaml", err, sizeof err);
    if (!rs)
        fail_msg("load failed: %s", err);
    ww_free(buf);
    return rs;
}

/* Does expression `expr` match the event? (also checks brute == indexed) */
static bool matches(const char *expr, const ww_event_t *ev)
{
    const char *exprs[1] = {expr};
    ww_ruleset_t *rs = load_exprs(exprs, 1);
    ww_rules_scratch_t *s = ww_rules_scratch_new();
    ww_hits_t h;
    ww_hits_init(&h);
    size_t n = ww_rules_eval(rs, ev, s, &h);
    size_t nb = ww_rules_eval_brute(rs, ev, s, &h);
    assert_int_equal(n, nb);
    ww_hits_deinit(&h);
    ww_rules_scratch_destroy(&s);
    ww_rules_destroy(&rs);
    return n == 1;
}

static bool match_tb(const char *expr, const char *title, const char *body)
{
    ww_event_t *ev = mk_event(title, body);
    bool m = matches(expr, ev);
    ww_event_destroy(&ev);
    return m;
}

/* Canonical tree text of an expression (caller frees). */
static char *tree_of(const char *expr)
{
    char msg[256];
    size_t off;
    ww_rx_node_t *n = ww_rx_parse(expr, strlen(expr), &off, msg, sizeof msg);
    if (!n)
        fail_msg("parse '%s' failed at %zu: %s", expr, off, msg);
    char *s = ww_rx_to_string(n);
    ww_rx_free(n);
    return s;
}

static void assert_tree(const char *expr, const char *want)
{
    char *got = tree_of(expr);
    assert_string_equal(got, want);
    ww_free(got);
}

static size_t off_of(const char *hay, const char *needle)
{
    const char *p = strstr(hay, needle);
    assert_non_null(p);
    return (size_t)(p - hay);
}

/* ---- words, phrases, prefixes ------------------------------------------------------- */

static void test_word(void **state)
{
    (void)state;
    assert_true(match_tb("china", "Trade with China grows", ""));
    assert_true(match_tb("CHINA", "", "talks in china today"));
    assert_false(match_tb("china", "Chinese exports", "Indochina"));
    /* China's is china + s */
    assert_true(match_tb("china", "China's exports", ""));
    assert_true(match_tb("s", "China's exports", ""));
    /* Unicode case folding */
    assert_true(match_tb("zürich", "Banks in ZÜRICH rally", ""));
    assert_true(match_tb("ZÜRICH", "", "zürich"));
    assert_true(match_tb("Zürich", "", "Zürich's mayor"));
    assert_false(match_tb("zurich", "", "Zürich"));
    assert_true(match_tb("straße", "", "HAUPTSTRASSE closed"
                                       " STRASSE"));
    /* lower-case and/or/not/near are plain words */
    assert_true(match_tb("and", "Salt and pepper", ""));
    assert_false(match_tb("or", "Salt and pepper", ""));
    assert_true(match_tb("near", "near the border", ""));
    /* digits are words */
    assert_true(match_tb("2024", "The 2024 election", ""));
    /* an event without title or body */
    ww_event_t *ev = ww_event_new();
    assert_false(matches("china", ev));
    assert_true(matches("NOT china", ev));
    ww_event_destroy(&ev);
}

static void test_phrase(void **state)
{
    (void)state;
    assert_true(match_tb("\"export control\"", "", "new export-control rules"));
    assert_true(match_tb("\"export control\"", "", "EXPORT  CONTROL"));
    assert_true(match_tb("\"export-control\"", "", "export control"));
    assert_false(match_tb("\"export control\"", "", "export of control"));
    assert_false(match_tb("\"export control\"", "", "control export"));
    /* not across title and body */
    assert_false(match_tb("\"export control\"", "an export", "control"));
    /* unquoted punctuation makes a phrase too */
    assert_true(match_tb("export-control", "", "Export control regime"));
    assert_false(match_tb("export-control", "", "export and control"));
    assert_tree("export-control", "\"export control\"");
    /* a one-word phrase is a word */
    assert_true(match_tb("\"China\"", "", "china's"));
    assert_tree("\"China\"", "china");
    /* three words */
    assert_true(match_tb("\"bank of england\"", "", "The Bank of England's rate"));
    assert_false(match_tb("\"bank of england\"", "", "The Bank of New England"));
}

static void test_prefix(void **state)
{
    (void)state;
    assert_true(match_tb("tariff*", "New TARIFFS announced", ""));
    assert_true(match_tb("tariff*", "", "a tariff"));
    assert_false(match_tb("tariff*", "", "stariffs"));
    assert_false(match_tb("tariffs*", "", "tariff"));
    assert_true(match_tb("zür*", "", "ZÜRICHSEE"));
    assert_true(match_tb("title:sanction*", "Sanctioned banks", ""));
    assert_false(match_tb("title:sanction*", "", "Sanctioned banks"));
    /* an unquoted phrase whose last word is a prefix */
    assert_true(match_tb("export-contr*", "", "export controls"));
    assert_false(match_tb("export-contr*", "", "export of controls"));
}

static void test_scopes(void **state)
{
    (void)state;
    ww_event_t *ev = mk_event("Opinion: the tariff war", "Economists say trade suffers.");
    ev->source = ww_strdup("https://news.example.org/world.xml");
    ev->lang = ww_strdup("en-GB");
    assert_true(matches("title:tariff", ev));
    assert_false(matches("body:tariff", ev));
    assert_true(matches("body:trade", ev));
    assert_false(matches("title:trade", ev));
    assert_true(matches("trade tariff", ev));
    assert_true(matches("title:(economists OR war)", ev));
    assert_false(matches("title:(economists OR peace)", ev));
    assert_true(matches("title:\"tariff war\"", ev));
    assert_false(matches("body:\"tariff war\"", ev));
    assert_false(matches("tariff NOT title:opinion", ev));
    assert_true(matches("tariff NOT body:opinion", ev));
    assert_true(matches("source:example", ev));
    assert_true(matches("source:\"news example org\"", ev));
    assert_true(matches("source:news.example.org", ev));
    assert_false(matches("example", ev)); /* unscoped: title and body only */
    assert_true(matches("lang:en", ev));
    assert_true(matches("lang:gb", ev));
    assert_false(matches("lang:fr", ev));
    assert_false(matches("title:en", ev));
    assert_true(matches("title:(tariff AND NOT peace)", ev));
    ww_event_destroy(&ev);
}

static void test_near(void **state)
{
    (void)state;
    const char *body = "oil prices rose after the summit ended";
    /* oil(0) prices(1) rose(2) after(3) the(4) summit(5) ended(6): 4 words between */
    assert_true(match_tb("oil NEAR/4 summit", "", body));
    assert_false(match_tb("oil NEAR/3 summit", "", body));
    assert_true(match_tb("summit NEAR/4 oil", "", body));
    assert_false(match_tb("summit NEAR/3 oil", "", body));
    assert_true(match_tb("oil NEAR/0 prices", "", body));
    assert_true(match_tb("prices NEAR/0 oil", "", body));
    assert_false(match_tb("oil NEAR/0 rose", "", body));
    assert_true(match_tb("\"oil prices\" NEAR/2 the", "", body));
    assert_false(match_tb("\"oil prices\" NEAR/1 the", "", body));
    assert_true(match_tb("summ* NEAR/2 rose", "", body));
    assert_false(match_tb("summ* NEAR/1 rose", "", body));
    /* the two sides must be distinct words */
    assert_false(match_tb("oil NEAR/5 oil", "", body));
    assert_true(match_tb("oil NEAR/5 oil", "", "oil and more oil"));
    /* not across fields, and scoped */
    assert_false(match_tb("oil NEAR/10 summit", "oil", "summit"));
    assert_true(match_tb("title:oil NEAR/2 gas", "oil and gas", "oil"));
    assert_false(match_tb("title:oil NEAR/2 gas", "oil", "oil and gas"));
    assert_true(match_tb("body:(oil NEAR/2 gas)", "oil", "oil and gas"));
    /* NEAR binds tighter than AND, NOT applies to it */
    assert_tree("a b NEAR/2 c", "(AND a (NEAR/2 b c))");
    assert_tree("NOT a NEAR/2 c", "(NOT (NEAR/2 a c))");
    /* many occurrences: the pair exists far into the text */
    char big[8192] = "";
    for (int i = 0; i < 300; i++)
        strcat(big, i == 250 ? "alpha x beta y y y y " : "alpha y y y y beta y y y y ");
    assert_true(match_tb("alpha NEAR/1 beta", "", big));
    assert_false(match_tb("alpha NEAR/0 beta", "", big));
    assert_true(match_tb("beta NEAR/4 alpha", "", big));
    assert_false(match_tb("beta NEAR/3 gamma", "", big));
}

static void test_entities(void **state)
{
    (void)state;
    ww_event_t *ev = mk_event("Li meets Zürich bankers", "Premier Li Qiang visited China.");
    ww_event_add_entity(ev, "Li", "Li Qiang", WW_ENT_PER, WW_FIELD_TITLE, 0, 2, 2);
    ww_event_add_entity(ev, "China", "People's Republic of China", WW_ENT_LOC, WW_FIELD_BODY, 25, 30, 1);
    ww_event_add_entity(ev, "Zürich", "Zürich", WW_ENT_LOC, WW_FIELD_TITLE, 9, 16, 1);
    assert_true(matches("entity:PER", ev));
    assert_true(matches("entity:LOC", ev));
    assert_false(matches("entity:ORG", ev));
    assert_true(matches("entity:per", ev)); /* type names are case-insensitive */
    assert_true(matches("entity:PER:\"Li Qiang\"", ev));
    assert_true(matches("entity:PER:\"li qiang\"", ev));
    assert_true(matches("entity:\"LI QIANG\"", ev));
    assert_true(matches("entity:PER:\"Qiang\"", ev)); /* last word of the canonical */
    assert_true(matches("entity:PER:Li", ev));        /* first word / the text */
    assert_false(matches("entity:LOC:\"Li Qiang\"", ev));
    assert_false(matches("entity:\"Li Q\"", ev));
    assert_true(matches("entity:LOC:China", ev)); /* the mention's text */
    assert_true(matches("entity:LOC:\"people's republic of china\"", ev));
    assert_true(matches("entity:LOC:\"Republic of China\"", ev)); /* trailing words */
    assert_true(matches("entity:LOC:\"People's Republic\"", ev));  /* leading words */
    assert_false(matches("entity:LOC:\"Republic\"", ev));          /* a middle word */
    assert_true(matches("entity:\"ZÜRICH\"", ev));
    assert_true(matches("entity:LOC:zürich", ev));
    assert_false(matches("entity:\"Zurich\"", ev));
    assert_true(matches("NOT entity:ORG", ev));
    assert_true(matches("entity:PER AND title:meets", ev));
    /* Name matching is whole: not a substring of a word */
    assert_false(matches("entity:\"Qian\"", ev));
    ww_event_destroy(&ev);
}

static void test_operators(void **state)
{
    (void)state;
    assert_tree("a OR b c", "(OR a (AND b c))");
    assert_tree("a b OR c", "(OR (AND a b) c)");
    assert_tree("a AND b OR c AND d", "(OR (AND a b) (AND c d))");
    assert_tree("NOT a b", "(AND (NOT a) b)");
    assert_tree("NOT (a b)", "(NOT (AND a b))");
    assert_tree("a (b OR c)", "(AND a (OR b c))");
    assert_tree("a AND b AND (c AND d)", "(AND a b c d)");
    assert_tree("NOT NOT a", "(NOT (NOT a))");
    assert_tree("title:(a OR b) c", "(AND (OR title:a title:b) c)");
    assert_tree("entity:PER:\"Li  Qiang\"", "entity:PER:\"li  qiang\"");
    const char *t = "alpha beta";
    const char *b = "gamma";
    assert_true(match_tb("alpha AND gamma", t, b));
    assert_true(match_tb("alpha gamma", t, b));
    assert_false(match_tb("alpha delta", t, b));
    assert_true(match_tb("delta OR gamma", t, b));
    assert_false(match_tb("NOT alpha", t, b));
    assert_true(match_tb("NOT delta", t, b));
    /* precedence: NOT > AND > OR */
    assert_true(match_tb("delta OR alpha gamma", t, b));
    assert_false(match_tb("(delta OR alpha) NOT gamma", t, b));
    assert_true(match_tb("delta OR NOT delta", t, b));
    assert_false(match_tb("NOT (alpha OR delta)", t, b));
    assert_true(match_tb("NOT alpha OR gamma", t, b));
    assert_false(match_tb("NOT (alpha gamma)", t, b));
    /* a pure negation rule matches events without the word */
    assert_true(match_tb("NOT opinion", "news", ""));
    assert_false(match_tb("NOT opinion", "opinion", ""));
}

/* ---- evidence ---------------------------------------------------------------------- */

static const ww_match_t *find_match(const ww_hit_t *h, ww_match_kind_t kind, const char *value)
{
    for (size_t i = 0; i < h->n_matches; i++)
        if (h->matches[i].kind == kind && strcmp(h->matches[i].value, value) == 0)
            return &h->matches[i];
    return NULL;
}

static void test_evidence(void **state)
{
    (void)state;
    const char *title = "Tariffs hit China's steel";
    const char *body = "Officials said the EXPORT-control regime and new tariffs would stay. "
                       "Opinion pieces differ; China responded via Li.";
    ww_event_t *ev = mk_event(title, body);
    ev->source = ww_strdup("wire:asia");
    ww_event_add_entity(ev, "China", "China", WW_ENT_LOC, WW_FIELD_TITLE, 12, 17, 2);
    ww_event_add_entity(ev, "China", "China", WW_ENT_LOC, WW_FIELD_BODY,
                        (uint32_t)off_of(body, "China"), (uint32_t)off_of(body, "China") + 5, 2);
    ww_event_add_entity(ev, "Li", "Li Qiang", WW_ENT_PER, WW_FIELD_BODY, (uint32_t)off_of(body, "Li."),
                        (uint32_t)off_of(body, "Li."
                                               ) + 2, 1);
    const char *exprs[] = {
        "tariff* china \"export control\" NOT title:opinion",
        "(china OR china) AND (steel OR steel)",
        "export NEAR/4 tariffs",
        "entity:LOC OR entity:\"Qiang\"",
        "source:asia NOT opinion",
        "NOT nothing",
        "china NOT steel",
    };
    ww_ruleset_t *rs = load_exprs(exprs, sizeof exprs / sizeof exprs[0]);
    ww_rules_scratch_t *s = ww_rules_scratch_new();
    ww_hits_t h;
    ww_hits_init(&h);
    size_t n = ww_rules_eval(rs, ev, s, &h);
    assert_int_equal(n, 5);
    assert_int_equal(h.hits[0].rule_index, 0);
    assert_int_equal(h.hits[1].rule_index, 1);
    assert_int_equal(h.hits[2].rule_index, 2);
    assert_int_equal(h.hits[3].rule_index, 3);
    assert_int_equal(h.hits[4].rule_index, 5);
    assert_string_equal(h.hits[0].rule->id, "r0");

    /* rule 0: three keyword matches, first occurrences, text as written */
    const ww_hit_t *h0 = &h.hits[0];
    assert_int_equal(h0->n_matches, 3);
    assert_int_equal(h0->matches[0].kind, WW_MATCH_KEYWORD);
    assert_string_equal(h0->matches[0].value, "Tariffs");
    assert_true(h0->matches[0].has_pos);
    assert_int_equal(h0->matches[0].field, WW_FIELD_TITLE);
    assert_int_equal(h0->matches[0].start, 0);
    assert_int_equal(h0->matches[0].end, 7);
    assert_string_equal(h0->matches[1].value, "China");
    assert_int_equal(h0->matches[1].field, WW_FIELD_TITLE);
    assert_int_equal(h0->matches[1].start, 12);
    assert_int_equal(h0->matches[1].end, 17);
    assert_string_equal(h0->matches[2].value, "EXPORT-control");
    assert_int_equal(h0->matches[2].field, WW_FIELD_BODY);
    assert_int_equal(h0->matches[2].start, off_of(body, "EXPORT"));
    assert_int_equal(h0->matches[2].end, off_of(body, "EXPORT") + 14);

    /* rule 1: duplicates of the same term are reported once */
    assert_int_equal(h.hits[1].n_matches, 2);
    assert_string_equal(h.hits[1].matches[0].value, "China");
    assert_string_equal(h.hits[1].matches[1].value, "steel");

    /* rule 2: NEAR evidence spans both sides, in text order */
    const ww_hit_t *h2 = &h.hits[2];
    assert_int_equal(h2->n_matches, 1);
    assert_string_equal(h2->matches[0].value, "EXPORT-control regime and new tariffs");
    assert_int_equal(h2->matches[0].start, off_of(body, "EXPORT"));

    /* rule 3: entities, one per canonical, first mention, count */
    const ww_hit_t *h3 = &h.hits[3];
    assert_int_equal(h3->n_matches, 2);
    const ww_match_t *mc = find_match(h3, WW_MATCH_ENTITY, "China");
    assert_non_null(mc);
    assert_int_equal(mc->type, WW_ENT_LOC);
    assert_int_equal(mc->field, WW_FIELD_TITLE);
    assert_int_equal(mc->start, 12);
    assert_int_equal(mc->end, 17);
    assert_int_equal(mc->count, 2);
    const ww_match_t *ml = find_match(h3, WW_MATCH_ENTITY, "Li Qiang");
    assert_non_null(ml);
    assert_int_equal(ml->type, WW_ENT_PER);
    assert_int_equal(ml->field, WW_FIELD_BODY);
    assert_int_equal(ml->start, off_of(body, "Li."));
    assert_int_equal(ml->count, 1);

    /* rule 5: NOT contributes no evidence */
    assert_int_equal(h.hits[4].n_matches, 0);
    ww_hits_deinit(&h);

    /* source-scoped evidence has no position; NOT title:opinion does not block */
    ww_free(ev->title);
    ev->title = ww_strdup("Quiet day");
    ww_free(ev->body);
    ev->body = ww_strdup("no news today");
    ww_hits_init(&h);
    n = ww_rules_eval(rs, ev, s, &h);
    assert_int_equal(n, 3); /* rules 3 (entities), 4 (source), 5 */
    assert_int_equal(h.hits[1].rule_index, 4);
    assert_int_equal(h.hits[1].n_matches, 1);
    assert_int_equal(h.hits[1].matches[0].kind, WW_MATCH_KEYWORD);
    assert_string_equal(h.hits[1].matches[0].value, "asia");
    assert_false(h.hits[1].matches[0].has_pos);
    /* reuse: a second evaluation resets the list */
    n = ww_rules_eval(rs, ev, s, &h);
    assert_int_equal(n, 3);
    assert_int_equal(h.n, 3);
    ww_hits_deinit(&h);
    ww_rules_scratch_destroy(&s);
    ww_rules_destroy(&rs);
    ww_event_destroy(&ev);
}

/* ---- rules files --------------------------------------------------------------- */

static void test_load_fields(void **state)
{
    (void)state;
    const char *y = "# sample\n"
                    "rules:\n"
                    "  - id: asia-trade\n"
                    "    channel: trade.asia\n"
                    "    severity: high\n"
                    "    match: 'tariff* AND (entity:LOC:\"China\" OR entity:PER:\"Li Qiang\") AND NOT title:opinion'\n"
                    "    cooldown: 10m\n"
                    "  - id: person-surge\n"
                    "    channel: trending.people\n"
                    "    match: entity:PER\n"
                    "    threshold: { count: 5, window: 10m, per: entity }\n"
                    "  - id: org-spike\n"
                    "    channel: trending.orgs\n"
                    "    match: |\n"
                    "      entity:ORG\n"
                    "    spike: { window: 1h, baseline: 24h, factor: 2.5, min: 4, per: story }\n"
                    "  - id: plain.v2:x_y\n"
                    "    channel: 'ünïcode/chan'\n"
                    "    match: \"a\"\n"
                    "    spike: { window: 30s, baseline: 1d, factor: 3 }\n";
    char err[256];
    ww_ruleset_t *rs = ww_rules_load_buffer(y, strlen(y), "r.yaml", err, sizeof err);
    assert_non_null(rs);
    assert_int_equal(ww_rules_count(rs), 4);
    const ww_rule_t *r = ww_rules_get(rs, 0);
    assert_string_equal(r->id, "asia-trade");
    assert_string_equal(r->channel, "trade.asia");
    assert_int_equal(r->severity, WW_SEV_HIGH);
    assert_string_equal(r->match,
                        "tariff* AND (entity:LOC:\"China\" OR entity:PER:\"Li Qiang\") AND NOT title:opinion");
    assert_int_equal(r->cooldown_ms, 600000);
    assert_false(r->threshold.on);
    assert_false(r->spike.on);
    assert_int_equal(r->line, 3);
    r = ww_rules_get(rs, 1);
    assert_int_equal(r->severity, WW_SEV_INFO);
    assert_true(r->threshold.on);
    assert_int_equal(r->threshold.count, 5);
    assert_int_equal(r->threshold.window_ms, 600000);
    assert_int_equal(r->threshold.per, WW_PER_ENTITY);
    assert_int_equal(r->cooldown_ms, 0);
    assert_int_equal(r->line, 8);
    r = ww_rules_get(rs, 2);
    assert_true(r->spike.on);
    assert_int_equal(r->spike.window_ms, 3600000);
    assert_int_equal(r->spike.baseline_ms, 86400000);
    assert_true(r->spike.factor > 2.49 && r->spike.factor < 2.51);
    assert_int_equal(r->spike.min, 4);
    assert_int_equal(r->spike.per, WW_PER_STORY);
    r = ww_rules_get(rs, 3);
    assert_string_equal(r->id, "plain.v2:x_y");
    assert_string_equal(r->channel, "ünïcode/chan");
    assert_int_equal(r->spike.min, 1);
    assert_int_equal(r->spike.per, WW_PER_RULE);
    assert_int_equal(r->spike.window_ms, 30000);
    assert_null(ww_rules_get(rs, 4));
    assert_string_equal(ww_severity_name(WW_SEV_CRITICAL), "critical");
    assert_string_equal(ww_match_kind_name(WW_MATCH_SPIKE), "spike");
    ww_rules_destroy(&rs);
    assert_null(rs);

    /* an empty list is a valid (empty) rule set */
    rs = ww_rules_load_buffer("rules: []\n", 10, "e.yaml", err, sizeof err);
    assert_non_null(rs);
    assert_int_equal(ww_rules_count(rs), 0);
    ww_event_t *ev = mk_event("x", "y");
    ww_rules_scratch_t *s = ww_rules_scratch_new();
    ww_hits_t h;
    ww_hits_init(&h);
    assert_int_equal(ww_rules_eval(rs, ev, s, &h), 0);
    ww_hits_deinit(&h);
    ww_rules_scratch_destroy(&s);
    ww_event_destroy(&ev);
    ww_rules_destroy(&rs);
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/ww_test_rules_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *y = "rules:\n  - id: a\n    channel: c\n    match: 'x y'\n";
    assert_int_equal(write(fd, y, strlen(y)), (ssize_t)strlen(y));
    close(fd);
    char err[512];
    ww_ruleset_t *rs = ww_rules_load_file(path, err, sizeof err);
    assert_non_null(rs);
    assert_int_equal(ww_rules_count(rs), 1);
    ww_rules_destroy(&rs);
    /* errors name the path */
    fd = open(path, O_WRONLY | O_TRUNC);
    const char *bad = "rules:\n  - id: a\n    channel: c\n    match: 'x AND'\n";
    assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
    close(fd);
    rs = ww_rules_load_file(path, err, sizeof err);
    assert_null(rs);
    char *want = ww_asprintf("%s:4:15: dangling AND: nothing follows it", path);
    assert_string_equal(err, want);
    ww_free(want);
    unlink(path);
    rs = ww_rules_load_file(path, err, sizeof err);
    assert_null(rs);
    assert_non_null(strstr(err, "cannot open"));
}

/* Loads y and asserts the whole error string. */
static void expect_err(const char *y, const char *want)
{
    char err[512];
    ww_ruleset_t *rs = ww_rules_load_buffer(y, strlen(y), "t.yaml", err, sizeof err);
    if (rs) {
        ww_rules_destroy(&rs);
        fail_msg("expected error '%s' for:\n%s", want, y);
    }
    if (strcmp(err, want) != 0)
        fail_msg("for:\n%s\nwant: %s\ngot:  %s", y, want, err);
}

#define RULE(m) "rules:\n  - id: a\n    channel: c\n    match: " m "\n"

static void test_errors_file(void **state)
{
    (void)state;
    expect_err("rules:\n  - id: a\n    match: [x\n", "t.yaml:4:1: YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence");
    expect_err("rules:\n\t- id: a\n", "t.yaml:2:1: YAML syntax error: found character that cannot start any token while scanning for the next token");
    expect_err("", "t.yaml:1:1: missing 'rules' list");
    expect_err("# nothing\n", "t.yaml:1:1: missing 'rules' list");
    expect_err("rule:\n  - id: a\n", "t.yaml:1:1: unknown top-level key 'rule' (expected 'rules')");
    expect_err("other: 1\n", "t.yaml:1:1: unknown top-level key 'other' (expected 'rules')");
    expect_err("- a\n", "t.yaml:1:1: a rules file is a mapping with a 'rules' list");
    expect_err("rules:\n", "t.yaml:1:7: 'rules' must be a list of rules");
    expect_err("rules: {a: 1}\n", "t.yaml:1:8: 'rules' must be a list of rules");
    expect_err("rules:\n  - just a string\n", "t.yaml:2:5: each rule must be a mapping (id, channel, match, ...)");
    expect_err("rules:\n  - id: a\n    channel: c\n    match: x\n    colour: red\n",
               "t.yaml:5:5: unknown key 'colour' in rule (expected id, channel, severity, match, cooldown, threshold, spike)");
    expect_err("rules:\n  - id: a\n    channel: c\n    match: x\n    id: b\n",
               "t.yaml:5:5: duplicate key 'id' in rule");
    expect_err("rules:\n  - channel: c\n    match: x\n", "t.yaml:2:5: rule is missing 'id'");
    expect_err("rules:\n  - id: a\n    match: x\n", "t.yaml:2:5: rule is missing 'channel'");
    expect_err("rules:\n  - id: a\n    channel: c\n", "t.yaml:2:5: rule is missing 'match'");
    expect_err("rules:\n  - id: a\n    channel: c\n    match: x\n  - id: b\n    channel: c\n    match: y\n"
               "  - id:   a\n    channel: c\n    match: z\n",
               "t.yaml:8:11: duplicate rule id 'a'");
    expect_err("rules:\n  - id: a b\n    channel: c\n    match: x\n",
               "t.yaml:2:9: bad rule id 'a b' (use letters, digits and _ . : -)");
    expect_err("rules:\n  - id: 'ü'\n    channel: c\n    match: x\n",
               "t.yaml:2:9: bad rule id 'ü' (use letters, digits and _ . : -)");
    expect_err("rules:\n  - id: ''\n    channel: c\n    match: x\n",
               "t.yaml:2:9: bad rule id '' (use letters, digits and _ . : -)");
    expect_err("rules:\n  - id: [a]\n    channel: c\n    match: x\n", "t.yaml:2:9: id must be a string");
    expect_err("rules:\n  - id: a\n    channel: 'trade asia'\n    match: x\n",
               "t.yaml:3:20: channel must not contain whitespace or control characters");
    expect_err("rules:\n  - id: a\n    channel: \"\"\n    match: x\n", "t.yaml:3:14: channel must not be empty");
    expect_err("rules:\n  - id: a\n    channel: c\n    severity: urgent\n    match: x\n",
               "t.yaml:4:15: bad severity 'urgent' (expected info, low, medium, high or critical)");
    expect_err("rules:\n  - id: a\n    channel: c\n    severity: HIGH\n    match: x\n",
               "t.yaml:4:15: bad severity 'HIGH' (expected info, low, medium, high or critical)");
    expect_err("rules:\n  - id: a\n    channel: c\n    match: x\n    cooldown: 10 minutes\n",
               "t.yaml:5:15: bad duration '10 minutes' for cooldown (e.g. 250ms, 30s, 10m, 24h, 7d)");
    expect_err("rules:\n  - id: a\n    channel: c\n    match: x\n    cooldown: -1m\n",
               "t.yaml:5:15: bad duration '-1m' for cooldown (e.g. 250ms, 30s, 10m, 24h, 7d)");
}

static void test_errors_threshold_spike(void **state)
{
    (void)state;
    expect_err(RULE("x") "    threshold: {count: 5}\n", "t.yaml:5:16: threshold needs 'window'");
    expect_err(RULE("x") "    threshold: {window: 5m}\n", "t.yaml:5:16: threshold needs 'count'");
    expect_err(RULE("x") "    threshold: 5\n", "t.yaml:5:16: threshold must be a mapping {count, window, per}");
    expect_err(RULE("x") "    threshold: {count: 0, window: 5m}\n",
               "t.yaml:5:24: threshold count out of range: 0 (allowed 1..1000000)");
    expect_err(RULE("x") "    threshold: {count: 2000000, window: 5m}\n",
               "t.yaml:5:24: threshold count out of range: 2000000 (allowed 1..1000000)");
    expect_err(RULE("x") "    threshold: {count: five, window: 5m}\n",
               "t.yaml:5:24: threshold count must be a whole number, got 'five'");
    expect_err(RULE("x") "    threshold: {count: 5, window: 0s}\n",
               "t.yaml:5:35: threshold window must be greater than 0");
    expect_err(RULE("x") "    threshold: {count: 5, window: 5 m}\n",
               "t.yaml:5:35: bad duration '5 m' for threshold window (e.g. 250ms, 30s, 10m, 24h, 7d)");
    expect_err(RULE("x") "    threshold: {count: 5, window: 5m, per: person}\n",
               "t.yaml:5:44: bad per 'person' (expected rule, entity or story)");
    expect_err(RULE("x") "    threshold:\n      count: 5\n      window: 5m\n      size: 3\n",
               "t.yaml:8:7: unknown key 'size' in threshold (expected count, window, per)");
    expect_err(RULE("x") "    spike: {window: 1h, baseline: 24h}\n", "t.yaml:5:12: spike needs 'factor'");
    expect_err(RULE("x") "    spike: {baseline: 24h, factor: 3}\n", "t.yaml:5:12: spike needs 'window'");
    expect_err(RULE("x") "    spike: {window: 1h, factor: 3}\n", "t.yaml:5:12: spike needs 'baseline'");
    expect_err(RULE("x") "    spike: {window: 1h, baseline: 1h, factor: 3}\n",
               "t.yaml:5:35: spike baseline must be longer than its window");
    expect_err(RULE("x") "    spike: {window: 1h, baseline: 24h, factor: 0}\n",
               "t.yaml:5:48: spike factor must be a number > 0 and <= 1000000, got '0'");
    expect_err(RULE("x") "    spike: {window: 1h, baseline: 24h, factor: 3x}\n",
               "t.yaml:5:48: spike factor must be a number > 0 and <= 1000000, got '3x'");
    expect_err(RULE("x") "    spike: {window: 1h, baseline: 24h, factor: 3, min: 0}\n",
               "t.yaml:5:56: spike min out of range: 0 (allowed 1..1000000)");
    expect_err(RULE("x") "    spike: {window: 1h, baseline: 24h, factor: 3, per: all}\n",
               "t.yaml:5:56: bad per 'all' (expected rule, entity or story)");
    expect_err(RULE("x") "    spike: {window: 1h, baseline: 24h, factor: 3, rate: 2}\n",
               "t.yaml:5:51: unknown key 'rate' in spike (expected window, baseline, factor, min, per)");
    expect_err(RULE("x") "    threshold: {count: 5, window: 5m}\n    spike: {window: 1h, baseline: 24h, factor: 3}\n",
               "t.yaml:6:12: a rule can have a threshold or a spike, not both");
}

static void test_errors_expr(void **state)
{
    (void)state;
    /* plain scalar: match starts at column 12 */
    expect_err(RULE("(a OR b"), "t.yaml:4:12: unbalanced '('");
    expect_err(RULE("a OR b)"), "t.yaml:4:18: unbalanced ')'");
    expect_err(RULE("a AND (b OR c"), "t.yaml:4:18: unbalanced '('");
    expect_err(RULE("a AND"), "t.yaml:4:14: dangling AND: nothing follows it");
    expect_err(RULE("a OR OR b"), "t.yaml:4:17: unexpected OR: expected a term");
    expect_err(RULE("OR b"), "t.yaml:4:12: unexpected OR: expected a term");
    expect_err(RULE("a NOT"), "t.yaml:4:14: dangling NOT: nothing follows it");
    expect_err(RULE("a AND ()"), "t.yaml:4:18: empty parentheses");
    expect_err(RULE("'x \"\" y'"), "t.yaml:4:15: empty phrase: a quoted phrase needs at least one letter or digit");
    expect_err(RULE("'x \"--\"'"), "t.yaml:4:15: empty phrase: a quoted phrase needs at least one letter or digit");
    expect_err(RULE("'x \"open'"), "t.yaml:4:15: unterminated quote");
    expect_err(RULE("entity:PERSON"), "t.yaml:4:19: unknown entity type 'PERSON' (expected PER ORG LOC MISC DATE MONEY PERCENT; quote a name: entity:\"Name\")");
    expect_err(RULE("'entity:China'"), "t.yaml:4:20: unknown entity type 'China' (expected PER ORG LOC MISC DATE MONEY PERCENT; quote a name: entity:\"Name\")");
    expect_err(RULE("'entity:X:\"Li\"'"), "t.yaml:4:20: unknown entity type 'X' (expected PER ORG LOC MISC DATE MONEY PERCENT)");
    expect_err(RULE("'entity: x'"), "t.yaml:4:13: entity: needs a type (entity:PER) or a quoted name (entity:\"Name\")");
    expect_err(RULE("'entity:\"\"'"), "t.yaml:4:20: empty entity name");
    expect_err(RULE("'entity:PER:\"-\"'"), "t.yaml:4:24: entity name '-' has no letters or digits");
    expect_err(RULE("'entity:PER: \"x\"'"), "t.yaml:4:24: expected a name after 'entity:PER:'");
    expect_err(RULE("'title:entity:PER'"), "t.yaml:4:19: entity: cannot be used inside a field scope");
    expect_err(RULE("'title:(a entity:PER)'"), "t.yaml:4:22: entity: cannot be used inside a field scope");
    expect_err(RULE("'title:(body:a)'"), "t.yaml:4:20: field scope 'body:' inside another field scope");
    expect_err(RULE("headline:x"), "t.yaml:4:12: unknown field scope 'headline:' (expected title: body: source: lang: entity:)");
    expect_err(RULE("'a title: b'"), "t.yaml:4:15: 'title:' must be followed directly by a word, a quoted phrase or '('");
    expect_err(RULE("a NEAR b"), "t.yaml:4:14: NEAR needs a distance: write NEAR/n, e.g. NEAR/5");
    expect_err(RULE("a NEAR/ b"), "t.yaml:4:19: bad NEAR distance '': expected a number 0..1000");
    expect_err(RULE("a NEAR/x b"), "t.yaml:4:19: bad NEAR distance 'x': expected a number 0..1000");
    expect_err(RULE("a NEAR/1001 b"), "t.yaml:4:19: bad NEAR distance '1001': expected a number 0..1000");
    expect_err(RULE("a NEAR/3"), "t.yaml:4:14: dangling NEAR: nothing follows it");
    expect_err(RULE("NEAR/3 b"), "t.yaml:4:12: unexpected NEAR: expected a term");
    expect_err(RULE("(a OR b) NEAR/2 c"), "t.yaml:4:21: NEAR needs a word, prefix or phrase on its left");
    expect_err(RULE("a NEAR/2 (b OR c)"), "t.yaml:4:21: NEAR needs a word, prefix or phrase on its right");
    expect_err(RULE("a NEAR/2 entity:PER"), "t.yaml:4:21: NEAR needs a word, prefix or phrase on its right");
    expect_err(RULE("a NEAR/2 b NEAR/2 c"), "t.yaml:4:23: NEAR cannot be chained: combine two NEARs with AND");
    expect_err(RULE("title:a NEAR/2 body:b"), "t.yaml:4:20: the two sides of NEAR are in different field scopes");
    expect_err(RULE("a AND *"), "t.yaml:4:18: lone '*': a prefix needs at least one letter or digit before '*'");
    expect_err(RULE("a AND ta*ff"), "t.yaml:4:20: '*' is allowed only at the end of a word");
    expect_err(RULE("a AND tariff**"), "t.yaml:4:24: '*' is allowed only at the end of a word");
    expect_err(RULE("a AND foo-*"), "t.yaml:4:22: '*' must follow a letter or digit");
    expect_err(RULE("a AND --"), "t.yaml:4:18: '--' has no letters or digits");
    expect_err(RULE("''"), "t.yaml:4:13: empty match expression");
    /* single-quoted: '' stands for one quote; offsets follow the source */
    expect_err(RULE("'it''s AND'"), "t.yaml:4:19: dangling AND: nothing follows it");
    /* double-quoted with escapes */
    expect_err(RULE("\"\\\"a\\\" \\u00fc AND\""), "t.yaml:4:26: dangling AND: nothing follows it");
    /* flow mapping and a later line */
    expect_err("rules:\n  - {id: a, channel: c, match: 'x OR'}\n  - id: b\n",
               "t.yaml:2:35: dangling OR: nothing follows it");
    /* multi-line plain and block scalars */
    expect_err("rules:\n  - id: a\n    channel: c\n    match: a AND\n      b OR\n", "t.yaml:5:9: dangling OR: nothing follows it");
    expect_err("rules:\n  - id: a\n    channel: c\n    match: |\n      a AND\n      (b OR c\n",
               "t.yaml:6:7: unbalanced '('");
    expect_err("rules:\n  - id: a\n    channel: c\n    match: >\n      a AND\n      b OR\n",
               "t.yaml:6:9: dangling OR: nothing follows it");
    /* non-ASCII before the error: columns count characters */
    expect_err(RULE("'zürich AND'"), "t.yaml:4:20: dangling AND: nothing follows it");
    /* nesting limit */
    char deep[400] = "rules:\n  - id: a\n    channel: c\n    match: '";
    for (int i = 0; i < 70; i++)
        strcat(deep, "(");
    strcat(deep, "a'\n");
    expect_err(deep, "t.yaml:4:77: expression nested too deeply (more than 64 levels)");
    expect_err(RULE("[a]"), "t.yaml:4:12: match must be a string");
}

/* ---- version ---------------------------------------------------------------------- */

static char *version_of(const char *y)
{
    char err[256];
    ww_ruleset_t *rs = ww_rules_load_buffer(y, strlen(y), "v.yaml", err, sizeof err);
    if (!rs)
        fail_msg("%s", err);
    char *v = ww_strdup(ww_rules_version(rs));
    ww_rules_destroy(&rs);
    return v;
}

static void test_version(void **state)
{
    (void)state;
    const char *a = "rules:\n  - id: a\n    channel: c\n    match: 'x AND (y OR z)'\n";
    const char *a2 = "# comment\nrules:\n- id: a\n  channel: 'c'\n  match: \"x    (y OR  Z)\"\n"
                     "  severity: info\n";
    const char *b = "rules:\n  - id: a\n    channel: c\n    match: 'x AND (y OR w)'\n";
    const char *c = "rules:\n  - id: a\n    channel: d\n    match: 'x AND (y OR z)'\n";
    const char *d = "rules:\n  - id: a\n    channel: c\n    match: 'x AND (y OR z)'\n    cooldown: 1m\n";
    const char *e = "rules:\n  - id: a\n    channel: c\n    match: 'x AND (y OR z)'\n    severity: low\n";
    char *va = version_of(a), *va2 = version_of(a2), *vb = version_of(b), *vc = version_of(c),
         *vd = version_of(d), *ve = version_of(e), *va3 = version_of(a);
    assert_int_equal(strlen(va), 16);
    assert_int_equal(strspn(va, "0123456789abcdef"), 16);
    assert_string_equal(va, va3);
    assert_string_equal(va, va2);
    assert_string_not_equal(va, vb);
    assert_string_not_equal(va, vc);
    assert_string_not_equal(va, vd);
    assert_string_not_equal(va, ve);
    ww_free(va);
    ww_free(va2);
    ww_free(va3);
    ww_free(vb);
    ww_free(vc);
    ww_free(vd);
    ww_free(ve);
}

/* ---- property test: index == brute force == naive ------------------------------------ */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((rng_state >> 33) % n);
}

static const char *const vocab[] = {
    "tariff", "tariffs", "trade",   "china",  "export",   "control", "zürich",  "bank",
    "rate",   "rates",   "minister", "oil",   "price",    "prices",  "war",     "peace",
    "talks",  "vote",    "court",   "ruling", "storm",    "flood",   "market",  "stocks",
    "summit", "leader",  "opinion", "report", "energy",   "deal",    "straße",  "élan",
    "and",    "or",      "not",     "near",   "2024",     "gas",     "sanction", "sanctions",
};
#define NVOCAB (sizeof vocab / sizeof vocab[0])

static const struct {
    const char *canonical, *text;
    ww_ent_type_t type;
} ents[] = {
    {"Li Qiang", "Li", WW_ENT_PER},        {"Li Qiang", "Qiang", WW_ENT_PER},
    {"Ursula von der Leyen", "von der Leyen", WW_ENT_PER},
    {"People's Republic of China", "China", WW_ENT_LOC},
    {"Zürich", "ZÜRICH", WW_ENT_LOC},      {"European Central Bank", "ECB", WW_ENT_ORG},
    {"Bank of England", "the Bank", WW_ENT_ORG}, {"Davos Forum", "Davos", WW_ENT_MISC},
    {"5 percent", "5 percent", WW_ENT_PERCENT},
};
#define NENTS (sizeof ents / sizeof ents[0])

static const char *const ent_names[] = {"Li Qiang", "Qiang", "Li", "China", "Republic of China",
                                        "zürich", "ECB", "Bank of England", "Bank", "England",
                                        "Davos", "Leyen", "von der Leyen", "Ursula", "percent"};
#define NENTNAMES (sizeof ent_names / sizeof ent_names[0])

/* Appends a random-case spelling of w. */
static void put_word(char *buf, size_t cap, const char *w)
{
    int style = (int)rnd(4);
    char *f = NULL;
    if (style == 1) {
        /* capitalise (ASCII first letter only) */
        f = ww_strdup(w);
        if (f[0] >= 'a' && f[0] <= 'z')
            f[0] = (char)(f[0] - 32);
    } else if (style == 2) {
        f = ww_strdup(w);
        for (char *p = f; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 32);
    }
    strncat(buf, f ? f : w, cap - strlen(buf) - 1);
    ww_free(f);
}

static void gen_text(char *buf, size_t cap, int words)
{
    static const char *const seps[] = {" ", " ", " ", ", ", "-", "'s ", ". ", " (", ") ", "\n"};
    buf[0] = '\0';
    for (int i = 0; i < words; i++) {
        if (i)
            strncat(buf, seps[rnd(sizeof seps / sizeof seps[0])], cap - strlen(buf) - 1);
        put_word(buf, cap, vocab[rnd(NVOCAB)]);
    }
}

static ww_event_t *gen_event(void)
{
    char t[256], b[4096];
    gen_text(t, sizeof t, 1 + (int)rnd(8));
    gen_text(b, sizeof b, (int)rnd(60));
    ww_event_t *ev = mk_event(t, b);
    if (rnd(2))
        ev->source = ww_strdup(rnd(2) ? "https://wire.example/asia-trade" : "file:///spool/oil.txt");
    if (rnd(2))
        ev->lang = ww_strdup(rnd(2) ? "en" : "de-CH");
    int ne = (int)rnd(4);
    for (int i = 0; i < ne; i++) {
        size_t k = rnd(NENTS);
        ww_event_add_entity(ev, ents[k].text, ents[k].canonical, ents[k].type,
                            rnd(2) ? WW_FIELD_TITLE : WW_FIELD_BODY, rnd(50), 60, 1 + rnd(5));
    }
    return ev;
}

static void gen_expr(char *buf, size_t cap, int depth);

static void gen_term(char *buf, size_t cap)
{
    static const char *const scopes[] = {"title:", "body:", "source:", "lang:"};
    char tmp[256];
    const char *w = vocab[rnd(NVOCAB)];
    const char *w2 = vocab[rnd(NVOCAB)];
    bool sc = rnd(5) == 0;
    const char *scope = sc ? scopes[rnd(2)] : "";
    switch (rnd(9)) {
    case 0:
    case 1:
        if (strcmp(w, "and") == 0 || strcmp(w, "or") == 0 || strcmp(w, "not") == 0)
            snprintf(tmp, sizeof tmp, "%s\"%s\"", scope, w);
        else
            snprintf(tmp, sizeof tmp, "%s%s", scope, w);
        break;
    case 2: {
        size_t l = 1 + rnd(4);
        snprintf(tmp, sizeof tmp, "%s%.*s*", scope, (int)l, w);
        if ((unsigned char)tmp[strlen(tmp) - 2] >= 0x80) /* don't cut a UTF-8 sequence */
            snprintf(tmp, sizeof tmp, "%s%s*", scope, w);
        break;
    }
    case 3:
        snprintf(tmp, sizeof tmp, "%s\"%s %s\"", scope, w, w2);
        break;
    case 4:
        snprintf(tmp, sizeof tmp, "%s%s NEAR/%u %s%s", scope, w2, rnd(5), rnd(2) ? w : w2,
                 rnd(2) ? "*" : "");
        break;
    case 5: {
        static const char *const tys[] = {"PER", "ORG", "LOC", "MISC", "PERCENT", "DATE"};
        const char *ty = tys[rnd(6)];
        const char *nm = ent_names[rnd(NENTNAMES)];
        int f = (int)rnd(3);
        if (f == 0)
            snprintf(tmp, sizeof tmp, "entity:%s", ty);
        else if (f == 1)
            snprintf(tmp, sizeof tmp, "entity:%s:\"%s\"", ty, nm);
        else
            snprintf(tmp, sizeof tmp, "entity:\"%s\"", nm);
        break;
    }
    case 6:
        snprintf(tmp, sizeof tmp, "%s%s", rnd(2) ? "source:" : "lang:",
                 rnd(2) ? (rnd(2) ? "en" : "asia") : (rnd(2) ? "oil" : "ch"));
        break;
    default:
        snprintf(tmp, sizeof tmp, "%s", w);
        break;
    }
    strncat(buf, tmp, cap - strlen(buf) - 1);
}

static void gen_expr(char *buf, size_t cap, int depth)
{
    /* mostly selective rules (terms, AND), some OR, few negations; a few
     * pure negations at the top level */
    uint32_t k = depth > 2 ? 0 : rnd(20);
    if (k <= 7) {
        gen_term(buf, cap);
    } else if (k == 8 && (depth > 0 || rnd(4) == 0)) {
        strncat(buf, "NOT ", cap - strlen(buf) - 1);
        gen_expr(buf, cap, depth + 1);
    } else if (k == 9) {
        strncat(buf, "(", cap - strlen(buf) - 1);
        gen_expr(buf, cap, depth + 1);
        strncat(buf, ")", cap - strlen(buf) - 1);
    } else {
        static const char *const ops[] = {" AND ", " ", " AND ", " OR "};
        int n = 2 + (int)rnd(2);
        for (int i = 0; i < n; i++) {
            if (i)
                strncat(buf, ops[rnd(4)], cap - strlen(buf) - 1);
            gen_expr(buf, cap, depth + 1);
        }
    }
}

/* ---- the naive matcher: direct scans, written independently of rules_expr.c ---- */

static bool nv_tok_eq(const ww_tokens_t *t, size_t i, const char *w, size_t len, bool prefix)
{
    const char *f = ww_token_fold(t, i);
    size_t fl = t->toks[i].fold_len;
    return prefix ? (fl >= len && memcmp(f, w, len) == 0) : (fl == len && memcmp(f, w, len) == 0);
}

static bool nv_at(const ww_tokens_t *t, size_t p, const ww_rx_term_t *term)
{
    if (p + term->n > t->n)
        return false;
    for (uint32_t i = 0; i < term->n; i++)
        if (!nv_tok_eq(t, p + i, term->w[i], term->len[i], term->prefix && i + 1 == term->n))
            return false;
    return true;
}

static bool nv_text(const char *text, const ww_rx_node_t *n)
{
    ww_tokens_t t;
    ww_tokens_init(&t);
    ww_tokenize(text ? text : "", text ? strlen(text) : 0, &t);
    bool found = false;
    for (size_t p = 0; p < t.n && !found; p++) {
        if (n->kind == WW_RX_TERM) {
            found = nv_at(&t, p, &n->a);
            continue;
        }
        if (!nv_at(&t, p, &n->a))
            continue;
        for (size_t q = 0; q < t.n && !found; q++) {
            if (!nv_at(&t, q, &n->b))
                continue;
            if (q >= p + n->a.n)
                found = q - (p + n->a.n) <= n->near_n;
            else if (p >= q + n->b.n)
                found = p - (q + n->b.n) <= n->near_n;
        }
    }
    ww_tokens_deinit(&t);
    return found;
}

static bool nv_words_eq(const ww_tokens_t *t, size_t from, const ww_rx_term_t *w)
{
    for (uint32_t i = 0; i < w->n; i++)
        if (!nv_tok_eq(t, from + i, w->w[i], w->len[i], false))
            return false;
    return true;
}

static bool nv_entity(const ww_event_t *ev, const ww_rx_node_t *n)
{
    for (size_t i = 0; i < ev->n_entities; i++) {
        const ww_entity_t *e = &ev->entities[i];
        if (n->has_type && e->type != n->type)
            continue;
        if (!n->name_fold)
            return true;
        size_t cl, tl;
        char *c = ww_casefold(e->canonical, strlen(e->canonical), &cl);
        char *t = ww_casefold(e->text, strlen(e->text), &tl);
        bool ok = (cl == n->name_fold_len && memcmp(c, n->name_fold, cl) == 0) ||
                  (tl == n->name_fold_len && memcmp(t, n->name_fold, tl) == 0);
        ww_free(c);
        ww_free(t);
        ww_tokens_t toks;
        ww_tokens_init(&toks);
        ww_tokenize(e->canonical, strlen(e->canonical), &toks);
        if (!ok && n->name_words.n <= toks.n)
            ok = nv_words_eq(&toks, 0, &n->name_words) ||
                 nv_words_eq(&toks, toks.n - n->name_words.n, &n->name_words);
        ww_tokens_deinit(&toks);
        if (ok)
            return true;
    }
    return false;
}

static bool nv_eval(const ww_rx_node_t *n, const ww_event_t *ev)
{
    switch (n->kind) {
    case WW_RX_TERM:
    case WW_RX_NEAR:
        switch (n->scope) {
        case WW_RX_SC_TEXT: return nv_text(ev->title, n) || nv_text(ev->body, n);
        case WW_RX_SC_TITLE: return nv_text(ev->title, n);
        case WW_RX_SC_BODY: return nv_text(ev->body, n);
        case WW_RX_SC_SOURCE: return nv_text(ev->source, n);
        case WW_RX_SC_LANG: return nv_text(ev->lang, n);
        }
        return false;
    case WW_RX_ENTITY:
        return nv_entity(ev, n);
    case WW_RX_AND:
        for (size_t i = 0; i < n->n_kids; i++)
            if (!nv_eval(n->kids[i], ev))
                return false;
        return true;
    case WW_RX_OR:
        for (size_t i = 0; i < n->n_kids; i++)
            if (nv_eval(n->kids[i], ev))
                return true;
        return false;
    case WW_RX_NOT:
        return !nv_eval(n->kids[0], ev);
    }
    return false;
}

static void assert_hits_equal(const ww_hits_t *a, const ww_hits_t *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const ww_hit_t *x = &a->hits[i], *y = &b->hits[i];
        assert_int_equal(x->rule_index, y->rule_index);
        assert_ptr_equal(x->rule, y->rule);
        assert_int_equal(x->n_matches, y->n_matches);
        for (size_t k = 0; k < x->n_matches; k++) {
            const ww_match_t *m = &x->matches[k], *o = &y->matches[k];
            assert_int_equal(m->kind, o->kind);
            assert_string_equal(m->value, o->value);
            assert_int_equal(m->has_pos, o->has_pos);
            assert_int_equal(m->field, o->field);
            assert_int_equal(m->start, o->start);
            assert_int_equal(m->end, o->end);
            assert_int_equal(m->count, o->count);
            if (m->kind == WW_MATCH_ENTITY)
                assert_int_equal(m->type, o->type);
        }
    }
}

static void test_index_equals_brute_force(void **state)
{
    (void)state;
    rng_state = 20240611;
    const size_t nrules = 3000;
    size_t cap = 1 << 20, len = 0;
    char *y = ww_malloc(cap);
    len += (size_t)snprintf(y, cap, "rules:\n");
    for (size_t i = 0; i < nrules; i++) {
        char ex[1024] = "";
        gen_expr(ex, sizeof ex, 0);
        int w = snprintf(y + len, cap - len, "  - id: r%zu\n    channel: c\n    match: '%s'\n", i, ex);
        assert_true(w > 0 && (size_t)w < cap - len);
        len += (size_t)w;
    }
    char err[512];
    ww_ruleset_t *rs = ww_rules_load_buffer(y, len, "prop.yaml", err, sizeof err);
    if (!rs)
        fail_msg("%s", err);
    ww_free(y);
    assert_int_equal(ww_rules_count(rs), nrules);
    /* the index must actually prune: only trigger-less rules are always checked */
    size_t always = ww_rules_always_count(rs);
    assert_true(always < nrules / 10);

    ww_rules_scratch_t *s = ww_rules_scratch_new();
    ww_hits_t hi, hb;
    ww_hits_init(&hi);
    ww_hits_init(&hb);
    size_t total_hits = 0, events_with_hits = 0;
    for (int e = 0; e < 400; e++) {
        ww_event_t *ev = gen_event();
        size_t ni = ww_rules_eval(rs, ev, s, &hi);
        size_t nb = ww_rules_eval_brute(rs, ev, s, &hb);
        assert_int_equal(ni, nb);
        assert_hits_equal(&hi, &hb);
        /* and both agree with the naive matcher, rule by rule (first 100 events) */
        size_t k = 0;
        for (size_t r = 0; r < nrules && e < 100; r++) {
            bool want = nv_eval(ww_rules_tree(rs, r), ev);
            bool got = k < hi.n && hi.hits[k].rule_index == r;
            if (want != got)
                fail_msg("rule %zu '%s' on title='%s' body='%s': naive %d indexed %d", r,
                         ww_rules_get(rs, r)->match, ev->title, ev->body, want, got);
            if (got) {
                /* every keyword evidence value spells a real span of its field */
                const ww_hit_t *h = &hi.hits[k];
                for (size_t m = 0; m < h->n_matches; m++) {
                    const ww_match_t *mt = &h->matches[m];
                    if (mt->kind != WW_MATCH_KEYWORD || !mt->has_pos)
                        continue;
                    const char *f = mt->field == WW_FIELD_TITLE ? ev->title : ev->body;
                    assert_true(mt->end > mt->start && mt->end <= strlen(f));
                    assert_int_equal(strlen(mt->value), mt->end - mt->start);
                    assert_memory_equal(mt->value, f + mt->start, mt->end - mt->start);
                }
                k++;
            }
        }
        total_hits += ni;
        events_with_hits += ni > 0;
        ww_event_destroy(&ev);
    }
    print_message("property: %zu hits, %zu/400 events with hits, %zu always-checked rules\n",
                  total_hits, events_with_hits, always);
    /* the generator must exercise both outcomes */
    assert_true(total_hits > 400 * nrules / 50);
    assert_true(events_with_hits > 390);
    assert_true(total_hits < 400 * nrules / 2);
    ww_hits_deinit(&hi);
    ww_hits_deinit(&hb);
    ww_rules_scratch_destroy(&s);
    ww_rules_destroy(&rs);
}

/* ---- the same property over real articles -------------------------------------------- */

/* Words, two-word phrases and entity names taken from real articles. */
typedef struct {
    char **w;
    size_t n, cap;
} strs_t;

static void strs_add(strs_t *l, const char *s, size_t n)
{
    WW_GROW(l->w, l->cap, l->n + 1);
    l->w[l->n++] = ww_strndup(s, n);
}

static void strs_free(strs_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        ww_free(l->w[i]);
    ww_free(l->w);
}

/* A random term over the real material: a word, a prefix of it, a phrase,
 * NEAR, an entity clause (by a real canonical or text), maybe scoped. */
static void gen_real_term(char *buf, size_t cap, const strs_t *words, const strs_t *phrases,
                          const strs_t *names)
{
    static const char *const tys[] = {"PER", "ORG", "LOC", "MISC", "DATE", "MONEY", "PERCENT"};
    char tmp[512];
    const char *w = words->w[rnd((uint32_t)words->n)], *w2 = words->w[rnd((uint32_t)words->n)];
    const char *scope = rnd(6) == 0 ? (rnd(2) ? "title:" : "body:") : "";
    switch (rnd(10)) {
    case 0:
    case 1:
    case 2:
        snprintf(tmp, sizeof tmp, "%s\"%s\"", scope, w);
        break;
    case 3: { /* a prefix: 2..6 bytes, whole UTF-8 characters */
        size_t l = 2 + rnd(5), wl = strlen(w);
        if (l > wl)
            l = wl;
        while (l < wl && ((unsigned char)w[l] & 0xC0) == 0x80)
            l++;
        snprintf(tmp, sizeof tmp, "%s%.*s*", scope, (int)l, w);
        break;
    }
    case 4:
    case 5:
        snprintf(tmp, sizeof tmp, "%s\"%s\"", scope, phrases->w[rnd((uint32_t)phrases->n)]);
        break;
    case 6:
        snprintf(tmp, sizeof tmp, "%s\"%s\" NEAR/%u \"%s\"%s", scope, w, rnd(6), w2, rnd(3) == 0 ? "*" : "");
        if (tmp[strlen(tmp) - 1] == '*') /* a prefix is written without quotes */
            snprintf(tmp, sizeof tmp, "%s\"%s\" NEAR/%u %s*", scope, w, rnd(6), w2);
        break;
    default:
        if (!names->n || rnd(4) == 0)
            snprintf(tmp, sizeof tmp, "entity:%s", tys[rnd(7)]);
        else if (rnd(2))
            snprintf(tmp, sizeof tmp, "entity:\"%s\"", names->w[rnd((uint32_t)names->n)]);
        else
            snprintf(tmp, sizeof tmp, "entity:%s:\"%s\"", tys[rnd(7)], names->w[rnd((uint32_t)names->n)]);
        break;
    }
    strncat(buf, tmp, cap - strlen(buf) - 1);
}

static void gen_real_expr(char *buf, size_t cap, int depth, const strs_t *words, const strs_t *phrases,
                          const strs_t *names)
{
    uint32_t k = depth > 2 ? 0 : rnd(20);
    if (k <= 8) {
        gen_real_term(buf, cap, words, phrases, names);
    } else if (k == 9 && depth > 0) {
        strncat(buf, "NOT ", cap - strlen(buf) - 1);
        gen_real_expr(buf, cap, depth + 1, words, phrases, names);
    } else {
        static const char *const ops[] = {" AND ", " ", " AND ", " OR "};
        int n = 2 + (int)rnd(2);
        strncat(buf, "(", cap - strlen(buf) - 1);
        for (int i = 0; i < n; i++) {
            if (i)
                strncat(buf, ops[rnd(4)], cap - strlen(buf) - 1);
            gen_real_expr(buf, cap, depth + 1, words, phrases, names);
        }
        strncat(buf, ")", cap - strlen(buf) - 1);
    }
}

/* Indexed == brute force over real articles (../shared/data/news, enriched
 * by the bundled extractor) and rules made of their own words, phrases and
 * entity names, so that many rules hit; the naive matcher checks the
 * first events rule by rule. Skipped with a message when the data is absent. */
static void test_index_equals_brute_force_real(void **state)
{
    (void)state;
    const char *data = wwt_shared_data();
    char path[1200];
    snprintf(path, sizeof path, "%s/news/reuters21578.jsonl", data ? data : "");
    FILE *f = data ? fopen(path, "r") : NULL;
    if (!f) {
        print_message("real-article property test skipped: %s not found\n", data ? path : "../shared/data");
        return;
    }
    char err[512];
    ww_extractor_t *x = ww_extractor_new(NULL, NULL, err, sizeof err);
    if (!x)
        print_message("note: no extractor (%s): real events carry no entities\n", err);
    ww_extract_scratch_t *xs = ww_extract_scratch_new();
    enum { NEV = 300, NRULES = 2000 };
    ww_event_t *evs[NEV];
    size_t nev = 0;
    strs_t words = {0}, phrases = {0}, names = {0};
    char *line = NULL;
    size_t lcap = 0;
    ww_tokens_t toks;
    ww_tokens_init(&toks);
    rng_state = 77;
    while (nev < NEV && getline(&line, &lcap, f) > 0) {
        json_t *j = json_loads(line, 0, NULL);
        const char *b = j ? json_string_value(json_object_get(j, "body")) : NULL;
        const char *t = j ? json_string_value(json_object_get(j, "title")) : NULL;
        if (b && *b) {
            ww_event_t *ev = mk_event(t ? t : "", b);
            if (x)
                ww_extract_event(x, xs, ev);
            evs[nev++] = ev;
            ww_tokenize(b, strlen(b), &toks);
            for (size_t k = 0; k + 1 < toks.n; k += 1 + rnd(20)) {
                strs_add(&words, ww_token_fold(&toks, k), toks.toks[k].fold_len);
                if (rnd(3) == 0) { /* a phrase as written: two consecutive words */
                    char ph[256];
                    snprintf(ph, sizeof ph, "%.*s %.*s", (int)toks.toks[k].fold_len, ww_token_fold(&toks, k),
                             (int)toks.toks[k + 1].fold_len, ww_token_fold(&toks, k + 1));
                    strs_add(&phrases, ph, strlen(ph));
                }
            }
            for (size_t e = 0; e < ev->n_entities; e++) {
                const char *nm = rnd(2) ? ev->entities[e].canonical : ev->entities[e].text;
                if (nm && *nm && !strpbrk(nm, "\"'\\\n") && strlen(nm) < 100 && rnd(4) == 0)
                    strs_add(&names, nm, strlen(nm));
            }
        }
        json_decref(j);
    }
    free(line);
    fclose(f);
    ww_tokens_deinit(&toks);
    ww_extract_scratch_destroy(&xs);
    ww_extractor_destroy(&x);
    assert_true(nev > 50 && words.n > 100 && phrases.n > 10);

    size_t cap = 1 << 20, len = 0;
    char *y = ww_malloc(cap);
    len += (size_t)snprintf(y, cap, "rules:\n");
    for (size_t i = 0; i < NRULES; i++) {
        char ex[2048] = "";
        gen_real_expr(ex, sizeof ex, 0, &words, &phrases, &names);
        int w = snprintf(y + len, cap - len, "  - id: r%zu\n    channel: c\n    match: '%s'\n", i, ex);
        assert_true(w > 0 && (size_t)w < cap - len);
        len += (size_t)w;
    }
    ww_ruleset_t *rs = ww_rules_load_buffer(y, len, "real.yaml", err, sizeof err);
    if (!rs)
        fail_msg("%s", err);
    ww_free(y);
    ww_rules_scratch_t *s = ww_rules_scratch_new();
    ww_hits_t hi, hb;
    ww_hits_init(&hi);
    ww_hits_init(&hb);
    size_t total = 0, with_hits = 0, ents = 0;
    for (size_t e = 0; e < nev; e++) {
        size_t ni = ww_rules_eval(rs, evs[e], s, &hi);
        size_t nb = ww_rules_eval_brute(rs, evs[e], s, &hb);
        assert_int_equal(ni, nb);
        assert_hits_equal(&hi, &hb);
        for (size_t r = 0, k = 0; e < 15 && r < NRULES; r++) {
            bool want = nv_eval(ww_rules_tree(rs, r), evs[e]);
            bool got = k < hi.n && hi.hits[k].rule_index == r;
            if (want != got)
                fail_msg("rule %zu '%s' on real event %zu: naive %d indexed %d", r, ww_rules_get(rs, r)->match,
                         e, want, got);
            k += got;
        }
        total += ni;
        with_hits += ni > 0;
        ents += evs[e]->n_entities;
        ww_event_destroy(&evs[e]);
    }
    print_message("real articles: %zu events (%zu entities), %zu rules, %zu hits, %zu events with hits\n", nev,
                  ents, (size_t)NRULES, total, with_hits);
    assert_true(with_hits > nev / 2); /* the rules really exercise the matcher */
    assert_true(total < nev * NRULES / 2);
    ww_hits_deinit(&hi);
    ww_hits_deinit(&hb);
    ww_rules_scratch_destroy(&s);
    ww_rules_destroy(&rs);
    strs_free(&words);
    strs_free(&phrases);
    strs_free(&names);
}

/* A scratch reused across rule sets of different sizes stays correct. */
static void test_scratch_reuse(void **state)
{
    (void)state;
    const char *small[] = {"alpha"};
    const char *large[] = {"beta", "gamma", "alpha", "NOT beta", "alpha*"};
    ww_ruleset_t *a = load_exprs(small, 1), *b = load_exprs(large, 5);
    ww_rules_scratch_t *s = ww_rules_scratch_new();
    ww_event_t *ev = mk_event("Alpha", "alphabet");
    ww_hits_t h;
    ww_hits_init(&h);
    assert_int_equal(ww_rules_eval(a, ev, s, &h), 1);
    assert_int_equal(ww_rules_eval(b, ev, s, &h), 3);
    assert_int_equal(h.hits[0].rule_index, 2);
    assert_int_equal(h.hits[1].rule_index, 3);
    assert_int_equal(h.hits[2].rule_index, 4);
    assert_int_equal(ww_rules_eval(a, ev, s, &h), 1);
    ww_hits_deinit(&h);
    ww_event_destroy(&ev);
    ww_rules_scratch_destroy(&s);
    assert_null(s);
    ww_rules_destroy(&a);
    ww_rules_destroy(&b);
    ww_rules_destroy(&b); /* NULL-safe */
}

/* The matcher keeps entity names folded across events in a bounded cache
 * that it empties when full: 1,200 events of 80 entities each, almost all
 * names new (96,000 distinct, more than the cache holds), with rules on
 * names that come back at intervals, by canonical, by text and by a
 * trailing word. Every event's hits must be exactly what the names say. */
static void test_entity_name_cache(void **state)
{
    (void)state;
    const char *exprs[] = {"entity:ORG:\"Harbor Group 7\"", "entity:\"HG7\"", "entity:PER:\"Quill\""};
    ww_ruleset_t *rs = load_exprs(exprs, 3);
    ww_rules_scratch_t *s = ww_rules_scratch_new();
    ww_hits_t h;
    ww_hits_init(&h);
    char canon[64], text[64];
    for (int e = 0; e < 1200; e++) {
        ww_event_t *ev = mk_event("Markets", "Trading was quiet.");
        bool want[3] = {false, false, false};
        for (int k = 0; k < 80; k++) {
            int id = e * 80 + k;
            snprintf(canon, sizeof canon, "Company Number %d Holdings", id);
            snprintf(text, sizeof text, "Number %d", id);
            ww_event_add_entity(ev, text, canon, WW_ENT_ORG, WW_FIELD_BODY, 0, 1, 1);
        }
        if (e % 7 == 0) { /* the same name again and again, across cache clears */
            ww_event_add_entity(ev, "HG7", "Harbor Group 7", WW_ENT_ORG, WW_FIELD_BODY, 0, 1, 1);
            want[0] = want[1] = true;
        }
        if (e % 11 == 0) {
            ww_event_add_entity(ev, "Ana Quill", "Ana Quill", WW_ENT_PER, WW_FIELD_BODY, 0, 1, 1);
            want[2] = true;
        }
        size_t n = ww_rules_eval(rs, ev, s, &h);
        size_t expect = (size_t)want[0] + want[1] + want[2];
        if (n != expect)
            fail_msg("event %d: %zu hits, expected %zu", e, n, expect);
        for (size_t i = 0; i < n; i++)
            assert_true(want[h.hits[i].rule_index]);
        ww_event_destroy(&ev);
    }
    ww_hits_deinit(&h);
    ww_rules_scratch_destroy(&s);
    ww_rules_destroy(&rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_word),
        cmocka_unit_test(test_phrase),
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_scopes),
        cmocka_unit_test(test_near),
        cmocka_unit_test(test_entities),
        cmocka_unit_test(test_operators),
        cmocka_unit_test(test_evidence),
        cmocka_unit_test(test_load_fields),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_errors_file),
        cmocka_unit_test(test_errors_threshold_spike),
        cmocka_unit_test(test_errors_expr),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_index_equals_brute_force),
        cmocka_unit_test(test_index_equals_brute_force_real),
        cmocka_unit_test(test_scratch_reuse),
        cmocka_unit_test(test_entity_name_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
