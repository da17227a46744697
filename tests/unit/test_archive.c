/* test_archive.c - the archive (archive.c, archive_writer.c, archive_import.c,
 * crc32c.c): CRC-32C, write/read round trips, rotation, crash recovery of a
 * torn tail, corruption skipped and reported by offset, time windows through
 * the sparse index, merging archives, import dedup, time and fsync parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ww/alloc.h"
#include "ww/archive.h"
#include "ww/event.h"
#include "ww/log.h"
#include "wwtest.h"

/* ---- helpers ---------------------------------------------------------------------- */

#define T0 INT64_C(1714560000000) /* 2024-05-01T10:40:00Z */

/* Event i: published T0 + i seconds, a body of about body_len bytes. */
static ww_event_t *mk_event(int i, size_t body_len)
{
    ww_event_t *ev = ww_event_new();
    ev->title = ww_asprintf("Harbour report number %d", i);
    ev->url = ww_asprintf("https://news.example.org/harbour/%d", i);
    ev->source = ww_strdup("unit");
    char *body = ww_malloc(body_len + 1);
    for (size_t k = 0; k < body_len; k++)
        body[k] = "abcdefghij klmnopqrst "[(k + (size_t)i) % 22];
    body[body_len] = '\0';
    ev->body = body;
    ev->published_at = T0 + (int64_t)i * 1000;
    ev->ingested_at = T0 + (int64_t)i * 1000 + 5;
    ww_event_compute_id(ev);
    return ev;
}

static void write_events(const char *dir, const ww_archive_opts_t *o, int from, int to, size_t body)
{
    char err[512];
    ww_archive_writer_t *w = ww_archive_writer_open(dir, o, NULL, err, sizeof err);
    assert_non_null(w);
    for (int i = from; i < to; i++) {
        ww_event_t *ev = mk_event(i, body);
        assert_int_equal(ww_archive_writer_append(w, ev), 0);
        ww_event_destroy(&ev);
        if (i % 16 == 15)
            assert_int_equal(ww_archive_writer_commit(w), 0);
    }
    assert_int_equal(ww_archive_writer_commit(w), 0);
    ww_archive_writer_close(&w);
    assert_null(w);
}

/* Reads every event of paths in [from, to); returns the count, checks each is
 * event `expect[k]` when expect is non-NULL. */
static size_t read_all(const char *const *paths, size_t n, int64_t from, int64_t to, const int *expect,
                       ww_archive_stats_t *st)
{
    char err[512];
    ww_archive_reader_t *r = ww_archive_reader_open(paths, n, from, to, err, sizeof err);
    assert_non_null(r);
    size_t k = 0;
    ww_event_t *ev;
    int rc;
    while ((rc = ww_archive_reader_next(r, &ev)) == 1) {
        if (expect) {
            char want[64];
            snprintf(want, sizeof want, "Harbour report number %d", expect[k]);
            assert_string_equal(ev->title, want);
            ww_event_t *ref = mk_event(expect[k], strlen(ev->body));
            assert_string_equal(ev->id, ref->id);
            assert_string_equal(ev->body, ref->body);
            assert_int_equal(ev->published_at, ref->published_at);
            assert_int_equal(ev->ingested_at, ref->ingested_at);
            assert_false(ev->replay);
            ww_event_destroy(&ref);
        }
        ww_event_destroy(&ev);
        k++;
    }
    assert_int_equal(rc, 0);
    if (st)
        ww_archive_reader_stats(r, st);
    ww_archive_reader_close(&r);
    assert_null(r);
    return k;
}

static int *range(int from, int to)
{
    int *a = ww_malloc(sizeof(int) * (size_t)(to - from + 1));
    for (int i = from; i < to; i++)
        a[i - from] = i;
    return a;
}

static char *seg_path(const char *dir, int n)
{
    return ww_asprintf("%s/seg-%020d.wwa", dir, n);
}

static off_t file_size(const char *p)
{
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    return st.st_size;
}

static void append_bytes(const char *path, const void *buf, size_t n)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, n), (ssize_t)n);
    close(fd);
}

