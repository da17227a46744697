/* simhash.h - 64-bit SimHash of an article's text, for near-duplicates.
 *
 * The text (title, then body) is split into words as SPEC §5 defines them
 * (ww_tokenize: Unicode case-folded); every run of WW_SIMHASH_SHINGLE
 * consecutive words is a shingle; the features are the shingles and the
 * words, each hashed with XXH3; bit i of the SimHash is set when more
 * features have bit i set than clear. Lightly edited copies of
 * an article (a word changed, a sentence added, a different byline) differ in
 * a few bits; unrelated articles differ in about 32.
 *
 * Near-duplicates are found by banding: the 64 bits are cut into
 * WW_SIMHASH_BANDS bands of 16 bits; two hashes within Hamming distance
 * WW_SIMHASH_NEAR (< WW_SIMHASH_BANDS) agree exactly on at least one band
 * (pigeonhole), so looking up the 4 bands of a hash finds every near one. */
#ifndef WW_SIMHASH_H
#define WW_SIMHASH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WW_SIMHASH_SHINGLE 3    /* words per shingle */
#define WW_SIMHASH_MIN_WORDS 8  /* fewer words: no SimHash (too short to judge) */
#define WW_SIMHASH_BANDS 4      /* 16-bit bands */
#define WW_SIMHASH_NEAR 3       /* max Hamming distance of a near-duplicate */

/* SimHash of title and body (either may be NULL). Returns 0 and *out, or -1
 * when the text has fewer than WW_SIMHASH_MIN_WORDS words. */
int ww_simhash_text(const char *title, const char *body, uint64_t *out);

/* Number of differing bits. */
int ww_simhash_distance(uint64_t a, uint64_t b);

/* Band b (0 .. WW_SIMHASH_BANDS-1) of h: bits 16b .. 16b+15. */
uint16_t ww_simhash_band(uint64_t h, int b);

/* True when a and b are near-duplicates (distance <= WW_SIMHASH_NEAR). */
bool ww_simhash_near(uint64_t a, uint64_t b);

#endif
