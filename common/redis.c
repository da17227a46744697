/* redis.c - hiredis wrapper: URL parsing, reconnect with backoff, pipelining. */
#include "ww/redis.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ww/alloc.h"
#include "ww/log.h"
#include "ww/metrics.h"

struct ww_redis {
    ww_redis_url_t url;  /* where to connect */
    char *redacted;      /* the URL without the password, for logs */
    redisContext *ctx;   /* NULL while disconnected */
    size_t pending;      /* appended commands whose replies are unread */
    bool was_down;       /* logged the outage already */
};

void ww_redis_url_free(ww_redis_url_t *u)
{
    ww_free(u->host);
    ww_free(u->path);
    ww_free(u->user);
    ww_free(u->password);
    memset(u, 0, sizeof *u);
}

static int set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return -1;
}

/* Decodes %XX escapes in place (credentials may contain ':' or '@'). */
static void url_unescape(char *s)
{
    char *d = s;
    for (; *s; s++) {
        if (s[0] == '%' && s[1] && s[2]) {
            char hex[3] = {s[1], s[2], 0};
            char *end;
            long v = strtol(hex, &end, 16);
            if (*end == '\0') {
                *d++ = (char)v;
                s += 2;
                continue;
            }
        }
        *d++ = *s;
    }
    *d = '\0';
}

int ww_redis_url_parse(const char *url, ww_redis_url_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!url)
        return set_err(err, errlen, "no redis URL");
    if (strncmp(url, "unix://", 7) == 0) {
        const char *p = url + 7;
        if (*p != '/')
            return set_err(err, errlen, "unix:// URL needs an absolute path");
        const char *q = strchr(p, '?');
        out->path = q ? ww_strndup(p, (size_t)(q - p)) : ww_strdup(p);
        if (q && strncmp(q, "?db=", 4) == 0)
            out->db = atoi(q + 4);
        return 0;
    }
    if (strncmp(url, "redis://", 8) != 0)
        return set_err(err, errlen, "redis URL must start with redis:// or unix://");
    const char *p = url + 8;
    const char *at = strrchr(p, '@');
    const char *slash = strchr(at ? at : p, '/');
    if (at && (!slash || at < slash)) {
        char *cred = ww_strndup(p, (size_t)(at - p));
        char *colon = strchr(cred, ':');
        if (colon) {
            *colon = '\0';
            if (*cred)
                out->user = ww_strdup(cred);
            out->password = ww_strdup(colon + 1);
        } else {
            out->password = ww_strdup(cred);
        }
        ww_free(cred);
        if (out->user)
            url_unescape(out->user);
        if (out->password)
            url_unescape(out->password);
        p = at + 1;
    }
    const char *hostend = slash ? slash : p + strlen(p);
    char *hostport = ww_strndup(p, (size_t)(hostend - p));
    char *colon = strrchr(hostport, ':');
    out->port = 6379;
    if (colon && !strchr(colon, ']')) {
        *colon = '\0';
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (*end || port <= 0 || port > 65535) {
            ww_free(hostport);
            ww_redis_url_free(out);
            return set_err(err, errlen, "bad port in redis URL");
        }
        out->port = (int)port;
    }
    char *h = hostport;
    if (*h == '[') { /* [::1] */
        h++;
        char *rb = strchr(h, ']');
        if (rb)
            *rb = '\0';
    }
    out->host = ww_strdup(*h ? h : "127.0.0.1");
    ww_free(hostport);
    if (slash && slash[1]) {
        char *end;
        long db = strtol(slash + 1, &end, 10);
        if ((*end && *end != '?') || db < 0) {
            ww_redis_url_free(out);
            return set_err(err, errlen, "bad database number in redis URL");
        }
        out->db = (int)db;
    }
    return 0;
}

char *ww_redis_url_redacted(const char *url)
{
    if (!url)
        return ww_strdup("(none)");
    const char *p = strstr(url, "://");
    const char *at = p ? strrchr(p, '@') : NULL;
    if (!p || !at)
        return ww_strdup(url);
    return ww_asprintf("%.*s://***@%s", (int)(p - url), url, at + 1);
}

static void register_metrics(void);

ww_redis_t *ww_redis_new(const char *url, char *err, size_t errlen)
{
    ww_redis_t *r = ww_calloc(1, sizeof *r);
    if (ww_redis_url_parse(url, &r->url, err, errlen) < 0) {
        ww_free(r);
        return NULL;
    }
    r->redacted = ww_redis_url_redacted(url);
    register_metrics();
    return r;
}

void ww_redis_destroy(ww_redis_t **rp)
{
    if (!rp || !*rp)
        return;
    ww_redis_t *r = *rp;
    ww_redis_close(r);
    ww_redis_url_free(&r->url);
    ww_free(r->redacted);
    ww_free(r);
    *rp = NULL;
}

void ww_redis_close(ww_redis_t *r)
{
    if (r->ctx) {
        redisFree(r->ctx);
        r->ctx = NULL;
    }
    r->pending = 0;
}

bool ww_redis_connected(const ww_redis_t *r)
{
    return r->ctx != NULL;
}

