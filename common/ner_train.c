/* ner_train.c - CoNLL corpora, training of the two-pass averaged structured
 * perceptron, evaluation (conlleval-style phrase scores), `ner --conll`
 * output and the model file writer.
 *
 * Training (deterministic for a given seed):
 *   pass 1: perceptron epochs over shuffled sentences; after every epoch the
 *           averaged weights are scored on dev and the best epoch is kept.
 *   pass 2: its document features need pass-1 labels on the training set
 *           that are as wrong as they will be on new text, so they come from
 *           a jackknife: `folds` pass-1 models, each trained without one fold
 *           of the documents, label that fold. Then pass 2 is trained like
 *           pass 1 (dev features from the full pass-1 model).
 * Weights are stored as int16 with one scale per pass. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ner_internal.h"
#include "ww/alloc.h"
#include "ww/text.h"

/* ---- corpus ------------------------------------------------------------------------ */

typedef struct {
    uint32_t off, len; /* line in buf (without newline) */
    int64_t tok;       /* its token, -1 for blank lines */
} cline_t;

struct ww_ner_corpus {
    char *buf;          /* the file (lines NUL-terminated in place... not: kept intact) */
    size_t len;
    ww_ner_tok_t *toks; /* one per non-blank line */
    size_t n, cap;
    uint8_t *gold;      /* BILOU labels */
    size_t *docs;       /* first token of each document; docs[ndoc] = n */
    size_t ndoc, dcap;
    cline_t *lines;
    size_t nlines, lcap;
};

static int tag_parse(const char *p, size_t n, int *type, char *bio)
{
    if (n == 1 && p[0] == 'O') {
        *type = -1;
        *bio = 'O';
        return 0;
    }
    if (n < 3 || p[1] != '-' || (p[0] != 'B' && p[0] != 'I'))
        return -1;
    static const char *const names[] = {"PER", "ORG", "LOC", "MISC"};
    for (int t = 0; t < 4; t++)
        if (strlen(names[t]) == n - 2 && memcmp(p + 2, names[t], n - 2) == 0) {
            *type = t;
            *bio = p[0];
            return 0;
        }
    return -1;
}

ww_ner_corpus_t *ww_ner_corpus_read(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    ww_ner_corpus_t *c = ww_calloc(1, sizeof *c);
    size_t cap = 1 << 16, r;
    c->buf = ww_malloc(cap + 1);
    while ((r = fread(c->buf + c->len, 1, cap - c->len, f)) > 0) {
        c->len += r;
        if (c->len == cap)
            c->buf = ww_realloc(c->buf, (cap *= 2) + 1);
    }
    fclose(f);
    c->buf[c->len] = '\0';
    int *types = NULL;
    char *bio = NULL;
    size_t tcap = 0, bcap = 0;
    size_t pos = 0;
    bool sent = true;
    while (pos < c->len) {
        char *nl = memchr(c->buf + pos, '\n', c->len - pos);
        size_t e = nl ? (size_t)(nl - c->buf) : c->len;
        size_t le = e;
        while (le > pos && (c->buf[le - 1] == '\r' || c->buf[le - 1] == ' ' || c->buf[le - 1] == '\t'))
            le--;
        WW_GROW(c->lines, c->lcap, c->nlines + 1);
        cline_t *L = &c->lines[c->nlines++];
        L->off = (uint32_t)pos;
        L->len = (uint32_t)(le - pos);
        L->tok = -1;
        if (le > pos) {
            const char *p = c->buf + pos;
            size_t tl = 0;
            while (pos + tl < le && p[tl] != ' ' && p[tl] != '\t')
                tl++;
            const char *lastsp = p + L->len;
            while (lastsp > p && lastsp[-1] != ' ' && lastsp[-1] != '\t')
                lastsp--;
            uint32_t fl = sent ? WW_NER_TOK_SENT : 0;
            bool docstart = tl == 10 && memcmp(p, "-DOCSTART-", 10) == 0;
            if (docstart) {
                fl |= WW_NER_TOK_SKIP | WW_NER_TOK_SENT;
                WW_GROW(c->docs, c->dcap, c->ndoc + 2);
                c->docs[c->ndoc++] = c->n;
            } else if (c->ndoc == 0) {
                WW_GROW(c->docs, c->dcap, c->ndoc + 2);
                c->docs[c->ndoc++] = 0;
            }
            WW_GROW(c->toks, c->cap, c->n + 1);
            WW_GROW(types, tcap, c->n + 1);
            WW_GROW(bio, bcap, c->n + 1);
            c->toks[c->n] = (ww_ner_tok_t){(uint32_t)pos, (uint32_t)tl, fl};
            int ty = -1;
            char b = 'O';
            if (lastsp > p && !docstart &&
                tag_parse(lastsp, (size_t)(p + L->len - lastsp), &ty, &b) < 0) {
                ty = -1;
                b = 'O';
            }
            types[c->n] = ty;
            bio[c->n] = b;
            L->tok = (int64_t)c->n;
            c->n++;
            sent = docstart;
        } else {
            sent = true;
        }
        pos = e + 1;
    }
    if (c->ndoc == 0) {
        WW_GROW(c->docs, c->dcap, 2);
        c->docs[c->ndoc++] = 0;
    }
    c->docs[c->ndoc] = c->n;
    /* IOB (1 or 2) -> BILOU */
    c->gold = ww_malloc(c->n + 1);
    for (size_t i = 0; i < c->n; i++) {
        int t = types[i];
        if (t < 0) {
            c->gold[i] = WW_NER_O;
            continue;
        }
        bool begins = bio[i] == 'B' || i == 0 || (c->toks[i].flags & WW_NER_TOK_SENT) ||
                      types[i - 1] != t;
        bool cont = i + 1 < c->n && !(c->toks[i + 1].flags & WW_NER_TOK_SENT) &&
                    types[i + 1] == t && bio[i + 1] == 'I';
        int p = begins ? (cont ? WW_NER_B : WW_NER_U) : (cont ? WW_NER_I : WW_NER_L);
        c->gold[i] = (uint8_t)ww_ner_label_make(t, p);
    }
    ww_free(types);
    ww_free(bio);
    (void)err;
    return c;
}

