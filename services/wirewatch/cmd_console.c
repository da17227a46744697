/* cmd_console.c - `wirewatch console [--listen HOST:PORT]`: the live web console.
 *
 * One libmicrohttpd server, a thread per connection (live streams are long
 * responses that block in Redis), each connection with its own Redis
 * connection (hiredis is not thread-safe). The page (index.html, app.js,
 * style.css) is embedded in the binary (tools/console_assets.cmake), so the
 * console works without network access to anything but Redis and the archive.
 *
 *   GET  /, /app.js, /style.css   the page
 *   GET  /api/info                version, rules version, read-only or not, archive
 *   GET  /api/alerts              one page of the alert history, newest first, by
 *                                 stream-id cursor (?before=SID&limit=N&channel=&severity=&q=)
 *   GET  /api/stream              Server-Sent Events: new alerts (id: = stream id;
 *                                 Last-Event-ID or ?after=SID resumes), heartbeats
 *   GET  /api/event?sid=SID       one alert, its event from the archive with entity
 *                                 spans, and the rule's explanation (or ?id=ALERT_ID)
 *   GET  /api/trends              entity trends (console_api.c)
 *   GET  /api/rules               the running rules, alert counts and cost
 *   POST /api/rules               store a new rule set (Authorization: Bearer TOKEN)
 *   POST /api/backtest            run rules over the archive (bounded)
 *
 * Everything is read-only unless console.token is set and presented; POST
 * bodies must be JSON (a cross-site form cannot send that without CORS,
 * which the console never grants). Requests whose Host header is not one of
 * console.allowed_hosts get 421 (DNS rebinding), POSTs whose Origin is
 * another site 403. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "console_assets.h"
#include "ww/alloc.h"
#include "ww/daemon.h"
#include "ww/fileutil.h"
#include "ww/log.h"
#include "ww/rules.h"

#define MOD "console"

/* ---- responses ----------------------------------------------------------------- */

/* Headers every response carries: no framing, no sniffing, no third-party
 * anything (the page loads only itself). */
static void secure_headers(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                            "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
}

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned status, struct MHD_Response *resp)
{
    secure_headers(resp);
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

enum MHD_Result console_json(struct MHD_Connection *conn, unsigned status, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!s)
        s = strdup("{}");
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    return queue(conn, status, resp);
}

enum MHD_Result console_error(struct MHD_Connection *conn, unsigned status, const char *msg)
{
    return console_json(conn, status, json_pack("{s:s}", "error", msg));
}

const char *console_arg(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

ww_redis_t *console_redis(console_t *c, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (!ci || !ci->socket_context)
        return NULL;
    ww_redis_t **slot = ci->socket_context;
    if (!*slot) {
        char err[256];
        *slot = ww_redis_new(c->cc.cfg.redis, err, sizeof err);
        if (!*slot)
            return NULL;
    }
    if (!ww_redis_connected(*slot) && ww_redis_connect(*slot) < 0)
        return NULL;
    return *slot;
}

const ww_extractor_t *console_extractor(console_t *c)
{
    pthread_mutex_lock(&c->extract_lock);
    if (!c->extractor_tried) {
        c->extractor_tried = true;
        char err[512];
        c->extractor = ww_extractor_new(c->cc.cfg.extract.gazetteer, c->cc.cfg.extract.model, err, sizeof err);
        if (!c->extractor)
            ww_warn(MOD, "msg=\"no extractor: events without entities show none\" error=\"%s\"", err);
    }
    const ww_extractor_t *x = c->extractor;
    pthread_mutex_unlock(&c->extract_lock);
    return x;
}

char *console_rules_text(console_t *c, ww_redis_t *r, size_t *len, const char **source)
{
    *source = "none";
    *len = 0;
    redisReply *rep = r ? ww_redis_cmd(r, "GET %srules", c->cc.cfg.prefix) : NULL;
    if (rep && rep->type == REDIS_REPLY_STRING) {
        char *t = ww_malloc(rep->len + 1);
        memcpy(t, rep->str, rep->len);
        t[rep->len] = '\0';
        *len = rep->len;
        *source = "redis";
        freeReplyObject(rep);
        return t;
    }
    if (rep)
        freeReplyObject(rep);
    if (c->cc.cfg.alert.rules) {
        char *t = ww_file_read(c->cc.cfg.alert.rules, len);
        if (t) {
            *source = "file";
            return t;
        }
    }
    return NULL;
}

/* ---- the page ------------------------------------------------------------------ */

static enum MHD_Result serve_asset(struct MHD_Connection *conn, const ww_console_asset_t *a)
{
    const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
    struct MHD_Response *resp;
    unsigned status = MHD_HTTP_OK;
    if (inm && strcmp(inm, a->etag) == 0) {
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        status = MHD_HTTP_NOT_MODIFIED;
    } else {
        resp = MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(resp, "Content-Type", a->ctype);
    }
    MHD_add_response_header(resp, "ETag", a->etag);
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    return queue(conn, status, resp);
}

/* ---- alerts: filters, paging --------------------------------------------------- */

/* What the alert list and the live stream are filtered by. */
typedef struct {
    char channel[256]; /* channel prefix, "" for all */
    int min_sev;       /* lowest severity shown (ww_severity_t), 0 = all */
    char q[256];       /* case-insensitive substring of title, rule or channel, "" for all */
} filter_t;

static int severity_rank(const char *s)
{
    for (int i = WW_SEV_INFO; i <= WW_SEV_CRITICAL; i++)
        if (s && strcmp(s, ww_severity_name((ww_severity_t)i)) == 0)
            return i;
    return 0;
}

static void filter_parse(struct MHD_Connection *conn, filter_t *f)
{
    const char *ch = console_arg(conn, "channel"), *sev = console_arg(conn, "severity"), *q = console_arg(conn, "q");
    snprintf(f->channel, sizeof f->channel, "%s", ch ? ch : "");
    snprintf(f->q, sizeof f->q, "%s", q ? q : "");
    f->min_sev = severity_rank(sev);
}

static bool filter_match(const filter_t *f, const ww_alert_t *a)
{
    if (f->channel[0] && (!a->channel || strncmp(a->channel, f->channel, strlen(f->channel)) != 0))
        return false;
    if (f->min_sev && severity_rank(a->severity) < f->min_sev)
        return false;
    if (f->q[0] && !(a->event.title && strcasestr(a->event.title, f->q)) && !(a->rule && strcasestr(a->rule, f->q)) &&
        !(a->channel && strcasestr(a->channel, f->q)))
        return false;
    return true;
}

/* Reads one part of a stream entry id: decimal digits that fit 64 bits.
 * Returns the end, or NULL. */
static const char *sid_part(const char *p)
{
    if (!isdigit((unsigned char)*p))
        return NULL;
    errno = 0;
    char *end;
    strtoull(p, &end, 10); /* digits only (checked above): no sign, no space */
    return errno == ERANGE ? NULL : end;
}

/* "123-4" or "123": a stream entry id as Redis accepts it (each part an
 * unsigned 64-bit number: Redis refuses larger ones with an error). */
static bool valid_sid(const char *s)
{
    if (!s || strlen(s) > 41)
        return false;
    const char *p = sid_part(s);
    if (p && *p == '-')
        p = sid_part(p + 1);
    return p && *p == '\0';
}

/* The JSON object of one alert, with "sid" (its stream entry id). Caller owns. */
static json_t *alert_json(const ww_alert_t *a, const char *sid)
{
    char *s = ww_alert_to_json(a);
    json_t *j = json_loads(s, 0, NULL);
    ww_free(s);
    if (!j)
        j = json_object();
    json_object_set_new(j, "sid", json_string(sid));
    return j;
}

/* The "alert" field of a stream entry's field/value array, NULL when absent. */
static const redisReply *entry_alert(const redisReply *e)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 || e->element[1]->type != REDIS_REPLY_ARRAY)
        return NULL;
    const redisReply *kv = e->element[1];
    for (size_t j = 0; j + 1 < kv->elements; j += 2)
        if (kv->element[j]->type == REDIS_REPLY_STRING && strcmp(kv->element[j]->str, "alert") == 0 &&
            kv->element[j + 1]->type == REDIS_REPLY_STRING)
            return kv->element[j + 1];
    return NULL;
}

