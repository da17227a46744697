/* config.c - the YAML configuration loader (SPEC §3).
 *
 * Table-driven, like Redis' static_configs[] and Fluent Bit's config_map:
 * ww_conf_keys[] has one row per key (dotted path, type, default, bounds,
 * offsetof into ww_config_t, help). Defaults, loading, freeing and the
 * Markdown reference all walk that one table, so a key added to the table is
 * parsed, defaulted, freed and documented at once.
 *
 * The file is read with libyaml's document API: every node carries its start
 * mark, which gives the 1-based line of each error. The walk is bounded by
 * the schema (top map -> section map -> feed list -> feed map -> scalars),
 * so alias cycles or deep nesting in hostile input cannot make it recurse. */
#include "ww/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "ww/alloc.h"
#include "ww/log.h"

/* ---- the table ------------------------------------------------------------------ */

typedef enum {
    WW_CT_STRING,   /* char *; scalar */
    WW_CT_DURATION, /* int64_t milliseconds; "250ms", "10s", "24h", "7d", bare = seconds */
    WW_CT_SIZE,     /* int64_t bytes; "1048576", "64k", "1MiB" */
    WW_CT_INT,      /* int64_t; decimal */
    WW_CT_STRLIST,  /* char ** + size_t count; sequence of scalars */
    WW_CT_FEEDS,    /* ww_feed_conf_t * + size_t count; sequence of {url, interval} */
} ww_conf_type_t;

/* Extra validation of a string value. */
typedef enum {
    WW_CV_ANY,      /* any string, even empty */
    WW_CV_NONEMPTY, /* a non-empty string (paths) */
    WW_CV_ENDPOINT, /* a ZeroMQ endpoint: tcp://HOST:PORT, ipc://PATH, inproc://NAME */
    WW_CV_REDIS,    /* redis://... or unix:///path */
    WW_CV_LOGLEVEL, /* error|warn|info|debug */
    WW_CV_FEEDURL,  /* http://, https:// or file:// URL */
    WW_CV_FSYNC,    /* archive fsync policy: always, never or a duration */
} ww_conf_check_t;

typedef struct {
    const char *path;      /* dotted key path, e.g. "ingest.dedup_window" */
    ww_conf_type_t type;   /* value type */
    ww_conf_check_t check; /* string validation (WW_CT_STRING and list items) */
    bool nullable;         /* strings only: `~`/null sets the field to NULL */
    const char *def_str;   /* default of a string (NULL: none) */
    int64_t def_num;       /* default of a duration/size/int */
    int64_t min, max;      /* inclusive bounds of a duration/size/int */
    size_t offset;         /* offsetof the field (the array pointer for lists) */
    size_t count_offset;   /* lists only: offsetof the element count */
    const char *help;      /* one line for the reference */
} ww_conf_key_t;

#define WW_MS_S   INT64_C(1000)
#define WW_MS_MIN (60 * WW_MS_S)
#define WW_MS_H   (60 * WW_MS_MIN)
#define WW_MS_D   (24 * WW_MS_H)
#define WW_KIB    INT64_C(1024)
#define WW_MIB    (1024 * WW_KIB)
#define WW_GIB    (1024 * WW_MIB)

#define OFF(field) offsetof(ww_config_t, field)
#define STR(p, chk, nul, def, field, help) {p, WW_CT_STRING, chk, nul, def, 0, 0, 0, OFF(field), 0, help}
#define NUM(p, type, def, lo, hi, field, help) {p, type, WW_CV_ANY, false, NULL, def, lo, hi, OFF(field), 0, help}
#define LIST(p, type, chk, field, nfield, help) {p, type, chk, false, NULL, 0, 0, 0, OFF(field), OFF(nfield), help}

