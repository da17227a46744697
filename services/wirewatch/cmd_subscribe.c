/* cmd_subscribe.c - `wirewatch subscribe`: prints alerts whose channel starts
 * with one of the prefixes. With --since/--resume it first catches up from
 * the <prefix>alerts stream, then goes live; the live socket is opened before
 * the catch-up starts and every id is shown once, so there is no gap and no
 * duplicate. --resume NAME keeps a durable cursor in <prefix>cursor:NAME.
 * Without them it starts at the stream's end when it starts: alerts fired
 * before its subscription reached the publisher (a late joiner) or dropped
 * by the PUB socket are read from the stream, after the next live alert or
 * within half a second of quiet, so none is missed and none shown twice. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "cli.h"
#include "ww/alloc.h"
#include "ww/daemon.h"
#include "ww/zmqutil.h"

/* A bounded set of seen alert ids (open addressing, FIFO eviction). */
#define SEEN_CAP 8192
typedef struct {
    char (*ring)[33];
    size_t head, n;
} seen_t;

static bool seen_has(const seen_t *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->ring[i], id) == 0)
            return true;
    return false;
}

static void seen_add(seen_t *s, const char *id)
{
    snprintf(s->ring[s->head], 33, "%s", id);
    s->head = (s->head + 1) % SEEN_CAP;
    if (s->n < SEEN_CAP)
        s->n++;
}

typedef struct {
    cli_common_t cc;
    char **prefixes;
    int n_prefixes;
    bool json;
    const char *since, *resume;
    long count, printed;
    double timeout;
    ww_redis_t *redis;
    seen_t seen;
    char cursor_key[256];
    char last_sid[64];  /* highest <prefix>alerts entry id shown or scanned */
    long gaps_filled;   /* alerts recovered from the history after a live gap */
} sub_t;

/* Compares two stream entry ids "ms-seq" numerically. */
static int sid_cmp(const char *a, const char *b)
{
    unsigned long long am = 0, as = 0, bm = 0, bs = 0;
    sscanf(a, "%llu-%llu", &am, &as);
    sscanf(b, "%llu-%llu", &bm, &bs);
    if (am != bm)
        return am < bm ? -1 : 1;
    return as < bs ? -1 : as > bs;
}

static void note_sid(sub_t *s, const char *sid)
{
    if (sid && (!s->last_sid[0] || sid_cmp(sid, s->last_sid) > 0))
        snprintf(s->last_sid, sizeof s->last_sid, "%s", sid);
}

static int catch_up_range(sub_t *s, const char *from, const char *to);

static bool wanted(const sub_t *s, const char *channel)
{
    if (s->n_prefixes == 0)
        return true;
    for (int i = 0; i < s->n_prefixes; i++)
        if (strncmp(channel, s->prefixes[i], strlen(s->prefixes[i])) == 0)
            return true;
    return false;
}

/* Shows one alert unless already shown; advances the cursor. */
static void show(sub_t *s, const char *buf, size_t len, const char *stream_id)
{
    ww_alert_t *a;
    if (ww_alert_decode(buf, len, &a) < 0) {
        fprintf(stderr, "wirewatch subscribe: skipped an undecodable alert\n");
        return;
    }
    if (!stream_id) {
        /* live: anything between the last entry we know and this one was
         * missed by the live socket (PUB drops for slow or late subscribers):
         * fill the gap from the history before showing this alert */
        stream_id = a->stream_id;
        if (s->redis && stream_id && s->last_sid[0] && sid_cmp(stream_id, s->last_sid) > 0) {
            long before = s->printed;
            char to[80];
            snprintf(to, sizeof to, "(%s", stream_id);
            catch_up_range(s, s->last_sid, to);
            s->gaps_filled += s->printed - before;
        }
    }
    note_sid(s, stream_id);
    if (!seen_has(&s->seen, a->id) && wanted(s, a->channel)) {
        seen_add(&s->seen, a->id);
        if (s->json) {
            char *j = ww_alert_to_json(a);
            printf("%s\n", j);
            ww_free(j);
        } else {
            cli_print_alert(a, isatty(STDOUT_FILENO));
        }
        fflush(stdout);
        s->printed++;
        if (s->resume && s->redis && stream_id) {
            redisReply *r = ww_redis_cmd(s->redis, "SET %s %s", s->cursor_key, stream_id);
            if (r)
                freeReplyObject(r);
        }
    }
    ww_alert_destroy(&a);
}

