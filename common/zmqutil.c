/* zmqutil.c - ZeroMQ socket helpers, and CurveZMQ security (SPEC §7).
 *
 * Security state is process-wide (one configuration per process) and guarded
 * by one mutex. With CURVE on, the first tcp:// bind in a context starts that
 * context's ZAP handler: a thread that owns a REP socket on
 * inproc://zeromq.zap.01 (where libzmq asks whether a client key may come in)
 * and the PAIR ends of the socket monitors of every bound socket (where
 * failed handshakes show up: a client without CURVE, or with the wrong server
 * key, never reaches ZAP). The thread exits when its context is terminated
 * (ETERM), so programs need no extra shutdown call. */
#include "ww/zmqutil.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ww/alloc.h"
#include "ww/config.h"
#include "ww/log.h"
#include "ww/metrics.h"

#define MOD "zmq"
#define WW_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define WW_ZMQ_MAX_CTX 8       /* contexts with a ZAP handler */
#define WW_ZMQ_MAX_SOCKS 256   /* socket -> context map (ring) */
#define WW_ZMQ_MAX_MONITORS 32 /* monitored bound sockets per context */

/* ---- sockets ------------------------------------------------------------------- */

/* Which context each socket of ww_zmq_socket belongs to: ww_zmq_bind needs it
 * to start the ZAP handler and the monitor in that context. A ring: a reused
 * socket address simply overwrites its old entry. */
static struct {
    void *sock, *ctx;
} ww_zmq_socks[WW_ZMQ_MAX_SOCKS];
static size_t ww_zmq_socks_next;
static pthread_mutex_t ww_zmq_lock = PTHREAD_MUTEX_INITIALIZER;

void *ww_zmq_socket(void *ctx, int type, int64_t max_msg, int hwm, int linger_ms)
{
    void *s = zmq_socket(ctx, type);
    if (!s) {
        ww_error(MOD, "msg=\"zmq_socket failed\" error=\"%s\"", zmq_strerror(zmq_errno()));
        return NULL;
    }
    zmq_setsockopt(s, ZMQ_LINGER, &linger_ms, sizeof linger_ms);
    if (max_msg > 0)
        zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max_msg, sizeof max_msg);
    if (hwm > 0) {
        zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    }
    pthread_mutex_lock(&ww_zmq_lock);
    size_t slot = WW_ZMQ_MAX_SOCKS;
    for (size_t i = 0; i < WW_ZMQ_MAX_SOCKS; i++)
        if (ww_zmq_socks[i].sock == s)
            slot = i;
    if (slot == WW_ZMQ_MAX_SOCKS) {
        slot = ww_zmq_socks_next;
        ww_zmq_socks_next = (ww_zmq_socks_next + 1) % WW_ZMQ_MAX_SOCKS;
    }
    ww_zmq_socks[slot].sock = s;
    ww_zmq_socks[slot].ctx = ctx;
    pthread_mutex_unlock(&ww_zmq_lock);
    return s;
}

/* ---- security state -------------------------------------------------------------- */

/* The loaded keys. Z85 text, "" when not configured. */
static struct {
    bool on;                   /* curve.server_public configured */
    char server_public[41];
    char server_secret[41];
    char client_public[41];
    char client_secret[41];
    char *authorized_path;     /* NULL: any CURVE client is admitted */
    struct timespec auth_mtime; /* of the authorized_keys file when last read */
    uint8_t (*auth)[32];       /* admitted client keys (binary) */
    size_t n_auth;
} ww_sec;

static _Atomic uint64_t ww_zmq_refused;

/* One ZAP handler per context. */
typedef struct {
    void *ctx;
    void *zap;                          /* REP on WW_ZAP_ENDPOINT, handed to the thread */
    char *pending[WW_ZMQ_MAX_MONITORS]; /* monitor endpoints the thread has not joined yet */
    size_t n_pending;
    size_t n_monitors;                  /* monitors created in this context */
} ww_zap_t;
static ww_zap_t ww_zaps[WW_ZMQ_MAX_CTX];
static size_t ww_n_zaps;
static unsigned ww_monitor_seq;

static int sec_err(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, a, b);
    return -1;
}