void ww_ner_corpus_free(ww_ner_corpus_t **cp)
{
    if (!cp || !*cp)
        return;
    ww_ner_corpus_t *c = *cp;
    ww_free(c->buf);
    ww_free(c->toks);
    ww_free(c->gold);
    ww_free(c->docs);
    ww_free(c->lines);
    ww_free(c);
    *cp = NULL;
}

size_t ww_ner_corpus_tokens(const ww_ner_corpus_t *c)
{
    return c ? c->n : 0;
}

static ww_ner_doc_t corpus_doc(const ww_ner_corpus_t *c, size_t k)
{
    return (ww_ner_doc_t){c->buf, c->toks + c->docs[k], c->docs[k + 1] - c->docs[k]};
}

/* ---- scoring ----------------------------------------------------------------------- */

static void score_add(ww_ner_score_t *sc, const uint8_t *gold, const uint8_t *pred, size_t n)
{
    ww_ner_ent_t *g = NULL, *p = NULL;
    size_t gc = 0, pc = 0;
    size_t ng = ww_ner_spans(gold, n, &g, &gc);
    size_t np = ww_ner_spans(pred, n, &p, &pc);
    size_t i = 0, j = 0;
    while (i < ng || j < np) {
        if (i < ng && j < np && g[i].ta == p[j].ta && g[i].tb == p[j].tb && g[i].type == p[j].type) {
            sc->tp[g[i].type]++;
            i++;
            j++;
        } else if (j >= np || (i < ng && (g[i].ta < p[j].ta || (g[i].ta == p[j].ta && g[i].tb <= p[j].tb)))) {
            sc->fn[g[i].type]++;
            i++;
        } else {
            sc->fp[p[j].type]++;
            j++;
        }
    }
    for (size_t k = 0; k < n; k++) {
        int a = ww_ner_label_type(gold[k]), b = ww_ner_label_type(pred[k]);
        sc->tok_correct += a == b;
    }
    sc->tokens += n;
    ww_free(g);
    ww_free(p);
}

double ww_ner_f1(const ww_ner_score_t *sc, int type)
{
    size_t tp = 0, fp = 0, fn = 0;
    for (int t = 0; t < WW_NER_NTYPE; t++)
        if (type < 0 || type == t) {
            tp += sc->tp[t];
            fp += sc->fp[t];
            fn += sc->fn[t];
        }
    return tp ? 200.0 * (double)tp / (double)(2 * tp + fp + fn) : 0.0;
}

