/* fuzz_archive.c - libFuzzer target for the archive reader, verify and crash
 * recovery: the input is one segment file. Any bytes must be read without a
 * crash, a leak or UB; every returned event must be valid; after the writer
 * has recovered the segment (torn tail cut, index rebuilt) a reader must find
 * no torn tail and the same number of good events, and an appended event must
 * be read back last. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ww/alloc.h"
#include "ww/archive.h"
#include "ww/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char dir[64];
static char seg[128], idx[128], lock[128];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ww_log_level = WW_LOG_ERROR - 1; /* silent */
    snprintf(dir, sizeof dir, "/tmp/fuzz-archive-XXXXXX");
    if (!mkdtemp(dir))
        abort();
    snprintf(seg, sizeof seg, "%s/seg-00000000000000000001.wwa", dir);
    snprintf(idx, sizeof idx, "%s/seg-00000000000000000001.wwi", dir);
    snprintf(lock, sizeof lock, "%s/LOCK", dir);
    return 0;
}

/* Reads the whole archive; returns the number of events, *torn the torn count. */
static long read_count(uint64_t *torn, char **last_title)
{
    char err[256];
    const char *paths[] = {dir};
    ww_archive_reader_t *r = ww_archive_reader_open(paths, 1, 0, INT64_MAX, err, sizeof err);
    if (!r)
        __builtin_trap();
    long n = 0;
    ww_event_t *ev;
    while (ww_archive_reader_next(r, &ev) == 1) {
        if (!ev->title && !ev->body)
            __builtin_trap(); /* decoded events are valid events */
        if (last_title) {
            free(*last_title);
            *last_title = ev->title ? strdup(ev->title) : NULL;
        }
        ww_event_destroy(&ev);
        n++;
    }
    ww_archive_stats_t st;
    ww_archive_reader_stats(r, &st);
    *torn = st.torn;
    ww_archive_reader_close(&r);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(seg, "wb");
    if (!f || fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    unlink(idx);
    uint64_t torn;
    long before = read_count(&torn, NULL);

    ww_archive_segment_info_t *segs;
    size_t n;
    char err[256];
    bool header_ok = size < 32; /* a short header is rewritten; a bad one starts segment 2 */
    if (ww_archive_segments(dir, true, NULL, NULL, &segs, &n, err, sizeof err) == 0) {
        header_ok |= n == 1 && segs[0].header_ok;
        ww_archive_segments_free(&segs, n);
    }

    ww_archive_opts_t o;
    ww_archive_opts_default(&o);
    o.fsync = WW_ARCHIVE_FSYNC_NEVER;
    ww_archive_writer_t *w = ww_archive_writer_open(dir, &o, NULL, err, sizeof err);
    if (w) {
        ww_event_t *ev = ww_event_new();
        ev->title = ww_strdup("appended after recovery");
        ev->published_at = INT64_C(4102444800000); /* 2100: after anything */
        if (ww_archive_writer_append(w, ev) < 0)
            __builtin_trap();
        ww_event_destroy(&ev);
        ww_archive_writer_close(&w);
        char *last = NULL;
        long after = read_count(&torn, &last);
        /* the recovered segment has no torn tail left (one left behind a bad
         * header stays for verify to report) */
        if ((header_ok && torn) || after < before + 1 || !last || strcmp(last, "appended after recovery") != 0)
            __builtin_trap();
        free(last);
    }
    /* leave a clean directory for the next input */
    char p[160];
    for (int i = 1; i < 4; i++) {
        snprintf(p, sizeof p, "%s/seg-%020d.wwa", dir, i);
        unlink(p);
        snprintf(p, sizeof p, "%s/seg-%020d.wwi", dir, i);
        unlink(p);
    }
    unlink(lock);
    return 0;
}
