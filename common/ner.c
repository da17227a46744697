/* ner.c - the named-entity labeller at run time: model mapping, the
 * CoNLL-style tokenizer, features, scoring and Viterbi decoding over BILOU
 * labels, and the two passes (the second adds document features: how pass 1
 * labelled the same word elsewhere in the document).
 *
 * Features are hashed into one table of weight rows per pass; a row holds
 * one int16 weight per label (score = sum of rows * scale). Per token the
 * work is one hash per template, one row read per feature, 17 additions per
 * row and a 17x17 Viterbi step. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>

#include "ner_internal.h"
#include "ww/alloc.h"
#include "ww/text.h"

/* ---- model file --------------------------------------------------------------------- */

ww_ner_model_t *ww_ner_load(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open NER model %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(ner_header_t)) {
        snprintf(err, errlen, "NER model %s: too short", path);
        close(fd);
        return NULL;
    }
    size_t len = (size_t)st.st_size;
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        snprintf(err, errlen, "cannot map NER model %s: %s", path, strerror(errno));
        return NULL;
    }
    const ner_header_t *h = map;
    const char *why = NULL;
    if (memcmp(h->magic, NER_MAGIC, 8) != 0)
        why = "not a wirewatch NER model";
    else if (h->version != NER_VERSION || h->nlab != WW_NER_NLAB || h->npass != NER_NPASS)
        why = "unsupported model version";
    else if (h->size != len || h->bits < 8 || h->bits > 26)
        why = "truncated or corrupt";
    else {
        uint64_t rows = 1ULL << h->bits;
        uint64_t wbytes = rows * WW_NER_NLAB * sizeof(int16_t);
        for (int p = 0; p < NER_NPASS; p++)
            if (h->off_w[p] % 64 || h->off_w[p] + wbytes > len)
                why = "truncated or corrupt";
        if (h->off_par + NER_NPASS * NER_PAR_PER_PASS * sizeof(float) > len ||
            h->off_clu + h->clu_cap * sizeof(ner_clu_slot_t) > len ||
            h->off_gaz + h->gaz_cap * sizeof(ner_gaz_slot_t) > len || h->off_par % 64 ||
            (h->clu_cap & (h->clu_cap - 1)) || (h->gaz_cap & (h->gaz_cap - 1)))
            why = "truncated or corrupt";
    }
    if (why) {
        snprintf(err, errlen, "NER model %s: %s", path, why);
        munmap(map, len);
        return NULL;
    }
    madvise(map, len, MADV_WILLNEED);
    ww_ner_model_t *m = ww_calloc(1, sizeof *m);
    m->map = map;
    m->map_len = len;
    m->bits = h->bits;
    m->mask = (1ULL << h->bits) - 1;
    const char *base = map;
    for (int p = 0; p < NER_NPASS; p++) {
        m->w[p] = (const int16_t *)(const void *)(base + h->off_w[p]);
        m->scale[p] = h->scale[p];
        m->par[p] = (const float *)(const void *)(base + h->off_par) + p * NER_PAR_PER_PASS;
    }
    if (h->clu_cap) {
        m->clu = (const ner_clu_slot_t *)(const void *)(base + h->off_clu);
        m->clu_mask = h->clu_cap - 1;
    }
    if (h->gaz_cap) {
        m->gaz = (const ner_gaz_slot_t *)(const void *)(base + h->off_gaz);
        m->gaz_mask = h->gaz_cap - 1;
    }
    return m;
}

void ww_ner_free(ww_ner_model_t **mp)
{
    if (!mp || !*mp)
        return;
    ww_ner_model_t *m = *mp;
    if (m->map)
        munmap(m->map, m->map_len);
    ww_free(m);
    *mp = NULL;
}

size_t ww_ner_model_size(const ww_ner_model_t *m)
{
    return m ? m->map_len : 0;
}

ww_ner_scratch_t *ww_ner_scratch_new(void)
{
    return ww_calloc(1, sizeof(ww_ner_scratch_t));
}

void ww_ner_scratch_destroy(ww_ner_scratch_t **sp)
{
    if (!sp || !*sp)
        return;
    ww_ner_scratch_t *s = *sp;
    ww_free(s->ti);
    ww_free(s->frow);
    ww_free(s->foff);
    ww_free(s->score);
    ww_free(s->vit);
    ww_free(s->back);
    ww_free(s->p1);
    ww_free(s->dkeys);
    ww_free(s->dvals);
    ww_free(s->low);
    ww_free(s);
    *sp = NULL;
}

/* ---- tokenizer ------------------------------------------------------------------------ */

