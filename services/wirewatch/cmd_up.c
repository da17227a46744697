/* cmd_up.c - `wirewatch up`: runs the whole pipeline in the foreground,
 * supervised. Starts a private redis-server when no Redis is configured
 * (and always for --demo), starts ingest, N extract and M alert workers,
 * restarts any that crash, and stops everything on SIGINT/SIGTERM.
 *
 * --demo loads the bundled sample rules, publishes the bundled sample stream,
 * prints every alert readably, and exits 0 once the stream has been fully
 * evaluated.
 *
 * --console HOST:PORT also runs `wirewatch console --listen HOST:PORT` as one
 * more supervised child (stopped first); with --demo the console stays up
 * after the demo until SIGINT/SIGTERM. */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "cli.h"
#include "console.h"
#include "ww/alloc.h"
#include "ww/daemon.h"
#include "ww/log.h"
#include "ww/paths.h"
#include "ww/zmqutil.h"

typedef struct {
    const char *role;   /* "ingest", "extract", "alert", "console" */
    int index;
    pid_t pid;
    int restarts;
    int64_t restart_at; /* mono ms of the next restart, 0 when running */
    int64_t started_at;
} child_t;

typedef struct {
    cli_common_t cc;
    const char *log_level;
    bool demo;
    int n_extract, n_alert;
    const char *console;          /* --console HOST:PORT, NULL: no console */
    struct sockaddr_storage console_addr; /* its address (readiness check) */
    char tmpdir[256];
    pid_t redis_pid;
    child_t kids[2 + 64 + 64];
    size_t n_kids;
} up_t;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Starts redis-server on a unix socket in our temp dir. Returns 0 or -1. */
static int start_redis(up_t *u, char *url, size_t urllen)
{
    char sock[300], log[300];
    snprintf(sock, sizeof sock, "%s/redis.sock", u->tmpdir);
    snprintf(log, sizeof log, "%s/redis.log", u->tmpdir);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setpgid(0, 0); /* Ctrl-C goes to us; we stop redis last */
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* and if we are killed, so is it */
        execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700",
               "--save", "", "--appendonly", "no", "--dir", u->tmpdir, "--logfile", log, (char *)NULL);
        fprintf(stderr, "wirewatch up: cannot run redis-server: %s (install it: scripts/setup.sh)\n",
                strerror(errno));
        _exit(127);
    }
    u->redis_pid = pid;
    snprintf(url, urllen, "unix://%s", sock);
    ww_redis_t *r = ww_redis_new(url, NULL, 0);
    int64_t until = ww_mono_ms() + 10000;
    int rc = -1;
    while (ww_mono_ms() < until && !ww_stop) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            u->redis_pid = 0;
            break;
        }
        if (access(sock, F_OK) == 0 && ww_redis_connect(r) == 0) {
            rc = 0;
            break;
        }
        sleep_ms(20);
    }
    ww_redis_destroy(&r);
    return rc;
}

static pid_t spawn(up_t *u, child_t *k)
{
    char prog[64];
    bool console = strcmp(k->role, "console") == 0; /* `wirewatch console`, the others wirewatch-ROLE */
    snprintf(prog, sizeof prog, console ? "wirewatch" : "wirewatch-%s", k->role);
    char *path = ww_program_path(prog);
    const char *argv[12];
    int n = 0;
    argv[n++] = path;
    if (console) {
        argv[n++] = "console";
        argv[n++] = "--listen";
        argv[n++] = u->console;
    }
    if (u->cc.config_path) {
        argv[n++] = "-c";
        argv[n++] = u->cc.config_path;
    }
    if (u->log_level) {
        argv[n++] = "--log-level";
        argv[n++] = u->log_level;
    }
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* a killed supervisor leaves no orphans */
        execv(path, (char *const *)argv);
        execvp(prog, (char *const *)argv);
        fprintf(stderr, "wirewatch up: cannot run %s: %s\n", prog, strerror(errno));
        _exit(127);
    }
    ww_free(path);
    k->pid = pid;
    k->started_at = ww_mono_ms();
    k->restart_at = 0;
    return pid;
}

