/* test_console.c - `wirewatch console` over HTTP against a real pipeline with
 * an archive: the embedded page and its headers, the live stream (alerts
 * appear, heartbeats, resume with Last-Event-ID, the client limit), the
 * event view (entity spans, the rule's explanation), entity trends, the rules
 * page (alert counts), backtests (bounded, bad rules named by line), the
 * token (read-only by default; 401 without / with a wrong token, 200 with
 * it), and paging through 10,000 alerts (each page bounded; times printed).
 * Also: Host/Origin checks against DNS rebinding (console.allowed_hosts),
 * bounded inputs (stream ids beyond 64 bits, trends' now), a live stream
 * that left frees its slot at once, a Redis error does not spin a stream,
 * and `wirewatch up --demo --console` (served, supervised, stopped with it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <netinet/in.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wwtest.h"
#include "ww/alert.h"
#include "ww/alloc.h"

#include "console_rules.h"

static wwt_pipeline_t P;
static pid_t console_pid, ro_pid, x_pid;
static int port, ro_port, x_port;
static char *archive_dir;

/* ---- HTTP helpers ---------------------------------------------------------------- */

typedef struct {
    long status;
    char *body;
    size_t len;
    char *headers;
    size_t hlen;
} resp_t;

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    char **buf = ud;
    size_t old = *buf ? strlen(*buf) : 0;
    *buf = ww_realloc(*buf, old + sz * n + 1);
    memcpy(*buf + old, p, sz * n);
    (*buf)[old + sz * n] = '\0';
    return sz * n;
}

/* One request to the console on port p; body NULL for GET. hdr: one extra header or NULL. */
static resp_t http(int p, const char *method, const char *path, const char *body, const char *ctype, const char *hdr)
{
    resp_t r = {0};
    CURL *c = curl_easy_init();
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", p, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    struct curl_slist *h = NULL;
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        char ct[128];
        snprintf(ct, sizeof ct, "Content-Type: %s", ctype ? ctype : "application/json");
        h = curl_slist_append(h, ct);
    }
    if (hdr)
        h = curl_slist_append(h, hdr);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    /* status 0: no answer (connection refused while the console starts) */
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (!r.body)
        r.body = ww_strdup("");
    r.len = strlen(r.body);
    return r;
}

static json_t *get_json(const char *path, long want_status)
{
    resp_t r = http(port, "GET", path, NULL, NULL, NULL);
    assert_int_equal(r.status, want_status);
    json_error_t e;
    json_t *j = json_loads(r.body, 0, &e);
    if (!j)
        fprintf(stderr, "not JSON: %s\n", r.body);
    assert_non_null(j);
    ww_free(r.body);
    ww_free(r.headers);
    return j;
}

static void resp_free(resp_t *r)
{
    ww_free(r->body);
    ww_free(r->headers);
}

/* The status of one request (its body dropped). */
static long http_status(int p, const char *method, const char *path, const char *body, const char *ctype,
                        const char *hdr)
{
    resp_t r = http(p, method, path, body, ctype, hdr);
    long st = r.status;
    resp_free(&r);
    return st;
}

/* A raw connection for Server-Sent Events: sends the request, returns the fd. */
static int sse_open(int p, const char *path, const char *last_id)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: text/event-stream\r\n%s%s%s\r\n", path, p,
                     last_id ? "Last-Event-ID: " : "", last_id ? last_id : "", last_id ? "\r\n" : "");
    assert_int_equal(write(fd, req, (size_t)n), n);
    return fd;
}

