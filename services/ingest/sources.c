/* sources.c - feeds, OPML and watched directories for wirewatch-ingest
 * (see sources.h).
 *
 * One thread owns everything here: a curl multi handle (every feed on its own
 * schedule, at most ingest.feed_concurrency requests in flight), an inotify
 * descriptor for the watched directories, its own Redis connection and its
 * own PUSH socket bound on inproc:// to which ingest's intake connects.
 *
 * Exactly-once per item across restarts: a fetched feed's items are checked
 * against the feed's seen set, the new ones are sent, then marked seen, and
 * only then are the validators (ETag, Last-Modified) stored. A crash between
 * sending and marking resends, and ingest's dedup (same id) drops the copy; a
 * crash before the validators are stored only costs a full 200 response. */
#include "sources.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ww/alloc.h"
#include "ww/daemon.h"
#include "ww/datetime.h"
#include "ww/event.h"
#include "ww/feed.h"
#include "ww/log.h"
#include "ww/redis.h"
#include "ww/text.h"
#include "ww/zmqutil.h"

#define MOD "sources"
#define WW_SEEN_KEEP 5000            /* item ids remembered per feed */
#define WW_BACKOFF_MAX_MS (6 * 3600 * 1000LL)
#define WW_LOGSLOT_FEED 40           /* ww_log_ratelimit slots used here: 40..43 */

/* One polled feed. */
typedef struct {
    char *url;             /* as configured */
    int64_t interval_ms;   /* poll interval */
    char *key;             /* <p>feed:{<h>} */
    char *etag, *last_modified; /* validators of the last 200 response */
    int errors;            /* consecutive failures (drives the backoff) */
    int64_t next_mono;     /* when the next poll is due (ww_mono_ms) */
    bool loaded;           /* state read from Redis */
    /* the request in flight */
    CURL *easy;            /* NULL when idle */
    struct curl_slist *hdrs;
    char *body;            /* response body */
    size_t len, cap;
    bool too_big;          /* the body passed ingest.feed_max_bytes */
    size_t max;            /* ingest.feed_max_bytes */
    char *new_etag, *new_lm, *charset;
    int64_t retry_after_ms; /* from Retry-After, 0 when absent */
} ww_feedsrc_t;

/* A watched directory. */
typedef struct {
    char *path;
    int wd; /* inotify watch descriptor, -1 when none */
} ww_watch_t;

struct ww_sources {
    const ww_config_t *cfg; /* borrowed, only inside ww_sources_start (SIGHUP frees the strings) */
    struct {
        char *prefix, *user_agent;  /* copies */
        int64_t feed_timeout_ms, feed_max_bytes, feed_concurrency, feed_interval_ms, max_message_bytes;
    } opt; /* what the thread needs of the configuration, copied at start */
    pthread_t thread;
    volatile sig_atomic_t stop;
    void *push;             /* owned by the thread once started */
    char endpoint[64];
    CURLM *multi;
    ww_redis_t *redis;
    ww_feedsrc_t *feeds;
    size_t n_feeds;
    int active;             /* requests in flight */
    ww_watch_t *watch;
    size_t n_watch;
    int ino;                /* inotify fd or -1 */
    msgpack_sbuffer sbuf;
    uint64_t st_polls, st_304, st_errors, st_items, st_parse_errors, st_files_done, st_files_failed;
};

/* ---- helpers ------------------------------------------------------------------------- */

static char *feed_key(const char *prefix, const char *url)
{
    return ww_asprintf("%sfeed:{%016" PRIx64 "}", prefix, ww_hash_bytes(url, strlen(url)));
}

/* Hands one event to the intake. Blocks while the intake is full (ZMQ high
 * water mark), waking up to check stop. Returns 0 or -1 (stopping). */
static int send_event(ww_sources_t *s, const ww_event_t *ev)
{
    msgpack_sbuffer_clear(&s->sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &s->sbuf, msgpack_sbuffer_write);
    ww_event_pack(&pk, ev, false);
    for (;;) {
        if (zmq_send(s->push, s->sbuf.data, s->sbuf.size, 0) >= 0)
            return 0;
        if ((zmq_errno() == EAGAIN || zmq_errno() == EINTR) && !s->stop)
            continue;
        return -1;
    }
}

/* Runs the pipelined commands already appended; discards the replies.
 * Returns 0 or -1 (connection broke). */
static int drain_replies(ww_sources_t *s)
{
    int rc = 0;
    while (ww_redis_pending(s->redis)) {
        redisReply *r;
        if (ww_redis_get_reply(s->redis, &r) < 0) {
            rc = -1;
            break;
        }
        freeReplyObject(r);
    }
    return rc;
}