/* Reaps exited children and restarts them with backoff (1 s doubling to 30 s;
 * reset after a minute of good running). */
static void supervise(up_t *u)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == u->redis_pid) {
            fprintf(stderr, "wirewatch up: the private redis-server exited; stopping\n");
            u->redis_pid = 0;
            ww_stop = 1;
            continue;
        }
        for (size_t i = 0; i < u->n_kids; i++) {
            child_t *k = &u->kids[i];
            if (k->pid != pid)
                continue;
            k->pid = 0;
            if (ww_stop)
                break;
            if (ww_mono_ms() - k->started_at > 60000)
                k->restarts = 0;
            long delay = 1000L << (k->restarts < 5 ? k->restarts : 5);
            if (delay > 30000)
                delay = 30000;
            k->restarts++;
            k->restart_at = ww_mono_ms() + delay;
            if (WIFSIGNALED(status))
                fprintf(stderr, "wirewatch up: %s #%d killed by signal %d; restarting in %ld ms\n", k->role,
                        k->index, WTERMSIG(status), delay);
            else
                fprintf(stderr, "wirewatch up: %s #%d exited with %d; restarting in %ld ms\n", k->role,
                        k->index, WEXITSTATUS(status), delay);
            if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
                fprintf(stderr, "wirewatch up: %s rejected its configuration; stopping\n", k->role);
                ww_stop = 1;
            }
        }
    }
    int64_t now = ww_mono_ms();
    for (size_t i = 0; i < u->n_kids && !ww_stop; i++)
        if (!u->kids[i].pid && u->kids[i].restart_at && now >= u->kids[i].restart_at)
            spawn(u, &u->kids[i]);
}

/* Stops the console first, then ingest, extract, alert, then redis. */
static void stop_all(up_t *u)
{
    const char *order[] = {"console", "ingest", "extract", "alert"};
    for (int o = 0; o < 4; o++) {
        for (size_t i = 0; i < u->n_kids; i++)
            if (u->kids[i].pid && strcmp(u->kids[i].role, order[o]) == 0)
                kill(u->kids[i].pid, SIGTERM);
        int64_t until = ww_mono_ms() + 10000;
        for (;;) {
            bool left = false;
            for (size_t i = 0; i < u->n_kids; i++) {
                child_t *k = &u->kids[i];
                if (k->pid && strcmp(k->role, order[o]) == 0) {
                    if (waitpid(k->pid, NULL, WNOHANG) == k->pid)
                        k->pid = 0;
                    else
                        left = true;
                }
            }
            if (!left)
                break;
            if (ww_mono_ms() > until) {
                for (size_t i = 0; i < u->n_kids; i++)
                    if (u->kids[i].pid && strcmp(u->kids[i].role, order[o]) == 0) {
                        fprintf(stderr, "wirewatch up: %s did not stop in 10 s; killing it\n", order[o]);
                        kill(u->kids[i].pid, SIGKILL);
                        waitpid(u->kids[i].pid, NULL, 0);
                        u->kids[i].pid = 0;
                    }
                break;
            }
            sleep_ms(20);
        }
    }
    if (u->redis_pid) {
        kill(u->redis_pid, SIGTERM);
        waitpid(u->redis_pid, NULL, 0);
        u->redis_pid = 0;
    }
    if (u->tmpdir[0]) {
        char p[400];
        const char *files[] = {"redis.sock", "redis.log"};
        for (int i = 0; i < 2; i++) {
            snprintf(p, sizeof p, "%s/%s", u->tmpdir, files[i]);
            unlink(p);
        }
        rmdir(u->tmpdir);
    }
}