static int count_str(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Reads from fd into *buf until it holds `want` occurrences of needle or
 * timeout_ms passes. Returns the count. */
static int sse_read_until(int fd, char **buf, size_t *len, const char *needle, int want, long timeout_ms)
{
    long until = wwt_ms() + timeout_ms;
    struct timeval tv = {0, 100000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (wwt_ms() < until && count_str(*buf ? *buf : "", needle) < want) {
        char tmp[8192];
        ssize_t k = read(fd, tmp, sizeof tmp);
        if (k == 0)
            break;
        if (k < 0)
            continue;
        *buf = ww_realloc(*buf, *len + (size_t)k + 1);
        memcpy(*buf + *len, tmp, (size_t)k);
        *len += (size_t)k;
        (*buf)[*len] = '\0';
    }
    return count_str(*buf ? *buf : "", needle);
}

/* The "id: X" values of the alert events in an SSE transcript, in order (max n). */
static int sse_ids(const char *s, char ids[][64], int max)
{
    int n = 0;
    for (const char *p = s; n < max && (p = strstr(p, "\nid: ")); p++) {
        const char *e = strchr(p + 5, '\n');
        if (e && strncmp(e, "\nevent: alert", 13) == 0)
            snprintf(ids[n++], 64, "%.*s", (int)(e - p - 5), p + 5);
    }
    return n;
}

static void publish(const char *jsonl)
{
    char *f = wwt_write_file(P.dir, "pub.jsonl", jsonl);
    const char *args[] = {"publish", f, "-c", P.config, NULL};
    assert_int_equal(wwt_run("wirewatch", args, NULL, NULL, false), 0);
    ww_free(f);
}

static void wait_ready(int p)
{
    for (int i = 0; i < 100; i++) {
        resp_t r = http(p, "GET", "/api/info", NULL, NULL, NULL);
        long st = r.status;
        resp_free(&r);
        if (st == 200)
            return;
        wwt_sleep_ms(50);
    }
    fail_msg("the console did not come up");
}

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char *tmp = wwt_tmpdir("console-arch");
    archive_dir = ww_asprintf("%s/archive", tmp);
    ww_free(tmp);
    char *extra = ww_asprintf("  archive: %s\n  archive_fsync: always\n", archive_dir);
    int rc = wwt_pipeline_start_ex(&P, RULES, 1, 1, extra, false);
    ww_free(extra);
    if (rc < 0)
        return -1;
    /* the console's keys go into the pipeline's config file */
    FILE *f = fopen(P.config, "a");
    fprintf(f, "console:\n  token: \"t0k3n-for-tests\"\n  heartbeat: 300ms\n  max_clients: 3\n");
    fclose(f);
    port = wwt_free_port();
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    const char *args[] = {"console", "--listen", listen, "-c", P.config, NULL};
    console_pid = wwt_spawn("wirewatch", args, P.log);
    /* a second console with a config without a token: read-only */
    char *ro_cfg = ww_asprintf("redis: %s\nprefix: \"t:\"\n", P.redis.url);
    char *ro_path = wwt_write_file(P.dir, "ro.yaml", ro_cfg);
    ro_port = wwt_free_port();
    char listen2[64];
    snprintf(listen2, sizeof listen2, "127.0.0.1:%d", ro_port);
    const char *args2[] = {"console", "--listen", listen2, "-c", ro_path, NULL};
    ro_pid = wwt_spawn("wirewatch", args2, P.log);
    ww_free(ro_cfg);
    ww_free(ro_path);
    /* a third one: its own prefix, one live client, a long heartbeat, only
     * the host names it is told (any port) */
    char *x_cfg = ww_asprintf("redis: %s\nprefix: \"u:\"\nconsole:\n  heartbeat: 60s\n  max_clients: 1\n"
                              "  allowed_hosts: [console.example, 127.0.0.1]\n",
                              P.redis.url);
    char *x_path = wwt_write_file(P.dir, "x.yaml", x_cfg);
    x_port = wwt_free_port();
    char listen3[64];
    snprintf(listen3, sizeof listen3, "127.0.0.1:%d", x_port);
    const char *args3[] = {"console", "--listen", listen3, "-c", x_path, NULL};
    x_pid = wwt_spawn("wirewatch", args3, P.log);
    ww_free(x_cfg);
    ww_free(x_path);
    wait_ready(port);
    wait_ready(ro_port);
    wait_ready(x_port);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int st1 = wwt_stop(console_pid, SIGTERM, 10000), st2 = wwt_stop(ro_pid, SIGTERM, 10000);
    int st3 = wwt_stop(x_pid, SIGTERM, 10000);
    int bad = wwt_pipeline_stop(&P);
    wwt_rmdir(archive_dir);
    char *parent = ww_strndup(archive_dir, strrchr(archive_dir, '/') - archive_dir);
    rmdir(parent);
    ww_free(parent);
    ww_free(archive_dir);
    curl_global_cleanup();
    /* the consoles stop cleanly on SIGTERM, even with live streams open */
    return bad || !WIFEXITED(st1) || WEXITSTATUS(st1) || !WIFEXITED(st2) || WEXITSTATUS(st2) || !WIFEXITED(st3) ||
                   WEXITSTATUS(st3)
               ? -1
               : 0;
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_page_and_headers(void **state)
{
    (void)state;
    resp_t r = http(port, "GET", "/", NULL, NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "<script src=\"/app.js\""));
    assert_non_null(strcasestr(r.headers, "content-type: text/html"));
    assert_non_null(strcasestr(r.headers, "content-security-policy: default-src 'none'; script-src 'self'"));
    assert_non_null(strcasestr(r.headers, "x-frame-options: deny"));
    /* the page loads nothing from elsewhere */
    assert_null(strstr(r.body, "http://"));
    assert_null(strstr(r.body, "https://"));
    resp_free(&r);
    r = http(port, "GET", "/app.js", NULL, NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strcasestr(r.headers, "content-type: text/javascript"));
    assert_non_null(strstr(r.body, "EventSource"));
    /* never innerHTML: hostile titles stay text */
    assert_null(strstr(r.body, "innerHTML"));
    const char *etag = strcasestr(r.headers, "etag: ");
    assert_non_null(etag);
    char hdr[128];
    snprintf(hdr, sizeof hdr, "If-None-Match: %.*s", (int)strcspn(etag + 6, "\r\n"), etag + 6);
    resp_free(&r);
    assert_int_equal(http_status(port, "GET", "/app.js", NULL, NULL, hdr), 304);
    assert_int_equal(http_status(port, "GET", "/style.css", NULL, NULL, NULL), 200);
    assert_int_equal(http_status(port, "GET", "/nope", NULL, NULL, NULL), 404);
    assert_int_equal(http_status(port, "DELETE", "/api/alerts", NULL, NULL, NULL), 405);
}

static char first_sid[64], volcano_sid[64];

/* Alerts appear on an open stream as they fire; heartbeats flow when idle;
 * a reconnect with Last-Event-ID gets exactly the alerts after it. */
static void test_live_stream_and_resume(void **state)
{
    (void)state;
    int fd = sse_open(port, "/api/stream", NULL);
    char *buf = NULL;
    size_t len = 0;
    /* idle: the preamble and a heartbeat (300 ms) */
    assert_true(sse_read_until(fd, &buf, &len, ": ping", 1, 3000) >= 1);
    assert_non_null(strstr(buf, "text/event-stream"));
    assert_non_null(strstr(buf, "retry: "));
    publish("{\"title\":\"Volcano erupts near Reykjavik\",\"body\":\"Angela Merkel said the Icelandic Met Office in "
            "Reykjavik warned on Monday. <script>alert(1)</script>\",\"url\":\"https://x.example/v1\"}\n"
            "{\"title\":\"Farm report\",\"body\":\"The wheat harvest began early in Kansas.\",\"url\":\"https://x.example/f1\"}\n"
            "{\"title\":\"Volcanic ash over Reykjavik again\",\"body\":\"Flights from Reykjavik were cancelled.\","
            "\"url\":\"https://x.example/v2\"}\n");
    assert_int_equal(sse_read_until(fd, &buf, &len, "event: alert", 3, 20000), 3);
    close(fd);
    char ids[8][64];
    assert_int_equal(sse_ids(buf, ids, 8), 3);
    snprintf(first_sid, sizeof first_sid, "%s", ids[0]);
    /* each data line is one JSON alert carrying its stream id */
    const char *d = strstr(buf, "data: ");
    assert_non_null(d);
    json_t *a = json_loadb(d + 6, strcspn(d + 6, "\n"), 0, NULL);
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(a, "sid")), ids[0]);
    json_decref(a);
    for (const char *p = buf; (p = strstr(p, "data: ")); p++) {
        json_t *x = json_loadb(p + 6, strcspn(p + 6, "\n"), 0, NULL);
        if (strcmp(json_string_value(json_object_get(x, "rule")), "volcano") == 0 && !volcano_sid[0])
            snprintf(volcano_sid, sizeof volcano_sid, "%s", json_string_value(json_object_get(x, "sid")));
        json_decref(x);
    }
    assert_true(volcano_sid[0]);
    ww_free(buf);

    /* resume after the first: the other two, from history, nothing twice */
    buf = NULL;
    len = 0;
    fd = sse_open(port, "/api/stream", first_sid);
    assert_int_equal(sse_read_until(fd, &buf, &len, "event: alert", 3, 1500), 2);
    char ids2[8][64];
    assert_int_equal(sse_ids(buf, ids2, 8), 2);
    assert_string_equal(ids2[0], ids[1]);
    assert_string_equal(ids2[1], ids[2]);
    close(fd);
    ww_free(buf);

    /* a server-side filter on the stream (?after= as the page's first connect) */
    buf = NULL;
    len = 0;
    char path[256];
    snprintf(path, sizeof path, "/api/stream?after=0-0&channel=farming.");
    fd = sse_open(port, path, NULL);
    assert_int_equal(sse_read_until(fd, &buf, &len, "event: alert", 2, 1500), 1);
    assert_non_null(strstr(buf, "\"rule\":\"harvest\""));
    close(fd);
    ww_free(buf);

    /* a bad cursor is refused */
    resp_t r = http(port, "GET", "/api/stream?after=1;DROP", NULL, NULL, NULL);
    assert_int_equal(r.status, 400);
    resp_free(&r);
}

