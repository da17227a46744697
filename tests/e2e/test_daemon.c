/* test_daemon.c - daemon behaviour (SPEC §2): --daemon with --pidfile (a
 * stale pid file is replaced, a live one refused, the file removed on
 * SIGTERM), SIGHUP reloads and logs the new configuration version, a bad
 * configuration on reload keeps the running one, a bad one at start exits 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ww/alloc.h"
#include "wwtest.h"

static char *config_text(int port_base, const char *level)
{
    return ww_asprintf("log_level: %s\n"
                       "ingest:\n  dispatch: tcp://127.0.0.1:%d\n"
                       "extract:\n  results: tcp://127.0.0.1:%d\n",
                       level, port_base, port_base + 1);
}

static long read_pid(const char *path)
{
    char *t = wwt_read_file(path);
    long pid = t ? atol(t) : 0;
    ww_free(t);
    return pid;
}

/* A pid that certainly belongs to no process: a child that has been reaped. */
static pid_t dead_pid(void)
{
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    waitpid(p, NULL, 0);
    return p;
}

static void test_daemon_pidfile(void **state)
{
    (void)state;
    char *dir = wwt_tmpdir("daemon");
    char *cfgtext = config_text(wwt_free_port(), "info");
    char *cfg = wwt_write_file(dir, "wirewatch.yaml", cfgtext);
    char *pidfile = ww_asprintf("%s/extract.pid", dir);
    char stale[32];
    pid_t gone = dead_pid();
    snprintf(stale, sizeof stale, "%ld\n", (long)gone);
    ww_free(wwt_write_file(dir, "extract.pid", stale));

    /* stale pid file: replaced; --daemon returns at once with the daemon running */
    const char *args[] = {"-c", cfg, "--daemon", "--pidfile", pidfile, NULL};
    char *out = NULL;
    assert_int_equal(wwt_run("wirewatch-extract", args, NULL, &out, true), 0);
    ww_free(out);
    long pid = 0;
    for (int i = 0; i < 100 && (pid == 0 || pid == gone); i++) {
        wwt_sleep_ms(50);
        pid = read_pid(pidfile);
    }
    assert_true(pid > 0 && pid != gone);
    assert_int_equal(kill((pid_t)pid, 0), 0);

    /* live pid file: refused, exit 1, naming the running pid */
    assert_int_equal(wwt_run("wirewatch-extract", args, NULL, &out, true), 1);
    char want[64];
    snprintf(want, sizeof want, "already running as pid %ld", pid);
    assert_non_null(strstr(out, want));
    ww_free(out);
    const char *fg[] = {"-c", cfg, "--pidfile", pidfile, NULL};
    assert_int_equal(wwt_run("wirewatch-extract", fg, NULL, &out, true), 1);
    ww_free(out);
    assert_int_equal(read_pid(pidfile), pid);

    /* SIGTERM: exits and removes its pid file */
    kill((pid_t)pid, SIGTERM);
    for (int i = 0; i < 200 && kill((pid_t)pid, 0) == 0; i++)
        wwt_sleep_ms(50);
    assert_int_not_equal(kill((pid_t)pid, 0), 0);
    assert_int_not_equal(access(pidfile, F_OK), 0);

    wwt_rmdir(dir);
    ww_free(dir);
    ww_free(cfgtext);
    ww_free(cfg);
    ww_free(pidfile);
}

/* The value of `version=` on the last line of log containing `msg`. Caller owns. */
static char *last_version(const char *log, const char *msg)
{
    const char *hit = NULL;
    for (const char *p = strstr(log, msg); p; p = strstr(p + 1, msg))
        hit = p;
    if (!hit)
        return NULL;
    const char *v = strstr(hit, "version=");
    const char *eol = strchr(hit, '\n');
    if (!v || (eol && v > eol))
        return NULL;
    v += 8;
    return ww_strndup(v, strcspn(v, " \n"));
}

static bool wait_log(const char *path, const char *msg, int times, long ms)
{
    long until = wwt_ms() + ms;
    while (wwt_ms() < until) {
        char *t = wwt_read_file(path);
        int n = 0;
        for (const char *p = t ? strstr(t, msg) : NULL; p; p = strstr(p + 1, msg))
            n++;
        ww_free(t);
        if (n >= times)
            return true;
        wwt_sleep_ms(50);
    }
    return false;
}

static void test_sighup_logs_version(void **state)
{
    (void)state;
    char *dir = wwt_tmpdir("hup");
    int base = wwt_free_port();
    char *t1 = config_text(base, "info");
    char *cfg = wwt_write_file(dir, "wirewatch.yaml", t1);
    char *log = ww_asprintf("%s/extract.log", dir);
    const char *args[] = {"-c", cfg, NULL};
    pid_t pid = wwt_spawn("wirewatch-extract", args, log);
    assert_true(wait_log(log, "configuration loaded", 1, 10000));
    char *text = wwt_read_file(log);
    char *v1 = last_version(text, "configuration loaded");
    ww_free(text);
    assert_non_null(v1);
    assert_int_equal(strlen(v1), 16);

    /* a changed file: a new version is logged */
    char *t2 = ww_asprintf("%s# a comment changes the version\n", t1);
    ww_free(wwt_write_file(dir, "wirewatch.yaml", t2));
    kill(pid, SIGHUP);
    assert_true(wait_log(log, "configuration reloaded", 1, 10000));
    text = wwt_read_file(log);
    char *v2 = last_version(text, "configuration reloaded");
    ww_free(text);
    assert_non_null(v2);
    assert_string_not_equal(v1, v2);

    /* a broken file: the error is logged with file and line, the old one stays */
    ww_free(wwt_write_file(dir, "wirewatch.yaml", "log_level: info\nno_such_key: 1\n"));
    kill(pid, SIGHUP);
    assert_true(wait_log(log, "reload failed", 1, 10000));
    text = wwt_read_file(log);
    assert_non_null(strstr(text, "wirewatch.yaml:2"));
    ww_free(text);
    assert_int_equal(kill(pid, 0), 0);
    int st = wwt_stop(pid, SIGTERM, 10000);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

    /* a broken file at start: exit 2 */
    const char *again[] = {"-c", cfg, NULL};
    char *out = NULL;
    assert_int_equal(wwt_run("wirewatch-extract", again, NULL, &out, true), 2);
    assert_non_null(strstr(out, "no_such_key"));
    ww_free(out);
    /* a missing CURVE key file at start: exit 2, naming the key */
    char *t3 = ww_asprintf("%scurve:\n  server_public: nowhere.pub\n", t1);
    ww_free(wwt_write_file(dir, "wirewatch.yaml", t3));
    assert_int_equal(wwt_run("wirewatch-extract", again, NULL, &out, true), 2);
    assert_non_null(strstr(out, "curve.server_public"));
    ww_free(out);

    wwt_rmdir(dir);
    ww_free(dir);
    ww_free(t1);
    ww_free(t2);
    ww_free(t3);
    ww_free(cfg);
    ww_free(log);
    ww_free(v1);
    ww_free(v2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_daemon_pidfile),
        cmocka_unit_test(test_sighup_logs_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
