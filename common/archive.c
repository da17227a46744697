/* archive.c - reading the archive: the segment scanner (CRC check, resync
 * past corruption, index-driven skipping), the merged multi-archive reader,
 * and `ls`/`verify` inspection. The format is described in ww/archive.h and
 * docs/archive.md; the writer is in archive_writer.c. */
#include "ww/archive.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive_internal.h"
#include "ww/alloc.h"
#include "ww/log.h"

#define MOD "archive"

/* ---- format helpers ---------------------------------------------------------------- */

void wwa_header_build(unsigned char out[WWA_HDR], uint64_t number, int64_t created)
{
    memset(out, 0, WWA_HDR);
    memcpy(out, WWA_SEG_MAGIC, 8); /* includes the NUL */
    out[8] = WWA_VERSION;
    wwa_put64(out + 16, number);
    wwa_put64(out + 24, (uint64_t)created);
    wwa_put32(out + 12, ww_crc32c(0, out, WWA_HDR));
}

void wwa_idx_header_build(unsigned char out[WWA_IDX_HDR], uint64_t number)
{
    memcpy(out, WWA_IDX_MAGIC, 8);
    wwa_put64(out + 8, number);
}

void wwa_idx_entry_build(unsigned char out[WWA_IDX_ENTRY], const wwa_idx_t *e)
{
    wwa_put64(out, e->off);
    wwa_put32(out + 8, e->bytes);
    wwa_put32(out + 12, e->count);
    wwa_put64(out + 16, (uint64_t)e->tmin);
    wwa_put64(out + 24, (uint64_t)e->tmax);
    wwa_put32(out + 32, ww_crc32c(0, out, 32));
    wwa_put32(out + 36, 0);
}

void wwa_rec_header_build(unsigned char out[WWA_REC_HDR], const void *payload, uint32_t len,
                          int64_t time)
{
    memcpy(out, WWA_REC_MAGIC, 4);
    wwa_put32(out + 4, len);
    wwa_put64(out + 8, (uint64_t)time);
    uint32_t c = ww_crc32c(0, out + 4, 12);
    wwa_put32(out + 16, ww_crc32c(c, payload, len));
}

char *wwa_index_path(const char *segpath)
{
    size_t n = strlen(segpath);
    if (n >= 4 && strcmp(segpath + n - 4, WWA_SEG_EXT) == 0)
        return ww_asprintf("%.*s%s", (int)(n - 4), segpath, WWA_IDX_EXT);
    return ww_asprintf("%s%s", segpath, WWA_IDX_EXT);
}

