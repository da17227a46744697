/* test_text.c - the word tokenizer (common/text.c): offsets, folding, flags,
 * invalid UTF-8, buffer reuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ww/alloc.h"
#include "ww/text.h"

/* Asserts token i of t spans s[start..end) and folds to `fold`. */
static void check_tok(const ww_tokens_t *t, size_t i, const char *s, const char *word,
                      const char *fold)
{
    assert_true(i < t->n);
    const char *at = strstr(s, word);
    assert_non_null(at);
    assert_int_equal(t->toks[i].start, (uint32_t)(at - s));
    assert_int_equal(t->toks[i].end, (uint32_t)(at - s + strlen(word)));
    assert_string_equal(ww_token_fold(t, i), fold);
    assert_int_equal(t->toks[i].fold_len, strlen(fold));
    assert_true(t->toks[i].hash == ww_hash_bytes(fold, strlen(fold)));
}

static void test_offsets_and_split(void **state)
{
    (void)state;
    const char *s = "  China's export-control rules, (2024) hit U.S. firms!";
    ww_tokens_t t;
    ww_tokens_init(&t);
    ww_tokenize(s, strlen(s), &t);
    assert_int_equal(t.n, 10);
    check_tok(&t, 0, s, "China", "china");
    assert_string_equal(ww_token_fold(&t, 1), "s");
    assert_int_equal(t.toks[1].start, (uint32_t)(strchr(s, '\'') - s + 1));
    check_tok(&t, 2, s, "export", "export");
    check_tok(&t, 3, s, "control", "control");
    check_tok(&t, 4, s, "rules", "rules");
    check_tok(&t, 5, s, "2024", "2024");
    check_tok(&t, 6, s, "hit", "hit");
    check_tok(&t, 7, s, "U", "u");
    assert_int_equal(t.toks[8].start, (uint32_t)(strstr(s, "S.") - s));
    assert_int_equal(t.toks[8].end, t.toks[8].start + 1);
    assert_string_equal(ww_token_fold(&t, 8), "s");
    check_tok(&t, 9, s, "firms", "firms");
    for (size_t i = 1; i < t.n; i++)
        assert_true(t.toks[i].start >= t.toks[i - 1].end);
    ww_tokens_deinit(&t);
}

static void test_flags(void **state)
{
    (void)state;
    const char *s = "NATO Biden iPhone 2024 G7 3rd élan ÉCOLE ǅemal 中国";
    ww_tokens_t t;
    ww_tokens_init(&t);
    ww_tokenize(s, strlen(s), &t);
    assert_int_equal(t.n, 10);
    uint32_t f[10];
    for (size_t i = 0; i < 10; i++)
        f[i] = t.toks[i].flags;
    assert_true(f[0] & WW_TOK_UPPER_INITIAL);
    assert_true(f[0] & WW_TOK_ALL_UPPER);
    assert_true(f[0] & WW_TOK_ASCII);
    assert_true(f[1] & WW_TOK_UPPER_INITIAL);
    assert_false(f[1] & WW_TOK_ALL_UPPER);
    assert_false(f[2] & WW_TOK_UPPER_INITIAL);
    assert_true(f[3] & WW_TOK_ALL_DIGIT);
    assert_true(f[3] & WW_TOK_HAS_DIGIT);
    assert_false(f[3] & WW_TOK_ALL_UPPER); /* no letter at all */
    assert_false(f[3] & WW_TOK_UPPER_INITIAL);
    assert_true(f[4] & WW_TOK_HAS_DIGIT);
    assert_false(f[4] & WW_TOK_ALL_DIGIT);
    assert_true(f[4] & WW_TOK_ALL_UPPER);
    assert_true(f[5] & WW_TOK_HAS_DIGIT);
    assert_false(f[5] & WW_TOK_ALL_UPPER);
    assert_false(f[6] & WW_TOK_ASCII);
    assert_false(f[6] & WW_TOK_UPPER_INITIAL);
    assert_true(f[7] & WW_TOK_ALL_UPPER);
    assert_true(f[7] & WW_TOK_UPPER_INITIAL);
    assert_true(f[8] & WW_TOK_UPPER_INITIAL); /* title case letter (Lt) */
    assert_false(f[9] & WW_TOK_UPPER_INITIAL);
    assert_false(f[9] & WW_TOK_ALL_UPPER); /* Lo letters have no case */
    assert_string_equal(ww_token_fold(&t, 7), "école");
    assert_string_equal(ww_token_fold(&t, 9), "中国");
    ww_tokens_deinit(&t);
}

