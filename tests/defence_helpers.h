/* Helpers for the tests of a server's defences against hostile peers (tests/test_stream_*cap.c,
 * slowloris, write_stall): clients on loopback as corio tasks, and what they observe. */
#ifndef CORIO_TESTS_DEFENCE_HELPERS_H
#define CORIO_TESTS_DEFENCE_HELPERS_H

#include "stream_helpers.h"

#define END_LATE 10.0 /* seconds: a connection a defence should end that lasts longer failed */

/* In a task: a socket connected to 127.0.0.1:port, or a negative error. rcvbuf > 0 caps the
 * client's receive buffer (set before connecting, so that the window it offers stays that
 * small): kernels whose tcp_rmem lets a buffer grow to 32 MiB would otherwise take megabytes
 * from a server while the client reads nothing. */
static inline int client_connect_rcvbuf(int port, int rcvbuf)
{
    int fd = corio_socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return fd;
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = corio_sock_connect(fd, (struct sockaddr *)&a, sizeof a, 5.0);
    if (rc < 0) {
        corio_close(fd);
        return rc;
    }
    return fd;
}

static inline int client_connect(int port) { return client_connect_rcvbuf(port, 0); }

/* Awaits the end of fd's connection (EOF or an error), dropping what arrives, for at most
 * `limit` seconds. 1 if it ended, 0 if not. */
static inline int await_end(int fd, double limit)
{
    double t0 = now_s();
    char buf[4096];
    for (;;) {
        double left = limit - (now_s() - t0);
        if (left <= 0 || corio_wait_readable(fd, left) < 0)
            return 0;
        ssize_t n = corio_sock_recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && n != -EAGAIN))
            return 1;
    }
}

/* Awaits exactly n bytes on fd within `limit` seconds: 0, or a negative error (-ETIMEDOUT). */
static inline int recv_exactly(int fd, char *buf, size_t n, double limit)
{
    double t0 = now_s();
    size_t got = 0;
    while (got < n) {
        double left = limit - (now_s() - t0);
        if (left <= 0)
            return -ETIMEDOUT;
        int rc = corio_wait_readable(fd, left);
        if (rc < 0)
            return rc;
        ssize_t k = corio_sock_recv(fd, buf + got, n - got, MSG_DONTWAIT);
        if (k == 0)
            return -ECONNRESET;
        if (k < 0 && k != -EAGAIN)
            return (int)k;
        if (k > 0)
            got += (size_t)k;
    }
    return 0;
}

static inline corio_server_stats server_stats(corio_server *srv)
{
    corio_server_stats st;
    cr_assert_eq(corio_server_get_stats(srv, &st), 0);
    return st;
}

#endif
