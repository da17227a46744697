/* metrics.h - process-wide counters and gauges served as Prometheus text on
 * GET /metrics (libmicrohttpd), plus GET /health. Counters are lock-free
 * atomics; registering is done once at start-up. */
#ifndef WW_METRICS_H
#define WW_METRICS_H
#include <stdint.h>

typedef struct ww_metric ww_metric_t;

/* Registers a counter (kind "counter") or gauge ("gauge"). name may carry
 * labels: "wirewatch_events_dropped_total{reason=\"json\"}". help is shared by
 * all label sets of one name. Returns a handle valid for the process
 * lifetime (borrowed). Registering the same name twice returns the same handle. */
ww_metric_t *ww_metric_counter(const char *name, const char *help);
ww_metric_t *ww_metric_gauge(const char *name, const char *help);

void ww_metric_add(ww_metric_t *m, uint64_t n);
void ww_metric_set(ww_metric_t *m, int64_t v);
int64_t ww_metric_value(const ww_metric_t *m);

/* Starts serving on "HOST:PORT". Returns 0 or -1 (logged). */
int ww_metrics_serve(const char *hostport);
void ww_metrics_stop(void);

/* Renders all metrics as Prometheus text. Caller owns. */
char *ww_metrics_render(void);

#endif
