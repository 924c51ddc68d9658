/* Helpers for the per-call I/O tests (tests/test_io_{tcp,udp,unix,fd,close,cancel,errors}.c):
 * connected pairs made before the loop runs, a socket whose send buffer is full, and a
 * deterministic byte stream to check large transfers.
 *
 * Everything here that runs inside a task uses cr_expect; setup outside the loop uses cr_assert.
 */
#ifndef CORIO_TESTS_IO_CALL_HELPERS_H
#define CORIO_TESTS_IO_CALL_HELPERS_H

#include "io_helpers.h"

#include <poll.h>

/* A connected TCP pair over loopback (fds[0] the client, fds[1] the accepted end), both
 * non-blocking and close-on-exec; made with blocking calls before any loop runs. */
static inline void tcp_pair(int v6, int fds[2])
{
    struct sockaddr_storage addr;
    socklen_t alen;
    int l = tcp_listener(v6, &addr, &alen);
    int c = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(c, 0);
    cr_assert_eq(connect(c, (struct sockaddr *)&addr, alen), 0, "connect: %s", strerror(errno));
    struct pollfd p = {.fd = l, .events = POLLIN};
    cr_assert_eq(poll(&p, 1, 5000), 1);
    int s = accept(l, NULL, NULL);
    cr_assert_geq(s, 0);
    cr_assert_eq(fcntl(s, F_SETFD, FD_CLOEXEC), 0);
    cr_assert_eq(fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK), 0);
    cr_assert_eq(fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK), 0);
    close(l);
    fds[0] = c;
    fds[1] = s;
}

/* A connected Unix stream or datagram pair, non-blocking. */
static inline void unix_pair(int type, int fds[2])
{
    cr_assert_eq(socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
}

/* A UDP socket bound to 127.0.0.1 (or ::1 with v6) on an ephemeral port, non-blocking; its
 * address in addr. */
static inline int udp_bound(int v6, struct sockaddr_storage *addr, socklen_t *alen)
{
    int fd = corio_socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    cr_assert_geq(fd, 0);
    loopback_addr(v6, addr, alen);
    cr_assert_eq(bind(fd, (struct sockaddr *)addr, *alen), 0, "bind: %s", strerror(errno));
    cr_assert_eq(getsockname(fd, (struct sockaddr *)addr, alen), 0);
    return fd;
}

/* Shrinks the socket's buffers so that filling them is quick. */
static inline void small_buffers(int fd)
{
    int sz = 4096;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
}

/* Sends without awaiting until the (non-blocking) socket would block; returns the bytes queued. */
static inline size_t fill_socket(int fd)
{
    static char junk[4096];
    size_t total = 0;
    for (;;) {
        ssize_t n = send(fd, junk, sizeof junk, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n <= 0)
            break;
        total += (size_t)n;
    }
    return total;
}

/* Reads without awaiting until the socket is empty; returns the bytes read. */
static inline size_t drain_socket(int fd)
{
    char buf[4096];
    size_t total = 0;
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
        total += (size_t)n;
    return total;
}

/* Byte i of a deterministic stream that depends on `seed`, so that a reordered, lost or
 * duplicated chunk shows. */
static inline unsigned char stream_byte(uint64_t seed, uint64_t i)
{
    uint64_t x = (i / 8 + 1) * 0x9e3779b97f4a7c15ull ^ seed;
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 29;
    return (unsigned char)(x >> ((i % 8) * 8));
}

/* Runs fn(fds) as the main task of a new loop, asserts that it succeeded, then closes the fds
 * still open (a task that closes one sets it to -1). */
static inline void run_with_pair(corio_coro_fn fn, int fds[2])
{
    cr_assert_eq(corio_run(fn, fds, NULL, NULL), 0);
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            corio_close(fds[i]);
}

/* Is the fd open? */
static inline int fd_is_open(int fd) { return fcntl(fd, F_GETFD) >= 0; }

#endif
