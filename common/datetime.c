/* datetime.c - tolerant RFC 822 / RFC 3339 date parsing (see datetime.h).
 *
 * Two paths: a string that opens with a four-digit year and '-' (or eight
 * digits) is read as ISO 8601 / RFC 3339, strictly left to right; everything
 * else is read as RFC 822 as a bag of tokens (weekday, day, month name, year,
 * time, zone) in any of the orders feeds use, asctime's included. Calendar
 * arithmetic is done here (days_from_civil), not with mktime/timegm, so the
 * result never depends on the process's time zone. */
#include "ww/datetime.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int64_t ww_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* The broken-down time both paths fill before validation. */
typedef struct {
    int64_t year;
    int mon, day, hour, min, sec, msec;
    int zone_min; /* offset east of UTC in minutes */
} ww_tm_t;

/* Validates t and converts it. Returns 0 and *ms, or -1. */
static int tm_to_ms(const ww_tm_t *t, int64_t *ms)
{
    if (t->year < 1 || t->year > 9999 || t->mon < 1 || t->mon > 12 || t->day < 1 ||
        t->day > days_in_month(t->year, t->mon) || t->hour < 0 || t->hour > 24 || t->min < 0 ||
        t->min > 59 || t->sec < 0 || t->sec > 60 || (t->hour == 24 && (t->min || t->sec)) ||
        t->zone_min < -18 * 60 || t->zone_min > 18 * 60)
        return -1;
    int sec = t->sec == 60 ? 59 : t->sec; /* a leap second reads as :59 */
    int64_t days = ww_days_from_civil(t->year, t->mon, t->day);
    int64_t s = days * 86400 + t->hour * 3600 + t->min * 60 + sec - (int64_t)t->zone_min * 60;
    *ms = s * 1000 + t->msec;
    return 0;
}

/* Reads exactly n digits at *p. Returns the value or -1. */
static int digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    return v;
}

/* Reads a fraction ".ddd" (any number of digits) as milliseconds. */
static int fraction(const char **p)
{
    if (**p != '.' && **p != ',')
        return 0;
    (*p)++;
    int ms = 0, n = 0;
    while (isdigit((unsigned char)**p)) {
        if (n < 3)
            ms = ms * 10 + (**p - '0');
        n++;
        (*p)++;
    }
    for (; n < 3; n++)
        ms *= 10;
    return ms;
}

/* Reads a numeric zone "+hh:mm", "+hhmm", "+hh" at *p (sign included).
 * Returns 0 and *zone, or -1. */
static int numeric_zone(const char **p, int *zone)
{
    int sign = **p == '-' ? -1 : 1;
    (*p)++;
    int h = digits(p, 2);
    if (h < 0)
        return -1;
    int m = 0;
    if (**p == ':')
        (*p)++;
    if (isdigit((unsigned char)**p)) {
        m = digits(p, 2);
        if (m < 0 || m > 59)
            return -1;
    }
    *zone = sign * (h * 60 + m);
    return 0;
}

static int parse_iso(const char *p, int64_t *ms)
{
    ww_tm_t t;
    memset(&t, 0, sizeof t);
    int y = digits(&p, 4);
    if (y < 0)
        return -1;
    t.year = y;
    bool ext = *p == '-';
    if (ext)
        p++;
    if ((t.mon = digits(&p, 2)) < 0)
        return -1;
    if (ext && *p++ != '-')
        return -1;
    if ((t.day = digits(&p, 2)) < 0)
        return -1;
    if (*p == 'T' || *p == 't' || (*p == ' ' && isdigit((unsigned char)p[1]))) {
        p++;
        if ((t.hour = digits(&p, 2)) < 0)
            return -1;
        bool colon = *p == ':';
        if (colon)
            p++;
        if ((t.min = digits(&p, 2)) < 0)
            return -1;
        if ((colon && *p == ':') || (!colon && isdigit((unsigned char)*p))) {
            if (colon)
                p++;
            if ((t.sec = digits(&p, 2)) < 0)
                return -1;
            t.msec = fraction(&p);
        }
        while (*p == ' ')
            p++;
        if (*p == 'Z' || *p == 'z')
            p++;
        else if (*p == '+' || *p == '-') {
            if (numeric_zone(&p, &t.zone_min) < 0)
                return -1;
        } else if (strncasecmp(p, "UTC", 3) == 0 || strncasecmp(p, "GMT", 3) == 0)
            p += 3;
    }
    while (isspace((unsigned char)*p))
        p++;
    if (*p)
        return -1;
    return tm_to_ms(&t, ms);
}

