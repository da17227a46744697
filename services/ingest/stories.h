/* stories.h - near-duplicates and stories at ingest (SimHash bands in Redis). */
#ifndef WW_INGEST_STORIES_H
#define WW_INGEST_STORIES_H
#include <stddef.h>
#include <stdint.h>

#include "ww/event.h"
#include "ww/redis.h"

/* Sets duplicate_of and story on evs[0..n) (accepted, non-replayed events;
 * replayed ones keep what they carry) in one pipelined round of a Lua script
 * per event against <prefix>sim:<band>:<value> sorted sets (members
 * "<simhash hex> <event id> <story>", scored by ingested_at, kept window_ms).
 * An event within WW_SIMHASH_NEAR bits of an earlier one gets duplicate_of =
 * the nearest (earliest on a tie) and its story; otherwise story = its own id.
 * Retries across Redis outages until stop; when stopped, or for texts too
 * short to hash, story = own id. Not thread-safe (the script sha is cached). */
void ww_stories_assign(ww_redis_t *r, const char *prefix, int64_t window_ms, ww_event_t **evs,
                       size_t n);

#endif
