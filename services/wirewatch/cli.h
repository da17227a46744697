/* cli.h - the `wirewatch` command-line client: one file per command group. */
#ifndef WW_CLI_H
#define WW_CLI_H
#include <stdbool.h>

#include "ww/alert.h"
#include "ww/config.h"
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

/* Loads rules text into Redis (what `rules load` does). Returns 0 or -1 with
 * a message printed. *version gets the rule set version (16 hex digits + NUL). */
int cli_rules_store(ww_redis_t *r, const char *prefix, const char *path, char version[17], size_t *count);

#endif
