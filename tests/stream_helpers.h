/* Helpers for the stream tests (tests/test_stream_*.c): a connection over loopback TCP whose far
 * end (`peer`) is a plain socket the test drives with the corio_sock_* calls, and a runner that
 * checks every fd is closed at the end. Run by ctest once per backend (see io_helpers.h). */
#ifndef CORIO_TESTS_STREAM_HELPERS_H
#define CORIO_TESTS_STREAM_HELPERS_H

#define _GNU_SOURCE /* accept4 */
#include "io_helpers.h"
#include "stream/resolve.h"

#include <sys/stat.h>

static corio_reader *R;
static corio_writer *W;
static int peer = -1;

/* A connected loopback TCP pair: fds[0] the client end, fds[1] the accepted end, both
 * non-blocking. Made with blocking calls: loopback connects at once. */
static inline void tcp_pair(int fds[2])
{
    struct sockaddr_storage a;
    socklen_t alen;
    int l = tcp_listener(0, &a, &alen);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(c, 0);
    cr_assert_eq(connect(c, (struct sockaddr *)&a, alen), 0, "connect: %s", strerror(errno));
    int fl = fcntl(l, F_GETFL);
    fcntl(l, F_SETFL, fl & ~O_NONBLOCK);
    int s = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    cr_assert_geq(s, 0);
    corio_close(l);
    fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK);
    fds[0] = c;
    fds[1] = s;
}

/* In a task: R and W on one end of a fresh pair, peer the other end. */
static inline void pair_open(const corio_stream_opts *o)
{
    int fds[2];
    tcp_pair(fds);
    int rc = corio_stream_new(&R, &W, NULL, fds[0], o);
    cr_expect_eq(rc, 0, "corio_stream_new: %s", corio_strerror(rc));
    peer = fds[1];
}

static inline void pair_close(void)
{
    cr_expect_eq(corio_stream_free(R, W), 0);
    R = NULL;
    W = NULL;
    if (peer >= 0)
        corio_close(peer);
    peer = -1;
}

static inline void peer_send(const char *s)
{
    size_t n = strlen(s);
    cr_expect_eq(corio_sock_sendall(peer, s, n, 0), (ssize_t)n);
}

/* Makes the peer's close send a reset (SO_LINGER 0) and closes it. */
static inline void peer_reset(void)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(peer, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    corio_close(peer);
    peer = -1;
}

/* Reads from the peer until EOF (or an error) into buf; returns the count. */
static inline size_t peer_recv_all(char *buf, size_t cap)
{
    size_t got = 0;
    for (;;) {
        char tmp[16384];
        ssize_t n = corio_sock_recv(peer, tmp, sizeof tmp, 0);
        if (n <= 0)
            break;
        if (buf && got + (size_t)n <= cap)
            memcpy(buf + got, tmp, (size_t)n);
        got += (size_t)n;
    }
    return got;
}

/* Awaits t (from spawn, io_helpers.h) and drops it; returns its outcome, its result in *res. */
static inline int join(corio_task *t, void **res)
{
    int rc = corio_await(corio_task_future(t), res);
    corio_task_unref(t);
    return rc;
}

/* Runs fn as the main task of a fresh loop and checks that no fd is left open after, lookup
 * threads included. */
/* Name lookups run on an executor thread, which Valgrind 3.19 starves while the loop waits in
 * io_uring_enter (the ring sleeps in 10 ms slices there, src/poll/uring.c), and glibc's NSS
 * start-up then takes minutes: tests that look a name up skip that one combination. */
static inline void skip_name_lookup_under_valgrind_on_io_uring(void)
{
    const char *be = getenv("CORIO_BACKEND");
    if (under_valgrind() && be && strcmp(be, "io_uring") == 0)
        cr_skip_test("name lookup under Valgrind on io_uring: too slow (see stream_helpers.h)");
}

#define RUN_CHECKED(fn, arg)                                                                       \
    do {                                                                                           \
        FD_CHECK_BEGIN();                                                                          \
        int run_rc_ = corio_run(fn, arg, NULL, NULL);                                                    \
        cr_assert_eq(run_rc_, 0, "main task: %s", corio_strerror(run_rc_));                        \
        for (int i_ = 0; i_ < 2000 && corio__stream_resolve_pending(); i_++)                       \
            usleep(10000);                                                                         \
        cr_assert_eq(corio__stream_resolve_pending(), 0);                                          \
        FD_CHECK_END();                                                                            \
    } while (0)

/* A fixed-size string of a repeated byte. */
static inline char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = 0;
    return s;
}

#endif
