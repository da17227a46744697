/* cmd_archive.c - `wirewatch archive ls|cat|verify ARCHIVE...` and
 * `wirewatch archive import FILE.jsonl... --out ARCHIVE` (SPEC §2).
 *
 *   ls      one line per segment (number, size, records, event-time range,
 *           index entries) and a total per archive; read from the index, fast
 *   cat     every event as one JSON object per line (public keys), in the
 *           reader's order, optionally within --from/--to
 *   verify  reads and checks every record (CRC, MessagePack, time); each
 *           problem is printed as "SEGMENT: offset N (+LEN bytes): WHAT" and
 *           reading goes on past it; exit 1 when anything is wrong
 *   import  JSON lines (or '-' for standard input) written as ingest would */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ww/alloc.h"
#include "ww/archive.h"
#include "ww/event.h"
#include "ww/log.h"

static void archive_usage(FILE *f)
{
    fprintf(f, "Usage: wirewatch archive ls ARCHIVE...\n"
               "       wirewatch archive cat ARCHIVE... [--from TIME] [--to TIME]\n"
               "       wirewatch archive verify ARCHIVE...\n"
               "       wirewatch archive import FILE.jsonl... --out ARCHIVE [-c FILE]\n"
               "ARCHIVE is an archive directory (ingest.archive) or one segment file.\n"
               "TIME is RFC 3339 (2024-05-01T12:00:00Z) or Unix milliseconds; --from is\n"
               "inclusive, --to exclusive, both on the event time (published_at, else ingested_at).\n"
               "import reads JSON lines as accepted at the intake and writes them exactly as\n"
               "ingest would (same ids, duplicates within ingest.dedup_window dropped).\n");
}