void ww_ner_score_print(const ww_ner_score_t *sc, FILE *f)
{
    static const char *const names[] = {"PER", "ORG", "LOC", "MISC"};
    size_t tp = 0, fp = 0, fn = 0;
    for (int t = 0; t < WW_NER_NTYPE; t++) {
        tp += sc->tp[t];
        fp += sc->fp[t];
        fn += sc->fn[t];
    }
    double P = tp + fp ? 100.0 * (double)tp / (double)(tp + fp) : 0;
    double R = tp + fn ? 100.0 * (double)tp / (double)(tp + fn) : 0;
    fprintf(f, "processed %zu tokens with %zu phrases; found: %zu phrases; correct: %zu.\n",
            sc->tokens, tp + fn, tp + fp, tp);
    fprintf(f, "accuracy: %6.2f%%; precision: %6.2f%%; recall: %6.2f%%; FB1: %6.2f\n",
            sc->tokens ? 100.0 * (double)sc->tok_correct / (double)sc->tokens : 0.0, P, R,
            ww_ner_f1(sc, -1));
    for (int t = 0; t < WW_NER_NTYPE; t++) {
        double p = sc->tp[t] + sc->fp[t] ? 100.0 * (double)sc->tp[t] / (double)(sc->tp[t] + sc->fp[t]) : 0;
        double r = sc->tp[t] + sc->fn[t] ? 100.0 * (double)sc->tp[t] / (double)(sc->tp[t] + sc->fn[t]) : 0;
        fprintf(f, "%17s: precision: %6.2f%%; recall: %6.2f%%; FB1: %6.2f  %zu\n", names[t], p, r,
                ww_ner_f1(sc, t), sc->tp[t] + sc->fp[t]);
    }
}

void ww_ner_evaluate(const ww_ner_model_t *m, const ww_ner_corpus_t *c, ww_ner_score_t *sc)
{
    memset(sc, 0, sizeof *sc);
    ww_ner_scratch_t *s = ww_ner_scratch_new();
    uint8_t *lab = ww_malloc(c->n + 1);
    for (size_t k = 0; k < c->ndoc; k++) {
        ww_ner_doc_t d = corpus_doc(c, k);
        ww_ner_label(m, s, &d, lab + c->docs[k]);
    }
    score_add(sc, c->gold, lab, c->n);
    ww_free(lab);
    ww_ner_scratch_destroy(&s);
}

void ww_ner_write_conll(const ww_ner_model_t *m, const ww_ner_corpus_t *c, FILE *f)
{
    ww_ner_scratch_t *s = ww_ner_scratch_new();
    uint8_t *lab = ww_malloc(c->n + 1);
    for (size_t k = 0; k < c->ndoc; k++) {
        ww_ner_doc_t d = corpus_doc(c, k);
        ww_ner_label(m, s, &d, lab + c->docs[k]);
    }
    static const char *const names[] = {"PER", "ORG", "LOC", "MISC"};
    for (size_t i = 0; i < c->nlines; i++) {
        const cline_t *L = &c->lines[i];
        if (L->tok < 0) {
            fputc('\n', f);
            continue;
        }
        int l = lab[L->tok];
        fwrite(c->buf + L->off, 1, L->len, f);
        if (l == WW_NER_O)
            fputs(" O\n", f);
        else
            fprintf(f, " %c-%s\n",
                    (ww_ner_label_pos(l) == WW_NER_B || ww_ner_label_pos(l) == WW_NER_U) ? 'B' : 'I',
                    names[ww_ner_label_type(l)]);
    }
    ww_free(lab);
    ww_ner_scratch_destroy(&s);
}

/* ---- resources: clusters and gazetteer ---------------------------------------------- */

static size_t pow2_at_least(size_t n)
{
    size_t c = 16;
    while (c < n)
        c *= 2;
    return c;
}

/* Reads "word<TAB>c1<TAB>c2<TAB>c3" lines. */
static int load_clusters(const char *path, ner_clu_slot_t **out, size_t *cap, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t lc = 0, n = 0;
    ssize_t r;
    while ((r = getline(&line, &lc, f)) >= 0)
        n++;
    rewind(f);
    *cap = pow2_at_least(n * 2 + 2);
    ner_clu_slot_t *t = ww_calloc(*cap, sizeof *t);
    while ((r = getline(&line, &lc, f)) >= 0) {
        char *tab = strchr(line, '\t');
        if (!tab || line[0] == '#')
            continue;
        unsigned a = 0, b = 0, cc = 0;
        if (sscanf(tab + 1, "%u\t%u\t%u", &a, &b, &cc) != 3)
            continue;
        uint64_t key = ww_hash_bytes(line, (size_t)(tab - line));
        key = key ? key : 1;
        size_t i = ner_mix(key) & (*cap - 1);
        while (t[i].key && t[i].key != key)
            i = (i + 1) & (*cap - 1);
        t[i].key = key;
        t[i].c[0] = (uint16_t)(a + 1);
        t[i].c[1] = (uint16_t)(b + 1);
        t[i].c[2] = (uint16_t)(cc + 1);
    }
    free(line);
    fclose(f);
    *out = t;
    return 0;
}

