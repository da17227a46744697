/* metrics.h - process-wide counters, gauges and histograms served as Prometheus text on
 * GET /metrics (libmicrohttpd), plus GET /health. Counters are lock-free
 * atomics; registering is done once at start-up. */
#ifndef WW_METRICS_H
#define WW_METRICS_H
#include <stddef.h>
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

/* ---- histograms (Prometheus: NAME_bucket{le=...}, NAME_sum, NAME_count) ---------- */
typedef struct ww_histogram ww_histogram_t;

/* Default latency buckets in seconds: 100 us to 10 s (WW_LATENCY_BUCKETS of them). */
#define WW_LATENCY_BUCKETS 16
extern const double ww_latency_buckets[WW_LATENCY_BUCKETS];

/* Registers a histogram. name may carry labels ("wirewatch_stage_seconds{stage=\"extract\"}");
 * bounds are the upper bounds of the buckets, increasing (copied; at most 32); NULL/0:
 * ww_latency_buckets. Same name twice: the same handle. Borrowed for the process lifetime. */
ww_histogram_t *ww_metric_histogram(const char *name, const char *help, const double *bounds, size_t n_bounds);
/* Records one observation (lock-free). */
void ww_histogram_observe(ww_histogram_t *h, double v);
/* Records a duration given in milliseconds as seconds. */
void ww_histogram_observe_ms(ww_histogram_t *h, double ms);
/* Number of observations so far. */
uint64_t ww_histogram_count(const ww_histogram_t *h);

/* ---- info gauges: one series whose label value changes (e.g. the rules version) --- */
/* Sets `name{label="value"} 1`, replacing the previous value of the label (so only
 * the current one is exported). value is copied. */
void ww_metric_info(const char *name, const char *help, const char *label, const char *value);

/* Marks the main loop alive: GET /health answers 503 when it has not been called for
 * 10 s (after a first call). ww_daemon_watchdog calls it. */
void ww_metrics_heartbeat(void);

/* Starts serving on "HOST:PORT". Returns 0 or -1 (logged). */
int ww_metrics_serve(const char *hostport);
void ww_metrics_stop(void);

/* Renders all metrics as Prometheus text. Caller owns. */
char *ww_metrics_render(void);

#endif
