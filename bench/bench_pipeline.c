/* bench_pipeline.c - end-to-end throughput and latency of the real pipeline.
 *
 * Starts a private redis-server and the real daemons (1 ingest, E extract,
 * A alert workers), loads R generated rules, and then
 *   1. throughput: pushes N articles as fast as the intake takes them and
 *      times until the alert stage has evaluated all N;
 *   2. latency: pushes probe articles at a fixed rate and measures intake to
 *      subscriber (p50/p99) from the probe alerts;
 *   3. the limit: raw ZeroMQ PUSH->PULL over tcp between two processes for
 *      the same payloads, and prints the ratio.
 * Articles: ../shared/data/news/reuters21578.jsonl when present (else
 * generated text); --size 5000 concatenates articles to ~5 KB each.
 *
 * Usage: bench_pipeline [--events N] [--extract E] [--alert A] [--rules R]
 *                       [--size BYTES] [--rate R] [--seconds S] [--model PATH]
 * (--model "" runs the rule-based first extractor instead of the trained one) */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <hiredis/hiredis.h>
#include <zmq.h>

#include "wwtest.h"
#include "ww/alloc.h"
#include "ww/event.h"

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

typedef struct {
    char **msgs;
    size_t *lens;
    size_t n;
    double avg_bytes;
} corpus_t;

static const char *WORDS[] = {
    "oil", "bank", "trade", "tariff*", "export*", "import*", "profit", "loss", "dividend", "merger",
    "acquisition", "strike", "crude", "wheat", "coffee", "cocoa", "gold", "dollar", "yen", "bond*",
    "inflation", "unemployment", "deficit", "surplus", "shares", "stake", "opec", "fed", "treasury",
    "sugar", "grain", "corn", "soybean*", "shipping", "tanker", "refinery", "earnings", "revenue",
    "debt", "loan*", "interest", "budget", "tax*", "minister", "president", "election*", "court",
    "lawsuit", "takeover", "bid", "offer", "quarter", "forecast", "growth", "recession", "price*"};
#define NWORDS (sizeof WORDS / sizeof WORDS[0])

/* Writes R generated rules: single words, AND pairs, phrases, NEAR, entity clauses. */
static char *write_rules(const char *dir, int r, unsigned seed)
{
    size_t cap = 1 << 20, len = 0;
    char *buf = ww_malloc(cap);
    len += (size_t)snprintf(buf + len, cap - len,
                            "rules:\n  - id: probe\n    channel: bench.probe\n    match: 'latencyprobe'\n");
    static const char *locs[] = {"Japan", "China", "Brazil", "Canada", "France", "Iran", "Kuwait", "Mexico"};
    for (int i = 0; i < r; i++) {
        if (cap - len < 512)
            buf = ww_realloc(buf, cap *= 2);
        const char *a = WORDS[rand_r(&seed) % NWORDS], *b = WORDS[rand_r(&seed) % NWORDS];
        char m[256];
        switch (i % 5) {
        case 0: snprintf(m, sizeof m, "%s", a); break;
        case 1: snprintf(m, sizeof m, "%s AND %s", a, b); break;
        case 2: snprintf(m, sizeof m, "%s NEAR/4 %s", a, b); break;
        case 3: snprintf(m, sizeof m, "entity:LOC:\"%s\" AND %s", locs[rand_r(&seed) % 8], a); break;
        default: snprintf(m, sizeof m, "(%s OR %s) AND NOT title:%s", a, b, WORDS[rand_r(&seed) % NWORDS]); break;
        }
        len += (size_t)snprintf(buf + len, cap - len, "  - id: r%d\n    channel: bench.r%d\n    match: '%s'\n", i,
                                i % 50, m);
    }
    char *p = wwt_write_file(dir, "rules.yaml", buf);
    ww_free(buf);
    return p;
}

