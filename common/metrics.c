/* metrics.c - Prometheus text exposition over libmicrohttpd. */
#include "ww/metrics.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        resp = MHD_create_response_from_buffer(3, (void *)"ok\n", MHD_RESPMEM_PERSISTENT);
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