static int ng_parse(const char *s)
{
    static const char *const names[NG__COUNT] = {"LOC", "PER", "FIRST", "LAST", "ORG",
                                                 "MISC", "DEMONYM", "TITLE", "CUR"};
    for (int i = 0; i < NG__COUNT; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static ner_gaz_slot_t *gaz_upsert(ner_gaz_slot_t *t, size_t cap, uint64_t key)
{
    size_t i = ner_mix(key) & (cap - 1);
    while (t[i].key && t[i].key != key)
        i = (i + 1) & (cap - 1);
    t[i].key = key;
    return &t[i];
}

/* Reads "phrase<TAB>TYPE" lines; phrases are tokenized like text. */
static int load_gazetteer(const char *path, ner_gaz_slot_t **out, size_t *cap, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t lc = 0, n = 0;
    ssize_t r;
    while ((r = getline(&line, &lc, f)) >= 0)
        n++;
    rewind(f);
    *cap = pow2_at_least(n * 6 + 16);
    ner_gaz_slot_t *t = ww_calloc(*cap, sizeof *t);
    ww_ner_tok_t *toks = NULL;
    size_t tcap = 0;
    char low[512];
    while ((r = getline(&line, &lc, f)) >= 0) {
        if (line[0] == '#')
            continue;
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = '\0';
        char *ty = tab + 1;
        ty[strcspn(ty, "\t\r\n")] = '\0';
        int g = ng_parse(ty);
        if (g < 0)
            continue;
        size_t nt = ww_ner_tokenize(line, strlen(line), &toks, &tcap);
        if (nt == 0 || nt > 6)
            continue;
        uint64_t h = NER_SEQ_SEED;
        for (size_t i = 0; i < nt; i++) {
            size_t l = toks[i].len < sizeof low ? toks[i].len : sizeof low - 1;
            bool alpha = false;
            for (size_t z = 0; z < l; z++) {
                unsigned char c = (unsigned char)line[toks[i].start + z];
                if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c >= 0x80)
                    alpha = true;
                low[z] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
            }
            uint64_t hl = alpha ? ww_hash_bytes(low, l) : ww_hash_bytes(line + toks[i].start, l);
            h = ner_seq_step(h, hl);
            ner_gaz_slot_t *s = gaz_upsert(t, *cap, h);
            if (i + 1 < nt)
                s->mask |= NG_PREFIX;
            else
                s->mask |= 1u << g;
        }
    }
    ww_free(toks);
    free(line);
    fclose(f);
    *out = t;
    return 0;
}

/* ---- perceptron --------------------------------------------------------------------- */

typedef struct {
    uint32_t *rows; /* feature rows of all tokens */
    uint32_t *off;  /* per token (global index), off[n] = end */
    size_t nrows, cap;
} fcache_t;

/* Computes features of every document of c for pass (reading p1 labels when
 * pass == 1) into fc. */
static void cache_features(ww_ner_model_t *m, ww_ner_scratch_t *s, const ww_ner_corpus_t *c,
                           int pass, const uint8_t *p1, fcache_t *fc)
{
    fc->nrows = 0;
    ww_free(fc->off);
    fc->off = ww_malloc((c->n + 1) * sizeof *fc->off);
    for (size_t k = 0; k < c->ndoc; k++) {
        ww_ner_doc_t d = corpus_doc(c, k);
        if (!d.n)
            continue;
        ner_tokinfo(m, s, &d);
        if (pass == 1) {
            WW_GROW(s->p1, s->p1_cap, d.n);
            memcpy(s->p1, p1 + c->docs[k], d.n);
        }
        ner_features(m, s, &d, pass);
        WW_GROW(fc->rows, fc->cap, fc->nrows + s->nf + 1);
        memcpy(fc->rows + fc->nrows, s->frow, s->nf * sizeof *s->frow);
        for (size_t i = 0; i < d.n; i++)
            fc->off[c->docs[k] + i] = (uint32_t)(fc->nrows + s->foff[i]);
        fc->nrows += s->nf;
    }
    fc->off[c->n] = (uint32_t)fc->nrows;
}

static void fcache_free(fcache_t *fc)
{
    ww_free(fc->rows);
    ww_free(fc->off);
    memset(fc, 0, sizeof *fc);
}

/* Sentences of a corpus: [a, b) token ranges, skipping -DOCSTART-. */
typedef struct {
    size_t a, b;
    size_t doc;
} sent_t;

static sent_t *sentences(const ww_ner_corpus_t *c, size_t *ns)
{
    sent_t *v = NULL;
    size_t cap = 0, n = 0;
    for (size_t k = 0; k < c->ndoc; k++) {
        size_t a = c->docs[k], e = c->docs[k + 1];
        while (a < e) {
            size_t b = a + 1;
            while (b < e && !(c->toks[b].flags & WW_NER_TOK_SENT))
                b++;
            if (!(c->toks[a].flags & WW_NER_TOK_SKIP)) {
                WW_GROW(v, cap, n + 1);
                v[n++] = (sent_t){a, b, k};
            }
            a = b;
        }
    }
    *ns = n;
    return v;
}

/* Decodes sentence [a, b) with cached features (a fake scratch view). */
static void decode_cached(const ww_ner_model_t *m, ww_ner_scratch_t *s, const fcache_t *fc, int pass,
                          size_t a, size_t b, uint8_t *lab)
{
    uint32_t *fr = s->frow, *fo = s->foff;
    s->frow = fc->rows;
    s->foff = fc->off;
    ner_decode(m, s, pass, a, b, lab);
    s->frow = fr;
    s->foff = fo;
}

static uint64_t rng_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

typedef struct {
    float *w;     /* current weights */
    double *u;    /* sum of c * update */
    float *par;
    double *upar;
    double c;
    size_t nw;
} percep_t;

static void percep_init(percep_t *p, size_t nw)
{
    p->nw = nw;
    p->w = ww_calloc(nw, sizeof *p->w);
    p->u = ww_calloc(nw, sizeof *p->u);
    p->par = ww_calloc(NER_PAR_PER_PASS, sizeof *p->par);
    p->upar = ww_calloc(NER_PAR_PER_PASS, sizeof *p->upar);
    p->c = 1;
}

static void percep_free(percep_t *p)
{
    ww_free(p->w);
    ww_free(p->u);
    ww_free(p->par);
    ww_free(p->upar);
    memset(p, 0, sizeof *p);
}

static inline void upd(float *w, double *u, size_t i, float d, double c)
{
    w[i] += d;
    u[i] += c * d;
}

/* One perceptron step on sentence [a, b). */
static void percep_step(percep_t *p, const fcache_t *fc, const uint8_t *gold, const uint8_t *pred,
                        size_t a, size_t b)
{
    enum { L = WW_NER_NLAB };
    bool diff = false;
    for (size_t i = a; i < b; i++)
        diff |= gold[i] != pred[i];
    if (diff) {
        for (size_t i = a; i < b; i++) {
            if (gold[i] == pred[i])
                continue;
            for (uint32_t k = fc->off[i]; k < fc->off[i + 1]; k++) {
                size_t r = (size_t)fc->rows[k] * L;
                upd(p->w, p->u, r + gold[i], 1, p->c);
                upd(p->w, p->u, r + pred[i], -1, p->c);
            }
        }
        float *tr = p->par;
        double *ut = p->upar;
        for (size_t i = a + 1; i < b; i++) {
            if (gold[i - 1] == pred[i - 1] && gold[i] == pred[i])
                continue;
            upd(tr, ut, (size_t)gold[i - 1] * L + gold[i], 1, p->c);
            upd(tr, ut, (size_t)pred[i - 1] * L + pred[i], -1, p->c);
        }
        if (gold[a] != pred[a]) {
            upd(tr, ut, L * L + gold[a], 1, p->c);
            upd(tr, ut, L * L + pred[a], -1, p->c);
        }
        if (gold[b - 1] != pred[b - 1]) {
            upd(tr, ut, L * L + L + gold[b - 1], 1, p->c);
            upd(tr, ut, L * L + L + pred[b - 1], -1, p->c);
        }
    }
    p->c += 1;
}

/* Averaged weights into (w, par). */
static void percep_average(const percep_t *p, float *w, float *par)
{
    for (size_t i = 0; i < p->nw; i++)
        w[i] = (float)(p->w[i] - p->u[i] / p->c);
    for (size_t i = 0; i < NER_PAR_PER_PASS; i++)
        par[i] = (float)(p->par[i] - p->upar[i] / p->c);
}

typedef struct {
    ww_ner_model_t *m;
    ww_ner_scratch_t *s;
    const ww_ner_corpus_t *train;
    const fcache_t *tfc;
    const sent_t *sents;  /* training sentences */
    size_t nsents;
    const bool *use_doc;  /* documents to train on (NULL: all) */
    const ww_ner_corpus_t *dev;
    const fcache_t *dfc;
    const sent_t *dsents;
    size_t ndsents;
    unsigned epochs;
    uint64_t seed;
    FILE *log;
    const char *what;
} trainjob_t;

static double eval_cached(const ww_ner_model_t *m, ww_ner_scratch_t *s, int pass, const ww_ner_corpus_t *c,
                          const fcache_t *fc, const sent_t *ss, size_t ns, uint8_t *lab, ww_ner_score_t *sc)
{
    memset(lab, 0, c->n);
    for (size_t k = 0; k < ns; k++)
        decode_cached(m, s, fc, pass, ss[k].a, ss[k].b, lab);
    memset(sc, 0, sizeof *sc);
    score_add(sc, c->gold, lab, c->n);
    return ww_ner_f1(sc, -1);
}

/* Trains pass `pass` weights into m->wf[pass] / par (averaged, best dev epoch
 * when dev is given, else the last epoch). Returns the epochs used. */
static unsigned train_pass(trainjob_t *j, int pass, float *par_out)
{
    ww_ner_model_t *m = j->m;
    size_t nw = (size_t)(m->mask + 1) * WW_NER_NLAB;
    percep_t p;
    percep_init(&p, nw);
    float *best = ww_malloc(nw * sizeof *best);
    float bestpar[NER_PAR_PER_PASS];
    float *avg = m->wf[pass];
    double bestf = -1;
    unsigned beste = 0;
    uint8_t *pred = ww_calloc(j->train->n + 1, 1);
    uint8_t *dlab = j->dev ? ww_calloc(j->dev->n + 1, 1) : NULL;
    size_t *order = ww_malloc(j->nsents * sizeof *order);
    for (size_t k = 0; k < j->nsents; k++)
        order[k] = k;
    uint64_t rng = j->seed ? j->seed : 0x2545F4914F6CDD1DULL;
    unsigned since_best = 0;
    for (unsigned e = 1; e <= j->epochs; e++) {
        for (size_t k = j->nsents; k > 1; k--) {
            size_t z = (size_t)(rng_next(&rng) % k);
            size_t t = order[k - 1];
            order[k - 1] = order[z];
            order[z] = t;
        }
        /* decode with the current (not averaged) weights */
        m->wf[pass] = p.w;
        m->par[pass] = p.par;
        size_t errs = 0;
        for (size_t k = 0; k < j->nsents; k++) {
            const sent_t *st = &j->sents[order[k]];
            if (j->use_doc && !j->use_doc[st->doc])
                continue;
            decode_cached(m, j->s, j->tfc, pass, st->a, st->b, pred);
            for (size_t i = st->a; i < st->b; i++)
                errs += pred[i] != j->train->gold[i];
            percep_step(&p, j->tfc, j->train->gold, pred, st->a, st->b);
        }
        percep_average(&p, avg, par_out);
        m->wf[pass] = avg;
        m->par[pass] = par_out;
        if (j->dev) {
            ww_ner_score_t sc;
            double f = eval_cached(m, j->s, pass, j->dev, j->dfc, j->dsents, j->ndsents, dlab, &sc);
            if (j->log)
                fprintf(j->log, "%s pass %d epoch %u: train token errors %zu, dev F1 %.2f\n", j->what,
                        pass + 1, e, errs, f);
            if (f > bestf) {
                bestf = f;
                beste = e;
                memcpy(best, avg, nw * sizeof *best);
                memcpy(bestpar, par_out, sizeof bestpar);
                since_best = 0;
            } else if (++since_best >= 3) {
                break;
            }
        } else {
            beste = e;
            if (j->log)
                fprintf(j->log, "%s pass %d epoch %u: train token errors %zu\n", j->what, pass + 1, e, errs);
        }
    }
    if (j->dev) {
        memcpy(avg, best, nw * sizeof *best);
        memcpy(par_out, bestpar, sizeof bestpar);
    }
    m->wf[pass] = avg;
    m->par[pass] = par_out;
    ww_free(best);
    ww_free(pred);
    ww_free(dlab);
    ww_free(order);
    percep_free(&p);
    return beste;
}

/* ---- model writing ------------------------------------------------------------------- */

static size_t align64(size_t x)
{
    return (x + 63) & ~(size_t)63;
}

static int write_model(const ww_ner_model_t *m, const float *par, const ner_clu_slot_t *clu,
                       size_t clu_cap, const ner_gaz_slot_t *gaz, size_t gaz_cap, const char *path,
                       char *err, size_t errlen)
{
    ner_header_t h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, NER_MAGIC, 8);
    h.version = NER_VERSION;
    h.bits = m->bits;
    h.nlab = WW_NER_NLAB;
    h.npass = NER_NPASS;
    size_t rows = (size_t)m->mask + 1, nw = rows * WW_NER_NLAB;
    size_t off = align64(sizeof h);
    for (int p = 0; p < NER_NPASS; p++) {
        h.off_w[p] = off;
        off = align64(off + nw * sizeof(int16_t));
        float mx = 0;
        for (size_t i = 0; i < nw; i++)
            mx = fmaxf(mx, fabsf(m->wf[p][i]));
        h.scale[p] = mx > 0 ? mx / 32767.0f : 1.0f;
    }
    h.off_par = off;
    off = align64(off + NER_NPASS * NER_PAR_PER_PASS * sizeof(float));
    h.off_clu = off;
    h.clu_cap = clu ? clu_cap : 0;
    off = align64(off + h.clu_cap * sizeof(ner_clu_slot_t));
    h.off_gaz = off;
    h.gaz_cap = gaz ? gaz_cap : 0;
    off = align64(off + h.gaz_cap * sizeof(ner_gaz_slot_t));
    h.size = off;
    char *tmp = ww_asprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        ww_free(tmp);
        return -1;
    }
    static const char zeros[64];
    size_t pos = 0;