/* Length of a white-space character at p (0 when none); *nl counts newlines. */
static size_t space_len(const unsigned char *p, size_t n, int *nl)
{
    unsigned char c = p[0];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v')
        return 1;
    if (c == '\n') {
        (*nl)++;
        return 1;
    }
    if (c == 0xC2 && n >= 2 && p[1] == 0xA0)
        return 2;
    if (c == 0xE2 && n >= 3 && p[1] == 0x80 &&
        ((p[2] >= 0x80 && p[2] <= 0x8B) || p[2] == 0xAF || p[2] == 0xA8 || p[2] == 0xA9))
        return 3;
    if (c == 0xE3 && n >= 3 && p[1] == 0x80 && p[2] == 0x80)
        return 3;
    return 0;
}

/* Length of an opening punctuation mark at p, 0 when none. */
static size_t lead_punct(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    if (c == '"' || c == '\'' || c == '(' || c == '[' || c == '{' || c == '`' || c == '$' ||
        c == '<' || c == '#')
        return 1;
    if (n >= 3 && c == 0xE2 && p[1] == 0x80 &&
        (p[2] == 0x9C || p[2] == 0x98 || p[2] == 0x94 || p[2] == 0x93)) /* “ ‘ — – */
        return 3;
    if (n >= 3 && c == 0xE2 && p[1] == 0x82 && p[2] == 0xAC) /* € */
        return 3;
    if (n >= 2 && c == 0xC2 && (p[1] == 0xAB || p[1] == 0xA3 || p[1] == 0xA5)) /* « £ ¥ */
        return 2;
    return 0;
}

/* Length of a closing punctuation mark ending at p[n-1], 0 when none. */
static size_t trail_punct(const unsigned char *p, size_t n)
{
    unsigned char c = p[n - 1];
    if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '"' ||
        c == '\'' || c == ')' || c == ']' || c == '}' || c == '%' || c == '>')
        return 1;
    if (n >= 3 && p[n - 3] == 0xE2 && p[n - 2] == 0x80 &&
        (p[n - 1] == 0x9D || p[n - 1] == 0x99 || p[n - 1] == 0xA6 || p[n - 1] == 0x94 ||
         p[n - 1] == 0x93)) /* ” ’ … — – */
        return 3;
    if (n >= 2 && p[n - 2] == 0xC2 && p[n - 1] == 0xBB) /* » */
        return 2;
    return 0;
}

static const char *const abbrevs[] = {
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "inc", "corp", "co", "ltd", "gen", "col", "lt",
    "sgt", "capt", "rep", "sen", "gov", "prof", "rev", "no", "vs", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mt", "ft", "bros", "cos", "adm",
    "maj", "cmdr", "pres", "supt", "messrs", "plc", "pty", "ave", "blvd", "dept", "est",
    "approx", "govt", "fig", "vol", "op", "cf", "al", "etc", NULL};