/* GET /api/alerts?before=SID&limit=N&channel=&severity=&q=
 * Newest first. Scans at most CONSOLE_SCAN_MAX entries (XREVRANGE in chunks);
 * "next" is the cursor for the following page (null at the end of the
 * history), "head" the newest entry (first page only: where the live stream
 * starts). */
static enum MHD_Result api_alerts(console_t *c, struct MHD_Connection *conn)
{
    ww_redis_t *r = console_redis(c, conn);
    if (!r)
        return console_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "Redis is not reachable");
    filter_t f;
    filter_parse(conn, &f);
    const char *before = console_arg(conn, "before"), *ls = console_arg(conn, "limit");
    if (before && !valid_sid(before))
        return console_error(conn, MHD_HTTP_BAD_REQUEST, "before: not a stream entry id");
    long limit = ls ? strtol(ls, NULL, 10) : CONSOLE_PAGE_DEFAULT;
    if (limit < 1)
        limit = 1;
    if (limit > CONSOLE_PAGE_MAX)
        limit = CONSOLE_PAGE_MAX;
    int64_t t0 = ww_mono_us();
    char end[80];
    snprintf(end, sizeof end, before ? "(%s" : "+", before);
    json_t *list = json_array();
    long found = 0, scanned = 0;
    bool exhausted = false;
    char last[64] = "";
    char head[64] = "";
    while (found < limit && scanned < CONSOLE_SCAN_MAX) {
        long want = found == 0 && !f.channel[0] && !f.min_sev && !f.q[0] ? limit : 500;
        redisReply *rep = ww_redis_cmd(r, "XREVRANGE %salerts %s - COUNT %ld", c->cc.cfg.prefix, end, want);
        if (!rep || rep->type != REDIS_REPLY_ARRAY) {
            if (rep)
                freeReplyObject(rep);
            json_decref(list);
            return console_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "reading the alert history failed");
        }
        size_t i = 0;
        for (; i < rep->elements && found < limit; i++) {
            const redisReply *e = rep->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 || e->element[0]->type != REDIS_REPLY_STRING)
                continue;
            const char *sid = e->element[0]->str;
            if (!head[0] && !before)
                snprintf(head, sizeof head, "%s", sid);
            snprintf(last, sizeof last, "%s", sid);
            scanned++;
            const redisReply *ab = entry_alert(e);
            ww_alert_t *a;
            if (!ab || ww_alert_decode(ab->str, ab->len, &a) < 0)
                continue;
            if (filter_match(&f, a)) {
                json_array_append_new(list, alert_json(a, sid));
                found++;
            }
            ww_alert_destroy(&a);
        }
        /* the end of the history: a short read that was used up */
        bool short_read = (long)rep->elements < want && i == rep->elements;
        freeReplyObject(rep);
        if (short_read) {
            exhausted = true;
            break;
        }
        snprintf(end, sizeof end, "(%s", last);
    }
    if (!head[0] && !before) {
        /* empty history: live starts at the beginning */
        snprintf(head, sizeof head, "0-0");
    }
    long long total = -1;
    redisReply *xl = ww_redis_cmd(r, "XLEN %salerts", c->cc.cfg.prefix);
    if (xl && xl->type == REDIS_REPLY_INTEGER)
        total = xl->integer;
    if (xl)
        freeReplyObject(xl);
    json_t *o = json_pack("{s:o, s:I, s:I, s:f}", "alerts", list, "scanned", (json_int_t)scanned, "total",
                          (json_int_t)total, "ms", (double)(ww_mono_us() - t0) / 1000.0);
    json_object_set_new(o, "next", !exhausted && last[0] ? json_string(last) : json_null());
    if (!before)
        json_object_set_new(o, "head", json_string(head));
    return console_json(conn, MHD_HTTP_OK, o);
}

