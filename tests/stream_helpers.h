/* Helpers for the stream tests (tests/test_stream_*.c): a connection over loopback TCP whose far
 * end (`peer`) is a plain socket the test drives with the corio_sock_* calls, and a runner that
 * checks every fd is closed at the end. Run by ctest once per backend (see io_helpers.h). */
#ifndef CORIO_TESTS_STREAM_HELPERS_H
#define CORIO_TESTS_STREAM_HELPERS_H

#define _GNU_SOURCE /* accept4 */
#include "io_helpers.h"
#include "stream/resolve.h"
#include "tls_pki.h"

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

/* ---- the same tests over TLS ----
 * With CORIO_STREAM_TLS=1 in the environment (ctest's NAME_tls variants), R and W speak TLS to a
 * relay in the same loop, which carries the plaintext to and from `peer` over a second loopback
 * pair: the tests drive `peer` as before while every byte R and W see went through TLS. The
 * relay passes an EOF on as close_notify (write_eof) or a FIN, and a reset as an abort. */
static corio_reader *relay_r;
static corio_writer *relay_w;
static int relay_plain = -1;
static corio_task *relay_up, *relay_down;
static pki relay_pki;

static inline int stream_tls(void)
{
    const char *v = getenv("CORIO_STREAM_TLS");
    return v && strcmp(v, "1") == 0;
}

static int relay_pumps;
static void relay_pump_ended(void);

/* TLS plaintext to the plain socket. */
static void relay_down_pump(void)
{
    static char buf[65536]; /* not on the task's stack */
    ssize_t n;
    while ((n = corio_reader_read(relay_r, buf, sizeof buf)) > 0)
        if (corio_sock_sendall(relay_plain, buf, (size_t)n, 0) < 0)
            return;
    if (n == 0) {
        corio_sock_shutdown(relay_plain, SHUT_WR);
    } else {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(relay_plain, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        corio_sock_shutdown(relay_plain, SHUT_RDWR);
    }
}

static void *relay_to_peer(void *arg)
{
    (void)arg;
    relay_down_pump();
    relay_pump_ended();
    return NULL;
}

/* The plain socket's bytes into TLS. */
static void relay_up_pump(void)
{
    static char buf[65536];
    ssize_t n;
    while ((n = corio_sock_recv(relay_plain, buf, sizeof buf, 0)) > 0)
        if (corio_writer_write(relay_w, buf, (size_t)n) < 0 || corio_writer_drain(relay_w) < 0)
            return;
    if (n == 0) {
        corio_writer_write_eof(relay_w);
    } else {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(corio_writer_get_fd(relay_w), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        corio_writer_abort(relay_w);
    }
}

static void *relay_from_peer(void *arg)
{
    (void)arg;
    relay_up_pump();
    relay_pump_ended();
    return NULL;
}

static void *relay_handshake(void *arg)
{
    return (void *)(intptr_t)corio_writer_start_tls(relay_w, arg, NULL);
}

static inline void relay_open(const corio_stream_opts *o)
{
    pki_make_some(&relay_pki, 0);
    corio_tls_context *sctx = NULL, *cctx = NULL;
    corio_tls_context_opts so = {.certfile = relay_pki.path[PKI_SERVER],
                                 .keyfile = relay_pki.path[PKI_SERVER_KEY]};
    corio_tls_context_opts co = {.cafile = relay_pki.path[PKI_CA]};
    cr_expect_eq(corio_tls_context_new(&sctx, CORIO_TLS_SERVER, &so), 0);
    cr_expect_eq(corio_tls_context_new(&cctx, CORIO_TLS_CLIENT, &co), 0);
    int tls[2], plain[2];
    tcp_pair(tls);
    tcp_pair(plain);
    cr_expect_eq(corio_stream_new(&R, &W, NULL, tls[0], o), 0);
    cr_expect_eq(corio_stream_new(&relay_r, &relay_w, NULL, tls[1], NULL), 0);
    corio_task *hs = NULL;
    cr_expect_eq(corio_create_task(&hs, NULL, relay_handshake, sctx, NULL), 0);
    corio_stream_opts to = {.server_hostname = "localhost"};
    int rc = corio_writer_start_tls(W, cctx, &to);
    cr_expect_eq(rc, 0, "client handshake: %s (%s)", corio_err_name(rc), corio_tls_get_error());
    void *res = NULL;
    corio_await(corio_task_future(hs), &res);
    corio_task_unref(hs);
    cr_expect_eq((intptr_t)res, 0, "relay handshake");
    corio_tls_context_free(sctx);
    corio_tls_context_free(cctx);
    relay_plain = plain[0];
    peer = plain[1];
    relay_pumps = 2;
    cr_expect_eq(corio_create_task(&relay_down, NULL, relay_to_peer, NULL, NULL), 0);
    cr_expect_eq(corio_create_task(&relay_up, NULL, relay_from_peer, NULL, NULL), 0);
}

/* The last pump to end lets the relay go: also when the loop's end cancels them (a test that
 * frees R and W itself). */
static void relay_pump_ended(void)
{
    if (--relay_pumps)
        return;
    corio_stream_free(relay_r, relay_w);
    corio_close(relay_plain);
    relay_plain = -1;
    pki_remove(&relay_pki);
}

static inline void relay_close(void)
{
    corio_await(corio_task_future(relay_down), NULL);
    corio_await(corio_task_future(relay_up), NULL);
    corio_task_unref(relay_down);
    corio_task_unref(relay_up);
    relay_up = relay_down = NULL;
}

/* In a task: R and W on one end of a fresh pair, peer the other end. */
static inline void pair_open(const corio_stream_opts *o)
{
    if (stream_tls()) {
        relay_open(o);
        return;
    }
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
    if (relay_up)
        relay_close();
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