#define PUT(ptr, n)                                                                                \
    do {                                                                                           \
        fwrite((ptr), 1, (n), f);                                                                  \
        pos += (n);                                                                                \
    } while (0)
#define PAD_TO(o)                                                                                  \
    do {                                                                                           \
        while (pos < (o)) {                                                                        \
            size_t z = (o)-pos < 64 ? (o)-pos : 64;                                                \
            PUT(zeros, z);                                                                         \
        }                                                                                          \
    } while (0)
    PUT(&h, sizeof h);
    int16_t *q = ww_malloc(rows * WW_NER_NLAB * sizeof *q);
    for (int p = 0; p < NER_NPASS; p++) {
        PAD_TO(h.off_w[p]);
        for (size_t i = 0; i < nw; i++)
            q[i] = (int16_t)lrintf(m->wf[p][i] / h.scale[p]);
        PUT(q, nw * sizeof *q);
    }
    ww_free(q);
    PAD_TO(h.off_par);
    PUT(par, NER_NPASS * NER_PAR_PER_PASS * sizeof(float));
    PAD_TO(h.off_clu);
    if (h.clu_cap)
        PUT(clu, h.clu_cap * sizeof *clu);
    PAD_TO(h.off_gaz);
    if (h.gaz_cap)
        PUT(gaz, h.gaz_cap * sizeof *gaz);
    PAD_TO(h.size);