static const char *const ww_months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                        "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const ww_wdays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/* Named zones of RFC 822 plus the few common ones feeds write. */
static const struct {
    const char *name;
    int minutes;
} ww_zones[] = {
    {"gmt", 0},      {"ut", 0},       {"utc", 0},      {"z", 0},        {"edt", -4 * 60},
    {"est", -5 * 60}, {"cdt", -5 * 60}, {"cst", -6 * 60}, {"mdt", -6 * 60}, {"mst", -7 * 60},
    {"pdt", -7 * 60}, {"pst", -8 * 60}, {"bst", 60},     {"cet", 60},     {"cest", 120},
    {"met", 60},     {"mest", 120},   {"eet", 120},    {"eest", 180},   {"wet", 0},
    {"west", 60},    {"jst", 540},    {"kst", 540},    {"hkt", 480},    {"sgt", 480},
    {"aest", 600},   {"aedt", 660},   {"nzst", 720},   {"nzdt", 780},   {"ist", 330},
    {"akst", -9 * 60}, {"akdt", -8 * 60}, {"hst", -10 * 60},
};

/* Reads "hh:mm[:ss[.fff]]" (hour may be one digit). Returns 0 or -1. */
static int parse_clock(const char **pp, ww_tm_t *t)
{
    const char *p = *pp;
    int h = 0, n = 0;
    while (isdigit((unsigned char)*p) && n < 2) {
        h = h * 10 + (*p++ - '0');
        n++;
    }
    if (!n || (*p != ':' && *p != '.'))
        return -1;
    p++;
    if ((t->min = digits(&p, 2)) < 0)
        return -1;
    t->hour = h;
    if (*p == ':' || (*p == '.' && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
                      !isdigit((unsigned char)p[3]))) {
        p++;
        if ((t->sec = digits(&p, 2)) < 0)
            return -1;
        t->msec = fraction(&p);
    }
    *pp = p;
    return 0;
}

