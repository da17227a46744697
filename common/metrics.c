/* metrics.c - Prometheus text exposition over libmicrohttpd. */
#include "ww/metrics.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ww/alloc.h"
#include "ww/log.h"

#define WW_METRICS_MAX 256

struct ww_metric {
    char *name;          /* full series name, labels included */
    char *help;          /* HELP text */
    const char *kind;    /* "counter" or "gauge" */
    _Atomic int64_t value;
};

static struct ww_metric ww_metrics[WW_METRICS_MAX];
static _Atomic size_t ww_metrics_n;
static pthread_mutex_t ww_metrics_lock = PTHREAD_MUTEX_INITIALIZER;
static struct MHD_Daemon *ww_mhd;

#define WW_HIST_MAX 64
#define WW_HIST_BOUNDS 32
#define WW_INFO_MAX 16

const double ww_latency_buckets[WW_LATENCY_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                       0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                       1,      2.5,     5,      10};

struct ww_histogram {
    char *base;                /* series name without labels */
    char *labels;              /* the labels inside {}, without braces ("" when none) */
    char *full;                /* name as registered, for lookups */
    char *help;                /* HELP text */
    double bounds[WW_HIST_BOUNDS]; /* bucket upper bounds, increasing */
    size_t n_bounds;
    _Atomic uint64_t buckets[WW_HIST_BOUNDS + 1]; /* per bucket (not cumulative); last: +Inf */
    _Atomic uint64_t count;
    _Atomic double sum;
};
static struct ww_histogram ww_hists[WW_HIST_MAX];
static _Atomic size_t ww_hists_n;

/* Info gauges: `name{label="value"} 1`, value replaced under ww_metrics_lock. */
static struct {
    char *name, *help, *label, *value;
} ww_infos[WW_INFO_MAX];
static size_t ww_infos_n;

/* Monotonic ms of the last ww_metrics_heartbeat (0: never): /health says whether
 * the main loop is alive. */
static _Atomic int64_t ww_metrics_beat;

static ww_metric_t *metric_register(const char *name, const char *help, const char *kind)
{
    pthread_mutex_lock(&ww_metrics_lock);
    size_t n = atomic_load(&ww_metrics_n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ww_metrics[i].name, name) == 0) {
            pthread_mutex_unlock(&ww_metrics_lock);
            return &ww_metrics[i];
        }
    }
    if (n == WW_METRICS_MAX) {
        pthread_mutex_unlock(&ww_metrics_lock);
        ww_error("metrics", "msg=\"too many metrics\" name=%s", name);
        abort();
    }
    ww_metric_t *m = &ww_metrics[n];
    m->name = ww_strdup(name);
    m->help = ww_strdup(help);
    m->kind = kind;
    atomic_store(&m->value, 0);
    atomic_store(&ww_metrics_n, n + 1);
    pthread_mutex_unlock(&ww_metrics_lock);
    return m;
}

ww_metric_t *ww_metric_counter(const char *name, const char *help)
{
    return metric_register(name, help, "counter");
}

ww_metric_t *ww_metric_gauge(const char *name, const char *help)
{
    return metric_register(name, help, "gauge");
}

void ww_metric_add(ww_metric_t *m, uint64_t n)
{
    atomic_fetch_add(&m->value, (int64_t)n);
}

void ww_metric_set(ww_metric_t *m, int64_t v)
{
    atomic_store(&m->value, v);
}

int64_t ww_metric_value(const ww_metric_t *m)
{
    return atomic_load(&((ww_metric_t *)m)->value);
}

ww_histogram_t *ww_metric_histogram(const char *name, const char *help, const double *bounds, size_t n_bounds)
{
    if (!bounds || !n_bounds) {
        bounds = ww_latency_buckets;
        n_bounds = WW_LATENCY_BUCKETS;
    }
    if (n_bounds > WW_HIST_BOUNDS)
        n_bounds = WW_HIST_BOUNDS;
    pthread_mutex_lock(&ww_metrics_lock);
    size_t n = atomic_load(&ww_hists_n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ww_hists[i].full, name) == 0) {
            pthread_mutex_unlock(&ww_metrics_lock);
            return &ww_hists[i];
        }
    }
    if (n == WW_HIST_MAX) {
        pthread_mutex_unlock(&ww_metrics_lock);
        ww_error("metrics", "msg=\"too many histograms\" name=%s", name);
        abort();
    }
    ww_histogram_t *h = &ww_hists[n];
    const char *brace = strchr(name, '{');
    h->full = ww_strdup(name);
    h->base = ww_strndup(name, brace ? (size_t)(brace - name) : strlen(name));
    h->labels = ww_strdup(brace ? brace + 1 : "");
    char *close = strrchr(h->labels, '}');
    if (close)
        *close = '\0';
    h->help = ww_strdup(help);
    memcpy(h->bounds, bounds, n_bounds * sizeof *bounds);
    h->n_bounds = n_bounds;
    for (size_t i = 0; i <= WW_HIST_BOUNDS; i++)
        atomic_store(&h->buckets[i], 0);
    atomic_store(&h->count, 0);
    atomic_store(&h->sum, 0.0);
    atomic_store(&ww_hists_n, n + 1);
    pthread_mutex_unlock(&ww_metrics_lock);
    return h;
}