static void flush_stats(ww_sources_t *s)
{
    if (!ww_redis_connected(s->redis) && ww_redis_connect(s->redis) < 0)
        return;
    const char *p = s->opt.prefix;
    struct {
        const char *name;
        uint64_t *v;
    } st[] = {{"feed_polls", &s->st_polls},         {"feed_not_modified", &s->st_304},
              {"feed_errors", &s->st_errors},       {"feed_items", &s->st_items},
              {"feed_parse_errors", &s->st_parse_errors}, {"files_done", &s->st_files_done},
              {"files_failed", &s->st_files_failed}};
    for (size_t i = 0; i < sizeof st / sizeof st[0]; i++)
        if (*st[i].v && ww_redis_append(s->redis, "HINCRBY %sstats:ingest %s %llu", p, st[i].name,
                                        (unsigned long long)*st[i].v) == 0)
            *st[i].v = 0;
    drain_replies(s);
}

/* ---- feed state in Redis ------------------------------------------------------------- */

/* Reads validators, error count and schedule. Returns 0 or -1 (Redis down). */
static int load_state(ww_sources_t *s, ww_feedsrc_t *f)
{
    redisReply *r = ww_redis_cmd(s->redis, "HGETALL %s", f->key);
    if (!r)
        return -1;
    int64_t now = ww_now_ms(), mono = ww_mono_ms();
    f->next_mono = mono;
    if (r->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
            const char *k = r->element[i]->str, *v = r->element[i + 1]->str;
            if (!k || !v)
                continue;
            if (!strcmp(k, "etag") && *v)
                f->etag = ww_strdup(v);
            else if (!strcmp(k, "last_modified") && *v)
                f->last_modified = ww_strdup(v);
            else if (!strcmp(k, "errors"))
                f->errors = atoi(v);
            else if (!strcmp(k, "next_at")) {
                int64_t at = strtoll(v, NULL, 10);
                if (at > now)
                    f->next_mono = mono + (at - now < WW_BACKOFF_MAX_MS ? at - now : WW_BACKOFF_MAX_MS);
            }
        }
    }
    freeReplyObject(r);
    f->loaded = true;
    return 0;
}

static void save_state(ww_sources_t *s, ww_feedsrc_t *f, const char *status)
{
    int64_t next_at = ww_now_ms() + (f->next_mono - ww_mono_ms());
    const char *argv[] = {"HSET",   f->key,  "url",       f->url,
                          "etag",   f->etag ? f->etag : "", "last_modified", f->last_modified ? f->last_modified : "",
                          "errors", NULL,    "next_at",   NULL,
                          "status", status,  "polled_at", NULL};
    char errs[24], next[24], polled[24];
    snprintf(errs, sizeof errs, "%d", f->errors);
    snprintf(next, sizeof next, "%lld", (long long)next_at);
    snprintf(polled, sizeof polled, "%lld", (long long)ww_now_ms());
    argv[9] = errs;
    argv[11] = next;
    argv[15] = polled;
    redisReply *r = ww_redis_cmdargv(s->redis, 16, argv, NULL);
    if (r)
        freeReplyObject(r);
}

/* ---- scheduling ------------------------------------------------------------------------ */

/* Schedules f after a failure: exponential backoff from the interval with
 * +-20 % jitter, at least Retry-After, at most 6 h (or the interval if longer). */
static void schedule_error(ww_feedsrc_t *f, int64_t retry_after_ms)
{
    f->errors++;
    int shift = f->errors < 12 ? f->errors : 12;
    int64_t base = f->interval_ms < 1000 ? f->interval_ms : 1000; /* first retry soon, then grow */
    int64_t delay = base << shift;
    int64_t cap = f->interval_ms > WW_BACKOFF_MAX_MS ? f->interval_ms : WW_BACKOFF_MAX_MS;
    if (delay > cap || delay <= 0)
        delay = cap;
    if (delay < f->interval_ms && f->errors > 3)
        delay = f->interval_ms;
    delay = delay * (80 + rand() % 41) / 100;
    if (retry_after_ms > delay)
        delay = retry_after_ms < 24 * 3600 * 1000LL ? retry_after_ms : 24 * 3600 * 1000LL;
    f->next_mono = ww_mono_ms() + delay;
}

static void schedule_ok(ww_feedsrc_t *f)
{
    f->errors = 0;
    /* a little jitter keeps many feeds with one interval from polling in lockstep */
    int64_t j = f->interval_ms / 20;
    f->next_mono = ww_mono_ms() + f->interval_ms + (j > 0 ? rand() % (j + 1) : 0);
}

