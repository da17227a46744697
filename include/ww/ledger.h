/* ledger.h - the in-flight ledger (SPEC §6 at-least-once): every accepted
 * event is recorded in Redis by ingest until the alert stage has finished
 * with it; events whose deadline passes (their worker died) are claimed and
 * dispatched again. Alert ids are deterministic and published once, so a
 * redelivery is invisible to subscribers.
 *
 *   <p>inflight      zset  member -> deadline (Unix ms)
 *   <p>inflight:ev   hash  member -> the event (internal MessagePack map)
 *
 * member = event id, prefixed "r:" for replayed events (a replay of an event
 * may travel while the original still does). */
#ifndef WW_LEDGER_H
#define WW_LEDGER_H
#include <stddef.h>
#include <stdint.h>

#include "ww/event.h"
#include "ww/redis.h"

typedef struct {
    char *member; /* ledger member */
    char *bytes;  /* the event, packed with internal fields */
    size_t len;
} ww_ledger_item_t;

/* Writes the member of ev into out (at least 40 bytes). */
void ww_ledger_member(const ww_event_t *ev, char out[40]);

/* Appends to r's pipeline the commands recording n events as in flight until
 * deadline_ms (2 commands per event). Returns the number of commands
 * appended (the caller reads that many replies), or -1. */
long ww_ledger_append_track(ww_redis_t *r, const char *prefix, ww_event_t *const *evs,
                            const char *const *bytes, const size_t *lens, size_t n,
                            int64_t deadline_ms);

/* Appends the commands acknowledging n events (2 per call, whatever n).
 * Returns the number of commands appended, or -1. */
long ww_ledger_append_ack(ww_redis_t *r, const char *prefix, ww_event_t *const *evs, size_t n);

/* Atomically claims up to max entries whose deadline is <= now_ms, moving their
 * deadline to new_deadline_ms. Returns the number claimed (*out is a new array
 * the caller frees with ww_ledger_items_free), or -1 on a Redis failure. */
long ww_ledger_claim_due(ww_redis_t *r, const char *prefix, int64_t now_ms, int64_t new_deadline_ms,
                         size_t max, ww_ledger_item_t **out);

/* Events in flight, or -1. */
long ww_ledger_count(ww_redis_t *r, const char *prefix);

void ww_ledger_items_free(ww_ledger_item_t *items, size_t n);

#endif