static const ww_conf_key_t ww_conf_keys[] = {
    STR("redis", WW_CV_REDIS, true, NULL, redis,
        "Redis URL, `redis://[user:password@]host:port[/db]` or `unix:///path/to/sock`. "
        "None: `wirewatch up` starts a private redis-server. Overridden by "
        "`WIREWATCH_REDIS_URL` and `--redis`."),
    STR("prefix", WW_CV_ANY, false, "ww:", prefix, "Every Redis key starts with it."),
    STR("log_level", WW_CV_LOGLEVEL, false, "info", log_level,
        "`error`, `warn`, `info` or `debug`; `--log-level` overrides it."),
    NUM("max_message_bytes", WW_CT_SIZE, WW_MIB, WW_KIB, WW_GIB, max_message_bytes,
        "Largest message a socket accepts (ZMQ_MAXMSGSIZE) and the decoder's limit; "
        "a size (`1MiB`, `512k`) or a number of bytes."),

    STR("ingest.intake", WW_CV_ENDPOINT, false, "tcp://127.0.0.1:7400", ingest.intake,
        "Where producers PUSH events (ingest binds a PULL socket)."),
    STR("ingest.dispatch", WW_CV_ENDPOINT, false, "tcp://127.0.0.1:7401", ingest.dispatch,
        "Ingest PUSHes accepted events here to the extract workers (bind)."),
    STR("ingest.archive", WW_CV_NONEMPTY, true, NULL, ingest.archive,
        "Archive directory (segments of accepted events); none: no archive."),
    STR("ingest.archive_fsync", WW_CV_FSYNC, false, "100ms", ingest.archive_fsync,
        "When archived events are made durable (fdatasync): `always` (every batch, before it "
        "is passed on), a duration such as `100ms` (at most that long after), or `never` (the kernel decides)."),
    NUM("ingest.archive_segment_size", WW_CT_SIZE, 256 * WW_MIB, 64 * WW_KIB, 64 * WW_GIB,
        ingest.archive_segment_size, "A new archive segment is started before one would exceed this size."),
    NUM("ingest.archive_segment_time", WW_CT_DURATION, WW_MS_H, WW_MS_S, 365 * WW_MS_D,
        ingest.archive_segment_time_ms, "A new archive segment is started when the current one is this old."),
    NUM("ingest.dedup_window", WW_CT_DURATION, 24 * WW_MS_H, 1, 365 * WW_MS_D,
        ingest.dedup_window_ms,
        "An article whose id was seen within this window is a duplicate and dropped."),
    LIST("ingest.feeds", WW_CT_FEEDS, WW_CV_ANY, ingest.feeds, ingest.n_feeds,
         "RSS/Atom feeds to poll: a list of `{url, interval}` maps."),
    LIST("ingest.watch", WW_CT_STRLIST, WW_CV_NONEMPTY, ingest.watch, ingest.n_watch,
         "Directories whose new article files are ingested."),
    NUM("ingest.batch", WW_CT_INT, 64, 1, 65536, ingest.batch,
        "Most events carried by one internal message."),
    STR("ingest.opml", WW_CV_NONEMPTY, true, NULL, ingest.opml,
        "OPML file whose `<outline xmlUrl=...>` feeds are polled too (interval: `ingest.feed_interval`)."),
    NUM("ingest.feed_interval", WW_CT_DURATION, 60 * WW_MS_S, 10, 7 * WW_MS_D, ingest.feed_interval_ms,
        "Poll interval of the feeds listed in `ingest.opml`."),
    NUM("ingest.feed_timeout", WW_CT_DURATION, 30 * WW_MS_S, 10, 10 * WW_MS_MIN, ingest.feed_timeout_ms,
        "Time-out of one feed request (connect, redirects and transfer)."),
    NUM("ingest.feed_max_bytes", WW_CT_SIZE, 8 * WW_MIB, WW_KIB, WW_GIB, ingest.feed_max_bytes,
        "Largest feed document (after decompression); a larger one is an error."),
    STR("ingest.user_agent", WW_CV_NONEMPTY, false, "wirewatch/" WW_VERSION " (+feed poller)", ingest.user_agent,
        "User-Agent header of feed requests."),
    NUM("ingest.feed_concurrency", WW_CT_INT, 32, 1, 4096, ingest.feed_concurrency,
        "Most feed requests in flight at once."),
    NUM("ingest.redeliver_after", WW_CT_DURATION, 30 * WW_MS_S, 100, WW_MS_D, ingest.redeliver_after_ms,
        "An accepted event that the alert stage has not finished within this (its worker died) is dispatched again."),
    NUM("ingest.max_inflight", WW_CT_INT, 100000, 1, 100000000, ingest.max_inflight,
        "Events in flight (accepted, not yet finished by the alert stage) before ingest stops reading the intake."),

    STR("extract.model", WW_CV_ANY, true, NULL, extract.model,
        "NER model file; none: the model the project ships; `\"\"`: no model, the rule-based first extractor."),
    STR("extract.gazetteer", WW_CV_NONEMPTY, true, NULL, extract.gazetteer,
        "Gazetteer file; none: the bundled gazetteer."),
    STR("extract.results", WW_CV_ENDPOINT, false, "tcp://127.0.0.1:7402", extract.results,
        "Extract workers PUSH their results to this hub endpoint, read by the alert stage."),

    STR("alert.publish", WW_CV_ENDPOINT, false, "tcp://127.0.0.1:7405", alert.publish,
        "Alerts PUB endpoint subscribers connect to (XPUB bind)."),
    STR("alert.work", WW_CV_ENDPOINT, false, "tcp://127.0.0.1:7403", alert.work,
        "Hub to alert workers (PUSH bind)."),
    STR("alert.publish_in", WW_CV_ENDPOINT, false, "tcp://127.0.0.1:7404", alert.publish_in,
        "Alert workers' PUB sockets connect here (XSUB bind)."),
    STR("alert.rules", WW_CV_NONEMPTY, true, NULL, alert.rules,
        "Rules file; none: rules come from Redis (`wirewatch rules load`)."),
    NUM("alert.history_max", WW_CT_INT, 100000, 1, INT64_C(1000000000), alert.history_max,
        "Most alerts kept in the history (`<prefix>alerts`) for `subscribe --since`."),
    NUM("alert.dedup_ttl", WW_CT_DURATION, 7 * WW_MS_D, WW_MS_S, 365 * WW_MS_D, alert.dedup_ttl_ms,
        "How long a published alert id is remembered, so it is never published twice."),

    STR("curve.server_public", WW_CV_NONEMPTY, true, NULL, curve.server_public,
        "CurveZMQ: file with the hub's public key (`wirewatch keygen`). Set: every tcp:// endpoint "
        "uses CURVE (binding sockets are servers, connecting sockets clients). None: off."),
    STR("curve.server_secret", WW_CV_NONEMPTY, true, NULL, curve.server_secret,
        "CurveZMQ: file with the hub's secret key; needed by the program that binds (ingest)."),
    STR("curve.client_public", WW_CV_NONEMPTY, true, NULL, curve.client_public,
        "CurveZMQ: file with this machine's client public key; needed by programs that connect."),
    STR("curve.client_secret", WW_CV_NONEMPTY, true, NULL, curve.client_secret,
        "CurveZMQ: file with this machine's client secret key (mode 0600)."),
    STR("curve.authorized_keys", WW_CV_NONEMPTY, true, NULL, curve.authorized_keys,
        "CurveZMQ: file of client public keys allowed to connect, one a line (`#` comments); "
        "re-read when it changes. None: any client that knows the server key."),

    STR("console.listen", WW_CV_NONEMPTY, false, "127.0.0.1:7480", console.listen,
        "`wirewatch console`: the HTTP address (`HOST:PORT`) of the web console."),
    STR("console.token", WW_CV_NONEMPTY, true, NULL, console.token,
        "Bearer token that allows changing the rules from the console; none: the console is read-only. "
        "Keep the config file private (mode 0600) when set."),
    STR("console.archive", WW_CV_NONEMPTY, true, NULL, console.archive,
        "Archive the console reads for event views and backtests; none: `ingest.archive`."),
    NUM("console.max_clients", WW_CT_INT, 32, 1, 10000, console.max_clients,
        "Most live alert streams (Server-Sent Events) the console serves at once; more get 503."),
    NUM("console.heartbeat", WW_CT_DURATION, 15 * WW_MS_S, 100, 10 * WW_MS_MIN, console.heartbeat_ms,
        "An idle live stream gets a comment line this often (keeps proxies from closing it)."),
    NUM("console.backtest_max_events", WW_CT_INT, 200000, 1, INT64_C(100000000), console.backtest_max_events,
        "Most archived events one console backtest reads (in event-time order); it stops there and says so."),
    NUM("console.backtest_timeout", WW_CT_DURATION, 10 * WW_MS_S, 100, 10 * WW_MS_MIN, console.backtest_timeout_ms,
        "Time budget of one console backtest; it stops and reports what it saw when it runs out."),
    LIST("console.allowed_hosts", WW_CT_STRLIST, WW_CV_NONEMPTY, console.allowed_hosts, console.n_allowed_hosts,
         "Host header values the console answers (`name` for any port, `name:port`, `[v6]:port`; `*`: any), "
         "against DNS rebinding; others get 421. None: the listen host, localhost, 127.0.0.1 and [::1] on the listen port."),
};
#define WW_CONF_NKEYS (sizeof ww_conf_keys / sizeof ww_conf_keys[0])

