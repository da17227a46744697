/* entstats.h - entity statistics in Redis: per-entity, per-type mention
 * counts in hourly buckets of event time, written by the extract workers.
 *
 * Layout (hour = floor(event time in Unix ms / 3,600,000), decimal):
 *
 *   <prefix>ent:<hour>      hash  "TYPE:canonical" -> mentions in events of that hour
 *
 * TYPE is PER, ORG, LOC or MISC (DATE, MONEY and PERCENT are not counted);
 * canonical is the event's canonical name (ww_entity_t.canonical), as is.
 * Event time is published_at, else ingested_at. Every write refreshes the
 * bucket's expiry to WW_ENTSTATS_TTL_S seconds from now. Counts are at least
 * once: an event redelivered after a worker crash may be counted twice. */
#ifndef WW_ENTSTATS_H
#define WW_ENTSTATS_H
#include <stddef.h>
#include <stdint.h>

#include "ww/event.h"
#include "ww/redis.h"

#define WW_ENTSTATS_BUCKET_MS 3600000LL
#define WW_ENTSTATS_TTL_S (8 * 24 * 3600) /* a spike baseline of a week fits */

typedef struct ww_entstats ww_entstats_t;

/* Counts for keys under prefix (e.g. "ww:"). Not thread-safe. Caller owns. */
ww_entstats_t *ww_entstats_new(const char *prefix);
void ww_entstats_destroy(ww_entstats_t **e);

/* Bucket number (hour) of an event time in Unix ms (negative times: 0). */
int64_t ww_entstats_bucket(int64_t event_ms);

/* Counts ev's PER/ORG/LOC/MISC mentions (each ww_entity_t is one mention)
 * in the bucket of ww_event_time(ev). Nothing is sent. While 2^20 fields wait
 * (Redis away for long) further events are not counted (a warning says so). */
void ww_entstats_add_event(ww_entstats_t *e, const ww_event_t *ev);

/* Distinct (bucket, entity) pairs waiting to be sent. */
size_t ww_entstats_pending(const ww_entstats_t *e);

/* Sends every pending count in one pipeline (per bucket: one HINCRBY per
 * entity, one EXPIRE). Returns 0, or -1 when Redis failed (the
 * counts are kept and sent by a later flush). */
int ww_entstats_flush(ww_entstats_t *e, ww_redis_t *r);

#endif