/* Removes the archive dir (segments, indexes, LOCK). */
static void rm_archive(char *dir)
{
    wwt_rmdir(dir);
    ww_free(dir);
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_crc32c(void **state)
{
    (void)state;
    /* the standard check value of CRC-32C */
    assert_int_equal(ww_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(ww_crc32c_portable(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(ww_crc32c(0, "", 0), 0);
    /* hardware and table agree at every length and alignment; chaining works */
    unsigned char buf[300];
    srand(7);
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)rand();
    for (size_t off = 0; off < 9; off++)
        for (size_t len = 0; len + off <= sizeof buf; len += 7) {
            uint32_t a = ww_crc32c(0, buf + off, len);
            assert_int_equal(a, ww_crc32c_portable(0, buf + off, len));
            size_t h = len / 3;
            assert_int_equal(a, ww_crc32c(ww_crc32c(0, buf + off, h), buf + off + h, len - h));
        }
    /* one flipped bit changes it */
    uint32_t a = ww_crc32c(0, buf, 100);
    buf[50] ^= 4;
    assert_int_not_equal(a, ww_crc32c(0, buf, 100));
}

static void test_round_trip(void **state)
{
    (void)state;
    char *dir = wwt_tmpdir("arch");
    write_events(dir, NULL, 0, 100, 200);
    /* reopening appends to the same archive */
    write_events(dir, NULL, 100, 150, 200);
    int *exp = range(0, 150);
    const char *paths[] = {dir};
    ww_archive_stats_t st;
    assert_int_equal(read_all(paths, 1, 0, INT64_MAX, exp, &st), 150);
    assert_int_equal(st.records, 150);
    assert_int_equal(st.corrupt, 0);
    assert_int_equal(st.torn, 0);
    /* one segment file given directly */
    char *seg = seg_path(dir, 1);
    const char *one[] = {seg};
    assert_int_equal(read_all(one, 1, 0, INT64_MAX, exp, NULL), 150);
    /* ls agrees */
    ww_archive_segment_info_t *segs;
    size_t n;
    char err[256];
    assert_int_equal(ww_archive_segments(dir, false, NULL, NULL, &segs, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(segs[0].records, 150);
    assert_int_equal(segs[0].min_time, T0);
    assert_int_equal(segs[0].max_time, T0 + 149000);
    assert_true(segs[0].header_ok);
    ww_archive_segments_free(&segs, n);
    /* a missing archive is an error naming it */
    const char *bad[] = {"/nonexistent/archive"};
    assert_null(ww_archive_reader_open(bad, 1, 0, INT64_MAX, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/archive"));
    ww_free(seg);
    ww_free(exp);
    rm_archive(dir);
}

static void test_rotation(void **state)
{
    (void)state;
    char *dir = wwt_tmpdir("arch");
    ww_archive_opts_t o;
    ww_archive_opts_default(&o);
    o.segment_bytes = 16 * 1024;
    o.fsync = WW_ARCHIVE_FSYNC_ALWAYS;
    write_events(dir, &o, 0, 200, 500);
    ww_archive_segment_info_t *segs;
    size_t n;
    char err[256];
    assert_int_equal(ww_archive_segments(dir, true, NULL, NULL, &segs, &n, err, sizeof err), 0);
    assert_true(n >= 200 * 520 / (16 * 1024));
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(segs[i].bytes <= 16 * 1024);
        assert_int_equal(segs[i].number, i + 1);
        assert_int_equal(segs[i].corrupt, 0);
        total += segs[i].records;
        if (i)
            assert_true(segs[i].min_time > segs[i - 1].max_time);
    }
    assert_int_equal(total, 200);
    ww_archive_segments_free(&segs, n);
    int *exp = range(0, 200);
    const char *paths[] = {dir};
    assert_int_equal(read_all(paths, 1, 0, INT64_MAX, exp, NULL), 200);
    ww_free(exp);
    /* rotation by age: every open after segment_ms starts a new segment */
    char *dir2 = wwt_tmpdir("arch");
    ww_archive_opts_default(&o);
    o.segment_ms = 1;
    write_events(dir2, &o, 0, 3, 100);
    usleep(5000);
    write_events(dir2, &o, 3, 6, 100);
    assert_int_equal(ww_archive_segments(dir2, false, NULL, NULL, &segs, &n, err, sizeof err), 0);
    assert_true(n >= 2);
    ww_archive_segments_free(&segs, n);
    rm_archive(dir2);
    rm_archive(dir);
}

static void test_torn_tail(void **state)
{
    (void)state;
    char *dir = wwt_tmpdir("arch");
    write_events(dir, NULL, 0, 20, 300);
    char *seg = seg_path(dir, 1);
    off_t good = file_size(seg);
    /* the first 60 bytes of a copy of the first record: an interrupted write */
    unsigned char rec[60];
    int fd = open(seg, O_RDONLY);
    assert_int_equal(pread(fd, rec, sizeof rec, 32), (ssize_t)sizeof rec);
    close(fd);
    append_bytes(seg, rec, sizeof rec);
    /* readers see the 20 events and count the torn tail */
    const char *paths[] = {dir};
    ww_archive_stats_t st;
    int *exp = range(0, 25);
    assert_int_equal(read_all(paths, 1, 0, INT64_MAX, exp, &st), 20);
    assert_int_equal(st.torn, 1);
    /* the writer truncates it and reports it, then appends after the good data */
    char err[256];
    ww_archive_recovery_t rv;
    ww_archive_writer_t *w = ww_archive_writer_open(dir, NULL, &rv, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(rv.torn_bytes, sizeof rec);
    assert_int_equal(rv.records, 20);
    assert_int_equal(rv.corrupt, 0);
    assert_non_null(strstr(rv.segment, "seg-"));
    assert_int_equal(file_size(seg), good);
    for (int i = 20; i < 25; i++) {
        ww_event_t *ev = mk_event(i, 300);
        assert_int_equal(ww_archive_writer_append(w, ev), 0);
        ww_event_destroy(&ev);
    }
    ww_archive_writer_close(&w);
    assert_int_equal(read_all(paths, 1, 0, INT64_MAX, exp, &st), 25);
    assert_int_equal(st.torn + st.corrupt, 0);
    /* a segment whose header was cut short is restarted */
    ww_archive_opts_t o;
    ww_archive_opts_default(&o);
    o.segment_ms = 1;
    usleep(3000);
    w = ww_archive_writer_open(dir, &o, NULL, err, sizeof err);
    ww_event_t *ev = mk_event(25, 300);
    assert_int_equal(ww_archive_writer_append(w, ev), 0); /* rotates: segment 2 */
    ww_event_destroy(&ev);
    ww_archive_writer_close(&w);
    char *seg2 = seg_path(dir, 2);
    assert_int_equal(truncate(seg2, 10), 0);
    w = ww_archive_writer_open(dir, NULL, &rv, err, sizeof err);
    assert_non_null(w);
    ww_archive_writer_close(&w);
    assert_int_equal(file_size(seg2), 32);
    assert_int_equal(read_all(paths, 1, 0, INT64_MAX, exp, &st), 25);
    ww_free(seg2);
    ww_free(exp);
    ww_free(seg);
    rm_archive(dir);
}

typedef struct {
    int n;
    uint64_t off[8];
    char what[8][128];
} problems_t;

static void on_problem(void *ud, const char *segment, uint64_t offset, uint64_t length, const char *what)
{
    problems_t *p = ud;
    (void)segment;
    (void)length;
    if (p->n < 8) {
        p->off[p->n] = offset;
        snprintf(p->what[p->n], sizeof p->what[0], "%s", what);
    }
    p->n++;
}

static void test_corruption(void **state)
{
    (void)state;
    char *dir = wwt_tmpdir("arch");
    write_events(dir, NULL, 0, 30, 250);
    char *seg = seg_path(dir, 1);
    /* find record 10's offset by walking the headers */
    int fd = open(seg, O_RDWR);
    uint64_t off = 32;
    for (int i = 0; i < 10; i++) {
        unsigned char h[20];
        assert_int_equal(pread(fd, h, 20, (off_t)off), 20);
        uint32_t len = (uint32_t)h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 24;
        off += 20 + len;
    }
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, (off_t)off + 100), 1);
    c ^= 0x20;
    assert_int_equal(pwrite(fd, &c, 1, (off_t)off + 100), 1); /* a payload byte of record 10 */
    /* and smash record 20's length field */
    uint64_t off20 = off;
    for (int i = 10; i < 20; i++) {
        unsigned char h[20];
        assert_int_equal(pread(fd, h, 20, (off_t)off20), 20);
        uint32_t len = (uint32_t)h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 24;
        off20 += 20 + len;
    }
    unsigned char big[4] = {0xff, 0xff, 0x00, 0x01};
    assert_int_equal(pwrite(fd, big, 4, (off_t)off20 + 4), 4);
    close(fd);
    int expect[28];
    int k = 0;
    for (int i = 0; i < 30; i++)
        if (i != 10 && i != 20)
            expect[k++] = i;
    const char *paths[] = {dir};
    ww_archive_stats_t st;
    ww_log_level = WW_LOG_ERROR;
    assert_int_equal(read_all(paths, 1, 0, INT64_MAX, expect, &st), 28);
    assert_int_equal(st.corrupt, 2);
    /* verify names both, by offset, and reads on past them */
    problems_t pr = {0};
    ww_archive_segment_info_t *segs;
    size_t n;
    char err[256];
    assert_int_equal(ww_archive_segments(dir, true, on_problem, &pr, &segs, &n, err, sizeof err), 0);
    assert_int_equal(pr.n, 2);
    assert_int_equal(pr.off[0], off);
    assert_non_null(strstr(pr.what[0], "CRC"));
    assert_int_equal(pr.off[1], off20);
    assert_int_equal(segs[0].records, 28);
    assert_int_equal(segs[0].corrupt, 2);
    ww_archive_segments_free(&segs, n);
    /* the writer leaves mid-segment corruption alone (no torn tail) */
    ww_archive_recovery_t rv;
    ww_archive_writer_t *w = ww_archive_writer_open(dir, NULL, &rv, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(rv.torn_bytes, 0);
    assert_int_equal(rv.corrupt, 2);
    ww_archive_writer_close(&w);
    assert_int_equal(read_all(paths, 1, 0, INT64_MAX, expect, &st), 28);
    ww_log_level = WW_LOG_WARN;
    ww_free(seg);
    rm_archive(dir);
}

static void test_window_index(void **state)
{
    (void)state;
    char *dir = wwt_tmpdir("arch");
    ww_archive_opts_t o;
    ww_archive_opts_default(&o);
    o.segment_bytes = 1 << 20;
    o.fsync = WW_ARCHIVE_FSYNC_NEVER;
    write_events(dir, &o, 0, 3000, 1000); /* ~3 MB: several segments, many blocks */
    const char *paths[] = {dir};
    ww_archive_stats_t st;
    int *exp = range(1200, 1300);
    assert_int_equal(read_all(paths, 1, T0 + 1200 * 1000, T0 + 1300 * 1000, exp, &st), 100);
    /* the index let most of the archive go unread */
    assert_true(st.index_skipped > 2 * 1000 * 1000);
    assert_true(st.bytes < 1024 * 1024);
    /* the same window without an index (deleted): same answer, read the slow way */
    ww_archive_segment_info_t *segs;
    size_t n;
    char err[256];
    assert_int_equal(ww_archive_segments(dir, false, NULL, NULL, &segs, &n, err, sizeof err), 0);
    assert_true(n >= 3);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(segs[i].index_entries > 0);
        total += segs[i].records;
        char *ip = ww_strdup(segs[i].path);
        memcpy(ip + strlen(ip) - 4, ".wwi", 4);
        unlink(ip);
        ww_free(ip);
    }
    assert_int_equal(total, 3000);
    ww_archive_segments_free(&segs, n);
    assert_int_equal(read_all(paths, 1, T0 + 1200 * 1000, T0 + 1300 * 1000, exp, &st), 100);
    assert_int_equal(st.index_skipped, 0);
    /* edges: from inclusive, to exclusive; empty window */
    ww_free(exp);
    exp = range(0, 1);
    assert_int_equal(read_all(paths, 1, T0, T0 + 1, exp, NULL), 1);
    assert_int_equal(read_all(paths, 1, T0 + 5000 * 1000, INT64_MAX, NULL, NULL), 0);
    ww_free(exp);
    rm_archive(dir);
}

static void test_merge(void **state)
{
    (void)state;
    char *a = wwt_tmpdir("arch"), *b = wwt_tmpdir("arch");
    char err[256];
    ww_archive_writer_t *wa = ww_archive_writer_open(a, NULL, NULL, err, sizeof err);
    ww_archive_writer_t *wb = ww_archive_writer_open(b, NULL, NULL, err, sizeof err);
    assert_non_null(wa);
    assert_non_null(wb);
    /* even events to a, odd to b, and event 7 in both (a tie: a's copy comes first) */
    for (int i = 0; i < 40; i++) {
        ww_event_t *ev = mk_event(i, 50);
        assert_int_equal(ww_archive_writer_append(i % 2 ? wb : wa, ev), 0);
        if (i == 7) {
            ww_free(ev->source);
            ev->source = ww_strdup("copy-in-a");
            assert_int_equal(ww_archive_writer_append(wa, ev), 0);
        }
        ww_event_destroy(&ev);
    }
    ww_archive_writer_close(&wa);
    ww_archive_writer_close(&wb);
    const char *paths[] = {a, b};
    ww_archive_reader_t *r = ww_archive_reader_open(paths, 2, 0, INT64_MAX, err, sizeof err);
    ww_event_t *ev;
    int64_t last = 0;
    int k = 0;
    while (ww_archive_reader_next(r, &ev) == 1) {
        assert_true(ev->published_at >= last);
        last = ev->published_at;
        if (k == 7)
            assert_string_equal(ev->source, "copy-in-a");
        if (k == 8)
            assert_string_equal(ev->source, "unit");
        k++;
        ww_event_destroy(&ev);
    }
    assert_int_equal(k, 41);
    ww_archive_reader_close(&r);
    /* a second writer on a live archive is refused */
    wa = ww_archive_writer_open(a, NULL, NULL, err, sizeof err);
    assert_non_null(wa);
    assert_null(ww_archive_writer_open(a, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "another writer"));
    ww_archive_writer_close(&wa);
    rm_archive(a);
    rm_archive(b);
}

static void test_import(void **state)
{
    (void)state;
    char *dir = wwt_tmpdir("arch");
    char err[256];
    ww_archive_writer_t *w = ww_archive_writer_open(dir, NULL, NULL, err, sizeof err);
    ww_archive_importer_t *im = ww_archive_importer_new(w, 3600 * 1000, NULL);
    ww_decode_status_t st;
    const char *l1 = "{\"title\":\"Port strike ends\",\"url\":\"https://EXAMPLE.org/a?utm_source=x\",\"body\":\"ok\"}";
    /* the same article (canonical URL equal), within the window: a duplicate */
    const char *l2 = "{\"title\":\"Port strike ends (updated)\",\"url\":\"https://example.org/a\",\"body\":\"x\"}";
    /* no URL: id from the text; invalid UTF-8 repaired */
    const char *l3 = "{\"title\":\"Quiet day\",\"body\":\"caf\\u00e9 \xff end\"}";
    const char *l4 = "{\"body\":7}";
    int64_t now = T0;
    assert_int_equal(ww_archive_importer_add(im, l1, strlen(l1), now, &st), 1);
    assert_int_equal(ww_archive_importer_add(im, l2, strlen(l2), now + 1000, &st), 0);
    assert_int_equal(ww_archive_importer_add(im, l3, strlen(l3), now + 2000, &st), 1);
    assert_int_equal(ww_archive_importer_add(im, l4, strlen(l4), now + 2000, &st), -1);
    assert_int_not_equal(st.fatal, WW_BAD_NONE);
    /* after the window the same article is accepted again */
    assert_int_equal(ww_archive_importer_add(im, l2, strlen(l2), now + 3600 * 1000 + 1, &st), 1);
    /* an explicit ingested_at is kept and is the dedup clock */
    const char *l5 = "{\"title\":\"Quiet day\",\"body\":\"caf\\u00e9 \xff end\",\"ingested_at\":1714563000000}";
    assert_int_equal(ww_archive_importer_add(im, l5, strlen(l5), now + 9999999, &st), 0);
    ww_archive_importer_destroy(&im);
    ww_archive_writer_close(&w);

    const char *paths[] = {dir};
    ww_archive_reader_t *r = ww_archive_reader_open(paths, 1, 0, INT64_MAX, err, sizeof err);
    ww_event_t *ev, *ref;
    ww_limits_t lim;
    ww_limits_default(&lim);
    const char *want[] = {l1, l3, l2};
    int64_t want_at[] = {now, now + 2000, now + 3600 * 1000 + 1};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ww_archive_reader_next(r, &ev), 1);
        memset(&st, 0, sizeof st);
        assert_int_equal(ww_event_decode_any(want[i], strlen(want[i]), &lim, &ref, &st), 0);
        ww_event_compute_id(ref);
        assert_string_equal(ev->id, ref->id);
        assert_string_equal(ev->title, ref->title);
        assert_string_equal(ev->body, ref->body);
        assert_int_equal(ev->ingested_at, want_at[i]);
        ww_event_destroy(&ref);
        ww_event_destroy(&ev);
    }
    assert_int_equal(ww_archive_reader_next(r, &ev), 0);
    ww_archive_reader_close(&r);
    rm_archive(dir);
}

static void test_parse(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(ww_archive_parse_time("1714560000123", &ms), 0);
    assert_int_equal(ms, INT64_C(1714560000123));
    assert_int_equal(ww_archive_parse_time("2024-05-01T10:40:00Z", &ms), 0);
    assert_int_equal(ms, T0);
    assert_int_equal(ww_archive_parse_time("2024-05-01T12:40:00.25+02:00", &ms), 0);
    assert_int_equal(ms, T0 + 250);
    assert_int_equal(ww_archive_parse_time("2024-05-01T05:10:00-05:30", &ms), 0);
    assert_int_equal(ms, T0);
    assert_int_equal(ww_archive_parse_time("2024-05-01", &ms), 0);
    assert_int_equal(ms, T0 - (10 * 3600 + 40 * 60) * 1000);
    const char *bad[] = {"", "yesterday", "2024-05-01T10:40:00", "2024-13-01", "2024-02-31",
                         "2024-05-01T10:40Z", "12ab", "2024-05-01T10:40:00Zjunk", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ww_archive_parse_time(bad[i], &ms), -1);
    ww_archive_opts_t o;
    ww_archive_opts_default(&o);
    assert_int_equal(o.fsync, WW_ARCHIVE_FSYNC_INTERVAL);
    assert_int_equal(ww_archive_parse_fsync("always", &o), 0);
    assert_int_equal(o.fsync, WW_ARCHIVE_FSYNC_ALWAYS);
    assert_int_equal(ww_archive_parse_fsync("250ms", &o), 0);
    assert_int_equal(o.fsync, WW_ARCHIVE_FSYNC_INTERVAL);
    assert_int_equal(o.fsync_interval_ms, 250);
    assert_int_equal(ww_archive_parse_fsync("never", &o), 0);
    assert_int_equal(o.fsync, WW_ARCHIVE_FSYNC_NEVER);
    assert_int_equal(ww_archive_parse_fsync("sometimes", &o), -1);
    assert_int_equal(ww_archive_parse_fsync("0ms", &o), -1);
}

static void test_json(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t cap = 0;
    ww_event_t *ev = ww_event_new();
    ev->title = ww_strdup("Quote \"this\" \\ back\tslash / caf\xc3\xa9 \xe2\x80\xa8 \x01\x1f\x7f end");
    ev->id = ww_strdup("00112233445566778899aabbccddeeff");
    ev->lang = ww_strdup("");
    ev->published_at = -5;
    ww_event_add_entity(ev, "Ana \"A\" Lind", "Ana Lind", WW_ENT_PER, WW_FIELD_TITLE, 0, 3, 2);
    ww_event_add_quote(ev, "", "we\nwill");
    for (int round = 0; round < 3; round++) {
        char *ref = ww_event_to_json(ev);
        size_t n = ww_archive_event_json(ev, &buf, &cap);
        assert_int_equal(n, strlen(ref));
        assert_string_equal(buf, ref);
        ww_free(ref);
        if (round == 0) {
            ev->body = ww_strdup("a longer body\r\n\b\f with every escape");
            ev->ingested_at = INT64_C(1714560000000);
        } else {
            ww_event_add_keyword(ev, "port strike", 0.1 + 1.0 / 3); /* the jansson path */
        }
    }
    ww_event_destroy(&ev);
    ev = mk_event(3, 5000);
    char *ref = ww_event_to_json(ev);
    assert_int_equal(ww_archive_event_json(ev, &buf, &cap), strlen(ref));
    assert_string_equal(buf, ref);
    ww_free(ref);
    ww_event_destroy(&ev);
    ww_free(buf);
}

static void test_interval_sync(void **state)
{
    (void)state;
    char *dir = wwt_tmpdir("arch");
    ww_archive_opts_t o;
    ww_archive_opts_default(&o);
    o.fsync_interval_ms = 10;
    char err[256];
    ww_archive_writer_t *w = ww_archive_writer_open(dir, &o, NULL, err, sizeof err);
    ww_event_t *ev = mk_event(1, 100);
    assert_int_equal(ww_archive_writer_append(w, ev), 0);
    assert_int_equal(ww_archive_writer_commit(w), 0);
    ww_archive_writer_stats_t st;
    for (int i = 0; i < 200; i++) {
        ww_archive_writer_stats(w, &st);
        if (st.syncs)
            break;
        usleep(5000);
    }
    assert_true(st.syncs >= 1); /* the background thread synced the dirty segment */
    assert_int_equal(st.records, 1);
    ww_event_destroy(&ev);
    ww_archive_writer_close(&w);
    rm_archive(dir);
}

int main(void)
{
    ww_log_level = WW_LOG_WARN;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),      cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_rotation),    cmocka_unit_test(test_torn_tail),
        cmocka_unit_test(test_corruption),  cmocka_unit_test(test_window_index),
        cmocka_unit_test(test_merge),       cmocka_unit_test(test_import),
        cmocka_unit_test(test_parse),       cmocka_unit_test(test_interval_sync),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
