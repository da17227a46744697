/* wwtest.c - test harness helpers. */
#include "wwtest.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ww/alloc.h"

long wwt_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void wwt_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

char *wwt_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *p = ww_asprintf("%s/wwt-%s-XXXXXX", base, tag);
    if (!mkdtemp(p)) {
        ww_free(p);
        return NULL;
    }
    return p;
}

void wwt_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char *p = ww_asprintf("%s/%s", dir, e->d_name);
            if (e->d_type == DT_DIR)
                wwt_rmdir(p);
            else
                unlink(p);
            ww_free(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

char *wwt_write_file(const char *dir, const char *name, const char *content)
{
    char *p = ww_asprintf("%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f) {
        ww_free(p);
        return NULL;
    }
    fputs(content, f);
    fclose(f);
    return p;
}

static pid_t start_redis_proc(wwt_redis_t *r)
{
    char sock[300], log[300];
    snprintf(sock, sizeof sock, "%s/redis.sock", r->dir);
    snprintf(log, sizeof log, "%s/redis.log", r->dir);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, STDOUT_FILENO);
        execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock, "--save", "",
               "--appendonly", r->persistent ? "yes" : "no", "--appendfsync", "always", "--dir", r->dir,
               "--logfile", log, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int wait_redis(wwt_redis_t *r)
{
    char sock[300];
    snprintf(sock, sizeof sock, "%s/redis.sock", r->dir);
    long until = wwt_ms() + 10000;
    while (wwt_ms() < until) {
        if (waitpid(r->pid, NULL, WNOHANG) == r->pid)
            return -1;
        redisContext *c = redisConnectUnix(sock);
        if (c && !c->err) {
            redisReply *rep = redisCommand(c, "PING");
            bool ok = rep && rep->type == REDIS_REPLY_STATUS;
            if (rep)
                freeReplyObject(rep);
            redisFree(c);
            if (ok)
                return 0;
        } else if (c) {
            redisFree(c);
        }
        wwt_sleep_ms(10);
    }
    return -1;
}

static int redis_start(wwt_redis_t *r, bool persistent)
{
    memset(r, 0, sizeof *r);
    r->persistent = persistent;
    char *d = wwt_tmpdir("redis");
    if (!d)
        return -1;
    snprintf(r->dir, sizeof r->dir, "%s", d);
    ww_free(d);
    snprintf(r->url, sizeof r->url, "unix://%s/redis.sock", r->dir);
    r->pid = start_redis_proc(r);
    return r->pid > 0 ? wait_redis(r) : -1;
}

int wwt_redis_start(wwt_redis_t *r)
{
    return redis_start(r, false);
}

int wwt_redis_start_persistent(wwt_redis_t *r)
{
    return redis_start(r, true);
}

int wwt_redis_restart(wwt_redis_t *r)
{
    r->pid = start_redis_proc(r);
    return r->pid > 0 ? wait_redis(r) : -1;
}

void wwt_redis_stop(wwt_redis_t *r)
{
    if (r->pid > 0) {
        wwt_stop(r->pid, SIGTERM, 5000);
        r->pid = 0;
    }
    if (r->dir[0]) {
        wwt_rmdir(r->dir);
        r->dir[0] = '\0';
    }
}

/* True when nothing listens on (or holds) TCP port `port` of 127.0.0.1. */
static bool port_bindable(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    bool ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

/* Ports are handed out below the kernel's ephemeral range: a port taken
 * from that range (bind to 0) could be given by the kernel to some other
 * process's outgoing connection between our check and the daemon's bind -
 * with many tests connecting in parallel that happened, and a daemon failed
 * to start. Each process walks its own stretch (chosen from its pid), so
 * parallel tests rarely probe the same ports. */
int wwt_free_port(void)
{
    static int next = 0;
    static int lo = 10000, hi = 32768;
    if (next == 0) {
        FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
        int a = 0, b = 0;
        if (f && fscanf(f, "%d %d", &a, &b) == 2 && a > lo + 2000)
            hi = a;
        if (f)
            fclose(f);
        next = lo + (int)(((unsigned)getpid() * 2654435761u) % (unsigned)(hi - lo));
    }
    for (int tries = 0; tries < hi - lo; tries++) {
        int port = next++;
        if (next >= hi)
            next = lo;
        if (port_bindable(port))
            return port;
    }
    return -1;
}

char *wwt_bin(const char *name)
{
    const char *dir = getenv("WW_BIN_DIR") ? getenv("WW_BIN_DIR") : WW_BIN_DIR;
    return ww_asprintf("%s/%s", dir, name);
}

pid_t wwt_spawn(const char *name, const char *const *args, const char *logfile)
{
    return wwt_spawn_io(name, args, NULL, logfile);
}

static void redirect(const char *file, int fdno)
{
    if (!file)
        return;
    int fd = open(file, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        dup2(fd, fdno);
        close(fd);
    }
}

pid_t wwt_spawn_io(const char *name, const char *const *args, const char *stdout_file,
                   const char *logfile)
{
    char *path = wwt_bin(name);
    const char *argv[18];
    int n = 0;
    argv[n++] = path;
    for (int i = 0; args && args[i] && n < 17; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        /* die with the test: a failed assertion must not leave daemons
         * holding ctest's output pipe open */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        redirect(stdout_file ? stdout_file : "/dev/null", STDOUT_FILENO);
        redirect(logfile, STDERR_FILENO);
        execv(path, (char *const *)argv);
        fprintf(stderr, "cannot exec %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    ww_free(path);
    return pid;
}

int wwt_stop(pid_t pid, int sig, int timeout_ms)
{
    if (pid <= 0)
        return -1;
    kill(pid, sig);
    long until = wwt_ms() + timeout_ms;
    int status;
    while (wwt_ms() < until) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0)
            return -1;
        wwt_sleep_ms(5);
    }
    kill(pid, SIGKILL);
    if (waitpid(pid, &status, 0) == pid)
        return status;
    return -1;
}

int wwt_run(const char *name, const char *const *args, const char *stdin_file, char **out,
            bool merge_stderr)
{
    int pfd[2];
    if (pipe(pfd) < 0)
        return -1;
    char *path = wwt_bin(name);
    const char *argv[18];
    int n = 0;
    argv[n++] = path;
    for (int i = 0; args && args[i] && n < 17; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pfd[1], STDOUT_FILENO);
        if (merge_stderr)
            dup2(pfd[1], STDERR_FILENO);
        close(pfd[0]);
        close(pfd[1]);
        if (stdin_file) {
            int fd = open(stdin_file, O_RDONLY);
            if (fd >= 0) {
                dup2(fd, STDIN_FILENO);
                close(fd);
            }
        }
        execv(path, (char *const *)argv);
        _exit(127);
    }
    ww_free(path);
    close(pfd[1]);
    size_t cap = 4096, len = 0;
    char *buf = ww_malloc(cap);
    ssize_t r;
    while ((r = read(pfd[0], buf + len, cap - len - 1)) > 0) {
        len += (size_t)r;
        if (cap - len < 2)
            buf = ww_realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    close(pfd[0]);
    int status;
    waitpid(pid, &status, 0);
    if (out)
        *out = buf;
    else
        ww_free(buf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const char *wwt_shared_data(void)
{
    static char path[1024];
    const char *env = getenv("WW_SHARED_DATA");
    snprintf(path, sizeof path, "%s", env ? env : WW_SHARED_DATA);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return path;
    return NULL;
}

char *wwt_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0, r;
    char *buf = ww_malloc(cap);
    while ((r = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += r;
        if (cap - len < 2)
            buf = ww_realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    fclose(f);
    return buf;
}

redisReply *wwt_redis_cmd(const wwt_redis_t *r, const char *fmt, ...)
{
    char sock[300];
    snprintf(sock, sizeof sock, "%s/redis.sock", r->dir);
    redisContext *c = redisConnectUnix(sock);
    if (!c || c->err) {
        if (c)
            redisFree(c);
        return NULL;
    }
    va_list ap;
    va_start(ap, fmt);
    redisReply *rep = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    return rep;
}

long long wwt_redis_hget(const wwt_redis_t *r, const char *key, const char *field)
{
    redisReply *rep = wwt_redis_cmd(r, "HGET %s %s", key, field);
    long long v = rep && rep->type == REDIS_REPLY_STRING ? atoll(rep->str) : 0;
    if (rep)
        freeReplyObject(rep);
    return v;
}

long long wwt_redis_xlen(const wwt_redis_t *r, const char *key)
{
    redisReply *rep = wwt_redis_cmd(r, "XLEN %s", key);
    long long v = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1;
    if (rep)
        freeReplyObject(rep);
    return v;
}

bool wwt_wait_stream_quiet(const wwt_redis_t *r, const char *key, long quiet_ms, long until)
{
    long long last = -1;
    long since = wwt_ms();
    while (wwt_ms() < until) {
        long long n = wwt_redis_xlen(r, key);
        if (n != last) {
            last = n;
            since = wwt_ms();
        } else if (wwt_ms() - since > quiet_ms) {
            return true;
        }
        wwt_sleep_ms(50);
    }
    return false;
}

long wwt_redis_count_keys(const wwt_redis_t *r, const char *pattern)
{
    redisReply *rep = wwt_redis_cmd(r, "KEYS %s", pattern);
    long n = rep && rep->type == REDIS_REPLY_ARRAY ? (long)rep->elements : -1;
    if (rep)
        freeReplyObject(rep);
    return n;
}

int wwt_pipeline_start(wwt_pipeline_t *p, const char *rules_yaml, int n_extract, int n_alert)
{
    return wwt_pipeline_start_ex(p, rules_yaml, n_extract, n_alert, NULL, false);
}

pid_t wwt_pipeline_spawn(wwt_pipeline_t *p, const char *role)
{
    char name[64];
    snprintf(name, sizeof name, "wirewatch-%s", role);
    const char *args[] = {"-c", p->config, "--log-level", "info", NULL};
    return wwt_spawn(name, args, p->log);
}

char *wwt_endpoints_config(const char *dir, const char *name)
{
    int p[6];
    for (int i = 0; i < 6; i++)
        p[i] = wwt_free_port();
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "ingest:\n  intake: tcp://127.0.0.1:%d\n  dispatch: tcp://127.0.0.1:%d\n"
             "extract:\n  results: tcp://127.0.0.1:%d\n"
             "alert:\n  work: tcp://127.0.0.1:%d\n  publish_in: tcp://127.0.0.1:%d\n  publish: tcp://127.0.0.1:%d\n",
             p[0], p[1], p[2], p[3], p[4], p[5]);
    return wwt_write_file(dir, name, cfg);
}

int wwt_pipeline_start_ex(wwt_pipeline_t *p, const char *rules_yaml, int n_extract, int n_alert,
                          const char *ingest_extra, bool persistent)
{
    memset(p, 0, sizeof *p);
    if ((persistent ? wwt_redis_start_persistent(&p->redis) : wwt_redis_start(&p->redis)) < 0)
        return -1;
    p->dir = wwt_tmpdir("pipe");
    int port[6];
    for (int i = 0; i < 6; i++)
        port[i] = wwt_free_port();
    snprintf(p->intake, sizeof p->intake, "tcp://127.0.0.1:%d", port[0]);
    snprintf(p->publish, sizeof p->publish, "tcp://127.0.0.1:%d", port[5]);
    p->rules = wwt_write_file(p->dir, "rules.yaml", rules_yaml);
    char cfg[2048];
    snprintf(cfg, sizeof cfg,
             "redis: %s\n"
             "prefix: \"t:\"\n"
             "ingest:\n  intake: tcp://127.0.0.1:%d\n  dispatch: tcp://127.0.0.1:%d\n  dedup_window: 1h\n%s"
             "extract:\n  results: tcp://127.0.0.1:%d\n"
             "alert:\n  work: tcp://127.0.0.1:%d\n  publish_in: tcp://127.0.0.1:%d\n"
             "  publish: tcp://127.0.0.1:%d\n  rules: %s\n",
             p->redis.url, port[0], port[1], ingest_extra ? ingest_extra : "", port[2], port[3], port[4],
             port[5], p->rules);
    p->config = wwt_write_file(p->dir, "wirewatch.yaml", cfg);
    p->log = ww_asprintf("%s/daemons.log", p->dir);
    const char *args[] = {"-c", p->config, "--log-level", "info", NULL};
    p->n_extract = n_extract;
    p->n_alert = n_alert;
    p->ingest = wwt_spawn("wirewatch-ingest", args, p->log);
    for (int i = 0; i < n_extract; i++)
        p->extract[i] = wwt_spawn("wirewatch-extract", args, p->log);
    for (int i = 0; i < n_alert; i++)
        p->alert[i] = wwt_spawn("wirewatch-alert", args, p->log);
    long until = wwt_ms() + 20000;
    while (wwt_ms() < until) {
        int st;
        if (waitpid(p->ingest, &st, WNOHANG) == p->ingest) { /* e.g. an endpoint it could not bind */
            p->ingest = -1;
            break;
        }
        if (wwt_redis_count_keys(&p->redis, "t:workers:extract:*") >= n_extract &&
            wwt_redis_count_keys(&p->redis, "t:workers:alert:*") >= n_alert)
            return 0;
        wwt_sleep_ms(50);
    }
    char *log = wwt_read_file(p->log); /* say why */
    fprintf(stderr, "wwt_pipeline_start: the pipeline did not come up%s; its log:\n%s\n",
            p->ingest < 0 ? " (ingest exited)" : "", log ? log : "");
    ww_free(log);
    return -1;
}

static int stop_ok(pid_t pid)
{
    int st = wwt_stop(pid, SIGTERM, 10000);
    return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

int wwt_pipeline_stop(wwt_pipeline_t *p)
{
    int bad = 0;
    for (int i = 0; i < p->n_alert; i++)
        bad += stop_ok(p->alert[i]);
    for (int i = 0; i < p->n_extract; i++)
        bad += stop_ok(p->extract[i]);
    bad += stop_ok(p->ingest);
    wwt_redis_stop(&p->redis);
    if (getenv("WW_KEEP_LOGS"))
        fprintf(stderr, "logs kept in %s\n", p->dir);
    else
        wwt_rmdir(p->dir);
    ww_free(p->dir);
    ww_free(p->config);
    ww_free(p->rules);
    ww_free(p->log);
    return bad;
}
