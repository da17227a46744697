/* ner_internal.h - what ner.c (run time) and ner_train.c (training) share:
 * the model file layout, the in-memory model and the feature extractor. */
#ifndef WW_NER_INTERNAL_H
#define WW_NER_INTERNAL_H
#include <stdbool.h>
#include <stdint.h>

#include "ww/ner.h"

#define NER_MAGIC "WWNER01"
#define NER_VERSION 1u
#define NER_NPASS 2
#define NER_NCLU 3 /* cluster granularities */

/* Gazetteer type bits (the model's own list, see tools/ww_ner_gazetteer.c). */
enum { NG_LOC, NG_PER, NG_FIRST, NG_LAST, NG_ORG, NG_MISC, NG_DEMONYM, NG_TITLE, NG_CUR, NG__COUNT };
#define NG_PREFIX 0x80000000u /* some longer phrase starts with this key */

/* On-disk header; every section starts on a 64-byte boundary. Little-endian. */
typedef struct {
    char magic[8];         /* NER_MAGIC */
    uint32_t version;      /* NER_VERSION */
    uint32_t bits;         /* weight rows per pass = 1 << bits */
    uint32_t nlab;         /* WW_NER_NLAB */
    uint32_t npass;        /* NER_NPASS */
    float scale[NER_NPASS]; /* int16 weight * scale = score */
    uint64_t off_w[NER_NPASS]; /* int16 [rows][nlab] */
    uint64_t off_par;      /* float per pass: trans[nlab][nlab], start[nlab], end[nlab] */
    uint64_t off_clu;      /* ner_clu_slot_t [clu_cap] */
    uint64_t clu_cap;      /* power of two, or 0 */
    uint64_t off_gaz;      /* ner_gaz_slot_t [gaz_cap] */
    uint64_t gaz_cap;      /* power of two, or 0 */
    uint64_t size;         /* file size */
} ner_header_t;

/* Word cluster entry: key = hash of the exact word (never 0). */
typedef struct {
    uint64_t key;
    uint16_t c[NER_NCLU]; /* cluster id + 1 per granularity (0: none) */
    uint16_t pad;
} ner_clu_slot_t;

/* Gazetteer entry: key = chained hash of the lower-cased words (never 0). */
typedef struct {
    uint64_t key;
    uint32_t mask; /* 1 << NG_* | NG_PREFIX */
    uint32_t pad;
} ner_gaz_slot_t;

#define NER_PAR_PER_PASS (WW_NER_NLAB * WW_NER_NLAB + 2 * WW_NER_NLAB)

struct ww_ner_model {
    void *map;          /* mapped file (NULL for a model in training) */
    size_t map_len;
    uint32_t bits;
    uint64_t mask;      /* rows - 1 */
    const int16_t *w[NER_NPASS];
    float scale[NER_NPASS];
    float *wf[NER_NPASS];        /* training: float weights, used instead of w when set */
    const float *par[NER_NPASS]; /* trans, start, end */
    const ner_clu_slot_t *clu;
    uint64_t clu_mask;  /* cap - 1, or 0 with clu NULL */
    const ner_gaz_slot_t *gaz;
    uint64_t gaz_mask;
};

/* Per-token precomputed values. */
typedef struct {
    uint64_t hw, hl;          /* exact word, lower case */
    uint64_t shape, sshape;   /* shape (Xxdd-), short shape (runs collapsed) */
    uint64_t pre[4], suf[4];  /* prefixes / suffixes of 1..4 bytes of the lower form */
    uint16_t clu[NER_NCLU];   /* clusters (0: unknown) */
    uint32_t gaz;             /* per NG type 3 bits: 0 none, 1 B, 2 I, 3 L, 4 U */
    uint32_t fl;              /* TI_* */
} ner_tinfo_t;

#define TI_CAP 1u     /* upper-case initial */
#define TI_ALLCAP 2u  /* all letters upper case, >= 1 letter */
#define TI_DIGIT 4u
#define TI_ALPHA 8u   /* has a letter */
#define TI_CAPSENT 16u /* sentence mostly in capitals (a headline) */
#define TI_PUNCT 32u  /* no letter or digit */

struct ww_ner_scratch {
    ner_tinfo_t *ti;
    size_t ti_cap;
    uint32_t *frow;    /* feature rows, token after token */
    size_t nf, f_cap;
    uint32_t *foff;    /* first feature of token i; foff[n] = nf */
    size_t foff_cap;
    float *score;      /* [n][nlab] */
    size_t score_cap;
    float *vit;        /* Viterbi scores [n][nlab] */
    size_t vit_cap;
    uint8_t *back;     /* back pointers [n][nlab] */
    size_t back_cap;
    uint8_t *p1;       /* pass-1 labels */
    size_t p1_cap;
    uint64_t *dkeys;   /* document map: word -> type counts */
    uint32_t *dvals;
    size_t dcap;
    char *low;         /* lower-case buffer for one token */
    size_t low_cap;
};

/* Fills s->ti for the document. */
void ner_tokinfo(const ww_ner_model_t *m, ww_ner_scratch_t *s, const ww_ner_doc_t *d);
/* Fills s->frow/s->foff for pass (0 or 1); pass 1 reads s->p1. */
void ner_features(const ww_ner_model_t *m, ww_ner_scratch_t *s, const ww_ner_doc_t *d, int pass);
/* Decodes tokens [a, b) of pass with the current features into lab[a..b). */
void ner_decode(const ww_ner_model_t *m, ww_ner_scratch_t *s, int pass, size_t a, size_t b,
                uint8_t *lab);
/* True when label j may follow label i (BILOU). */
bool ner_trans_ok(int i, int j);
bool ner_start_ok(int j);
bool ner_end_ok(int i);

static inline uint64_t ner_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}
#define NER_SEQ_SEED 0x9e3779b97f4a7c15ULL
static inline uint64_t ner_seq_step(uint64_t h, uint64_t tok)
{
    uint64_t r = ner_mix(h ^ tok);
    return r ? r : 1;
}

#endif