#undef OFF
#define OFF(field) offsetof(ww_feed_conf_t, field)

/* The keys of one item of ingest.feeds, relative to ww_feed_conf_t. */
static const ww_conf_key_t ww_conf_feed_keys[] = {
    STR("url", WW_CV_FEEDURL, false, NULL, url, "Feed URL (`http://`, `https://` or `file://`); required."),
    NUM("interval", WW_CT_DURATION, 60 * WW_MS_S, 10, 7 * WW_MS_D, interval_ms, "Poll interval."),
};
#define WW_CONF_NFEEDKEYS (sizeof ww_conf_feed_keys / sizeof ww_conf_feed_keys[0])

#undef OFF
#undef STR
#undef NUM
#undef LIST

/* ---- field access ------------------------------------------------------------ */

static char **ww_conf_str(void *base, const ww_conf_key_t *k)
{
    return (char **)((char *)base + k->offset);
}

static int64_t *ww_conf_num(void *base, const ww_conf_key_t *k)
{
    return (int64_t *)((char *)base + k->offset);
}

static size_t *ww_conf_count(void *base, const ww_conf_key_t *k)
{
    return (size_t *)((char *)base + k->count_offset);
}

/* Frees what field k of base owns and leaves it at NULL / 0. */
static void ww_conf_clear_field(void *base, const ww_conf_key_t *k)
{
    switch (k->type) {
    case WW_CT_STRING: {
        char **s = ww_conf_str(base, k);
        ww_free(*s);
        *s = NULL;
        break;
    }
    case WW_CT_STRLIST: {
        char ***arr = (char ***)ww_conf_str(base, k);
        size_t *n = ww_conf_count(base, k);
        for (size_t i = 0; i < *n; i++)
            ww_free((*arr)[i]);
        ww_free(*arr);
        *arr = NULL;
        *n = 0;
        break;
    }
    case WW_CT_FEEDS: {
        ww_feed_conf_t **arr = (ww_feed_conf_t **)ww_conf_str(base, k);
        size_t *n = ww_conf_count(base, k);
        for (size_t i = 0; i < *n; i++)
            for (size_t j = 0; j < WW_CONF_NFEEDKEYS; j++)
                ww_conf_clear_field(&(*arr)[i], &ww_conf_feed_keys[j]);
        ww_free(*arr);
        *arr = NULL;
        *n = 0;
        break;
    }
    default:
        *ww_conf_num(base, k) = 0;
        break;
    }
}

/* Sets field k of base (whose owned memory is already released) to its default. */
static void ww_conf_set_default(void *base, const ww_conf_key_t *k)
{
    switch (k->type) {
    case WW_CT_STRING:
        *ww_conf_str(base, k) = ww_strdup(k->def_str);
        break;
    case WW_CT_STRLIST:
    case WW_CT_FEEDS:
        *ww_conf_str(base, k) = NULL;
        *ww_conf_count(base, k) = 0;
        break;
    default:
        *ww_conf_num(base, k) = k->def_num;
        break;
    }
}

void ww_config_defaults(ww_config_t *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < WW_CONF_NKEYS; i++)
        ww_conf_set_default(c, &ww_conf_keys[i]);
}

void ww_config_free(ww_config_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < WW_CONF_NKEYS; i++)
        ww_conf_clear_field(c, &ww_conf_keys[i]);
    ww_free(c->path);
    memset(c, 0, sizeof *c);
}

