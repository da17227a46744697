/* test_feeds.c - end to end: wirewatch-ingest polls feeds served over HTTP on
 * loopback by libmicrohttpd (conditional GET with 304, a redirect, a failing
 * server, a Retry-After, a slow server past the time-out, a broken document)
 * and takes files from a watched directory. The test reads ingest's dispatch
 * socket and checks the exact events, once each, then restarts ingest with a
 * new item in one feed and checks that only that item comes out. */
#include <microhttpd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "ww/alloc.h"
#include "ww/event.h"
#include "wwtest.h"

/* ---- the feed server ---------------------------------------------------------------- */

static volatile int g_version = 1;    /* bumps a.xml: version 2 adds item A3 */
static volatile int g_hits_a, g_hits_a304, g_hits_fail, g_hits_retry, g_hits_slow, g_hits_redirect;

static const char *feed_a(int version)
{
    static const char v1[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<rss version=\"2.0\"><channel><title>Feed A</title><link>http://a.example/</link>\n"
        "<item><title>Alpha &amp; one</title><link>/news/a1?utm_source=rss</link><guid>a1</guid>"
        "<description>&lt;p&gt;First &lt;b&gt;story&lt;/b&gt; body.&lt;/p&gt;</description>"
        "<pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate></item>\n"
        "<item><title>Alpha two</title><link>http://a.example/news/a2</link><guid>a2</guid>"
        "<description><![CDATA[Second <i>story</i>]]></description></item>\n"
        "</channel></rss>\n";
    static const char v2[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<rss version=\"2.0\"><channel><title>Feed A</title><link>http://a.example/</link>\n"
        "<item><title>Alpha three</title><link>http://a.example/news/a3</link><guid>a3</guid>"
        "<description>Third story</description></item>\n"
        "<item><title>Alpha &amp; one</title><link>/news/a1?utm_source=rss</link><guid>a1</guid>"
        "<description>&lt;p&gt;First &lt;b&gt;story&lt;/b&gt; body.&lt;/p&gt;</description>"
        "<pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate></item>\n"
        "<item><title>Alpha two</title><link>http://a.example/news/a2</link><guid>a2</guid>"
        "<description><![CDATA[Second <i>story</i>]]></description></item>\n"
        "</channel></rss>\n";
    return version == 1 ? v1 : v2;
}

static const char g_atom[] =
    "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\"http://r.example/blog/\"><title>R</title>"
    "<entry><id>tag:r.example,2024:1</id><title type=\"html\">Redirected &lt;em&gt;entry&lt;/em&gt;</title>"
    "<link rel=\"alternate\" href=\"posts/1\"/><published>2024-05-01T12:00:00+02:00</published>"
    "<summary>Moved feed</summary></entry></feed>";

/* broken: bare ampersand, an HTML entity, a control character, never closed */
static const char g_broken[] =
    "<rss version=\"2.0\"><channel><title>Broken</title>\n"
    "<item><title>Broken &eacute;dition \x01ok</title><link>http://b.example/x?a=1&b=2</link>"
    "<description>Still readable</description></item>\n"
    "<item><title>Cut off";

static enum MHD_Result reply(struct MHD_Connection *c, int status, const char *body, const char *etag,
                             const char *location, const char *retry_after)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/rss+xml; charset=utf-8");
    if (etag)
        MHD_add_response_header(r, "ETag", etag);
    if (location)
        MHD_add_response_header(r, "Location", location);
    if (retry_after)
        MHD_add_response_header(r, "Retry-After", retry_after);
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **ptr)
{
    (void)cls;
    (void)method;
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)ptr;
    if (!strcmp(url, "/a.xml")) {
        g_hits_a++;
        char etag[32];
        snprintf(etag, sizeof etag, "\"v%d\"", g_version);
        const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
        if (inm && !strcmp(inm, etag)) {
            g_hits_a304++;
            return reply(c, 304, "", etag, NULL, NULL);
        }
        return reply(c, 200, feed_a(g_version), etag, NULL, NULL);
    }
    if (!strcmp(url, "/old.xml")) {
        g_hits_redirect++;
        return reply(c, 301, "moved", NULL, "/new.xml", NULL);
    }
    if (!strcmp(url, "/new.xml"))
        return reply(c, 200, g_atom, NULL, NULL, NULL);
    if (!strcmp(url, "/fail.xml")) {
        g_hits_fail++;
        return reply(c, 500, "oops", NULL, NULL, NULL);
    }
    if (!strcmp(url, "/retry.xml")) {
        g_hits_retry++;
        return reply(c, 503, "busy", NULL, NULL, "3600");
    }
    if (!strcmp(url, "/slow.xml")) {
        g_hits_slow++;
        usleep(2500 * 1000); /* past ingest.feed_timeout */
        return reply(c, 200, g_atom, NULL, NULL, NULL);
    }
    if (!strcmp(url, "/broken.xml"))
        return reply(c, 200, g_broken, NULL, NULL, NULL);
    return reply(c, 404, "not found", NULL, NULL, NULL);
}

/* ---- reading ingest's output ------------------------------------------------------------ */

