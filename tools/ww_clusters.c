/* ww_clusters.c - word clusters for the NER model, computed by the project
 * itself from unlabelled text (a training-time tool, never run in CI).
 *
 *   ww-clusters OUT C1,C2,C3 [--conll FILE]... [--jsonl FILE]... [--min N] [--iter N]
 *
 * Reads the first column of CoNLL files and the "title"/"body" strings of
 * JSON-lines files, tokenizes them with ww_ner_tokenize (the labeller's own
 * tokenizer) and clusters the words that occur at least N times (default 3)
 * with the exchange algorithm (Kneser & Ney 1993, Martin et al. 1998): a
 * class bigram model whose log likelihood
 *     sum N(c,d) log N(c,d) - sum N(c,.) log N(c,.) - sum N(.,d) log N(.,d)
 * is raised by moving one word at a time to the class that raises it most,
 * until few words move. It runs once per class count (e.g. 64,256,1024), the
 * coarse counts playing the role of short Brown-cluster prefixes. Words are
 * first assigned round-robin by frequency rank, so the output is
 * deterministic. OUT lines: word<TAB>c1<TAB>c2<TAB>c3. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww/alloc.h"
#include "ww/ner.h"
#include "ww/text.h"

typedef struct {
    uint64_t *keys;
    uint32_t *vals;
    size_t cap, n;
} map_t;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static uint32_t *map_put(map_t *m, uint64_t key, bool *isnew)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 1024;
        uint64_t *nk = ww_calloc(nc, sizeof *nk);
        uint32_t *nv = ww_calloc(nc, sizeof *nv);
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->keys[i])
                continue;
            size_t j = mix(m->keys[i]) & (nc - 1);
            while (nk[j])
                j = (j + 1) & (nc - 1);
            nk[j] = m->keys[i];
            nv[j] = m->vals[i];
        }
        ww_free(m->keys);
        ww_free(m->vals);
        m->keys = nk;
        m->vals = nv;
        m->cap = nc;
    }
    key = key ? key : 1;
    size_t i = mix(key) & (m->cap - 1);
    while (m->keys[i] && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    *isnew = !m->keys[i];
    if (*isnew) {
        m->keys[i] = key;
        m->vals[i] = 0;
        m->n++;
    }
    return &m->vals[i];
}

/* corpus: word ids, 0 = boundary */
static uint32_t *corp;
static size_t ncorp, ccorp;
static map_t words;
static char **wstr;
static uint64_t *wcount;
static size_t nwords, cwords, cwstr;

static void add_word(const char *p, size_t n)
{
    bool isnew;
    uint32_t *v = map_put(&words, ww_hash_bytes(p, n), &isnew);
    if (isnew) {
        WW_GROW(wstr, cwstr, nwords + 1);
        WW_GROW(wcount, cwords, nwords + 1);
        wstr[nwords] = ww_strndup(p, n);
        wcount[nwords] = 0;
        *v = (uint32_t)nwords++;
    }
    wcount[*v]++;
    WW_GROW(corp, ccorp, ncorp + 1);
    corp[ncorp++] = *v + 1;
}

static void boundary(void)
{
    WW_GROW(corp, ccorp, ncorp + 1);
    corp[ncorp++] = 0;
}

static void add_text(const char *t, size_t len)
{
    static ww_ner_tok_t *toks;
    static size_t cap;
    size_t n = ww_ner_tokenize(t, len, &toks, &cap);
    for (size_t i = 0; i < n; i++) {
        if ((toks[i].flags & WW_NER_TOK_SENT) && i)
            boundary();
        add_word(t + toks[i].start, toks[i].len);
    }
    boundary();
}

static int read_conll(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t lc = 0;
    ssize_t r;
    while ((r = getline(&line, &lc, f)) >= 0) {
        size_t n = strcspn(line, " \t\r\n");
        if (n == 0 || (n == 10 && memcmp(line, "-DOCSTART-", 10) == 0)) {
            if (ncorp && corp[ncorp - 1] != 0)
                boundary();
            continue;
        }
        add_word(line, n);
    }
    free(line);
    fclose(f);
    return 0;
}

