/* ledger.c - the in-flight ledger in Redis (see ledger.h). */
#include "ww/ledger.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ww/alloc.h"
#include "ww/log.h"

/* KEYS: 1 zset, 2 hash. ARGV: 1 now, 2 new deadline, 3 max.
 * Returns {member, bytes, member, bytes, ...} of the claimed entries. */
static const char *CLAIM_LUA =
    "local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])\n"
    "local out = {}\n"
    "for _, m in ipairs(due) do\n"
    "  local b = redis.call('HGET', KEYS[2], m)\n"
    "  if b then\n"
    "    redis.call('ZADD', KEYS[1], ARGV[2], m)\n"
    "    out[#out + 1] = m\n"
    "    out[#out + 1] = b\n"
    "  else\n"
    "    redis.call('ZREM', KEYS[1], m)\n"
    "  end\n"
    "end\n"
    "return out\n";

void ww_ledger_member(const ww_event_t *ev, char out[40])
{
    snprintf(out, 40, "%s%.36s", ev->replay ? "r:" : "", ev->id ? ev->id : "");
}

long ww_ledger_append_track(ww_redis_t *r, const char *prefix, ww_event_t *const *evs,
                            const char *const *bytes, const size_t *lens, size_t n,
                            int64_t deadline_ms)
{
    char zkey[256], hkey[256], dl[32];
    snprintf(zkey, sizeof zkey, "%sinflight", prefix);
    snprintf(hkey, sizeof hkey, "%sinflight:ev", prefix);
    snprintf(dl, sizeof dl, "%" PRId64, deadline_ms);
    long cmds = 0;
    for (size_t i = 0; i < n; i++) {
        char m[40];
        ww_ledger_member(evs[i], m);
        const char *hargv[] = {"HSET", hkey, m, bytes[i]};
        size_t hlen[] = {4, strlen(hkey), strlen(m), lens[i]};
        const char *zargv[] = {"ZADD", zkey, dl, m};
        size_t zlen[] = {4, strlen(zkey), strlen(dl), strlen(m)};
        if (ww_redis_appendargv(r, 4, hargv, hlen) < 0 || ww_redis_appendargv(r, 4, zargv, zlen) < 0)
            return -1;
        cmds += 2;
    }
    return cmds;
}

long ww_ledger_append_ack(ww_redis_t *r, const char *prefix, ww_event_t *const *evs, size_t n)
{
    if (n == 0)
        return 0;
    char zkey[256], hkey[256];
    snprintf(zkey, sizeof zkey, "%sinflight", prefix);
    snprintf(hkey, sizeof hkey, "%sinflight:ev", prefix);
    const char **argv = ww_calloc(n + 2, sizeof *argv);
    size_t *lens = ww_calloc(n + 2, sizeof *lens);
    char (*members)[40] = ww_calloc(n, sizeof *members);
    long rc = 2;
    for (size_t i = 0; i < n; i++) {
        ww_ledger_member(evs[i], members[i]);
        argv[i + 2] = members[i];
        lens[i + 2] = strlen(members[i]);
    }
    argv[0] = "ZREM";
    lens[0] = 4;
    argv[1] = zkey;
    lens[1] = strlen(zkey);
    if (ww_redis_appendargv(r, (int)n + 2, argv, lens) < 0)
        rc = -1;
    argv[0] = "HDEL";
    argv[1] = hkey;
    lens[1] = strlen(hkey);
    if (rc > 0 && ww_redis_appendargv(r, (int)n + 2, argv, lens) < 0)
        rc = -1;
    ww_free(argv);
    ww_free(lens);
    ww_free(members);
    return rc;
}

long ww_ledger_claim_due(ww_redis_t *r, const char *prefix, int64_t now_ms, int64_t new_deadline_ms,
                         size_t max, ww_ledger_item_t **out)
{
    *out = NULL;
    char zkey[256], hkey[256];
    snprintf(zkey, sizeof zkey, "%sinflight", prefix);
    snprintf(hkey, sizeof hkey, "%sinflight:ev", prefix);
    redisReply *rep = ww_redis_cmd(r, "EVAL %s 2 %s %s %lld %lld %llu", CLAIM_LUA, zkey, hkey,
                                   (long long)now_ms, (long long)new_deadline_ms,
                                   (unsigned long long)max);
    if (!rep)
        return -1;
    if (rep->type != REDIS_REPLY_ARRAY) {
        if (rep->type == REDIS_REPLY_ERROR)
            ww_error("ledger", "msg=\"claim failed\" error=\"%s\"", rep->str);
        freeReplyObject(rep);
        return -1;
    }
    size_t n = rep->elements / 2;
    ww_ledger_item_t *items = ww_calloc(n ? n : 1, sizeof *items);
    for (size_t i = 0; i < n; i++) {
        redisReply *m = rep->element[2 * i], *b = rep->element[2 * i + 1];
        items[i].member = ww_strndup(m->str, m->len);
        items[i].bytes = ww_strndup(b->str, b->len);
        items[i].len = b->len;
    }
    freeReplyObject(rep);
    *out = items;
    return (long)n;
}

long ww_ledger_count(ww_redis_t *r, const char *prefix)
{
    redisReply *rep = ww_redis_cmd(r, "ZCARD %sinflight", prefix);
    long n = rep && rep->type == REDIS_REPLY_INTEGER ? (long)rep->integer : -1;
    if (rep)
        freeReplyObject(rep);
    return n;
}

void ww_ledger_items_free(ww_ledger_item_t *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ww_free(items[i].member);
        ww_free(items[i].bytes);
    }
    ww_free(items);
}