void ww_histogram_observe(ww_histogram_t *h, double v)
{
    size_t b = 0;
    while (b < h->n_bounds && v > h->bounds[b])
        b++;
    atomic_fetch_add(&h->buckets[b], 1);
    double old = atomic_load(&h->sum);
    while (!atomic_compare_exchange_weak(&h->sum, &old, old + v)) {
    }
    atomic_fetch_add(&h->count, 1);
}

void ww_histogram_observe_ms(ww_histogram_t *h, double ms)
{
    ww_histogram_observe(h, ms / 1000.0);
}

uint64_t ww_histogram_count(const ww_histogram_t *h)
{
    return atomic_load(&((ww_histogram_t *)h)->count);
}

void ww_metric_info(const char *name, const char *help, const char *label, const char *value)
{
    pthread_mutex_lock(&ww_metrics_lock);
    size_t i = 0;
    while (i < ww_infos_n && strcmp(ww_infos[i].name, name) != 0)
        i++;
    if (i == ww_infos_n) {
        if (ww_infos_n == WW_INFO_MAX) {
            pthread_mutex_unlock(&ww_metrics_lock);
            ww_error("metrics", "msg=\"too many info metrics\" name=%s", name);
            return;
        }
        ww_infos[i].name = ww_strdup(name);
        ww_infos[i].help = ww_strdup(help);
        ww_infos[i].label = ww_strdup(label);
        ww_infos_n++;
    }
    ww_free(ww_infos[i].value);
    ww_infos[i].value = ww_strdup(value);
    pthread_mutex_unlock(&ww_metrics_lock);
}

void ww_metrics_heartbeat(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    atomic_store(&ww_metrics_beat, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}


/* Writes a label value escaped for the text format (\\, \", \n). */
static void append_label_value(char **out, size_t *cap, size_t *len, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            ww_appendf(out, cap, len, "\\%c", *v);
        else if (*v == '\n')
            ww_appendf(out, cap, len, "\\n");
        else
            ww_appendf(out, cap, len, "%c", *v);
    }
}

/* Appends the histograms and the info gauges. */
static void render_more(char **out, size_t *cap, size_t *len)
{
    size_t n = atomic_load(&ww_hists_n);
    for (size_t i = 0; i < n; i++) {
        ww_histogram_t *h = &ww_hists[i];
        bool first = true;
        for (size_t j = 0; j < i && first; j++)
            first = strcmp(ww_hists[j].base, h->base) != 0;
        if (first)
            ww_appendf(out, cap, len, "# HELP %s %s\n# TYPE %s histogram\n", h->base, h->help, h->base);
        const char *sep = h->labels[0] ? "," : "";
        uint64_t cum = 0;
        for (size_t b = 0; b <= h->n_bounds; b++) {
            cum += atomic_load(&h->buckets[b]);
            if (b < h->n_bounds)
                ww_appendf(out, cap, len, "%s_bucket{%s%sle=\"%g\"} %llu\n", h->base, h->labels, sep, h->bounds[b],
                       (unsigned long long)cum);
            else
                ww_appendf(out, cap, len, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", h->base, h->labels, sep,
                       (unsigned long long)cum);
        }
        /* count after the buckets so that count >= every bucket even mid-update */
        uint64_t count = atomic_load(&h->count);
        if (count < cum)
            count = cum;
        const char *lb = h->labels[0] ? "{" : "", *rb = h->labels[0] ? "}" : "";
        ww_appendf(out, cap, len, "%s_sum%s%s%s %.9g\n%s_count%s%s%s %llu\n", h->base, lb, h->labels, rb,
               atomic_load(&h->sum), h->base, lb, h->labels, rb, (unsigned long long)count);
    }
    pthread_mutex_lock(&ww_metrics_lock);
    for (size_t i = 0; i < ww_infos_n; i++) {
        ww_appendf(out, cap, len, "# HELP %s %s\n# TYPE %s gauge\n%s{%s=\"", ww_infos[i].name, ww_infos[i].help,
               ww_infos[i].name, ww_infos[i].name, ww_infos[i].label);
        append_label_value(out, cap, len, ww_infos[i].value ? ww_infos[i].value : "");
        ww_appendf(out, cap, len, "\"} 1\n");
    }
    pthread_mutex_unlock(&ww_metrics_lock);
}

