/* bench_codec.c - the MessagePack event codec on one core: decode rates of
 *   - the public map form (ww_event_decode_msgpack, untrusted: pre-scan,
 *     limit checks, UTF-8 repair),
 *   - the internal compact batch form as the alert worker decodes it
 *     (ww_event_decode_batch_ex(..., WW_DECODE_TRUSTED)), one event per
 *     batch and, separately, batches of --batch events,
 *   - the same internal form untrusted (flags 0),
 * each against, in the same run and over the same bytes, the limit: msgpack-c's
 * bare msgpack_unpack_next (an object tree in a zone, nothing copied out).
 * Prints events/s, MB/s, us/event and the ratio decode time / unpack time.
 *
 * Events: ../shared/data/news/reuters21578.jsonl when present, articles
 * concatenated to ~--size bytes (5 KB) and enriched by the real extractor (as
 * bench_rules prepares them: ~70 entities each); else generated text.
 * --save FILE writes the prepared events (internal batch form, length-prefixed)
 * and --load FILE reads them back, so that a profiler run (callgrind) skips
 * the extractor, e.g.
 *   bench_codec --save /tmp/ev.bin
 *   valgrind --tool=callgrind --collect-atstart=no \
 *     --toggle-collect=ww_event_decode_batch_ex bench_codec --load /tmp/ev.bin --iters 2000
 * Rates are in thread CPU time (the machine may be shared).
 *
 * Usage: bench_codec [--events N] [--size BYTES] [--seconds S] [--batch B]
 *                    [--iters N] [--save FILE] [--load FILE]
 *                    [--only public|trusted|untrusted|batch|unpack]
 * --only runs one loop (for a profiler; --toggle-collect=measure counts the
 * decoding and destruction of iters + 50 warm-up messages). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wwtest.h"
#include "ww/alloc.h"
#include "ww/event.h"

/* CPU time of this thread (the machine is shared). */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Words of generated text when the Reuters file is absent. */
static const char *const WORDS[] = {
    "oil", "prices", "rose", "in", "London", "after", "OPEC", "said", "the", "Bank", "of",
    "Japan", "would", "cut", "rates", "Reuters", "reported", "on", "Monday", "that", "General",
    "Motors", "Corp", "and", "Ford", "Motor", "Co", "agreed", "to", "merge", "shares", "fell",
    "5", "pct", "to", "12", "dlrs", "Brazil", "coffee", "exports", "Paris", "France", "wheat",
};
#define N_WORDS (sizeof WORDS / sizeof WORDS[0])

/* A message: bytes and length. */
typedef struct {
    char *buf;
    size_t len;
} msg_t;

/* Prepares n events of about `size` bytes (see the top of the file). */
static ww_event_t **make_events(size_t n, size_t size, bool *real)
{
    return wwt_news_events(n, size, WORDS, N_WORDS, 7, 4 * n + 100, real);
}

/* Packs evs[0..n) as one batch (internal) or evs[0] as one public map. */
static msg_t pack(ww_event_t *const *evs, size_t n, bool batch)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (batch)
        ww_event_pack_batch(&pk, evs, n);
    else
        ww_event_pack(&pk, evs[0], false);
    msg_t m = {sb.data, sb.size};
    return m; /* the sbuffer's data is malloc'd: freed with free() */
}

