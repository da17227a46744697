/* bench_ner.c - speed of entity extraction from raw text, one core.
 *
 * Articles: ../shared/data/news/reuters21578.jsonl when present (title and
 * body), else the project's demo stream (data/demo/stream.jsonl). Prints, in
 * words per second (ww_tokenize words, the unit the rules use):
 *   tokenizer only       ww_tokenize over title and body
 *   NER tokenizer        ww_ner_tokenize
 *   labeller             NER tokenizer + both perceptron passes
 *   extract_event        everything: tokenizing, both passes, DATE/MONEY/
 *                        PERCENT rules, canonical names, quotes, keywords
 * and the ratio of the last to the 500,000 words/s target. Also prints the
 * model size and this process's peak resident memory. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "ww/alloc.h"
#include "ww/event.h"
#include "ww/extract.h"
#include "ww/ner.h"
#include "ww/paths.h"
#include "ww/text.h"
#include "wwtest.h"

#define TARGET 500000.0

typedef struct {
    char *title, *body;
} art_t;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static art_t *load(const char *path, size_t max, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    art_t *a = NULL;
    size_t cap = 0;
    *n = 0;
    char *line = NULL;
    size_t lc = 0;
    while (*n < max && getline(&line, &lc, f) > 0) {
        json_t *j = json_loads(line, 0, NULL);
        if (!j)
            continue;
        const char *t = json_string_value(json_object_get(j, "title"));
        const char *b = json_string_value(json_object_get(j, "body"));
        if (b) {
            WW_GROW(a, cap, *n + 1);
            a[*n].title = ww_strdup(t ? t : "");
            a[*n].body = ww_strdup(b);
            (*n)++;
        }
        json_decref(j);
    }
    free(line);
    fclose(f);
    return a;
}

int main(int argc, char **argv)
{
    size_t max = argc > 1 ? (size_t)atol(argv[1]) : 5000;
    size_t n = 0;
    art_t *arts = NULL;
    const char *data = wwt_shared_data();
    char src[512] = "";
    if (data) {
        snprintf(src, sizeof src, "%s/news/reuters21578.jsonl", data);
        arts = load(src, max, &n);
    }
    if (!arts) {
        char *p = ww_data_path("demo/stream.jsonl");
        if (p) {
            snprintf(src, sizeof src, "%s", p);
            arts = load(p, max, &n);
        }
        ww_free(p);
    }
    if (!arts || !n) {
        fprintf(stderr, "bench_ner: no articles\n");
        return 1;
    }
    char err[512];
    char *mp = ww_data_path("ner/ner-en.model");
    if (!mp) {
        fprintf(stderr, "bench_ner: bundled model ner/ner-en.model not found\n");
        return 1;
    }
    ww_ner_model_t *m = ww_ner_load(mp, err, sizeof err);
    ww_extractor_t *x = ww_extractor_new(NULL, mp, err, sizeof err);
    if (!m || !x) {
        fprintf(stderr, "bench_ner: %s\n", err);
        return 1;
    }
    /* repeat small inputs so every timing covers at least ~1 s of work */
    int reps = 1;
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += strlen(arts[i].title) + strlen(arts[i].body);
    while ((double)bytes * reps < 8e6)
        reps++;
    ww_tokens_t tk;
    ww_tokens_init(&tk);
    size_t words = 0;
    double t0 = now();
    for (int r = 0; r < reps; r++)
        for (size_t i = 0; i < n; i++) {
            ww_tokenize(arts[i].title, strlen(arts[i].title), &tk);
            words += tk.n;
            ww_tokenize(arts[i].body, strlen(arts[i].body), &tk);
            words += tk.n;
        }
    double t_tok = now() - t0;
    ww_tokens_deinit(&tk);

    ww_ner_tok_t *nt = NULL;
    size_t ncap = 0, ntoks = 0;
    char *buf = NULL;
    size_t bcap = 0;
    t0 = now();
    for (int r = 0; r < reps; r++)
        for (size_t i = 0; i < n; i++) {
            size_t tl = strlen(arts[i].title), bl = strlen(arts[i].body);
            WW_GROW(buf, bcap, tl + bl + 3);
            memcpy(buf, arts[i].title, tl);
            memcpy(buf + tl, "\n\n", 2);
            memcpy(buf + tl + 2, arts[i].body, bl);
            ntoks += ww_ner_tokenize(buf, tl + bl + 2, &nt, &ncap);
        }
    double t_ntok = now() - t0;

    ww_ner_scratch_t *ns = ww_ner_scratch_new();
    uint8_t *lab = NULL;
    size_t lcap = 0, ents = 0;
    ww_ner_ent_t *ev = NULL;
    size_t ecap = 0;
    t0 = now();
    for (int r = 0; r < reps; r++)
        for (size_t i = 0; i < n; i++) {
            size_t tl = strlen(arts[i].title), bl = strlen(arts[i].body);
            WW_GROW(buf, bcap, tl + bl + 3);
            memcpy(buf, arts[i].title, tl);
            memcpy(buf + tl, "\n\n", 2);
            memcpy(buf + tl + 2, arts[i].body, bl);
            size_t k = ww_ner_tokenize(buf, tl + bl + 2, &nt, &ncap);
            WW_GROW(lab, lcap, k + 1);
            ww_ner_doc_t d = {buf, nt, k};
            ww_ner_label(m, ns, &d, lab);
            ents += ww_ner_spans(lab, k, &ev, &ecap);
        }
    double t_lab = now() - t0;

    ww_extract_scratch_t *s = ww_extract_scratch_new();
    ww_event_t *e = ww_event_new();
    size_t found = 0;
    t0 = now();
    for (int r = 0; r < reps; r++)
        for (size_t i = 0; i < n; i++) {
            e->title = arts[i].title;
            e->body = arts[i].body;
            ww_extract_event(x, s, e);
            found += e->n_entities;
            e->title = e->body = NULL;
        }
    double t_ext = now() - t0;

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double w = (double)words;
    printf("bench_ner: %zu articles x %d from %s, %zu words (%zu NER tokens) per run\n", n, reps, src,
           words / (size_t)reps, ntoks / (size_t)reps);
    printf("  tokenizer only (ww_tokenize)      %12.0f words/s\n", w / t_tok);
    printf("  NER tokenizer                     %12.0f words/s\n", w / t_ntok);
    printf("  labeller (tokenize + 2 passes)    %12.0f words/s  (%zu names/run)\n", w / t_lab,
           ents / (size_t)reps);
    printf("  extract_event (everything)        %12.0f words/s  %8.0f articles/s  (%zu entities/run)\n",
           w / t_ext, (double)n * reps / t_ext, found / (size_t)reps);
    printf("  target 500000 words/s per core: ratio %.2f\n", w / t_ext / TARGET);
    printf("  model %s: %.1f MB; peak resident memory %.1f MB\n", mp, ww_ner_model_size(m) / 1e6,
           ru.ru_maxrss / 1024.0);
    ww_event_destroy(&e);
    ww_extract_scratch_destroy(&s);
    ww_ner_scratch_destroy(&ns);
    ww_free(lab);
    ww_free(ev);
    ww_free(nt);
    ww_free(buf);
    for (size_t i = 0; i < n; i++) {
        ww_free(arts[i].title);
        ww_free(arts[i].body);
    }
    ww_free(arts);
    ww_extractor_destroy(&x);
    ww_ner_free(&m);
    ww_free(mp);
    return 0;
}
