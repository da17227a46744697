/* alert_state.c - the firing decision (cooldown, threshold, spike, once per
 * alert id) in event time: the in-memory store and the Redis script that
 * mirrors it. See alert_state.h for the semantics; any change here must be
 * made in both ww_alert_state_decide and WW_ALERT_FIRE_LUA. */
#include "ww/alert_state.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ww/alloc.h"
#include "ww/text.h"

const char *ww_fire_name(ww_fire_t f)
{
    switch (f) {
    case WW_FIRE_YES: return "yes";
    case WW_FIRE_DUPLICATE: return "duplicate";
    case WW_FIRE_BELOW: return "below";
    case WW_FIRE_COOLDOWN: return "cooldown";
    }
    return "?";
}

void ww_fire_params_from_rule(const ww_rule_t *r, ww_fire_params_t *p)
{
    memset(p, 0, sizeof *p);
    p->cooldown_ms = r->cooldown_ms;
    if (r->threshold.on) {
        p->mode = WW_FIRE_MODE_THRESHOLD;
        p->window_ms = r->threshold.window_ms;
        p->count = r->threshold.count;
    } else if (r->spike.on) {
        p->mode = WW_FIRE_MODE_SPIKE;
        p->window_ms = r->spike.window_ms;
        p->baseline_ms = r->spike.baseline_ms;
        p->min = r->spike.min;
        p->factor = r->spike.factor;
    }
}

size_t ww_alert_hit_keys(const ww_hit_t *hit, const ww_event_t *ev, const char **keys, size_t max)
{
    const ww_rule_t *r = hit->rule;
    ww_per_t per = r->threshold.on ? r->threshold.per : r->spike.on ? r->spike.per : WW_PER_RULE;
    size_t n = 0;
    if (max == 0)
        return 0;
    if (per == WW_PER_ENTITY) {
        for (size_t i = 0; i < hit->n_matches && n < max; i++) {
            const ww_match_t *m = &hit->matches[i];
            if (m->kind != WW_MATCH_ENTITY)
                continue;
            bool dup = false;
            for (size_t j = 0; j < n && !dup; j++)
                dup = strcmp(keys[j], m->value) == 0;
            if (!dup)
                keys[n++] = m->value;
        }
    } else if (per == WW_PER_STORY) {
        /* the event's story (set by ingest: the first near-duplicate's
         * id); an event without one is its own story */
        keys[n++] = ev->story && ev->story[0] ? ev->story : ev->id ? ev->id : "";
    }
    if (n == 0)
        keys[n++] = "";
    return n;
}

/* ---- the in-memory store --------------------------------------------------------- */

/* One member of a window: an event id (hashed) and its event time. */
typedef struct {
    uint64_t member;
    int64_t score;
} st_item_t;

/* One key of the store: an alert id, a window or a last-fire time. */
typedef struct {
    char *key;          /* NULL: empty slot */
    uint64_t hash;
    bool has_last;      /* last-fire key: set */
    int64_t last;       /* its value */
    st_item_t *items;   /* window key: its members */
    size_t n, cap;
} st_entry_t;

struct ww_alert_state {
    st_entry_t *tab; /* open addressing, size mask+1 */
    size_t mask, used;
};

ww_alert_state_t *ww_alert_state_new(void)
{
    ww_alert_state_t *st = ww_calloc(1, sizeof *st);
    st->tab = ww_calloc(64, sizeof *st->tab);
    st->mask = 63;
    return st;
}

void ww_alert_state_destroy(ww_alert_state_t **stp)
{
    if (!stp || !*stp)
        return;
    ww_alert_state_t *st = *stp;
    for (size_t i = 0; i <= st->mask; i++) {
        ww_free(st->tab[i].key);
        ww_free(st->tab[i].items);
    }
    ww_free(st->tab);
    ww_free(st);
    *stp = NULL;
}

static void st_grow(ww_alert_state_t *st)
{
    size_t old = st->mask + 1;
    st_entry_t *ot = st->tab;
    st->mask = old * 2 - 1;
    st->tab = ww_calloc(old * 2, sizeof *st->tab);
    for (size_t i = 0; i < old; i++) {
        if (!ot[i].key)
            continue;
        size_t s = (size_t)ot[i].hash & st->mask;
        while (st->tab[s].key)
            s = (s + 1) & st->mask;
        st->tab[s] = ot[i];
    }
    ww_free(ot);
}

/* The entry for key (created when create), else NULL. */
static st_entry_t *st_get(ww_alert_state_t *st, const char *key, bool create)
{
    size_t len = strlen(key);
    uint64_t h = ww_hash_bytes(key, len);
    size_t s = (size_t)h & st->mask;
    while (st->tab[s].key) {
        if (st->tab[s].hash == h && strcmp(st->tab[s].key, key) == 0)
            return &st->tab[s];
        s = (s + 1) & st->mask;
    }
    if (!create)
        return NULL;
    if ((st->used + 1) * 2 > st->mask + 1) {
        st_grow(st);
        return st_get(st, key, true);
    }
    st->used++;
    st->tab[s].key = ww_strdup(key);
    st->tab[s].hash = h;
    return &st->tab[s];
}