uint64_t wwa_name_number(const char *name)
{
    if (strncmp(name, "seg-", 4) != 0 || strlen(name) != 4 + 20 + 4 || strcmp(name + 24, WWA_SEG_EXT) != 0)
        return 0;
    uint64_t v = 0;
    for (int i = 4; i < 24; i++) {
        if (name[i] < '0' || name[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(name[i] - '0');
    }
    return v;
}

typedef struct {
    uint64_t number;
    char *path;
} wwa_ent_t;

static int wwa_ent_cmp(const void *a, const void *b)
{
    const wwa_ent_t *x = a, *y = b;
    return x->number < y->number ? -1 : x->number > y->number;
}

int wwa_list(const char *path, char ***paths, size_t *n, char *err, size_t errlen)
{
    *paths = NULL;
    *n = 0;
    struct stat st;
    if (stat(path, &st) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        *paths = ww_malloc(sizeof **paths);
        (*paths)[0] = ww_strdup(path);
        *n = 1;
        return 0;
    }
    DIR *d = opendir(path);
    if (!d) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    wwa_ent_t *ents = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        uint64_t num = wwa_name_number(de->d_name);
        if (!num)
            continue;
        ww_grow((void **)&ents, &cap, cnt + 1, sizeof *ents);
        ents[cnt].number = num;
        ents[cnt].path = ww_asprintf("%s/%s", path, de->d_name);
        cnt++;
    }
    closedir(d);
    if (cnt)
        qsort(ents, cnt, sizeof *ents, wwa_ent_cmp);
    *paths = ww_malloc((cnt ? cnt : 1) * sizeof **paths);
    for (size_t i = 0; i < cnt; i++)
        (*paths)[i] = ents[i].path;
    *n = cnt;
    ww_free(ents);
    return 0;
}

static void wwa_free_list(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ww_free(paths[i]);
    ww_free(paths);
}

/* ---- the segment scanner ----------------------------------------------------------- */

/* Makes file bytes [off, off + n) available in the buffer and returns them,
 * or NULL when they are past the end (or a read failed: s->ioerr). */
static const unsigned char *wwa_ensure(wwa_seg_t *s, uint64_t off, size_t n)
{
    if (off + n > s->size)
        return NULL;
    if (off >= s->boff && off + n <= s->boff + s->blen)
        return (const unsigned char *)s->buf + (off - s->boff);
    if (n > s->cap) {
        size_t ncap = s->cap ? s->cap : WWA_BUF;
        while (ncap < n)
            ncap *= 2;
        char *nb = ww_malloc(ncap);
        if (off >= s->boff && off < s->boff + s->blen) {
            size_t keep = (size_t)(s->boff + s->blen - off);
            memcpy(nb, s->buf + (off - s->boff), keep);
            s->blen = keep;
        } else {
            s->blen = 0;
        }
        ww_free(s->buf);
        s->buf = nb;
        s->cap = ncap;
    } else if (off >= s->boff && off < s->boff + s->blen) {
        size_t keep = (size_t)(s->boff + s->blen - off);
        memmove(s->buf, s->buf + (off - s->boff), keep);
        s->blen = keep;
    } else {
        s->blen = 0;
    }
    s->boff = off;
    size_t want = s->cap;
    if (want > s->size - off)
        want = (size_t)(s->size - off);
    while (s->blen < want) {
        ssize_t r = pread(s->fd, s->buf + s->blen, want - s->blen, (off_t)(off + s->blen));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            s->ioerr = errno;
            return NULL;
        }
        if (r == 0)
            break; /* the file shrank under us */
        s->blen += (size_t)r;
    }
    if (s->blen < n)
        return NULL;
    return (const unsigned char *)s->buf;
}

int wwa_seg_open(wwa_seg_t *s, const char *path, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (s->fd < 0 || fstat(s->fd, &st) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (s->fd >= 0)
            close(s->fd);
        s->fd = -1;
        return -1;
    }
    s->path = ww_strdup(path);
    s->size = (uint64_t)st.st_size;
    const char *base = strrchr(path, '/');
    s->number = wwa_name_number(base ? base + 1 : path);
    s->pos = WWA_HDR;
    /* the header alone: a windowed reader may skip the rest of the file */
    unsigned char hb[WWA_HDR];
    ssize_t got;
    do
        got = pread(s->fd, hb, WWA_HDR, 0);
    while (got < 0 && errno == EINTR);
    const unsigned char *h = got == (ssize_t)WWA_HDR ? hb : NULL;
    if (h && memcmp(h, WWA_SEG_MAGIC, 8) == 0 && h[8] == WWA_VERSION) {
        unsigned char tmp[WWA_HDR];
        memcpy(tmp, h, WWA_HDR);
        uint32_t want = wwa_get32(tmp + 12);
        memset(tmp + 12, 0, 4);
        if (ww_crc32c(0, tmp, WWA_HDR) == want) {
            s->header_ok = true;
            s->number = wwa_get64(h + 16);
            s->created = (int64_t)wwa_get64(h + 24);
        }
    }
    return 0;
}

void wwa_seg_close(wwa_seg_t *s)
{
    if (s->fd >= 0)
        close(s->fd);
    ww_free(s->path);
    ww_free(s->buf);
    ww_free(s->idx);
    memset(s, 0, sizeof *s);
    s->fd = -1;
}