int ww_zmq_key_read(const char *path, char key[41], char *err, size_t errlen)
{
    key[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return sec_err(err, errlen, "%s: %s", path, strerror(errno));
    char line[256];
    int rc = sec_err(err, errlen, "%s: %s", path, "no key in the file");
    while (fgets(line, sizeof line, f)) {
        char *p = line + strspn(line, " \t");
        size_t n = strcspn(p, " \t\r\n");
        if (n == 0 || *p == '#')
            continue;
        uint8_t bin[32];
        if (n != 40 || (p[n] != '\0' && !strchr(" \t\r\n", p[n]))) {
            rc = sec_err(err, errlen, "%s: %s", path, "not a Z85 CurveZMQ key (40 characters)");
            break;
        }
        p[n] = '\0';
        if (!zmq_z85_decode(bin, p)) {
            rc = sec_err(err, errlen, "%s: %s", path, "not a Z85 CurveZMQ key (bad characters)");
            break;
        }
        memcpy(key, p, 41);
        rc = 0;
        break;
    }
    explicit_bzero(line, sizeof line);
    fclose(f);
    return rc;
}

/* Resolves path against the directory of the config file when relative.
 * Caller owns. */
static char *resolve_path(const ww_config_t *cfg, const char *path)
{
    if (path[0] == '/' || !cfg->path || !strchr(cfg->path, '/'))
        return ww_strdup(path);
    const char *slash = strrchr(cfg->path, '/');
    size_t dl = (size_t)(slash - cfg->path);
    size_t n = dl + 1 + strlen(path) + 1;
    char *out = ww_malloc(n);
    snprintf(out, n, "%.*s/%s", (int)dl, cfg->path, path);
    return out;
}

/* Reads one configured key file into out ("" when the key is not configured). */
static int load_key(const ww_config_t *cfg, const char *key_name, const char *path, char out[41], char *err,
                    size_t errlen)
{
    out[0] = '\0';
    if (!path)
        return 0;
    char *full = resolve_path(cfg, path);
    char e[384];
    int rc = ww_zmq_key_read(full, out, e, sizeof e);
    if (rc < 0)
        sec_err(err, errlen, "curve.%s: %s", key_name, e);
    else if (strstr(key_name, "secret")) {
        struct stat st;
        if (stat(full, &st) == 0 && (st.st_mode & 077))
            ww_warn(MOD, "msg=\"secret key file is readable by others; chmod 600 it\" file=%s", full);
    }
    ww_free(full);
    return rc;
}

/* (Re)reads the authorized_keys file when its mtime changed. Called with the
 * lock held. Returns 0, or -1 with err (the old list stays). */
static int load_authorized(char *err, size_t errlen)
{
    if (!ww_sec.authorized_path)
        return 0;
    struct stat st;
    if (stat(ww_sec.authorized_path, &st) < 0)
        return sec_err(err, errlen, "curve.authorized_keys: %s: %s", ww_sec.authorized_path, strerror(errno));
    if (ww_sec.auth && st.st_mtim.tv_sec == ww_sec.auth_mtime.tv_sec &&
        st.st_mtim.tv_nsec == ww_sec.auth_mtime.tv_nsec)
        return 0;
    FILE *f = fopen(ww_sec.authorized_path, "r");
    if (!f)
        return sec_err(err, errlen, "curve.authorized_keys: %s: %s", ww_sec.authorized_path, strerror(errno));
    uint8_t (*keys)[32] = NULL;
    size_t n = 0, cap = 0, lineno = 0;
    char line[512];
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line + strspn(line, " \t");
        size_t len = strcspn(p, " \t\r\n");
        if (len == 0 || *p == '#')
            continue;
        p[len] = '\0';
        uint8_t bin[32];
        if (len != 40 || !zmq_z85_decode(bin, p)) {
            char where[64];
            snprintf(where, sizeof where, "line %zu", lineno);
            rc = sec_err(err, errlen, "curve.authorized_keys: %s: %s is not a Z85 public key",
                         ww_sec.authorized_path, where);
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            keys = ww_realloc(keys, cap * sizeof *keys);
        }
        memcpy(keys[n++], bin, 32);
    }
    fclose(f);
    if (rc < 0) {
        ww_free(keys);
        return -1;
    }
    ww_free(ww_sec.auth);
    ww_sec.auth = keys;
    ww_sec.n_auth = n;
    ww_sec.auth_mtime = st.st_mtim;
    ww_info(MOD, "msg=\"authorized keys loaded\" file=%s keys=%zu", ww_sec.authorized_path, n);
    return 0;
}

