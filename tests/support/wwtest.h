/* wwtest.h - test harness helpers: a throwaway redis-server, free ports,
 * spawning the real daemons, temp files. Used by cmocka tests and benches. */
#ifndef WWTEST_H
#define WWTEST_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ww/event.h"

typedef struct {
    pid_t pid;
    bool persistent; /* append-only file on */
    char dir[256];  /* temp dir holding the socket and log */
    char url[320];  /* unix://.../redis.sock */
} wwt_redis_t;

/* Starts redis-server on a unix socket in a new temp dir; waits until it
 * answers. Returns 0 or -1. */
int wwt_redis_start(wwt_redis_t *r);
/* The same with an append-only file (fsync always), so that a restart with
 * wwt_redis_restart keeps every key (a production-like Redis). */
int wwt_redis_start_persistent(wwt_redis_t *r);
/* Stops it (SIGTERM, waits) and removes the temp dir. */
void wwt_redis_stop(wwt_redis_t *r);
/* Restarts a stopped server at the same socket. */
int wwt_redis_restart(wwt_redis_t *r);

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int wwt_free_port(void);

/* Creates a temp dir (mkdtemp under $TMPDIR or /tmp). Caller owns the path. */
char *wwt_tmpdir(const char *tag);
/* Removes a temp dir and the files directly in it. */
void wwt_rmdir(const char *dir);
/* Writes content to dir/name. Returns the path (caller owns). */
char *wwt_write_file(const char *dir, const char *name, const char *content);

/* Path of a built program (WW_BIN_DIR env, else the compiled-in bin dir). Caller owns. */
char *wwt_bin(const char *name);
/* Starts program `name` from the bin dir with argv (argv[0] filled in; NULL
 * terminated, up to 16 args); stderr goes to logfile when non-NULL. Returns pid. */
pid_t wwt_spawn(const char *name, const char *const *args, const char *logfile);
/* Sends sig and waits up to timeout_ms; SIGKILL after that. Returns the wait
 * status, or -1. */
int wwt_stop(pid_t pid, int sig, int timeout_ms);
/* Like wwt_spawn, with stdout (and stderr) redirected to files when non-NULL. */
pid_t wwt_spawn_io(const char *name, const char *const *args, const char *stdout_file,
                   const char *stderr_file);
/* Runs a program to completion, capturing stdout (and stderr too when
 * merge_stderr) into *out (caller owns, may be NULL). Returns its exit code,
 * or -1. */
int wwt_run(const char *name, const char *const *args, const char *stdin_file, char **out,
            bool merge_stderr);
/* Reads a whole file. Caller owns; NULL when unreadable. */
char *wwt_read_file(const char *path);

/* A whole pipeline on free ports: redis-server, ingest, extract and alert
 * workers, one config file (prefix "t:"), rules from `rules_yaml`. */
typedef struct {
    wwt_redis_t redis;
    char *dir, *config, *rules, *log;
    char intake[64], publish[64];
    pid_t ingest, extract[8], alert[8];
    int n_extract, n_alert;
} wwt_pipeline_t;

/* Starts everything and waits until every worker has reported in. Returns 0
 * or -1 (the log is at p->log). */
int wwt_pipeline_start(wwt_pipeline_t *p, const char *rules_yaml, int n_extract, int n_alert);
/* The same; ingest_extra (may be NULL) is appended to the ingest: section
 * (e.g. "  redeliver_after: 2s\n"), and persistent selects a Redis with an
 * append-only file. */
int wwt_pipeline_start_ex(wwt_pipeline_t *p, const char *rules_yaml, int n_extract, int n_alert,
                          const char *ingest_extra, bool persistent);
/* Starts one more worker ("extract" or "alert") with the pipeline's config;
 * returns its pid (not tracked by wwt_pipeline_stop). */
pid_t wwt_pipeline_spawn(wwt_pipeline_t *p, const char *role);
/* Stops the daemons with SIGTERM; returns the number that did not exit 0. */
int wwt_pipeline_stop(wwt_pipeline_t *p);
/* HGET as a number (0 when absent), and XLEN (-1 on error). */
long long wwt_redis_hget(const wwt_redis_t *r, const char *key, const char *field);
long long wwt_redis_xlen(const wwt_redis_t *r, const char *key);
/* Waits until stream `key` has not grown for quiet_ms, or until the
 * wwt_ms() deadline `until`. Returns true when it went quiet in time. */
bool wwt_wait_stream_quiet(const wwt_redis_t *r, const char *key, long quiet_ms, long until);
/* Counts Redis keys matching a pattern (KEYS), -1 on error. */
long wwt_redis_count_keys(const wwt_redis_t *r, const char *pattern);
/* Runs a Redis command; caller frees the reply. NULL on failure. */
struct redisReply *wwt_redis_cmd(const wwt_redis_t *r, const char *fmt, ...);

/* Directory of the shared real data (../shared/data) when present, else NULL.
 * Borrowed (static). */
const char *wwt_shared_data(void);

/* Writes dir/name: a configuration that puts every ZeroMQ endpoint (intake,
 * dispatch, results, work, publish_in, publish) on a free loopback port and
 * nothing else (what `wirewatch up` needs to run beside other tests).
 * Returns its path (caller owns). */
char *wwt_endpoints_config(const char *dir, const char *name);

/* n events of about `size` bytes for benchmarks: Reuters articles from
 * ../shared/data (at most max_articles of them, 0: all) concatenated, else
 * text generated from words[0..n_words) with rand_r(seed); every event
 * enriched by the bundled extractor (entities, keywords, quotes), with
 * source, lang, event times 1 s apart, seq and id. *real says whether real
 * articles were used. Caller owns the events and the array. */
ww_event_t **wwt_news_events(size_t n, size_t size, const char *const *words, size_t n_words, unsigned seed,
                             size_t max_articles, bool *real);

/* Milliseconds since an arbitrary epoch (monotonic) and sleeping. */
long wwt_ms(void);
void wwt_sleep_ms(long ms);

#endif
