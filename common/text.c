/* text.c - the word tokenizer (utf8proc for categories and case folding). */
#include "ww/text.h"

#include <string.h>
#include <utf8proc.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ww/alloc.h"

uint64_t ww_hash_bytes(const void *p, size_t n)
{
    return XXH3_64bits(p, n);
}

void ww_tokens_init(ww_tokens_t *t)
{
    memset(t, 0, sizeof *t);
}

void ww_tokens_deinit(ww_tokens_t *t)
{
    ww_free(t->toks);
    ww_free(t->fold);
    memset(t, 0, sizeof *t);
}

bool ww_is_word_cp(int32_t cp)
{
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return true;
    default:
        return false;
    }
}

/* Unicode category of a word character; ASCII letters and digits without a
 * table look-up (the tokenizer asks once or twice per character). */
static inline utf8proc_category_t word_category(int32_t cp)
{
    if (cp < 0x80) {
        if (cp >= 'A' && cp <= 'Z')
            return UTF8PROC_CATEGORY_LU;
        if (cp >= 'a' && cp <= 'z')
            return UTF8PROC_CATEGORY_LL;
        if (cp >= '0' && cp <= '9')
            return UTF8PROC_CATEGORY_ND;
    }
    return utf8proc_category(cp);
}

static void fold_append(ww_tokens_t *t, const char *p, size_t n)
{
    WW_GROW(t->fold, t->fold_cap, t->fold_len + n + 1);
    memcpy(t->fold + t->fold_len, p, n);
    t->fold_len += n;
}

/* Appends the folded form of one word. ASCII words take the fast path. */
static void fold_word(ww_tokens_t *t, const char *s, size_t n, bool ascii)
{
    if (ascii) {
        WW_GROW(t->fold, t->fold_cap, t->fold_len + n + 1);
        char *d = t->fold + t->fold_len;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            d[i] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
        }
        t->fold_len += n;
        return;
    }
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &out,
                                      UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE | UTF8PROC_STABLE);
    if (r < 0) {
        fold_append(t, s, n);
    } else {
        fold_append(t, (const char *)out, (size_t)r);
    }
    free(out);
}

void ww_tokenize(const char *s, size_t len, ww_tokens_t *out)
{
    out->n = 0;
    out->fold_len = 0;
    size_t i = 0;
    while (i < len) {
        /* skip non-word characters */
        size_t wstart = i;
        bool in_word = false;
        uint32_t flags = WW_TOK_ASCII | WW_TOK_ALL_DIGIT;
        bool any_letter = false, all_upper = true;
        while (i < len) {
            unsigned char c = (unsigned char)s[i];
            int32_t cp;
            utf8proc_ssize_t step;
            bool word;
            if (c < 0x80) {
                cp = c;
                step = 1;
                word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            } else {
                step = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i),
                                        &cp);
                if (step < 0) {
                    step = 1;
                    word = false;
                } else {
                    word = ww_is_word_cp(cp);
                }
            }
            if (!word) {
                if (in_word)
                    break;
                i += (size_t)step;
                wstart = i;
                continue;
            }
            if (!in_word) {
                in_word = true;
                wstart = i;
                utf8proc_category_t cat = word_category(cp);
                if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT)
                    flags |= WW_TOK_UPPER_INITIAL;
            }
            if (c >= 0x80)
                flags &= ~WW_TOK_ASCII;
            utf8proc_category_t cat = word_category(cp);
            if (cat == UTF8PROC_CATEGORY_ND || cat == UTF8PROC_CATEGORY_NL ||
                cat == UTF8PROC_CATEGORY_NO) {
                flags |= WW_TOK_HAS_DIGIT;
            } else {
                flags &= ~WW_TOK_ALL_DIGIT;
                if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT)
                    any_letter = true;
                else if (cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LO ||
                         cat == UTF8PROC_CATEGORY_LM) {
                    any_letter = true;
                    all_upper = false;
                }
            }
            i += (size_t)step;
        }
        if (!in_word)
            break;
        if (any_letter && all_upper)
            flags |= WW_TOK_ALL_UPPER;
        WW_GROW(out->toks, out->cap, out->n + 1);
        ww_token_t *tk = &out->toks[out->n++];
        tk->start = (uint32_t)wstart;
        tk->end = (uint32_t)i;
        tk->fold_off = (uint32_t)out->fold_len;
        fold_word(out, s + wstart, i - wstart, (flags & WW_TOK_ASCII) != 0);
        tk->fold_len = (uint32_t)(out->fold_len - tk->fold_off);
        tk->hash = ww_hash_bytes(out->fold + tk->fold_off, tk->fold_len);
        out->fold[out->fold_len++] = '\0';
        tk->flags = flags;
    }
}

char *ww_casefold(const char *s, size_t len, size_t *outlen)
{
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &out,
                                      UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE | UTF8PROC_STABLE);
    char *res;
    if (r < 0) {
        res = ww_strndup(s, len);
        r = (utf8proc_ssize_t)len;
    } else {
        res = ww_strndup((const char *)out, (size_t)r);
    }
    free(out);
    if (outlen)
        *outlen = (size_t)r;
    return res;
}
