/* archive_import.c - `wirewatch archive import`: intake messages written to
 * an archive exactly as ingest would write them (same codecs, same id, same
 * dedup rule with an in-memory table in place of Redis), and the small
 * parsers the archive tools share (fsync policy, --from/--to times). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive_internal.h"
#include "ww/alloc.h"
#include "ww/archive.h"
#include "ww/config.h"

/* ---- the in-memory dedup table --------------------------------------------------------
 * Open addressing on the 128-bit id; each slot remembers when the id was last
 * accepted. Ingest's rule (SET NX PX window): an id is a duplicate while an
 * acceptance of it is younger than the window; a duplicate does not extend it. */

typedef struct {
    uint64_t hi, lo; /* the id's 32 hex digits as two integers; both 0: empty */
    int64_t at;      /* when it was accepted (ingested_at) */
} wwa_slot_t;

struct ww_archive_importer {
    ww_archive_writer_t *w; /* borrowed */
    int64_t window;
    ww_limits_t lim;
    wwa_slot_t *slots;
    size_t cap, used; /* cap a power of two */
};

/* Parses 32 hex digits; returns 0 or -1. */
static int wwa_id_parse(const char *id, uint64_t *hi, uint64_t *lo)
{
    if (!id || strlen(id) != 32)
        return -1;
    uint64_t v[2] = {0, 0};
    for (int i = 0; i < 32; i++) {
        int c = id[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else
            return -1;
        v[i / 16] = v[i / 16] << 4 | (uint64_t)d;
    }
    *hi = v[0];
    *lo = v[1] | (v[0] == 0 && v[1] == 0); /* never the empty marker */
    return 0;
}

static wwa_slot_t *wwa_slot_find(wwa_slot_t *slots, size_t cap, uint64_t hi, uint64_t lo)
{
    size_t i = (size_t)(lo ^ (hi * 0x9E3779B97F4A7C15ull)) & (cap - 1);
    while (slots[i].hi || slots[i].lo) {
        if (slots[i].hi == hi && slots[i].lo == lo)
            return &slots[i];
        i = (i + 1) & (cap - 1);
    }
    return &slots[i];
}

static void wwa_table_grow(ww_archive_importer_t *im)
{
    size_t ncap = im->cap ? im->cap * 2 : 1024;
    wwa_slot_t *ns = ww_calloc(ncap, sizeof *ns);
    for (size_t i = 0; i < im->cap; i++)
        if (im->slots[i].hi || im->slots[i].lo)
            *wwa_slot_find(ns, ncap, im->slots[i].hi, im->slots[i].lo) = im->slots[i];
    ww_free(im->slots);
    im->slots = ns;
    im->cap = ncap;
}

ww_archive_importer_t *ww_archive_importer_new(ww_archive_writer_t *w, int64_t dedup_window_ms,
                                               const ww_limits_t *lim)
{
    ww_archive_importer_t *im = ww_calloc(1, sizeof *im);
    im->w = w;
    im->window = dedup_window_ms;
    if (lim)
        im->lim = *lim;
    else
        ww_limits_default(&im->lim);
    wwa_table_grow(im);
    return im;
}

int ww_archive_importer_add(ww_archive_importer_t *im, const char *buf, size_t len, int64_t now_ms,
                            ww_decode_status_t *st)
{
    memset(st, 0, sizeof *st);
    ww_event_t *ev = NULL;
    if (ww_event_decode_any(buf, len, &im->lim, &ev, st) < 0)
        return -1;
    /* as ingest's accept_message: a fresh id, an intake stamp, no internal flags */
    ev->replay = false;
    ev->seq = 0;
    ww_event_compute_id(ev);
    if (!ev->ingested_at)
        ev->ingested_at = now_ms;
    uint64_t hi = 0, lo = 0;
    int rc = -1;
    if (wwa_id_parse(ev->id, &hi, &lo) == 0) {
        wwa_slot_t *s = wwa_slot_find(im->slots, im->cap, hi, lo);
        if ((s->hi || s->lo) && ev->ingested_at - s->at < im->window && ev->ingested_at >= s->at) {
            rc = 0; /* a duplicate within the window */
            goto out;
        }
        if (!s->hi && !s->lo) {
            if ((im->used + 1) * 4 > im->cap * 3) {
                wwa_table_grow(im);
                s = wwa_slot_find(im->slots, im->cap, hi, lo);
            }
            im->used++;
        }
        s->hi = hi;
        s->lo = lo;
        s->at = ev->ingested_at;
    }
    rc = ww_archive_writer_append(im->w, ev) == 0 ? 1 : -1;
out:
    ww_event_destroy(&ev);
    return rc;
}

void ww_archive_importer_destroy(ww_archive_importer_t **imp)
{
    if (!imp || !*imp)
        return;
    ww_free((*imp)->slots);
    ww_free(*imp);
    *imp = NULL;
}

/* ---- parsers ----------------------------------------------------------------------- */

int ww_archive_parse_fsync(const char *s, ww_archive_opts_t *o)
{
    if (!s)
        return -1;
    if (strcmp(s, "always") == 0) {
        o->fsync = WW_ARCHIVE_FSYNC_ALWAYS;
        return 0;
    }
    if (strcmp(s, "never") == 0) {
        o->fsync = WW_ARCHIVE_FSYNC_NEVER;
        return 0;
    }
    int64_t ms;
    if (ww_parse_duration(s, &ms) < 0 || ms < 1 || ms > INT64_C(3600) * 1000)
        return -1;
    o->fsync = WW_ARCHIVE_FSYNC_INTERVAL;
    o->fsync_interval_ms = ms;
    return 0;
}

/* Reads exactly n digits at *p into *v; advances. Returns 0 or -1. */
static int wwa_digits(const char **p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        *v = *v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    return 0;
}

int ww_archive_parse_time(const char *s, int64_t *ms)
{
    if (!s || !*s)
        return -1;
    const char *p = s;
    bool all_digits = true;
    for (const char *q = s; *q; q++)
        all_digits &= isdigit((unsigned char)*q) != 0;
    if (all_digits) {
        if (strlen(s) > 18)
            return -1;
        *ms = strtoll(s, NULL, 10);
        return 0;
    }
    int Y, M, D, h = 0, m = 0, sec = 0;
    if (wwa_digits(&p, 4, &Y) < 0 || *p++ != '-' || wwa_digits(&p, 2, &M) < 0 || *p++ != '-' ||
        wwa_digits(&p, 2, &D) < 0)
        return -1;
    int64_t frac = 0, off_min = 0;
    if (*p) {
        if (*p != 'T' && *p != 't' && *p != ' ')
            return -1;
        p++;
        if (wwa_digits(&p, 2, &h) < 0 || *p++ != ':' || wwa_digits(&p, 2, &m) < 0 || *p++ != ':' ||
            wwa_digits(&p, 2, &sec) < 0)
            return -1;
        if (*p == '.') {
            p++;
            int nd = 0;
            int64_t scale = 100;
            if (!isdigit((unsigned char)*p))
                return -1;
            while (isdigit((unsigned char)*p)) {
                if (nd++ < 3) {
                    frac += (*p - '0') * scale;
                    scale /= 10;
                }
                p++;
            }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if (wwa_digits(&p, 2, &oh) < 0 || *p++ != ':' || wwa_digits(&p, 2, &om) < 0 || oh > 23 || om > 59)
                return -1;
            off_min = sign * (oh * 60 + om);
        } else {
            return -1; /* RFC 3339 requires an offset */
        }
        if (*p)
            return -1;
    }
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    if (tm.tm_mday != D) /* 2024-02-31 */
        return -1;
    *ms = ((int64_t)t - off_min * 60) * 1000 + frac;
    return 0;
}