/* ---- live: Server-Sent Events --------------------------------------------------- */

/* One live stream: its own Redis connection and cursor. */
typedef struct {
    console_t *c;
    ww_redis_t *r;
    filter_t f;
    char last[64];      /* newest stream entry sent or skipped: XREAD continues after it */
    char *buf;          /* bytes waiting to be sent */
    size_t len, off, cap;
    int64_t last_write; /* ww_mono_ms of the last bytes handed to MHD */
    bool started;       /* the retry: preamble was sent */
    int fd;             /* the client's socket (watched for hang-ups), -1 when unknown */
    bool warned;        /* a Redis error was logged (once per stream) */
} sse_t;

static void sse_append(sse_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sse_append(sse_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ww_vappendf(&s->buf, &s->cap, &s->len, fmt, ap);
    va_end(ap);
}

/* Reads up to 100 entries after s->last (waiting up to a second, or the
 * heartbeat interval when shorter, so stop and disconnects are noticed) and
 * formats the wanted ones as SSE events. */
static void sse_poll(sse_t *s)
{
    long block = s->c->cc.cfg.console.heartbeat_ms < 1000 ? (long)s->c->cc.cfg.console.heartbeat_ms : 1000;
    redisReply *rep = ww_redis_cmd(s->r, "XREAD COUNT 100 BLOCK %ld STREAMS %salerts %s", block, s->c->cc.cfg.prefix,
                                   s->last);
    if (!rep || rep->type == REDIS_REPLY_ERROR) {
        /* Redis away, or it refuses (the key is not a stream): wait a little
         * instead of spinning; heartbeats keep the stream open meanwhile */
        if (rep && !s->warned)
            ww_warn(MOD, "msg=\"live stream: XREAD failed\" error=\"%.200s\"", rep->str);
        s->warned = s->warned || rep;
        if (rep)
            freeReplyObject(rep);
        struct timespec ts = {0, 500 * 1000000L};
        nanosleep(&ts, NULL);
        return;
    }
    /* [[key, [[id, [field, value, ...]], ...]]], or nil when the block timed out */
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 && rep->element[0]->type == REDIS_REPLY_ARRAY &&
        rep->element[0]->elements == 2 && rep->element[0]->element[1]->type == REDIS_REPLY_ARRAY) {
        const redisReply *entries = rep->element[0]->element[1];
        for (size_t i = 0; i < entries->elements; i++) {
            const redisReply *e = entries->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 || e->element[0]->type != REDIS_REPLY_STRING)
                continue;
            const char *sid = e->element[0]->str;
            snprintf(s->last, sizeof s->last, "%s", sid);
            const redisReply *ab = entry_alert(e);
            ww_alert_t *a;
            if (!ab || ww_alert_decode(ab->str, ab->len, &a) < 0)
                continue;
            if (filter_match(&s->f, a)) {
                json_t *j = alert_json(a, sid);
                char *d = json_dumps(j, JSON_COMPACT); /* one line: no newline can end the data field */
                json_decref(j);
                sse_append(s, "id: %s\nevent: alert\ndata: %s\n\n", sid, d ? d : "{}");
                free(d);
            }
            ww_alert_destroy(&a);
        }
        if (entries->elements && s->len == 0) /* all filtered out: move the client's cursor anyway */
            sse_append(s, "id: %s\n\n", s->last);
    }
    freeReplyObject(rep);
}

/* True when the client hung up (or reset) the connection: checked between
 * reads, so a stream that left frees its slot and its Redis connection within
 * about a second, not at the next heartbeat write. */