static int parse_rfc822(const char *s, int64_t *ms)
{
    ww_tm_t t;
    memset(&t, 0, sizeof t);
    bool have_day = false, have_year = false, have_time = false, have_zone = false;
    bool pm = false, am = false;
    t.mon = 0;
    const char *p = s;
    for (;;) {
        while (*p && (isspace((unsigned char)*p) || *p == ',' || (*p == '-' && !isdigit((unsigned char)p[1]))))
            p++;
        if (!*p)
            break;
        if (*p == '(') { /* a comment, e.g. "(PST)" */
            const char *e = strchr(p, ')');
            if (!e)
                break;
            p = e + 1;
            continue;
        }
        if (isalpha((unsigned char)*p)) {
            char w[16];
            size_t n = 0;
            while (isalpha((unsigned char)*p) || *p == '.') {
                if (*p != '.' && n < sizeof w - 1)
                    w[n++] = (char)tolower((unsigned char)*p);
                p++;
            }
            w[n] = '\0';
            bool known = false;
            for (int i = 0; i < 12 && !known; i++)
                if (n >= 3 && strncmp(w, ww_months[i], 3) == 0) {
                    if (t.mon)
                        return -1;
                    t.mon = i + 1;
                    known = true;
                }
            for (int i = 0; i < 7 && !known; i++)
                if (n >= 3 && strncmp(w, ww_wdays[i], 3) == 0)
                    known = true;
            if (!known && (strcmp(w, "am") == 0 || strcmp(w, "pm") == 0)) {
                pm = w[0] == 'p';
                am = !pm;
                known = true;
            }
            for (size_t i = 0; i < sizeof ww_zones / sizeof ww_zones[0] && !known; i++)
                if (strcmp(w, ww_zones[i].name) == 0) {
                    t.zone_min = ww_zones[i].minutes;
                    have_zone = known = true;
                    if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1])) { /* "GMT+2" */
                        int z;
                        if (numeric_zone(&p, &z) < 0)
                            return -1;
                        t.zone_min += z;
                    }
                }
            if (!known) {
                /* an unknown zone-like word after the time means "-0000" (RFC 2822 §4.3) */
                if (have_time && !have_zone && n <= 5)
                    have_zone = true;
                else
                    return -1;
            }
            continue;
        }
        if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1])) {
            if (have_zone || !have_time)
                return -1;
            if (numeric_zone(&p, &t.zone_min) < 0)
                return -1;
            have_zone = true;
            continue;
        }
        if (isdigit((unsigned char)*p)) {
            const char *q = p;
            while (isdigit((unsigned char)*q))
                q++;
            if (*q == ':' || (*q == '.' && !have_time && have_year && q - p <= 2)) {
                if (have_time || parse_clock(&p, &t) < 0)
                    return -1;
                have_time = true;
                if (*p == 'Z' || *p == 'z') {
                    p++;
                    have_zone = true;
                }
                continue;
            }
            long v = 0;
            for (const char *r = p; r < q && v < 100000; r++)
                v = v * 10 + (*r - '0');
            size_t len = (size_t)(q - p);
            p = q;
            if (len == 4 && !have_year) {
                t.year = v;
                have_year = true;
            } else if (len <= 2 && !have_day && !(have_year && t.mon == 0)) {
                t.day = (int)v;
                have_day = true;
            } else if (len <= 3 && !have_year && have_day) {
                t.year = len == 3 ? 1900 + v : (v < 50 ? 2000 + v : 1900 + v);
                have_year = true;
            } else
                return -1;
            if (*p == '.')
                p++; /* "10. Jun" */
            continue;
        }
        return -1;
    }
    if (!have_day || !have_year || !t.mon)
        return -1;
    if (pm && t.hour >= 1 && t.hour < 12)
        t.hour += 12;
    else if (am && t.hour == 12)
        t.hour = 0;
    return tm_to_ms(&t, ms);
}

int ww_datetime_parse(const char *s, int64_t *ms)
{
    if (!s)
        return -1;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s || strlen(s) > 128)
        return -1;
    if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]) &&
        isdigit((unsigned char)s[3]) && (s[4] == '-' || isdigit((unsigned char)s[4])))
        return parse_iso(s, ms);
    return parse_rfc822(s, ms);
}

char *ww_datetime_format(int64_t ms, char *buf, unsigned long size)
{
    int64_t s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int msec = (int)(ms - s * 1000);
    int64_t days = s >= 0 ? s / 86400 : (s - 86399) / 86400;
    int64_t rem = s - days * 86400;
    /* civil_from_days */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    y += m <= 2;
    snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d, (int)(rem / 3600),
             (int)(rem / 60 % 60), (int)(rem % 60), msec);
    return buf;
}

char *ww_datetime_format_rfc822(int64_t ms, char *buf, unsigned long size)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    static const char *const wd[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    char iso[40];
    ww_datetime_format(ms, iso, sizeof iso);
    int64_t s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int64_t days = s >= 0 ? s / 86400 : (s - 86399) / 86400;
    int w = (int)(((days % 7) + 7) % 7);
    int m = (iso[5] - '0') * 10 + (iso[6] - '0');
    snprintf(buf, size, "%s, %.2s %s %.4s %.8s +0000", wd[w], iso + 8, mon[m - 1], iso, iso + 11);
    return buf;
}