#undef PUT
#undef PAD_TO
    int rc = 0;
    if (ferror(f) || fclose(f) != 0) {
        snprintf(err, errlen, "cannot write %s", tmp);
        rc = -1;
    } else if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot rename %s: %s", tmp, strerror(errno));
        rc = -1;
    }
    if (rc < 0)
        unlink(tmp);
    ww_free(tmp);
    return rc;
}

/* ---- training driver ------------------------------------------------------------------ */

int ww_ner_train(const ww_ner_corpus_t *train, const ww_ner_corpus_t *dev,
                 const ww_ner_train_opts_t *o, const char *out_path, char *err, size_t errlen)
{
    int rc = -1;
    unsigned bits = o->bits ? o->bits : 19;
    unsigned epochs = o->epochs ? o->epochs : 15;
    unsigned folds = o->folds ? o->folds : 4;
    if (bits < 8 || bits > 24) {
        snprintf(err, errlen, "bits must be 8..24");
        return -1;
    }
    ww_ner_model_t m;
    memset(&m, 0, sizeof m);
    m.bits = bits;
    m.mask = (1ULL << bits) - 1;
    size_t nw = ((size_t)1 << bits) * WW_NER_NLAB;
    ner_clu_slot_t *clu = NULL;
    ner_gaz_slot_t *gaz = NULL;
    size_t clu_cap = 0, gaz_cap = 0;
    float par[NER_NPASS * NER_PAR_PER_PASS];
    memset(par, 0, sizeof par);
    fcache_t tfc = {0}, dfc = {0};
    sent_t *ts = NULL, *ds = NULL;
    size_t nts = 0, nds = 0;
    uint8_t *p1 = NULL, *dp1 = NULL;
    bool *use = NULL;
    ww_ner_scratch_t *s = ww_ner_scratch_new();
    if (o->clusters && load_clusters(o->clusters, &clu, &clu_cap, err, errlen) < 0)
        goto cleanup;
    if (o->gazetteer && load_gazetteer(o->gazetteer, &gaz, &gaz_cap, err, errlen) < 0)
        goto cleanup;
    m.clu = clu;
    m.clu_mask = clu ? clu_cap - 1 : 0;
    m.gaz = gaz;
    m.gaz_mask = gaz ? gaz_cap - 1 : 0;
    m.wf[0] = ww_calloc(nw, sizeof(float));
    m.wf[1] = ww_calloc(nw, sizeof(float));
    m.par[0] = par;
    m.par[1] = par + NER_PAR_PER_PASS;
    ts = sentences(train, &nts);
    if (dev)
        ds = sentences(dev, &nds);
    /* pass 1 */
    cache_features(&m, s, train, 0, NULL, &tfc);
    if (dev)
        cache_features(&m, s, dev, 0, NULL, &dfc);
    if (o->log)
        fprintf(o->log, "features: %zu rows for %zu training tokens (%u-bit table)\n", tfc.nrows,
                train->n, bits);
    trainjob_t j = {.m = &m, .s = s, .train = train, .tfc = &tfc, .sents = ts, .nsents = nts,
                    .dev = dev, .dfc = &dfc, .dsents = ds, .ndsents = nds, .epochs = epochs,
                    .seed = o->seed, .log = o->log, .what = "full"};
    unsigned e1 = train_pass(&j, 0, par);
    float *w1 = m.wf[0];
    /* pass-1 labels: dev with the full model, train by jackknife */
    dp1 = ww_calloc(dev ? dev->n + 1 : 1, 1);
    if (dev)
        for (size_t k = 0; k < nds; k++)
            decode_cached(&m, s, &dfc, 0, ds[k].a, ds[k].b, dp1);
    p1 = ww_calloc(train->n + 1, 1);
    use = ww_malloc(train->ndoc * sizeof *use);
    float *wj = ww_calloc(nw, sizeof(float));
    float parj[NER_PAR_PER_PASS];
    for (unsigned f = 0; f < folds; f++) {
        for (size_t k = 0; k < train->ndoc; k++)
            use[k] = k % folds != f;
        m.wf[0] = wj;
        trainjob_t jf = j;
        jf.use_doc = use;
        jf.dev = NULL;
        jf.epochs = e1;
        jf.what = "fold";
        train_pass(&jf, 0, parj);
        m.par[0] = parj;
        for (size_t k = 0; k < nts; k++)
            if (!use[ts[k].doc])
                decode_cached(&m, s, &tfc, 0, ts[k].a, ts[k].b, p1);
    }
    ww_free(wj);
    m.wf[0] = w1;
    m.par[0] = par;
    /* pass 2 */
    cache_features(&m, s, train, 1, p1, &tfc);
    if (dev)
        cache_features(&m, s, dev, 1, dp1, &dfc);
    j.what = "full";
    train_pass(&j, 1, par + NER_PAR_PER_PASS);
    if (write_model(&m, par, clu, clu_cap, gaz, gaz_cap, out_path, err, errlen) < 0)
        goto cleanup;
    rc = 0;
cleanup:
    fcache_free(&tfc);
    fcache_free(&dfc);
    ww_free(ts);
    ww_free(ds);
    ww_free(p1);
    ww_free(dp1);
    ww_free(use);
    ww_free(m.wf[0]);
    ww_free(m.wf[1]);
    ww_free(clu);
    ww_free(gaz);
    ww_ner_scratch_destroy(&s);
    return rc;
}
