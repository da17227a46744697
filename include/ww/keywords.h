/* keywords.h - document frequencies for TF-IDF keywords.
 *
 * A term is a case-folded word or a phrase of two or three words joined by
 * single spaces ("crude oil"). Its key is 64 bits: a word's key is
 * ww_hash_bytes of its folded form (the same value ww_tokenize stores in
 * ww_token_t.hash); a phrase's key chains its words' keys with
 * ww_df_phrase_key. Tables hold keys only.
 *
 * Two tables are layered when scoring (ww_df_idf): the built-in table derived
 * from the news corpus at training time (data/keywords/idf.tsv, loaded by the
 * extractor) and the live table the extract worker keeps from Redis:
 *
 *   <prefix>df        hash    term -> number of documents that contained it
 *   <prefix>df:docs   string  number of documents counted
 *
 * A document counts a word when it contains it once or more, and a phrase
 * only when it repeats it (two or more times): single-occurrence phrases are
 * never keywords and would only bloat the table. */
#ifndef WW_KEYWORDS_H
#define WW_KEYWORDS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ww/redis.h"

/* One distinct term of a document. */
typedef struct {
    const char *term; /* folded text, words joined by ' ' (borrowed) */
    uint64_t key;     /* its key (see above) */
} ww_term_t;

/* Key of the phrase made of the words keyed prev (a word or phrase key) and
 * then word. */
static inline uint64_t ww_df_phrase_key(uint64_t prev, uint64_t word)
{
    uint64_t x = prev * 31 + 7;
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x ^ word;
}

/* Key of a term given as text: the folded words separated by single spaces. */
uint64_t ww_df_term_key(const char *term, size_t len);

/* ---- a table: key -> documents, plus the number of documents ---------------- */

typedef struct ww_df ww_df_t;

/* An empty table. Caller owns. */
ww_df_t *ww_df_new(void);
void ww_df_destroy(ww_df_t **df);
/* Forgets every term and the document count. */
void ww_df_clear(ww_df_t *df);
/* Sets a term's document count (replacing the old value). */
void ww_df_set(ww_df_t *df, uint64_t key, uint64_t docs);
/* A term's document count, 0 when unknown. */
uint64_t ww_df_get(const ww_df_t *df, uint64_t key);
void ww_df_set_docs(ww_df_t *df, uint64_t docs);
uint64_t ww_df_docs(const ww_df_t *df);
/* Number of terms held. */
size_t ww_df_size(const ww_df_t *df);

/* Loads a table file: a first line "#docs<TAB>N", then "term<TAB>documents"
 * lines. Returns NULL with a message in err when the file cannot be read or
 * is malformed. Caller owns. */
ww_df_t *ww_df_load(const char *path, char *err, size_t errlen);

/* Inverse document frequency of key over the sum of up to two tables (either
 * may be NULL): ln((1 + N) / (1 + df)) + 1 with N and df the summed counts
 * (df capped at N). 1.0 when neither table has counted a document (plain TF). */
double ww_df_idf(const ww_df_t *a, const ww_df_t *b, uint64_t key);

/* ---- the worker's side: counting documents into Redis -------------------------
 * Not thread-safe (one per worker thread). */

typedef struct ww_df_sync ww_df_sync_t;

/* Counts for keys under prefix (e.g. "ww:"). Caller owns. */
ww_df_sync_t *ww_df_sync_new(const char *prefix);
void ww_df_sync_destroy(ww_df_sync_t **s);
/* Document frequencies are estimated from a sample: the workers count one
 * event in WW_DF_SAMPLE, chosen by its id so that every worker (and a replay)
 * picks the same ones. IDF only needs the ratio df/N, which the sample keeps,
 * at an eighth of the Redis traffic. */
#define WW_DF_SAMPLE 8
/* True when the event with this id (NULL: none) is one of the sample. */
bool ww_df_sampled(const char *event_id);

/* Records one document's distinct terms (ww_extract_doc_terms); the strings are
 * copied. Nothing is sent. While 2^20 terms wait (Redis away for long) further
 * documents are not counted (a warning says so). */
void ww_df_sync_add_doc(ww_df_sync_t *s, const ww_term_t *terms, size_t n);
/* Documents recorded and not yet sent. */
uint64_t ww_df_sync_pending(const ww_df_sync_t *s);
/* Sends every pending increment in one pipeline (one HINCRBY per term on
 * <prefix>df, INCRBY <prefix>df:docs) and stores the totals Redis returns in
 * the live table: the terms this worker sees are refreshed with the counts of
 * every worker at each flush. Returns 0, or -1 when Redis failed (the pending
 * counts are kept and sent by a later flush: at least once). */
int ww_df_sync_flush(ww_df_sync_t *s, ww_redis_t *r);
/* The live table (valid as long as s; changed only by flush). */
const ww_df_t *ww_df_sync_live(const ww_df_sync_t *s);

/* Appends to r's pipeline one HINCRBY per field: incs[i] added to field
 * fields[i] (length flens[i]) of the hash key. Each yields an integer reply,
 * the new value, in order. Returns n, or -1 when not connected (then some
 * commands may already sit in the pipeline: close the connection). */
int ww_redis_append_hincr(ww_redis_t *r, const char *key, size_t n, const char *const *fields,
                          const size_t *flens, const int64_t *incs);

#endif
