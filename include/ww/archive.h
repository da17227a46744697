/* archive.h - the durable archive of accepted events (issue: archive and
 * replay). Append-only segment files of length-prefixed MessagePack event
 * records, each with a CRC32C. The format is documented in the README.
 *
 * This header fixes the reader interface other modules (backtests, replay,
 * `archive cat`) rely on; the writer and the rest are added with the module. */
#ifndef WW_ARCHIVE_H
#define WW_ARCHIVE_H
#include <stddef.h>
#include <stdint.h>

#include "ww/event.h"

typedef struct ww_archive_reader ww_archive_reader_t;

/* Opens one or more archives (each an archive directory or a single segment
 * file) for reading, merged in event-time order (published_at, else
 * ingested_at; ties keep archive order), restricted to from_ms <= t < to_ms
 * (0 and INT64_MAX for everything). Returns NULL with a message in err when a
 * path cannot be opened. Caller owns. */
ww_archive_reader_t *ww_archive_reader_open(const char *const *paths, size_t n, int64_t from_ms,
                                            int64_t to_ms, char *err, size_t errlen);

/* Next event: returns 1 and *out (caller owns), 0 at the end, -1 on an I/O
 * error. Corrupt records are reported (logged with segment and offset),
 * counted and skipped, never returned. */
int ww_archive_reader_next(ww_archive_reader_t *r, ww_event_t **out);

void ww_archive_reader_close(ww_archive_reader_t **r);

#endif
