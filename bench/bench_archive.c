/* bench_archive.c - archive throughput and seek latency against the issue's
 * targets (each figure is printed with its limit and the ratio):
 *
 *   append   events appended and committed in batches of 64 with fsync every
 *            100 ms (the INTERVAL policy), MB of records per second; >= 200 MB/s
 *   read     the reader over the same archive, decoding every event (what
 *            `replay --max` does before sending); >= 500 MB/s
 *   cat      read + decode + JSON text (what `archive cat` does); >= 500 MB/s
 *   seek     time from ww_archive_reader_open(from = a time in the middle) to
 *            the first event, in a synthetic 10 GB archive (40 segments of
 *            256 MiB, written as sparse files: real headers, real index, real
 *            records in the block sought; the seek reads nothing else, so the
 *            holes cost nothing); < 10 ms
 *
 * Usage: bench_archive [MB] (default 512: the size of the append/read archive)
 * Archives are written under $TMPDIR (or /tmp) and removed. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/archive_internal.h"
#include "ww/alloc.h"
#include "ww/archive.h"
#include "ww/event.h"
#include "ww/log.h"
#include "wwtest.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define T0 INT64_C(1714560000000)

/* A news-like event of about 2.5 KB: title, URL, source, a varied body. */
static ww_event_t *mk_event(uint64_t i)
{
    static const char *words[] = {"minister", "harbour", "storm", "tariff", "strike", "council", "river",
                                  "election", "market", "report", "said", "on", "the", "of", "and", "in"};
    ww_event_t *ev = ww_event_new();
    ev->title = ww_asprintf("Council report %" PRIu64 " on harbour storm damage", i);
    ev->url = ww_asprintf("https://news.example.org/2024/05/harbour-%" PRIu64, i);
    ev->source = ww_strdup("https://news.example.org/rss");
    ev->lang = ww_strdup("en");
    size_t cap = 2600, n = 0;
    char *body = ww_malloc(cap);
    uint64_t x = i * 2654435761u + 1;
    while (n < 2400) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        const char *w = words[(x >> 33) % 16];
        size_t l = strlen(w);
        memcpy(body + n, w, l);
        n += l;
        body[n++] = (x >> 40) % 9 ? ' ' : '.';
    }
    body[n] = '\0';
    ev->body = body;
    ev->published_at = T0 + (int64_t)i * 100;
    ev->ingested_at = ev->published_at + 7;
    ww_event_compute_id(ev);
    return ev;
}

static void report(const char *what, double value, const char *unit, double limit, bool higher_better)
{
    double ratio = higher_better ? value / limit : limit / value;
    printf("%-44s %10.1f %-5s (target %s %.0f %s: %.2fx %s)\n", what, value, unit, higher_better ? ">=" : "<",
           limit, unit, ratio, ratio >= 1 ? "MET" : "MISSED");
}

/* Builds the sparse synthetic archive: nseg segments of segbytes, one index
 * entry per 256 KiB block, each block's time range consecutive; real records
 * only in block `real_blk` of segment `real_seg`. */