static void fmt_time(int64_t ms, char *buf, size_t len)
{
    if (!ms) {
        snprintf(buf, len, "-");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03dZ", (int)(ms % 1000 + 1000) % 1000);
}

static int archive_ls(char **paths, int n)
{
    int rc = 0;
    for (int i = 0; i < n; i++) {
        ww_archive_segment_info_t *segs;
        size_t ns;
        char err[512];
        if (ww_archive_segments(paths[i], false, NULL, NULL, &segs, &ns, err, sizeof err) < 0) {
            fprintf(stderr, "wirewatch archive: %s\n", err);
            rc = 1;
            continue;
        }
        printf("%s\n", paths[i]);
        printf("  %-30s %12s %10s %-24s %-24s %6s\n", "segment", "bytes", "records", "first event",
               "last event", "index");
        uint64_t bytes = 0, recs = 0;
        int64_t tmin = 0, tmax = 0;
        for (size_t k = 0; k < ns; k++) {
            const ww_archive_segment_info_t *s = &segs[k];
            char a[40], b[40];
            fmt_time(s->min_time, a, sizeof a);
            fmt_time(s->max_time, b, sizeof b);
            const char *base = strrchr(s->path, '/');
            printf("  %-30s %12" PRIu64 " %10" PRIu64 " %-24s %-24s %6" PRIu64 "%s\n", base ? base + 1 : s->path,
                   s->bytes, s->records, a, b, s->index_entries, s->header_ok ? "" : "  BAD HEADER");
            bytes += s->bytes;
            recs += s->records;
            if (s->records && (!tmin || s->min_time < tmin))
                tmin = s->min_time;
            if (s->records && s->max_time > tmax)
                tmax = s->max_time;
        }
        char a[40], b[40];
        fmt_time(tmin, a, sizeof a);
        fmt_time(tmax, b, sizeof b);
        printf("  %-30s %12" PRIu64 " %10" PRIu64 " %-24s %-24s\n", "total", bytes, recs, a, b);
        ww_archive_segments_free(&segs, ns);
    }
    return rc;
}

static int archive_cat(char **paths, int n, int64_t from, int64_t to)
{
    char err[512];
    ww_archive_reader_t *r = ww_archive_reader_open((const char *const *)paths, (size_t)n, from, to, err, sizeof err);
    if (!r) {
        fprintf(stderr, "wirewatch archive: %s\n", err);
        return 1;
    }
    static char obuf[1 << 20];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    ww_event_t *ev;
    int rc;
    char *js = NULL;
    size_t cap = 0;
    while ((rc = ww_archive_reader_next(r, &ev)) == 1) {
        size_t n = ww_archive_event_json(ev, &js, &cap);
        js[n] = '\n';
        fwrite(js, 1, n + 1, stdout);
        ww_event_destroy(&ev);
    }
    ww_free(js);
    fflush(stdout);
    ww_archive_stats_t st;
    ww_archive_reader_stats(r, &st);
    ww_archive_reader_close(&r);
    if (st.corrupt)
        fprintf(stderr, "wirewatch archive: %" PRIu64 " corrupt records skipped (run 'wirewatch archive verify')\n",
                st.corrupt);
    return rc < 0 ? 1 : 0;
}

typedef struct {
    uint64_t problems;
} verify_ctx_t;

static void on_problem(void *ud, const char *segment, uint64_t offset, uint64_t length, const char *what)
{
    verify_ctx_t *v = ud;
    v->problems++;
    printf("%s: offset %" PRIu64 " (+%" PRIu64 " bytes): %s\n", segment, offset, length, what);
}

static int archive_verify(char **paths, int n)
{
    int rc = 0;
    for (int i = 0; i < n; i++) {
        verify_ctx_t v = {0};
        ww_archive_segment_info_t *segs;
        size_t ns;
        char err[512];
        if (ww_archive_segments(paths[i], true, on_problem, &v, &segs, &ns, err, sizeof err) < 0) {
            fprintf(stderr, "wirewatch archive: %s\n", err);
            rc = 1;
            continue;
        }
        uint64_t recs = 0, bytes = 0;
        for (size_t k = 0; k < ns; k++) {
            recs += segs[k].records;
            bytes += segs[k].bytes;
        }
        printf("%s: %zu segments, %" PRIu64 " bytes, %" PRIu64 " good records, %" PRIu64 " problems: %s\n",
               paths[i], ns, bytes, recs, v.problems, v.problems ? "CORRUPT" : "OK");
        if (v.problems)
            rc = 1;
        ww_archive_segments_free(&segs, ns);
    }
    return rc;
}

static int archive_import(char **files, int n, const char *out, cli_common_t *cc)
{
    if (cli_load_config(cc) != 0)
        return 2;
    ww_archive_opts_t o;
    ww_archive_opts_default(&o);
    o.segment_bytes = cc->cfg.ingest.archive_segment_size;
    o.segment_ms = cc->cfg.ingest.archive_segment_time_ms;
    ww_archive_parse_fsync(cc->cfg.ingest.archive_fsync, &o);
    if (o.fsync == WW_ARCHIVE_FSYNC_ALWAYS)
        o.fsync = WW_ARCHIVE_FSYNC_INTERVAL; /* one sync at the end is as durable for a batch tool */
    char err[512];
    ww_archive_recovery_t rec;
    ww_archive_writer_t *w = ww_archive_writer_open(out, &o, &rec, err, sizeof err);
    if (!w) {
        fprintf(stderr, "wirewatch archive import: %s\n", err);
        return 1;
    }
    ww_limits_t lim;
    ww_limits_default(&lim);
    lim.max_bytes = (size_t)cc->cfg.max_message_bytes;
    ww_archive_importer_t *im = ww_archive_importer_new(w, cc->cfg.ingest.dedup_window_ms, &lim);
    uint64_t acc = 0, dup = 0, bad = 0;
    int rc = 0;
    char *line = NULL;
    size_t cap = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        bool is_stdin = strcmp(files[i], "-") == 0;
        FILE *f = is_stdin ? stdin : fopen(files[i], "r");
        if (!f) {
            perror(files[i]);
            rc = 1;
            break;
        }
        long lineno = 0;
        ssize_t len;
        struct timespec ts;
        while ((len = getline(&line, &cap, f)) > 0) {
            lineno++;
            while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                line[--len] = '\0';
            if (len == 0)
                continue;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
            ww_decode_status_t st;
            int k = ww_archive_importer_add(im, line, (size_t)len, now, &st);
            if (k == 1)
                acc++;
            else if (k == 0)
                dup++;
            else if (st.fatal != WW_BAD_NONE) {
                fprintf(stderr, "%s:%ld: skipped: %s (%s)\n", files[i], lineno, ww_bad_name(st.fatal), st.detail);
                bad++;
            } else {
                rc = 1; /* a write failed (logged) */
                break;
            }
        }
        if (!is_stdin)
            fclose(f);
    }
    free(line);
    if (rc == 0 && (ww_archive_writer_commit(w) < 0 || ww_archive_writer_sync(w) < 0))
        rc = 1;
    ww_archive_importer_destroy(&im);
    ww_archive_writer_close(&w);
    fprintf(stderr, "wirewatch archive import: %" PRIu64 " events archived, %" PRIu64 " duplicates dropped, %" PRIu64
                    " lines skipped -> %s\n",
            acc, dup, bad, out);
    if (rec.torn_bytes)
        fprintf(stderr, "wirewatch archive import: note: truncated a torn tail of %" PRIu64 " bytes in %s first\n",
                rec.torn_bytes, rec.segment);
    return rc ? rc : (bad ? 1 : 0);
}

