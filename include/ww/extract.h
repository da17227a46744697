/* extract.h - the extractor interface: entities, keywords and quotes for an
 * event. The first extractor (capitalised spans, gazetteer, simple typing)
 * sits behind it; the trained one replaces it behind the same calls.
 *
 * A ww_extractor_t is immutable after ww_extractor_new and may be shared by
 * threads; each thread uses its own ww_extract_scratch_t. */
#ifndef WW_EXTRACT_H
#define WW_EXTRACT_H
#include <stddef.h>

#include "ww/event.h"
#include "ww/keywords.h"

typedef struct ww_extractor ww_extractor_t;
typedef struct ww_extract_scratch ww_extract_scratch_t;

/* Loads the gazetteer and the NER model. NULL paths mean the bundled
 * defaults (ww_data_path: gazetteer.tsv, ner/ner-en.model); a model_path of
 * "" (or no bundled model) means no model: names then come from the
 * rule-based first extractor. Returns NULL with a message in err when a file
 * cannot be read. Caller owns. */
ww_extractor_t *ww_extractor_new(const char *gazetteer_path, const char *model_path, char *err,
                                 size_t errlen);
void ww_extractor_destroy(ww_extractor_t **x);

ww_extract_scratch_t *ww_extract_scratch_new(void);
void ww_extract_scratch_destroy(ww_extract_scratch_t **s);

/* Replaces ev's entities, keywords and quotes with what it finds in the title
 * and body. Returns 0 (it cannot fail on valid UTF-8 input). */
int ww_extract_event(const ww_extractor_t *x, ww_extract_scratch_t *s, ww_event_t *ev);

/* ---- TF-IDF keywords (keywords.h) ----------------------------------------------
 * ww_extractor_new loads the bundled document frequencies (keywords/idf.tsv)
 * when present; without them, and without live counts, keywords score by
 * plain term frequency. */

/* Replaces x's built-in document frequencies (x takes df; NULL: none). Call
 * before x is shared. */
void ww_extractor_set_df(ww_extractor_t *x, ww_df_t *df);
/* Live document frequencies layered on the built-in ones for this scratch's
 * calls (borrowed; NULL: none). The owner may change the table between calls,
 * never during one. */
void ww_extract_scratch_set_live_df(ww_extract_scratch_t *s, const ww_df_t *live);
/* The distinct terms of the last event s extracted that count toward document
 * frequencies (every candidate word, every repeated phrase). Borrowed until
 * the next call with s. */
size_t ww_extract_doc_terms(const ww_extract_scratch_t *s, const ww_term_t **terms);

#endif