int ww_redis_connect(ww_redis_t *r)
{
    if (r->ctx)
        return 0;
    struct timeval tv = {2, 0};
    redisContext *c = r->url.path ? redisConnectUnixWithTimeout(r->url.path, tv)
                                  : redisConnectWithTimeout(r->url.host, r->url.port, tv);
    if (!c || c->err) {
        if (!r->was_down)
            ww_warn("redis", "msg=\"cannot connect\" url=%s error=\"%s\"", r->redacted,
                    c ? c->errstr : "out of memory");
        r->was_down = true;
        if (c)
            redisFree(c);
        return -1;
    }
    redisSetTimeout(c, (struct timeval){10, 0});
    if (!r->url.path)
        redisEnableKeepAlive(c);
    redisReply *rep = NULL;
    if (r->url.password) {
        rep = r->url.user ? redisCommand(c, "AUTH %s %s", r->url.user, r->url.password)
                          : redisCommand(c, "AUTH %s", r->url.password);
        if (!rep || rep->type == REDIS_REPLY_ERROR) {
            ww_error("redis", "msg=\"authentication failed\" url=%s", r->redacted);
            goto fail;
        }
        freeReplyObject(rep);
    }
    if (r->url.db) {
        rep = redisCommand(c, "SELECT %d", r->url.db);
        if (!rep || rep->type == REDIS_REPLY_ERROR) {
            ww_error("redis", "msg=\"SELECT failed\" db=%d", r->url.db);
            goto fail;
        }
        freeReplyObject(rep);
    }
    if (r->was_down)
        ww_info("redis", "msg=\"connected\" url=%s", r->redacted);
    r->was_down = false;
    r->ctx = c;
    r->pending = 0;
    return 0;
fail:
    if (rep)
        freeReplyObject(rep);
    redisFree(c);
    r->was_down = true;
    return -1;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int ww_redis_wait(ww_redis_t *r, volatile sig_atomic_t *stop, long timeout_ms)
{
    long start = now_ms();
    long backoff = 50;
    for (;;) {
        if (ww_redis_connect(r) == 0)
            return 0;
        if (stop && *stop)
            return -1;
        if (timeout_ms >= 0 && now_ms() - start >= timeout_ms)
            return -1;
        long jitter = backoff / 4 ? rand() % (backoff / 4) : 0;
        struct timespec ts = {(backoff + jitter) / 1000, ((backoff + jitter) % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !(stop && *stop)) {
        }
        backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
    }
}

/* Round trips and failures, for /metrics (registered by ww_redis_new, so they
 * are exported at 0 before the first command). */
static _Atomic(ww_metric_t *) ww_redis_m_trips, ww_redis_m_errors; /* registering twice is harmless */

static void register_metrics(void)
{
    if (!atomic_load(&ww_redis_m_trips)) {
        atomic_store(&ww_redis_m_errors, ww_metric_counter("wirewatch_redis_connection_errors_total",
                                                           "Redis connections lost or refused mid-command"));
        atomic_store(&ww_redis_m_trips, ww_metric_counter("wirewatch_redis_replies_total",
                                                          "Redis replies read (commands completed)"));
    }
}

static void count_round_trip(bool ok)
{
    register_metrics();
    ww_metric_add(ok ? atomic_load(&ww_redis_m_trips) : atomic_load(&ww_redis_m_errors), 1);
}

/* After any hiredis failure the context is dead: drop it. */
static redisReply *check_reply(ww_redis_t *r, void *rep)
{
    count_round_trip(rep != NULL);
    if (!rep) {
        if (!r->was_down)
            ww_warn("redis", "msg=\"connection lost\" url=%s error=\"%s\"", r->redacted,
                    r->ctx ? r->ctx->errstr : "");
        r->was_down = true;
        ww_redis_close(r);
        return NULL;
    }
    return rep;
}

redisReply *ww_redis_cmd(ww_redis_t *r, const char *fmt, ...)
{
    if (ww_redis_connect(r) < 0)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    void *rep = redisvCommand(r->ctx, fmt, ap);
    va_end(ap);
    return check_reply(r, rep);
}

redisReply *ww_redis_cmdargv(ww_redis_t *r, int argc, const char **argv, const size_t *argvlen)
{
    if (ww_redis_connect(r) < 0)
        return NULL;
    return check_reply(r, redisCommandArgv(r->ctx, argc, argv, argvlen));
}

int ww_redis_append(ww_redis_t *r, const char *fmt, ...)
{
    if (ww_redis_connect(r) < 0)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int rc = redisvAppendCommand(r->ctx, fmt, ap);
    va_end(ap);
    if (rc != REDIS_OK) {
        /* hiredis refuses unknown conversions (e.g. %zu): a programming error */
        ww_error("redis", "msg=\"cannot format command\" format=\"%s\"", fmt);
        ww_redis_close(r);
        return -1;
    }
    r->pending++;
    return 0;
}

int ww_redis_appendargv(ww_redis_t *r, int argc, const char **argv, const size_t *argvlen)
{
    if (ww_redis_connect(r) < 0)
        return -1;
    if (redisAppendCommandArgv(r->ctx, argc, argv, argvlen) != REDIS_OK) {
        ww_redis_close(r);
        return -1;
    }
    r->pending++;
    return 0;
}

int ww_redis_get_reply(ww_redis_t *r, redisReply **reply)
{
    *reply = NULL;
    if (!r->ctx)
        return -1;
    void *rep = NULL;
    if (redisGetReply(r->ctx, &rep) != REDIS_OK || !rep) {
        check_reply(r, NULL);
        return -1;
    }
    count_round_trip(true);
    if (r->pending)
        r->pending--;
    *reply = rep;
    return 0;
}

size_t ww_redis_pending(const ww_redis_t *r)
{
    return r->pending;
}

int ww_redis_script_load(ww_redis_t *r, const char *lua, char sha[41])
{
    redisReply *rep = ww_redis_cmd(r, "SCRIPT LOAD %s", lua);
    if (!rep)
        return -1;
    int rc = -1;
    if (rep->type == REDIS_REPLY_STRING && rep->len == 40) {
        memcpy(sha, rep->str, 40);
        sha[40] = '\0';
        rc = 0;
    } else {
        ww_error("redis", "msg=\"SCRIPT LOAD failed\" error=\"%s\"",
                 rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
    }
    freeReplyObject(rep);
    return rc;
}