/* ---- HTTP -------------------------------------------------------------------------------- */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    ww_feedsrc_t *f = ud;
    size_t n = size * nmemb;
    if (f->len + n > f->max) { /* the size cap: abort the transfer (CURLE_WRITE_ERROR) */
        f->too_big = true;
        return 0;
    }
    if (f->len + n > f->cap) {
        size_t cap = f->cap ? f->cap : 65536;
        while (cap < f->len + n + 1)
            cap *= 2;
        f->body = ww_realloc(f->body, cap);
        f->cap = cap;
    }
    memcpy(f->body + f->len, ptr, n);
    f->len += n;
    return n;
}

/* Copies a header value (trimmed) into a new string. */
static char *header_value(const char *v, size_t n)
{
    while (n && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
        n--;
    return ww_strndup(v, n);
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
    ww_feedsrc_t *f = ud;
    size_t n = size * nitems;
    if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) { /* a new response (after a redirect) */
        ww_free(f->new_etag);
        ww_free(f->new_lm);
        ww_free(f->charset);
        f->new_etag = f->new_lm = f->charset = NULL;
        f->retry_after_ms = 0;
        return n;
    }
    const char *colon = memchr(buf, ':', n);
    if (!colon)
        return n;
    size_t kl = (size_t)(colon - buf);
    const char *v = colon + 1;
    size_t vl = n - kl - 1;
    if (kl == 4 && strncasecmp(buf, "etag", 4) == 0) {
        ww_free(f->new_etag);
        f->new_etag = header_value(v, vl);
    } else if (kl == 13 && strncasecmp(buf, "last-modified", 13) == 0) {
        ww_free(f->new_lm);
        f->new_lm = header_value(v, vl);
    } else if (kl == 11 && strncasecmp(buf, "retry-after", 11) == 0) {
        char *val = header_value(v, vl);
        char *end;
        long long secs = strtoll(val, &end, 10);
        int64_t at;
        if (end != val && *end == '\0' && secs >= 0)
            f->retry_after_ms = secs * 1000;
        else if (ww_datetime_parse(val, &at) == 0 && at > ww_now_ms())
            f->retry_after_ms = at - ww_now_ms();
        ww_free(val);
    } else if (kl == 12 && strncasecmp(buf, "content-type", 12) == 0) {
        char *val = header_value(v, vl);
        char *cs = strcasestr(val, "charset=");
        if (cs) {
            cs += 8;
            if (*cs == '"')
                cs++;
            size_t l = strcspn(cs, "\"; ");
            ww_free(f->charset);
            f->charset = ww_strndup(cs, l);
        }
        ww_free(val);
    }
    return n;
}

static void fetch_reset(ww_feedsrc_t *f)
{
    f->len = 0;
    f->too_big = false;
    ww_free(f->new_etag);
    ww_free(f->new_lm);
    ww_free(f->charset);
    f->new_etag = f->new_lm = f->charset = NULL;
    f->retry_after_ms = 0;
}