/* The series name up to '{'. */
static size_t base_len(const char *name)
{
    const char *b = strchr(name, '{');
    return b ? (size_t)(b - name) : strlen(name);
}

char *ww_metrics_render(void)
{
    size_t n = atomic_load(&ww_metrics_n);
    size_t cap = 4096, len = 0;
    char *out = ww_malloc(cap);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const ww_metric_t *m = &ww_metrics[i];
        size_t bl = base_len(m->name);
        bool first = true;
        for (size_t j = 0; j < i; j++) {
            if (base_len(ww_metrics[j].name) == bl && strncmp(ww_metrics[j].name, m->name, bl) == 0) {
                first = false;
                break;
            }
        }
        char line[1024];
        int k = 0;
        if (first)
            k = snprintf(line, sizeof line, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)bl, m->name,
                         m->help, (int)bl, m->name, m->kind);
        k += snprintf(line + k, sizeof line - (size_t)k, "%s %lld\n", m->name,
                      (long long)atomic_load(&((ww_metric_t *)m)->value));
        WW_GROW(out, cap, len + (size_t)k + 1);
        memcpy(out + len, line, (size_t)k + 1);
        len += (size_t)k;
    }
    render_more(&out, &cap, &len);
    return out;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)con_cls;
    struct MHD_Response *resp;
    unsigned status = MHD_HTTP_OK;
    const char *ctype = "text/plain; version=0.0.4";
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        resp = MHD_create_response_from_buffer(19, (void *)"method not allowed\n",
                                               MHD_RESPMEM_PERSISTENT);
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
    } else if (strcmp(url, "/metrics") == 0) {
        char *body = ww_metrics_render();
        resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    } else if (strcmp(url, "/health") == 0) {
        /* healthy while the main loop beats (ww_daemon_watchdog) at least every 10 s */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        int64_t beat = atomic_load(&ww_metrics_beat);
        if (beat && now - beat > 10000) {
            char *body = ww_malloc(96);
            int k = snprintf(body, 96, "stalled: main loop silent for %lld ms\n", (long long)(now - beat));
            resp = MHD_create_response_from_buffer((size_t)k, body, MHD_RESPMEM_MUST_FREE);
            status = MHD_HTTP_SERVICE_UNAVAILABLE;
        } else {
            resp = MHD_create_response_from_buffer(3, (void *)"ok\n", MHD_RESPMEM_PERSISTENT);
        }
    } else {
        resp = MHD_create_response_from_buffer(10, (void *)"not found\n", MHD_RESPMEM_PERSISTENT);
        status = MHD_HTTP_NOT_FOUND;
    }
    MHD_add_response_header(resp, "Content-Type", ctype);
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

int ww_metrics_serve(const char *hostport)
{
    const char *colon = strrchr(hostport, ':');
    if (!colon) {
        ww_error("metrics", "msg=\"--metrics wants HOST:PORT\" value=%s", hostport);
        return -1;
    }
    char host[256];
    snprintf(host, sizeof host, "%.*s", (int)(colon - hostport), hostport);
    int port = atoi(colon + 1);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (!*host || strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    if (port <= 0 || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        ww_error("metrics", "msg=\"bad metrics address\" value=%s", hostport);
        return -1;
    }
    ww_mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port,
                              NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
    if (!ww_mhd) {
        ww_error("metrics", "msg=\"cannot serve metrics\" address=%s", hostport);
        return -1;
    }
    ww_info("metrics", "msg=\"serving\" address=%s", hostport);
    return 0;
}

void ww_metrics_stop(void)
{
    if (ww_mhd) {
        MHD_stop_daemon(ww_mhd);
        ww_mhd = NULL;
    }
}
