/* archive.h - the durable archive of accepted events (issue: archive and
 * replay). Append-only segment files of length-prefixed MessagePack event
 * records, each with a CRC32C. The format is documented in docs/archive.md
 * (merged into the README):
 *
 *   ARCHIVE/                    a directory
 *     LOCK                      flock()ed by the one writer
 *     seg-00000000000000000001.wwa   segment: 32-byte header, then records
 *     seg-00000000000000000001.wwi   its sparse time index (a rebuildable hint)
 *
 *   segment header (little endian): "WWARSEG\0", u16 version (1), u16 flags (0),
 *     u32 CRC32C of the header with this field zero, u64 segment number,
 *     i64 created (Unix ms)
 *   record: u32 magic "WWR1", u32 payload length, i64 event time (Unix ms),
 *     u32 CRC32C over (length, time, payload), then the payload: one
 *     MessagePack event map (SPEC §4 public keys, ww_event_pack)
 *   index: 16-byte header "WWIDX\0\0\1" + u64 segment number, then 40-byte
 *     entries, one per ~256 KiB block of whole records: u64 offset, u32 bytes,
 *     u32 records, i64 min event time, i64 max event time, u32 CRC32C of
 *     those 32 bytes, u32 zero. Entries cover the segment contiguously from
 *     offset 32; the tail after the last entry is scanned.
 *
 * This header fixes the reader interface other modules (backtests, replay,
 * `archive cat`) rely on; the writer, inspection and import follow. */
#ifndef WW_ARCHIVE_H
#define WW_ARCHIVE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ww/event.h"

/* ---- reader --------------------------------------------------------------------- */

typedef struct ww_archive_reader ww_archive_reader_t;

/* Opens one or more archives (each an archive directory or a single segment
 * file) for reading, restricted to from_ms <= t < to_ms (0 and INT64_MAX for
 * everything), t being the event time (published_at, else ingested_at).
 * Each archive is read in archive (append) order; several archives are merged
 * by the event time of their next event (ties keep archive order), so the
 * result is in event-time order whenever each archive is. The sparse time
 * index lets whole blocks and segments outside the window be skipped without
 * being read. Returns NULL with a message in err when a path cannot be
 * opened. Caller owns. */
ww_archive_reader_t *ww_archive_reader_open(const char *const *paths, size_t n, int64_t from_ms,
                                            int64_t to_ms, char *err, size_t errlen);

/* Next event: returns 1 and *out (caller owns), 0 at the end, -1 on an I/O
 * error. Corrupt records are reported (logged with segment and offset),
 * counted and skipped, never returned. */
int ww_archive_reader_next(ww_archive_reader_t *r, ww_event_t **out);

void ww_archive_reader_close(ww_archive_reader_t **r);

/* What a reader (or a verify run) has seen so far. */
typedef struct {
    uint64_t records;       /* records returned (in the window) */
    uint64_t skipped;       /* valid records outside the time window */
    uint64_t bytes;         /* record bytes read (headers + payloads) */
    uint64_t index_skipped; /* bytes jumped over thanks to the index */
    uint64_t corrupt;       /* corrupt regions (bad CRC, bad header, undecodable) */
    uint64_t corrupt_bytes; /* bytes in those regions */
    uint64_t torn;          /* incomplete records at the end of a segment */
    uint64_t segments;      /* segments opened */
} ww_archive_stats_t;

/* Copies the reader's counters into *st. */
void ww_archive_reader_stats(const ww_archive_reader_t *r, ww_archive_stats_t *st);

/* ---- writer ---------------------------------------------------------------------- */

typedef enum {
    WW_ARCHIVE_FSYNC_ALWAYS = 0, /* fdatasync at every commit (every batch) before it returns */
    WW_ARCHIVE_FSYNC_INTERVAL,   /* a background thread fdatasyncs every interval when dirty */
    WW_ARCHIVE_FSYNC_NEVER,      /* leave it to the kernel */
} ww_archive_fsync_t;

typedef struct {
    int64_t segment_bytes;     /* rotate before a segment would exceed this, default 256 MiB */
    int64_t segment_ms;        /* rotate when a segment is older than this, default 1 h */
    ww_archive_fsync_t fsync;  /* durability policy, default INTERVAL */
    int64_t fsync_interval_ms; /* for INTERVAL, default 100 ms */
} ww_archive_opts_t;

/* Fills the defaults above. */
void ww_archive_opts_default(ww_archive_opts_t *o);
/* Parses a fsync policy: "always", "never", or a duration ("100ms", "1s")
 * meaning every that often. Returns 0 and sets o->fsync (+ interval), or -1. */
int ww_archive_parse_fsync(const char *s, ww_archive_opts_t *o);

/* What opening an existing archive found and repaired. */
typedef struct {
    char segment[512];     /* the last segment (the one reopened), "" for a new archive */
    uint64_t torn_bytes;   /* bytes cut off its end (an incomplete last write) */
    uint64_t corrupt;      /* corrupt regions found before the end (left for verify) */
    uint64_t records;      /* valid records in it */
} ww_archive_recovery_t;

typedef struct ww_archive_writer ww_archive_writer_t;