/* Writes the events as length-prefixed one-event batches. Returns 0 or -1. */
static int save_events(const char *path, ww_event_t **evs, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    for (size_t i = 0; i < n; i++) {
        msg_t m = pack(&evs[i], 1, true);
        uint64_t l = m.len;
        fwrite(&l, sizeof l, 1, f);
        fwrite(m.buf, 1, m.len, f);
        free(m.buf);
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* Reads events written by save_events; *n is their count. NULL on error. */
static ww_event_t **load_events(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    ww_event_t **evs = NULL;
    size_t ne = 0, cap = 0;
    uint64_t l;
    while (fread(&l, sizeof l, 1, f) == 1 && l < (1u << 30)) {
        char *b = ww_malloc(l ? l : 1);
        if (fread(b, 1, l, f) != l) {
            ww_free(b);
            break;
        }
        ww_event_t **one = NULL;
        if (ww_event_decode_batch(b, l, NULL, &one, NULL) == 1) {
            WW_GROW(evs, cap, ne + 1);
            evs[ne++] = one[0];
        }
        ww_free(one);
        ww_free(b);
    }
    fclose(f);
    *n = ne;
    return evs;
}

/* What a timed loop decodes. */
typedef enum { F_PUBLIC, F_BATCH_TRUSTED, F_BATCH_UNTRUSTED, F_UNPACK } form_t;

/* Decodes message m once in form f; returns the events decoded. */
static size_t decode_once(form_t f, const msg_t *m, msgpack_unpacked *u)
{
    if (f == F_PUBLIC) {
        ww_event_t *ev = NULL;
        if (ww_event_decode_msgpack(m->buf, m->len, NULL, &ev, NULL) != 0)
            exit(1);
        ww_event_destroy(&ev);
        return 1;
    }
    if (f == F_UNPACK) {
        size_t off = 0;
        if (msgpack_unpack_next(u, m->buf, m->len, &off) != MSGPACK_UNPACK_SUCCESS)
            exit(1);
        return 1;
    }
    ww_event_t **evs = NULL;
    long n = ww_event_decode_batch_ex(m->buf, m->len, NULL, f == F_BATCH_TRUSTED ? WW_DECODE_TRUSTED : 0,
                                      &evs, NULL);
    if (n < 0)
        exit(1);
    for (long i = 0; i < n; i++)
        ww_event_destroy(&evs[i]);
    ww_free(evs);
    return (size_t)n;
}

/* A measured rate. */
typedef struct {
    double us_per_event, events_s, mb_s;
} rate_t;

/* Decodes msgs round-robin for `seconds` of CPU time (or exactly `iters`
 * messages when iters > 0). ev_per_msg: events in each message. */
static rate_t measure(form_t f, const msg_t *msgs, size_t n, double seconds, size_t iters)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t done = 0, events = 0, bytes = 0;
    for (size_t i = 0; i < n && i < 50; i++) /* warm up */
        decode_once(f, &msgs[i], &u);
    double c0 = cpu_s(), el;
    do {
        const msg_t *m = &msgs[done % n];
        events += decode_once(f, m, &u);
        bytes += m->len;
        done++;
        el = cpu_s() - c0;
    } while (iters ? done < iters : (el < seconds || done < n));
    msgpack_unpacked_destroy(&u);
    rate_t r = {el * 1e6 / (double)events, (double)events / el, (double)bytes / el / 1e6};
    return r;
}

static void print_pair(const char *name, size_t bytes, rate_t d, rate_t lim)
{
    printf("%-34s %7.2f us/event %9.0f events/s %7.1f MB/s   (msgpack_unpack_next: %6.2f us, "
           "%7.1f MB/s; decode/unpack %.2fx)\n",
           name, d.us_per_event, d.events_s, d.mb_s, lim.us_per_event, lim.mb_s,
           d.us_per_event / lim.us_per_event);
    (void)bytes;
}

int main(int argc, char **argv)
{
    size_t n_ev = 200, size = 5000, batch = 64, iters = 0;
    double seconds = 1.0;
    const char *save = NULL, *load = NULL, *only = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "usage: bench_codec [--events N] [--size BYTES] [--seconds S] "
                            "[--batch B] [--iters N] [--save FILE] [--load FILE] [--only FORM]\n");
            return 2;
        }
        if (strcmp(a, "--events") == 0)
            n_ev = strtoul(v, NULL, 10);
        else if (strcmp(a, "--size") == 0)
            size = strtoul(v, NULL, 10);
        else if (strcmp(a, "--seconds") == 0)
            seconds = atof(v);
        else if (strcmp(a, "--batch") == 0)
            batch = strtoul(v, NULL, 10);
        else if (strcmp(a, "--iters") == 0)
            iters = strtoul(v, NULL, 10);
        else if (strcmp(a, "--save") == 0)
            save = v;
        else if (strcmp(a, "--load") == 0)
            load = v;
        else if (strcmp(a, "--only") == 0)
            only = v;
        else {
            fprintf(stderr, "bench_codec: unknown option %s\n", a);
            return 2;
        }
        i++;
    }
    if (n_ev == 0 || batch == 0)
        return 2;

    ww_event_t **evs;
    bool real = false;
    double t0 = cpu_s();
    if (load) {
        evs = load_events(load, &n_ev);
        if (!evs || n_ev == 0) {
            fprintf(stderr, "bench_codec: cannot read events from %s\n", load);
            return 1;
        }
    } else {
        evs = make_events(n_ev, size, &real);
    }
    if (save && save_events(save, evs, n_ev) != 0) {
        fprintf(stderr, "bench_codec: cannot write %s\n", save);
        return 1;
    }
    double prep = cpu_s() - t0;

    msg_t *pub = ww_calloc(n_ev, sizeof *pub), *one = ww_calloc(n_ev, sizeof *one);
    size_t n_b = (n_ev + batch - 1) / batch;
    msg_t *many = ww_calloc(n_b, sizeof *many);
    size_t pub_bytes = 0, one_bytes = 0, ents = 0, kws = 0, qs = 0;
    for (size_t i = 0; i < n_ev; i++) {
        pub[i] = pack(&evs[i], 1, false);
        one[i] = pack(&evs[i], 1, true);
        pub_bytes += pub[i].len;
        one_bytes += one[i].len;
        ents += evs[i]->n_entities;
        kws += evs[i]->n_keywords;
        qs += evs[i]->n_quotes;
    }
    for (size_t b = 0; b < n_b; b++) {
        size_t lo = b * batch, cnt = n_ev - lo < batch ? n_ev - lo : batch;
        many[b] = pack(&evs[lo], cnt, true);
    }
    printf("events: %zu %s, public form %zu bytes, internal form %zu bytes, %.1f entities, "
           "%.1f keywords, %.1f quotes on average (prepared in %.1f s)\n",
           n_ev, load ? "loaded from a --save file" : real ? "Reuters-21578 articles concatenated" : "generated",
           pub_bytes / n_ev, one_bytes / n_ev, (double)ents / (double)n_ev,
           (double)kws / (double)n_ev, (double)qs / (double)n_ev, prep);

    size_t it = iters;
    if (only) {
        static const char *const names[] = {"public", "trusted", "untrusted", "unpack", "batch"};
        int k = 0;
        while (k < 5 && strcmp(only, names[k]) != 0)
            k++;
        rate_t r;
        if (k == 0)
            r = measure(F_PUBLIC, pub, n_ev, seconds, it);
        else if (k == 1)
            r = measure(F_BATCH_TRUSTED, one, n_ev, seconds, it);
        else if (k == 2)
            r = measure(F_BATCH_UNTRUSTED, one, n_ev, seconds, it);
        else if (k == 3)
            r = measure(F_UNPACK, one, n_ev, seconds, it);
        else if (k == 4)
            r = measure(F_BATCH_TRUSTED, many, n_b, seconds, it ? (it + batch - 1) / batch : 0);
        else {
            fprintf(stderr, "bench_codec: --only public|trusted|untrusted|unpack|batch\n");
            return 2;
        }
        printf("%s: %.2f us/event, %.0f events/s, %.1f MB/s\n", only, r.us_per_event, r.events_s, r.mb_s);
        goto done;
    }
    rate_t r_pub = measure(F_PUBLIC, pub, n_ev, seconds, it);
    rate_t u_pub = measure(F_UNPACK, pub, n_ev, seconds, it);
    rate_t r_tr = measure(F_BATCH_TRUSTED, one, n_ev, seconds, it);
    rate_t u_one = measure(F_UNPACK, one, n_ev, seconds, it);
    rate_t r_un = measure(F_BATCH_UNTRUSTED, one, n_ev, seconds, it);
    rate_t r_many = measure(F_BATCH_TRUSTED, many, n_b, seconds, it ? (it + batch - 1) / batch : 0);
    rate_t u_many = measure(F_UNPACK, many, n_b, seconds, it ? (it + batch - 1) / batch : 0);
    u_many.us_per_event /= (double)n_ev / (double)n_b; /* per event, not per message */
    u_many.events_s *= (double)n_ev / (double)n_b;
    print_pair("public map form (untrusted):", pub_bytes, r_pub, u_pub);
    print_pair("internal compact, trusted:", one_bytes, r_tr, u_one);
    print_pair("internal compact, untrusted:", one_bytes, r_un, u_one);
    char name[64];
    snprintf(name, sizeof name, "internal, trusted, %zu per batch:", batch);
    print_pair(name, one_bytes, r_many, u_many);
done:
    for (size_t i = 0; i < n_ev; i++) {
        free(pub[i].buf);
        free(one[i].buf);
        ww_event_destroy(&evs[i]);
    }
    for (size_t b = 0; b < n_b; b++)
        free(many[b].buf);
    ww_free(pub);
    ww_free(one);
    ww_free(many);
    ww_free(evs);
    return 0;
}