static int start_fetch(ww_sources_t *s, ww_feedsrc_t *f)
{
    fetch_reset(f);
    f->max = (size_t)s->opt.feed_max_bytes;
    CURL *e = curl_easy_init();
    if (!e)
        return -1;
    curl_easy_setopt(e, CURLOPT_URL, f->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, f);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* gzip, deflate, br: what libcurl has */
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https,file");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)s->opt.feed_timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(s->opt.feed_timeout_ms < 10000 ? s->opt.feed_timeout_ms : 10000));
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->opt.feed_max_bytes);
    curl_easy_setopt(e, CURLOPT_USERAGENT, s->opt.user_agent);
    curl_easy_setopt(e, CURLOPT_FILETIME, 0L);
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/rss+xml, application/atom+xml, "
                                                   "application/rdf+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5");
    if (f->etag) {
        char *l = ww_asprintf("If-None-Match: %s", f->etag);
        h = curl_slist_append(h, l);
        ww_free(l);
    }
    if (f->last_modified) {
        char *l = ww_asprintf("If-Modified-Since: %s", f->last_modified);
        h = curl_slist_append(h, l);
        ww_free(l);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    f->hdrs = h;
    f->easy = e;
    if (curl_multi_add_handle(s->multi, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        curl_slist_free_all(h);
        f->easy = NULL;
        f->hdrs = NULL;
        return -1;
    }
    s->active++;
    s->st_polls++;
    return 0;
}

/* Sends the feed's new items (oldest first), marks them seen. Returns the
 * number sent, or -1 when Redis failed (nothing marked; retry later). */
static long deliver_items(ww_sources_t *s, ww_feedsrc_t *f, ww_feed_t *feed)
{
    size_t n = feed->n_items;
    if (!n)
        return 0;
    char (*hex)[17] = ww_calloc(n, sizeof *hex);
    bool *fresh = ww_calloc(n, sizeof *fresh);
    long sent = -1;
    char *seen_key = ww_asprintf("%s:seen", f->key);
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        const char *id = feed->items[i].id;
        snprintf(hex[i], sizeof hex[i], "%016" PRIx64, ww_hash_bytes(id, strlen(id)));
        ok = ww_redis_append(s->redis, "ZSCORE %s %s", seen_key, hex[i]) == 0;
    }
    for (size_t i = 0; i < n && ok; i++) {
        redisReply *r;
        if (ww_redis_get_reply(s->redis, &r) < 0) {
            ok = false;
            break;
        }
        fresh[i] = r->type == REDIS_REPLY_NIL;
        freeReplyObject(r);
    }
    if (!ok) {
        ww_redis_close(s->redis);
        goto cleanup;
    }
    sent = 0;
    int64_t now = ww_now_ms();
    for (size_t k = n; k-- > 0;) {
        if (!fresh[k])
            continue;
        for (size_t j = k + 1; j < n; j++) /* the same id twice in one document: once */
            if (fresh[j] && strcmp(hex[j], hex[k]) == 0)
                fresh[k] = false;
        if (!fresh[k])
            continue;
        ww_event_t *ev = ww_feed_item_to_event(feed, &feed->items[k], f->url);
        if (ev) {
            /* ingest drains the intake once after SIGTERM: an item sent after that
             * may never be read, so it is not marked seen (a resend is harmless) */
            if (ww_stop || send_event(s, ev) < 0 || ww_stop) {
                ww_event_destroy(&ev);
                fresh[k] = false; /* not (surely) sent: not seen */
                break;
            }
            sent++;
            ww_event_destroy(&ev);
        }
        ww_redis_append(s->redis, "ZADD %s NX %lld %s", seen_key, (long long)(now + (int64_t)(n - k)), hex[k]);
    }
    ww_redis_append(s->redis, "ZREMRANGEBYRANK %s 0 %d", seen_key, -(WW_SEEN_KEEP + 1));
    if (drain_replies(s) < 0) {
        ww_redis_close(s->redis);
        sent = -1; /* the items went out; ingest's dedup absorbs the resend */
    }
cleanup:
    ww_free(seen_key);
    ww_free(hex);
    ww_free(fresh);
    return sent;
}

static void feed_failed(ww_sources_t *s, ww_feedsrc_t *f, const char *why, const char *status)
{
    s->st_errors++;
    if (f->errors == 0)
        ww_warn(MOD, "msg=\"feed failed, backing off\" url=\"%s\" error=\"%s\"", f->url, why);
    else
        ww_debug(MOD, "msg=\"feed failed again\" url=\"%s\" error=\"%s\" errors=%d", f->url, why, f->errors + 1);
    schedule_error(f, f->retry_after_ms);
    save_state(s, f, status);
}

static void finish_fetch(ww_sources_t *s, ww_feedsrc_t *f, CURLcode res)
{
    long code = 0;
    curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &code);
    char status[64];
    snprintf(status, sizeof status, "%ld", code);
    curl_multi_remove_handle(s->multi, f->easy);
    curl_easy_cleanup(f->easy);
    curl_slist_free_all(f->hdrs);
    f->easy = NULL;
    f->hdrs = NULL;
    s->active--;
    bool is_file = strncasecmp(f->url, "file:", 5) == 0;
    if (res != CURLE_OK) {
        const char *why = res == CURLE_FILESIZE_EXCEEDED || res == CURLE_WRITE_ERROR
                              ? "larger than ingest.feed_max_bytes"
                              : curl_easy_strerror(res);
        snprintf(status, sizeof status, "curl:%d", (int)res);
        feed_failed(s, f, why, status);
        goto out;
    }
    if (f->len > (size_t)s->opt.feed_max_bytes) {
        feed_failed(s, f, "larger than ingest.feed_max_bytes", "too_big");
        goto out;
    }
    if (code == 304) {
        s->st_304++;
        if (f->errors)
            ww_info(MOD, "msg=\"feed recovered\" url=\"%s\"", f->url);
        schedule_ok(f);
        save_state(s, f, status);
        goto out;
    }
    if (!is_file && (code < 200 || code >= 300)) {
        char why[64];
        snprintf(why, sizeof why, "HTTP %ld", code);
        feed_failed(s, f, why, status);
        goto out;
    }
    ww_feed_t *feed = NULL;
    char err[200];
    if (ww_feed_parse(f->body ? f->body : "", f->len, f->url, f->charset, &feed, err, sizeof err) < 0) {
        s->st_parse_errors++;
        feed_failed(s, f, err, "parse_error");
        goto out;
    }
    if (feed->recovered && ww_log_ratelimit(WW_LOGSLOT_FEED, 60))
        ww_warn(MOD, "msg=\"feed not well-formed, recovered what could be\" url=\"%s\" repairs=%u "
                     "note=\"logged once a minute\"", f->url, feed->n_repairs);
    long sent = deliver_items(s, f, feed);
    ww_feed_destroy(&feed);
    if (sent < 0) { /* Redis: do not store the validators, come back soon */
        f->next_mono = ww_mono_ms() + 1000;
        goto out;
    }
    s->st_items += (uint64_t)sent;
    if (f->errors)
        ww_info(MOD, "msg=\"feed recovered\" url=\"%s\"", f->url);
    ww_debug(MOD, "msg=\"feed polled\" url=\"%s\" new_items=%ld", f->url, sent);
    ww_free(f->etag);
    ww_free(f->last_modified);
    f->etag = f->new_etag;
    f->last_modified = f->new_lm;
    f->new_etag = f->new_lm = NULL;
    schedule_ok(f);
    save_state(s, f, status);