/* Opens a live stream, retrying for up to 5 s while the server still counts
 * clients that left (it notices at its next write). Returns the fd or -1. */
static int live_open(void)
{
    long until = wwt_ms() + 5000;
    while (wwt_ms() < until) {
        int fd = sse_open(port, "/api/stream", NULL);
        char *b = NULL;
        size_t l = 0;
        int ok = sse_read_until(fd, &b, &l, "retry:", 1, 1000);
        bool refused = b && strstr(b, " 503 ");
        ww_free(b);
        if (ok && !refused)
            return fd;
        close(fd);
        wwt_sleep_ms(100);
    }
    return -1;
}

/* At most console.max_clients (3) live streams; the fourth is refused with
 * 503; a slot comes back when a client leaves. */
static void test_live_client_limit(void **state)
{
    (void)state;
    int fds[3];
    for (int i = 0; i < 3; i++) {
        fds[i] = live_open();
        assert_true(fds[i] >= 0);
    }
    resp_t r = http(port, "GET", "/api/stream", NULL, NULL, NULL);
    assert_int_equal(r.status, 503);
    assert_non_null(strcasestr(r.headers, "retry-after:"));
    resp_free(&r);
    close(fds[0]);
    int fd = live_open();
    assert_true(fd >= 0);
    close(fd);
    close(fds[1]);
    close(fds[2]);
}

/* The event behind an alert, from the archive: title and body split into
 * segments that rebuild the text exactly, entities marked, the rule explained. */
static void test_event_view(void **state)
{
    (void)state;
    assert_true(volcano_sid[0]);
    char path[256];
    snprintf(path, sizeof path, "/api/event?sid=%s", volcano_sid);
    json_t *j = get_json(path, 200);
    json_t *ev = json_object_get(j, "event");
    if (!json_is_true(json_object_get(ev, "found")))
        fprintf(stderr, "event not found: %s\n", json_string_value(json_object_get(ev, "why")));
    assert_true(json_is_true(json_object_get(ev, "found")));
    const char *title = json_string_value(json_object_get(json_object_get(json_object_get(j, "alert"), "event"), "title"));
    /* the title's segments put back together are the title */
    char rebuilt[512] = "";
    size_t i;
    json_t *seg;
    bool reyk_marked = false;
    json_array_foreach(json_object_get(ev, "title"), i, seg)
    {
        strncat(rebuilt, json_string_value(json_object_get(seg, "text")), sizeof rebuilt - strlen(rebuilt) - 1);
        const char *type = json_string_value(json_object_get(seg, "entity"));
        if (type && strcmp(type, "LOC") == 0 && strcmp(json_string_value(json_object_get(seg, "text")), "Reykjavik") == 0)
            reyk_marked = true;
    }
    assert_string_equal(rebuilt, title);
    assert_true(reyk_marked);
    /* the body has its people marked too, and the hostile markup is plain text in a segment */
    bool per = false, script_text = false;
    json_array_foreach(json_object_get(ev, "body"), i, seg)
    {
        const char *type = json_string_value(json_object_get(seg, "entity"));
        const char *text = json_string_value(json_object_get(seg, "text"));
        if (type && strcmp(type, "PER") == 0 && strcmp(text, "Angela Merkel") == 0)
            per = true;
        if (strstr(text, "<script>"))
            script_text = true;
    }
    assert_true(per);
    assert_true(script_text);
    assert_true(json_array_size(json_object_get(ev, "entities")) >= 3);
    json_t *x = json_object_get(j, "explain");
    assert_string_equal(json_string_value(json_object_get(x, "rule")), "volcano");
    assert_true(json_is_true(json_object_get(x, "matched")));
    assert_non_null(strstr(json_string_value(json_object_get(x, "text")), "Reykjavik"));
    /* the same by alert id */
    char aid[64];
    snprintf(aid, sizeof aid, "%s", json_string_value(json_object_get(json_object_get(j, "alert"), "id")));
    json_decref(j);
    snprintf(path, sizeof path, "/api/event?id=%s", aid);
    j = get_json(path, 200);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "alert"), "sid")), volcano_sid);
    json_decref(j);
    j = get_json("/api/event?sid=99999999999-0", 404);
    json_decref(j);
    j = get_json("/api/event?sid=x", 400);
    json_decref(j);
}

