/* The floor of the network benchmark's HTTP row: the minimal epoll server of epoll_server.h
 * answering GET requests with a fixed "Hello, World!" response, keep-alive, pipelining-safe:
 * every complete request in what was read gets its response, all sent with one write, and the
 * start of an incomplete one is kept for the next read (net_http_take).
 *
 * Usage: epoll_http [port]   (prints "port <n>" once listening; runs until killed) */
#define _GNU_SOURCE
#include "epoll_server.h"

static void http_readable(int fd, struct ep_conn *c)
{
    ssize_t n = read(fd, c->in + c->inlen, sizeof c->in - c->inlen);
    if (n < 0 && errno == EAGAIN)
        return;
    long reqs = -1;
    if (n > 0) {
        c->inlen += (size_t)n;
        reqs = net_http_take(c->in, &c->inlen);
    }
    if (reqs < 0)
        ep_close(fd); /* EOF, error, or a request too large */
    else if (reqs > 0)
        ep_send(fd, c, net_http_responses(), (size_t)reqs * NET_HTTP_RESPONSE_LEN);
}

int main(int argc, char **argv)
{
    ep_serve(net_listen(argc, argv), http_readable);
}
