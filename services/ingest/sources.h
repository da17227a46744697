/* sources.h - ingest's own sources: RSS/Atom feeds polled over HTTP (and
 * file://), the feeds of an OPML file, and watched directories of article
 * files. They run in one thread of wirewatch-ingest and hand every event to
 * the intake exactly like an outside producer would (a PUSH socket), so ids,
 * dedup and archiving happen on the one normal path.
 *
 * Redis (SPEC keys, <p> = prefix, <h> = 16 hex digits of XXH3 of the feed URL):
 *   <p>feed:{<h>}        hash  url, etag, last_modified, errors, next_at (Unix ms),
 *                              status (last HTTP status or curl error), polled_at
 *   <p>feed:{<h>}:seen   zset  16-hex hashes of the item ids already sent, scored
 *                              by the Unix ms they were first seen (newest 5000 kept)
 *   <p>stats:ingest      hash  feed_polls, feed_not_modified, feed_errors, feed_items,
 *                              feed_parse_errors, files_done, files_failed */
#ifndef WW_INGEST_SOURCES_H
#define WW_INGEST_SOURCES_H
#include "ww/config.h"

typedef struct ww_sources ww_sources_t;

/* Starts the sources thread when cfg has feeds, an OPML file or watched
 * directories; `intake` is ingest's PULL socket (connected here, on the
 * calling thread, to the thread's inproc PUSH). Returns NULL when there is
 * nothing to run or on failure (logged; ingest goes on). Caller owns. */
ww_sources_t *ww_sources_start(void *zctx, void *intake, const ww_config_t *cfg);

/* Stops the thread (in-flight requests are abandoned, their items will be
 * fetched again on the next start) and frees everything. NULL-safe; nulls *s.
 * Call before the intake socket is closed. */
void ww_sources_stop(ww_sources_t **s);
#endif