/* Loads articles; each becomes a unique MessagePack event of ~size bytes. */
static void load_corpus(corpus_t *c, size_t n, size_t size)
{
    const char *data = wwt_shared_data();
    char path[1200];
    json_t **arts = NULL;
    size_t na = 0, cap = 0;
    if (data) {
        snprintf(path, sizeof path, "%s/news/reuters21578.jsonl", data);
        FILE *f = fopen(path, "r");
        char *line = NULL;
        size_t lcap = 0;
        while (f && getline(&line, &lcap, f) > 0) {
            json_t *j = json_loads(line, 0, NULL);
            if (!j)
                continue;
            WW_GROW(arts, cap, na + 1);
            arts[na++] = j;
        }
        free(line);
        if (f)
            fclose(f);
    }
    if (!na)
        fprintf(stderr, "note: ../shared/data not found; using generated text\n");
    c->msgs = ww_calloc(n, sizeof *c->msgs);
    c->lens = ww_calloc(n, sizeof *c->lens);
    c->n = n;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    size_t total = 0;
    unsigned seed = 7;
    for (size_t i = 0; i < n; i++) {
        ww_event_t *ev = ww_event_new();
        char *body = NULL;
        size_t blen = 0;
        const char *title = "Generated article";
        size_t k = i;
        while (blen < (size ? size : 1)) {
            const char *t;
            if (na) {
                json_t *a = arts[k % na];
                t = json_string_value(json_object_get(a, "body"));
                if (body == NULL)
                    title = json_string_value(json_object_get(a, "title"));
            } else {
                static char gen[1024];
                size_t gl = 0;
                for (int w = 0; w < 120; w++)
                    gl += (size_t)snprintf(gen + gl, sizeof gen - gl, "%s ", WORDS[rand_r(&seed) % NWORDS]);
                t = gen;
            }
            t = t ? t : "";
            size_t tl = strlen(t);
            body = ww_realloc(body, blen + tl + 2);
            memcpy(body + blen, t, tl);
            blen += tl;
            body[blen++] = '\n';
            body[blen] = '\0';
            k += 7919;
            if (!size)
                break;
        }
        ev->title = ww_strdup(title ? title : "");
        ev->body = body;
        ev->source = ww_strdup("bench");
        ev->url = ww_asprintf("https://bench.example/%d/%zu", (int)getpid(), i);
        ev->published_at = 541000000000LL + (int64_t)i * 60000;
        msgpack_sbuffer_clear(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        ww_event_pack(&pk, ev, false);
        c->msgs[i] = ww_strndup(sb.data, sb.size);
        c->lens[i] = sb.size;
        total += sb.size;
        ww_event_destroy(&ev);
    }
    c->avg_bytes = (double)total / (double)n;
    msgpack_sbuffer_destroy(&sb);
    for (size_t i = 0; i < na; i++)
        json_decref(arts[i]);
    ww_free(arts);
}

static long long hget(redisContext *rc, const char *key, const char *field)
{
    redisReply *r = redisCommand(rc, "HGET %s %s", key, field);
    long long v = r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
    if (r)
        freeReplyObject(r);
    return v;
}

/* Raw ZeroMQ PUSH->PULL over tcp between two processes, same payloads. */
static double raw_zmq_rate(const corpus_t *c)
{
    int port = wwt_free_port();
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    pid_t pid = fork();
    if (pid == 0) {
        void *ctx = zmq_ctx_new();
        void *pull = zmq_socket(ctx, ZMQ_PULL);
        zmq_bind(pull, ep);
        zmq_msg_t m;
        zmq_msg_init(&m);
        for (size_t i = 0; i < c->n + 1; i++)
            zmq_msg_recv(&m, pull, 0);
        zmq_msg_close(&m);
        zmq_close(pull);
        zmq_ctx_term(ctx);
        _exit(0);
    }
    void *ctx = zmq_ctx_new();
    void *push = zmq_socket(ctx, ZMQ_PUSH);
    zmq_connect(push, ep);
    zmq_send(push, "x", 1, 0); /* connection up before timing */
    wwt_sleep_ms(200);
    long long t0 = now_ns();
    for (size_t i = 0; i < c->n; i++)
        zmq_send(push, c->msgs[i], c->lens[i], 0);
    int st;
    waitpid(pid, &st, 0);
    long long t1 = now_ns();
    zmq_close(push);
    zmq_ctx_term(ctx);
    return (double)c->n / ((double)(t1 - t0) / 1e9);
}

/* CPU seconds (user+system) a process has used so far. */
static double cpu_seconds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (p)
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    size_t n = 20000, size = 0;
    int n_extract = 1, n_alert = 1, n_rules = 200, rate = 1000, seconds = 3;
    const char *model = NULL; /* --model "": the rule-based first extractor */
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--events")) n = (size_t)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--extract")) n_extract = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--alert")) n_alert = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--rules")) n_rules = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--size")) size = (size_t)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--rate")) rate = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--model")) model = argv[i + 1];
    }
    signal(SIGPIPE, SIG_IGN);
    corpus_t c;
    load_corpus(&c, n, size);
    printf("corpus: %zu events, %.0f bytes average (MessagePack)\n", c.n, c.avg_bytes);

    wwt_redis_t redis;
    if (wwt_redis_start(&redis) < 0) {
        fprintf(stderr, "cannot start redis-server\n");
        return 1;
    }
    char *dir = wwt_tmpdir("bench");
    char *rules = write_rules(dir, n_rules, 42);
    int p[6];
    for (int i = 0; i < 6; i++)
        p[i] = wwt_free_port();
    char cfg[2048];
    snprintf(cfg, sizeof cfg,
             "redis: %s\nprefix: \"bench:\"\n"
             "ingest:\n  intake: tcp://127.0.0.1:%d\n  dispatch: tcp://127.0.0.1:%d\n"
             "extract:\n  results: tcp://127.0.0.1:%d\n%s%s%s"
             "alert:\n  work: tcp://127.0.0.1:%d\n  publish_in: tcp://127.0.0.1:%d\n  publish: tcp://127.0.0.1:%d\n"
             "  rules: %s\n",
             redis.url, p[0], p[1], p[2], model ? "  model: \"" : "", model ? model : "", model ? "\"\n" : "",
             p[3], p[4], p[5], rules);
    char *config = wwt_write_file(dir, "wirewatch.yaml", cfg);
    char *log = ww_asprintf("%s/daemons.log", dir);
    const char *args[] = {"-c", config, "--log-level", "warn", NULL};
    pid_t pids[70];
    int np = 0;
    pids[np++] = wwt_spawn("wirewatch-ingest", args, log);
    for (int i = 0; i < n_extract; i++)
        pids[np++] = wwt_spawn("wirewatch-extract", args, log);
    for (int i = 0; i < n_alert; i++)
        pids[np++] = wwt_spawn("wirewatch-alert", args, log);
    char sock[300];
    snprintf(sock, sizeof sock, "%s/redis.sock", redis.dir);
    redisContext *rc = redisConnectUnix(sock);
    for (long until = wwt_ms() + 20000; wwt_ms() < until;) {
        redisReply *r = redisCommand(rc, "KEYS bench:workers:*");
        size_t k = r ? r->elements : 0;
        freeReplyObject(r);
        if ((int)k >= n_extract + n_alert)
            break;
        wwt_sleep_ms(50);
    }
    void *zctx = zmq_ctx_new();
    void *push = zmq_socket(zctx, ZMQ_PUSH);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", p[0]);
    zmq_connect(push, ep);
    void *sub = zmq_socket(zctx, ZMQ_SUB);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "bench.probe", 11);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", p[5]);
    zmq_connect(sub, ep);
    wwt_sleep_ms(300);

    /* 1. throughput */
    double cpu0[70];
    for (int i = 0; i < np; i++)
        cpu0[i] = cpu_seconds(pids[i]);
    long long t0 = now_ns();
    for (size_t i = 0; i < c.n; i++)
        zmq_send(push, c.msgs[i], c.lens[i], 0);
    long long evaluated = 0;
    long until = wwt_ms() + 300000;
    while ((evaluated = hget(rc, "bench:stats:alert", "events")) < (long long)c.n && wwt_ms() < until)
        wwt_sleep_ms(2);
    long long t1 = now_ns();
    double secs = (double)(t1 - t0) / 1e9;
    double eps = (double)evaluated / secs;
    long long alerts = hget(rc, "bench:stats:alert", "alerts");
    printf("throughput: %lld events in %.2f s = %.0f events/s (%.1f MB/s), %lld alerts, %d extract, %d alert, %d rules\n",
           evaluated, secs, eps, eps * c.avg_bytes / 1e6, alerts, n_extract, n_alert, n_rules + 1);

    printf("cpu per event:");
    for (int i = 0; i < np; i++)
        printf(" %s %.1f us", i == 0 ? "ingest" : i <= n_extract ? "extract" : "alert",
               (cpu_seconds(pids[i]) - cpu0[i]) * 1e6 / (double)(evaluated ? evaluated : 1));
    printf("\n");

    /* 2. latency at a fixed rate */
    size_t nprobe = (size_t)rate * (size_t)seconds;
    long long *lat = ww_calloc(nprobe, sizeof *lat);
    size_t got = 0;
    long long interval = 1000000000LL / rate, next = now_ns();
    size_t sent = 0;
    zmq_msg_t ch, body;
    zmq_msg_init(&ch);
    zmq_msg_init(&body);
    long long end = now_ns() + (long long)seconds * 1000000000LL + 3000000000LL;
    while (now_ns() < end && got < nprobe) {
        long long t = now_ns();
        if (sent < nprobe && t >= next) {
            char msg[512];
            int len = snprintf(msg, sizeof msg,
                               "{\"title\":\"latencyprobe %lld\",\"body\":\"A short probe article about oil and trade.\","
                               "\"source\":\"bench\"}", t);
            zmq_send(push, msg, (size_t)len, 0);
            sent++;
            next += interval;
        }
        zmq_pollitem_t it[] = {{sub, 0, ZMQ_POLLIN, 0}};
        long long wait_ns = next - now_ns();
        zmq_poll(it, 1, sent < nprobe ? (wait_ns > 0 ? (long)(wait_ns / 1000000) : 0) : 50);
        while (zmq_msg_recv(&ch, sub, ZMQ_DONTWAIT) >= 0) {
            zmq_msg_recv(&body, sub, 0);
            long long arrived = now_ns();
            const char *b = zmq_msg_data(&body);
            size_t bl = zmq_msg_size(&body);
            const char *m = memmem(b, bl, "latencyprobe ", 13);
            if (m && got < nprobe)
                lat[got++] = arrived - atoll(m + 13);
        }
    }
    qsort(lat, got, sizeof *lat, cmp_ll);
    if (got)
        printf("latency at %d events/s: %zu/%zu probes, p50 %.2f ms, p99 %.2f ms, max %.2f ms (intake to subscriber)\n",
               rate, got, sent, lat[got / 2] / 1e6, lat[(got * 99) / 100] / 1e6, lat[got - 1] / 1e6);
    else
        printf("latency: no probe alerts arrived\n");
    zmq_msg_close(&ch);
    zmq_msg_close(&body);

    /* 3. the limit */
    double raw = raw_zmq_rate(&c);
    printf("raw ZeroMQ PUSH->PULL tcp, same payloads: %.0f msgs/s; pipeline/raw = %.3f\n", raw, eps / raw);

    int linger = 0;
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(push);
    zmq_close(sub);
    zmq_ctx_term(zctx);
    for (int i = np - 1; i >= 0; i--)
        wwt_stop(pids[i], SIGTERM, 10000);
    redisFree(rc);
    wwt_redis_stop(&redis);
    wwt_rmdir(dir);
    ww_free(dir);
    ww_free(rules);
    ww_free(config);
    ww_free(log);
    ww_free(lat);
    for (size_t i = 0; i < c.n; i++)
        ww_free(c.msgs[i]);
    ww_free(c.msgs);
    ww_free(c.lens);
    return 0;
}
