/* zmqutil.c - ZeroMQ socket helpers. */
#include "ww/zmqutil.h"

#include <errno.h>

#include "ww/log.h"

void *ww_zmq_socket(void *ctx, int type, int64_t max_msg, int hwm, int linger_ms)
{
    void *s = zmq_socket(ctx, type);
    if (!s) {
        ww_error("zmq", "msg=\"zmq_socket failed\" error=\"%s\"", zmq_strerror(zmq_errno()));
        return NULL;
    }
    zmq_setsockopt(s, ZMQ_LINGER, &linger_ms, sizeof linger_ms);
    if (max_msg > 0)
        zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max_msg, sizeof max_msg);
    if (hwm > 0) {
        zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    }
    return s;
}

int ww_zmq_bind(void *sock, const char *endpoint)
{
    if (zmq_bind(sock, endpoint) < 0) {
        ww_error("zmq", "msg=\"cannot bind\" endpoint=%s error=\"%s\"", endpoint,
                 zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

int ww_zmq_connect(void *sock, const char *endpoint)
{
    if (zmq_connect(sock, endpoint) < 0) {
        ww_error("zmq", "msg=\"cannot connect\" endpoint=%s error=\"%s\"", endpoint,
                 zmq_strerror(zmq_errno()));
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
