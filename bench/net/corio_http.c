/* The network benchmark's HTTP hello server on corio (see corio_server.h), doing what
 * epoll_http.c does: a fixed "Hello, World!" response to every complete request read, keep-alive,
 * pipelining-safe. A task per connection.
 *
 * Usage: [CORIO_BACKEND=epoll|io_uring] corio_http [port]
 *        (prints "port <n>" once listening; runs until killed) */
#define _GNU_SOURCE
#include "corio_server.h"

static void *http_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char in[NET_BUF_SIZE]; /* on the task's own stack (64 KiB by default) */
    size_t inlen = 0;
    for (;;) {
        ssize_t n = corio_sock_recv(fd, in + inlen, sizeof in - inlen, 0);
        if (n <= 0)
            break; /* EOF, an error, or -ECANCELED when the loop shuts down */
        inlen += (size_t)n;
        long reqs = net_http_take(in, &inlen);
        if (reqs < 0)
            break; /* a request too large */
        /* The responses are shared read-only memory: safe while this task is suspended. */
        if (reqs > 0 && corio_sock_sendall(fd, net_http_responses(),
                                           (size_t)reqs * NET_HTTP_RESPONSE_LEN, 0) < 0)
            break;
    }
    corio_close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    net_http_responses(); /* built once, before any task can be suspended while sending it */
    return server_run(argc, argv, http_conn);
}