static bool peer_gone(int fd)
{
    if (fd < 0)
        return false;
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

/* MHD content reader: blocks (in this connection's thread) until there is
 * something to send: alerts, or a heartbeat comment when idle. */
static ssize_t sse_read(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    sse_t *s = cls;
    while (s->off == s->len) {
        s->off = s->len = 0;
        if (atomic_load(&s->c->stopping) || ww_stop)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (peer_gone(s->fd))
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (!s->started) {
            s->started = true;
            sse_append(s, "retry: 2000\n: wirewatch live alerts\n\n");
            break;
        }
        sse_poll(s);
        if (s->len == 0 && ww_mono_ms() - s->last_write >= s->c->cc.cfg.console.heartbeat_ms)
            sse_append(s, ": ping\n\n");
    }
    size_t n = s->len - s->off < max ? s->len - s->off : max;
    memcpy(out, s->buf + s->off, n);
    s->off += n;
    s->last_write = ww_mono_ms();
    return (ssize_t)n;
}

static void sse_free(void *cls)
{
    sse_t *s = cls;
    atomic_fetch_sub(&s->c->sse_clients, 1);
    ww_redis_destroy(&s->r);
    ww_free(s->buf);
    ww_free(s);
}

/* GET /api/stream?after=SID&channel=&severity=&q=  (Last-Event-ID wins over after) */
static enum MHD_Result api_stream(console_t *c, struct MHD_Connection *conn)
{
    const char *from = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Last-Event-ID");
    if (!from || !*from)
        from = console_arg(conn, "after");
    if (from && *from && !valid_sid(from))
        return console_error(conn, MHD_HTTP_BAD_REQUEST, "Last-Event-ID/after: not a stream entry id");
    if (atomic_fetch_add(&c->sse_clients, 1) >= c->cc.cfg.console.max_clients) {
        atomic_fetch_sub(&c->sse_clients, 1);
        struct MHD_Response *resp = MHD_create_response_from_buffer(
            strlen("{\"error\":\"too many live clients\"}"), (void *)"{\"error\":\"too many live clients\"}",
            MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(resp, "Content-Type", "application/json");
        MHD_add_response_header(resp, "Retry-After", "5");
        return queue(conn, MHD_HTTP_SERVICE_UNAVAILABLE, resp);
    }
    sse_t *s = ww_calloc(1, sizeof *s);
    s->c = c;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    s->fd = ci ? ci->connect_fd : -1;
    filter_parse(conn, &s->f);
    char err[256];
    s->r = ww_redis_new(c->cc.cfg.redis, err, sizeof err);
    if (!s->r) {
        sse_free(s);
        return console_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "Redis is not configured");
    }
    if (from && *from) {
        snprintf(s->last, sizeof s->last, "%s", from);
    } else {
        /* from now on: the newest entry is the cursor */
        snprintf(s->last, sizeof s->last, "0-0");
        redisReply *rep = ww_redis_cmd(s->r, "XREVRANGE %salerts + - COUNT 1", c->cc.cfg.prefix);
        if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 && rep->element[0]->type == REDIS_REPLY_ARRAY &&
            rep->element[0]->elements >= 1 && rep->element[0]->element[0]->type == REDIS_REPLY_STRING &&
            valid_sid(rep->element[0]->element[0]->str))
            snprintf(s->last, sizeof s->last, "%s", rep->element[0]->element[0]->str);
        if (rep)
            freeReplyObject(rep);
    }
    s->last_write = ww_mono_ms();
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, sse_read, s, sse_free);
    MHD_add_response_header(resp, "Content-Type", "text/event-stream; charset=utf-8");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    return queue(conn, MHD_HTTP_OK, resp);
}

/* ---- one alert: its event, entity spans, the rule's explanation ---------------- */

/* A highlighted span in a field. */
typedef struct {
    uint32_t start, end;
    const char *kind;      /* "entity" or "keyword" */
    const char *type;      /* entity type, NULL for keywords */
    const char *canonical; /* entity canonical name */
} span_t;

static int span_cmp(const void *a, const void *b)
{
    const span_t *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->end > y->end ? -1 : x->end < y->end; /* longer first */
}

/* Splits text into segments: [{"text": ...}, {"text": ..., "entity": TYPE,
 * "canonical": ...}, {"text": ..., "keyword": true}]. Spans that overlap an
 * earlier one, run past the text or cut a UTF-8 sequence are dropped. */
static json_t *segments(const char *text, span_t *sp, size_t n)
{
    json_t *out = json_array();
    if (!text)
        return out;
    size_t len = strlen(text), at = 0;
    qsort(sp, n, sizeof *sp, span_cmp);
    for (size_t i = 0; i < n; i++) {
        size_t s = sp[i].start, e = sp[i].end;
        if (s < at || e <= s || e > len || (text[s] & 0xC0) == 0x80 || (e < len && (text[e] & 0xC0) == 0x80))
            continue;
        if (s > at)
            json_array_append_new(out, json_pack("{s:s%}", "text", text + at, s - at));
        json_t *seg = json_pack("{s:s%}", "text", text + s, e - s);
        if (strcmp(sp[i].kind, "entity") == 0) {
            json_object_set_new(seg, "entity", json_string(sp[i].type ? sp[i].type : "?"));
            json_object_set_new(seg, "canonical", json_string(sp[i].canonical ? sp[i].canonical : ""));
        } else {
            json_object_set_new(seg, "keyword", json_true());
        }
        json_array_append_new(out, seg);
        at = e;
    }
    if (at < len)
        json_array_append_new(out, json_pack("{s:s%}", "text", text + at, len - at));
    return out;
}

/* The segments of one field of ev (entities) plus the alert's keyword evidence. */
static json_t *field_segments(const ww_event_t *ev, const ww_alert_t *a, ww_field_t field, const char *text)
{
    size_t cap = ev->n_entities + a->n_matches + 1, n = 0;
    span_t *sp = ww_calloc(cap, sizeof *sp);
    for (size_t i = 0; i < ev->n_entities; i++) {
        const ww_entity_t *e = &ev->entities[i];
        if (e->field == field)
            sp[n++] = (span_t){e->start, e->end, "entity", ww_ent_type_name(e->type), e->canonical};
    }
    for (size_t i = 0; i < a->n_matches; i++) {
        const ww_match_t *m = &a->matches[i];
        if (m->kind == WW_MATCH_KEYWORD && m->has_pos && m->field == field)
            sp[n++] = (span_t){m->start, m->end, "keyword", NULL, NULL};
    }
    json_t *j = segments(text, sp, n);
    ww_free(sp);
    return j;
}

