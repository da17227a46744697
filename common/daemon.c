/* daemon.c - common flags, signals, daemonizing, pid files, systemd notify. */
#include "ww/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "ww/alloc.h"
#include "ww/log.h"
#include "ww/metrics.h"
#include "ww/zmqutil.h"

#include <xxhash.h>

/* The configuration's version: 16 hex digits of XXH64 over the file's bytes,
 * plus the overrides from the environment and flags (so a changed
 * WIREWATCH_REDIS_URL is a new version too); "defaults" without a file. */
static void config_version(const ww_daemon_t *d, char out[17])
{
    XXH64_state_t *st = XXH64_createState();
    XXH64_reset(st, 0);
    bool any = false;
    if (d->cfg.path) {
        FILE *f = fopen(d->cfg.path, "rb");
        if (f) {
            char buf[8192];
            size_t n;
            while ((n = fread(buf, 1, sizeof buf, f)) > 0)
                XXH64_update(st, buf, n);
            fclose(f);
            any = true;
        }
    }
    if (d->cfg.redis) {
        XXH64_update(st, d->cfg.redis, strlen(d->cfg.redis));
        any = true;
    }
    if (any)
        snprintf(out, 17, "%016llx", (unsigned long long)XXH64_digest(st));
    else
        snprintf(out, 17, "defaults");
    XXH64_freeState(st);
}

/* Loads the CURVE keys of the configuration and exports the config version.
 * Returns 0, or -1 with err. */
static int apply_config(ww_daemon_t *d, char version[17], char *err, size_t errlen)
{
    if (ww_zmq_security_init(&d->cfg, err, errlen) < 0)
        return -1;
    config_version(d, version);
    ww_metric_info("wirewatch_config_info", "version of the loaded configuration (hash of the file)", "version",
                   version);
    return 0;
}

volatile sig_atomic_t ww_stop;
volatile sig_atomic_t ww_reload;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        ww_reload = 1;
    else
        ww_stop = 1;
}

void ww_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: blocking calls wake up */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int64_t ww_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ww_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ww_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void ww_stage_observe(const char *stage, int64_t start_us)
{
    char name[128];
    snprintf(name, sizeof name, "wirewatch_stage_seconds{stage=\"%s\"}", stage);
    ww_histogram_t *h = ww_metric_histogram(name, "time one batch spends in a stage", NULL, 0);
    ww_histogram_observe(h, (double)(ww_mono_us() - start_us) / 1e6);
}

void ww_latency_since_ingest(int64_t ingested_at_ms)
{
    static _Atomic(ww_histogram_t *) h;
    if (!atomic_load(&h))
        atomic_store(&h, ww_metric_histogram("wirewatch_ingest_to_publish_seconds",
                                             "time from acceptance at ingest to the end of the alert stage "
                                             "(rules evaluated, alerts published)",
                                             NULL, 0));
    int64_t d = ww_now_ms() - ingested_at_ms;
    if (ingested_at_ms > 0 && d >= 0)
        ww_histogram_observe_ms(atomic_load(&h), (double)d);
}

static void usage(const ww_daemon_t *d, FILE *f)
{
    fprintf(f,
            "Usage: wirewatch-%s [OPTIONS]\n"
            "%s\n\n"
            "Options:\n"
            "  -c, --config FILE        configuration file (default: $WIREWATCH_CONFIG)\n"
            "      --redis URL          redis://[user:password@]host:port[/db] or unix:///path\n"
            "                           (default: $WIREWATCH_REDIS_URL, then the config file)\n"
            "      --log-level LEVEL    error|warn|info|debug (default: info)\n"
            "      --daemon             detach and log to syslog (with --pidfile)\n"
            "      --pidfile FILE       write the process id to FILE\n"
            "      --metrics HOST:PORT  serve Prometheus metrics on GET /metrics\n"
            "      --version            print the version and exit\n"
            "  -h, --help               print this help and exit\n\n"
            "Signals: SIGTERM/SIGINT drain and exit 0; SIGHUP reloads config and rules.\n"
            "Exit codes: 0 clean stop, 1 runtime failure, 2 bad usage or configuration.\n",
            d->name, d->summary);
}

/* Returns the pid recorded in path when that process is alive (and is not
 * us), else 0 (no file, unreadable, or stale: its process is gone). */
static long pidfile_live(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    long pid = 0;
    if (fscanf(f, "%ld", &pid) != 1 || pid <= 0 || pid == (long)getpid() ||
        (kill((pid_t)pid, 0) < 0 && errno == ESRCH))
        pid = 0;
    fclose(f);
    return pid;
}

/* Writes the pid file; a stale one (its process gone) is replaced, a live one
 * refused. */