int cmd_archive(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        archive_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    static const struct option opts[] = {{"from", required_argument, NULL, 'F'}, {"to", required_argument, NULL, 'T'},
                                         {"out", required_argument, NULL, 'o'},  {"config", required_argument, NULL, 'c'},
                                         {"redis", required_argument, NULL, 'r'}, {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    cli_common_t cc;
    memset(&cc, 0, sizeof cc);
    int64_t from = 0, to = INT64_MAX;
    const char *out = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "c:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'F':
        case 'T':
            if (ww_archive_parse_time(optarg, c == 'F' ? &from : &to) < 0) {
                fprintf(stderr, "wirewatch archive: bad time '%s' (RFC 3339 or Unix milliseconds)\n", optarg);
                return 2;
            }
            break;
        case 'o': out = optarg; break;
        case 'c': cc.config_path = optarg; break;
        case 'r': cc.redis_url = optarg; break;
        case 'h': archive_usage(stdout); return 0;
        default: archive_usage(stderr); return 2;
        }
    }
    char **rest = argv + 1 + optind;
    int nrest = argc - 1 - optind;
    if (nrest < 1) {
        fprintf(stderr, "wirewatch archive %s: no %s given\n", sub, strcmp(sub, "import") == 0 ? "FILE" : "ARCHIVE");
        return 2;
    }
    int rc;
    if (strcmp(sub, "import") == 0) {
        if (!out) {
            fprintf(stderr, "wirewatch archive import: --out ARCHIVE is required\n");
            return 2;
        }
        rc = archive_import(rest, nrest, out, &cc);
    } else if (out) {
        fprintf(stderr, "wirewatch archive %s: --out is for import\n", sub);
        return 2;
    } else if (strcmp(sub, "ls") == 0) {
        rc = archive_ls(rest, nrest);
    } else if (strcmp(sub, "cat") == 0) {
        rc = archive_cat(rest, nrest, from, to);
    } else if (strcmp(sub, "verify") == 0) {
        rc = archive_verify(rest, nrest);
    } else {
        fprintf(stderr, "wirewatch archive: unknown subcommand '%s' (ls, cat, verify, import)\n", sub);
        return 2;
    }
    ww_config_free(&cc.cfg);
    return rc;
}