/* Opens (creating it and its parents when needed) the archive directory dir
 * for appending, as its only writer (flock on dir/LOCK; a second writer fails).
 * An existing last segment is scanned: a torn tail (the incomplete end of an
 * interrupted write) is truncated, its index rebuilt, and the repair described
 * in *rec (may be NULL) and logged. Returns NULL with err on failure. Caller owns. */
ww_archive_writer_t *ww_archive_writer_open(const char *dir, const ww_archive_opts_t *o,
                                            ww_archive_recovery_t *rec, char *err, size_t errlen);

/* Appends one event (buffered; rotates first when due). Returns 0, or -1 when
 * the event is larger than a record may be or a write failed (logged). The
 * event is on disk (page cache) after the next ww_archive_writer_commit. */
int ww_archive_writer_append(ww_archive_writer_t *w, const ww_event_t *ev);

/* Writes everything appended so far to the file and applies the fsync policy
 * (ALWAYS: durable on return). Also rotates a segment that has grown too old.
 * Returns 0 or -1 (logged). Call it before passing appended events on. */
int ww_archive_writer_commit(ww_archive_writer_t *w);

/* Commits and fdatasyncs now whatever the policy. Returns 0 or -1. */
int ww_archive_writer_sync(ww_archive_writer_t *w);

/* Commits, indexes the last block, syncs (unless NEVER), unlocks, frees.
 * NULL-safe; nulls *w. */
void ww_archive_writer_close(ww_archive_writer_t **w);

/* Counters of a writer. */
typedef struct {
    uint64_t records, bytes, segments_created, syncs;
} ww_archive_writer_stats_t;
void ww_archive_writer_stats(const ww_archive_writer_t *w, ww_archive_writer_stats_t *st);

/* ---- inspection: ls and verify ------------------------------------------------------- */

typedef struct {
    char *path;             /* segment file */
    uint64_t number;        /* segment number from the header (0 when the header is bad) */
    int64_t created_ms;     /* from the header */
    uint64_t bytes;         /* file size */
    uint64_t records;       /* valid records */
    int64_t min_time, max_time; /* event time range (0, 0 when empty) */
    uint64_t index_entries; /* usable index entries */
    uint64_t corrupt;       /* corrupt regions (verify) */
    bool header_ok;         /* the header is intact */
} ww_archive_segment_info_t;

/* Called for every problem verify finds: segment path, byte offset, length
 * of the bad region and what is wrong. */
typedef void (*ww_archive_problem_fn)(void *ud, const char *segment, uint64_t offset,
                                      uint64_t length, const char *what);

/* Lists the segments of an archive (directory or one segment file), in order.
 * With verify, every record is read and checked (CRC and MessagePack decode)
 * and each problem reported through fn (may be NULL), reading on past it;
 * without, only the index and the unindexed tail are read (fast). Returns 0
 * and *out (caller owns, free with ww_archive_segments_free), or -1 with err. */
int ww_archive_segments(const char *path, bool verify, ww_archive_problem_fn fn, void *ud,
                        ww_archive_segment_info_t **out, size_t *n, char *err, size_t errlen);
void ww_archive_segments_free(ww_archive_segment_info_t **segs, size_t n);

/* ---- import -------------------------------------------------------------------------- */

typedef struct ww_archive_importer ww_archive_importer_t;

/* An importer writes events to w exactly as ingest would: decoded and
 * sanitised by the intake codecs, the same stable id (ww_event_compute_id),
 * ingested_at stamped (kept when the input has one, so `archive cat` output
 * imports back unchanged), and duplicates (same id within dedup_window_ms of
 * ingested_at) dropped, with an in-memory table instead of Redis. w is
 * borrowed. Caller owns. */
ww_archive_importer_t *ww_archive_importer_new(ww_archive_writer_t *w, int64_t dedup_window_ms,
                                               const ww_limits_t *lim);
/* Imports one intake message (JSON object or MessagePack map). Returns 1
 * when archived, 0 for a duplicate, -1 when refused (st says why) or the
 * write failed (st->fatal is WW_BAD_NONE then). */
int ww_archive_importer_add(ww_archive_importer_t *im, const char *buf, size_t len, int64_t now_ms,
                            ww_decode_status_t *st);
void ww_archive_importer_destroy(ww_archive_importer_t **im);

/* ---- helpers --------------------------------------------------------------------------- */

/* Writes the JSON text of ev (exactly what ww_event_to_json gives, about ten
 * times faster: `archive cat`) into *buf (grown as needed, *cap its size;
 * both may start NULL/0; caller owns), NUL-terminated. Returns the length. */
size_t ww_archive_event_json(const ww_event_t *ev, char **buf, size_t *cap);

/* Parses a time for --from/--to: Unix milliseconds (all digits), or RFC 3339
 * ("2024-05-01T12:00:00Z", fractional seconds and ±hh:mm offsets allowed),
 * or a date "2024-05-01" (midnight UTC). Returns 0 and *ms, or -1. */
int ww_archive_parse_time(const char *s, int64_t *ms);

/* CRC-32C (Castagnoli) of buf, continuing from crc (0 to start). Uses SSE4.2
 * when the CPU has it. ww_crc32c_portable is the table version (tests). */
uint32_t ww_crc32c(uint32_t crc, const void *buf, size_t len);
uint32_t ww_crc32c_portable(uint32_t crc, const void *buf, size_t len);

#endif