/* Reykjavik (4 mentions in two events) leads the hour's entity counts. */
static void test_trends(void **state)
{
    (void)state;
    json_t *j = NULL;
    long until = wwt_ms() + 10000;
    double count = 0;
    while (wwt_ms() < until) {
        json_decref(j);
        j = get_json("/api/trends?window=hour&type=LOC", 200);
        json_t *most = json_object_get(j, "most");
        if (json_array_size(most) &&
            strcmp(json_string_value(json_object_get(json_array_get(most, 0), "name")), "Reykjavik") == 0) {
            count = json_number_value(json_object_get(json_array_get(most, 0), "count"));
            if (count >= 4)
                break;
        }
        wwt_sleep_ms(200);
    }
    json_t *top = json_array_get(json_object_get(j, "most"), 0);
    assert_string_equal(json_string_value(json_object_get(top, "name")), "Reykjavik");
    assert_string_equal(json_string_value(json_object_get(top, "type")), "LOC");
    assert_true(count >= 4);
    json_t *series = json_object_get(top, "series");
    assert_int_equal(json_array_size(series), 48);
    assert_int_equal(json_integer_value(json_array_get(series, 47)), (json_int_t)count);
    /* new today, no baseline: it is rising too */
    json_t *rising = json_object_get(j, "rising");
    bool found = false;
    size_t i;
    json_t *it;
    json_array_foreach(rising, i, it) found |= strcmp(json_string_value(json_object_get(it, "name")), "Reykjavik") == 0;
    assert_true(found);
    json_decref(j);
    /* the type filter keeps other types out */
    j = get_json("/api/trends?window=day&type=PER", 200);
    json_array_foreach(json_object_get(j, "most"), i, it)
        assert_string_equal(json_string_value(json_object_get(it, "type")), "PER");
    json_decref(j);
    j = get_json("/api/trends?window=week", 400);
    json_decref(j);
}

/* The rules page: the running set (from the alert.rules file) with alert counts. */
static void test_rules_page(void **state)
{
    (void)state;
    json_t *j = get_json("/api/rules", 200);
    assert_string_equal(json_string_value(json_object_get(j, "source")), "file");
    assert_int_equal(strlen(json_string_value(json_object_get(j, "version"))), 16);
    assert_true(json_is_true(json_object_get(j, "editable")));
    json_t *rules = json_object_get(j, "rules");
    assert_int_equal(json_array_size(rules), 2);
    json_t *v = json_array_get(rules, 0);
    assert_string_equal(json_string_value(json_object_get(v, "id")), "volcano");
    assert_string_equal(json_string_value(json_object_get(v, "severity")), "high");
    assert_int_equal(json_integer_value(json_object_get(v, "alerts")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rules, 1), "alerts")), 1);
    assert_non_null(strstr(json_string_value(json_object_get(j, "text")), "wheat harvest"));
    json_decref(j);
    j = get_json("/api/info", 200);
    assert_false(json_is_true(json_object_get(j, "read_only")));
    json_decref(j);
}

/* Backtests run edited rules over the archive; bounded; errors name the line. */
static void test_backtest(void **state)
{
    (void)state;
    const char *body = "{\"text\":\"rules:\\n  - id: ash\\n    channel: c.ash\\n    match: 'ash OR cancelled'\\n"
                       "  - id: loc\\n    channel: c.loc\\n    match: 'entity:LOC:\\\"Reykjavik\\\"'\\n\"}";
    resp_t r = http(port, "POST", "/api/backtest", body, NULL, NULL);
    assert_int_equal(r.status, 200);
    json_t *j = json_loads(r.body, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "events")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "alerts")), 3); /* ash: 1, loc: 2 */
    assert_false(json_is_true(json_object_get(j, "truncated")));
    json_t *per = json_object_get(j, "per_rule");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(per, 0), "alerts")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(per, 1), "alerts")), 2);
    json_t *first = json_array_get(json_object_get(j, "list"), 0);
    assert_non_null(strstr(json_string_value(json_object_get(json_object_get(first, "event"), "title")), "Reykjavik"));
    json_decref(j);
    resp_free(&r);
    /* bounded by max_events */
    const char *b2 = "{\"text\":\"rules:\\n  - id: any\\n    channel: c\\n    match: 'the OR ash'\\n\",\"max_events\":1}";
    r = http(port, "POST", "/api/backtest", b2, NULL, NULL);
    assert_int_equal(r.status, 200);
    j = json_loads(r.body, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "events")), 1);
    assert_true(json_is_true(json_object_get(j, "truncated")));
    assert_string_equal(json_string_value(json_object_get(j, "stopped_by")), "max_events");
    json_decref(j);
    resp_free(&r);
    /* a time range with nothing in it */
    const char *b3 = "{\"text\":\"rules:\\n  - id: any\\n    channel: c\\n    match: 'ash'\\n\",\"from\":\"2001-01-01\",\"to\":\"2001-01-02\"}";
    r = http(port, "POST", "/api/backtest", b3, NULL, NULL);
    assert_int_equal(r.status, 200);
    j = json_loads(r.body, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "events")), 0);
    json_decref(j);
    resp_free(&r);
    /* bad rules: 400 naming line and column */
    r = http(port, "POST", "/api/backtest", "{\"text\":\"rules:\\n  - id: x\\n    channel: c\\n    match: 'a AND ('\\n\"}",
             NULL, NULL);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "rules:4:"));
    resp_free(&r);
    /* backtests need no token, but a JSON body */
    assert_int_equal(http_status(port, "POST", "/api/backtest", "text=rules", "application/x-www-form-urlencoded", NULL), 415);
}

