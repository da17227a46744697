/* config.h - the one YAML configuration file (SPEC §3), parsed once into a
 * const struct. The loader is table-driven (key, type, default, bounds,
 * offsetof, help); unknown keys and bad values are errors naming file:line. */
#ifndef WW_CONFIG_H
#define WW_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *url;          /* feed URL */
    int64_t interval_ms; /* poll interval, default 60s */
} ww_feed_conf_t;

typedef struct ww_config {
    char *path;          /* the file it came from, NULL for defaults only */
    char *redis;         /* redis URL; NULL: none configured (`up` starts its own) */
    char *prefix;        /* every Redis key starts with it, default "ww:" */
    char *log_level;     /* error|warn|info|debug, default info */
    int64_t max_message_bytes; /* ZMQ_MAXMSGSIZE and decode limit, default 1 MiB */

    struct {
        char *intake;          /* PULL bind, default tcp://127.0.0.1:7400 */
        char *dispatch;        /* PUSH bind to extract workers, default tcp://127.0.0.1:7401 */
        char *archive;         /* archive directory, NULL: no archive */
        char *archive_fsync;   /* "always", "never" or a duration, default "100ms" */
        int64_t archive_segment_size;    /* rotate before a segment exceeds this, default 256 MiB */
        int64_t archive_segment_time_ms; /* rotate when a segment is this old, default 1h */
        int64_t dedup_window_ms; /* default 24h */
        ww_feed_conf_t *feeds;
        size_t n_feeds;
        char **watch;          /* directories of new article files */
        size_t n_watch;
        int64_t batch;         /* max events per internal message, default 64 */
        char *opml;            /* OPML file listing more feeds (xmlUrl), NULL: none */
        int64_t feed_interval_ms; /* poll interval of the OPML feeds, default 60s */
        int64_t feed_timeout_ms;  /* whole-request time-out of one feed fetch, default 30s */
        int64_t feed_max_bytes;   /* largest feed document accepted, default 8 MiB */
        char *user_agent;      /* User-Agent of feed requests */
        int64_t feed_concurrency; /* most feed requests in flight at once, default 32 */
        int64_t redeliver_after_ms; /* an event not finished by the alert stage within this is sent again, default 30s */
        int64_t max_inflight;  /* events in flight before the intake pushes back, default 100000 */
    } ingest;

    struct {
        char *model;           /* NER model path; NULL: the bundled default */
        char *gazetteer;       /* gazetteer path; NULL: the bundled default */
        char *results;         /* extract→alert hub: extract workers PUSH here, default tcp://127.0.0.1:7402 */
    } extract;

    struct {
        char *publish;         /* alerts PUB endpoint (XPUB bind), default tcp://127.0.0.1:7405 */
        char *work;            /* hub → alert workers (PUSH bind), default tcp://127.0.0.1:7403 */
        char *publish_in;      /* alert workers' PUB connect here (XSUB bind), default tcp://127.0.0.1:7404 */
        char *rules;           /* rules file; NULL: rules come from Redis (`rules load`) */
        int64_t history_max;   /* max entries kept in <prefix>alerts, default 100000 */
        int64_t dedup_ttl_ms;  /* how long an alert id is remembered, default 7 days */
    } alert;

    /* CurveZMQ (SPEC §7): files holding Z85 keys (`wirewatch keygen`). CURVE is on for every
     * tcp:// endpoint when server_public is set; then binding sockets are CURVE servers and
     * connecting sockets CURVE clients. All NULL by default (off). */
    struct {
        char *server_public;   /* the hub's public key file: everyone */
        char *server_secret;   /* the hub's secret key file: binding programs (ingest) only */
        char *client_public;   /* this client's public key file: connecting programs */
        char *client_secret;   /* this client's secret key file: connecting programs */
        char *authorized_keys; /* client public keys allowed in, one Z85 key a line; NULL: any CURVE client */
    } curve;

    /* The web console (`wirewatch console`, docs/console.md). */
    struct {
        char *listen;          /* HTTP HOST:PORT, default 127.0.0.1:7480 */
        char *token;           /* bearer token that allows changing rules; NULL: read-only */
        char *archive;         /* archive read for event views and backtests; NULL: ingest.archive */
        int64_t max_clients;   /* concurrent live (SSE) connections, default 32 */
        int64_t heartbeat_ms;  /* SSE comment sent when idle this long, default 15s */
        int64_t backtest_max_events; /* most archived events one backtest reads, default 200000 */
        int64_t backtest_timeout_ms; /* time budget of one backtest, default 10s */
        char **allowed_hosts;  /* Host header values served ("name" or "name:port", "*" any); none: the
                                  listen host, localhost, 127.0.0.1 and [::1] on the listen port */
        size_t n_allowed_hosts;
    } console;
} ww_config_t;

/* Fills every default. */
void ww_config_defaults(ww_config_t *c);

/* Loads `path` on top of the defaults. On error returns -1 and writes
 * "FILE:LINE: message" into err. *c is overwritten without being freed (it
 * need not be initialised; do not call ww_config_defaults first, that would
 * leak). On success the caller owns *c; on failure *c is left zeroed. Either
 * way ww_config_free(c) is correct afterwards. */
int ww_config_load(ww_config_t *c, const char *path, char *err, size_t errlen);

/* Same, from memory; `name` stands for the file name in messages. */
int ww_config_load_buffer(ww_config_t *c, const char *buf, size_t len, const char *name, char *err,
                          size_t errlen);

/* Frees every string and array (the struct itself is the caller's). */
void ww_config_free(ww_config_t *c);

/* Parses "250ms", "10s", "10m", "24h", "7d" (or a bare number of seconds).
 * Returns 0 and *ms, or -1. */
int ww_parse_duration(const char *s, int64_t *ms);
/* Parses "1048576", "64k", "1M", "1MiB", "2GB". Returns 0 and *bytes, or -1. */
int ww_parse_size(const char *s, int64_t *bytes);

/* Writes the config reference (every key, type, default, help) to f as
 * Markdown; used to keep the README true. */
#include <stdio.h>
void ww_config_write_reference(FILE *f);

/* Applies the precedence of SPEC §2: flags win over environment, environment over the file.
 * Loads cfg_path (or $WIREWATCH_CONFIG when cfg_path is NULL; neither = defaults), then
 * $WIREWATCH_REDIS_URL, then redis_flag (when non-NULL). Returns 0, or -1 with err.
 * *c is overwritten like ww_config_load's. */
int ww_config_resolve(ww_config_t *c, const char *cfg_path, const char *redis_flag, char *err, size_t errlen);

#endif
