/* test_netns.c - many hosts: ingest, extract, alert and Redis each run in a
 * network namespace of their own, joined by veth pairs to a bridge in a fifth
 * namespace. Every address is link-local (169.254.77.0/29), assigned by this
 * test inside namespaces it created, so no packet can leave the machine.
 * CurveZMQ is on and Redis wants a password, as between real hosts. A
 * producer in the extract host's namespace publishes events; a subscriber in
 * the alert host's namespace receives the alerts.
 *
 * Skips (with a message) when not root, without `ip`, or where the kernel
 * forbids network namespaces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ww/alloc.h"
#include "wwtest.h"

#define NET "169.254.77"
#define REDIS_PW "ns-secret-9d2"

enum { SW, HUB, EXT, ALR, RED, NNS };
static const char *const ns_role[NNS] = {"sw", "hub", "ext", "alr", "red"};
static const char *const ns_addr[NNS] = {NULL, NET ".1", NET ".3", NET ".4", NET ".2"};

static struct {
    char ns[NNS][32];
    bool made[NNS];
    char *dir, *config, *log;
    pid_t redis, ingest, extract, alert;
} N;

/* Runs a command line quietly; returns its exit status (-1 when it did not run). */
static int sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char full[1100];
    snprintf(full, sizeof full, "%s >/dev/null 2>&1", cmd);
    int st = system(full);
    return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs argv inside namespace ns in the background, stdout to out_path (when
 * non-NULL) and stderr to N.log. Returns the pid (ip netns exec execs the
 * program, so it is the program's pid). */
static pid_t spawn_in(int ns, const char *const *argv, const char *out_path)
{
    pid_t pid = fork();
    if (pid == 0) {
        const char *args[32];
        int n = 0;
        args[n++] = "ip";
        args[n++] = "netns";
        args[n++] = "exec";
        args[n++] = N.ns[ns];
        for (int i = 0; argv[i] && n < 31; i++)
            args[n++] = argv[i];
        args[n] = NULL;
        int fd = open(N.log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0)
            dup2(fd, 2);
        int o = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o >= 0)
            dup2(o, 1);
        execvp("ip", (char *const *)args);
        _exit(127);
    }
    return pid;
}