int ww_zmq_security_init(const ww_config_t *cfg, char *err, size_t errlen)
{
    char sp[41], ss[41], cp[41], cs[41];
    int rc = -1;
    if (load_key(cfg, "server_public", cfg->curve.server_public, sp, err, errlen) < 0 ||
        load_key(cfg, "server_secret", cfg->curve.server_secret, ss, err, errlen) < 0 ||
        load_key(cfg, "client_public", cfg->curve.client_public, cp, err, errlen) < 0 ||
        load_key(cfg, "client_secret", cfg->curve.client_secret, cs, err, errlen) < 0)
        goto cleanup;
    if (!sp[0] && (ss[0] || cp[0] || cs[0] || cfg->curve.authorized_keys)) {
        sec_err(err, errlen, "%s%s", "curve.server_public: not set, but other curve keys are ",
                "(CURVE is on only when curve.server_public names the hub's public key)");
        goto cleanup;
    }
    if (!cp[0] != !cs[0]) {
        sec_err(err, errlen, "%s%s", "curve.client_public and curve.client_secret: ",
                "set both or neither");
        goto cleanup;
    }
    pthread_mutex_lock(&ww_zmq_lock);
    ww_sec.on = sp[0] != '\0';
    memcpy(ww_sec.server_public, sp, 41);
    memcpy(ww_sec.server_secret, ss, 41);
    memcpy(ww_sec.client_public, cp, 41);
    memcpy(ww_sec.client_secret, cs, 41);
    ww_free(ww_sec.authorized_path);
    ww_free(ww_sec.auth);
    ww_sec.auth = NULL;
    ww_sec.n_auth = 0;
    ww_sec.authorized_path = cfg->curve.authorized_keys ? resolve_path(cfg, cfg->curve.authorized_keys) : NULL;
    rc = load_authorized(err, errlen);
    pthread_mutex_unlock(&ww_zmq_lock);
cleanup:
    explicit_bzero(ss, sizeof ss);
    explicit_bzero(cs, sizeof cs);
    return rc;
}

int ww_zmq_curve_enabled(void)
{
    pthread_mutex_lock(&ww_zmq_lock);
    int on = ww_sec.on;
    pthread_mutex_unlock(&ww_zmq_lock);
    return on;
}

uint64_t ww_zmq_refused_count(void)
{
    return atomic_load(&ww_zmq_refused);
}

/* ---- refusals: counted, logged (rate-limited per reason) ---------------------------- */

enum { WW_REFUSE_KEY, WW_REFUSE_HANDSHAKE, WW_REFUSE__N };
static const char *const ww_refuse_names[WW_REFUSE__N] = {"unauthorized_key", "handshake_failed"};

/* Logs the first refusal of each kind at once, then at most one line per 10 s
 * with the number left unlogged. Only the ZAP thread(s) call it. */
static void refused(int reason, const char *fmt, const char *a, const char *b)
{
    static time_t last[WW_REFUSE__N];
    static uint64_t quiet[WW_REFUSE__N];
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    atomic_fetch_add(&ww_zmq_refused, 1);
    char name[96];
    snprintf(name, sizeof name, "wirewatch_zmq_refused_total{reason=\"%s\"}", ww_refuse_names[reason]);
    ww_metric_add(ww_metric_counter(name, "peers refused by CurveZMQ (no key, wrong key, unauthorised key)"), 1);
    pthread_mutex_lock(&lock);
    time_t now = time(NULL);
    bool log = !last[reason] || now - last[reason] >= 10;
    uint64_t q = quiet[reason];
    if (log) {
        last[reason] = now;
        quiet[reason] = 0;
    } else {
        quiet[reason]++;
    }
    pthread_mutex_unlock(&lock);
    if (log) {
        char msg[512];
        snprintf(msg, sizeof msg, fmt, a, b);
        ww_warn(MOD, "msg=\"refused a peer\" reason=%s %s suppressed=%llu", ww_refuse_names[reason], msg,
                (unsigned long long)q);
    }
}