/* Shows the history entries strictly after `from` up to `to` ("+" for the
 * end, "(ID" for exclusive), in order. */
static int catch_up_range(sub_t *s, const char *from, const char *to)
{
    char start[80];
    snprintf(start, sizeof start, "(%s", from);
    for (;;) {
        redisReply *r = ww_redis_cmd(s->redis, "XRANGE %salerts %s %s COUNT 500", s->cc.cfg.prefix, start, to);
        if (!r || r->type != REDIS_REPLY_ARRAY) {
            if (r && r->type == REDIS_REPLY_ERROR)
                fprintf(stderr, "wirewatch subscribe: %s\n", r->str);
            if (r)
                freeReplyObject(r);
            return -1;
        }
        size_t n = r->elements;
        for (size_t i = 0; i < n && (s->count <= 0 || s->printed < s->count); i++) {
            redisReply *e = r->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements < 2)
                continue;
            snprintf(start, sizeof start, "(%s", e->element[0]->str);
            note_sid(s, e->element[0]->str);
            redisReply *kv = e->element[1];
            for (size_t j = 0; j + 1 < kv->elements; j += 2)
                if (strcmp(kv->element[j]->str, "alert") == 0)
                    show(s, kv->element[j + 1]->str, kv->element[j + 1]->len, e->element[0]->str);
        }
        freeReplyObject(r);
        if (n < 500 || (s->count > 0 && s->printed >= s->count))
            return 0;
    }
}

/* Catches up from the stream, entries strictly after `from`. */
static int catch_up(sub_t *s, const char *from)
{
    return catch_up_range(s, from, "+");
}

static void sub_usage(FILE *f)
{
    fprintf(f, "Usage: wirewatch subscribe [PREFIX...] [--json] [--since ALERT_ID | --resume NAME]\n"
               "                           [--count N] [--timeout SEC] [-c FILE] [--redis URL]\n"
               "Prints alerts whose channel starts with a PREFIX (all when none).\n"
               "  --json         one JSON object per line\n"
               "  --since ID     first every alert after ID (an alert id or a stream entry id) from history\n"
               "  --resume NAME  continue where the subscriber NAME stopped (durable cursor in Redis)\n"
               "  --count N      exit after N alerts\n"
               "  --timeout SEC  exit after SEC seconds (exit code 0)\n");
}