static void build_sparse(const char *dir, int nseg, uint64_t segbytes, int real_seg, uint64_t real_blk)
{
    uint64_t nblk = (segbytes - WWA_HDR) / WWA_BLOCK;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    for (int s = 0; s < nseg; s++) {
        char *sp = ww_asprintf("%s/seg-%020d.wwa", dir, s + 1), *ip = ww_asprintf("%s/seg-%020d.wwi", dir, s + 1);
        int fd = open(sp, O_WRONLY | O_CREAT | O_TRUNC, 0644), ifd = open(ip, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        unsigned char h[WWA_HDR], ih[WWA_IDX_HDR];
        wwa_header_build(h, (uint64_t)s + 1, T0);
        wwa_idx_header_build(ih, (uint64_t)s + 1);
        if (pwrite(fd, h, sizeof h, 0) != (ssize_t)sizeof h || write(ifd, ih, sizeof ih) != (ssize_t)sizeof ih)
            abort();
        unsigned char *ib = ww_malloc(nblk * WWA_IDX_ENTRY);
        for (uint64_t b = 0; b < nblk; b++) {
            int64_t t = T0 + ((int64_t)s * (int64_t)nblk + (int64_t)b) * 1000000; /* 1000 s per block */
            wwa_idx_t e = {WWA_HDR + b * WWA_BLOCK, WWA_BLOCK, 100, t, t + 999999};
            if (s == real_seg && b == real_blk) {
                /* real records filling the block exactly: 100 events, then padding
                 * as one corrupt-looking gap is not wanted, so size the last one */
                uint64_t off = e.off, end = e.off + WWA_BLOCK;
                for (int k = 0; off < end; k++) {
                    ww_event_t *ev = mk_event((uint64_t)k);
                    ev->published_at = t + k * 1000;
                    msgpack_sbuffer_clear(&sb);
                    msgpack_packer pk;
                    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
                    ww_event_pack(&pk, ev, false);
                    ww_event_destroy(&ev);
                    if (off + WWA_REC_HDR + sb.size > end)
                        break;
                    unsigned char rh[WWA_REC_HDR];
                    wwa_rec_header_build(rh, sb.data, (uint32_t)sb.size, t + k * 1000);
                    if (pwrite(fd, rh, sizeof rh, (off_t)off) != (ssize_t)sizeof rh ||
                        pwrite(fd, sb.data, sb.size, (off_t)off + WWA_REC_HDR) != (ssize_t)sb.size)
                        abort();
                    off += WWA_REC_HDR + sb.size;
                }
                e.bytes = (uint32_t)(off - e.off);
                /* the rest of the block becomes its own (empty-looking) run */
            }
            wwa_idx_entry_build(ib + b * WWA_IDX_ENTRY, &e);
        }
        if (write(ifd, ib, nblk * WWA_IDX_ENTRY) != (ssize_t)(nblk * WWA_IDX_ENTRY))
            abort();
        if (ftruncate(fd, (off_t)segbytes) < 0)
            abort();
        ww_free(ib);
        close(fd);
        close(ifd);
        ww_free(sp);
        ww_free(ip);
    }
    msgpack_sbuffer_destroy(&sb);
}

int main(int argc, char **argv)
{
    ww_log_level = WW_LOG_ERROR;
    double mb = argc > 1 ? atof(argv[1]) : 512;
    char *dir = wwt_tmpdir("bench-archive");
    char err[512];

    /* ---- append, fsync every 100 ms ---- */
    enum { POOL = 256 };
    ww_event_t *pool[POOL];
    for (int i = 0; i < POOL; i++)
        pool[i] = mk_event((uint64_t)i);
    ww_archive_opts_t o;
    ww_archive_opts_default(&o); /* INTERVAL 100 ms, 256 MiB segments */
    ww_archive_writer_t *w = ww_archive_writer_open(dir, &o, NULL, err, sizeof err);
    if (!w) {
        fprintf(stderr, "bench_archive: %s\n", err);
        return 1;
    }
    double t = now_s();
    uint64_t i = 0;
    ww_archive_writer_stats_t ws;
    do {
        for (int k = 0; k < 64; k++, i++) {
            ww_event_t *ev = pool[i % POOL];
            ev->published_at = T0 + (int64_t)i * 100; /* time moves on */
            ww_archive_writer_append(w, ev);
        }
        ww_archive_writer_commit(w);
        ww_archive_writer_stats(w, &ws);
    } while ((double)ws.bytes < mb * 1e6);
    ww_archive_writer_sync(w);
    double dt = now_s() - t;
    ww_archive_writer_stats(w, &ws);
    ww_archive_writer_close(&w);
    printf("archive: %" PRIu64 " events, %.0f MB in %" PRIu64 " segments, %" PRIu64 " fdatasyncs\n", ws.records,
           (double)ws.bytes / 1e6, ws.segments_created, ws.syncs);
    report("append (fsync every 100 ms)", (double)ws.bytes / 1e6 / dt, "MB/s", 200, true);
    for (int k = 0; k < POOL; k++)
        ww_event_destroy(&pool[k]);

    /* ---- read: decode only (replay --max) ---- */
    const char *paths[] = {dir};
    for (int pass = 0; pass < 2; pass++) {
        t = now_s();
        ww_archive_reader_t *r = ww_archive_reader_open(paths, 1, 0, INT64_MAX, err, sizeof err);
        ww_event_t *ev;
        uint64_t n = 0, json_bytes = 0;
        char *js = NULL;
        size_t jcap = 0;
        while (ww_archive_reader_next(r, &ev) == 1) {
            if (pass == 1)
                json_bytes += ww_archive_event_json(ev, &js, &jcap) + 1;
            ww_event_destroy(&ev);
            n++;
        }
        ww_archive_stats_t st;
        ww_archive_reader_stats(r, &st);
        ww_archive_reader_close(&r);
        ww_free(js);
        dt = now_s() - t;
        if (n != ws.records || st.corrupt)
            printf("  !! read %" PRIu64 " of %" PRIu64 " events, %" PRIu64 " corrupt\n", n, ws.records, st.corrupt);
        report(pass == 0 ? "read + decode (replay --max, page cache)" : "read + decode + JSON (archive cat)",
               (double)st.bytes / 1e6 / dt, "MB/s", 500, true);
        if (pass == 1)
            printf("  (cat wrote %.0f MB of JSON)\n", (double)json_bytes / 1e6);
    }
    wwt_rmdir(dir);

    /* ---- seek in a 10 GB archive ---- */
    char *sdir = wwt_tmpdir("bench-seek");
    int nseg = 40;
    uint64_t segbytes = UINT64_C(256) << 20;
    uint64_t nblk = (segbytes - WWA_HDR) / WWA_BLOCK;
    int real_seg = 27;
    uint64_t real_blk = 611;
    build_sparse(sdir, nseg, segbytes, real_seg, real_blk);
    int64_t target = T0 + ((int64_t)real_seg * (int64_t)nblk + (int64_t)real_blk) * 1000000 + 5000;
    double best = 1e9, worst = 0, sum = 0;
    int runs = 50;
    for (int k = 0; k < runs; k++) {
        t = now_s();
        const char *sp[] = {sdir};
        ww_archive_reader_t *r = ww_archive_reader_open(sp, 1, target, INT64_MAX, err, sizeof err);
        ww_event_t *ev = NULL;
        int rc = r ? ww_archive_reader_next(r, &ev) : -1;
        dt = (now_s() - t) * 1000;
        if (rc != 1 || ww_event_time(ev) < target || ww_event_time(ev) > target + 1000) {
            printf("  !! seek returned the wrong event (rc %d)\n", rc);
            break;
        }
        ww_event_destroy(&ev);
        ww_archive_reader_close(&r);
        sum += dt;
        best = dt < best ? dt : best;
        worst = dt > worst ? dt : worst;
    }
    printf("seek: %d segments x %" PRIu64 " MiB = %.1f GB archive (sparse), index %" PRIu64 " KiB per segment\n",
           nseg, segbytes >> 20, (double)nseg * (double)segbytes / 1e9, nblk * WWA_IDX_ENTRY / 1024);
    report("seek to a time, open -> first event (mean)", sum / runs, "ms", 10, false);
    printf("  best %.2f ms, worst %.2f ms over %d runs (warm page cache)\n", best, worst, runs);
    wwt_rmdir(sdir);
    ww_free(sdir);
    ww_free(dir);
    return 0;
}
