/* redis.h - a hiredis connection that knows its URL, reconnects with
 * backoff, and pipelines. Not thread-safe: one per thread (STYLE 15).
 *
 * Once hiredis sets ctx->err the context is dead (hiredis README); every call
 * here notices that, frees it, and the next call reconnects. */
#ifndef WW_REDIS_H
#define WW_REDIS_H
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct ww_redis ww_redis_t;

/* Parsed form of redis://[user:password@]host:port[/db] or unix:///path[?db=N]. */
typedef struct {
    char *host;     /* NULL for unix sockets */
    int port;
    char *path;     /* unix socket path, NULL for tcp */
    char *user;     /* ACL user or NULL */
    char *password; /* NULL when none; never logged */
    int db;
} ww_redis_url_t;

/* Parses url into out (strings owned by out). Returns 0, or -1 with err. */
int ww_redis_url_parse(const char *url, ww_redis_url_t *out, char *err, size_t errlen);
void ww_redis_url_free(ww_redis_url_t *u);
/* The URL without credentials, for logs. Caller owns. */
char *ww_redis_url_redacted(const char *url);

/* Does not connect yet. NULL with err on a bad URL. Caller owns. */
ww_redis_t *ww_redis_new(const char *url, char *err, size_t errlen);
void ww_redis_destroy(ww_redis_t **r);

/* Connects if not connected (AUTH, SELECT applied). Returns 0 or -1. */
int ww_redis_connect(ww_redis_t *r);

/* Connects, retrying with exponential backoff (50 ms doubling to 2 s, with
 * jitter) until connected, *stop becomes non-zero, or timeout_ms passes
 * (timeout_ms < 0: forever). Returns 0 when connected, -1 otherwise. */
int ww_redis_wait(ww_redis_t *r, volatile sig_atomic_t *stop, long timeout_ms);

bool ww_redis_connected(const ww_redis_t *r);

/* One command, one reply. NULL when the connection failed (then it is closed
 * and the next call reconnects). Caller owns the reply (freeReplyObject). */
redisReply *ww_redis_cmd(ww_redis_t *r, const char *fmt, ...);
redisReply *ww_redis_cmdargv(ww_redis_t *r, int argc, const char **argv, const size_t *argvlen);

/* Pipelining: queue commands, then collect exactly that many replies.
 * append returns 0 or -1 (not connected). get_reply returns 0 with *reply
 * (caller owns) or -1 when the connection broke: the caller must then treat
 * the whole pipeline as failed and retry it after reconnecting. */
int ww_redis_append(ww_redis_t *r, const char *fmt, ...);
int ww_redis_appendargv(ww_redis_t *r, int argc, const char **argv, const size_t *argvlen);
int ww_redis_get_reply(ww_redis_t *r, redisReply **reply);
/* Number of appended commands whose replies were not yet read. */
size_t ww_redis_pending(const ww_redis_t *r);
/* Drops the connection (after a broken pipeline). */
void ww_redis_close(ww_redis_t *r);

/* Loads a Lua script (SCRIPT LOAD) and returns its sha1 (41 bytes incl. NUL)
 * in sha. Returns 0 or -1. */
int ww_redis_script_load(ww_redis_t *r, const char *lua, char sha[41]);

#endif
