/* daemon.h - what every wirewatch daemon shares: the common flags of SPEC §2,
 * configuration precedence, signals, --daemon/--pidfile, --metrics. */
#ifndef WW_DAEMON_H
#define WW_DAEMON_H
#include <signal.h>
#include <stdbool.h>

#include "ww/config.h"

/* Set by the signal handlers; the main loops poll them. */
extern volatile sig_atomic_t ww_stop;   /* SIGTERM/SIGINT: drain and exit 0 */
extern volatile sig_atomic_t ww_reload; /* SIGHUP: reload config and rules */

typedef struct {
    const char *name;     /* program name without "wirewatch-", e.g. "ingest" */
    const char *summary;  /* one line for --help */
    char *config_path;    /* -c/--config, else $WIREWATCH_CONFIG */
    char *redis_flag;     /* --redis */
    char *log_level;      /* --log-level */
    bool daemonize;       /* --daemon */
    char *pidfile;        /* --pidfile */
    char *metrics;        /* --metrics HOST:PORT */
    ww_config_t cfg;      /* the resolved configuration */
} ww_daemon_t;

/* Parses the common flags, resolves the configuration, sets the log level,
 * installs signal handlers, daemonizes and writes the pid file when asked,
 * and starts the metrics endpoint. Returns -1 when the program should go on,
 * or an exit code (0 after --help/--version, 2 for bad usage or config). */
int ww_daemon_start(ww_daemon_t *d, int argc, char **argv);

/* Reloads the configuration file after SIGHUP. On error logs it and keeps the
 * old configuration. Returns 0 or -1. */
int ww_daemon_reload_config(ww_daemon_t *d);

/* Removes the pid file, stops the metrics endpoint, frees the config. */
void ww_daemon_finish(ww_daemon_t *d);

/* Installs SIGTERM/SIGINT/SIGHUP handlers that set ww_stop/ww_reload (no
 * SA_RESTART, so blocking calls return EINTR) and ignores SIGPIPE. */
void ww_signals_install(void);

/* Current time in Unix ms, and a monotonic clock in ms. */
#include <stdint.h>
int64_t ww_now_ms(void);
int64_t ww_mono_ms(void);
/* Monotonic clock in microseconds (for latency histograms). */
int64_t ww_mono_us(void);

/* Records how long one batch took in a stage, from start_us (ww_mono_us) to now,
 * in the histogram wirewatch_stage_seconds{stage="STAGE"}. */
void ww_stage_observe(const char *stage, int64_t start_us);
/* Records now - ingested_at_ms (Unix ms, stamped by ingest) in the histogram
 * wirewatch_ingest_to_publish_seconds; called by the alert stage once an event's
 * alerts are published. Ignores a zero or future stamp. */
void ww_latency_since_ingest(int64_t ingested_at_ms);



/* Tells systemd (Type=notify) that start-up is complete; no-op elsewhere. */
void ww_daemon_ready(const char *status);
/* Pings the systemd watchdog; call from the main loop (rate-limited inside). */
void ww_daemon_watchdog(void);
#endif