/* ---- the ZAP handler ----------------------------------------------------------------- */

/* Receives one frame into buf (NUL-terminated, truncated to cap-1). Returns
 * its full size or -1; *more tells whether frames follow. */
static int recv_frame(void *s, char *buf, size_t cap, int *more)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    int n = zmq_msg_recv(&m, s, 0);
    if (n < 0) {
        zmq_msg_close(&m);
        return -1;
    }
    size_t k = (size_t)n < cap - 1 ? (size_t)n : cap - 1;
    memcpy(buf, zmq_msg_data(&m), k);
    buf[k] = '\0';
    *more = zmq_msg_more(&m);
    zmq_msg_close(&m);
    return n;
}

/* Answers one ZAP request (RFC 27): 200 for an admitted client key, else 400. */
static void zap_answer(void *zap)
{
    char f[7][128];
    int len[7] = {0};
    int more = 1, n = 0;
    while (more && n < 7) {
        len[n] = recv_frame(zap, f[n], sizeof f[n], &more);
        if (len[n] < 0)
            return;
        n++;
    }
    while (more) { /* drain unexpected extra frames */
        char junk[8];
        if (recv_frame(zap, junk, sizeof junk, &more) < 0)
            return;
    }
    /* 0 version, 1 request id, 2 domain, 3 address, 4 routing id, 5 mechanism, 6 key */
    bool ok = false;
    const char *why = "malformed ZAP request";
    if (n == 7 && strcmp(f[0], "1.0") == 0 && strcmp(f[5], "CURVE") == 0 && len[6] == 32) {
        pthread_mutex_lock(&ww_zmq_lock);
        char e[256];
        if (load_authorized(e, sizeof e) < 0)
            ww_error(MOD, "msg=\"cannot re-read authorized keys, keeping the old list\" error=\"%s\"", e);
        if (!ww_sec.authorized_path) {
            ok = true;
        } else {
            for (size_t i = 0; i < ww_sec.n_auth && !ok; i++)
                ok = memcmp(ww_sec.auth[i], f[6], 32) == 0;
        }
        pthread_mutex_unlock(&ww_zmq_lock);
        why = "key not in curve.authorized_keys";
    } else if (n == 7 && strcmp(f[5], "CURVE") != 0) {
        why = "not a CURVE client";
    }
    if (!ok) {
        char z85[41] = "-";
        if (n == 7 && len[6] == 32)
            zmq_z85_encode(z85, (const uint8_t *)f[6], 32);
        char detail[160];
        snprintf(detail, sizeof detail, "why=\"%s\" key=\"%s\"", why, z85);
        refused(WW_REFUSE_KEY, "address=%s %s", n >= 4 ? f[3] : "?", detail);
    }
    const char *code = ok ? "200" : "400";
    const char *text = ok ? "OK" : "unauthorized";
    zmq_send(zap, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(zap, f[1], n >= 2 ? (size_t)len[1] : 0, ZMQ_SNDMORE);
    zmq_send(zap, code, 3, ZMQ_SNDMORE);
    zmq_send(zap, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(zap, "", 0, ZMQ_SNDMORE);
    zmq_send(zap, "", 0, 0);
}

/* Reads one monitor event (2 frames) and reports failed handshakes. */
static void monitor_event(void *mon)
{
    char ev[16], ep[256];
    int more = 0;
    int n = recv_frame(mon, ev, sizeof ev, &more);
    if (n < 0)
        return;
    ep[0] = '\0';
    if (more && recv_frame(mon, ep, sizeof ep, &more) < 0)
        return;
    if (n < 6)
        return;
    uint16_t event;
    uint32_t value;
    memcpy(&event, ev, 2);
    memcpy(&value, ev + 2, 4);
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL || event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
        char why[128];
        if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
            snprintf(why, sizeof why, "peer does not use CURVE (no key)");
        else if (value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)
            snprintf(why, sizeof why, "CURVE handshake did not decrypt (wrong server key?)");
        else
            snprintf(why, sizeof why, "handshake failed (event 0x%x, code 0x%x)", (unsigned)event, (unsigned)value);
        refused(WW_REFUSE_HANDSHAKE, "endpoint=%s why=\"%s\"", ep, why);
    }
}

/* The handler thread of one context: answers ZAP, watches monitors, exits on ETERM. */
static void *zap_main(void *arg)
{
    ww_zap_t *z = arg;
    void *mons[WW_ZMQ_MAX_MONITORS];
    size_t n_mons = 0;
    for (;;) {
        pthread_mutex_lock(&ww_zmq_lock);
        while (z->n_pending && n_mons < WW_ZMQ_MAX_MONITORS) {
            char *ep = z->pending[--z->n_pending];
            void *m = zmq_socket(z->ctx, ZMQ_PAIR);
            if (m && zmq_connect(m, ep) == 0) {
                int zero = 0;
                zmq_setsockopt(m, ZMQ_LINGER, &zero, sizeof zero);
                mons[n_mons++] = m;
            } else if (m) {
                zmq_close(m);
            }
            ww_free(ep);
        }
        pthread_mutex_unlock(&ww_zmq_lock);
        zmq_pollitem_t items[1 + WW_ZMQ_MAX_MONITORS];
        items[0] = (zmq_pollitem_t){z->zap, 0, ZMQ_POLLIN, 0};
        for (size_t i = 0; i < n_mons; i++)
            items[1 + i] = (zmq_pollitem_t){mons[i], 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll(items, (int)(1 + n_mons), 200);
        if (rc < 0) {
            if (zmq_errno() == ETERM)
                break;
            continue;
        }
        if (items[0].revents & ZMQ_POLLIN)
            zap_answer(z->zap);
        for (size_t i = 0; i < n_mons; i++)
            if (items[1 + i].revents & ZMQ_POLLIN)
                monitor_event(mons[i]);
    }
    for (size_t i = 0; i < n_mons; i++)
        zmq_close(mons[i]);
    zmq_close(z->zap);
    pthread_mutex_lock(&ww_zmq_lock);
    while (z->n_pending)
        ww_free(z->pending[--z->n_pending]);
    z->ctx = NULL; /* the slot may serve a new context */
    z->zap = NULL;
    pthread_mutex_unlock(&ww_zmq_lock);
    return NULL;
}

/* The ZAP handler of ctx, started when missing. Called with the lock held.
 * Returns NULL on failure (logged). */
static ww_zap_t *zap_for(void *ctx)
{
    for (size_t i = 0; i < ww_n_zaps; i++)
        if (ww_zaps[i].ctx == ctx)
            return &ww_zaps[i];
    ww_zap_t *z = NULL;
    for (size_t i = 0; i < ww_n_zaps && !z; i++)
        if (!ww_zaps[i].ctx)
            z = &ww_zaps[i];
    if (!z) {
        if (ww_n_zaps == WW_ZMQ_MAX_CTX) {
            ww_error(MOD, "msg=\"too many ZeroMQ contexts with CURVE servers\" max=%d", WW_ZMQ_MAX_CTX);
            return NULL;
        }
        z = &ww_zaps[ww_n_zaps++];
    }
    memset(z, 0, sizeof *z);
    void *zap = zmq_socket(ctx, ZMQ_REP);
    int zero = 0;
    if (!zap || zmq_setsockopt(zap, ZMQ_LINGER, &zero, sizeof zero) < 0 || zmq_bind(zap, WW_ZAP_ENDPOINT) < 0) {
        ww_error(MOD, "msg=\"cannot start the ZAP handler\" error=\"%s\"", zmq_strerror(zmq_errno()));
        if (zap)
            zmq_close(zap);
        return NULL;
    }
    z->ctx = ctx;
    z->zap = zap;
    pthread_t th;
    if (pthread_create(&th, NULL, zap_main, z) != 0) {
        ww_error(MOD, "msg=\"cannot start the ZAP thread\"");
        zmq_close(zap);
        z->ctx = z->zap = NULL;
        return NULL;
    }
    pthread_detach(th);
    return z;
}

static bool is_tcp(const char *endpoint)
{
    return strncmp(endpoint, "tcp://", 6) == 0;
}

/* Makes sock a CURVE server, with its ZAP handler and a monitor for failed
 * handshakes. Returns 0 or -1 (logged). */
static int curve_server(void *sock, const char *endpoint)
{
    pthread_mutex_lock(&ww_zmq_lock);
    int rc = -1;
    void *ctx = NULL;
    for (size_t i = 0; i < WW_ZMQ_MAX_SOCKS; i++)
        if (ww_zmq_socks[i].sock == sock)
            ctx = ww_zmq_socks[i].ctx;
    if (!ctx) {
        ww_error(MOD, "msg=\"CURVE needs sockets made by ww_zmq_socket\" endpoint=%s", endpoint);
        goto out;
    }
    if (!ww_sec.server_secret[0]) {
        ww_error(MOD, "msg=\"CURVE is on but curve.server_secret is not configured; cannot bind\" endpoint=%s",
                 endpoint);
        goto out;
    }
    ww_zap_t *z = zap_for(ctx);
    if (!z)
        goto out;
    int one = 1;
    uint8_t sec[32];
    zmq_z85_decode(sec, ww_sec.server_secret);
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) < 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sec, 32) < 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, "wirewatch", 9) < 0) {
        explicit_bzero(sec, sizeof sec);
        ww_error(MOD, "msg=\"cannot make a CURVE server\" endpoint=%s error=\"%s\"", endpoint,
                 zmq_strerror(zmq_errno()));
        goto out;
    }
    explicit_bzero(sec, sizeof sec);
    if (z->n_monitors < WW_ZMQ_MAX_MONITORS && z->n_pending < WW_ZMQ_MAX_MONITORS) {
        char ep[64];
        snprintf(ep, sizeof ep, "inproc://ww-monitor-%u", ww_monitor_seq++);
        if (zmq_socket_monitor(sock, ep,
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) == 0) {
            z->pending[z->n_pending++] = ww_strdup(ep);
            z->n_monitors++;
        }
    }
    rc = 0;