/* ZADD: adds member at score, or moves it. */
static void st_zadd(st_entry_t *e, uint64_t member, int64_t score)
{
    for (size_t i = 0; i < e->n; i++) {
        if (e->items[i].member == member) {
            e->items[i].score = score;
            return;
        }
    }
    WW_GROW(e->items, e->cap, e->n + 1);
    e->items[e->n++] = (st_item_t){member, score};
}

/* ZREMRANGEBYSCORE -inf (limit: drops members with score < limit. */
static void st_ztrim(st_entry_t *e, int64_t limit)
{
    size_t m = 0;
    for (size_t i = 0; i < e->n; i++)
        if (e->items[i].score >= limit)
            e->items[m++] = e->items[i];
    e->n = m;
}

/* ZCOUNT (lo hi: members with lo < score <= hi. */
static int64_t st_zcount(const st_entry_t *e, int64_t lo, int64_t hi)
{
    int64_t n = 0;
    for (size_t i = 0; i < e->n; i++)
        n += e->items[i].score > lo && e->items[i].score <= hi;
    return n;
}

ww_fire_t ww_alert_state_decide(ww_alert_state_t *st, const char *alert_id, const char *rule_id,
                                const char *key, const char *event_id, int64_t t,
                                const ww_fire_params_t *p)
{
    /* key names as in Redis (without the prefix) */
    char *k_id = ww_asprintf("alert:{%s}", alert_id);
    char *k_win = ww_asprintf("win:{%s}:%s", rule_id, key);
    char *k_fire = ww_asprintf("fire:{%s}:%s", rule_id, key);
    ww_fire_t res = WW_FIRE_YES;
    int64_t cd = p->cooldown_ms;
    if (st_get(st, k_id, false)) {
        res = WW_FIRE_DUPLICATE;
        goto cleanup;
    }
    if (p->mode == WW_FIRE_MODE_THRESHOLD || p->mode == WW_FIRE_MODE_SPIKE) {
        int64_t win = p->window_ms;
        int64_t horizon = p->mode == WW_FIRE_MODE_SPIKE ? win + p->baseline_ms : win;
        st_entry_t *e = st_get(st, k_win, true);
        st_zadd(e, ww_hash_bytes(event_id, strlen(event_id)), t);
        st_ztrim(e, t - 2 * horizon);
        int64_t recent = st_zcount(e, t - win, t);
        if (p->mode == WW_FIRE_MODE_THRESHOLD) {
            if (recent < (int64_t)p->count) {
                res = WW_FIRE_BELOW;
                goto cleanup;
            }
        } else {
            if (recent < (int64_t)p->min) {
                res = WW_FIRE_BELOW;
                goto cleanup;
            }
            int64_t base = st_zcount(e, t - win - p->baseline_ms, t - win);
            /* the same double arithmetic, in the same order, as the Lua */
            if ((double)recent * (double)p->baseline_ms < p->factor * (double)base * (double)win) {
                res = WW_FIRE_BELOW;
                goto cleanup;
            }
        }
        if (win > cd)
            cd = win;
    }
    if (cd > 0) {
        st_entry_t *f = st_get(st, k_fire, true);
        if (f->has_last && llabs(t - f->last) < cd) {
            res = WW_FIRE_COOLDOWN;
            goto cleanup;
        }
        f->has_last = true;
        f->last = t;
    }
    st_get(st, k_id, true);
cleanup:
    ww_free(k_id);
    ww_free(k_win);
    ww_free(k_fire);
    return res;
}

/* ---- the same in Redis -------------------------------------------------------------- */

const char *const WW_ALERT_FIRE_LUA =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end\n"
    "local t = tonumber(ARGV[5])\n"
    "local cd = tonumber(ARGV[7])\n"
    "local mode = tonumber(ARGV[8])\n"
    "local win = tonumber(ARGV[9])\n"
    "local cnt = tonumber(ARGV[10])\n"
    "if mode == 1 or mode == 2 then\n"
    "  local base = tonumber(ARGV[11])\n"
    "  local horizon = win\n"
    "  if mode == 2 then horizon = win + base end\n"
    "  redis.call('ZADD', KEYS[3], t, ARGV[6])\n"
    "  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. string.format('%d', t - 2 * horizon))\n"
    "  redis.call('PEXPIRE', KEYS[3], 2 * horizon + 3600000)\n"
    "  local recent = redis.call('ZCOUNT', KEYS[3], '(' .. string.format('%d', t - win), string.format('%d', t))\n"
    "  if recent < cnt then return 2 end\n"
    "  if mode == 2 then\n"
    "    local factor = tonumber(ARGV[12])\n"
    "    local b = redis.call('ZCOUNT', KEYS[3], '(' .. string.format('%d', t - win - base), string.format('%d', t - win))\n"
    "    if recent * base < factor * b * win then return 2 end\n"
    "  end\n"
    "  if win > cd then cd = win end\n"
    "end\n"
    "if cd > 0 then\n"
    "  local last = redis.call('GET', KEYS[4])\n"
    "  if last and math.abs(t - tonumber(last)) < cd then return 3 end\n"
    "  redis.call('SET', KEYS[4], string.format('%d', t), 'PX', cd + 3600000)\n"
    "end\n"
    "local sid = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'channel', ARGV[1], 'alert', ARGV[2])\n"
    "redis.call('SET', KEYS[1], sid, 'PX', ARGV[3])\n"
    "return sid\n";
