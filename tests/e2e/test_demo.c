/* test_demo.c - the first README command's job: `wirewatch up --demo` starts
 * its own redis-server and daemons, publishes the bundled stream, prints the
 * alerts, and exits 0. Asserts that every bundled rule fired, that the three
 * duplicate articles were dropped, and that `up` cleaned up after itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wwtest.h"
#include "ww/alloc.h"
#include "ww/paths.h"
#include "ww/rules.h"

static void test_demo(void **state)
{
    (void)state;
    char *dir = wwt_tmpdir("demo");
    char *config = wwt_endpoints_config(dir, "demo.yaml");
    char *out = NULL;
    const char *args[] = {"up", "--demo", "-c", config, "--extract", "2", NULL};
    setenv("TMPDIR", dir, 1);
    int rc = wwt_run("wirewatch", args, NULL, &out, false);
    unsetenv("TMPDIR");
    fprintf(stderr, "%s", out);
    assert_int_equal(rc, 0);
    /* every bundled rule fired at least once */
    char *rules_path = ww_data_path("demo/rules.yaml");
    assert_non_null(rules_path);
    char err[512];
    ww_ruleset_t *rs = ww_rules_load_file(rules_path, err, sizeof err);
    assert_non_null(rs);
    assert_true(ww_rules_count(rs) >= 10);
    for (size_t i = 0; i < ww_rules_count(rs); i++) {
        const ww_rule_t *r = ww_rules_get(rs, i);
        char needle[160];
        snprintf(needle, sizeof needle, " %s ", r->channel);
        if (!strstr(out, needle))
            fail_msg("rule %s (channel %s) printed no alert", r->id, r->channel);
    }
    ww_rules_destroy(&rs);
    ww_free(rules_path);
    assert_non_null(strstr(out, "48 articles received, 45 accepted, 3 duplicates dropped, 45 evaluated"));
    /* the private redis-server's temp dir is gone */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls -d %s/wirewatch-up-* 2>/dev/null | wc -l", dir);
    FILE *f = popen(cmd, "r");
    char buf[32] = "";
    assert_non_null(fgets(buf, sizeof buf, f));
    pclose(f);
    assert_int_equal(atoi(buf), 0);
    ww_free(out);
    ww_free(config);
    wwt_rmdir(dir);
    ww_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_demo)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