/* Whether the console accepts connections (it is listening). */
static bool console_up(const up_t *u)
{
    int fd = socket(u->console_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    socklen_t len = u->console_addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    bool ok = connect(fd, (const struct sockaddr *)&u->console_addr, len) == 0;
    close(fd);
    return ok;
}

static long long hget_ll(ww_redis_t *r, const char *key, const char *field)
{
    redisReply *rep = ww_redis_cmd(r, "HGET %s %s", key, field);
    long long v = 0;
    if (rep && rep->type == REDIS_REPLY_STRING)
        v = atoll(rep->str);
    if (rep)
        freeReplyObject(rep);
    return v;
}

/* Counts live worker heartbeats of a stage. */
static long count_workers(ww_redis_t *r, const char *prefix, const char *stage)
{
    redisReply *rep = ww_redis_cmd(r, "KEYS %sworkers:%s:*", prefix, stage);
    long n = (rep && rep->type == REDIS_REPLY_ARRAY) ? (long)rep->elements : 0;
    if (rep)
        freeReplyObject(rep);
    return n;
}

/* Tiny set of printed alert ids (the demo prints each once). */
typedef struct {
    char **ids;
    size_t n, cap;
} idset_t;

static bool idset_add(idset_t *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->ids[i], id) == 0)
            return false;
    WW_GROW(s->ids, s->cap, s->n + 1);
    s->ids[s->n++] = ww_strdup(id);
    return true;
}

static void print_once(idset_t *seen, const char *buf, size_t len, bool color)
{
    ww_alert_t *a;
    if (ww_alert_decode(buf, len, &a) < 0)
        return;
    if (idset_add(seen, a->id)) {
        cli_print_alert(a, color);
        fflush(stdout);
    }
    ww_alert_destroy(&a);
}

/* The demo: publish the bundled stream, print alerts until every event has
 * been evaluated. Returns the exit code. */
static int run_demo(up_t *u, ww_redis_t *r)
{
    const ww_config_t *cfg = &u->cc.cfg;
    const char *pfx = cfg->prefix;
    char *stream = ww_data_path("demo/stream.jsonl");
    if (!stream) {
        fprintf(stderr, "wirewatch up --demo: the bundled demo/stream.jsonl is missing\n");
        return 1;
    }
    bool color = isatty(STDOUT_FILENO);
    void *zctx = zmq_ctx_new();
    void *sub = ww_zmq_socket(zctx, ZMQ_SUB, 0, 100000, 0);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
    ww_zmq_connect(sub, cfg->alert.publish);
    void *push = ww_zmq_socket(zctx, ZMQ_PUSH, 0, 10000, 5000);
    ww_zmq_connect(push, cfg->ingest.intake);
    sleep_ms(300); /* let the subscription reach the alert workers */

    FILE *f = fopen(stream, "r");
    long sent = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while (f && (n = getline(&line, &cap, f)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        if (zmq_send(push, line, (size_t)n, 0) >= 0)
            sent++;
    }
    free(line);
    if (f)
        fclose(f);
    printf("demo: published %ld articles from %s\n\n", sent, stream);
    fflush(stdout);
    ww_free(stream);

    idset_t seen = {0};
    zmq_msg_t ch, body;
    zmq_msg_init(&ch);
    zmq_msg_init(&body);
    int64_t deadline = ww_mono_ms() + 60000;
    bool done = false;
    char stats_ingest[128], stats_alert[128], alerts_key[128];
    snprintf(stats_ingest, sizeof stats_ingest, "%sstats:ingest", pfx);
    snprintf(stats_alert, sizeof stats_alert, "%sstats:alert", pfx);
    snprintf(alerts_key, sizeof alerts_key, "%salerts", pfx);
    long long received = 0, accepted = 0, dups = 0, evaluated = 0;
    while (!ww_stop && ww_mono_ms() < deadline) {
        supervise(u);
        zmq_pollitem_t it[] = {{sub, 0, ZMQ_POLLIN, 0}};
        zmq_poll(it, 1, 100);
        while (zmq_msg_recv(&ch, sub, ZMQ_DONTWAIT) >= 0) {
            if (zmq_msg_more(&ch) && zmq_msg_recv(&body, sub, 0) >= 0)
                print_once(&seen, zmq_msg_data(&body), zmq_msg_size(&body), color);
        }
        received = hget_ll(r, stats_ingest, "received");
        accepted = hget_ll(r, stats_ingest, "accepted");
        dups = hget_ll(r, stats_ingest, "duplicate");
        evaluated = hget_ll(r, stats_alert, "events");
        if (received >= sent && accepted + dups >= received && evaluated >= accepted) {
            done = true;
            break;
        }
    }
    /* anything the live feed missed (it is best-effort) is in the stream */
    redisReply *rep = ww_redis_cmd(r, "XRANGE %s - +", alerts_key);
    if (rep && rep->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < rep->elements; i++) {
            redisReply *e = rep->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements < 2)
                continue;
            redisReply *kv = e->element[1];
            for (size_t j = 0; j + 1 < kv->elements; j += 2)
                if (strcmp(kv->element[j]->str, "alert") == 0)
                    print_once(&seen, kv->element[j + 1]->str, kv->element[j + 1]->len, color);
        }
    }
    if (rep)
        freeReplyObject(rep);
    printf("\ndemo: %lld articles received, %lld accepted, %lld duplicates dropped, %lld evaluated, %zu alerts\n",
           received, accepted, dups, evaluated, seen.n);
    zmq_msg_close(&ch);
    zmq_msg_close(&body);
    zmq_close(sub);
    zmq_close(push);
    zmq_ctx_term(zctx);
    for (size_t i = 0; i < seen.n; i++)
        ww_free(seen.ids[i]);
    ww_free(seen.ids);
    if (!done) {
        fprintf(stderr, "demo: %s before the stream was fully evaluated\n", ww_stop ? "interrupted" : "timed out");
        return 1;
    }
    return 0;
}

