/* stories.c - near-duplicates and stories at ingest: a 64-bit SimHash per
 * event, looked up and recorded in Redis by 16-bit bands (see stories.h). */
#include "stories.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ww/alloc.h"
#include "ww/daemon.h"
#include "ww/log.h"
#include "ww/simhash.h"

#define MOD "ingest"

/* KEYS[1..4]: the band sets. ARGV: 1 simhash (16 hex), 2 event id, 3 now
 * (ms), 4 window (ms), 5 max distance. Drops members older than the window,
 * finds the nearest member within the distance (not the event itself;
 * earliest first on a tie), adds the event with the story it takes, and
 * returns {duplicate_of or "", story}. The distance is counted on 16-bit
 * chunks (Lua numbers are doubles; bit.* works on 32 bits). Only the 16 oldest
 * (story roots) and 16 newest members of a band are compared, and a band keeps
 * at most 1,024 members, so a flood of near-identical items costs constant
 * time per event instead of growing with the flood. */
static const char *const STORIES_LUA =
    "local h, id = ARGV[1], ARGV[2]\n"
    "local now, win, maxd = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])\n"
    "local mine = {}\n"
    "for c = 0, 3 do mine[c] = tonumber(string.sub(h, 4 * c + 1, 4 * c + 4), 16) end\n"
    "local best, bestd, bests = nil, maxd + 1, nil\n"
    "for i = 1, 4 do\n"
    "  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. string.format('%d', now - win))\n"
    "  local cand = redis.call('ZRANGE', KEYS[i], 0, 15)\n"
    "  if redis.call('ZCARD', KEYS[i]) > 16 then\n"
    "    for _, m in ipairs(redis.call('ZRANGE', KEYS[i], -16, -1)) do cand[#cand + 1] = m end\n"
    "  end\n"
    "  for _, m in ipairs(cand) do\n"
    "    local mh, mid, ms = string.match(m, '^(%x+) (%S+) (%S+)$')\n"
    "    if mh and #mh == 16 and mid ~= id then\n"
    "      local d = 0\n"
    "      for c = 0, 3 do\n"
    "        local x = bit.bxor(mine[c], tonumber(string.sub(mh, 4 * c + 1, 4 * c + 4), 16))\n"
    "        while x ~= 0 do x = bit.band(x, x - 1); d = d + 1 end\n"
    "      end\n"
    "      if d < bestd then best, bestd, bests = mid, d, ms end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local story = bests or id\n"
    "local member = h .. ' ' .. id .. ' ' .. story\n"
    "for i = 1, 4 do\n"
    "  redis.call('ZADD', KEYS[i], now, member)\n"
    "  if redis.call('ZCARD', KEYS[i]) > 1024 then redis.call('ZREMRANGEBYRANK', KEYS[i], 64, -961) end\n"
    "  redis.call('PEXPIRE', KEYS[i], win)\n"
    "end\n"
    "return {best or '', story}\n";

static char stories_sha[41]; /* "" until loaded */

/* Appends the EVALSHA of event ev (hash h) to the pipeline. Returns 0 or -1. */
static int stories_append(ww_redis_t *r, const char *pfx, int64_t window_ms, const ww_event_t *ev,
                          uint64_t h)
{
    char keys[WW_SIMHASH_BANDS][160], hex[17], now[24], win[24], maxd[8];
    const char *argv[3 + WW_SIMHASH_BANDS + 5];
    size_t lens[3 + WW_SIMHASH_BANDS + 5];
    int c = 0;
    argv[c++] = "EVALSHA";
    argv[c++] = stories_sha;
    argv[c++] = "4";
    for (int b = 0; b < WW_SIMHASH_BANDS; b++) {
        snprintf(keys[b], sizeof keys[b], "%ssim:%d:%04x", pfx, b, ww_simhash_band(h, b));
        argv[c++] = keys[b];
    }
    /* the band chunks in the hex text: band 3 first (most significant) */
    snprintf(hex, sizeof hex, "%016" PRIx64, h);
    snprintf(now, sizeof now, "%lld", (long long)ev->ingested_at);
    snprintf(win, sizeof win, "%lld", (long long)window_ms);
    snprintf(maxd, sizeof maxd, "%d", WW_SIMHASH_NEAR);
    argv[c++] = hex;
    argv[c++] = ev->id;
    argv[c++] = now;
    argv[c++] = win;
    argv[c++] = maxd;
    for (int i = 0; i < c; i++)
        lens[i] = strlen(argv[i]);
    return ww_redis_appendargv(r, c, argv, lens);
}

/* Takes one script reply into ev. Returns 1 on NOSCRIPT, 0 otherwise. */
static int stories_take(ww_event_t *ev, const redisReply *rep)
{
    if (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0)
        return 1;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
        rep->element[0]->type == REDIS_REPLY_STRING && rep->element[1]->type == REDIS_REPLY_STRING) {
        ww_free(ev->duplicate_of);
        ev->duplicate_of = rep->element[0]->len ? ww_strdup(rep->element[0]->str) : NULL;
        ww_free(ev->story);
        ev->story = ww_strdup(rep->element[1]->str);
        return 0;
    }
    if (ww_log_ratelimit(WW_LOG_SLOTS - 3, 60))
        ww_error(MOD, "msg=\"story lookup failed\" reply=\"%s\" note=\"logged once a minute\"",
                 rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected");
    return 0;
}

void ww_stories_assign(ww_redis_t *r, const char *prefix, int64_t window_ms, ww_event_t **evs,
                       size_t n)
{
    uint64_t *hs = ww_calloc(n ? n : 1, sizeof *hs);
    bool *has = ww_calloc(n ? n : 1, sizeof *has);
    size_t todo = 0;
    for (size_t i = 0; i < n; i++) {
        if (evs[i]->replay)
            continue;
        /* the producer's values are not trusted: ingest decides */
        ww_free(evs[i]->duplicate_of);
        evs[i]->duplicate_of = NULL;
        ww_free(evs[i]->story);
        evs[i]->story = ww_strdup(evs[i]->id);
        has[i] = evs[i]->id && ww_simhash_text(evs[i]->title, evs[i]->body, &hs[i]) == 0;
        todo += has[i];
    }
    for (int attempt = 0; todo && (!ww_stop || attempt == 0); attempt++) {
        if (ww_redis_wait(r, &ww_stop, -1) < 0)
            break;
        if (!stories_sha[0] && ww_redis_script_load(r, STORIES_LUA, stories_sha) < 0) {
            stories_sha[0] = '\0';
            ww_redis_close(r);
            continue;
        }
        bool ok = true, noscript = false;
        size_t sent = 0;
        for (size_t i = 0; i < n && ok; i++)
            if (has[i]) {
                ok = stories_append(r, prefix, window_ms, evs[i], hs[i]) == 0;
                sent += ok;
            }
        for (size_t i = 0, got = 0; i < n && got < sent; i++) {
            if (!has[i])
                continue;
            redisReply *rep;
            if (ww_redis_get_reply(r, &rep) < 0) {
                ok = false;
                break;
            }
            got++;
            noscript |= stories_take(evs[i], rep) == 1;
            freeReplyObject(rep);
        }
        if (ok && !noscript)
            break;
        stories_sha[0] = '\0'; /* reload: Redis restarted or the cache was flushed */
        if (!ok)
            ww_redis_close(r);
    }
    ww_free(hs);
    ww_free(has);
}