static int read_jsonl(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t lc = 0;
    ssize_t r;
    while ((r = getline(&line, &lc, f)) >= 0) {
        json_t *j = json_loadb(line, (size_t)r, 0, NULL);
        if (!j)
            continue;
        const char *fields[] = {"title", "body"};
        for (int k = 0; k < 2; k++) {
            json_t *v = json_object_get(j, fields[k]);
            if (json_is_string(v))
                add_text(json_string_value(v), json_string_length(v));
        }
        json_decref(j);
    }
    free(line);
    fclose(f);
    return 0;
}

/* ---- exchange algorithm -------------------------------------------------------------- */

typedef struct {
    uint32_t v, n;
} adj_t;

static double *F; /* F[x] = x log x */
static size_t nF;

static inline double fx(int64_t x)
{
    return (size_t)x < nF ? F[x] : (double)x * log((double)x);
}

static int cmp_u64desc(const void *a, const void *b)
{
    uint64_t x = wcount[*(const uint32_t *)a], y = wcount[*(const uint32_t *)b];
    if (x != y)
        return x > y ? -1 : 1;
    return strcmp(wstr[*(const uint32_t *)a], wstr[*(const uint32_t *)b]);
}

/* Clusters V vocabulary ids (0..V-1, id 0 the boundary/unknown) into C classes. */
static void exchange(uint32_t V, const uint32_t *radj_off, const adj_t *radj, const uint32_t *ladj_off,
                     const adj_t *ladj, const uint64_t *cnt, const uint32_t *rank_order, uint32_t C,
                     unsigned iters, uint32_t *cls)
{
    int64_t *N = ww_calloc((size_t)C * C, sizeof *N);
    int64_t *NL = ww_calloc(C, sizeof *NL), *NR = ww_calloc(C, sizeof *NR);
    for (uint32_t r = 0; r < V; r++)
        cls[rank_order[r]] = r % C;
    for (uint32_t w = 0; w < V; w++)
        for (uint32_t k = radj_off[w]; k < radj_off[w + 1]; k++) {
            N[(size_t)cls[w] * C + cls[radj[k].v]] += radj[k].n;
            NL[cls[w]] += radj[k].n;
            NR[cls[radj[k].v]] += radj[k].n;
        }
    int64_t *r = ww_calloc(C, sizeof *r), *l = ww_calloc(C, sizeof *l);
    uint32_t *rt = ww_malloc(C * sizeof *rt), *lt = ww_malloc(C * sizeof *lt);
    for (unsigned it = 0; it < iters; it++) {
        size_t moved = 0;
        for (uint32_t ri = 0; ri < V; ri++) {
            uint32_t w = rank_order[ri];
            if (w == 0)
                continue; /* the boundary stays */
            (void)cnt;
            size_t nrt = 0, nlt = 0;
            int64_t self = 0, nLw = 0, nRw = 0;
            for (uint32_t k = radj_off[w]; k < radj_off[w + 1]; k++) {
                nLw += radj[k].n;
                if (radj[k].v == w) {
                    self += radj[k].n;
                    continue;
                }
                uint32_t d = cls[radj[k].v];
                if (!r[d])
                    rt[nrt++] = d;
                r[d] += radj[k].n;
            }
            for (uint32_t k = ladj_off[w]; k < ladj_off[w + 1]; k++) {
                nRw += ladj[k].n;
                if (ladj[k].v == w)
                    continue;
                uint32_t c = cls[ladj[k].v];
                if (!l[c])
                    lt[nlt++] = c;
                l[c] += ladj[k].n;
            }
            uint32_t a = cls[w];
            /* remove w from a */
            for (size_t k = 0; k < nrt; k++)
                N[(size_t)a * C + rt[k]] -= r[rt[k]];
            for (size_t k = 0; k < nlt; k++)
                N[(size_t)lt[k] * C + a] -= l[lt[k]];
            N[(size_t)a * C + a] -= self;
            NL[a] -= nLw;
            NR[a] -= nRw;
            double best = -1e300;
            uint32_t bb = a;
            for (uint32_t b = 0; b < C; b++) {
                double dlt = 0;
                const int64_t *row = &N[(size_t)b * C];
                for (size_t k = 0; k < nrt; k++) {
                    uint32_t d = rt[k];
                    if (d == b)
                        continue;
                    dlt += fx(row[d] + r[d]) - fx(row[d]);
                }
                for (size_t k = 0; k < nlt; k++) {
                    uint32_t c = lt[k];
                    if (c == b)
                        continue;
                    int64_t x = N[(size_t)c * C + b];
                    dlt += fx(x + l[c]) - fx(x);
                }
                int64_t bb0 = row[b];
                dlt += fx(bb0 + r[b] + l[b] + self) - fx(bb0);
                dlt -= fx(NL[b] + nLw) - fx(NL[b]);
                dlt -= fx(NR[b] + nRw) - fx(NR[b]);
                if (dlt > best + 1e-9 || (b == a && dlt >= best - 1e-9)) {
                    best = dlt;
                    bb = b;
                }
            }
            /* add w to bb */
            for (size_t k = 0; k < nrt; k++)
                N[(size_t)bb * C + rt[k]] += r[rt[k]];
            for (size_t k = 0; k < nlt; k++)
                N[(size_t)lt[k] * C + bb] += l[lt[k]];
            N[(size_t)bb * C + bb] += self;
            NL[bb] += nLw;
            NR[bb] += nRw;
            if (bb != a)
                moved++;
            cls[w] = bb;
            for (size_t k = 0; k < nrt; k++)
                r[rt[k]] = 0;
            for (size_t k = 0; k < nlt; k++)
                l[lt[k]] = 0;
        }
        fprintf(stderr, "ww-clusters: C=%u iteration %u: %zu words moved\n", C, it + 1, moved);
        if (moved * 1000 < V)
            break;
    }
    ww_free(N);
    ww_free(NL);
    ww_free(NR);
    ww_free(r);
    ww_free(l);
    ww_free(rt);
    ww_free(lt);
}