/* Finds event `id` in the archive near event time t_lo..t_hi, reading at
 * most 100,000 records and for at most 3 s. Returns the event (caller owns)
 * or NULL; *why says why not. */
static ww_event_t *find_event(const char *archive, const char *id, int64_t t_lo, int64_t t_hi, const char **why)
{
    *why = NULL;
    if (!archive) {
        *why = "no archive configured (console.archive or ingest.archive)";
        return NULL;
    }
    char err[512];
    const char *paths[] = {archive};
    ww_archive_reader_t *rd = ww_archive_reader_open(paths, 1, t_lo, t_hi, err, sizeof err);
    if (!rd) {
        *why = "the archive cannot be opened";
        ww_warn(MOD, "msg=\"archive\" error=\"%s\"", err);
        return NULL;
    }
    int64_t deadline = ww_mono_ms() + 3000;
    ww_event_t *ev = NULL, *found = NULL;
    long n = 0;
    while (!found && n < 100000 && ww_archive_reader_next(rd, &ev) == 1) {
        if (ev->id && strcmp(ev->id, id) == 0)
            found = ev;
        else
            ww_event_destroy(&ev);
        if (++n % 256 == 0 && ww_mono_ms() > deadline)
            break;
    }
    ww_archive_reader_close(&rd);
    if (!found)
        *why = "the event is not in the archive near the alert's time";
    return found;
}

/* GET /api/event?sid=SID | ?id=ALERT_ID */
static enum MHD_Result api_event(console_t *c, struct MHD_Connection *conn)
{
    ww_redis_t *r = console_redis(c, conn);
    if (!r)
        return console_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "Redis is not reachable");
    const char *sid = console_arg(conn, "sid"), *aid = console_arg(conn, "id");
    char sidbuf[64] = "";
    if (!sid && aid) {
        if (strlen(aid) != 32 || strspn(aid, "0123456789abcdef") != 32)
            return console_error(conn, MHD_HTTP_BAD_REQUEST, "id: not an alert id");
        redisReply *rep = ww_redis_cmd(r, "GET %salert:{%s}", c->cc.cfg.prefix, aid);
        if (rep && rep->type == REDIS_REPLY_STRING)
            snprintf(sidbuf, sizeof sidbuf, "%s", rep->str);
        if (rep)
            freeReplyObject(rep);
        sid = sidbuf[0] ? sidbuf : NULL;
        if (!sid)
            return console_error(conn, MHD_HTTP_NOT_FOUND, "no such alert");
    }
    if (!valid_sid(sid))
        return console_error(conn, MHD_HTTP_BAD_REQUEST, "sid: not a stream entry id");
    redisReply *rep = ww_redis_cmd(r, "XRANGE %salerts %s %s", c->cc.cfg.prefix, sid, sid);
    const redisReply *ab = rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 ? entry_alert(rep->element[0]) : NULL;
    ww_alert_t *a = NULL;
    if (!ab || ww_alert_decode(ab->str, ab->len, &a) < 0) {
        if (rep)
            freeReplyObject(rep);
        return console_error(conn, MHD_HTTP_NOT_FOUND, "no such alert in the history");
    }
    freeReplyObject(rep);
    json_t *o = json_object();
    json_object_set_new(o, "alert", alert_json(a, sid));
    /* the event: in the archive at its event time (published_at), else near
     * when the alert fired (live fired_at is the wall clock, close to ingestion) */
    int64_t lo, hi;
    const int64_t max_t = INT64_C(1) << 53; /* far past any real time: no overflow below */
    if (a->event.published_at > 0 && a->event.published_at < max_t) {
        lo = a->event.published_at;
        hi = lo + 1;
    } else {
        int64_t f = a->fired_at > 0 && a->fired_at < max_t ? a->fired_at : ww_now_ms();
        lo = f - 15 * 60 * 1000;
        hi = f + 60 * 1000;
    }
    const char *why = NULL;
    ww_event_t *ev = a->event.id ? find_event(c->archive, a->event.id, lo, hi, &why) : NULL;
    if (!a->event.id)
        why = "the alert names no event";
    json_t *ej = json_object();
    if (ev) {
        cli_enricher_t le = {.shared = console_extractor(c)};
        if (le.shared)
            cli_enrich(&le, ev);
        cli_enricher_free(&le);
        json_object_set_new(ej, "found", json_true());
        json_object_set_new(ej, "id", json_string(ev->id));
        json_object_set_new(ej, "url", json_string(ev->url ? ev->url : ""));
        json_object_set_new(ej, "source", json_string(ev->source ? ev->source : ""));
        json_object_set_new(ej, "lang", json_string(ev->lang ? ev->lang : ""));
        json_object_set_new(ej, "published_at", json_integer(ev->published_at));
        json_object_set_new(ej, "ingested_at", json_integer(ev->ingested_at));
        json_object_set_new(ej, "title", field_segments(ev, a, WW_FIELD_TITLE, ev->title));
        json_object_set_new(ej, "body", field_segments(ev, a, WW_FIELD_BODY, ev->body));
        json_t *ents = json_array();
        for (size_t i = 0; i < ev->n_entities; i++) {
            const ww_entity_t *e = &ev->entities[i];
            json_array_append_new(ents, json_pack("{s:s, s:s, s:s, s:s, s:i, s:i}", "type",
                                                  ww_ent_type_name(e->type) ? ww_ent_type_name(e->type) : "?",
                                                  "text", e->text ? e->text : "", "canonical",
                                                  e->canonical ? e->canonical : "", "field", ww_field_name(e->field),
                                                  "start", (int)e->start, "end", (int)e->end));
        }
        json_object_set_new(ej, "entities", ents);
    } else {
        /* what the alert itself carries: the title with its title evidence */
        ww_event_t stub = {0};
        json_object_set_new(ej, "found", json_false());
        json_object_set_new(ej, "why", json_string(why));
        json_object_set_new(ej, "id", json_string(a->event.id ? a->event.id : ""));
        json_object_set_new(ej, "url", json_string(a->event.url ? a->event.url : ""));
        json_object_set_new(ej, "title", field_segments(&stub, a, WW_FIELD_TITLE, a->event.title));
        json_object_set_new(ej, "body", json_array());
        json_object_set_new(ej, "entities", json_array());
    }
    json_object_set_new(o, "event", ej);
    /* why the rule matched: the running rule set's explanation of this rule */
    json_t *xj = json_object();
    size_t tlen;
    const char *source;
    char *text = console_rules_text(c, r, &tlen, &source);
    char err[1024];
    ww_ruleset_t *rs = text ? ww_rules_load_buffer(text, tlen, "rules", err, sizeof err) : NULL;
    ww_free(text);
    size_t ri = 0;
    while (rs && ri < ww_rules_count(rs) && strcmp(ww_rules_get(rs, ri)->id, a->rule) != 0)
        ri++;
    if (!rs) {
        json_object_set_new(xj, "note", json_string("the running rule set cannot be read"));
    } else if (ri == ww_rules_count(rs)) {
        json_object_set_new(xj, "note", json_string("the rule is no longer in the running rule set"));
    } else {
        const ww_rule_t *rule = ww_rules_get(rs, ri);
        json_object_set_new(xj, "rule", json_string(rule->id));
        json_object_set_new(xj, "match", json_string(rule->match));
        json_object_set_new(xj, "rules_version", json_string(ww_rules_version(rs)));
        if (ev) {
            ww_rules_scratch_t *s = ww_rules_scratch_new();
            bool m = false;
            char *ex = ww_rules_explain(rs, ri, ev, s, &m);
            json_object_set_new(xj, "matched", json_boolean(m));
            json_object_set_new(xj, "text", json_string(ex));
            ww_free(ex);
            ww_rules_scratch_destroy(&s);
        } else {
            json_object_set_new(xj, "note", json_string("without the event only the alert's evidence is known"));
        }
        if (rule->threshold.on || rule->spike.on || rule->cooldown_ms)
            json_object_set_new(xj, "state", json_string(rule->threshold.on ? "threshold window"
                                                         : rule->spike.on ? "spike baseline" : "cooldown"));
    }
    ww_rules_destroy(&rs);
    json_object_set_new(o, "explain", xj);
    ww_event_destroy(&ev);
    ww_alert_destroy(&a);
    return console_json(conn, MHD_HTTP_OK, o);
}

