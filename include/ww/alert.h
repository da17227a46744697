/* alert.h - the alert (SPEC §4): what an alert worker publishes.
 *
 * Wire: two frames, [channel][MessagePack map]:
 *   v         int   1
 *   id        str   32 hex digits, XXH3-128 of rule id, event id and key
 *   rule, channel, severity   str
 *   event     map   {id, title, url, source, published_at}
 *   matches   [ {kind, value, type?, field?, start?, end?, count?} ... ]
 *   fired_at  int   Unix ms
 *   seq       int   (extension) the Redis stream entry of the alert, "ms-n",
 *                   present when known, for gap detection and --since */
#ifndef WW_ALERT_H
#define WW_ALERT_H
#include <msgpack.h>
#include <stdint.h>

#include "ww/event.h"
#include "ww/rules.h"

typedef struct {
    char *id;
    char *rule;
    char *channel;
    char *severity;
    struct {
        char *id, *title, *url, *source;
        int64_t published_at;
    } event;
    ww_match_t *matches;
    size_t n_matches;
    int64_t fired_at;
    char *stream_id; /* "seq": the <prefix>alerts entry id, NULL when unknown */
} ww_alert_t;

/* Builds the alert for a rule hit on an event; `key` distinguishes threshold
 * keys (NULL or "" for none). Copies everything. Caller owns. */
ww_alert_t *ww_alert_from_hit(const ww_hit_t *hit, const ww_event_t *ev, const char *key,
                              int64_t fired_at);
void ww_alert_destroy(ww_alert_t **a);
/* For a threshold or spike rule, appends the `threshold`/`spike` match
 * (value: the key, or the rule id for per-rule keys; count: the threshold
 * count or the spike min). Nothing for other rules. */
void ww_alert_add_state_match(ww_alert_t *a, const ww_rule_t *r, const char *key);

/* Writes the 32-hex-digit deterministic id into out[33]. */
void ww_alert_compute_id(const char *rule_id, const char *event_id, const char *key, char out[33]);

/* Packs the alert map (frame 2). */
void ww_alert_pack(msgpack_packer *pk, const ww_alert_t *a);
/* Decodes frame 2. Returns 0 and *out (caller owns) or -1. */
int ww_alert_decode(const char *buf, size_t len, ww_alert_t **out);
/* One-line JSON object. Caller owns. */
char *ww_alert_to_json(const ww_alert_t *a);

#endif