/* ---- durations and sizes ------------------------------------------------------- */

/* Parses the leading decimal digits of s into *v (no sign). Returns the
 * number of digits consumed, or 0 when there are none or on overflow. */
static size_t ww_conf_digits(const char *s, int64_t *v)
{
    size_t i = 0;
    int64_t acc = 0;
    while (s[i] >= '0' && s[i] <= '9') {
        int d = s[i] - '0';
        if (acc > (INT64_MAX - d) / 10)
            return 0;
        acc = acc * 10 + d;
        i++;
    }
    *v = acc;
    return i;
}

/* *out = v * mul; -1 on overflow (v, mul >= 0). */
static int ww_conf_mul(int64_t v, int64_t mul, int64_t *out)
{
    if (mul != 0 && v > INT64_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

int ww_parse_duration(const char *s, int64_t *ms)
{
    static const struct {
        const char *unit;
        int64_t mul;
    } units[] = {{"", WW_MS_S}, {"ms", 1},        {"s", WW_MS_S},
                 {"m", WW_MS_MIN}, {"h", WW_MS_H}, {"d", WW_MS_D}};
    if (!s)
        return -1;
    int64_t v;
    size_t n = ww_conf_digits(s, &v);
    if (n == 0)
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(s + n, units[i].unit) == 0)
            return ww_conf_mul(v, units[i].mul, ms);
    return -1;
}

int ww_parse_size(const char *s, int64_t *bytes)
{
    static const struct {
        const char *unit;
        int64_t mul;
    } units[] = {{"", 1},          {"b", 1},          {"k", WW_KIB},      {"kb", WW_KIB},
                 {"kib", WW_KIB},  {"m", WW_MIB},     {"mb", WW_MIB},     {"mib", WW_MIB},
                 {"g", WW_GIB},    {"gb", WW_GIB},    {"gib", WW_GIB},    {"t", 1024 * WW_GIB},
                 {"tb", 1024 * WW_GIB}, {"tib", 1024 * WW_GIB}};
    if (!s)
        return -1;
    int64_t v;
    size_t n = ww_conf_digits(s, &v);
    if (n == 0)
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcasecmp(s + n, units[i].unit) == 0)
            return ww_conf_mul(v, units[i].mul, bytes);
    return -1;
}

/* Parses a whole decimal integer with an optional '-'. Returns 0 or -1. */
static int ww_conf_parse_int(const char *s, int64_t *out)
{
    bool neg = s[0] == '-';
    int64_t v;
    size_t n = ww_conf_digits(s + neg, &v);
    if (n == 0 || s[neg + n] != '\0')
        return -1;
    *out = neg ? -v : v;
    return 0;
}

/* Formats ms with the largest unit that divides it exactly ("250ms", "7d"),
 * except that "24h" and "60s" read better than "1d" and "1m". */
static void ww_conf_fmt_duration(int64_t ms, char *buf, size_t len)
{
    if (ms > WW_MS_D && ms % WW_MS_D == 0)
        snprintf(buf, len, "%lldd", (long long)(ms / WW_MS_D));
    else if (ms != 0 && ms % WW_MS_H == 0)
        snprintf(buf, len, "%lldh", (long long)(ms / WW_MS_H));
    else if (ms > WW_MS_MIN && ms % WW_MS_MIN == 0)
        snprintf(buf, len, "%lldm", (long long)(ms / WW_MS_MIN));
    else if (ms % WW_MS_S == 0)
        snprintf(buf, len, "%llds", (long long)(ms / WW_MS_S));
    else
        snprintf(buf, len, "%lldms", (long long)ms);
}

/* Formats bytes with the largest binary unit that divides it exactly ("1MiB"). */
static void ww_conf_fmt_size(int64_t b, char *buf, size_t len)
{
    if (b != 0 && b % WW_GIB == 0)
        snprintf(buf, len, "%lldGiB", (long long)(b / WW_GIB));
    else if (b != 0 && b % WW_MIB == 0)
        snprintf(buf, len, "%lldMiB", (long long)(b / WW_MIB));
    else if (b != 0 && b % WW_KIB == 0)
        snprintf(buf, len, "%lldKiB", (long long)(b / WW_KIB));
    else
        snprintf(buf, len, "%lld", (long long)b);
}

/* Formats a numeric value of key k the way a user would write it. */
static void ww_conf_fmt_num(const ww_conf_key_t *k, int64_t v, char *buf, size_t len)
{
    if (k->type == WW_CT_DURATION)
        ww_conf_fmt_duration(v, buf, len);
    else if (k->type == WW_CT_SIZE)
        ww_conf_fmt_size(v, buf, len);
    else
        snprintf(buf, len, "%lld", (long long)v);
}

/* ---- value checks ---------------------------------------------------------------- */

static bool ww_conf_has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* tcp://HOST:PORT (PORT 1-65535 or *), ipc://PATH, inproc://NAME. */
static bool ww_conf_is_endpoint(const char *s)
{
    if (ww_conf_has_prefix(s, "ipc://"))
        return s[6] != '\0';
    if (ww_conf_has_prefix(s, "inproc://"))
        return s[9] != '\0';
    if (!ww_conf_has_prefix(s, "tcp://"))
        return false;
    const char *host = s + 6;
    const char *colon = strrchr(host, ':');
    if (!colon || colon == host)
        return false;
    const char *port = colon + 1;
    if (strcmp(port, "*") == 0)
        return true;
    int64_t p;
    size_t n = ww_conf_digits(port, &p);
    return n > 0 && n <= 5 && port[n] == '\0' && p >= 1 && p <= 65535;
}

