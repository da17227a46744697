/* news_events.c - enriched article-sized events for benchmarks (see wwtest.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wwtest.h"
#include "ww/alloc.h"
#include "ww/extract.h"

/* Reads up to max (0: all) non-empty Reuters articles from ../shared/data. */
static size_t read_articles(size_t max, char ***bodies_out, char ***titles_out)
{
    const char *data = wwt_shared_data();
    char **bodies = NULL, **titles = NULL;
    size_t na = 0, cap = 0;
    if (!data)
        goto out;
    char path[1200];
    snprintf(path, sizeof path, "%s/news/reuters21578.jsonl", data);
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t lcap = 0;
    while (f && getline(&line, &lcap, f) > 0 && (max == 0 || na < max)) {
        json_t *j = json_loads(line, 0, NULL);
        if (!j)
            continue;
        const char *b = json_string_value(json_object_get(j, "body"));
        const char *t = json_string_value(json_object_get(j, "title"));
        if (b && *b) {
            WW_GROW(bodies, cap, na + 1);
            titles = ww_realloc(titles, cap * sizeof *titles);
            bodies[na] = ww_strdup(b);
            titles[na] = ww_strdup(t ? t : "");
            na++;
        }
        json_decref(j);
    }
    free(line);
    if (f)
        fclose(f);
out:
    *bodies_out = bodies;
    *titles_out = titles;
    return na;
}

ww_event_t **wwt_news_events(size_t n, size_t size, const char *const *words, size_t n_words, unsigned seed,
                             size_t max_articles, bool *real)
{
    char **bodies, **titles;
    size_t na = read_articles(max_articles, &bodies, &titles);
    *real = na > 0;
    char err[512];
    ww_extractor_t *x = ww_extractor_new(NULL, NULL, err, sizeof err);
    if (!x)
        fprintf(stderr, "note: extractor unavailable (%s): events carry no entities\n", err);
    ww_extract_scratch_t *xs = ww_extract_scratch_new();
    ww_event_t **evs = ww_calloc(n ? n : 1, sizeof *evs);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        ww_event_t *ev = ww_event_new();
        char *body = NULL;
        size_t blen = 0;
        while (blen < size) {
            char gen[2048];
            const char *t;
            if (na) {
                t = bodies[k % na];
                if (!ev->title)
                    ev->title = ww_strdup(titles[k % na]);
                k++;
            } else {
                size_t gl = 0;
                for (int w = 0; w < 150 && n_words; w++)
                    gl += (size_t)snprintf(gen + gl, sizeof gen - gl, "%s ", words[rand_r(&seed) % n_words]);
                gen[gl] = '\0';
                t = gen;
            }
            size_t tl = strlen(t);
            if (tl == 0)
                break;
            body = ww_realloc(body, blen + tl + 2);
            memcpy(body + blen, t, tl);
            blen += tl;
            body[blen++] = '\n';
            body[blen] = '\0';
        }
        if (!ev->title)
            ev->title = ww_strdup("Generated article");
        if (blen > size) { /* cut to ~size bytes at a space */
            size_t cut = size;
            while (cut > size / 2 && body[cut] != ' ' && body[cut] != '\n')
                cut--;
            body[cut] = '\0';
        }
        ev->body = body ? body : ww_strdup("");
        ev->source = ww_strdup("https://news.example.com/feed");
        ev->lang = ww_strdup("en");
        ev->published_at = 1700000000000LL + (int64_t)i * 1000;
        ev->ingested_at = ev->published_at + 500;
        ev->seq = i + 1;
        ww_event_compute_id(ev);
        if (x)
            ww_extract_event(x, xs, ev);
        evs[i] = ev;
    }
    ww_extract_scratch_destroy(&xs);
    ww_extractor_destroy(&x);
    for (size_t i = 0; i < na; i++) {
        ww_free(bodies[i]);
        ww_free(titles[i]);
    }
    ww_free(bodies);
    ww_free(titles);
    return evs;
}