/* Checks the record at off. Returns 1 (valid, *rec), 0 (invalid, *why), -1 I/O. */
static int wwa_check(wwa_seg_t *s, uint64_t off, wwa_rec_t *rec, const char **why)
{
    const unsigned char *p = wwa_ensure(s, off, WWA_REC_HDR);
    if (!p) {
        if (s->ioerr)
            return -1;
        *why = "truncated record header";
        return 0;
    }
    if (memcmp(p, WWA_REC_MAGIC, 4) != 0) {
        *why = "bad record magic";
        return 0;
    }
    uint32_t len = wwa_get32(p + 4);
    int64_t t = (int64_t)wwa_get64(p + 8);
    uint32_t crc = wwa_get32(p + 16);
    if (len == 0 || len > WWA_REC_MAX) {
        *why = "bad record length";
        return 0;
    }
    if (off + WWA_REC_HDR + len > s->size) {
        *why = "truncated record";
        return 0;
    }
    p = wwa_ensure(s, off, WWA_REC_HDR + len);
    if (!p) {
        if (s->ioerr)
            return -1;
        *why = "truncated record";
        return 0;
    }
    uint32_t c = ww_crc32c(0, p + 4, 12);
    if (ww_crc32c(c, p + WWA_REC_HDR, len) != crc) {
        *why = "CRC mismatch";
        return 0;
    }
    rec->off = off;
    rec->len = len;
    rec->time = t;
    rec->payload = (const char *)p + WWA_REC_HDR;
    return 1;
}

/* First offset >= from holding a valid record; s->size when none; -1 on I/O error. */
static int64_t wwa_resync(wwa_seg_t *s, uint64_t from)
{
    uint64_t off = from;
    while (off + WWA_REC_HDR <= s->size) {
        size_t avail = s->cap ? s->cap : WWA_BUF;
        if (avail > s->size - off)
            avail = (size_t)(s->size - off);
        const unsigned char *p = wwa_ensure(s, off, avail);
        if (!p)
            return s->ioerr ? -1 : (int64_t)s->size;
        const unsigned char *m = memmem(p, avail, WWA_REC_MAGIC, 4);
        if (!m) {
            off += avail - 3;
            continue;
        }
        uint64_t c = off + (uint64_t)(m - p);
        wwa_rec_t rec;
        const char *why;
        int r = wwa_check(s, c, &rec, &why);
        if (r == 1)
            return (int64_t)c;
        if (r < 0)
            return -1;
        off = c + 1;
    }
    return (int64_t)s->size;
}

int wwa_seg_next(wwa_seg_t *s, wwa_rec_t *rec, wwa_bad_t *bad)
{
    if (s->pos >= s->size)
        return 0;
    const char *why = NULL;
    int r = wwa_check(s, s->pos, rec, &why);
    if (r == 1) {
        s->pos += WWA_REC_HDR + rec->len;
        return 1;
    }
    if (r < 0)
        return -1;
    int64_t q = wwa_resync(s, s->pos + 1);
    if (q < 0)
        return -1;
    bad->off = s->pos;
    bad->len = (uint64_t)q - s->pos;
    bad->what = why;
    bad->torn = (uint64_t)q == s->size;
    s->pos = (uint64_t)q;
    return 2;
}