static int cmp_adj(const void *a, const void *b)
{
    const adj_t *x = a, *y = b;
    return x->v < y->v ? -1 : x->v > y->v;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: ww-clusters OUT C1,C2,C3 [--conll FILE]... [--jsonl FILE]... [--min N] [--iter N]\n");
        return 2;
    }
    const char *out = argv[1];
    unsigned Cs[3];
    if (sscanf(argv[2], "%u,%u,%u", &Cs[0], &Cs[1], &Cs[2]) != 3) {
        fprintf(stderr, "ww-clusters: need three class counts\n");
        return 2;
    }
    unsigned minc = 3, iters = 10;
    add_word("<s>", 3); /* id 0 is the boundary */
    ncorp = 0;
    for (int i = 3; i < argc; i++) {
        if (i + 1 >= argc) {
            fprintf(stderr, "ww-clusters: %s needs a value\n", argv[i]);
            return 2;
        }
        const char *v = argv[++i];
        int rc = 0;
        if (strcmp(argv[i - 1], "--conll") == 0)
            rc = read_conll(v);
        else if (strcmp(argv[i - 1], "--jsonl") == 0)
            rc = read_jsonl(v);
        else if (strcmp(argv[i - 1], "--min") == 0)
            minc = (unsigned)atoi(v);
        else if (strcmp(argv[i - 1], "--iter") == 0)
            iters = (unsigned)atoi(v);
        else {
            fprintf(stderr, "ww-clusters: unknown option %s\n", argv[i - 1]);
            return 2;
        }
        if (rc < 0) {
            perror(v);
            return 1;
        }
    }
    /* vocabulary: words seen >= minc times; the rest share id 0 with the boundary */
    uint32_t *vid = ww_malloc(nwords * sizeof *vid);
    uint32_t *order = ww_malloc(nwords * sizeof *order);
    for (size_t i = 0; i < nwords; i++)
        order[i] = (uint32_t)i;
    qsort(order + 1, nwords - 1, sizeof *order, cmp_u64desc);
    uint32_t V = 1;
    vid[0] = 0;
    uint32_t *vword = ww_malloc(nwords * sizeof *vword);
    vword[0] = 0;
    for (size_t r = 1; r < nwords; r++) {
        uint32_t w = order[r];
        if (wcount[w] >= minc) {
            vword[V] = w;
            vid[w] = V++;
        } else {
            vid[w] = 0;
        }
    }
    fprintf(stderr, "ww-clusters: %zu tokens, %zu words, %u clustered\n", ncorp, nwords, V - 1);
    /* bigram counts */
    map_t bg = {0};
    uint64_t *bkeys = NULL;
    size_t nb = 0, cb = 0;
    uint32_t *bcnt = NULL;
    size_t cbc = 0;
    for (size_t i = 1; i < ncorp; i++) {
        uint32_t a = corp[i - 1] ? vid[corp[i - 1] - 1] : 0, b = corp[i] ? vid[corp[i] - 1] : 0;
        uint64_t key = ((uint64_t)a << 32) | b;
        bool isnew;
        uint32_t *v = map_put(&bg, key + 1, &isnew);
        if (isnew) {
            WW_GROW(bkeys, cb, nb + 1);
            WW_GROW(bcnt, cbc, nb + 1);
            bkeys[nb] = key;
            bcnt[nb] = 0;
            *v = (uint32_t)nb++;
        }
        bcnt[*v]++;
    }
    uint32_t *roff = ww_calloc(V + 1, sizeof *roff), *loff = ww_calloc(V + 1, sizeof *loff);
    for (size_t k = 0; k < nb; k++) {
        roff[(bkeys[k] >> 32) + 1]++;
        loff[(bkeys[k] & 0xffffffffu) + 1]++;
    }
    for (uint32_t v = 0; v < V; v++) {
        roff[v + 1] += roff[v];
        loff[v + 1] += loff[v];
    }
    adj_t *radj = ww_malloc((nb + 1) * sizeof *radj), *ladj = ww_malloc((nb + 1) * sizeof *ladj);
    uint32_t *rp = ww_malloc((V + 1) * sizeof *rp), *lp = ww_malloc((V + 1) * sizeof *lp);
    memcpy(rp, roff, (V + 1) * sizeof *rp);
    memcpy(lp, loff, (V + 1) * sizeof *lp);
    for (size_t k = 0; k < nb; k++) {
        uint32_t a = (uint32_t)(bkeys[k] >> 32), b = (uint32_t)bkeys[k];
        radj[rp[a]++] = (adj_t){b, bcnt[k]};
        ladj[lp[b]++] = (adj_t){a, bcnt[k]};
    }
    for (uint32_t v = 0; v < V; v++) {
        qsort(radj + roff[v], roff[v + 1] - roff[v], sizeof *radj, cmp_adj);
        qsort(ladj + loff[v], loff[v + 1] - loff[v], sizeof *ladj, cmp_adj);
    }
    nF = ncorp + 2;
    F = ww_malloc(nF * sizeof *F);
    F[0] = 0;
    for (size_t x = 1; x < nF; x++)
        F[x] = (double)x * log((double)x);
    uint32_t *rank = ww_malloc(V * sizeof *rank);
    for (uint32_t v = 0; v < V; v++)
        rank[v] = v; /* ids are already in frequency order */
    uint32_t *cls[3];
    for (int g = 0; g < 3; g++) {
        cls[g] = ww_malloc(V * sizeof *cls[g]);
        exchange(V, roff, radj, loff, ladj, NULL, rank, Cs[g], iters, cls[g]);
    }
    FILE *f = fopen(out, "w");
    if (!f) {
        perror(out);
        return 1;
    }
    fprintf(f, "# word\tclass of %u\tclass of %u\tclass of %u (ww-clusters, exchange algorithm)\n", Cs[0],
            Cs[1], Cs[2]);
    for (uint32_t v = 1; v < V; v++)
        fprintf(f, "%s\t%u\t%u\t%u\n", wstr[vword[v]], cls[0][v], cls[1][v], cls[2][v]);
    if (fclose(f) != 0) {
        perror(out);
        return 1;
    }
    return 0;
}