/* Changing rules: 403 on a console without a token, 401 without or with a
 * wrong token, 200 with it (and Redis then holds the new version). */
static void test_token(void **state)
{
    (void)state;
    const char *body = "{\"text\":\"rules:\\n  - id: new\\n    channel: c.new\\n    match: 'lava'\\n\"}";
    resp_t r = http(ro_port, "POST", "/api/rules", body, NULL, "Authorization: Bearer t0k3n-for-tests");
    assert_int_equal(r.status, 403);
    resp_free(&r);
    json_t *info = NULL;
    {
        resp_t ri = http(ro_port, "GET", "/api/info", NULL, NULL, NULL);
        info = json_loads(ri.body, 0, NULL);
        resp_free(&ri);
    }
    assert_true(json_is_true(json_object_get(info, "read_only")));
    json_decref(info);
    r = http(port, "POST", "/api/rules", body, NULL, NULL);
    assert_int_equal(r.status, 401);
    assert_non_null(strcasestr(r.headers, "www-authenticate: bearer"));
    resp_free(&r);
    assert_int_equal(http_status(port, "POST", "/api/rules", body, NULL, "Authorization: Bearer t0k3n-for-test"), 401);
    assert_int_equal(http_status(port, "POST", "/api/rules", body, NULL, "Authorization: Bearer t0k3n-for-tests!"), 401);
    /* still the file's rules */
    redisReply *v = wwt_redis_cmd(&P.redis, "GET t:rules:version");
    assert_int_equal(v->type, REDIS_REPLY_NIL);
    freeReplyObject(v);
    /* invalid rules with the token: 400, nothing stored */
    assert_int_equal(http_status(port, "POST", "/api/rules", "{\"text\":\"rules:\\n  - id: x\\n    match: '('\\n\"}", NULL,
             "Authorization: Bearer t0k3n-for-tests"), 400);
    r = http(port, "POST", "/api/rules", body, NULL, "Authorization: Bearer t0k3n-for-tests");
    assert_int_equal(r.status, 200);
    json_t *j = json_loads(r.body, 0, NULL);
    v = wwt_redis_cmd(&P.redis, "GET t:rules:version");
    assert_int_equal(v->type, REDIS_REPLY_STRING);
    assert_string_equal(v->str, json_string_value(json_object_get(j, "version")));
    freeReplyObject(v);
    json_decref(j);
    resp_free(&r);
    j = get_json("/api/rules", 200);
    assert_string_equal(json_string_value(json_object_get(j, "source")), "redis");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "rules"), 0), "id")), "new");
    json_decref(j);
}

/* 10,000 alerts in the history: pages of 100 by cursor, newest first, each
 * page bounded in size and time; filters applied server-side. */
