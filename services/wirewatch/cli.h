/* cli.h - the `wirewatch` command-line client: one file per command group. */
#ifndef WW_CLI_H
#define WW_CLI_H
#include <stdbool.h>

#include "ww/alert.h"
#include "ww/archive.h"
#include "ww/config.h"
#include "ww/extract.h"
#include "ww/redis.h"

/* Options every command accepts: -c FILE, --redis URL. */
typedef struct {
    const char *config_path;
    const char *redis_url;
    ww_config_t cfg;
} cli_common_t;

/* Resolves the configuration (SPEC §2 precedence). Prints the error and
 * returns 2 on failure, else 0. */
int cli_load_config(cli_common_t *c);
/* Connects to the configured Redis within timeout_ms. Prints an error and
 * returns NULL when there is none or it cannot be reached. Caller owns. */
ww_redis_t *cli_redis(const cli_common_t *c, long timeout_ms);

/* Prints one alert readably (severity, channel, rule, title, evidence). */
void cli_print_alert(const ww_alert_t *a, bool color);

int cmd_up(int argc, char **argv);
int cmd_subscribe(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_archive(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_ner(int argc, char **argv);
int cmd_console(int argc, char **argv);

/* Loads rules text into Redis (what `rules load` does). Returns 0 or -1 with
 * a message printed. *version gets the rule set version (16 hex digits + NUL). */
int cli_rules_store(ww_redis_t *r, const char *prefix, const char *path, char version[17], size_t *count);
/* The same for rules text in memory (`name` stands for the file in messages).
 * Returns 0, or -1 with a message in err (a parse error: "NAME:LINE:COL: ..."). */
int cli_rules_store_buffer(ww_redis_t *r, const char *prefix, const char *text, size_t len, const char *name,
                           char version[17], size_t *count, char *err, size_t errlen);

/* ---- backtests (`rules test`, the console) ------------------------------------ */

/* Fills in entities for archived events that have none, as live extract
 * workers do. With `shared` set (borrowed, immutable, may be shared by
 * threads) that extractor is used; else the bundled one is loaded on first
 * use. Zero-initialise; one per thread. */
typedef struct {
    const ww_extractor_t *shared; /* borrowed extractor, NULL: load x lazily */
    ww_extractor_t *x;            /* owned, loaded on first use */
    ww_extract_scratch_t *s;      /* owned scratch */
    bool tried;                   /* loading x was attempted */
} cli_enricher_t;
void cli_enrich(cli_enricher_t *le, ww_event_t *ev);
void cli_enricher_free(cli_enricher_t *le);

/* Bounds of one backtest (all 0: none). */
typedef struct {
    uint64_t max_events; /* stop after reading this many events */
    int64_t deadline_ms; /* stop at this ww_mono_ms() time */
    const _Atomic bool *stop; /* stop when it becomes true (shutdown); NULL: never */
} cli_backtest_limits_t;

/* What one backtest saw. */
typedef struct {
    uint64_t events, alerts;
    uint64_t suppressed[4];  /* indexed by ww_fire_t */
    bool truncated;          /* a limit stopped it before the end of the archive */
    const char *stopped_by;  /* "max_events" or "timeout" when truncated (static) */
} cli_backtest_result_t;

/* Called for every alert that fires (a and hit are borrowed for the call;
 * t is the event time, also the alert's fired_at). */
typedef void (*cli_backtest_fn)(void *ud, const ww_alert_t *a, const ww_hit_t *hit, int64_t t);

/* Runs rs over every event rd yields, in order: events without entities go
 * through le, hits through the same firing decision as the live worker
 * (ww_alert_state_decide, event time). lim may be NULL. Returns 0, or -1 when
 * reading the archive failed (*res holds what was seen until then). */
int cli_backtest(const ww_ruleset_t *rs, ww_archive_reader_t *rd, cli_enricher_t *le,
                 const cli_backtest_limits_t *lim, cli_backtest_fn fn, void *ud, cli_backtest_result_t *res);

#endif