size_t wwa_seg_load_index(wwa_seg_t *s)
{
    ww_free(s->idx);
    s->idx = NULL;
    s->nidx = s->bi = 0;
    char *ip = wwa_index_path(s->path);
    int fd = open(ip, O_RDONLY | O_CLOEXEC);
    ww_free(ip);
    if (fd < 0)
        return 0;
    struct stat st;
    unsigned char *raw = NULL;
    size_t len = 0;
    if (fstat(fd, &st) == 0 && st.st_size >= (off_t)WWA_IDX_HDR) {
        len = (size_t)st.st_size;
        raw = ww_malloc(len);
        size_t got = 0;
        while (got < len) {
            ssize_t r = pread(fd, raw + got, len - got, (off_t)got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        len = got;
    }
    close(fd);
    if (!raw || len < WWA_IDX_HDR || memcmp(raw, WWA_IDX_MAGIC, 8) != 0 ||
        (s->header_ok && wwa_get64(raw + 8) != s->number)) {
        ww_free(raw);
        return 0;
    }
    size_t max = (len - WWA_IDX_HDR) / WWA_IDX_ENTRY;
    s->idx = ww_malloc((max ? max : 1) * sizeof *s->idx);
    uint64_t expect = WWA_HDR;
    for (size_t i = 0; i < max; i++) {
        const unsigned char *e = raw + WWA_IDX_HDR + i * WWA_IDX_ENTRY;
        if (ww_crc32c(0, e, 32) != wwa_get32(e + 32))
            break;
        wwa_idx_t x = {wwa_get64(e), wwa_get32(e + 8), wwa_get32(e + 12), (int64_t)wwa_get64(e + 16),
                       (int64_t)wwa_get64(e + 24)};
        if (x.off != expect || x.bytes == 0 || x.off + x.bytes > s->size)
            break;
        s->idx[s->nidx++] = x;
        expect = x.off + x.bytes;
    }
    ww_free(raw);
    return s->nidx;
}

uint64_t wwa_seg_skip(wwa_seg_t *s, int64_t from, int64_t to)
{
    uint64_t skipped = 0;
    while (s->bi < s->nidx) {
        const wwa_idx_t *e = &s->idx[s->bi];
        if (e->off + e->bytes <= s->pos) {
            s->bi++;
            continue;
        }
        if (e->off == s->pos && (e->count == 0 || e->tmax < from || e->tmin >= to)) {
            s->pos += e->bytes;
            skipped += e->bytes;
            s->bi++;
            continue;
        }
        break;
    }
    return skipped;
}

/* ---- the reader ---------------------------------------------------------------------- */

typedef struct {
    char *root;        /* the path as given */
    char **segs;       /* segment paths, in order */
    size_t nseg, cur;  /* count; next to open */
    wwa_seg_t seg;     /* the open one */
    bool open, done;
    ww_event_t *head;  /* next event of this archive, owned */
    int64_t head_time;
} wwa_arch_t;

struct ww_archive_reader {
    wwa_arch_t *a;
    size_t n;
    int64_t from, to;
    bool windowed;     /* from/to restrict: use the indexes */
    ww_limits_t lim;
    ww_archive_stats_t st;
};

static void wwa_report(ww_archive_reader_t *r, const wwa_seg_t *s, const wwa_bad_t *b, bool last_seg)
{
    if (b->torn) {
        r->st.torn++;
        if (last_seg)
            ww_info(MOD, "msg=\"incomplete record at the end of the archive (being written, or a torn "
                         "tail)\" segment=%s offset=%" PRIu64 " bytes=%" PRIu64,
                    s->path, b->off, b->len);
        else
            ww_warn(MOD, "msg=\"torn tail skipped\" segment=%s offset=%" PRIu64 " bytes=%" PRIu64
                         " reason=\"%s\"",
                    s->path, b->off, b->len, b->what);
        return;
    }
    r->st.corrupt++;
    r->st.corrupt_bytes += b->len;
    ww_warn(MOD, "msg=\"corrupt record skipped\" segment=%s offset=%" PRIu64 " bytes=%" PRIu64
                 " reason=\"%s\"",
            s->path, b->off, b->len, b->what);
}

/* Loads a's next event in the window into a->head. Returns 0 (head set, or
 * a->done), -1 on an I/O error. */
static int wwa_fill(ww_archive_reader_t *r, wwa_arch_t *a)
{
    while (!a->head && !a->done) {
        if (!a->open) {
            if (a->cur >= a->nseg) {
                a->done = true;
                break;
            }
            char err[512];
            if (wwa_seg_open(&a->seg, a->segs[a->cur++], err, sizeof err) < 0) {
                ww_warn(MOD, "msg=\"segment unreadable, skipped\" error=\"%s\"", err);
                r->st.corrupt++;
                continue;
            }
            a->open = true;
            r->st.segments++;
            if (!a->seg.header_ok && a->seg.size > 0) {
                r->st.corrupt++;
                ww_warn(MOD, "msg=\"bad segment header (records are still read)\" segment=%s", a->seg.path);
            }
            if (r->windowed)
                wwa_seg_load_index(&a->seg);
        }
        if (r->windowed)
            r->st.index_skipped += wwa_seg_skip(&a->seg, r->from, r->to);
        wwa_rec_t rec;
        wwa_bad_t bad;
        int rc = wwa_seg_next(&a->seg, &rec, &bad);
        if (rc == 0) {
            wwa_seg_close(&a->seg);
            a->open = false;
            continue;
        }
        if (rc < 0) {
            ww_error(MOD, "msg=\"read failed\" segment=%s error=\"%s\"", a->seg.path, strerror(a->seg.ioerr));
            return -1;
        }
        if (rc == 2) {
            wwa_report(r, &a->seg, &bad, a->cur == a->nseg);
            continue;
        }
        r->st.bytes += WWA_REC_HDR + rec.len;
        if (rec.time < r->from || rec.time >= r->to) {
            r->st.skipped++;
            continue;
        }
        ww_decode_status_t st;
        memset(&st, 0, sizeof st);
        ww_event_t *ev = NULL;
        if (ww_event_decode_msgpack(rec.payload, rec.len, &r->lim, &ev, &st) < 0) {
            wwa_bad_t b = {rec.off, WWA_REC_HDR + rec.len, "undecodable event", false};
            wwa_report(r, &a->seg, &b, false);
            continue;
        }
        ev->replay = false;
        ev->seq = 0;
        a->head = ev;
        a->head_time = rec.time;
    }
    return 0;
}

ww_archive_reader_t *ww_archive_reader_open(const char *const *paths, size_t n, int64_t from_ms,
                                            int64_t to_ms, char *err, size_t errlen)
{
    if (n == 0) {
        snprintf(err, errlen, "no archive given");
        return NULL;
    }
    ww_archive_reader_t *r = ww_calloc(1, sizeof *r);
    r->a = ww_calloc(n, sizeof *r->a);
    r->n = n;
    r->from = from_ms;
    r->to = to_ms;
    r->windowed = from_ms != 0 || to_ms != INT64_MAX;
    ww_limits_default(&r->lim);
    r->lim.max_bytes = WWA_REC_MAX;
    r->lim.max_string = WWA_REC_MAX;
    for (size_t i = 0; i < n; i++) {
        r->a[i].root = ww_strdup(paths[i]);
        r->a[i].seg.fd = -1;
        if (wwa_list(paths[i], &r->a[i].segs, &r->a[i].nseg, err, errlen) < 0) {
            ww_archive_reader_close(&r);
            return NULL;
        }
    }
    return r;
}

int ww_archive_reader_next(ww_archive_reader_t *r, ww_event_t **out)
{
    *out = NULL;
    size_t best = r->n;
    for (size_t i = 0; i < r->n; i++) {
        if (wwa_fill(r, &r->a[i]) < 0)
            return -1;
        if (r->a[i].head && (best == r->n || r->a[i].head_time < r->a[best].head_time))
            best = i;
    }
    if (best == r->n)
        return 0;
    *out = r->a[best].head;
    r->a[best].head = NULL;
    r->st.records++;
    return 1;
}

void ww_archive_reader_close(ww_archive_reader_t **rp)
{
    if (!rp || !*rp)
        return;
    ww_archive_reader_t *r = *rp;
    for (size_t i = 0; i < r->n; i++) {
        wwa_arch_t *a = &r->a[i];
        if (a->open)
            wwa_seg_close(&a->seg);
        ww_event_destroy(&a->head);
        wwa_free_list(a->segs, a->nseg);
        ww_free(a->root);
    }
    ww_free(r->a);
    ww_free(r);
    *rp = NULL;
}

void ww_archive_reader_stats(const ww_archive_reader_t *r, ww_archive_stats_t *st)
{
    *st = r->st;
}

/* ---- ls and verify ----------------------------------------------------------------------- */

static void wwa_info_add(ww_archive_segment_info_t *in, uint32_t count, int64_t tmin, int64_t tmax)
{
    if (!count)
        return;
    if (!in->records || tmin < in->min_time)
        in->min_time = tmin;
    if (!in->records || tmax > in->max_time)
        in->max_time = tmax;
    in->records += count;
}

/* Fills one segment's info; reports problems when verify. Returns 0 or -1 (err). */
static int wwa_inspect(const char *path, bool verify, ww_archive_problem_fn fn, void *ud,
                       ww_archive_segment_info_t *in, char *err, size_t errlen)
{
    wwa_seg_t s;
    if (wwa_seg_open(&s, path, err, errlen) < 0)
        return -1;
    in->path = ww_strdup(path);
    in->number = s.number;
    in->created_ms = s.created;
    in->bytes = s.size;
    in->header_ok = s.header_ok;
    in->index_entries = wwa_seg_load_index(&s);
    if (!s.header_ok) {
        in->corrupt++;
        if (fn)
            fn(ud, path, 0, s.size < WWA_HDR ? s.size : WWA_HDR,
               s.size < WWA_HDR ? "truncated segment header" : "bad segment header");
    }
    ww_limits_t lim;
    ww_limits_default(&lim);
    lim.max_bytes = lim.max_string = WWA_REC_MAX;
    if (!verify) {
        for (size_t i = 0; i < s.nidx; i++)
            wwa_info_add(in, s.idx[i].count, s.idx[i].tmin, s.idx[i].tmax);
        if (s.nidx)
            s.pos = s.idx[s.nidx - 1].off + s.idx[s.nidx - 1].bytes;
    }
    int rc = 0;
    for (;;) {
        wwa_rec_t rec;
        wwa_bad_t bad;
        int r = wwa_seg_next(&s, &rec, &bad);
        if (r == 0)
            break;
        if (r < 0) {
            snprintf(err, errlen, "%s: read failed: %s", path, strerror(s.ioerr));
            rc = -1;
            break;
        }
        if (r == 2) {
            in->corrupt++;
            if (fn) {
                char what[128];
                snprintf(what, sizeof what, "%s%s", bad.torn ? "torn tail: " : "", bad.what);
                fn(ud, path, bad.off, bad.len, what);
            }
            continue;
        }
        if (verify) {
            ww_event_t *ev = NULL;
            ww_decode_status_t st;
            memset(&st, 0, sizeof st);
            if (ww_event_decode_msgpack(rec.payload, rec.len, &lim, &ev, &st) < 0) {
                in->corrupt++;
                if (fn) {
                    char what[256];
                    snprintf(what, sizeof what, "undecodable event (%s: %s)", ww_bad_name(st.fatal), st.detail);
                    fn(ud, path, rec.off, WWA_REC_HDR + rec.len, what);
                }
                continue;
            }
            bool mismatch = ww_event_time(ev) != rec.time;
            ww_event_destroy(&ev);
            if (mismatch) {
                in->corrupt++;
                if (fn)
                    fn(ud, path, rec.off, WWA_REC_HDR + rec.len, "record time differs from the event's time");
                continue;
            }
        }
        wwa_info_add(in, 1, rec.time, rec.time);
    }
    wwa_seg_close(&s);
    return rc;
}

int ww_archive_segments(const char *path, bool verify, ww_archive_problem_fn fn, void *ud,
                        ww_archive_segment_info_t **out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    char **paths;
    size_t np;
    if (wwa_list(path, &paths, &np, err, errlen) < 0)
        return -1;
    ww_archive_segment_info_t *segs = ww_calloc(np ? np : 1, sizeof *segs);
    int rc = 0;
    for (size_t i = 0; i < np && rc == 0; i++)
        rc = wwa_inspect(paths[i], verify, fn, ud, &segs[i], err, errlen);
    wwa_free_list(paths, np);
    if (rc < 0) {
        ww_archive_segments_free(&segs, np);
        return -1;
    }
    *out = segs;
    *n = np;
    return 0;
}

void ww_archive_segments_free(ww_archive_segment_info_t **segs, size_t n)
{
    if (!segs || !*segs)
        return;
    for (size_t i = 0; i < n; i++)
        ww_free((*segs)[i].path);
    ww_free(*segs);
    *segs = NULL;
}
