/* text.h - words as SPEC §5 defines them: maximal runs of Unicode letters,
 * marks and digits, compared after Unicode case folding. Shared by the rule
 * matcher and the extractor so both see the same words. */
#ifndef WW_TEXT_H
#define WW_TEXT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t start, end;   /* byte offsets of the word in the source text */
    uint32_t fold_off;     /* offset of the case-folded form in ww_tokens_t.fold */
    uint32_t fold_len;     /* its length in bytes */
    uint64_t hash;         /* hash of the folded form (ww_hash_bytes) */
    uint32_t flags;        /* WW_TOK_* bits describing the original spelling */
} ww_token_t;

#define WW_TOK_UPPER_INITIAL 1u /* first character is upper/title case */
#define WW_TOK_ALL_UPPER 2u     /* every letter upper case (and at least one letter) */
#define WW_TOK_HAS_DIGIT 4u
#define WW_TOK_ALL_DIGIT 8u
#define WW_TOK_ASCII 16u

/* A reusable token buffer: _init/_deinit, no allocation between events once warm. */
typedef struct {
    ww_token_t *toks;
    size_t n, cap;
    char *fold; /* all folded words, each NUL-terminated */
    size_t fold_len, fold_cap;
} ww_tokens_t;

void ww_tokens_init(ww_tokens_t *t);
void ww_tokens_deinit(ww_tokens_t *t);

/* Splits s[0..len) into words (invalid UTF-8 bytes separate words). Resets
 * `out` first. */
void ww_tokenize(const char *s, size_t len, ww_tokens_t *out);

/* The folded, NUL-terminated form of token i. Borrowed until the next
 * ww_tokenize on `t`. */
static inline const char *ww_token_fold(const ww_tokens_t *t, size_t i)
{
    return t->fold + t->toks[i].fold_off;
}

/* Case-folds s[0..len) (Unicode, NFC). Caller owns; *outlen may be NULL. */
char *ww_casefold(const char *s, size_t len, size_t *outlen);

/* 64-bit hash (XXH3) of bytes. */
uint64_t ww_hash_bytes(const void *p, size_t n);

/* True when the code point is a word character (L*, M*, N*). */
bool ww_is_word_cp(int32_t cp);

#endif