/* GET /api/info */
static enum MHD_Result api_info(console_t *c, struct MHD_Connection *conn)
{
    ww_redis_t *r = console_redis(c, conn);
    char version[64] = "";
    if (r) {
        redisReply *rep = ww_redis_cmd(r, "GET %srules:version", c->cc.cfg.prefix);
        if (rep && rep->type == REDIS_REPLY_STRING)
            snprintf(version, sizeof version, "%s", rep->str);
        if (rep)
            freeReplyObject(rep);
    }
    return console_json(conn, MHD_HTTP_OK,
                        json_pack("{s:s, s:s, s:b, s:b, s:b, s:I}", "version", WW_VERSION, "rules_version", version,
                                  "redis", r != NULL, "read_only", c->cc.cfg.console.token == NULL, "archive",
                                  c->archive != NULL, "heartbeat_ms", (json_int_t)c->cc.cfg.console.heartbeat_ms));
}

/* ---- Host and Origin: DNS rebinding ------------------------------------------------ */

/* Splits an authority ("name", "name:port", "[v6]" or "[v6]:port") into the
 * name (brackets kept) and the port ("" when none). Returns 0, or -1 when it
 * is malformed or too long. */
static int split_authority(const char *a, char *name, size_t nlen, char *port, size_t plen)
{
    const char *colon;
    if (a[0] == '[') {
        const char *rb = strchr(a, ']');
        if (!rb || (rb[1] && rb[1] != ':'))
            return -1;
        colon = rb[1] ? rb + 1 : NULL;
    } else {
        colon = strchr(a, ':');
        if (colon && strchr(colon + 1, ':'))
            return -1;
    }
    size_t n = colon ? (size_t)(colon - a) : strlen(a);
    const char *p = colon ? colon + 1 : "";
    size_t pl = strlen(p);
    if (n == 0 || n >= nlen || pl >= plen || (colon && pl == 0) || strspn(p, "0123456789") != pl)
        return -1;
    memcpy(name, a, n);
    name[n] = '\0';
    memcpy(port, p, pl + 1);
    return 0;
}

/* Whether authority (a Host header, or an Origin without its scheme) is one
 * of c->hosts: same name (case-insensitive) and the entry's port, or any port
 * when the entry names none. "*" matches anything when any_ok. */