/* Output of a command run in namespace ns (caller owns), NULL on failure. */
static char *capture_in(int ns, const char *cmd)
{
    char full[1024];
    snprintf(full, sizeof full, "ip netns exec %s %s 2>/dev/null", N.ns[ns], cmd);
    FILE *p = popen(full, "r");
    if (!p)
        return NULL;
    size_t cap = 256, len = 0;
    char *out = ww_malloc(cap);
    size_t k;
    while ((k = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += k;
        if (cap - len < 2)
            WW_GROW(out, cap, cap * 2);
    }
    out[len] = '\0';
    pclose(p);
    return out;
}

static long redis_int(const char *cmd)
{
    char full[512];
    snprintf(full, sizeof full, "redis-cli -h " NET ".2 -a " REDIS_PW " --no-auth-warning %s", cmd);
    char *out = capture_in(RED, full);
    long v = out ? atol(out) : -1;
    ww_free(out);
    return v;
}

static void destroy_all(void)
{
    pid_t pids[] = {N.alert, N.extract, N.ingest, N.redis};
    for (int i = 0; i < 4; i++)
        if (pids[i] > 0)
            wwt_stop(pids[i], SIGTERM, 10000);
    for (int i = 0; i < NNS; i++)
        if (N.made[i])
            sh("ip netns del %s", N.ns[i]);
}

static int setup(void **state)
{
    (void)state;
    memset(&N, 0, sizeof N);
    return 0;
}

/* Builds the five namespaces. Returns 0, or -1 with a reason to skip. */
static int build_net(const char **why)
{
    if (geteuid() != 0) {
        *why = "not root: network namespaces need CAP_SYS_ADMIN";
        return -1;
    }
    if (sh("ip -V") != 0) {
        *why = "no `ip` command (iproute2)";
        return -1;
    }
    if (sh("redis-cli --version") != 0) {
        *why = "no redis-cli";
        return -1;
    }
    long tag = (long)getpid() % 100000;
    for (int i = 0; i < NNS; i++) {
        snprintf(N.ns[i], sizeof N.ns[i], "wwt-%s-%ld", ns_role[i], tag);
        if (sh("ip netns add %s", N.ns[i]) != 0) {
            *why = "`ip netns add` refused: namespaces are forbidden here";
            return -1;
        }
        N.made[i] = true;
        sh("ip -n %s link set lo up", N.ns[i]);
    }
    if (sh("ip -n %s link add br0 type bridge", N.ns[SW]) != 0 || sh("ip -n %s link set br0 up", N.ns[SW]) != 0) {
        *why = "cannot create a bridge in a namespace";
        return -1;
    }
    for (int i = HUB; i < NNS; i++) {
        char a[16], b[16];
        snprintf(a, sizeof a, "ww%d%ldh", i, tag % 10000);
        snprintf(b, sizeof b, "ww%d%lds", i, tag % 10000);
        if (sh("ip link add %s type veth peer name %s", a, b) != 0 || sh("ip link set %s netns %s", a, N.ns[i]) != 0 ||
            sh("ip link set %s netns %s", b, N.ns[SW]) != 0 ||
            sh("ip -n %s link set %s master br0", N.ns[SW], b) != 0 || sh("ip -n %s link set %s up", N.ns[SW], b) != 0 ||
            sh("ip -n %s addr add %s/29 dev %s", N.ns[i], ns_addr[i], a) != 0 ||
            sh("ip -n %s link set %s up", N.ns[i], a) != 0) {
            *why = "cannot create veth pairs";
            return -1;
        }
    }
    return 0;
}

static void test_pipeline_across_namespaces(void **state)
{
    (void)state;
    const char *why = NULL;
    if (build_net(&why) < 0) {
        fprintf(stderr, "test_netns: skipped: %s\n", why);
        destroy_all();
        skip();
    }
    N.dir = wwt_tmpdir("netns");
    N.log = ww_asprintf("%s/daemons.log", N.dir);
    /* keys: the hub's, and one client key shared by the worker hosts */
    const char *names[] = {"hub", "workers"};
    for (int i = 0; i < 2; i++) {
        char *prefix = ww_asprintf("%s/%s", N.dir, names[i]);
        const char *args[] = {"keygen", "--out", prefix, NULL};
        assert_int_equal(wwt_run("wirewatch", args, NULL, NULL, false), 0);
        ww_free(prefix);
    }
    /* the authorised client keys: a public key file is a valid authorized_keys file */
    ww_free(wwt_write_file(N.dir, "rules.yaml",
                           "rules:\n  - id: storm\n    channel: weather.storm\n    match: 'storm*'\n"));
    char cfg[2048];
    snprintf(cfg, sizeof cfg,
             "redis: redis://:" REDIS_PW "@" NET ".2:6379/0\n"
             "prefix: \"t:\"\n"
             "ingest:\n  intake: tcp://" NET ".1:7400\n  dispatch: tcp://" NET ".1:7401\n"
             "extract:\n  results: tcp://" NET ".1:7402\n"
             "alert:\n  work: tcp://" NET ".1:7403\n  publish_in: tcp://" NET ".1:7404\n"
             "  publish: tcp://" NET ".1:7405\n  rules: %s/rules.yaml\n"
             "curve:\n  server_public: hub.pub\n  server_secret: hub.key\n"
             "  client_public: workers.pub\n  client_secret: workers.key\n  authorized_keys: workers.pub\n",
             N.dir);
    N.config = wwt_write_file(N.dir, "wirewatch.yaml", cfg);

    const char *redis[] = {"redis-server", "--port", "6379", "--bind", NET ".2", "--save", "", "--appendonly", "no",
                           "--requirepass", REDIS_PW, "--dir", N.dir, NULL};
    N.redis = spawn_in(RED, redis, NULL);
    long until = wwt_ms() + 10000;
    while (wwt_ms() < until && redis_int("DBSIZE") < 0)
        wwt_sleep_ms(100);
    assert_true(redis_int("DBSIZE") >= 0);

    char *ingest = wwt_bin("wirewatch-ingest"), *extract = wwt_bin("wirewatch-extract"),
         *alert = wwt_bin("wirewatch-alert"), *cli = wwt_bin("wirewatch");
    const char *a_ing[] = {ingest, "-c", N.config, NULL};
    const char *a_ext[] = {extract, "-c", N.config, NULL};
    const char *a_alr[] = {alert, "-c", N.config, NULL};
    N.ingest = spawn_in(HUB, a_ing, NULL);
    N.extract = spawn_in(EXT, a_ext, NULL);
    N.alert = spawn_in(ALR, a_alr, NULL);
    until = wwt_ms() + 20000;
    while (wwt_ms() < until) {
        char *k = capture_in(RED, "redis-cli -h " NET ".2 -a " REDIS_PW " --no-auth-warning KEYS 't:workers:*'");
        bool both = k && strstr(k, "workers:extract:") && strstr(k, "workers:alert:");
        ww_free(k);
        if (both)
            break;
        wwt_sleep_ms(100);
    }
    /* the hub is not reachable from the test's own namespace: nothing leaks out */
    assert_int_not_equal(sh("redis-cli -h " NET ".2 -a " REDIS_PW " --no-auth-warning PING"), 0);

    /* a subscriber on the alert host, a producer on the extract host */
    char *sub_out = ww_asprintf("%s/sub.out", N.dir);
    const char *a_sub[] = {cli, "subscribe", "-c", N.config, "--json", "--count", "2", "--timeout", "40", NULL};
    pid_t sub = spawn_in(ALR, a_sub, sub_out);
    wwt_sleep_ms(1500);
    char *events = wwt_write_file(N.dir, "events.jsonl",
                                  "{\"title\":\"Storm closes the harbour\",\"url\":\"http://example.test/s1\"}\n"
                                  "{\"title\":\"Quiet day at the council\",\"url\":\"http://example.test/q\"}\n"
                                  "{\"title\":\"Storms move inland\",\"url\":\"http://example.test/s2\"}\n");
    const char *a_pub[] = {cli, "publish", "-c", N.config, events, NULL};
    pid_t p = spawn_in(EXT, a_pub, NULL);
    int st = wwt_stop(p, 0, 30000);
    (void)st;
    until = wwt_ms() + 40000;
    while (waitpid(sub, &st, WNOHANG) == 0 && wwt_ms() < until)
        wwt_sleep_ms(100);
    char *got = wwt_read_file(sub_out);
    assert_non_null(got);
    assert_non_null(strstr(got, "Storm closes the harbour"));
    assert_non_null(strstr(got, "Storms move inland"));
    assert_null(strstr(got, "Quiet day"));
    assert_int_equal(redis_int("HGET t:stats:ingest accepted"), 3);
    assert_int_equal(redis_int("XLEN t:alerts"), 2);
    char *log = wwt_read_file(N.log);
    assert_non_null(log);
    assert_null(strstr(log, REDIS_PW));
    assert_non_null(strstr(log, "curve=on"));
    ww_free(log);
    ww_free(got);
    ww_free(events);
    ww_free(sub_out);
    ww_free(ingest);
    ww_free(extract);
    ww_free(alert);
    ww_free(cli);
}

static int teardown(void **state)
{
    (void)state;
    destroy_all();
    if (N.dir) {
        if (getenv("WW_KEEP_LOGS"))
            fprintf(stderr, "logs kept in %s\n", N.dir);
        else
            wwt_rmdir(N.dir);
    }
    ww_free(N.dir);
    ww_free(N.config);
    ww_free(N.log);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pipeline_across_namespaces, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
