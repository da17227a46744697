/* bench_feeds.c - feed parsing and polling speed.
 *
 *   1. parse: every feed under tests/fixtures/feeds (and ../shared/data/feeds
 *      when present) parsed in a loop for --seconds: items/s and MB/s;
 *   2. poll: a libmicrohttpd server on loopback serves --feeds feeds (each
 *      with an ETag, so most polls are 304s, and every 10th poll a 200 with
 *      a new item); the real wirewatch-ingest polls them all with a 10 ms
 *      interval for --seconds: feeds/s polled (from <prefix>stats:ingest);
 *   3. the limit: the same GETs with a bare libcurl multi loop (no parsing,
 *      no Redis, no events), and the ratio.
 *
 * Usage: bench_feeds [--feeds N] [--seconds S] */
#include <curl/curl.h>
#include <dirent.h>
#include <hiredis/hiredis.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#include "ww/alloc.h"
#include "ww/feed.h"
#include "wwtest.h"

typedef struct {
    char *buf;
    size_t len;
} doc_t;

static void load_dir(const char *dir, doc_t **docs, size_t *n, size_t *cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".xml"))
            continue;
        char *path = ww_asprintf("%s/%s", dir, de->d_name);
        char *text = wwt_read_file(path);
        ww_free(path);
        if (!text)
            continue;
        WW_GROW(*docs, *cap, *n + 1);
        (*docs)[*n].buf = text;
        (*docs)[(*n)++].len = strlen(text);
    }
    closedir(d);
}