/* redis://HOST... or unix:///PATH. */
static bool ww_conf_is_redis_url(const char *s)
{
    if (ww_conf_has_prefix(s, "redis://"))
        return s[8] != '\0' && s[8] != '/';
    if (ww_conf_has_prefix(s, "unix://"))
        return s[7] == '/' && s[8] != '\0';
    return false;
}

/* Returns NULL when s passes check, else what is wrong (a static string). */
static const char *ww_conf_check(ww_conf_check_t check, const char *s)
{
    ww_log_level_t lvl;
    switch (check) {
    case WW_CV_ANY:
        return NULL;
    case WW_CV_NONEMPTY:
        return *s ? NULL : "must not be empty";
    case WW_CV_ENDPOINT:
        return ww_conf_is_endpoint(s)
                   ? NULL
                   : "is not a ZeroMQ endpoint (tcp://HOST:PORT, ipc://PATH or inproc://NAME)";
    case WW_CV_REDIS:
        return ww_conf_is_redis_url(s)
                   ? NULL
                   : "is not a Redis URL (redis://[user:password@]host:port[/db] or unix:///path)";
    case WW_CV_LOGLEVEL:
        return ww_log_parse_level(s, &lvl) == 0 ? NULL
                                                : "is not a log level (error, warn, info or debug)";
    case WW_CV_FSYNC: {
        if (strcmp(s, "always") == 0 || strcmp(s, "never") == 0)
            return NULL;
        int64_t ms;
        return ww_parse_duration(s, &ms) == 0 && ms >= 1 && ms <= WW_MS_H
                   ? NULL
                   : "is not a fsync policy (always, never, or a duration from 1ms to 1h such as 100ms)";
    }
    case WW_CV_FEEDURL:
        return (ww_conf_has_prefix(s, "http://") || ww_conf_has_prefix(s, "https://") ||
                ww_conf_has_prefix(s, "file://")) &&
                       strstr(s, "://")[3] != '\0'
                   ? NULL
                   : "is not a feed URL (http://, https:// or file://)";
    }
    return NULL;
}

/* ---- the loader ------------------------------------------------------------------ */

/* One load: where messages go and the document being walked. */
typedef struct {
    const char *name;      /* file name used in messages */
    char *err;             /* caller's message buffer */
    size_t errlen;         /* its size */
    yaml_document_t *doc;  /* the parsed document */
} ww_conf_ctx_t;

/* Writes "NAME:LINE: message" into the context's err and returns -1. */
__attribute__((format(printf, 3, 4))) static int ww_conf_fail(ww_conf_ctx_t *x, size_t line,
                                                              const char *fmt, ...)
{
    if (!x->err || x->errlen == 0)
        return -1;
    int n = snprintf(x->err, x->errlen, "%s:%zu: ", x->name, line);
    if (n < 0 || (size_t)n >= x->errlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->err + n, x->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static size_t ww_conf_line(const yaml_node_t *n)
{
    return n->start_mark.line + 1;
}

static const char *ww_conf_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a list";
    default:
        return "a scalar";
    }
}

/* True for a plain scalar spelling null: empty, ~, null, Null, NULL. */
static bool ww_conf_is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)n->data.scalar.value;
    size_t l = n->data.scalar.length;
    return l == 0 || (l == 1 && v[0] == '~') ||
           (l == 4 && (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) || !memcmp(v, "NULL", 4)));
}

/* The text of scalar n, or NULL (with err set) when n is not a scalar, is
 * null, or holds a NUL byte. Borrowed from the document. */
static const char *ww_conf_scalar(ww_conf_ctx_t *x, const yaml_node_t *n, const char *path,
                                  const char *want)
{
    if (n->type != YAML_SCALAR_NODE) {
        ww_conf_fail(x, ww_conf_line(n), "'%s' must be %s, not %s", path, want, ww_conf_kind(n));
        return NULL;
    }
    if (ww_conf_is_null(n)) {
        ww_conf_fail(x, ww_conf_line(n), "'%s' must not be null", path);
        return NULL;
    }
    const char *v = (const char *)n->data.scalar.value;
    if (memchr(v, '\0', n->data.scalar.length)) {
        ww_conf_fail(x, ww_conf_line(n), "'%s' contains a NUL byte", path);
        return NULL;
    }
    return v;
}

/* Sets string field k of base from n (validated). 0 or -1. */
static int ww_conf_set_string(ww_conf_ctx_t *x, void *base, const ww_conf_key_t *k,
                              const yaml_node_t *n, const char *path)
{
    char **dst = ww_conf_str(base, k);
    if (k->nullable && ww_conf_is_null(n)) {
        ww_free(*dst);
        *dst = NULL;
        return 0;
    }
    const char *v = ww_conf_scalar(x, n, path, "a string");
    if (!v)
        return -1;
    const char *bad = ww_conf_check(k->check, v);
    if (bad)
        return ww_conf_fail(x, ww_conf_line(n), "'%s': '%s' %s", path, v, bad);
    ww_free(*dst);
    *dst = ww_strdup(v);
    return 0;
}