static void test_paging_10k(void **state)
{
    (void)state;
    redisContext *rc = redisConnectUnix(strchr(P.redis.url, '/') + 2);
    assert_non_null(rc);
    const int N = 10000;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    for (int i = 0; i < N; i++) {
        ww_alert_t a = {0};
        char id[40], title[64], ch[32];
        snprintf(id, sizeof id, "%032x", i + 1);
        snprintf(title, sizeof title, "Bulk alert number %05d", i);
        snprintf(ch, sizeof ch, i % 2 ? "bulk.odd" : "bulk.even");
        a.id = id;
        a.rule = "bulk";
        a.channel = ch;
        a.severity = i % 10 == 0 ? "critical" : "info";
        a.event.id = id;
        a.event.title = title;
        a.event.url = "";
        a.event.source = "test";
        a.fired_at = 1700000000000 + i;
        msgpack_sbuffer_clear(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        ww_alert_pack(&pk, &a);
        redisAppendCommand(rc, "XADD t:alerts * channel %s alert %b", ch, sb.data, sb.size);
    }
    for (int i = 0; i < N; i++) {
        redisReply *rep;
        assert_int_equal(redisGetReply(rc, (void **)&rep), REDIS_OK);
        freeReplyObject(rep);
    }
    msgpack_sbuffer_destroy(&sb);
    redisFree(rc);

    /* page through every bulk alert */
    char cursor[64] = "", path[256], prev_title[64] = "";
    long pages = 0, seen = 0, worst_ms = 0, total_ms = 0;
    size_t biggest = 0;
    for (;;) {
        snprintf(path, sizeof path, "/api/alerts?limit=100&channel=bulk.%s%s", cursor[0] ? "&before=" : "", cursor);
        long t0 = wwt_ms();
        resp_t r = http(port, "GET", path, NULL, NULL, NULL);
        long ms = wwt_ms() - t0;
        assert_int_equal(r.status, 200);
        if (r.len > biggest)
            biggest = r.len;
        worst_ms = ms > worst_ms ? ms : worst_ms;
        total_ms += ms;
        json_t *j = json_loads(r.body, 0, NULL);
        resp_free(&r);
        json_t *list = json_object_get(j, "alerts");
        assert_true(json_array_size(list) <= 100);
        size_t i;
        json_t *a;
        json_array_foreach(list, i, a)
        {
            const char *t = json_string_value(json_object_get(json_object_get(a, "event"), "title"));
            if (prev_title[0])
                assert_true(strcmp(t, prev_title) < 0); /* newest first, no repeats */
            snprintf(prev_title, sizeof prev_title, "%s", t);
            seen++;
        }
        pages++;
        json_t *next = json_object_get(j, "next");
        if (json_is_null(next)) {
            json_decref(j);
            break;
        }
        snprintf(cursor, sizeof cursor, "%s", json_string_value(next));
        json_decref(j);
        assert_true(pages < 200);
    }
    assert_int_equal(seen, N);
    printf("paging 10,000 alerts: %ld pages of <= 100, %.1f ms mean, %ld ms worst, largest page %zu bytes\n", pages,
           (double)total_ms / (double)pages, worst_ms, biggest);
    assert_true(biggest < 100 * 1024);
    assert_true(worst_ms < 2000);

    /* server-side filters: severity and text, each page still bounded */
    json_t *j = get_json("/api/alerts?limit=50&severity=critical", 200);
    size_t i;
    json_t *a;
    assert_int_equal(json_array_size(json_object_get(j, "alerts")), 50);
    json_array_foreach(json_object_get(j, "alerts"), i, a)
        assert_string_equal(json_string_value(json_object_get(a, "severity")), "critical");
    assert_true(json_integer_value(json_object_get(j, "total")) >= N);
    json_decref(j);
    j = get_json("/api/alerts?q=NUMBER%2009958", 200);
    assert_int_equal(json_array_size(json_object_get(j, "alerts")), 1);
    json_decref(j);
    /* an old one is beyond one request's scan: the cursor leads to it */
    j = get_json("/api/alerts?q=NUMBER%2000042", 200);
    assert_int_equal(json_array_size(json_object_get(j, "alerts")), 0);
    snprintf(path, sizeof path, "/api/alerts?q=NUMBER%%2000042&before=%s", json_string_value(json_object_get(j, "next")));
    json_decref(j);
    j = get_json(path, 200);
    assert_int_equal(json_array_size(json_object_get(j, "alerts")), 1);
    json_decref(j);
    /* a filter nothing matches scans a bounded slice and hands back a cursor */
    long t0 = wwt_ms();
    j = get_json("/api/alerts?q=no-such-text", 200);
    printf("a page of a filter that matches nothing: %ld ms, scanned %lld entries\n", wwt_ms() - t0,
           (long long)json_integer_value(json_object_get(j, "scanned")));
    assert_int_equal(json_array_size(json_object_get(j, "alerts")), 0);
    assert_true(json_integer_value(json_object_get(j, "scanned")) <= 5000);
    assert_true(json_is_string(json_object_get(j, "next")));
    json_decref(j);
    /* the first page gives the live stream's starting point: the newest entry */
    j = get_json("/api/alerts?limit=1", 200);
    assert_string_equal(json_string_value(json_object_get(j, "head")),
                        json_string_value(json_object_get(json_array_get(json_object_get(j, "alerts"), 0), "sid")));
    json_decref(j);
}

/* DNS rebinding: a request naming another host is refused (421) before
 * anything is read; the default names (localhost, 127.0.0.1, [::1] on the
 * listen port) pass; console.allowed_hosts replaces them. POSTs from another
 * origin are refused (403), from the console's own page allowed. */
static void test_allowed_hosts(void **state)
{
    (void)state;
    char hdr[128];
    snprintf(hdr, sizeof hdr, "Host: evil.example:%d", port);
    resp_t r = http(port, "GET", "/api/info", NULL, NULL, hdr);
    assert_int_equal(r.status, 421);
    assert_non_null(strstr(r.body, "console.allowed_hosts"));
    assert_null(strstr(r.body, "rules_version")); /* nothing served */
    resp_free(&r);
    assert_int_equal(http_status(port, "GET", "/", NULL, NULL, "Host: evil.example"), 421);
    /* a body from a foreign host is not even read */
    assert_int_equal(http_status(port, "POST", "/api/backtest", "{\"text\":\"rules: []\"}", NULL, hdr), 421);
    /* the defaults: loopback names on the listen port */
    const char *ok[] = {"localhost:%d", "127.0.0.1:%d", "[::1]:%d", "LocalHost:%d"};
    for (size_t i = 0; i < 4; i++) {
        char h[64];
        snprintf(hdr, sizeof hdr, "Host: %s", ok[i]);
        snprintf(h, sizeof h, hdr, port);
        assert_int_equal(http_status(port, "GET", "/api/info", NULL, NULL, h), 200);
    }
    /* ... not on another port, nor a name that merely starts like one */
    snprintf(hdr, sizeof hdr, "Host: localhost:%d", port + 1);
    assert_int_equal(http_status(port, "GET", "/api/info", NULL, NULL, hdr), 421);
    snprintf(hdr, sizeof hdr, "Host: localhost.evil.example:%d", port);
    assert_int_equal(http_status(port, "GET", "/api/info", NULL, NULL, hdr), 421);
    /* console.allowed_hosts: console.example and 127.0.0.1, any port; localhost no more */
    snprintf(hdr, sizeof hdr, "Host: console.example:%d", x_port);
    assert_int_equal(http_status(x_port, "GET", "/api/info", NULL, NULL, hdr), 200);
    assert_int_equal(http_status(x_port, "GET", "/api/info", NULL, NULL, "Host: CONSOLE.example"), 200);
    snprintf(hdr, sizeof hdr, "Host: localhost:%d", x_port);
    assert_int_equal(http_status(x_port, "GET", "/api/info", NULL, NULL, hdr), 421);
    /* Origin on POSTs: another site is refused, the console's own page is not */
    const char *bt = "{\"text\":\"rules:\\n  - id: a\\n    channel: c\\n    match: 'ash'\\n\"}";
    r = http(port, "POST", "/api/backtest", bt, NULL, "Origin: http://evil.example");
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body, "cross-origin"));
    resp_free(&r);
    assert_int_equal(http_status(port, "POST", "/api/backtest", bt, NULL, "Origin: null"), 403);
    snprintf(hdr, sizeof hdr, "Origin: http://127.0.0.1:%d", port + 1);
    assert_int_equal(http_status(port, "POST", "/api/backtest", bt, NULL, hdr), 403);
    snprintf(hdr, sizeof hdr, "Origin: http://127.0.0.1:%d", port);
    assert_int_equal(http_status(port, "POST", "/api/backtest", bt, NULL, hdr), 200);
    /* a GET with a foreign Origin is only a read: the browser does not let that page see it */
    assert_int_equal(http_status(port, "GET", "/api/info", NULL, NULL, "Origin: http://evil.example"), 200);
}

