/* test_ner_eval.c - the bundled NER model on the CoNLL-2003 development set
 * (../shared/data/conll2003/dev.txt), through the `wirewatch ner` command:
 * phrase F1 must stay >= 92 (the model reaches 93.4), and `ner --conll`
 * prints every input line with one tag appended. Skipped when the shared
 * data is absent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ww/alloc.h"
#include "wwtest.h"

#define F1_MIN 92.0

static char *dev_path(void)
{
    const char *d = wwt_shared_data();
    if (!d)
        return NULL;
    char *p = ww_asprintf("%s/conll2003/dev.txt", d);
    FILE *f = fopen(p, "r");
    if (!f) {
        ww_free(p);
        return NULL;
    }
    fclose(f);
    return p;
}

static void test_dev_f1(void **state)
{
    (void)state;
    char *dev = dev_path();
    if (!dev) {
        fprintf(stderr, "../shared/data/conll2003/dev.txt not present: skipped\n");
        skip();
    }
    char *out = NULL;
    const char *args[] = {"ner", "--eval", dev, NULL};
    int rc = wwt_run("wirewatch", args, NULL, &out, false);
    fprintf(stderr, "%s", out ? out : "");
    assert_int_equal(rc, 0);
    assert_non_null(out);
    const char *fb = strstr(out, "FB1:");
    assert_non_null(fb);
    double f1 = atof(fb + 4);
    assert_true(f1 >= F1_MIN);
    /* one line per type */
    static const char *const types[] = {"PER:", "ORG:", "LOC:", "MISC:"};
    for (int t = 0; t < 4; t++)
        assert_non_null(strstr(out, types[t]));
    ww_free(out);
    ww_free(dev);
}

static void test_conll_output(void **state)
{
    (void)state;
    char *dev = dev_path();
    if (!dev) {
        fprintf(stderr, "../shared/data/conll2003/dev.txt not present: skipped\n");
        skip();
    }
    char *out = NULL;
    const char *args[] = {"ner", "--conll", dev, NULL};
    assert_int_equal(wwt_run("wirewatch", args, NULL, &out, false), 0);
    char *in = wwt_read_file(dev);
    assert_non_null(in);
    assert_non_null(out);
    /* line by line: the input line, a space, a tag */
    const char *p = in, *q = out;
    size_t lines = 0;
    while (*p) {
        const char *pe = strchr(p, '\n'), *qe = strchr(q, '\n');
        assert_non_null(pe);
        assert_non_null(qe);
        size_t pl = (size_t)(pe - p), ql = (size_t)(qe - q);
        if (pl == 0) {
            assert_int_equal(ql, 0);
        } else {
            assert_true(ql > pl + 1);
            assert_memory_equal(p, q, pl);
            assert_int_equal(q[pl], ' ');
            const char *tag = q + pl + 1;
            assert_true(tag[0] == 'O' || ((tag[0] == 'B' || tag[0] == 'I') && tag[1] == '-'));
        }
        lines++;
        p = pe + 1;
        q = qe + 1;
    }
    assert_int_equal(*q, '\0');
    assert_true(lines > 50000);
    ww_free(in);
    ww_free(out);
    ww_free(dev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_dev_f1), cmocka_unit_test(test_conll_output)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