out:
    if (f->cap > 1024 * 1024) { /* do not keep a large buffer per idle feed */
        ww_free(f->body);
        f->body = NULL;
        f->cap = 0;
    }
    f->len = 0;
}

/* ---- OPML ---------------------------------------------------------------------------------- */

static void add_feed(ww_sources_t *s, const char *url, int64_t interval)
{
    for (size_t i = 0; i < s->n_feeds; i++)
        if (strcmp(s->feeds[i].url, url) == 0)
            return;
    s->feeds = ww_realloc(s->feeds, (s->n_feeds + 1) * sizeof *s->feeds);
    ww_feedsrc_t *f = &s->feeds[s->n_feeds++];
    memset(f, 0, sizeof *f);
    f->url = ww_strdup(url);
    f->interval_ms = interval;
    f->key = feed_key(s->opt.prefix, url);
}

static void opml_walk(ww_sources_t *s, xmlNode *n, int depth)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (strcasecmp((const char *)n->name, "outline") == 0) {
            xmlChar *u = xmlGetProp(n, (const xmlChar *)"xmlUrl");
            if (!u)
                u = xmlGetProp(n, (const xmlChar *)"xmlurl");
            if (u && (strncasecmp((const char *)u, "http://", 7) == 0 ||
                      strncasecmp((const char *)u, "https://", 8) == 0 ||
                      strncasecmp((const char *)u, "file://", 7) == 0))
                add_feed(s, (const char *)u, s->opt.feed_interval_ms);
            else if (u)
                ww_warn(MOD, "msg=\"OPML outline skipped: not an http(s) or file URL\" url=\"%s\"", (const char *)u);
            xmlFree(u);
        }
        if (depth < 32)
            opml_walk(s, n->children, depth + 1);
    }
}

/* Adds the feeds of an OPML file. Returns the number added or -1. */
static long load_opml(ww_sources_t *s, const char *path)
{
    size_t before = s->n_feeds;
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_RECOVER | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc || !xmlDocGetRootElement(doc)) {
        ww_error(MOD, "msg=\"cannot read OPML file\" path=\"%s\"", path);
        if (doc)
            xmlFreeDoc(doc);
        return -1;
    }
    opml_walk(s, xmlDocGetRootElement(doc), 0);
    xmlFreeDoc(doc);
    return (long)(s->n_feeds - before);
}

/* ---- watched directories ------------------------------------------------------------------- */

static const char *file_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot || name[0] == '.')
        return NULL;
    if (!strcmp(dot, ".txt") || !strcmp(dot, ".json") || !strcmp(dot, ".jsonl") || !strcmp(dot, ".xml"))
        return dot + 1;
    return NULL;
}

/* Decodes a JSON object, stamps source, sends it. Returns 1 sent, 0 bad, -1 stopping. */
static int send_json(ww_sources_t *s, const char *buf, size_t len, const char *path)
{
    ww_limits_t lim;
    ww_limits_default(&lim);
    lim.max_bytes = (size_t)s->opt.max_message_bytes;
    ww_event_t *ev = NULL;
    ww_decode_status_t st;
    memset(&st, 0, sizeof st);
    if (ww_event_decode_json(buf, len, &lim, &ev, &st) < 0)
        return 0;
    ww_free(ev->source);
    ev->source = ww_strdup(path);
    int rc = send_event(s, ev) == 0 ? 1 : -1;
    ww_event_destroy(&ev);
    return rc;
}

