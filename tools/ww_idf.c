/* ww_idf.c - derives the built-in document-frequency table for TF-IDF
 * keywords (data/keywords/idf.tsv) from a news corpus. Training-time tool,
 * never run by the build: its output is committed.
 *
 * Usage: ww-idf OUT.tsv CORPUS.jsonl [--min-df N]
 * CORPUS: one JSON object a line with "title" and "body". Every article goes
 * through the extractor (rule-based names: keywords do not depend on them) and
 * each distinct term it counts (ww_extract_doc_terms) adds one document.
 * Terms seen in fewer than N documents (default 2) are left out: they score
 * as unseen anyway. Output: "#docs<TAB>N", then "term<TAB>documents" sorted
 * by term. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww/alloc.h"
#include "ww/event.h"
#include "ww/extract.h"
#include "ww/keywords.h"

typedef struct {
    char *term;
    uint64_t docs;
} row_t;

static int cmp_row(const void *a, const void *b)
{
    return strcmp(((const row_t *)a)->term, ((const row_t *)b)->term);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: ww-idf OUT.tsv CORPUS.jsonl [--min-df N]\n");
        return 2;
    }
    uint64_t min_df = 2;
    if (argc >= 5 && !strcmp(argv[3], "--min-df"))
        min_df = strtoull(argv[4], NULL, 10);
    char err[512];
    ww_extractor_t *x = ww_extractor_new(NULL, "", err, sizeof err);
    if (!x) {
        fprintf(stderr, "ww-idf: %s\n", err);
        return 1;
    }
    ww_extractor_set_df(x, NULL);
    ww_extract_scratch_t *s = ww_extract_scratch_new();
    FILE *in = fopen(argv[2], "r");
    if (!in) {
        perror(argv[2]);
        return 1;
    }
    ww_df_t *idx = ww_df_new(); /* key -> row + 1 */
    row_t *rows = NULL;
    size_t nrows = 0, cap = 0;
    uint64_t docs = 0;
    char *line = NULL;
    size_t lcap = 0;
    while (getline(&line, &lcap, in) > 0) {
        json_t *j = json_loads(line, 0, NULL);
        if (!j)
            continue;
        ww_event_t *ev = ww_event_new();
        const char *t = json_string_value(json_object_get(j, "title"));
        const char *b = json_string_value(json_object_get(j, "body"));
        ev->title = ww_strdup(t ? t : "");
        ev->body = ww_strdup(b ? b : "");
        json_decref(j);
        ww_extract_event(x, s, ev);
        const ww_term_t *terms;
        size_t n = ww_extract_doc_terms(s, &terms);
        for (size_t i = 0; i < n; i++) {
            uint64_t at = ww_df_get(idx, terms[i].key);
            if (!at) {
                WW_GROW(rows, cap, nrows + 1);
                rows[nrows] = (row_t){ww_strdup(terms[i].term), 0};
                at = ++nrows;
                ww_df_set(idx, terms[i].key, at);
            }
            rows[at - 1].docs++;
        }
        docs++;
        ww_event_destroy(&ev);
    }
    free(line);
    fclose(in);
    qsort(rows, nrows, sizeof *rows, cmp_row);
    FILE *out = fopen(argv[1], "w");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    fprintf(out, "#docs\t%llu\n", (unsigned long long)docs);
    size_t kept = 0;
    for (size_t i = 0; i < nrows; i++) {
        if (rows[i].docs >= min_df) {
            fprintf(out, "%s\t%llu\n", rows[i].term, (unsigned long long)rows[i].docs);
            kept++;
        }
        ww_free(rows[i].term);
    }
    fclose(out);
    fprintf(stderr, "ww-idf: %llu documents, %zu terms, %zu kept (df >= %llu)\n", (unsigned long long)docs, nrows,
            kept, (unsigned long long)min_df);
    ww_free(rows);
    ww_df_destroy(&idx);
    ww_extract_scratch_destroy(&s);
    ww_extractor_destroy(&x);
    return 0;
}