/* True when chunk[0..n) (without its final period) keeps the period. */
static bool keeps_period(const char *p, size_t n)
{
    if (n == 0)
        return false;
    if (memchr(p, '.', n))
        return true; /* U.S., a.m. */
    if (n == 1 && ((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')))
        return true; /* initial */
    if (n > 7)
        return false;
    char low[8];
    for (size_t i = 0; i < n; i++)
        low[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
    low[n] = '\0';
    for (size_t i = 0; abbrevs[i]; i++)
        if (strcmp(low, abbrevs[i]) == 0)
            return true;
    return false;
}

static void push_tok(ww_ner_tok_t **toks, size_t *cap, size_t *n, size_t a, size_t b, uint32_t fl)
{
    if (b <= a)
        return;
    WW_GROW(*toks, *cap, *n + 1);
    (*toks)[*n] = (ww_ner_tok_t){(uint32_t)a, (uint32_t)(b - a), fl};
    (*n)++;
}

/* Splits one white-space-free chunk [a, b) into tokens. */
static void split_chunk(const char *text, size_t a, size_t b, ww_ner_tok_t **toks, size_t *cap,
                        size_t *n, uint32_t fl)
{
    const unsigned char *u = (const unsigned char *)text;
    size_t l;
    while (a < b && (l = lead_punct(u + a, b - a)) > 0 && a + l <= b) {
        push_tok(toks, cap, n, a, a + l, fl);
        fl = 0;
        a += l;
    }
    /* trailing marks, collected right to left */
    size_t ends[16];
    size_t ne = 0, e = b;
    while (e > a && ne < 15) {
        l = trail_punct(u + a, e - a);
        if (!l)
            break;
        if (l == 1 && text[e - 1] == '.' && e - 1 > a && keeps_period(text + a, e - 1 - a)) {
            /* "U.S." keeps its period; a following "." (end of sentence) is apart */
            break;
        }
        if (l == 1 && (text[e - 1] == ',' || text[e - 1] == '.') && e - a == 1)
            break;
        ends[ne++] = e - l;
        e -= l;
    }
    if (e > a) {
        size_t m = e;
        /* clitics: 's, n't */
        if (m - a > 2 && (text[m - 1] == 's' || text[m - 1] == 'S') && text[m - 2] == '\'')
            m -= 2;
        else if (m - a > 4 && (text[m - 1] == 's' || text[m - 1] == 'S') && m - a > 4 &&
                 memcmp(text + m - 4, "\xE2\x80\x99", 3) == 0)
            m -= 4;
        else if (m - a > 3 && memcmp(text + m - 3, "n't", 3) == 0)
            m -= 3;
        push_tok(toks, cap, n, a, m, fl);
        fl = 0;
        push_tok(toks, cap, n, m, e, 0);
    }
    for (size_t k = ne; k-- > 0;) {
        size_t s0 = ends[k];
        size_t end = k == 0 ? b : ends[k - 1];
        push_tok(toks, cap, n, s0, end, fl);
        fl = 0;
    }
}

static bool ends_sentence(const char *text, const ww_ner_tok_t *t)
{
    if (t->len == 1) {
        char c = text[t->start];
        return c == '.' || c == '!' || c == '?';
    }
    return t->len == 3 && memcmp(text + t->start, "\xE2\x80\xA6", 3) == 0;
}

static bool starts_sentence_like(const char *text, const ww_ner_tok_t *t)
{
    unsigned char c = (unsigned char)text[t->start];
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '"' || c == '\'' ||
           c == '(' || c >= 0x80;
}

size_t ww_ner_tokenize(const char *text, size_t len, ww_ner_tok_t **toks, size_t *cap)
{
    const unsigned char *u = (const unsigned char *)text;
    size_t n0 = 0, n = 0;
    (void)n0;
    size_t i = 0;
    bool brk = true;
    while (i < len) {
        int nl = 0;
        bool indent = false;
        size_t sl;
        while (i < len && (sl = space_len(u + i, len - i, &nl)) > 0) {
            if (nl && u[i] != '\n' && u[i] != '\r')
                indent = true;
            i += sl;
        }
        if (i >= len)
            break;
        if (nl >= 2 || (nl && indent))
            brk = true;
        size_t a = i;
        int dummy = 0;
        while (i < len && space_len(u + i, len - i, &dummy) == 0)
            i++;
        size_t first = n;
        split_chunk(text, a, i, toks, cap, &n, 0);
        if (n == first)
            continue;
        ww_ner_tok_t *t = *toks;
        if (!brk && first > 0 && ends_sentence(text, &t[first - 1]) &&
            starts_sentence_like(text, &t[first]))
            brk = true;
        if (brk)
            t[first].flags |= WW_NER_TOK_SENT;
        brk = false;
        /* sentence ends inside the chunk: "word.\"Next" is rare; ignore */
    }
    return n;
}

/* ---- token information ------------------------------------------------------------------ */

static inline uint64_t h64(const void *p, size_t n)
{
    return ww_hash_bytes(p, n);
}

static uint16_t clu_get(const ww_ner_model_t *m, uint64_t key, int g)
{
    if (!m->clu)
        return 0;
    key = key ? key : 1;
    for (uint64_t i = ner_mix(key) & m->clu_mask;; i = (i + 1) & m->clu_mask) {
        if (m->clu[i].key == key)
            return m->clu[i].c[g];
        if (!m->clu[i].key)
            return 0;
    }
}

static const ner_clu_slot_t *clu_find(const ww_ner_model_t *m, uint64_t key)
{
    if (!m->clu)
        return NULL;
    key = key ? key : 1;
    for (uint64_t i = ner_mix(key) & m->clu_mask;; i = (i + 1) & m->clu_mask) {
        if (m->clu[i].key == key)
            return &m->clu[i];
        if (!m->clu[i].key)
            return NULL;
    }
}

static uint32_t gaz_get(const ww_ner_model_t *m, uint64_t key)
{
    for (uint64_t i = ner_mix(key) & m->gaz_mask;; i = (i + 1) & m->gaz_mask) {
        if (m->gaz[i].key == key)
            return m->gaz[i].mask;
        if (!m->gaz[i].key)
            return 0;
    }
}

static inline char shape_char(int32_t cp)
{
    if (cp >= 'A' && cp <= 'Z')
        return 'X';
    if (cp >= 'a' && cp <= 'z')
        return 'x';
    if (cp >= '0' && cp <= '9')
        return 'd';
    if (cp < 0x80)
        return (char)cp;
    utf8proc_category_t c = utf8proc_category(cp);
    if (c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LT)
        return 'X';
    if (c >= UTF8PROC_CATEGORY_LL && c <= UTF8PROC_CATEGORY_LO)
        return 'x';
    if (c == UTF8PROC_CATEGORY_ND)
        return 'd';
    return 'u';
}

void ner_tokinfo(const ww_ner_model_t *m, ww_ner_scratch_t *s, const ww_ner_doc_t *d)
{
    WW_GROW(s->ti, s->ti_cap, d->n + 1);
    for (size_t i = 0; i < d->n; i++) {
        ner_tinfo_t *ti = &s->ti[i];
        const ww_ner_tok_t *t = &d->toks[i];
        const unsigned char *p = (const unsigned char *)d->text + t->start;
        size_t n = t->len;
        WW_GROW(s->low, s->low_cap, n + 1);
        char shape[16], sshape[16];
        size_t sl = 0, ssl = 0;
        uint32_t fl = 0;
        bool all_up = true, any_alpha = false;
        size_t k = 0;
        while (k < n) {
            int32_t cp;
            size_t step = 1;
            if (p[k] < 0x80) {
                cp = p[k];
            } else {
                utf8proc_ssize_t r = utf8proc_iterate(p + k, (utf8proc_ssize_t)(n - k), &cp);
                if (r < 1) {
                    cp = 0xFFFD;
                    r = 1;
                }
                step = (size_t)r;
            }
            char sc = shape_char(cp);
            if (sc == 'X' || sc == 'x') {
                any_alpha = true;
                if (sc == 'x')
                    all_up = false;
                if (k == 0 && sc == 'X')
                    fl |= TI_CAP;
            } else if (sc == 'd') {
                fl |= TI_DIGIT;
            }
            if (sl < sizeof shape)
                shape[sl++] = sc;
            if (ssl == 0 || sshape[ssl - 1] != sc) {
                if (ssl < sizeof sshape)
                    sshape[ssl++] = sc;
            }
            for (size_t z = 0; z < step; z++) {
                unsigned char c = p[k + z];
                s->low[k + z] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
            }
            k += step;
        }
        if (any_alpha) {
            fl |= TI_ALPHA;
            if (all_up)
                fl |= TI_ALLCAP;
        } else if (!(fl & TI_DIGIT)) {
            fl |= TI_PUNCT;
        }
        ti->fl = fl;
        ti->hw = h64(p, n);
        ti->hl = (fl & TI_ALPHA) ? h64(s->low, n) : ti->hw;
        ti->shape = h64(shape, sl) ^ (n > sizeof shape ? 0x5a5a : 0);
        ti->sshape = h64(sshape, ssl);
        for (int z = 0; z < 4; z++) {
            ti->pre[z] = (size_t)z < n ? h64(s->low, (size_t)z + 1) : 0;
            ti->suf[z] = (size_t)z < n ? h64(s->low + n - z - 1, (size_t)z + 1) : 0;
        }
        const ner_clu_slot_t *c = clu_find(m, ti->hw);
        if (!c && ti->hl != ti->hw)
            c = clu_find(m, ti->hl);
        for (int g = 0; g < NER_NCLU; g++)
            ti->clu[g] = c ? c->c[g] : 0;
        ti->gaz = 0;
    }
    (void)clu_get;
    /* headline sentences: mostly capitals */
    size_t a = 0;
    while (a < d->n) {
        size_t b = a + 1;
        while (b < d->n && !(d->toks[b].flags & WW_NER_TOK_SENT))
            b++;
        size_t alpha = 0, caps = 0;
        for (size_t i = a; i < b; i++)
            if ((s->ti[i].fl & TI_ALPHA) && d->toks[i].len >= 2) {
                alpha++;
                caps += (s->ti[i].fl & TI_ALLCAP) != 0;
            }
        if (alpha >= 2 && caps * 10 >= alpha * 6)
            for (size_t i = a; i < b; i++)
                s->ti[i].fl |= TI_CAPSENT;
        /* gazetteer: longest phrase at each start, within the sentence */
        if (m->gaz) {
            for (size_t i = a; i < b; i++) {
                if (!(s->ti[i].fl & (TI_ALPHA | TI_DIGIT)))
                    continue;
                uint64_t h = NER_SEQ_SEED;
                size_t best = 0;
                uint32_t bm = 0;
                for (size_t j = i; j < b && j < i + 6; j++) {
                    h = ner_seq_step(h, s->ti[j].hl);
                    uint32_t mk = gaz_get(m, h);
                    if (mk & ~NG_PREFIX) {
                        best = j - i + 1;
                        bm = mk & ~NG_PREFIX;
                    }
                    if (!(mk & NG_PREFIX))
                        break;
                }
                for (int t = 0; t < NG__COUNT && best; t++) {
                    if (!(bm & (1u << t)))
                        continue;
                    for (size_t j = i; j < i + best; j++) {
                        uint32_t cur = (s->ti[j].gaz >> (3 * t)) & 7u;
                        if (cur)
                            continue;
                        uint32_t code = best == 1 ? 4u : j == i ? 1u : j + 1 == i + best ? 3u : 2u;
                        s->ti[j].gaz |= code << (3 * t);
                    }
                }
            }
        }
        a = b;
    }
}

/* ---- features ---------------------------------------------------------------------------- */

#define MAXF 96

typedef struct {
    uint32_t *rows;
    size_t n;
    uint64_t mask;
} fbuf_t;

static inline void fadd(fbuf_t *f, uint64_t tmpl, uint64_t v)
{
    f->rows[f->n++] = (uint32_t)(ner_mix(v ^ (tmpl * 0x9E3779B97F4A7C15ULL)) & f->mask);
}

static inline uint64_t pair(uint64_t a, uint64_t b)
{
    return ner_mix(a * 31 + 0x1234567) ^ b;
}

/* Document map slot of key (word lower-case hash): open addressing. */
static size_t dslot(const ww_ner_scratch_t *s, uint64_t key)
{
    size_t mask = s->dcap - 1;
    key = key ? key : 1;
    size_t i = (size_t)ner_mix(key) & mask;
    while (s->dkeys[i] && s->dkeys[i] != key)
        i = (i + 1) & mask;
    return i;
}

#define DV 6 /* per word: counts of O, PER, ORG, LOC, MISC, long-entity type bits */

/* Collects how pass 1 labelled each capitalised word of the document. */
static void doc_stats(ww_ner_scratch_t *s, const ww_ner_doc_t *d)
{
    size_t need = 16;
    while (need < d->n * 2 + 2)
        need *= 2;
    if (need > s->dcap) {
        ww_free(s->dkeys);
        ww_free(s->dvals);
        s->dkeys = ww_malloc(need * sizeof *s->dkeys);
        s->dvals = ww_malloc(need * DV * sizeof *s->dvals);
    }
    s->dcap = need;
    memset(s->dkeys, 0, need * sizeof *s->dkeys);
    for (size_t i = 0; i < d->n; i++) {
        if (!(s->ti[i].fl & TI_ALPHA))
            continue;
        size_t k = dslot(s, s->ti[i].hl);
        if (!s->dkeys[k]) {
            s->dkeys[k] = s->ti[i].hl ? s->ti[i].hl : 1;
            memset(&s->dvals[k * DV], 0, DV * sizeof *s->dvals);
        }
        int t = ww_ner_label_type(s->p1[i]);
        if (!(s->ti[i].fl & TI_CAP) && t < 0)
            s->dvals[k * DV] += 1;
        else
            s->dvals[k * DV + 1 + t] += 1;
    }
    /* words inside multi-word names */
    size_t i = 0;
    while (i < d->n) {
        int l = s->p1[i];
        if (ww_ner_label_pos(l) != WW_NER_B) {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < d->n && ww_ner_label_pos(s->p1[j]) == WW_NER_I)
            j++;
        if (j < d->n && ww_ner_label_pos(s->p1[j]) == WW_NER_L)
            j++;
        for (size_t z = i; z < j; z++)
            if (s->ti[z].fl & TI_ALPHA)
                s->dvals[dslot(s, s->ti[z].hl) * DV + 5] |= 1u << ww_ner_label_type(l);
        i = j;
    }
}

void ner_features(const ww_ner_model_t *m, ww_ner_scratch_t *s, const ww_ner_doc_t *d, int pass)
{
    size_t n = d->n;
    WW_GROW(s->foff, s->foff_cap, n + 1);
    WW_GROW(s->frow, s->f_cap, n * MAXF + 1);
    if (pass == 1)
        doc_stats(s, d);
    const ner_tinfo_t *T = s->ti;
    static const ner_tinfo_t none = {.hw = 0x11, .hl = 0x11, .shape = 0x12, .sshape = 0x12};
    static const ner_tinfo_t bos = {.hw = 0x21, .hl = 0x21, .shape = 0x22, .sshape = 0x22};
    fbuf_t f = {s->frow, 0, m->mask};
    size_t sa = 0;
    for (size_t i = 0; i < n; i++) {
        s->foff[i] = (uint32_t)f.n;
        if (d->toks[i].flags & WW_NER_TOK_SENT)
            sa = i;
        if (d->toks[i].flags & WW_NER_TOK_SKIP)
            continue;
        size_t sb = i + 1;
        /* neighbours within the sentence */
        const ner_tinfo_t *c = &T[i];
        bool sent_first = i == sa;
        const ner_tinfo_t *p1 = i > sa ? &T[i - 1] : &bos;
        const ner_tinfo_t *p2 = i > sa + 1 ? &T[i - 2] : &bos;
        const ner_tinfo_t *n1 = &none, *n2 = &none;
        if (i + 1 < n && !(d->toks[i + 1].flags & WW_NER_TOK_SENT)) {
            n1 = &T[i + 1];
            sb = i + 2;
            if (i + 2 < n && !(d->toks[i + 2].flags & WW_NER_TOK_SENT))
                n2 = &T[i + 2];
        }
        (void)sb;
        fadd(&f, 1, 0);
        fadd(&f, 2, c->hw);
        fadd(&f, 3, c->hl);
        fadd(&f, 4, p1->hl);
        fadd(&f, 5, n1->hl);
        fadd(&f, 6, p2->hl);
        fadd(&f, 7, n2->hl);
        fadd(&f, 8, c->shape);
        fadd(&f, 9, c->sshape);
        fadd(&f, 10, p1->sshape);
        fadd(&f, 11, n1->sshape);
        fadd(&f, 12, pair(p1->sshape, c->sshape));
        fadd(&f, 13, pair(c->sshape, n1->sshape));
        fadd(&f, 14, pair(pair(p1->sshape, c->sshape), n1->sshape));
        for (int z = 0; z < 4; z++) {
            if (c->pre[z])
                fadd(&f, 15 + (uint64_t)z, c->pre[z]);
            if (c->suf[z])
                fadd(&f, 19 + (uint64_t)z, c->suf[z]);
        }
        fadd(&f, 23, pair(p1->hl, c->hl));
        fadd(&f, 24, pair(c->hl, n1->hl));
        fadd(&f, 25, pair(p1->hl, c->sshape));
        fadd(&f, 26, pair(c->sshape, n1->hl));
        fadd(&f, 27, p1->hw);
        fadd(&f, 28, n1->hw);
        /* clusters */
        for (int g = 0; g < NER_NCLU; g++) {
            fadd(&f, 30 + (uint64_t)g, c->clu[g]);
            fadd(&f, 33 + (uint64_t)g, p1->clu[g] | (uint64_t)(p1 == &bos) << 20);
            fadd(&f, 36 + (uint64_t)g, n1->clu[g] | (uint64_t)(n1 == &none) << 20);
        }
        fadd(&f, 39, pair(c->clu[1], c->sshape));
        fadd(&f, 40, pair(p1->clu[1], c->clu[1]));
        fadd(&f, 41, pair(c->clu[1], n1->clu[1]));
        /* gazetteer */
        for (int t = 0; t < NG__COUNT; t++) {
            uint32_t g0 = (c->gaz >> (3 * t)) & 7u;
            if (g0) {
                fadd(&f, 42, (uint64_t)t << 4 | g0);
                fadd(&f, 43, pair((uint64_t)t << 4 | g0, c->fl & (TI_CAP | TI_ALLCAP)));
            }
            uint32_t gp = (p1->gaz >> (3 * t)) & 7u, gn = (n1->gaz >> (3 * t)) & 7u;
            if (gp)
                fadd(&f, 44, (uint64_t)t << 4 | gp);
            if (gn)
                fadd(&f, 45, (uint64_t)t << 4 | gn);
        }
        if (!c->gaz && (c->fl & TI_CAP))
            fadd(&f, 46, 1);
        /* position and headlines */
        if (sent_first) {
            fadd(&f, 47, c->sshape);
            fadd(&f, 48, c->hl);
        }
        if (c->fl & TI_CAPSENT) {
            fadd(&f, 49, c->hl);
            fadd(&f, 50, pair(p1->hl, c->hl));
            fadd(&f, 51, c->clu[2]);
        }
        /* hyphenated words: the part after the last hyphen */
        {
            const char *tp = d->text + d->toks[i].start;
            const char *hy = memrchr(tp, '-', d->toks[i].len);
            if (hy && hy > tp && (size_t)(hy - tp) + 1 < d->toks[i].len) {
                size_t off = (size_t)(hy - tp) + 1;
                uint64_t h = 0;
                for (size_t z = off; z < d->toks[i].len; z++) {
                    unsigned char ch = (unsigned char)tp[z];
                    h = h * 131 + ((ch >= 'A' && ch <= 'Z') ? ch + 32 : ch);
                }
                fadd(&f, 52, h);
                /* and before the first hyphen */
                const char *h1 = memchr(tp, '-', d->toks[i].len);
                uint64_t g = 0;
                for (const char *z = tp; z < h1; z++) {
                    unsigned char ch = (unsigned char)*z;
                    g = g * 131 + ((ch >= 'A' && ch <= 'Z') ? ch + 32 : ch);
                }
                fadd(&f, 53, g);
            }
        }
        if (pass == 1) {
            /* document features from pass 1 */
            int own = s->p1[i];
            fadd(&f, 60, (uint64_t)own);
            fadd(&f, 61, pair((uint64_t)(i > sa ? s->p1[i - 1] : 99), (uint64_t)own));
            if (n1 != &none)
                fadd(&f, 62, pair((uint64_t)own, s->p1[i + 1]));
            if (c->fl & TI_ALPHA) {
                const uint32_t *v = &s->dvals[dslot(s, c->hl) * DV];
                uint32_t cnt[5];
                memcpy(cnt, v, sizeof cnt);
                int ot = ww_ner_label_type(own);
                if (!(c->fl & TI_CAP) && ot < 0)
                    cnt[0]--;
                else
                    cnt[1 + ot]--;
                uint32_t tot = cnt[0] + cnt[1] + cnt[2] + cnt[3] + cnt[4];
                if (tot) {
                    int best = 0;
                    for (int z = 1; z < 5; z++)
                        if (cnt[z] > cnt[best])
                            best = z;
                    fadd(&f, 63, (uint64_t)best);
                    fadd(&f, 64, pair((uint64_t)best, c->fl & TI_CAP));
                    for (int z = 1; z < 5; z++)
                        if (cnt[z])
                            fadd(&f, 65, (uint64_t)z);
                    if (cnt[0])
                        fadd(&f, 66, (uint64_t)(c->fl & (TI_CAP | TI_CAPSENT)) | (sent_first ? 64 : 0));
                }
                if (v[5])
                    fadd(&f, 67, v[5]);
            }
        }
    }
    s->foff[n] = (uint32_t)f.n;
    s->nf = f.n;
}

/* ---- decoding -------------------------------------------------------------------------------- */

bool ner_trans_ok(int i, int j)
{
    int pi = ww_ner_label_pos(i), pj = ww_ner_label_pos(j);
    bool open = pi == WW_NER_B || pi == WW_NER_I;
    if (open)
        return (pj == WW_NER_I || pj == WW_NER_L) && ww_ner_label_type(i) == ww_ner_label_type(j);
    return j == WW_NER_O || pj == WW_NER_B || pj == WW_NER_U;
}

bool ner_start_ok(int j)
{
    int pj = ww_ner_label_pos(j);
    return j == WW_NER_O || pj == WW_NER_B || pj == WW_NER_U;
}

bool ner_end_ok(int i)
{
    int pi = ww_ner_label_pos(i);
    return i == WW_NER_O || pi == WW_NER_L || pi == WW_NER_U;
}

#define NEG (-1e30f)

void ner_decode(const ww_ner_model_t *m, ww_ner_scratch_t *s, int pass, size_t a, size_t b,
                uint8_t *lab)
{
    enum { L = WW_NER_NLAB };
    size_t n = b - a;
    if (!n)
        return;
    WW_GROW(s->score, s->score_cap, n * L);
    WW_GROW(s->vit, s->vit_cap, n * L);
    WW_GROW(s->back, s->back_cap, n * L);
    /* emission scores */
    for (size_t i = 0; i < n; i++) {
        float *sc = &s->score[i * L];
        const uint32_t *fr = &s->frow[s->foff[a + i]];
        size_t nf = s->foff[a + i + 1] - s->foff[a + i];
        if (m->wf[pass]) {
            const float *w = m->wf[pass];
            for (int y = 0; y < L; y++)
                sc[y] = 0;
            for (size_t k = 0; k < nf; k++) {
                const float *r = &w[(size_t)fr[k] * L];
                for (int y = 0; y < L; y++)
                    sc[y] += r[y];
            }
        } else {
            const int16_t *w = m->w[pass];
            /* rows of the token two ahead are fetched while this one is summed */
            if (i + 2 < n) {
                const uint32_t *fp = &s->frow[s->foff[a + i + 2]];
                size_t np = s->foff[a + i + 3] - s->foff[a + i + 2];
                for (size_t k = 0; k < np; k++) {
                    const char *rp = (const char *)&w[(size_t)fp[k] * L];
                    __builtin_prefetch(rp);
                    __builtin_prefetch(rp + 32);
                }
            } else if (i == 0) {
                for (size_t z = 0; z < 2 && z < n; z++) {
                    const uint32_t *fp = &s->frow[s->foff[a + z]];
                    size_t np = s->foff[a + z + 1] - s->foff[a + z];
                    for (size_t k = 0; k < np; k++)
                        __builtin_prefetch(&w[(size_t)fp[k] * L]);
                }
            }
            typedef int32_t v8i __attribute__((vector_size(32)));
            typedef int16_t v8s __attribute__((vector_size(16)));
            v8i lo = {0}, hi = {0};
            int32_t last = 0;
            for (size_t k = 0; k < nf; k++) {
                const int16_t *r = &w[(size_t)fr[k] * L];
                v8s x0, x1;
                memcpy(&x0, r, sizeof x0);
                memcpy(&x1, r + 8, sizeof x1);
                lo += __builtin_convertvector(x0, v8i);
                hi += __builtin_convertvector(x1, v8i);
                last += r[16];
            }
            for (int y = 0; y < 8; y++) {
                sc[y] = (float)lo[y] * m->scale[pass];
                sc[8 + y] = (float)hi[y] * m->scale[pass];
            }
            sc[16] = (float)last * m->scale[pass];
        }
    }
    const float *trans = m->par[pass], *start = trans + L * L, *end = start + L;
    /* allowed predecessors of each label (BILOU), computed once */
    static uint8_t pred[L][L], npred[L];
    static bool sok[L], eok[L];
    static bool init;
    if (!__atomic_load_n(&init, __ATOMIC_ACQUIRE)) {
        for (int j = 0; j < L; j++) {
            uint8_t k = 0;
            for (int i = 0; i < L; i++)
                if (ner_trans_ok(i, j))
                    pred[j][k++] = (uint8_t)i;
            npred[j] = k;
            sok[j] = ner_start_ok(j);
            eok[j] = ner_end_ok(j);
        }
        __atomic_store_n(&init, true, __ATOMIC_RELEASE);
    }
    float *v = s->vit;
    uint8_t *bk = s->back;
    for (int y = 0; y < L; y++)
        v[y] = sok[y] ? start[y] + s->score[y] : NEG;
    for (size_t i = 1; i < n; i++) {
        const float *pv = &v[(i - 1) * L];
        float *cv = &v[i * L];
        for (int y = 0; y < L; y++) {
            float best = NEG;
            int arg = pred[y][0];
            for (int k = 0; k < npred[y]; k++) {
                int x = pred[y][k];
                float c = pv[x] + trans[x * L + y];
                if (c > best) {
                    best = c;
                    arg = x;
                }
            }
            cv[y] = best + s->score[i * L + y];
            bk[i * L + y] = (uint8_t)arg;
        }
    }
    float best = NEG;
    int arg = 0;
    for (int y = 0; y < L; y++) {
        float c = eok[y] ? v[(n - 1) * L + y] + end[y] : NEG;
        if (c > best) {
            best = c;
            arg = y;
        }
    }
    for (size_t i = n; i-- > 0;) {
        lab[a + i] = (uint8_t)arg;
        if (i)
            arg = bk[i * L + arg];
    }
}

/* Decodes every sentence of the document with the current features. */
static void decode_doc(const ww_ner_model_t *m, ww_ner_scratch_t *s, const ww_ner_doc_t *d, int pass,
                       uint8_t *lab)
{
    size_t a = 0;
    while (a < d->n) {
        size_t b = a + 1;
        while (b < d->n && !(d->toks[b].flags & WW_NER_TOK_SENT))
            b++;
        if (d->toks[a].flags & WW_NER_TOK_SKIP) {
            for (size_t i = a; i < b; i++)
                lab[i] = WW_NER_O;
        } else {
            ner_decode(m, s, pass, a, b, lab);
        }
        a = b;
    }
}

int ww_ner_label(const ww_ner_model_t *m, ww_ner_scratch_t *s, const ww_ner_doc_t *d,
                 uint8_t *labels)
{
    if (!d->n)
        return 0;
    ner_tokinfo(m, s, d);
    WW_GROW(s->p1, s->p1_cap, d->n);
    ner_features(m, s, d, 0);
    decode_doc(m, s, d, 0, s->p1);
    ner_features(m, s, d, 1);
    decode_doc(m, s, d, 1, labels);
    return 0;
}

size_t ww_ner_spans(const uint8_t *labels, size_t n, ww_ner_ent_t **out, size_t *cap)
{
    size_t k = 0;
    size_t i = 0;
    while (i < n) {
        int l = labels[i];
        int pos = ww_ner_label_pos(l);
        if (pos == WW_NER_U || pos == WW_NER_B) {
            size_t j = i + 1;
            if (pos == WW_NER_B) {
                while (j < n && ww_ner_label_pos(labels[j]) == WW_NER_I)
                    j++;
                if (j < n && ww_ner_label_pos(labels[j]) == WW_NER_L)
                    j++;
            }
            WW_GROW(*out, *cap, k + 1);
            (*out)[k++] = (ww_ner_ent_t){(uint32_t)i, (uint32_t)j, ww_ner_label_type(l)};
            i = j;
        } else {
            i++;
        }
    }
    return k;
}