/* Sets duration/size/int field k of base from n (parsed, bounds checked). */
static int ww_conf_set_number(ww_conf_ctx_t *x, void *base, const ww_conf_key_t *k,
                              const yaml_node_t *n, const char *path)
{
    static const char *what[] = {[WW_CT_DURATION] = "a duration",
                                 [WW_CT_SIZE] = "a size",
                                 [WW_CT_INT] = "an integer"};
    static const char *noun[] = {[WW_CT_DURATION] = "duration",
                                 [WW_CT_SIZE] = "size",
                                 [WW_CT_INT] = "integer"};
    const char *v = ww_conf_scalar(x, n, path, what[k->type]);
    if (!v)
        return -1;
    int64_t val;
    int rc;
    if (k->type == WW_CT_DURATION)
        rc = ww_parse_duration(v, &val);
    else if (k->type == WW_CT_SIZE)
        rc = ww_parse_size(v, &val);
    else
        rc = ww_conf_parse_int(v, &val);
    if (rc < 0) {
        static const char *hint[] = {[WW_CT_DURATION] = " (e.g. 250ms, 10s, 5m, 24h, 7d)",
                                     [WW_CT_SIZE] = " (e.g. 1048576, 64k, 1MiB, 2G)",
                                     [WW_CT_INT] = ""};
        return ww_conf_fail(x, ww_conf_line(n), "'%s': invalid %s '%s'%s", path,
                            noun[k->type], v, hint[k->type]);
    }
    if (val < k->min || val > k->max) {
        char lo[32], hi[32];
        ww_conf_fmt_num(k, k->min, lo, sizeof lo);
        ww_conf_fmt_num(k, k->max, hi, sizeof hi);
        return ww_conf_fail(x, ww_conf_line(n), "'%s': %s is out of range [%s, %s]", path, v, lo,
                            hi);
    }
    *ww_conf_num(base, k) = val;
    return 0;
}

/* Sets string-list field k of base from sequence n (null: empty list). */
static int ww_conf_set_strlist(ww_conf_ctx_t *x, void *base, const ww_conf_key_t *k,
                               const yaml_node_t *n, const char *path)
{
    ww_conf_clear_field(base, k);
    if (ww_conf_is_null(n))
        return 0;
    if (n->type != YAML_SEQUENCE_NODE)
        return ww_conf_fail(x, ww_conf_line(n), "'%s' must be a list of strings, not %s", path,
                            ww_conf_kind(n));
    char ***arr = (char ***)ww_conf_str(base, k);
    size_t *cnt = ww_conf_count(base, k);
    size_t total = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (total == 0)
        return 0;
    *arr = ww_calloc(total, sizeof **arr);
    for (size_t i = 0; i < total; i++) {
        const yaml_node_t *it = yaml_document_get_node(x->doc, n->data.sequence.items.start[i]);
        char ipath[160];
        snprintf(ipath, sizeof ipath, "%.100s[%zu]", path, i);
        const char *v = ww_conf_scalar(x, it, ipath, "a string");
        if (!v)
            return -1;
        const char *bad = ww_conf_check(k->check, v);
        if (bad)
            return ww_conf_fail(x, ww_conf_line(it), "'%s': '%s' %s", ipath, v, bad);
        (*arr)[(*cnt)++] = ww_strdup(v);
    }
    return 0;
}

static int ww_conf_set_value(ww_conf_ctx_t *x, void *base, const ww_conf_key_t *k,
                             const yaml_node_t *n, const char *path);

/* Walks mapping n, setting fields of base from rows[]. A key K is looked up
 * as `rel.K` (just K when rel is ""); messages name it `disp.K`. At the top
 * (rel "") a key that prefixes row paths followed by '.' is a section: its
 * value is a nested mapping walked with rel = disp = K. Unknown and
 * duplicate keys are errors. */
static int ww_conf_walk_map(ww_conf_ctx_t *x, void *base, const ww_conf_key_t *rows, size_t nrows,
                            const char *rel, const char *disp, const yaml_node_t *n)
{
    bool seen[WW_CONF_NKEYS > WW_CONF_NFEEDKEYS ? WW_CONF_NKEYS : WW_CONF_NFEEDKEYS] = {false};
    const char *seen_sections[8];
    size_t n_seen_sections = 0;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const yaml_node_t *kn = yaml_document_get_node(x->doc, p->key);
        const yaml_node_t *vn = yaml_document_get_node(x->doc, p->value);
        if (kn->type != YAML_SCALAR_NODE)
            return ww_conf_fail(x, ww_conf_line(kn), "keys must be strings, not %s",
                                ww_conf_kind(kn));
        const char *key = (const char *)kn->data.scalar.value;
        size_t klen = kn->data.scalar.length;
        char path[160], shown[200];
        int plen = snprintf(path, sizeof path, "%s%s%s", rel, *rel ? "." : "", key);
        snprintf(shown, sizeof shown, "%.60s%s%.100s", disp, *disp ? "." : "", key);
        bool bad_key = klen == 0 || memchr(key, '.', klen) || memchr(key, '\0', klen) ||
                       plen < 0 || (size_t)plen >= sizeof path;
        size_t ri = 0;
        while (!bad_key && ri < nrows && strcmp(rows[ri].path, path) != 0)
            ri++;
        if (!bad_key && ri < nrows) {
            if (seen[ri])
                return ww_conf_fail(x, ww_conf_line(kn), "duplicate key '%s'", shown);
            seen[ri] = true;
            if (ww_conf_set_value(x, base, &rows[ri], vn, shown) < 0)
                return -1;
            continue;
        }
        bool section = false;
        for (size_t i = 0; !bad_key && !*rel && i < nrows; i++)
            if (strncmp(rows[i].path, path, (size_t)plen) == 0 && rows[i].path[plen] == '.')
                section = true;
        if (!section)
            return ww_conf_fail(x, ww_conf_line(kn), "unknown key '%s'", shown);
        for (size_t i = 0; i < n_seen_sections; i++)
            if (strcmp(seen_sections[i], key) == 0)
                return ww_conf_fail(x, ww_conf_line(kn), "duplicate key '%s'", shown);
        if (n_seen_sections < sizeof seen_sections / sizeof seen_sections[0])
            seen_sections[n_seen_sections++] = key;
        if (ww_conf_is_null(vn))
            continue; /* "ingest:" with nothing under it */
        if (vn->type != YAML_MAPPING_NODE)
            return ww_conf_fail(x, ww_conf_line(vn), "'%s' must be a mapping, not %s", shown,
                                ww_conf_kind(vn));
        if (ww_conf_walk_map(x, base, rows, nrows, path, path, vn) < 0)
            return -1;
    }
    return 0;
}