/* Reads, sends and moves one file. */
static void take_file(ww_sources_t *s, const char *dir, const char *name)
{
    const char *ext = file_ext(name);
    if (!ext)
        return;
    char *path = ww_asprintf("%s/%s", dir, name);
    struct stat sb;
    long sent = 0, bad = 0;
    char *buf = NULL;
    if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode))
        goto out; /* gone already (taken by us earlier, or moved away) */
    if (sb.st_size > s->opt.feed_max_bytes) {
        ww_warn(MOD, "msg=\"file larger than ingest.feed_max_bytes\" path=\"%s\"", path);
        bad++;
    } else {
        FILE *fp = fopen(path, "rb");
        if (!fp) {
            ww_warn(MOD, "msg=\"cannot open file\" path=\"%s\" error=\"%s\"", path, strerror(errno));
            goto out;
        }
        size_t len = (size_t)sb.st_size;
        buf = ww_malloc(len + 1);
        len = fread(buf, 1, len, fp);
        buf[len] = '\0';
        fclose(fp);
        if (!strcmp(ext, "txt")) {
            bool rep;
            char *text = ww_utf8_repair(buf, len, &rep);
            char *nl = strchr(text, '\n');
            ww_event_t *ev = ww_event_new();
            ev->title = nl ? ww_strndup(text, (size_t)(nl - text)) : ww_strdup(text);
            ev->body = ww_strdup(nl ? nl + 1 : "");
            ev->source = ww_strdup(path);
            ww_free(text);
            size_t tl = strlen(ev->title);
            while (tl && (ev->title[tl - 1] == '\r' || ev->title[tl - 1] == ' '))
                ev->title[--tl] = '\0';
            if (!*ev->title && !*ev->body)
                bad++;
            else if (send_event(s, ev) == 0)
                sent++;
            ww_event_destroy(&ev);
        } else if (!strcmp(ext, "jsonl")) {
            char *p = buf;
            while (p < buf + len) {
                char *nl = memchr(p, '\n', (size_t)(buf + len - p));
                size_t l = nl ? (size_t)(nl - p) : (size_t)(buf + len - p);
                size_t b = 0;
                while (b < l && (p[b] == ' ' || p[b] == '\t' || p[b] == '\r'))
                    b++;
                if (b < l) {
                    int r = send_json(s, p, l, path);
                    if (r < 0)
                        goto out;
                    r ? sent++ : bad++;
                }
                p += l + 1;
            }
        } else if (!strcmp(ext, "json")) {
            json_error_t je;
            json_t *root = json_loadb(buf, len, 0, &je);
            if (json_is_array(root)) {
                for (size_t i = 0; i < json_array_size(root); i++) {
                    char *one = json_dumps(json_array_get(root, i), JSON_COMPACT);
                    int r = one ? send_json(s, one, strlen(one), path) : 0;
                    free(one);
                    if (r < 0) {
                        json_decref(root);
                        goto out;
                    }
                    r ? sent++ : bad++;
                }
            } else {
                int r = send_json(s, buf, len, path);
                if (r < 0) {
                    json_decref(root);
                    goto out;
                }
                r ? sent++ : bad++;
            }
            json_decref(root);
        } else { /* xml: a feed document */
            ww_feed_t *feed = NULL;
            char err[200];
            if (ww_feed_parse(buf, len, NULL, NULL, &feed, err, sizeof err) < 0) {
                ww_warn(MOD, "msg=\"file is not a feed\" path=\"%s\" error=\"%s\"", path, err);
                bad++;
            } else {
                for (size_t k = feed->n_items; k-- > 0;) {
                    ww_event_t *ev = ww_feed_item_to_event(feed, &feed->items[k], path);
                    if (!ev) {
                        bad++;
                        continue;
                    }
                    int r = send_event(s, ev);
                    ww_event_destroy(&ev);
                    if (r < 0) {
                        ww_feed_destroy(&feed);
                        goto out;
                    }
                    sent++;
                }
                ww_feed_destroy(&feed);
            }
        }
    }
    {
        const char *sub = sent > 0 ? "done" : "failed";
        char *dst = ww_asprintf("%s/%s/%s", dir, sub, name);
        if (rename(path, dst) < 0)
            ww_error(MOD, "msg=\"cannot move file\" from=\"%s\" to=\"%s\" error=\"%s\"", path, dst, strerror(errno));
        ww_free(dst);
        if (sent > 0)
            s->st_files_done++;
        else
            s->st_files_failed++;
        if (bad)
            ww_warn(MOD, "msg=\"file had bad records\" path=\"%s\" events=%ld bad=%ld moved_to=%s", path, sent, bad, sub);
        else
            ww_info(MOD, "msg=\"file taken\" path=\"%s\" events=%ld", path, sent);
    }