typedef struct {
    char *title[64], *url[64], *source[64];
    int64_t published[64];
    int n;
} seen_t;

static void seen_free(seen_t *s)
{
    for (int i = 0; i < s->n; i++) {
        ww_free(s->title[i]);
        ww_free(s->url[i]);
        ww_free(s->source[i]);
    }
    s->n = 0;
}

/* Collects events from the dispatch socket until `want` arrived and then
 * quiet_ms passed without more, or timeout_ms. */
static void collect(void *pull, seen_t *s, int want, long quiet_ms, long timeout_ms)
{
    long end = wwt_ms() + timeout_ms, last = wwt_ms();
    ww_limits_t lim;
    ww_limits_default(&lim);
    while (wwt_ms() < end) {
        if (s->n >= want && wwt_ms() - last >= quiet_ms)
            break;
        zmq_pollitem_t it = {pull, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 100) <= 0)
            continue;
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, pull, 0) >= 0) {
            ww_event_t **evs = NULL;
            long n = ww_event_decode_batch(zmq_msg_data(&m), zmq_msg_size(&m), &lim, &evs, NULL);
            for (long i = 0; i < n; i++) {
                if (s->n < 64) {
                    s->title[s->n] = ww_strdup(evs[i]->title);
                    s->url[s->n] = ww_strdup(evs[i]->url);
                    s->source[s->n] = ww_strdup(evs[i]->source);
                    s->published[s->n] = evs[i]->published_at;
                    s->n++;
                }
                ww_event_destroy(&evs[i]);
            }
            ww_free(evs);
            last = wwt_ms();
        }
        zmq_msg_close(&m);
    }
}

static int count_title(const seen_t *s, const char *title)
{
    int k = 0;
    for (int i = 0; i < s->n; i++)
        k += s->title[i] && !strcmp(s->title[i], title);
    return k;
}

static int find_title(const seen_t *s, const char *title)
{
    for (int i = 0; i < s->n; i++)
        if (s->title[i] && !strcmp(s->title[i], title))
            return i;
    return -1;
}

/* what to clean up when an assertion fails mid-test */
static pid_t g_ingest = -1;
static wwt_redis_t *g_redis;

static int teardown(void **state)
{
    (void)state;
    if (g_ingest > 0)
        wwt_stop(g_ingest, SIGKILL, 5000);
    if (g_redis)
        wwt_redis_stop(g_redis);
    return 0;
}

static long stat_field(wwt_redis_t *r, const char *field)
{
    redisReply *rep = wwt_redis_cmd(r, "HGET t:stats:ingest %s", field);
    long v = rep && rep->type == REDIS_REPLY_STRING ? atol(rep->str) : 0;
    if (rep)
        freeReplyObject(rep);
    return v;
}

