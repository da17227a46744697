/* zmqutil.h - ZeroMQ socket helpers: every socket gets the same safety
 * options (linger, message size limit, high-water marks). */
#ifndef WW_ZMQUTIL_H
#define WW_ZMQUTIL_H
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

/* Creates a socket of `type` with LINGER=linger_ms, MAXMSGSIZE=max_msg (when
 * > 0, SPEC §7), SNDHWM/RCVHWM=hwm (when > 0). Returns NULL on failure (logged). */
void *ww_zmq_socket(void *ctx, int type, int64_t max_msg, int hwm, int linger_ms);

/* Binds/connects, logging failures with the endpoint. Returns 0 or -1. */
int ww_zmq_bind(void *sock, const char *endpoint);
int ww_zmq_connect(void *sock, const char *endpoint);

/* Sends len bytes as one frame (flags as zmq_send). Retries on EINTR unless
 * *stop is set. Returns 0, or -1 (errno: EAGAIN on timeout, ETERM...). */
int ww_zmq_send(void *sock, const void *buf, size_t len, int flags, volatile int *stop);

/* ---- security (SPEC §7) -----------------------------------------------------------
 * CurveZMQ on every tcp:// endpoint. ww_zmq_security_init() is called once per program
 * after its configuration is loaded (ww_daemon_start and cli_load_config do it). From
 * then on, when curve.server_public is configured, ww_zmq_bind makes a socket a CURVE
 * server (and starts, once per context, a ZAP handler thread on inproc://zeromq.zap.01
 * that admits only the keys in curve.authorized_keys, logging refusals, rate-limited),
 * and ww_zmq_connect makes it a CURVE client. Sockets must come from ww_zmq_socket so
 * that the handler is started in the right context. Non-tcp endpoints are untouched. */

struct ww_config;

/* Loads the key files the configuration names (relative paths are taken from the
 * config file's directory). Replaces earlier state; may be called again on reload.
 * Returns 0, or -1 with "curve.KEY: FILE: what is wrong" in err. Never logs or
 * returns key material. */
int ww_zmq_security_init(const struct ww_config *cfg, char *err, size_t errlen);

/* True when CURVE is on (curve.server_public configured). */
int ww_zmq_curve_enabled(void);

/* Reads a Z85 key (40 characters; blank lines and '#' comments skipped) from path into
 * key (41 bytes with NUL). Returns 0, or -1 with err (which never holds key text). */
int ww_zmq_key_read(const char *path, char key[41], char *err, size_t errlen);

/* Number of peers refused since start (ZAP denials and failed CURVE handshakes). */
uint64_t ww_zmq_refused_count(void);

#endif