out:
    pthread_mutex_unlock(&ww_zmq_lock);
    return rc;
}

/* Makes sock a CURVE client of the configured server. Returns 0 or -1 (logged). */
static int curve_client(void *sock, const char *endpoint)
{
    pthread_mutex_lock(&ww_zmq_lock);
    int rc = -1;
    if (!ww_sec.client_secret[0]) {
        ww_error(MOD, "msg=\"CURVE is on but curve.client_public/client_secret are not configured; "
                      "cannot connect\" endpoint=%s",
                 endpoint);
        goto out;
    }
    uint8_t sp[32], cp[32], cs[32];
    zmq_z85_decode(sp, ww_sec.server_public);
    zmq_z85_decode(cp, ww_sec.client_public);
    zmq_z85_decode(cs, ww_sec.client_secret);
    rc = zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, sp, 32) == 0 &&
                 zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, cp, 32) == 0 &&
                 zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, cs, 32) == 0
             ? 0
             : -1;
    explicit_bzero(cs, sizeof cs);
    if (rc < 0)
        ww_error(MOD, "msg=\"cannot make a CURVE client\" endpoint=%s error=\"%s\"", endpoint,
                 zmq_strerror(zmq_errno()));
out:
    pthread_mutex_unlock(&ww_zmq_lock);
    return rc;
}

int ww_zmq_bind(void *sock, const char *endpoint)
{
    if (is_tcp(endpoint) && ww_zmq_curve_enabled() && curve_server(sock, endpoint) < 0)
        return -1;
    if (zmq_bind(sock, endpoint) < 0) {
        ww_error(MOD, "msg=\"cannot bind\" endpoint=%s error=\"%s\"", endpoint, zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

int ww_zmq_connect(void *sock, const char *endpoint)
{
    if (is_tcp(endpoint) && ww_zmq_curve_enabled() && curve_client(sock, endpoint) < 0)
        return -1;
    if (zmq_connect(sock, endpoint) < 0) {
        ww_error(MOD, "msg=\"cannot connect\" endpoint=%s error=\"%s\"", endpoint, zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

int ww_zmq_send(void *sock, const void *buf, size_t len, int flags, volatile int *stop)
{
    for (;;) {
        if (zmq_send(sock, buf, len, flags) >= 0)
            return 0;
        if (zmq_errno() == EINTR && !(stop && *stop))
            continue;
        return -1;
    }
}
