/* The network benchmark's HTTP server on libuv (see uv_server.h), doing what epoll_http.c does:
 * a fixed "Hello, World!" response to every complete request read, keep-alive, pipelining-safe.
 *
 * Usage: uv_http [port]   (prints "port <n>" once listening; runs until killed) */
#define _GNU_SOURCE
#include "uv_server.h"

static void http_data(struct uvs_conn *c, size_t n)
{
    c->inlen += n;
    long reqs = net_http_take(c->in, &c->inlen);
    if (reqs < 0)
        uvs_close(c); /* a request too large */
    else if (reqs > 0)
        uvs_send(c, net_http_responses(), (size_t)reqs * NET_HTTP_RESPONSE_LEN);
}

int main(int argc, char **argv)
{
    return uvs_serve(argc, argv, http_data);
}