static bool host_allowed(const console_t *c, const char *authority, bool any_ok)
{
    char hn[256], hp[8];
    if (!authority || split_authority(authority, hn, sizeof hn, hp, sizeof hp) < 0)
        return false;
    for (size_t i = 0; i < c->n_hosts; i++) {
        char en[256], ep[8];
        if (strcmp(c->hosts[i], "*") == 0) {
            if (any_ok)
                return true;
            continue;
        }
        if (split_authority(c->hosts[i], en, sizeof en, ep, sizeof ep) < 0 || strcasecmp(en, hn) != 0)
            continue;
        if (!ep[0] || strcmp(ep, hp) == 0 || (!hp[0] && strcmp(ep, "80") == 0))
            return true;
    }
    return false;
}

/* The request's Host check (every request) and, for POSTs, its Origin check.
 * Returns true when it may go on; else a refusal was queued into *ret. A page
 * on another site that resolves its own name to this console (DNS
 * rebinding) sends its own name as Host; a browser posting from another
 * page sends that page's origin. */
static bool request_allowed(const console_t *c, struct MHD_Connection *conn, const char *method, enum MHD_Result *ret)
{
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (!host || !host_allowed(c, host, true)) {
        char msg[400];
        snprintf(msg, sizeof msg,
                 "this console is not served under the host name '%.200s'; add it to console.allowed_hosts to allow it",
                 host ? host : "(no Host header)");
        ww_warn(MOD, "msg=\"request refused: host not allowed\" host=\"%.200s\"", host ? host : "");
        *ret = console_error(conn, MHD_HTTP_MISDIRECTED_REQUEST, msg);
        return false;
    }
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        return true;
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    if (!origin)
        return true; /* not from a browser (browsers send Origin with every POST) */
    const char *auth = strncasecmp(origin, "http://", 7) == 0    ? origin + 7
                       : strncasecmp(origin, "https://", 8) == 0 ? origin + 8
                                                                 : NULL;
    if (auth && (strcasecmp(auth, host) == 0 || host_allowed(c, auth, false)))
        return true;
    ww_warn(MOD, "msg=\"request refused: cross-origin\" origin=\"%.200s\" host=\"%.200s\"", origin, host);
    *ret = console_error(conn, MHD_HTTP_FORBIDDEN, "cross-origin requests are not allowed (Origin does not match Host)");
    return false;
}

/* Fills c->hosts: console.allowed_hosts, else the listen host, localhost,
 * 127.0.0.1 and [::1], each with the listen port. */
static void hosts_init(console_t *c, const char *listen)
{
    const ww_config_t *cfg = &c->cc.cfg;
    if (cfg->console.n_allowed_hosts) {
        c->hosts = ww_calloc(cfg->console.n_allowed_hosts, sizeof *c->hosts);
        for (size_t i = 0; i < cfg->console.n_allowed_hosts; i++)
            c->hosts[c->n_hosts++] = ww_strdup(cfg->console.allowed_hosts[i]);
        return;
    }
    const char *colon = strrchr(listen, ':'); /* checked by console_parse_listen */
    const char *port = colon + 1;
    c->hosts = ww_calloc(4, sizeof *c->hosts);
    c->hosts[c->n_hosts++] = ww_asprintf("%s", listen);
    const char *local[] = {"localhost", "127.0.0.1", "[::1]"};
    for (size_t i = 0; i < 3; i++)
        if (strncasecmp(listen, local[i], (size_t)(colon - listen)) != 0 || strlen(local[i]) != (size_t)(colon - listen))
            c->hosts[c->n_hosts++] = ww_asprintf("%s:%s", local[i], port);
}

static void hosts_free(console_t *c)
{
    for (size_t i = 0; i < c->n_hosts; i++)
        ww_free(c->hosts[i]);
    ww_free(c->hosts);
    c->hosts = NULL;
    c->n_hosts = 0;
}

/* ---- dispatch -------------------------------------------------------------------- */

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    console_t *c = cls;
    console_req_t *rq = *con_cls;
    if (!rq) {
        /* headers only: refuse foreign hosts and origins before reading a body */
        enum MHD_Result ret;
        if (!request_allowed(c, conn, method, &ret))
            return ret;
        *con_cls = rq = ww_calloc(1, sizeof *rq);
        return MHD_YES;
    }
    if (*upload_size) {
        if (rq->len + *upload_size > CONSOLE_MAX_BODY) {
            rq->too_big = true;
        } else {
            rq->body = ww_realloc(rq->body, rq->len + *upload_size + 1);
            memcpy(rq->body + rq->len, upload, *upload_size);
            rq->len += *upload_size;
            rq->body[rq->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0, post = strcmp(method, "POST") == 0;
    if (get) {
        for (size_t i = 0; i < ww_console_n_assets; i++)
            if (strcmp(url, ww_console_assets[i].path) == 0)
                return serve_asset(conn, &ww_console_assets[i]);
        if (strcmp(url, "/favicon.ico") == 0) /* none: say so without a 404 in the browser's console */
            return queue(conn, MHD_HTTP_NO_CONTENT, MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT));
        if (strcmp(url, "/api/info") == 0)
            return api_info(c, conn);
        if (strcmp(url, "/api/alerts") == 0)
            return api_alerts(c, conn);
        if (strcmp(url, "/api/stream") == 0)
            return api_stream(c, conn);
        if (strcmp(url, "/api/event") == 0)
            return api_event(c, conn);
        if (strcmp(url, "/api/trends") == 0)
            return console_api_trends(c, conn);
        if (strcmp(url, "/api/rules") == 0)
            return console_api_rules(c, conn);
    } else if (post && (strcmp(url, "/api/rules") == 0 || strcmp(url, "/api/backtest") == 0)) {
        if (rq->too_big)
            return console_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large (1 MiB at most)");
        const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
        if (!ct || strncasecmp(ct, "application/json", 16) != 0)
            return console_error(conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "the body must be application/json");
        return strcmp(url, "/api/rules") == 0 ? console_api_rules_store(c, conn, rq) : console_api_backtest(c, conn, rq);
    } else if (strncmp(url, "/api/", 5) == 0 || strcmp(url, "/") == 0) {
        return console_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    }
    return console_error(conn, MHD_HTTP_NOT_FOUND, "not found");
}

static void request_done(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    console_req_t *rq = *con_cls;
    if (rq) {
        ww_free(rq->body);
        ww_free(rq);
        *con_cls = NULL;
    }
}

/* Opens/closes each connection's Redis slot (the connection itself is made on first use). */
static void connection_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                              enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    (void)conn;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = ww_calloc(1, sizeof(ww_redis_t *));
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        ww_redis_t **slot = *socket_context;
        ww_redis_destroy(slot);
        ww_free(slot);
        *socket_context = NULL;
    }
}

