/* fuzz_rules.c - libFuzzer target for the rules loader and the match
 * expression parser/evaluator. The input is tried twice: as a whole rules
 * file (YAML), and as one match expression. Whatever parses is evaluated
 * against two fixed events, indexed and brute force, which must agree. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/rules_internal.h"
#include "ww/alloc.h"
#include "ww/event.h"
#include "ww/rules.h"

static ww_event_t *fz_events[2];
static ww_rules_scratch_t *fz_scratch;

static void fz_init(void)
{
    if (fz_scratch)
        return;
    fz_scratch = ww_rules_scratch_new();
    ww_event_t *a = ww_event_new();
    a->title = ww_strdup("Tariffs hit China's steel as ZÜRICH banks rally");
    a->body = ww_strdup("Officials said the export-control regime and new tariffs would stay; "
                        "Li Qiang met the European Central Bank in Zürich. Oil prices rose 5 percent.");
    a->source = ww_strdup("https://wire.example/asia");
    a->lang = ww_strdup("en-GB");
    ww_event_add_entity(a, "China", "China", WW_ENT_LOC, WW_FIELD_TITLE, 12, 17, 1);
    ww_event_add_entity(a, "Li Qiang", "Li Qiang", WW_ENT_PER, WW_FIELD_BODY, 70, 78, 2);
    ww_event_add_entity(a, "ECB", "European Central Bank", WW_ENT_ORG, WW_FIELD_BODY, 83, 104, 1);
    fz_events[0] = a;
    fz_events[1] = ww_event_new(); /* empty: no title, body or entities */
}

/* Evaluates rs on both events; indexed and brute force must agree. */
static void fz_eval(const ww_ruleset_t *rs)
{
    ww_hits_t a, b;
    ww_hits_init(&a);
    ww_hits_init(&b);
    for (int e = 0; e < 2; e++) {
        size_t na = ww_rules_eval(rs, fz_events[e], fz_scratch, &a);
        size_t nb = ww_rules_eval_brute(rs, fz_events[e], fz_scratch, &b);
        if (na != nb)
            abort();
        for (size_t i = 0; i < na; i++)
            if (a.hits[i].rule_index != b.hits[i].rule_index ||
                a.hits[i].n_matches != b.hits[i].n_matches)
                abort();
    }
    ww_hits_deinit(&a);
    ww_hits_deinit(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_init();
    char err[512];
    ww_ruleset_t *rs = ww_rules_load_buffer((const char *)data, size, "fuzz.yaml", err, sizeof err);
    if (rs) {
        if (strlen(ww_rules_version(rs)) != 16)
            abort();
        fz_eval(rs);
        ww_rules_destroy(&rs);
    } else if (strncmp(err, "fuzz.yaml:", 10) != 0) {
        abort(); /* every error names the file */
    }

    /* the bytes as one expression */
    size_t off = 0;
    char msg[256];
    ww_rx_node_t *n = ww_rx_parse((const char *)data, size, &off, msg, sizeof msg);
    if (!n) {
        if (off > size)
            abort();
        return 0;
    }
    char *canon = ww_rx_to_string(n);
    ww_rx_view_t v;
    ww_rx_view_init(&v);
    for (int e = 0; e < 2; e++) {
        ww_rx_view_prepare(&v, fz_events[e], NULL);
        if (ww_rx_eval(n, &v)) {
            ww_hit_t hit = {0};
            ww_rx_evidence(n, &v, &hit);
            for (size_t i = 0; i < hit.n_matches; i++)
                ww_free(hit.matches[i].value);
            ww_free(hit.matches);
        }
    }
    ww_rx_view_deinit(&v);
    ww_free(canon);
    ww_rx_free(n);
    return 0;
}
