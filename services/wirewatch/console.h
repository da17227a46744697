/* console.h - internals of `wirewatch console` (the web console, docs/console.md),
 * shared by cmd_console.c (server, assets, alerts, live stream, event view) and
 * console_api.c (trends, rules, backtests). */
#ifndef WW_CONSOLE_H
#define WW_CONSOLE_H
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "cli.h"

/* Most bytes of a request body (rules text, backtest form). */
#define CONSOLE_MAX_BODY (1024 * 1024)
/* Most stream entries one page request scans looking for matches. */
#define CONSOLE_SCAN_MAX 5000
/* Alerts per page by default and at most. */
#define CONSOLE_PAGE_DEFAULT 100
#define CONSOLE_PAGE_MAX 500
/* Backtests running at once (each is CPU-bound). */
#define CONSOLE_MAX_BACKTESTS 2

/* The per-rule alert tally: alerts per rule id in the <prefix>alerts history,
 * counted incrementally (each call reads only entries newer than the last). */
typedef struct {
    pthread_mutex_t lock;
    char last_sid[64];  /* newest entry counted, "0-0" at first */
    char **rule;        /* rule ids */
    uint64_t *n;        /* alerts of each */
    size_t len, cap;
    uint64_t counted;   /* entries counted in all */
} console_tally_t;

/* The server: immutable after start except the atomics, the tally and the
 * lazily loaded extractor (under their locks). */
typedef struct {
    cli_common_t cc;              /* config (console.*, prefix, redis) */
    const char *archive;          /* archive directory or NULL (borrowed from cc.cfg or argv) */
    struct MHD_Daemon *mhd;
    atomic_int sse_clients;       /* live streams open */
    atomic_int backtests;         /* backtests running */
    atomic_bool stopping;         /* set on shutdown: live streams end */
    pthread_mutex_t extract_lock; /* guards the two fields below */
    ww_extractor_t *extractor;    /* loaded on first need; immutable, shared by threads */
    bool extractor_tried;
    console_tally_t tally;
    char **hosts;                 /* Host header values served (console.allowed_hosts or the
                                     defaults for the listen address); "*" allows any */
    size_t n_hosts;
} console_t;

/* One HTTP request being served (MHD's con_cls). */
typedef struct {
    char *body;     /* uploaded bytes (NUL-terminated), NULL when none */
    size_t len;
    bool too_big;   /* more than CONSOLE_MAX_BODY was sent */
} console_req_t;

/* ---- helpers (cmd_console.c) ---------------------------------------------------- */

/* Queues a JSON response (takes j: decref'd). Adds the security headers. */
enum MHD_Result console_json(struct MHD_Connection *conn, unsigned status, json_t *j);
/* Queues {"error": msg} with status. */
enum MHD_Result console_error(struct MHD_Connection *conn, unsigned status, const char *msg);
/* The Redis connection of this HTTP connection (opened on first use, closed
 * with the connection), or NULL when Redis cannot be reached. Borrowed. */
ww_redis_t *console_redis(console_t *c, struct MHD_Connection *conn);
/* The shared extractor (loaded on first call), NULL when it cannot be. Borrowed. */
const ww_extractor_t *console_extractor(console_t *c);
/* Query argument or NULL. Borrowed for the request. */
const char *console_arg(struct MHD_Connection *conn, const char *name);
/* The running rule set's text: <prefix>rules in Redis, else the alert.rules
 * file. *source gets "redis", "file" or "none". Caller owns (NULL: none). */
char *console_rules_text(console_t *c, ww_redis_t *r, size_t *len, const char **source);

/* Parses HOST:PORT (an IPv4 address, localhost, or [v6]:PORT) into a socket
 * address. Returns 0 or -1. Used by `up --console` to check its argument. */
int console_parse_listen(const char *hostport, struct sockaddr_storage *ss);

/* ---- API (console_api.c) ---------------------------------------------------------- */

enum MHD_Result console_api_trends(console_t *c, struct MHD_Connection *conn);
enum MHD_Result console_api_rules(console_t *c, struct MHD_Connection *conn);
/* POST /api/rules: needs the bearer token. */
enum MHD_Result console_api_rules_store(console_t *c, struct MHD_Connection *conn, const console_req_t *rq);
enum MHD_Result console_api_backtest(console_t *c, struct MHD_Connection *conn, const console_req_t *rq);
void console_tally_init(console_tally_t *t);
void console_tally_free(console_tally_t *t);

#endif