static void up_usage(FILE *f)
{
    fprintf(f, "Usage: wirewatch up [--demo] [--console HOST:PORT] [-c FILE] [--redis URL] [--extract N] [--alert M]\n"
               "                    [--log-level LEVEL]\n"
               "Runs ingest, N extract workers (default 1) and M alert workers (default 1), supervised.\n"
               "Without a configured Redis (and always with --demo) a private redis-server is started.\n"
               "--demo publishes the bundled sample stream with the bundled rules, prints the alerts,\n"
               "and exits 0 when the stream has been evaluated.\n"
               "--console HOST:PORT also serves the web console there (`wirewatch console`), supervised\n"
               "like the workers; with --demo it stays up after the demo until Ctrl-C.\n");
}

int cmd_up(int argc, char **argv)
{
    static const struct option opts[] = {{"demo", no_argument, NULL, 'D'},   {"config", required_argument, NULL, 'c'},
                                         {"redis", required_argument, NULL, 'r'}, {"extract", required_argument, NULL, 'x'},
                                         {"alert", required_argument, NULL, 'a'}, {"log-level", required_argument, NULL, 'l'},
                                         {"console", required_argument, NULL, 'C'},
                                         {"help", no_argument, NULL, 'h'},    {NULL, 0, NULL, 0}};
    up_t u;
    memset(&u, 0, sizeof u);
    u.n_extract = 1;
    u.n_alert = 1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'D': u.demo = true; break;
        case 'c': u.cc.config_path = optarg; break;
        case 'r': u.cc.redis_url = optarg; break;
        case 'x': u.n_extract = atoi(optarg); break;
        case 'a': u.n_alert = atoi(optarg); break;
        case 'l': u.log_level = optarg; break;
        case 'C': u.console = optarg; break;
        case 'h': up_usage(stdout); return 0;
        default: up_usage(stderr); return 2;
        }
    }
    if (optind < argc || u.n_extract < 1 || u.n_extract > 64 || u.n_alert < 1 || u.n_alert > 64) {
        up_usage(stderr);
        return 2;
    }
    if (u.log_level && ww_log_parse_level(u.log_level, &ww_log_level) < 0) {
        fprintf(stderr, "wirewatch up: bad --log-level '%s'\n", u.log_level);
        return 2;
    }
    if (u.console && console_parse_listen(u.console, &u.console_addr) < 0) {
        fprintf(stderr, "wirewatch up: --console wants HOST:PORT (an IP address or localhost), not '%s'\n", u.console);
        return 2;
    }
    if (!u.log_level && u.demo)
        u.log_level = "warn";
    if (cli_load_config(&u.cc) != 0)
        return 2;
    ww_signals_install();
    int rc = 1;
    ww_redis_t *r = NULL;
    snprintf(u.tmpdir, sizeof u.tmpdir, "%s/wirewatch-up-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(u.tmpdir)) {
        fprintf(stderr, "wirewatch up: cannot create a temp dir: %s\n", strerror(errno));
        u.tmpdir[0] = '\0';
        goto out;
    }
    if (!u.cc.cfg.redis || (u.demo && !u.cc.redis_url)) {
        char url[400];
        if (start_redis(&u, url, sizeof url) < 0) {
            fprintf(stderr, "wirewatch up: could not start a private redis-server\n");
            goto out;
        }
        ww_free(u.cc.cfg.redis);
        u.cc.cfg.redis = ww_strdup(url);
        fprintf(stderr, "wirewatch up: private Redis at %s\n", url);
    }
    /* children read Redis from the environment: never a password on a command line */
    setenv("WIREWATCH_REDIS_URL", u.cc.cfg.redis, 1);
    if (u.cc.config_path)
        setenv("WIREWATCH_CONFIG", u.cc.config_path, 1);
    r = cli_redis(&u.cc, 5000);
    if (!r)
        goto out;
    if (u.demo) {
        char *rules = ww_data_path("demo/rules.yaml");
        char version[17];
        size_t count = 0;
        if (!rules || cli_rules_store(r, u.cc.cfg.prefix, rules, version, &count) < 0) {
            fprintf(stderr, "wirewatch up --demo: cannot load the bundled demo/rules.yaml\n");
            ww_free(rules);
            goto out;
        }
        printf("demo: %zu rules loaded (version %s) from %s\n", count, version, rules);
        ww_free(rules);
    }
    u.kids[u.n_kids++] = (child_t){.role = "ingest"};
    for (int i = 0; i < u.n_extract; i++)
        u.kids[u.n_kids++] = (child_t){.role = "extract", .index = i + 1};
    for (int i = 0; i < u.n_alert; i++)
        u.kids[u.n_kids++] = (child_t){.role = "alert", .index = i + 1};
    if (u.console)
        u.kids[u.n_kids++] = (child_t){.role = "console", .index = 1};
    for (size_t i = 0; i < u.n_kids; i++)
        spawn(&u, &u.kids[i]);
    /* ready when every worker has reported in (and the console listens) */
    int64_t until = ww_mono_ms() + 20000;
    while (!ww_stop) {
        supervise(&u);
        bool workers = count_workers(r, u.cc.cfg.prefix, "extract") >= u.n_extract &&
                       count_workers(r, u.cc.cfg.prefix, "alert") >= u.n_alert;
        bool console = !u.console || console_up(&u);
        if (workers && console)
            break;
        if (ww_mono_ms() > until) {
            fprintf(stderr, "wirewatch up: %s within 20 s\n",
                    workers ? "the console did not listen" : "workers did not report in");
            goto out;
        }
        sleep_ms(50);
    }
    if (!ww_stop)
        fprintf(stderr, "wirewatch up: pipeline running: intake %s, alerts on %s (%d extract, %d alert)\n",
                u.cc.cfg.ingest.intake, u.cc.cfg.alert.publish, u.n_extract, u.n_alert);
    if (!ww_stop && u.console) {
        if (u.demo)
            printf("demo: the web console is at http://%s/\n", u.console);
        else
            fprintf(stderr, "wirewatch up: web console at http://%s/\n", u.console);
        fflush(stdout);
    }
    if (u.demo) {
        rc = run_demo(&u, r);
        if (rc == 0 && u.console && !ww_stop) {
            printf("demo: done; the web console stays up at http://%s/ until Ctrl-C\n", u.console);
            fflush(stdout);
            while (!ww_stop) {
                supervise(&u);
                sleep_ms(100);
            }
        }
    } else {
        while (!ww_stop) {
            supervise(&u);
            sleep_ms(100);
        }
        rc = 0;
    }
out:
    ww_redis_destroy(&r);
    stop_all(&u);
    ww_config_free(&u.cc.cfg);
    return rc;
}
