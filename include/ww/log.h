/* log.h - one log macro family: level checked before formatting, key=value
 * lines on stderr (journald-friendly), module tag on every line. */
#ifndef WW_LOG_H
#define WW_LOG_H
#include <stdbool.h>

typedef enum { WW_LOG_ERROR = 0, WW_LOG_WARN, WW_LOG_INFO, WW_LOG_DEBUG } ww_log_level_t;

extern ww_log_level_t ww_log_level;

/* Parses "error|warn|info|debug"; returns 0 and sets *out, or -1. */
int ww_log_parse_level(const char *s, ww_log_level_t *out);
/* Sets the process name that opens each line (e.g. "ingest"). Borrowed: pass a literal. */
void ww_log_set_program(const char *name);
/* Sends lines to syslog instead of stderr (after --daemon). */
void ww_log_use_syslog(bool on);
void ww_log_write(ww_log_level_t lvl, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Rate limit: returns true at most once per `period_s` seconds for `slot`
 * (0..WW_LOG_SLOTS-1). Used to log each kind of bad input once a minute. */
#define WW_LOG_SLOTS 64
bool ww_log_ratelimit(int slot, int period_s);

#define WW_LOG(lvl, mod, ...)                                                   \
    do {                                                                        \
        if ((lvl) <= ww_log_level)                                              \
            ww_log_write((lvl), (mod), __VA_ARGS__);                            \
    } while (0)
#define ww_error(mod, ...) WW_LOG(WW_LOG_ERROR, mod, __VA_ARGS__)
#define ww_warn(mod, ...)  WW_LOG(WW_LOG_WARN, mod, __VA_ARGS__)
#define ww_info(mod, ...)  WW_LOG(WW_LOG_INFO, mod, __VA_ARGS__)
#define ww_debug(mod, ...) WW_LOG(WW_LOG_DEBUG, mod, __VA_ARGS__)

#endif
