/* ner.h - the trained named-entity labeller: an averaged structured
 * perceptron over hashed features, BILOU labels, Viterbi decoding, two passes
 * (the second sees how each word was labelled elsewhere in the document).
 *
 * The model file holds everything the labeller needs (weights of both passes,
 * transition scores, word clusters, a gazetteer) and is mapped read-only with
 * mmap: a ww_ner_model_t is immutable and may be shared by threads; each
 * thread uses its own ww_ner_scratch_t. See docs/ner.md. */
#ifndef WW_NER_H
#define WW_NER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Labels: 0 = O, then for each type t (0 PER, 1 ORG, 2 LOC, 3 MISC: the
 * ww_ent_type_t values) 1 + 4t + {0 B, 1 I, 2 L, 3 U}. */
#define WW_NER_NLAB 17
#define WW_NER_NTYPE 4
#define WW_NER_O 0
enum { WW_NER_B = 0, WW_NER_I = 1, WW_NER_L = 2, WW_NER_U = 3 };

static inline int ww_ner_label_type(int lab)
{
    return lab ? (lab - 1) / 4 : -1;
}
static inline int ww_ner_label_pos(int lab)
{
    return lab ? (lab - 1) % 4 : -1;
}
static inline int ww_ner_label_make(int type, int pos)
{
    return 1 + 4 * type + pos;
}

/* One token of a document: bytes text[start, start + len). */
typedef struct {
    uint32_t start, len;
    uint32_t flags; /* WW_NER_TOK_* */
} ww_ner_tok_t;

#define WW_NER_TOK_SENT 1u /* first token of a sentence */
#define WW_NER_TOK_SKIP 2u /* never part of a name (-DOCSTART- lines); labelled O */

/* A document: its text and tokens in order. */
typedef struct {
    const char *text;
    const ww_ner_tok_t *toks;
    size_t n;
} ww_ner_doc_t;

/* A name found: tokens [ta, tb) of the document and its type (0..3). */
typedef struct {
    uint32_t ta, tb;
    int type;
} ww_ner_ent_t;

typedef struct ww_ner_model ww_ner_model_t;
typedef struct ww_ner_scratch ww_ner_scratch_t;

/* Maps a model file. Returns NULL with a message in err when the file is
 * missing, truncated or not a model. Caller owns. */
ww_ner_model_t *ww_ner_load(const char *path, char *err, size_t errlen);
void ww_ner_free(ww_ner_model_t **m);

/* Size of the model file in bytes. */
size_t ww_ner_model_size(const ww_ner_model_t *m);

ww_ner_scratch_t *ww_ner_scratch_new(void);
void ww_ner_scratch_destroy(ww_ner_scratch_t **s);

/* Splits text[0..len) into tokens the way CoNLL-2003 is tokenized
 * (punctuation apart, abbreviations and initials keep their period, "'s" and
 * "n't" apart) and marks sentence starts (a period, '!' or '?' token followed
 * by a capital, digit or quote; a blank line; a line that is a headline).
 * Appends to *toks (capacity *cap, grown with ww_realloc); returns the count.
 * Offsets are on UTF-8 character boundaries for valid input. */
size_t ww_ner_tokenize(const char *text, size_t len, ww_ner_tok_t **toks, size_t *cap);

/* Labels every token of the document (labels[n], WW_NER_* label ids). Both
 * passes run. Returns 0. */
int ww_ner_label(const ww_ner_model_t *m, ww_ner_scratch_t *s, const ww_ner_doc_t *d,
                 uint8_t *labels);

/* Converts BILOU labels to names; *out grows as needed. Returns the count. */
size_t ww_ner_spans(const uint8_t *labels, size_t n, ww_ner_ent_t **out, size_t *cap);

/* ---- training and evaluation (ner_train.c) --------------------------------------- */

/* A CoNLL corpus: documents of tokens with gold IOB2 tags turned into BILOU. */
typedef struct ww_ner_corpus ww_ner_corpus_t;

/* Reads CoNLL-2003 columns (token first, NER tag last; blank line between
 * sentences; -DOCSTART- starts a document). Files without a tag column read
 * with all labels O. Returns NULL with a message in err. Caller owns. */
ww_ner_corpus_t *ww_ner_corpus_read(const char *path, char *err, size_t errlen);
void ww_ner_corpus_free(ww_ner_corpus_t **c);
size_t ww_ner_corpus_tokens(const ww_ner_corpus_t *c);

typedef struct {
    const char *clusters;  /* cluster file (see tools/ww_clusters.c) or NULL */
    const char *gazetteer; /* phrase<TAB>TYPE file or NULL */
    unsigned bits;         /* log2 of weight rows per pass (default 19) */
    unsigned epochs;       /* maximum epochs per pass (default 15) */
    unsigned folds;        /* jackknife folds for pass-2 training data (default 4) */
    uint64_t seed;         /* shuffle seed */
    FILE *log;             /* progress lines, or NULL */
} ww_ner_train_opts_t;

/* Trains both passes on train (early stopping on dev when given) and writes
 * the model file. Returns 0 or -1 with a message in err. */
int ww_ner_train(const ww_ner_corpus_t *train, const ww_ner_corpus_t *dev,
                 const ww_ner_train_opts_t *o, const char *out_path, char *err, size_t errlen);

/* conlleval-style phrase scores. */
typedef struct {
    size_t tp[WW_NER_NTYPE], fp[WW_NER_NTYPE], fn[WW_NER_NTYPE];
    size_t tokens, tok_correct;
} ww_ner_score_t;

/* Labels the corpus and scores it against its gold tags. */
void ww_ner_evaluate(const ww_ner_model_t *m, const ww_ner_corpus_t *c, ww_ner_score_t *sc);
/* Overall phrase F1 (0..100). */
double ww_ner_f1(const ww_ner_score_t *sc, int type /* -1: all */);
/* Prints the conlleval table. */
void ww_ner_score_print(const ww_ner_score_t *sc, FILE *f);

/* Writes the corpus with the predicted IOB2 tag appended to every line (SPEC §2
 * `ner --conll`). The corpus keeps its input lines. */
void ww_ner_write_conll(const ww_ner_model_t *m, const ww_ner_corpus_t *c, FILE *f);

#endif
