/* alert_state.h - whether a rule hit becomes an alert: once per alert id,
 * threshold windows, spikes and cooldowns, all in event time.
 *
 * The decision logic lives here as a pure function over a small store
 * interface; ww_alert_state_t is its in-memory store (backtests, tests) and
 * WW_ALERT_FIRE_LUA is the same logic, line for line, over Redis keys (the
 * live alert worker). Both make the same decisions for the same sequence of
 * calls, which is what makes `wirewatch rules test` equal the live system.
 *
 * For one (rule, key) at event time t (key: "" per rule, the entity's
 * canonical name per entity, the story per story):
 *   1. an alert id already fired: suppressed (WW_FIRE_DUPLICATE);
 *   2. threshold {count, window}: the event id is added to the key's window
 *      (a set of event ids scored by event time; trimmed below t - 2*window);
 *      n = events with score in (t - window, t]; fires only when n >= count;
 *      then the window acts as a minimum cooldown;
 *   3. spike {window, baseline, factor, min}: likewise; recent = events in
 *      (t - window, t], base = events in (t - window - baseline, t - window];
 *      fires when recent >= min and recent * baseline >= factor * base * window
 *      (recent is at least factor times the baseline's rate per window);
 *      trimmed below t - 2*(window + baseline); the window is a minimum cooldown;
 *   4. cooldown cd (> 0): suppressed when the key last fired at tl with
 *      |t - tl| < cd; else the fire time is remembered;
 *   5. fires: the alert id is remembered. */
#ifndef WW_ALERT_STATE_H
#define WW_ALERT_STATE_H
#include <stdint.h>

#include "ww/event.h"
#include "ww/rules.h"

typedef enum {
    WW_FIRE_YES = 0,       /* publish */
    WW_FIRE_DUPLICATE,     /* this alert id was already published */
    WW_FIRE_BELOW,         /* threshold count / spike condition not reached */
    WW_FIRE_COOLDOWN       /* the key fired too recently */
} ww_fire_t;

/* "yes", "duplicate", "below", "cooldown". Borrowed (static). */
const char *ww_fire_name(ww_fire_t f);

/* The state parameters of a rule, flattened. */
typedef enum { WW_FIRE_MODE_PLAIN = 0, WW_FIRE_MODE_THRESHOLD, WW_FIRE_MODE_SPIKE } ww_fire_mode_t;
typedef struct {
    ww_fire_mode_t mode;
    int64_t cooldown_ms;  /* 0: none */
    int64_t window_ms;    /* threshold or spike window */
    int64_t baseline_ms;  /* spike */
    uint32_t count;       /* threshold count */
    uint32_t min;         /* spike min */
    double factor;        /* spike factor */
} ww_fire_params_t;

void ww_fire_params_from_rule(const ww_rule_t *r, ww_fire_params_t *p);

/* The keys a hit counts under (per rule: ""; per entity: each distinct
 * entity its evidence names, or "" when it names none; per story: the
 * event's story, else its id). Writes up to max borrowed pointers (valid
 * while hit and ev live) and returns how many (>= 1). */
size_t ww_alert_hit_keys(const ww_hit_t *hit, const ww_event_t *ev, const char **keys, size_t max);

/* The in-memory store. */
typedef struct ww_alert_state ww_alert_state_t;
ww_alert_state_t *ww_alert_state_new(void);
void ww_alert_state_destroy(ww_alert_state_t **st);

/* Decides one (alert id, rule, key, event) at event time t and updates the
 * state exactly as WW_ALERT_FIRE_LUA does. */
ww_fire_t ww_alert_state_decide(ww_alert_state_t *st, const char *alert_id, const char *rule_id,
                                const char *key, const char *event_id, int64_t t,
                                const ww_fire_params_t *p);

/* The Redis script. KEYS: 1 alert-id key, 2 alerts stream, 3 window zset,
 * 4 last-fire key. ARGV: 1 channel, 2 alert bytes, 3 id ttl ms, 4 stream
 * maxlen, 5 event time, 6 event id, 7 cooldown ms, 8 mode (0 plain,
 * 1 threshold, 2 spike), 9 window ms, 10 count (threshold) or min (spike),
 * 11 baseline ms, 12 factor (%.17g).
 * Returns the stream entry id when the alert is to be published, else the
 * integer ww_fire_t reason (1, 2 or 3). */
extern const char *const WW_ALERT_FIRE_LUA;

#endif