int cmd_subscribe(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},       {"since", required_argument, NULL, 's'},
        {"resume", required_argument, NULL, 'R'}, {"count", required_argument, NULL, 'n'},
        {"timeout", required_argument, NULL, 't'}, {"config", required_argument, NULL, 'c'},
        {"redis", required_argument, NULL, 'r'},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    sub_t s;
    memset(&s, 0, sizeof s);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': s.json = true; break;
        case 's': s.since = optarg; break;
        case 'R': s.resume = optarg; break;
        case 'n': s.count = atol(optarg); break;
        case 't': s.timeout = atof(optarg); break;
        case 'c': s.cc.config_path = optarg; break;
        case 'r': s.cc.redis_url = optarg; break;
        case 'h': sub_usage(stdout); return 0;
        default: sub_usage(stderr); return 2;
        }
    }
    if (s.since && s.resume) {
        fprintf(stderr, "wirewatch subscribe: --since and --resume exclude each other\n");
        return 2;
    }
    s.prefixes = argv + optind;
    s.n_prefixes = argc - optind;
    if (cli_load_config(&s.cc) != 0)
        return 2;
    ww_signals_install();
    s.seen.ring = ww_calloc(SEEN_CAP, sizeof *s.seen.ring);
    int rc = 1;
    void *zctx = zmq_ctx_new();
    void *sub = ww_zmq_socket(zctx, ZMQ_SUB, s.cc.cfg.max_message_bytes, 100000, 0);
    if (s.n_prefixes == 0)
        zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
    for (int i = 0; i < s.n_prefixes; i++)
        zmq_setsockopt(sub, ZMQ_SUBSCRIBE, s.prefixes[i], strlen(s.prefixes[i]));
    if (ww_zmq_connect(sub, s.cc.cfg.alert.publish) < 0)
        goto out;
    if (s.since || s.resume) {
        s.redis = cli_redis(&s.cc, 5000);
        if (!s.redis)
            goto out;
        char from[64] = "0-0";
        if (s.resume) {
            snprintf(s.cursor_key, sizeof s.cursor_key, "%scursor:%s", s.cc.cfg.prefix, s.resume);
            redisReply *r = ww_redis_cmd(s.redis, "GET %s", s.cursor_key);
            if (r && r->type == REDIS_REPLY_STRING)
                snprintf(from, sizeof from, "%s", r->str);
            else {
                /* a new subscriber name starts from now */
                redisReply *l = ww_redis_cmd(s.redis, "XREVRANGE %salerts + - COUNT 1", s.cc.cfg.prefix);
                if (l && l->type == REDIS_REPLY_ARRAY && l->elements == 1)
                    snprintf(from, sizeof from, "%s", l->element[0]->element[0]->str);
                if (l)
                    freeReplyObject(l);
                /* remember the start now, so alerts fired before the next
                 * run are not missed even if none is shown in this one */
                redisReply *w = ww_redis_cmd(s.redis, "SET %s %s", s.cursor_key, from);
                if (w)
                    freeReplyObject(w);
            }
            if (r)
                freeReplyObject(r);
        } else {
            redisReply *r = ww_redis_cmd(s.redis, "GET %salert:{%s}", s.cc.cfg.prefix, s.since);
            if (r && r->type == REDIS_REPLY_STRING)
                snprintf(from, sizeof from, "%s", r->str);
            else if (strchr(s.since, '-'))
                snprintf(from, sizeof from, "%s", s.since); /* a stream entry id */
            else {
                fprintf(stderr, "wirewatch subscribe: unknown alert id '%s'\n", s.since);
                if (r)
                    freeReplyObject(r);
                rc = 2;
                goto out;
            }
            if (r)
                freeReplyObject(r);
        }
        /* the live socket is already connected: alerts fired during the
         * catch-up wait in its queue and are shown once, after it */
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
        note_sid(&s, from);
        if (catch_up(&s, from) < 0)
            goto out;
    } else {
        /* live only: the history fills what the live socket misses */
        s.redis = cli_redis(&s.cc, 2000);
        if (s.redis) {
            char from[64] = "0-0";
            redisReply *l = ww_redis_cmd(s.redis, "XREVRANGE %salerts + - COUNT 1", s.cc.cfg.prefix);
            if (l && l->type == REDIS_REPLY_ARRAY && l->elements == 1)
                snprintf(from, sizeof from, "%s", l->element[0]->element[0]->str);
            if (l)
                freeReplyObject(l);
            note_sid(&s, from);
        } else {
            fprintf(stderr, "wirewatch subscribe: live alerts only (no history to fill gaps from)\n");
        }
    }
    int64_t end = s.timeout > 0 ? ww_mono_ms() + (int64_t)(s.timeout * 1000) : 0;
    zmq_msg_t ch, body;
    zmq_msg_init(&ch);
    zmq_msg_init(&body);
    while (!ww_stop && (s.count <= 0 || s.printed < s.count)) {
        long wait = 500;
        if (end) {
            int64_t left = end - ww_mono_ms();
            if (left <= 0)
                break;
            if (left < wait)
                wait = (long)left;
        }
        zmq_pollitem_t it[] = {{sub, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(it, 1, wait) <= 0) {
            /* quiet: anything in the history past the last alert seen was
             * missed live (late join, PUB drop); one XRANGE, usually empty */
            if (s.redis && s.last_sid[0])
                catch_up(&s, s.last_sid); /* a failure: the next call reconnects */
            continue;
        }
        while ((s.count <= 0 || s.printed < s.count) && zmq_msg_recv(&ch, sub, ZMQ_DONTWAIT) >= 0) {
            if (!zmq_msg_more(&ch))
                continue;
            if (zmq_msg_recv(&body, sub, 0) < 0)
                break;
            show(&s, zmq_msg_data(&body), zmq_msg_size(&body), NULL);
        }
    }
    zmq_msg_close(&ch);
    zmq_msg_close(&body);
    rc = 0;
out:
    zmq_close(sub);
    zmq_ctx_term(zctx);
    ww_redis_destroy(&s.redis);
    ww_free(s.seen.ring);
    ww_config_free(&s.cc.cfg);
    return rc;
}