/* Sets feeds field k of base from a sequence of {url, interval} maps. */
static int ww_conf_set_feeds(ww_conf_ctx_t *x, void *base, const ww_conf_key_t *k,
                             const yaml_node_t *n, const char *path)
{
    ww_conf_clear_field(base, k);
    if (ww_conf_is_null(n))
        return 0;
    if (n->type != YAML_SEQUENCE_NODE)
        return ww_conf_fail(x, ww_conf_line(n), "'%s' must be a list of feeds, not %s", path,
                            ww_conf_kind(n));
    ww_feed_conf_t **arr = (ww_feed_conf_t **)ww_conf_str(base, k);
    size_t *cnt = ww_conf_count(base, k);
    size_t total = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (total == 0)
        return 0;
    *arr = ww_calloc(total, sizeof **arr);
    for (size_t i = 0; i < total; i++) {
        const yaml_node_t *it = yaml_document_get_node(x->doc, n->data.sequence.items.start[i]);
        char ipath[160];
        snprintf(ipath, sizeof ipath, "%.100s[%zu]", path, i);
        if (it->type != YAML_MAPPING_NODE)
            return ww_conf_fail(x, ww_conf_line(it), "'%s' must be a mapping {url, interval}, not %s",
                                ipath, ww_conf_kind(it));
        ww_feed_conf_t *f = &(*arr)[(*cnt)++];
        for (size_t j = 0; j < WW_CONF_NFEEDKEYS; j++)
            ww_conf_set_default(f, &ww_conf_feed_keys[j]);
        if (ww_conf_walk_map(x, f, ww_conf_feed_keys, WW_CONF_NFEEDKEYS, "", ipath, it) < 0)
            return -1;
        if (!f->url)
            return ww_conf_fail(x, ww_conf_line(it), "'%s' has no url", ipath);
    }
    return 0;
}

/* Sets field k of base from value node n, dispatching on the row's type. */
static int ww_conf_set_value(ww_conf_ctx_t *x, void *base, const ww_conf_key_t *k,
                             const yaml_node_t *n, const char *path)
{
    switch (k->type) {
    case WW_CT_STRING:
        return ww_conf_set_string(x, base, k, n, path);
    case WW_CT_STRLIST:
        return ww_conf_set_strlist(x, base, k, n, path);
    case WW_CT_FEEDS:
        return ww_conf_set_feeds(x, base, k, n, path);
    default:
        return ww_conf_set_number(x, base, k, n, path);
    }
}

/* 1-based line of byte offset off in buf. */
static size_t ww_conf_offset_line(const char *buf, size_t len, size_t off)
{
    size_t line = 1;
    for (size_t i = 0; i < off && i < len; i++)
        if (buf[i] == '\n')
            line++;
    return line;
}

/* Reports libyaml's error as "NAME:LINE: problem (context)". */
static int ww_conf_yaml_fail(ww_conf_ctx_t *x, const yaml_parser_t *p, const char *buf, size_t len)
{
    size_t line;
    if (p->error == YAML_READER_ERROR)
        line = ww_conf_offset_line(buf, len, p->problem_offset);
    else
        line = p->problem_mark.line + 1;
    const char *problem = p->problem ? p->problem : "cannot parse YAML";
    if (p->context)
        return ww_conf_fail(x, line, "%s (%s)", problem, p->context);
    return ww_conf_fail(x, line, "%s", problem);
}

int ww_config_load_buffer(ww_config_t *c, const char *buf, size_t len, const char *name, char *err,
                          size_t errlen)
{
    ww_conf_ctx_t x = {.name = name ? name : "<config>", .err = err, .errlen = errlen};
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    bool have_doc = false, have_extra = false;
    int rc = -1;

    if (err && errlen)
        err[0] = '\0';
    ww_config_defaults(c);
    c->path = name ? ww_strdup(name) : NULL;
    if (!yaml_parser_initialize(&parser)) {
        ww_conf_fail(&x, 1, "cannot initialise the YAML parser");
        goto cleanup_config;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)(buf ? buf : ""), buf ? len : 0);
    if (!yaml_parser_load(&parser, &doc)) {
        ww_conf_yaml_fail(&x, &parser, buf, len);
        goto cleanup_parser;
    }
    have_doc = true;
    x.doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root) {
        /* a second document is a mistake worth reporting, not ignoring */
        if (!yaml_parser_load(&parser, &extra)) {
            ww_conf_yaml_fail(&x, &parser, buf, len);
            goto cleanup_doc;
        }
        have_extra = true;
        yaml_node_t *root2 = yaml_document_get_root_node(&extra);
        if (root2) {
            ww_conf_fail(&x, extra.start_mark.line + 1, "only one YAML document is allowed");
            goto cleanup_doc;
        }
    }
    if (root && !ww_conf_is_null(root)) {
        if (root->type != YAML_MAPPING_NODE) {
            ww_conf_fail(&x, ww_conf_line(root), "the top level must be a mapping, not %s",
                         ww_conf_kind(root));
            goto cleanup_doc;
        }
        if (ww_conf_walk_map(&x, c, ww_conf_keys, WW_CONF_NKEYS, "", "", root) < 0)
            goto cleanup_doc;
    }
    rc = 0;

