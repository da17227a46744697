/* simhash.c - 64-bit SimHash over 3-word shingles and the single words of
 * case-folded text (see simhash.h). */
#include "ww/simhash.h"

#include <string.h>

#include "ww/alloc.h"
#include "ww/text.h"

/* Appends the folded-word hashes of s to *h (grown as needed). */
static void sh_words(const char *s, ww_tokens_t *tk, uint64_t **h, size_t *n, size_t *cap)
{
    if (!s || !*s)
        return;
    ww_tokenize(s, strlen(s), tk);
    WW_GROW(*h, *cap, *n + tk->n);
    for (size_t i = 0; i < tk->n; i++)
        (*h)[(*n)++] = tk->toks[i].hash;
}

int ww_simhash_text(const char *title, const char *body, uint64_t *out)
{
    ww_tokens_t tk;
    ww_tokens_init(&tk);
    uint64_t *w = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;
    sh_words(title, &tk, &w, &n, &cap);
    sh_words(body, &tk, &w, &n, &cap);
    if (n < WW_SIMHASH_MIN_WORDS)
        goto cleanup;
    /* v[bit]: shingles with the bit set minus shingles with it clear */
    int64_t v[64] = {0};
    for (size_t i = 0; i + WW_SIMHASH_SHINGLE <= n; i++) {
        uint64_t sh = ww_hash_bytes(&w[i], WW_SIMHASH_SHINGLE * sizeof *w);
        for (int b = 0; b < 64; b++)
            v[b] += (sh >> b & 1) ? 1 : -1;
    }
    /* every word is a feature too: with shingles alone, 3 changed shingles
     * out of ~130 already flip ~8 bits (see the issue 6 note) */
    for (size_t i = 0; i < n; i++) {
        uint64_t wh = ww_hash_bytes(&w[i], sizeof *w);
        for (int b = 0; b < 64; b++)
            v[b] += (wh >> b & 1) ? 1 : -1;
    }
    uint64_t h = 0;
    for (int b = 0; b < 64; b++)
        if (v[b] > 0)
            h |= (uint64_t)1 << b;
    *out = h;
    rc = 0;
cleanup:
    ww_free(w);
    ww_tokens_deinit(&tk);
    return rc;
}

int ww_simhash_distance(uint64_t a, uint64_t b)
{
    return __builtin_popcountll(a ^ b);
}

uint16_t ww_simhash_band(uint64_t h, int b)
{
    return (uint16_t)(h >> (16 * b));
}

bool ww_simhash_near(uint64_t a, uint64_t b)
{
    return ww_simhash_distance(a, b) <= WW_SIMHASH_NEAR;
}