int console_parse_listen(const char *hostport, struct sockaddr_storage *ss)
{
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport)
        return -1;
    char host[256];
    snprintf(host, sizeof host, "%.*s", (int)(colon - hostport), hostport);
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port <= 0 || port > 65535)
        return -1;
    memset(ss, 0, sizeof *ss);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        host[strlen(host) - 1] = '\0';
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        return inet_pton(AF_INET6, host + 1, &s6->sin6_addr) == 1 ? 0 : -1;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    return inet_pton(AF_INET, host, &s4->sin_addr) == 1 ? 0 : -1;
}

/* libmicrohttpd's messages, in our log format. A live stream whose client
 * left ends with "application error generating response": routine, debug. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\r\n")] = '\0';
    for (char *p = msg; *p; p++)
        if (*p == '"')
            *p = '\'';
    if (strstr(msg, "application error generating response"))
        ww_debug(MOD, "msg=\"http: %s\"", msg);
    else
        ww_warn(MOD, "msg=\"http: %s\"", msg);
}

static void console_usage(FILE *f)
{
    fprintf(f, "Usage: wirewatch console [--listen HOST:PORT] [--archive DIR] [-c FILE] [--redis URL]\n"
               "Serves the live web console: alerts as they fire, entity trends, rules and backtests.\n"
               "  --listen HOST:PORT  where to serve (default console.listen, 127.0.0.1:7480)\n"
               "  --archive DIR       archive for event views and backtests (default console.archive,\n"
               "                      else ingest.archive)\n"
               "  --log-level LEVEL   error|warn|info|debug\n"
               "Read-only unless console.token is set; then POST /api/rules needs 'Authorization: Bearer TOKEN'.\n");
}

int cmd_console(int argc, char **argv)
{
    static const struct option opts[] = {{"listen", required_argument, NULL, 'L'},
                                         {"archive", required_argument, NULL, 'a'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"redis", required_argument, NULL, 'r'},
                                         {"log-level", required_argument, NULL, 'l'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    console_t c;
    memset(&c, 0, sizeof c);
    const char *listen = NULL, *archive = NULL, *level = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'L': listen = optarg; break;
        case 'a': archive = optarg; break;
        case 'c': c.cc.config_path = optarg; break;
        case 'r': c.cc.redis_url = optarg; break;
        case 'l': level = optarg; break;
        case 'h': console_usage(stdout); return 0;
        default: console_usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        console_usage(stderr);
        return 2;
    }
    if (level && ww_log_parse_level(level, &ww_log_level) < 0) {
        fprintf(stderr, "wirewatch console: bad log level '%s'\n", level);
        return 2;
    }
    if (cli_load_config(&c.cc) != 0)
        return 2;
    int rc = 2;
    if (!listen)
        listen = c.cc.cfg.console.listen;
    struct sockaddr_storage ss;
    if (console_parse_listen(listen, &ss) < 0) {
        fprintf(stderr, "wirewatch console: --listen wants HOST:PORT (an IP address), not '%s'\n", listen);
        goto out;
    }
    if (!c.cc.cfg.redis) {
        fprintf(stderr, "wirewatch console: no Redis configured (--redis URL, WIREWATCH_REDIS_URL or 'redis:')\n");
        goto out;
    }
    c.archive = archive ? archive : c.cc.cfg.console.archive ? c.cc.cfg.console.archive : c.cc.cfg.ingest.archive;
    hosts_init(&c, listen);
    pthread_mutex_init(&c.extract_lock, NULL);
    console_tally_init(&c.tally);
    ww_signals_install();
    signal(SIGPIPE, SIG_IGN);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    c.mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, &c, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                             MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                             MHD_OPTION_CONNECTION_LIMIT, (unsigned)(c.cc.cfg.console.max_clients + 64),
                             MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_NOTIFY_COMPLETED, request_done,
                             &c, MHD_OPTION_NOTIFY_CONNECTION, connection_notify, &c, MHD_OPTION_END);
    if (!c.mhd) {
        fprintf(stderr, "wirewatch console: cannot listen on %s\n", listen);
        rc = 1;
    } else {
        fprintf(stderr, "wirewatch console: serving http://%s/ (%s)\n", listen,
                c.cc.cfg.console.token ? "rules can be changed with the token" : "read-only");
        while (!ww_stop) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
        atomic_store(&c.stopping, true);
        MHD_stop_daemon(c.mhd);
        rc = 0;
    }
    console_tally_free(&c.tally);
    ww_extractor_destroy(&c.extractor);
    pthread_mutex_destroy(&c.extract_lock);
    hosts_free(&c);
out:
    ww_config_free(&c.cc.cfg);
    return rc;
}