static void test_folding(void **state)
{
    (void)state;
    /* precomposed and decomposed é, sharp s, Greek final sigma */
    const char *s = "CAFÉ cafe\xcc\x81 Straße STRASSE ΟΔΟΣ οδος";
    ww_tokens_t t;
    ww_tokens_init(&t);
    ww_tokenize(s, strlen(s), &t);
    assert_int_equal(t.n, 6);
    assert_string_equal(ww_token_fold(&t, 0), "café");
    assert_string_equal(ww_token_fold(&t, 1), "café"); /* composed (NFC) */
    assert_true(t.toks[0].hash == t.toks[1].hash);
    assert_string_equal(ww_token_fold(&t, 2), "strasse");
    assert_true(t.toks[2].hash == t.toks[3].hash);
    assert_true(t.toks[4].hash == t.toks[5].hash);
    /* the decomposed word keeps its original byte span (combining mark included) */
    assert_int_equal(t.toks[1].end - t.toks[1].start, strlen("cafe\xcc\x81"));

    size_t n = 0;
    char *c = ww_casefold("Ünïcode ÀB", strlen("Ünïcode ÀB"), &n);
    assert_string_equal(c, "ünïcode àb");
    assert_int_equal(n, strlen("ünïcode àb"));
    ww_free(c);
    assert_true(ww_is_word_cp('a'));
    assert_true(ww_is_word_cp(0x0301)); /* combining mark */
    assert_true(ww_is_word_cp(0x0663)); /* Arabic-Indic digit */
    assert_false(ww_is_word_cp('-'));
    assert_false(ww_is_word_cp(0x2019)); /* right single quote */
    assert_false(ww_is_word_cp(0x00A0));
    ww_tokens_deinit(&t);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    /* a stray continuation byte, an overlong form, a surrogate, a truncated sequence */
    const char s[] = "ab\x80" "cd \xc0\xaf" "ef \xed\xa0\x80gh ij\xe4\xb8";
    size_t len = sizeof s - 1;
    ww_tokens_t t;
    ww_tokens_init(&t);
    ww_tokenize(s, len, &t);
    const char *want[] = {"ab", "cd", "ef", "gh", "ij"};
    assert_int_equal(t.n, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(ww_token_fold(&t, i), want[i]);
        assert_true(t.toks[i].end <= len);
        assert_memory_equal(s + t.toks[i].start, want[i], 2);
    }
    /* a lone lead byte at the very end */
    ww_tokenize("x\xf0", 2, &t);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.toks[0].end, 1);
    ww_tokens_deinit(&t);
}

static void test_reuse_and_empty(void **state)
{
    (void)state;
    ww_tokens_t t;
    ww_tokens_init(&t);
    ww_tokenize("one two three four five six seven", 33, &t);
    assert_int_equal(t.n, 7);
    ww_tokenize("", 0, &t);
    assert_int_equal(t.n, 0);
    assert_int_equal(t.fold_len, 0);
    ww_tokenize(" ,.;!? -- ", 10, &t);
    assert_int_equal(t.n, 0);
    /* length bounds the input: the word after len is not seen */
    ww_tokenize("alpha beta", 7, &t);
    assert_int_equal(t.n, 2);
    assert_string_equal(ww_token_fold(&t, 1), "b");
    /* many words: buffers grow */
    size_t n = 5000;
    char *big = ww_malloc(n * 4 + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(big + i * 4, "Ab1 ", 4);
    big[n * 4] = '\0';
    ww_tokenize(big, n * 4, &t);
    assert_int_equal(t.n, n);
    assert_int_equal(t.toks[n - 1].start, (n - 1) * 4);
    assert_string_equal(ww_token_fold(&t, n - 1), "ab1");
    ww_free(big);
    ww_tokens_deinit(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offsets_and_split), cmocka_unit_test(test_flags),
        cmocka_unit_test(test_folding),           cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_reuse_and_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
