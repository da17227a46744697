/* fuzz_codec_trusted.c - libFuzzer target of the direct decoder of trusted
 * batches (ww_event_decode_batch_ex with WW_DECODE_TRUSTED), differentially:
 * for any bytes it must return what the reference path (msgpack-c's object
 * tree, WW_DECODE_TREE) returns - the same count, the same bad[] counts and
 * events with the same fields. Each decoded event (its enrichment in a
 * block) is then duplicated, has its enrichment taken out of the block,
 * extended and cleared, so that ASan sees every ownership path. Trusted
 * input is not UTF-8 checked, so no UTF-8 invariant is asserted here.
 * Seeds: tests/fuzz/corpus/codec_trusted/. */
#include "fuzz_event_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* a and b decoded from the same bytes by the two paths: every field agrees. */
static void fz_same_trusted(const ww_event_t *a, const ww_event_t *b)
{
    FZ_CHECK(a->v == b->v);
    FZ_CHECK(fz_str_eq(a->duplicate_of, b->duplicate_of) && fz_str_eq(a->story, b->story));
    FZ_CHECK(a->published_at == b->published_at && a->ingested_at == b->ingested_at);
    FZ_CHECK(fz_str_eq(a->id, b->id) && fz_str_eq(a->source, b->source) && fz_str_eq(a->url, b->url));
    FZ_CHECK(fz_str_eq(a->title, b->title) && fz_str_eq(a->body, b->body) && fz_str_eq(a->lang, b->lang));
    FZ_CHECK(a->replay == b->replay && a->seq == b->seq);
    fz_check_same_enrichment(a, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ww_limits_t lim;
    ww_limits_default(&lim);
    ww_event_t **a = NULL, **b = NULL;
    uint64_t bad_a[WW_BAD__COUNT] = {0}, bad_b[WW_BAD__COUNT] = {0};
    long na = ww_event_decode_batch_ex((const char *)data, size, &lim, WW_DECODE_TRUSTED, &a, bad_a);
    long nb = ww_event_decode_batch_ex((const char *)data, size, &lim, WW_DECODE_TRUSTED | WW_DECODE_TREE,
                                       &b, bad_b);
    FZ_CHECK(na == nb);
    FZ_CHECK(memcmp(bad_a, bad_b, sizeof bad_a) == 0);
    FZ_CHECK((na < 0) == (a == NULL));
    for (long i = 0; i < na; i++) {
        FZ_CHECK(a[i]->enrich_block || (!a[i]->n_entities && !a[i]->n_keywords && !a[i]->n_quotes));
        FZ_CHECK(!b[i]->enrich_block);
        fz_same_trusted(a[i], b[i]);
        /* ownership paths: a copy, the block given up, lists extended, cleared */
        ww_event_t *d = ww_event_dup(a[i]);
        fz_same_trusted(d, b[i]);
        if (i % 2 == 0) {
            ww_event_own_enrichment(a[i]);
            FZ_CHECK(!a[i]->enrich_block);
            fz_same_trusted(a[i], b[i]);
        }
        if (a[i]->n_entities) /* arguments that live in the event's own block */
            ww_event_add_entity(a[i], a[i]->entities[0].text, a[i]->entities[0].canonical, WW_ENT_ORG,
                                WW_FIELD_BODY, 0, 0, 1);
        if (a[i]->n_keywords)
            ww_event_add_keyword(a[i], a[i]->keywords[0].term, 1.0);
        if (a[i]->n_quotes)
            ww_event_add_quote(a[i], a[i]->quotes[0].speaker, a[i]->quotes[0].text);
        FZ_CHECK(a[i]->n_entities == b[i]->n_entities + (b[i]->n_entities > 0));
        if (i % 3 == 0)
            ww_event_clear_enrichment(a[i]);
        ww_event_destroy(&d);
        ww_event_destroy(&a[i]);
        ww_event_destroy(&b[i]);
    }
    ww_free(a);
    ww_free(b);
    return 0;
}