cleanup_doc:
    if (have_extra)
        yaml_document_delete(&extra);
    if (have_doc)
        yaml_document_delete(&doc);
cleanup_parser:
    yaml_parser_delete(&parser);
cleanup_config:
    if (rc < 0)
        ww_config_free(c);
    return rc;
}

/* Largest config file accepted: far above any real one. */
#define WW_CONF_MAX_FILE (16 * 1024 * 1024)

int ww_config_load(ww_config_t *c, const char *path, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = -1;
    for (;;) {
        WW_GROW(buf, cap, len + 65536);
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
        if (len > WW_CONF_MAX_FILE) {
            if (err && errlen)
                snprintf(err, errlen, "%s: file is larger than %d bytes", path, WW_CONF_MAX_FILE);
            goto cleanup;
        }
    }
    if (ferror(f)) {
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        goto cleanup;
    }
    rc = ww_config_load_buffer(c, buf, len, path, err, errlen);
cleanup:
    ww_free(buf);
    fclose(f);
    return rc;
}

int ww_config_resolve(ww_config_t *c, const char *cfg_path, const char *redis_flag, char *err,
                      size_t errlen)
{
    const char *path = cfg_path;
    if (!path) {
        path = getenv("WIREWATCH_CONFIG");
        if (path && !*path)
            path = NULL;
    }
    if (path) {
        if (ww_config_load(c, path, err, errlen) < 0)
            return -1;
    } else {
        ww_config_defaults(c);
    }
    const char *env = getenv("WIREWATCH_REDIS_URL");
    const struct {
        const char *who;
        const char *url;
    } over[] = {{"WIREWATCH_REDIS_URL", env && *env ? env : NULL}, {"--redis", redis_flag}};
    for (size_t i = 0; i < 2; i++) {
        if (!over[i].url)
            continue;
        if (!ww_conf_is_redis_url(over[i].url)) {
            /* never echo the URL: it may carry a password (SPEC §7) */
            if (err && errlen)
                snprintf(err, errlen,
                         "%s: not a Redis URL (redis://[user:password@]host:port[/db] or "
                         "unix:///path)",
                         over[i].who);
            ww_config_free(c);
            return -1;
        }
        ww_free(c->redis);
        c->redis = ww_strdup(over[i].url);
    }
    return 0;
}

/* ---- the reference --------------------------------------------------------------- */

static const char *ww_conf_type_name(const ww_conf_key_t *k)
{
    switch (k->type) {
    case WW_CT_STRING:
        return k->nullable ? "string or `~`" : "string";
    case WW_CT_DURATION:
        return "duration";
    case WW_CT_SIZE:
        return "size";
    case WW_CT_INT:
        return "integer";
    case WW_CT_STRLIST:
        return "list of strings";
    case WW_CT_FEEDS:
        return "list of maps";
    }
    return "?";
}

/* Writes one Markdown row for key k named `path`. */
static void ww_conf_write_row(FILE *f, const ww_conf_key_t *k, const char *path)
{
    char def[64], lo[32], hi[32];
    switch (k->type) {
    case WW_CT_STRING:
        if (k->def_str)
            snprintf(def, sizeof def, "`%s`", k->def_str);
        else
            snprintf(def, sizeof def, "%s", k->nullable ? "`~` (none)" : "(required)");
        break;
    case WW_CT_STRLIST:
    case WW_CT_FEEDS:
        snprintf(def, sizeof def, "`[]`");
        break;
    default: {
        char v[32];
        ww_conf_fmt_num(k, k->def_num, v, sizeof v);
        snprintf(def, sizeof def, "`%s`", v);
        break;
    }
    }
    fprintf(f, "| `%s` | %s | %s | %s", path, ww_conf_type_name(k), def, k->help);
    if (k->type == WW_CT_DURATION || k->type == WW_CT_SIZE || k->type == WW_CT_INT) {
        ww_conf_fmt_num(k, k->min, lo, sizeof lo);
        ww_conf_fmt_num(k, k->max, hi, sizeof hi);
        fprintf(f, " Range: %s to %s.", lo, hi);
    }
    fputs(" |\n", f);
}

void ww_config_write_reference(FILE *f)
{
    fputs("| key | type | default | meaning |\n|---|---|---|---|\n", f);
    for (size_t i = 0; i < WW_CONF_NKEYS; i++) {
        const ww_conf_key_t *k = &ww_conf_keys[i];
        ww_conf_write_row(f, k, k->path);
        if (k->type != WW_CT_FEEDS)
            continue;
        for (size_t j = 0; j < WW_CONF_NFEEDKEYS; j++) {
            char path[96];
            snprintf(path, sizeof path, "%s[].%s", k->path, ww_conf_feed_keys[j].path);
            ww_conf_write_row(f, &ww_conf_feed_keys[j], path);
        }
    }
    fputs("\nDurations: a whole number with `ms`, `s`, `m`, `h` or `d` (a bare number is "
          "seconds). Sizes: a whole number of bytes, or with `k`, `M`, `G` (also `KiB`/`KB`, "
          "...; all 1024-based).\n",
          f);
}