/* Stream ids are two unsigned 64-bit numbers: larger ones are refused with
 * 400 (they used to reach Redis, which refuses them: /api/alerts answered
 * 503 and a live stream spun on the error), and trends' now is a bounded time. */
static void test_bounded_inputs(void **state)
{
    (void)state;
    const char *big[] = {"99999999999999999999999", "18446744073709551616-0", "1-18446744073709551616"};
    for (size_t i = 0; i < 3; i++) {
        char path[128];
        snprintf(path, sizeof path, "/api/alerts?before=%s", big[i]);
        json_t *j = get_json(path, 400);
        json_decref(j);
        snprintf(path, sizeof path, "/api/stream?after=%s", big[i]);
        j = get_json(path, 400);
        json_decref(j);
    }
    int fd = sse_open(port, "/api/stream", big[0]);
    char *buf = NULL;
    size_t len = 0;
    sse_read_until(fd, &buf, &len, "\r\n\r\n", 1, 3000);
    assert_non_null(buf);
    assert_non_null(strstr(buf, " 400 "));
    ww_free(buf);
    close(fd);
    /* the largest id is fine */
    json_t *j = get_json("/api/alerts?before=18446744073709551615-18446744073709551615&limit=1", 200);
    json_decref(j);
    j = get_json("/api/trends?now=-9223372036854775808", 400);
    json_decref(j);
    j = get_json("/api/trends?now=9223372036854775807", 400);
    json_decref(j);
    j = get_json("/api/trends?now=12abc", 400);
    json_decref(j);
    j = get_json("/api/trends?now=1700000000000", 200);
    json_decref(j);
}

