/* test_console_browser.c - the web console in a real browser: starts a
 * pipeline with an archive and `wirewatch console`, then runs
 * tests/browser/console.spec.mjs (playwright-core driving Debian's headless
 * chromium), which publishes events, sees the alerts appear live, opens one,
 * checks the highlighted entities and runs a backtest through the form.
 *
 * Exits 77 (ctest: skipped) with a SKIP message when node, /usr/bin/chromium
 * or tests/browser/node_modules (`npm ci` there) are missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wwtest.h"
#include "ww/alloc.h"

#ifndef WW_BROWSER_DIR
#define WW_BROWSER_DIR WW_SOURCE_DATADIR "/../tests/browser"
#endif

#include "console_rules.h"

/* The node binary on PATH (caller owns), NULL when there is none. */
static char *find_node(void)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    char *dirs = ww_strdup(path), *save = NULL;
    char *found = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
        char *p = ww_asprintf("%s/node", d);
        if (access(p, X_OK) == 0)
            found = p;
        else
            ww_free(p);
    }
    ww_free(dirs);
    return found;
}

static char *node_bin;

static void test_console_in_browser(void **state)
{
    (void)state;
    char *tmp = wwt_tmpdir("console-browser");
    char *archive = ww_asprintf("%s/archive", tmp);
    char *extra = ww_asprintf("  archive: %s\n  archive_fsync: always\n", archive);
    wwt_pipeline_t p;
    assert_int_equal(wwt_pipeline_start_ex(&p, RULES, 1, 1, extra, false), 0);
    int port = wwt_free_port();
    char listen[64], url[96];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    const char *args[] = {"console", "--listen", listen, "-c", p.config, NULL};
    pid_t console = wwt_spawn("wirewatch", args, p.log);
    wwt_sleep_ms(300);

    char *wirewatch = wwt_bin("wirewatch");
    char *script = ww_asprintf("%s/console.spec.mjs", WW_BROWSER_DIR);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("WW_CONSOLE_URL", url, 1);
        setenv("WW_WIREWATCH", wirewatch, 1);
        setenv("WW_CONFIG", p.config, 1);
        setenv("WW_TMP", tmp, 1);
        if (chdir(WW_BROWSER_DIR) < 0)
            _exit(126);
        execl(node_bin, "node", script, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fprintf(stderr, "browser test failed; daemon and console logs: %s (WW_KEEP_LOGS=1 keeps them)\n", p.log);
    int cst = wwt_stop(console, SIGTERM, 10000);
    assert_int_equal(wwt_pipeline_stop(&p), 0);
    assert_true(WIFEXITED(cst) && WEXITSTATUS(cst) == 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    wwt_rmdir(archive);
    wwt_rmdir(tmp);
    ww_free(tmp);
    ww_free(archive);
    ww_free(extra);
    ww_free(wirewatch);
    ww_free(script);
}

int main(void)
{
    const char *chromium = getenv("WW_CHROMIUM") ? getenv("WW_CHROMIUM") : "/usr/bin/chromium";
    node_bin = find_node();
    char *mod = ww_asprintf("%s/node_modules/playwright-core/package.json", WW_BROWSER_DIR);
    const char *missing = !node_bin                   ? "node is not installed"
                          : access(chromium, X_OK) != 0 ? "chromium is not installed (/usr/bin/chromium)"
                          : access(mod, R_OK) != 0     ? "playwright-core is not installed (npm ci in tests/browser)"
                                                       : NULL;
    ww_free(mod);
    if (missing) {
        printf("SKIP: test_console_browser: %s\n", missing);
        ww_free(node_bin);
        return 77;
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_console_in_browser)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    ww_free(node_bin);
    return rc;
}