static int write_pidfile(const char *path)
{
    long live = pidfile_live(path);
    if (live) {
        fprintf(stderr, "%s: already running as pid %ld\n", path, live);
        ww_error("daemon", "msg=\"already running\" pidfile=%s pid=%ld", path, live);
        return -1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (write(fd, buf, (size_t)n) != n || close(fd) < 0 || rename(tmp, path) < 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int daemonize(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    setsid();
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (chdir("/") < 0)
        return -1;
    umask(027);
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > 2)
            close(fd);
    }
    ww_log_use_syslog(true);
    return 0;
}

int ww_daemon_start(ww_daemon_t *d, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},  {"redis", required_argument, NULL, 'r'},
        {"log-level", required_argument, NULL, 'l'}, {"daemon", no_argument, NULL, 'd'},
        {"pidfile", required_argument, NULL, 'p'}, {"metrics", required_argument, NULL, 'm'},
        {"version", no_argument, NULL, 'V'},       {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    static char prog[64];
    snprintf(prog, sizeof prog, "wirewatch-%s", d->name);
    ww_log_set_program(prog);
    /* a daemon frees and reallocates about the same memory for every batch:
     * keep freed memory (up to 64 MiB) instead of returning it to the kernel
     * and faulting it in again (measured: ~130k page faults/s at 64-event
     * batches in the alert worker's decode) */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_TOP_PAD, 16 << 20);
    mallopt(M_MMAP_THRESHOLD, 16 << 20);
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': d->config_path = optarg; break;
        case 'r': d->redis_flag = optarg; break;
        case 'l': d->log_level = optarg; break;
        case 'd': d->daemonize = true; break;
        case 'p': d->pidfile = optarg; break;
        case 'm': d->metrics = optarg; break;
        case 'V': printf("wirewatch-%s %s\n", d->name, WW_VERSION); return 0;
        case 'h': usage(d, stdout); return 0;
        default: usage(d, stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "wirewatch-%s: unexpected argument '%s' (see --help)\n", d->name,
                argv[optind]);
        return 2;
    }
    char err[512];
    if (ww_config_resolve(&d->cfg, d->config_path, d->redis_flag, err, sizeof err) < 0) {
        fprintf(stderr, "wirewatch-%s: %s\n", d->name, err);
        return 2;
    }
    const char *lvl = d->log_level ? d->log_level : d->cfg.log_level;
    if (lvl && ww_log_parse_level(lvl, &ww_log_level) < 0) {
        fprintf(stderr, "wirewatch-%s: bad --log-level '%s' (error|warn|info|debug)\n", d->name, lvl);
        ww_config_free(&d->cfg);
        return 2;
    }
    char version[17];
    if (apply_config(d, version, err, sizeof err) < 0) {
        fprintf(stderr, "wirewatch-%s: %s%s%s\n", d->name, d->cfg.path ? d->cfg.path : "",
                d->cfg.path ? ": " : "", err);
        ww_config_free(&d->cfg);
        return 2;
    }
    long live = d->pidfile ? pidfile_live(d->pidfile) : 0;
    if (live) { /* checked before detaching too, so that the refusal reaches the terminal */
        fprintf(stderr, "wirewatch-%s: %s: already running as pid %ld\n", d->name, d->pidfile, live);
        ww_config_free(&d->cfg);
        d->pidfile = NULL;
        return 1;
    }
    if (d->daemonize && daemonize() < 0) {
        fprintf(stderr, "wirewatch-%s: cannot daemonize: %s\n", d->name, strerror(errno));
        ww_config_free(&d->cfg);
        return 1;
    }
    if (d->pidfile && write_pidfile(d->pidfile) < 0) {
        ww_config_free(&d->cfg);
        d->pidfile = NULL;
        return 1;
    }
    ww_signals_install();
    if (d->metrics && ww_metrics_serve(d->metrics) < 0) {
        ww_daemon_finish(d);
        return 2;
    }
    ww_info("config", "msg=\"configuration loaded\" file=%s version=%s curve=%s", d->cfg.path ? d->cfg.path : "(none)",
            version, ww_zmq_curve_enabled() ? "on" : "off");
    return -1;
}

int ww_daemon_reload_config(ww_daemon_t *d)
{
    ww_config_t fresh;
    char err[512];
    if (ww_config_resolve(&fresh, d->config_path, d->redis_flag, err, sizeof err) < 0) {
        ww_error("config", "msg=\"reload failed, keeping the running configuration\" error=\"%s\"", err);
        return -1;
    }
    ww_config_t old = d->cfg;
    d->cfg = fresh;
    char version[17];
    if (apply_config(d, version, err, sizeof err) < 0) {
        ww_error("config", "msg=\"reload failed, keeping the running configuration\" error=\"%s\"", err);
        d->cfg = old;
        ww_config_free(&fresh);
        char e2[512];
        ww_zmq_security_init(&d->cfg, e2, sizeof e2);
        return -1;
    }
    ww_config_free(&old);
    if (!d->log_level && d->cfg.log_level)
        ww_log_parse_level(d->cfg.log_level, &ww_log_level);
    ww_info("config", "msg=\"configuration reloaded\" file=%s version=%s", d->cfg.path ? d->cfg.path : "(none)",
            version);
    return 0;
}

void ww_daemon_finish(ww_daemon_t *d)
{
    ww_metrics_stop();
    if (d->pidfile) {
        unlink(d->pidfile);
        d->pidfile = NULL;
    }
    ww_config_free(&d->cfg);
}

void ww_daemon_ready(const char *status)
{
    sd_notifyf(0, "READY=1\nSTATUS=%s\nMAINPID=%lu", status ? status : "running",
               (unsigned long)getpid());
}

void ww_daemon_watchdog(void)
{
    static int64_t last;
    int64_t now = ww_mono_ms();
    if (now - last >= 1000) {
        last = now;
        sd_notify(0, "WATCHDOG=1");
        ww_metrics_heartbeat();
    }
}