/* CPU seconds used so far by process pid (utime + stime). */
static double cpu_seconds(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* after the command name */
    assert_non_null(p);
    unsigned long ut = 0, st = 0;
    /* fields 3.. after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st), 2);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A live stream that left frees its slot within about a second, not at the
 * next heartbeat (60 s on this console, which allows one stream); and a
 * stream whose Redis key is not a stream waits instead of spinning. */
static void test_live_disconnect_and_errors(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    int fd = sse_open(x_port, "/api/stream", NULL);
    assert_int_equal(sse_read_until(fd, &buf, &len, "retry:", 1, 3000), 1);
    ww_free(buf);
    buf = NULL;
    len = 0;
    resp_t r = http(x_port, "GET", "/api/stream", NULL, NULL, NULL);
    assert_int_equal(r.status, 503); /* the one slot is taken */
    resp_free(&r);
    long t0 = wwt_ms();
    close(fd);
    /* the slot is back well before the heartbeat would have noticed */
    int fd2 = -1;
    while (wwt_ms() - t0 < 5000) {
        fd2 = sse_open(x_port, "/api/stream", NULL);
        sse_read_until(fd2, &buf, &len, "\r\n\r\n", 1, 1000);
        bool ok = buf && strstr(buf, " 200 ");
        ww_free(buf);
        buf = NULL;
        len = 0;
        if (ok)
            break;
        close(fd2);
        fd2 = -1;
        wwt_sleep_ms(100);
    }
    printf("a live stream's slot came back %ld ms after the client left\n", wwt_ms() - t0);
    assert_true(fd2 >= 0);
    close(fd2);

    /* u:alerts is no stream: XREAD fails at once, every time; the stream
     * must wait between tries (it used to retry in a tight loop) */
    redisReply *v = wwt_redis_cmd(&P.redis, "SET u:alerts not-a-stream");
    freeReplyObject(v);
    int fd3 = -1;
    t0 = wwt_ms();
    while (fd3 < 0 && wwt_ms() - t0 < 5000) {
        fd3 = sse_open(x_port, "/api/stream?after=0-0", NULL);
        sse_read_until(fd3, &buf, &len, "retry:", 1, 1000);
        bool ok = buf && strstr(buf, "retry:");
        ww_free(buf);
        buf = NULL;
        len = 0;
        if (!ok) {
            close(fd3);
            fd3 = -1;
            wwt_sleep_ms(100);
        }
    }
    assert_true(fd3 >= 0);
    double c0 = cpu_seconds(x_pid);
    wwt_sleep_ms(2000);
    double used = cpu_seconds(x_pid) - c0;
    printf("a live stream on a broken key: %.2f s CPU in 2 s\n", used);
    assert_true(used < 0.5);
    close(fd3);
    v = wwt_redis_cmd(&P.redis, "DEL u:alerts");
    freeReplyObject(v);
}

/* `wirewatch up --demo --console HOST:PORT`: the console comes up with the
 * stack (its URL printed), shows the demo's alerts, stays up after the demo,
 * is restarted when it dies, and stops with `up` (exit 0, port closed). */
static void test_up_console(void **state)
{
    (void)state;
    char *dir = wwt_tmpdir("up-console");
    char *config = wwt_endpoints_config(dir, "up.yaml");
    char *out = ww_asprintf("%s/out.txt", dir), *err = ww_asprintf("%s/err.txt", dir);
    int cport = wwt_free_port();
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", cport);
    const char *bad[] = {"up", "--console", "nowhere", "-c", config, NULL};
    assert_int_equal(wwt_run("wirewatch", bad, NULL, NULL, false), 2);
    const char *args[] = {"up", "--demo", "--console", listen, "-c", config, NULL};
    setenv("TMPDIR", dir, 1);
    pid_t up = wwt_spawn_io("wirewatch", args, out, err);
    unsetenv("TMPDIR");
    char *text = NULL;
    long until = wwt_ms() + 90000;
    while (wwt_ms() < until) {
        ww_free(text);
        text = wwt_read_file(out);
        if (text && strstr(text, "demo: done"))
            break;
        wwt_sleep_ms(200);
    }
    if (!text || !strstr(text, "demo: done")) {
        char *e = wwt_read_file(err);
        fprintf(stderr, "up --demo --console:\n%s\n%s\n", text ? text : "", e ? e : "");
        ww_free(e);
    }
    assert_non_null(text);
    assert_non_null(strstr(text, "demo: done"));
    char url[96];
    snprintf(url, sizeof url, "http://%s/", listen);
    assert_non_null(strstr(text, url));
    ww_free(text);
    resp_t r = http(cport, "GET", "/", NULL, NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "app.js"));
    resp_free(&r);
    r = http(cport, "GET", "/api/info", NULL, NULL, NULL);
    assert_int_equal(r.status, 200);
    json_t *j = json_loads(r.body, 0, NULL);
    assert_true(json_is_true(json_object_get(j, "redis"))); /* up's private Redis */
    json_decref(j);
    resp_free(&r);
    r = http(cport, "GET", "/api/alerts?limit=5", NULL, NULL, NULL);
    assert_int_equal(r.status, 200);
    j = json_loads(r.body, 0, NULL);
    assert_true(json_integer_value(json_object_get(j, "total")) > 0); /* the demo's alerts */
    assert_int_equal(json_array_size(json_object_get(j, "alerts")), 5);
    json_decref(j);
    resp_free(&r);
    /* supervised: a killed console comes back */
    char cpath[96];
    snprintf(cpath, sizeof cpath, "/proc/%d/task/%d/children", (int)up, (int)up);
    char *kids = wwt_read_file(cpath);
    assert_non_null(kids);
    pid_t console = 0;
    for (char *s = kids; *s && !console;) {
        pid_t k = (pid_t)strtol(s, &s, 10);
        char cmd[96];
        snprintf(cmd, sizeof cmd, "/proc/%d/cmdline", (int)k);
        FILE *f = fopen(cmd, "r");
        char argv1[64] = "";
        if (f) {
            size_t n = fread(cmd, 1, sizeof cmd - 1, f);
            fclose(f);
            cmd[n] = '\0';
            if (strlen(cmd) + 1 < n)
                snprintf(argv1, sizeof argv1, "%s", cmd + strlen(cmd) + 1);
        }
        if (strcmp(argv1, "console") == 0)
            console = k;
        while (*s == ' ' || *s == '\n')
            s++;
    }
    ww_free(kids);
    assert_true(console > 0);
    kill(console, SIGKILL);
    wwt_sleep_ms(300);
    long back = 0;
    until = wwt_ms() + 10000;
    while (wwt_ms() < until && !back) {
        r = http(cport, "GET", "/api/info", NULL, NULL, NULL);
        if (r.status == 200)
            back = 1;
        resp_free(&r);
        wwt_sleep_ms(100);
    }
    assert_true(back);
    /* stopped with up */
    int st = wwt_stop(up, SIGTERM, 20000);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    r = http(cport, "GET", "/api/info", NULL, NULL, NULL);
    assert_int_equal(r.status, 0); /* nothing listens */
    resp_free(&r);
    ww_free(out);
    ww_free(err);
    ww_free(config);
    wwt_rmdir(dir);
    ww_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_and_headers), cmocka_unit_test(test_live_stream_and_resume),
        cmocka_unit_test(test_live_client_limit), cmocka_unit_test(test_event_view),
        cmocka_unit_test(test_trends),           cmocka_unit_test(test_rules_page),
        cmocka_unit_test(test_backtest),         cmocka_unit_test(test_token),
        cmocka_unit_test(test_paging_10k),       cmocka_unit_test(test_allowed_hosts),
        cmocka_unit_test(test_bounded_inputs),   cmocka_unit_test(test_live_disconnect_and_errors),
        cmocka_unit_test(test_up_console),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