static volatile long g_polls;

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **ptr)
{
    (void)cls, (void)method, (void)version, (void)upload, (void)upload_size, (void)ptr;
    long n = __atomic_add_fetch(&g_polls, 1, __ATOMIC_RELAXED);
    long gen = n / 10; /* a new version every ~10 polls overall */
    char etag[32];
    snprintf(etag, sizeof etag, "\"%ld\"", gen);
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    struct MHD_Response *r;
    int status = 200;
    if (inm && !strcmp(inm, etag)) {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        status = 304;
    } else {
        char body[1024];
        snprintf(body, sizeof body,
                 "<rss version=\"2.0\"><channel><title>B</title><item><title>Item %ld of %s</title>"
                 "<guid>%s#%ld</guid><description>Bench &lt;b&gt;body&lt;/b&gt; text %ld.</description>"
                 "<pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate></item></channel></rss>",
                 gen, url, url, gen, gen);
        r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
    }
    MHD_add_response_header(r, "ETag", etag);
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

static size_t sink(char *p, size_t s, size_t n, void *ud)
{
    (void)p, (void)ud;
    return s * n;
}

/* Bare curl multi GET loop over the same URLs: requests per second. */
static double raw_curl_rate(int port, int feeds, double seconds)
{
    CURLM *m = curl_multi_init();
    int conc = feeds < 32 ? feeds : 32; /* ingest.feed_concurrency's default */
    CURL **e = ww_calloc((size_t)conc, sizeof *e);
    long done = 0, next = 0;
    char url[128];
    for (int i = 0; i < conc; i++) {
        e[i] = curl_easy_init();
        snprintf(url, sizeof url, "http://127.0.0.1:%d/f/%ld.xml", port, next++ % feeds);
        curl_easy_setopt(e[i], CURLOPT_URL, url);
        curl_easy_setopt(e[i], CURLOPT_WRITEFUNCTION, sink);
        curl_multi_add_handle(m, e[i]);
    }
    long t0 = wwt_ms();
    while (wwt_ms() - t0 < (long)(seconds * 1000)) {
        int running;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *h = msg->easy_handle;
            curl_multi_remove_handle(m, h);
            done++;
            snprintf(url, sizeof url, "http://127.0.0.1:%d/f/%ld.xml", port, next++ % feeds);
            curl_easy_setopt(h, CURLOPT_URL, url);
            curl_multi_add_handle(m, h);
        }
        curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    double rate = done / ((wwt_ms() - t0) / 1000.0);
    for (int i = 0; i < conc; i++) {
        curl_multi_remove_handle(m, e[i]);
        curl_easy_cleanup(e[i]);
    }
    ww_free(e);
    curl_multi_cleanup(m);
    return rate;
}

int main(int argc, char **argv)
{
    int feeds = 200;
    double seconds = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--feeds"))
            feeds = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds"))
            seconds = atof(argv[i + 1]);
    }
    /* 1. parsing */
    doc_t *docs = NULL;
    size_t n = 0, cap = 0;
    load_dir(WW_SOURCE_DATADIR "/../tests/fixtures/feeds", &docs, &n, &cap);
    if (wwt_shared_data()) {
        char *d = ww_asprintf("%s/feeds", wwt_shared_data());
        load_dir(d, &docs, &n, &cap);
        ww_free(d);
    }
    size_t items = 0, bytes = 0, parsed = 0;
    long t0 = wwt_ms();
    while (wwt_ms() - t0 < (long)(seconds * 1000)) {
        for (size_t i = 0; i < n; i++) {
            ww_feed_t *f = NULL;
            char err[200];
            if (ww_feed_parse(docs[i].buf, docs[i].len, "http://bench.example/f.xml", NULL, &f, err, sizeof err) == 0)
                items += f->n_items;
            ww_feed_destroy(&f);
            bytes += docs[i].len;
            parsed++;
        }
    }
    double el = (wwt_ms() - t0) / 1000.0;
    printf("parse: %zu documents (%zu distinct), %.0f items/s, %.0f documents/s, %.1f MB/s\n", parsed, n,
           items / el, parsed / el, bytes / el / 1e6);
    for (size_t i = 0; i < n; i++)
        ww_free(docs[i].buf);
    ww_free(docs);

    /* 2. polling by the real ingest */
    signal(SIGPIPE, SIG_IGN);
    int port = wwt_free_port();
    struct MHD_Daemon *httpd = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port,
                                                NULL, NULL, handler, NULL, MHD_OPTION_THREAD_POOL_SIZE,
                                                (unsigned)4, MHD_OPTION_END);
    if (!httpd) {
        fprintf(stderr, "cannot start the HTTP server\n");
        return 1;
    }
    wwt_redis_t redis;
    if (wwt_redis_start(&redis) < 0)
        return 1;
    char *dir = wwt_tmpdir("benchfeeds");
    size_t cfgcap = 4096 + (size_t)feeds * 96;
    char *cfg = ww_malloc(cfgcap);
    int p[6];
    for (int i = 0; i < 6; i++)
        p[i] = wwt_free_port();
    size_t off = (size_t)snprintf(cfg, cfgcap,
                                  "redis: %s\nprefix: \"b:\"\nlog_level: warn\n"
                                  "ingest:\n  intake: tcp://127.0.0.1:%d\n  dispatch: tcp://127.0.0.1:%d\n  feeds:\n",
                                  redis.url, p[0], p[1]);
    for (int i = 0; i < feeds; i++)
        off += (size_t)snprintf(cfg + off, cfgcap - off, "    - {url: \"http://127.0.0.1:%d/f/%d.xml\", interval: 10ms}\n",
                                port, i);
    snprintf(cfg + off, cfgcap - off,
             "extract:\n  results: tcp://127.0.0.1:%d\nalert:\n  work: tcp://127.0.0.1:%d\n"
             "  publish_in: tcp://127.0.0.1:%d\n  publish: tcp://127.0.0.1:%d\n",
             p[2], p[3], p[4], p[5]);
    char *config = wwt_write_file(dir, "wirewatch.yaml", cfg);
    char *log = ww_asprintf("%s/ingest.log", dir);
    /* a sink for dispatched events, so ingest never blocks on backpressure */
    void *zctx = zmq_ctx_new();
    void *pull = zmq_socket(zctx, ZMQ_PULL);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", p[1]);
    zmq_connect(pull, ep);
    const char *args[] = {"-c", config, NULL};
    pid_t ingest = wwt_spawn("wirewatch-ingest", args, log);
    wwt_sleep_ms(500);
    long polls0 = g_polls;
    t0 = wwt_ms();
    long events = 0;
    while (wwt_ms() - t0 < (long)(seconds * 1000)) {
        zmq_pollitem_t it = {pull, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 100) > 0) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, pull, 0) >= 0)
                events++;
            zmq_msg_close(&m);
        }
    }
    el = (wwt_ms() - t0) / 1000.0;
    double poll_rate = (g_polls - polls0) / el;
    wwt_stop(ingest, SIGTERM, 10000);
    printf("poll: %d feeds, interval 10ms, %.0f feeds/s polled by wirewatch-ingest (%ld event batches out)\n",
           feeds, poll_rate, events);
    double raw = raw_curl_rate(port, feeds, seconds < 3 ? seconds : 3);
    printf("limit: bare libcurl multi GET loop on the same server: %.0f requests/s; ratio %.2f\n", raw,
           raw > 0 ? poll_rate / raw : 0);
    zmq_close(pull);
    zmq_ctx_term(zctx);
    MHD_stop_daemon(httpd);
    wwt_redis_stop(&redis);
    wwt_rmdir(dir);
    ww_free(dir);
    ww_free(cfg);
    ww_free(config);
    ww_free(log);
    return 0;
}
