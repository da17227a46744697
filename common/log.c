/* log.c - stderr logger, key=value lines. */
#include "ww/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

ww_log_level_t ww_log_level = WW_LOG_INFO;
static const char *ww_log_program = "wirewatch";
static time_t ww_log_last[WW_LOG_SLOTS];
static bool ww_log_syslog;

void ww_log_use_syslog(bool on)
{
    if (on && !ww_log_syslog)
        openlog(ww_log_program, LOG_PID, LOG_DAEMON);
    ww_log_syslog = on;
}

int ww_log_parse_level(const char *s, ww_log_level_t *out)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++) {
        if (s && strcmp(s, names[i]) == 0) {
            *out = (ww_log_level_t)i;
            return 0;
        }
    }
    return -1;
}

void ww_log_set_program(const char *name)
{
    ww_log_program = name;
}

void ww_log_write(ww_log_level_t lvl, const char *module, const char *fmt, ...)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ww_log_syslog) {
        static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
        syslog(prio[lvl], "level=%s module=%s %s", names[lvl], module, msg);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    /* one write per line so concurrent processes do not interleave */
    char line[2300];
    int n = snprintf(line, sizeof line, "%s.%03ldZ %s[%d] level=%s module=%s %s\n", when,
                     ts.tv_nsec / 1000000, ww_log_program, (int)getpid(), names[lvl], module, msg);
    if (n > (int)sizeof line)
        n = (int)sizeof line;
    if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0) {
        /* nowhere left to report it */
    }
}

bool ww_log_ratelimit(int slot, int period_s)
{
    if (slot < 0 || slot >= WW_LOG_SLOTS)
        return true;
    time_t now = time(NULL);
    if (ww_log_last[slot] && now - ww_log_last[slot] < period_s)
        return false;
    ww_log_last[slot] = now;
    return true;
}