out:
    ww_free(buf);
    ww_free(path);
}

static void scan_dir(ww_sources_t *s, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!file_ext(de->d_name))
            continue;
        WW_GROW(names, cap, n + 1);
        names[n++] = ww_strdup(de->d_name);
    }
    closedir(d);
    for (size_t i = 0; i < n; i++) {
        if (!s->stop)
            take_file(s, dir, names[i]);
        ww_free(names[i]);
    }
    ww_free(names);
}

static void on_inotify(ww_sources_t *s)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t r = read(s->ino, buf, sizeof buf);
        if (r <= 0)
            return;
        for (char *p = buf; p < buf + r;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            p += sizeof *ev + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                for (size_t i = 0; i < s->n_watch; i++)
                    scan_dir(s, s->watch[i].path);
                continue;
            }
            if (!ev->len || (ev->mask & IN_ISDIR))
                continue;
            for (size_t i = 0; i < s->n_watch; i++)
                if (s->watch[i].wd == ev->wd)
                    take_file(s, s->watch[i].path, ev->name);
        }
    }
}

static void setup_watch(ww_sources_t *s)
{
    s->ino = s->cfg->ingest.n_watch ? inotify_init1(IN_NONBLOCK | IN_CLOEXEC) : -1;
    s->watch = ww_calloc(s->cfg->ingest.n_watch ? s->cfg->ingest.n_watch : 1, sizeof *s->watch);
    for (size_t i = 0; i < s->cfg->ingest.n_watch; i++) {
        ww_watch_t *w = &s->watch[s->n_watch++];
        w->path = ww_strdup(s->cfg->ingest.watch[i]);
        size_t l = strlen(w->path);
        while (l > 1 && w->path[l - 1] == '/')
            w->path[--l] = '\0';
        w->wd = -1;
        for (int k = 0; k < 2; k++) {
            char *sub = ww_asprintf("%s/%s", w->path, k ? "failed" : "done");
            if (mkdir(sub, 0755) < 0 && errno != EEXIST)
                ww_error(MOD, "msg=\"cannot create\" dir=\"%s\" error=\"%s\"", sub, strerror(errno));
            ww_free(sub);
        }
        if (s->ino >= 0)
            w->wd = inotify_add_watch(s->ino, w->path, IN_CLOSE_WRITE | IN_MOVED_TO);
        if (w->wd < 0)
            ww_error(MOD, "msg=\"cannot watch directory\" dir=\"%s\" error=\"%s\"", w->path, strerror(errno));
    }
}

/* ---- the thread ---------------------------------------------------------------------------- */

static void *sources_main(void *arg)
{
    ww_sources_t *s = arg;
    srand((unsigned)(ww_now_ms() ^ getpid()));
    /* feed state first: a restart must not re-poll a feed that is backing off */
    for (size_t i = 0; i < s->n_feeds && !s->stop; i++)
        while (!s->feeds[i].loaded && !s->stop)
            if (ww_redis_wait(s->redis, &s->stop, -1) < 0 || load_state(s, &s->feeds[i]) < 0)
                ww_redis_close(s->redis);
    for (size_t i = 0; i < s->n_watch && !s->stop; i++)
        scan_dir(s, s->watch[i].path);
    int64_t last_stats = ww_mono_ms();
    while (!s->stop) {
        int64_t now = ww_mono_ms();
        int64_t next_due = now + 1000;
        for (size_t i = 0; i < s->n_feeds; i++) {
            ww_feedsrc_t *f = &s->feeds[i];
            if (f->easy)
                continue;
            if (f->next_mono <= now && s->active < s->opt.feed_concurrency) {
                if (start_fetch(s, f) < 0)
                    schedule_error(f, 0);
            } else if (f->next_mono < next_due)
                next_due = f->next_mono;
        }
        int running = 0;
        curl_multi_perform(s->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(s->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            ww_feedsrc_t *f = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&f);
            CURLcode res = m->data.result;
            if (f)
                finish_fetch(s, f, res);
            if (s->stop)
                break;
        }
        if (ww_mono_ms() - last_stats >= 1000) {
            flush_stats(s);
            last_stats = ww_mono_ms();
        }
        struct curl_waitfd extra[1];
        unsigned n_extra = 0;
        if (s->ino >= 0) {
            extra[0].fd = s->ino;
            extra[0].events = CURL_WAIT_POLLIN;
            extra[0].revents = 0;
            n_extra = 1;
        }
        int64_t wait = next_due - ww_mono_ms();
        if (wait < 0)
            wait = 0;
        if (wait > 1000)
            wait = 1000;
        curl_multi_poll(s->multi, extra, n_extra, (int)wait, NULL);
        if (n_extra && extra[0].revents)
            on_inotify(s);
    }
    flush_stats(s);
    return NULL;
}

