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

#endif
