/* gazetteer.h - a phrase list (countries, cities, organisations, title words,
 * first names, currencies ...) looked up over a token sequence.
 *
 * File format (UTF-8, one entry a line, '#' starts a comment line):
 *     phrase<TAB>TYPE[<TAB>canonical]
 * TYPE is one of PER ORG LOC MISC (entity types), DEMONYM (a MISC word that is
 * never part of the name after it: "Chinese"), TITLE ("President", "Foreign
 * Minister"), FIRST (a first name), CUR (a currency code or word). The optional
 * canonical column names the preferred spelling ("U.S." -> "United States").
 *
 * Phrases are split into words with ww_tokenize and compared case-folded, so a
 * phrase matches whatever punctuation lies between its words in the text (the
 * caller limits how far a match may reach). A phrase listed on several lines
 * collects all its types; the first canonical given wins. Phrases of more than
 * WW_GAZ_MAX_TOKENS words are ignored.
 *
 * A ww_gazetteer_t is immutable once loaded and may be shared by threads. */
#ifndef WW_GAZETTEER_H
#define WW_GAZETTEER_H
#include <stddef.h>
#include <stdint.h>

#include "ww/text.h"

#define WW_GAZ_MAX_TOKENS 6

/* Type bits of an entry (a phrase may carry several). */
#define WW_GAZ_PER 0x01u
#define WW_GAZ_ORG 0x02u
#define WW_GAZ_LOC 0x04u
#define WW_GAZ_MISC 0x08u
#define WW_GAZ_DEMONYM 0x10u
#define WW_GAZ_TITLE 0x20u
#define WW_GAZ_FIRST 0x40u
#define WW_GAZ_CUR 0x80u
/* Set by the loader (not a file type): the phrase is one word written all in
 * capitals in the file ("NATO", "USD"); callers may demand the same in text. */
#define WW_GAZ_ACRONYM 0x100u

typedef struct ww_gazetteer ww_gazetteer_t;

/* One look-up result. */
typedef struct {
    size_t ntok;           /* words matched, 0 when nothing matched */
    uint32_t mask;         /* WW_GAZ_* bits of the matched phrase */
    const char *canonical; /* preferred spelling; borrowed from the gazetteer */
} ww_gaz_match_t;

/* An empty gazetteer. Caller owns. */
ww_gazetteer_t *ww_gazetteer_new(void);

/* Reads a gazetteer file. Returns NULL with a message in err when the file
 * cannot be opened; lines with an unknown TYPE or no TAB are skipped with a
 * warning (at most a few are logged). Caller owns. */
ww_gazetteer_t *ww_gazetteer_load(const char *path, char *err, size_t errlen);

/* NULL-safe; nulls *g. */
void ww_gazetteer_destroy(ww_gazetteer_t **g);

/* Adds phrase[0..len) with the type bits `mask` and an optional canonical
 * spelling (NULL: the phrase as given). Returns 0, or -1 when the phrase has
 * no words or more than WW_GAZ_MAX_TOKENS. */
int ww_gazetteer_add(ww_gazetteer_t *g, const char *phrase, size_t len, uint32_t mask,
                     const char *canonical);

/* Parses a TYPE column value ("LOC", "TITLE" ...) into its bit. Returns 0 or -1. */
int ww_gazetteer_type_parse(const char *s, size_t len, uint32_t *bit);

/* Number of distinct phrases. */
size_t ww_gazetteer_size(const ww_gazetteer_t *g);

/* Longest phrase starting at token i of t and using at most max_tok tokens.
 * Fills *m (m->ntok == 0 when none) and returns m->ntok. Never allocates. */
size_t ww_gazetteer_match(const ww_gazetteer_t *g, const ww_tokens_t *t, size_t i, size_t max_tok,
                          ww_gaz_match_t *m);

/* Looks up a whole phrase given as text (tokenized like the entries).
 * Returns its mask, 0 when absent. Allocates (convenience for tools/tests). */
uint32_t ww_gazetteer_lookup(const ww_gazetteer_t *g, const char *phrase, size_t len);

#endif