ww_sources_t *ww_sources_start(void *zctx, void *intake, const ww_config_t *cfg)
{
    if (!cfg->ingest.n_feeds && !cfg->ingest.opml && !cfg->ingest.n_watch)
        return NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return NULL;
    ww_sources_t *s = ww_calloc(1, sizeof *s);
    s->cfg = cfg;
    s->ino = -1;
    s->opt.prefix = ww_strdup(cfg->prefix);
    s->opt.user_agent = ww_strdup(cfg->ingest.user_agent);
    s->opt.feed_timeout_ms = cfg->ingest.feed_timeout_ms;
    s->opt.feed_max_bytes = cfg->ingest.feed_max_bytes;
    s->opt.feed_concurrency = cfg->ingest.feed_concurrency;
    s->opt.feed_interval_ms = cfg->ingest.feed_interval_ms;
    s->opt.max_message_bytes = cfg->max_message_bytes;
    for (size_t i = 0; i < cfg->ingest.n_feeds; i++)
        add_feed(s, cfg->ingest.feeds[i].url, cfg->ingest.feeds[i].interval_ms);
    if (cfg->ingest.opml)
        load_opml(s, cfg->ingest.opml);
    setup_watch(s);
    char err[256];
    s->redis = ww_redis_new(cfg->redis, err, sizeof err);
    s->multi = curl_multi_init();
    msgpack_sbuffer_init(&s->sbuf);
    snprintf(s->endpoint, sizeof s->endpoint, "inproc://ww-sources-%p", (void *)s);
    s->push = ww_zmq_socket(zctx, ZMQ_PUSH, 0, 1000, 0);
    int tmo = 200;
    if (s->push)
        zmq_setsockopt(s->push, ZMQ_SNDTIMEO, &tmo, sizeof tmo);
    if (!s->redis || !s->multi || !s->push || zmq_bind(s->push, s->endpoint) < 0 ||
        zmq_connect(intake, s->endpoint) < 0 || pthread_create(&s->thread, NULL, sources_main, s) != 0) {
        ww_error(MOD, "msg=\"cannot start the sources thread\" error=\"%s\"", s->redis ? zmq_strerror(zmq_errno()) : err);
        if (s->push)
            zmq_close(s->push);
        s->push = NULL;
        s->thread = 0;
        ww_sources_stop(&s);
        return NULL;
    }
    s->cfg = NULL;
    ww_info(MOD, "msg=\"started\" feeds=%zu watch=%zu opml=\"%s\"", s->n_feeds, s->n_watch,
            cfg->ingest.opml ? cfg->ingest.opml : "");
    return s;
}

void ww_sources_stop(ww_sources_t **sp)
{
    if (!sp || !*sp)
        return;
    ww_sources_t *s = *sp;
    if (s->thread) {
        s->stop = 1;
        curl_multi_wakeup(s->multi);
        pthread_join(s->thread, NULL);
    }
    for (size_t i = 0; i < s->n_feeds; i++) {
        ww_feedsrc_t *f = &s->feeds[i];
        if (f->easy) {
            curl_multi_remove_handle(s->multi, f->easy);
            curl_easy_cleanup(f->easy);
        }
        curl_slist_free_all(f->hdrs);
        ww_free(f->url);
        ww_free(f->key);
        ww_free(f->etag);
        ww_free(f->last_modified);
        ww_free(f->body);
        ww_free(f->new_etag);
        ww_free(f->new_lm);
        ww_free(f->charset);
    }
    ww_free(s->feeds);
    for (size_t i = 0; i < s->n_watch; i++)
        ww_free(s->watch[i].path);
    ww_free(s->watch);
    ww_free(s->opt.prefix);
    ww_free(s->opt.user_agent);
    if (s->ino >= 0)
        close(s->ino);
    if (s->multi)
        curl_multi_cleanup(s->multi);
    if (s->push)
        zmq_close(s->push);
    msgpack_sbuffer_destroy(&s->sbuf);
    ww_redis_destroy(&s->redis);
    ww_free(s);
    *sp = NULL;
}