static void test_feeds_end_to_end(void **state)
{
    (void)state;
    int http_port = wwt_free_port();
    struct MHD_Daemon *httpd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
                                                (uint16_t)http_port, NULL, NULL, handler, NULL,
                                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    assert_non_null(httpd);
    wwt_redis_t redis;
    assert_int_equal(wwt_redis_start(&redis), 0);
    char *dir = wwt_tmpdir("feeds");
    char *watch = ww_asprintf("%s/incoming", dir);
    assert_int_equal(mkdir(watch, 0755), 0);
    int port[6];
    for (int i = 0; i < 6; i++)
        port[i] = wwt_free_port();
    char cfg[4096];
    snprintf(cfg, sizeof cfg,
             "redis: %s\nprefix: \"t:\"\n"
             "ingest:\n  intake: tcp://127.0.0.1:%d\n  dispatch: tcp://127.0.0.1:%d\n  dedup_window: 1h\n"
             "  feed_timeout: 1s\n"
             "  feeds:\n"
             "    - {url: \"http://127.0.0.1:%d/a.xml\", interval: 200ms}\n"
             "    - {url: \"http://127.0.0.1:%d/old.xml\", interval: 200ms}\n"
             "    - {url: \"http://127.0.0.1:%d/fail.xml\", interval: 200ms}\n"
             "    - {url: \"http://127.0.0.1:%d/retry.xml\", interval: 200ms}\n"
             "    - {url: \"http://127.0.0.1:%d/slow.xml\", interval: 200ms}\n"
             "    - {url: \"http://127.0.0.1:%d/broken.xml\", interval: 200ms}\n"
             "  watch: [%s]\n"
             "extract:\n  results: tcp://127.0.0.1:%d\n"
             "alert:\n  work: tcp://127.0.0.1:%d\n  publish_in: tcp://127.0.0.1:%d\n  publish: tcp://127.0.0.1:%d\n",
             redis.url, port[0], port[1], http_port, http_port, http_port, http_port, http_port, http_port, watch,
             port[2], port[3], port[4], port[5]);
    char *config = wwt_write_file(dir, "wirewatch.yaml", cfg);
    char *log = ww_asprintf("%s/ingest.log", dir);
    /* files waiting before ingest starts, one arriving later */
    char *f1 = wwt_write_file(watch, "one.txt", "File headline\nFile body text.\n");
    char *f2 = wwt_write_file(watch, "two.jsonl", "{\"title\":\"Line one\",\"body\":\"b1\"}\n\n{\"title\":\"Line two\",\"body\":\"b2\"}\n");
    char *f3 = wwt_write_file(watch, "bad.json", "{not json");
    char *f4 = wwt_write_file(watch, "ignored.bin", "binary");

    void *zctx = zmq_ctx_new();
    void *pull = zmq_socket(zctx, ZMQ_PULL);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port[1]);
    assert_int_equal(zmq_connect(pull, ep), 0);
    const char *args[] = {"-c", config, "--log-level", "debug", NULL};
    pid_t ingest = wwt_spawn("wirewatch-ingest", args, log);
    g_ingest = ingest;
    g_redis = &redis;
    assert_true(ingest > 0);

    seen_t s = {0};
    collect(pull, &s, 6, 300, 8000);
    char *f5 = wwt_write_file(dir, "late.tmp", "Late headline\nLate body.\n");
    char *late = ww_asprintf("%s/late.txt", watch);
    assert_int_equal(rename(f5, late), 0); /* arrives as IN_MOVED_TO */
    collect(pull, &s, 9, 2500, 8000);      /* and run a while: 304s, backoff */

    for (int i = 0; i < s.n; i++)
        fprintf(stderr, "event: title=[%s] url=[%s] source=[%s]\n", s.title[i], s.url[i] ? s.url[i] : "",
                s.source[i]);
    assert_int_equal(s.n, 9);
    assert_int_equal(count_title(&s, "Cut off"), 1); /* the unfinished item is recovered too */
    int a1 = find_title(&s, "Alpha & one");
    assert_true(a1 >= 0);
    char want[128];
    snprintf(want, sizeof want, "http://127.0.0.1:%d/news/a1?utm_source=rss", http_port); /* relative to the feed URL */
    assert_string_equal(s.url[a1], want);
    assert_int_equal(s.published[a1], INT64_C(1055217600000));
    assert_true(strstr(s.source[a1], "/a.xml") != NULL);
    assert_int_equal(count_title(&s, "Alpha two"), 1);
    int r = find_title(&s, "Redirected entry");
    assert_true(r >= 0);
    assert_string_equal(s.url[r], "http://r.example/blog/posts/1");
    assert_int_equal(s.published[r], INT64_C(1714557600000));
    int b = find_title(&s, "Broken \xC3\xA9" "dition ok");
    assert_true(b >= 0);
    assert_string_equal(s.url[b], "http://b.example/x?a=1&b=2");
    assert_int_equal(count_title(&s, "File headline"), 1);
    assert_int_equal(count_title(&s, "Line one"), 1);
    assert_int_equal(count_title(&s, "Line two"), 1);
    assert_int_equal(count_title(&s, "Late headline"), 1);
    /* conditional GET: many polls of a.xml, the later ones answered 304 */
    assert_true(g_hits_a >= 4);
    assert_true(g_hits_a304 >= 3);
    /* backoff: the failing feed is polled far less often than the good one */
    assert_true(g_hits_fail >= 1);
    assert_true(g_hits_fail < g_hits_a / 2);
    assert_int_equal(g_hits_retry, 1); /* Retry-After: 3600 */
    assert_true(g_hits_slow >= 1);
    /* files moved once */
    char *p = ww_asprintf("%s/done/one.txt", watch);
    assert_int_equal(access(p, F_OK), 0);
    ww_free(p);
    p = ww_asprintf("%s/failed/bad.json", watch);
    assert_int_equal(access(p, F_OK), 0);
    ww_free(p);
    assert_int_equal(access(f4, F_OK), 0); /* not ours: left alone */
    assert_int_equal(access(f1, F_OK), -1);

    /* restart with one new item in a.xml */
    int st = wwt_stop(ingest, SIGTERM, 10000);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    long received_before = stat_field(&redis, "received");
    assert_int_equal(received_before, 9);
    g_version = 2;
    int retry_before = g_hits_retry;
    seen_free(&s);
    ingest = g_ingest = wwt_spawn("wirewatch-ingest", args, log);
    collect(pull, &s, 1, 2000, 8000);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.title[0], "Alpha three");
    /* nothing old was even re-sent to the intake (the seen set, not only dedup) */
    assert_int_equal(stat_field(&redis, "received"), received_before + 1);
    assert_int_equal(g_hits_retry, retry_before); /* the backoff survived the restart */
    st = wwt_stop(ingest, SIGTERM, 10000);
    g_ingest = -1;
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

    seen_free(&s);
    zmq_close(pull);
    zmq_ctx_term(zctx);
    MHD_stop_daemon(httpd);
    wwt_redis_stop(&redis);
    g_redis = NULL;
    if (getenv("WW_KEEP_LOGS"))
        fprintf(stderr, "logs kept in %s\n", dir);
    else {
        char *cmd = ww_asprintf("rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
        ww_free(cmd);
    }
    ww_free(f1);
    ww_free(f2);
    ww_free(f3);
    ww_free(f4);
    ww_free(f5);
    ww_free(late);
    ww_free(config);
    ww_free(log);
    ww_free(watch);
    ww_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test_teardown(test_feeds_end_to_end, teardown)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
