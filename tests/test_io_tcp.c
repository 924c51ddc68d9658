/* TCP over IPv4 and IPv6: accept, connect, recv, send and sendall as tasks, large transfers both
 * ways at once, many connections in one loop, and what the calls return when the peer refuses,
 * does not answer, half-closes, closes or resets. */
#include "io_call_helpers.h"

#include <signal.h>

/* ---- accept returns the peer's address; a short exchange ---- */

struct conn_args {
    int lfd;
    struct sockaddr_storage addr;
    socklen_t alen;
};

static void *accept_one(void *arg)
{
    struct conn_args *a = arg;
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    int c = corio_sock_accept(a->lfd, (struct sockaddr *)&peer, &plen);
    cr_expect_geq(c, 0, "accept: %s", corio_strerror(c));
    if (c < 0)
        return NULL;
    cr_expect_eq(fcntl(c, F_GETFL) & O_NONBLOCK, O_NONBLOCK, "accepted socket is non-blocking");
    cr_expect_eq(fcntl(c, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC, "accepted socket is close-on-exec");
    char buf[16];
    ssize_t n = corio_sock_recv(c, buf, sizeof buf, 0);
    cr_expect_eq(n, 5);
    cr_expect_eq(corio_sock_send(c, "world", 5, 0), 5);
    corio_close(c);
    /* The peer's address as the accepting side saw it, for the test to compare. */
    struct sockaddr_storage *out = malloc(sizeof *out);
    memcpy(out, &peer, sizeof peer);
    out->ss_family = plen == (peer.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                         : sizeof(struct sockaddr_in))
                         ? peer.ss_family
                         : AF_UNSPEC;
    return out;
}

static void *connect_and_compare(void *arg)
{
    struct conn_args *a = arg;
    corio_task *srv = spawn(accept_one, a);
    int fd = corio_socket(a->addr.ss_family, SOCK_STREAM, 0);
    int rc = corio_sock_connect(fd, (struct sockaddr *)&a->addr, a->alen, 5.0);
    cr_expect_eq(rc, 0, "connect: %s", corio_strerror(rc));
    cr_expect_eq(corio_sock_sendall(fd, "hello", 5, 0), 5);
    char buf[16];
    cr_expect_eq(corio_sock_recv(fd, buf, sizeof buf, 0), 5);
    cr_expect(memcmp(buf, "world", 5) == 0);
    struct sockaddr_storage me;
    socklen_t mlen = sizeof me;
    getsockname(fd, (struct sockaddr *)&me, &mlen);
    void *seen = NULL;
    cr_expect_eq(corio_await(corio_task_future(srv), &seen), 0);
    corio_task_unref(srv);
    struct sockaddr_storage *peer = seen;
    cr_expect_not_null(peer);
    if (peer) {
        cr_expect_eq(peer->ss_family, me.ss_family, "accept's address has the right family/size");
        if (me.ss_family == AF_INET)
            cr_expect_eq(((struct sockaddr_in *)peer)->sin_port, ((struct sockaddr_in *)&me)->sin_port);
        else
            cr_expect_eq(((struct sockaddr_in6 *)peer)->sin6_port,
                         ((struct sockaddr_in6 *)&me)->sin6_port);
        free(peer);
    }
    corio_close(fd);
    return NULL;
}

static void accept_peer_address(int v6)
{
    FD_CHECK_BEGIN();
    struct conn_args a;
    a.lfd = tcp_listener(v6, &a.addr, &a.alen);
    cr_assert_eq(corio_run(connect_and_compare, &a, NULL, NULL), 0);
    corio_close(a.lfd);
    FD_CHECK_END();
}

Test(io_tcp, accept_returns_peer_address_v4, .timeout = 10) { accept_peer_address(0); }
Test(io_tcp, accept_returns_peer_address_v6, .timeout = 10) { accept_peer_address(1); }

/* ---- large transfers both ways at once ---- */

#define BIG_CHUNK 65536

struct flow {
    int fd;
    uint64_t seed;
    size_t total;
    size_t mismatch; /* the first mismatching offset + 1, 0 when all matched */
    size_t got;
};

/* Sends `total` bytes of the seed's stream in chunks of varying sizes, some with send and some
 * with sendall, so that partial sends and EAGAIN both happen. */
static void *flow_send(void *arg)
{
    struct flow *f = arg;
    unsigned char *buf = malloc(BIG_CHUNK);
    size_t off = 0;
    int k = 0;
    while (off < f->total) {
        size_t len = 1 + (size_t)(k++ * 7919) % BIG_CHUNK;
        if (len > f->total - off)
            len = f->total - off;
        for (size_t i = 0; i < len; i++)
            buf[i] = stream_byte(f->seed, off + i);
        ssize_t n = k % 2 ? corio_sock_sendall(f->fd, buf, len, 0)
                          : corio_sock_send(f->fd, buf, len, 0);
        cr_expect_gt(n, 0, "send: %s", corio_strerror((int)n));
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    free(buf);
    corio_sock_shutdown(f->fd, SHUT_WR);
    return NULL;
}

static void *flow_recv(void *arg)
{
    struct flow *f = arg;
    unsigned char *buf = malloc(BIG_CHUNK);
    int k = 0;
    for (;;) {
        size_t len = 1 + (size_t)(k++ * 104729) % BIG_CHUNK;
        ssize_t n = corio_sock_recv(f->fd, buf, len, 0);
        cr_expect_geq(n, 0, "recv: %s", corio_strerror((int)n));
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n && !f->mismatch; i++)
            if (buf[i] != stream_byte(f->seed, f->got + (size_t)i))
                f->mismatch = f->got + (size_t)i + 1;
        f->got += (size_t)n;
    }
    free(buf);
    return NULL;
}

static void *four_flows(void *arg)
{
    struct flow *f = arg;
    corio_task *t[4] = {spawn(flow_send, &f[0]), spawn(flow_recv, &f[1]), spawn(flow_send, &f[2]),
                        spawn(flow_recv, &f[3])};
    corio_future *fs[4];
    for (int i = 0; i < 4; i++)
        fs[i] = corio_task_future(t[i]);
    cr_expect_eq(corio_gather(fs, 4, 0, NULL, NULL), 0);
    for (int i = 0; i < 4; i++)
        corio_task_unref(t[i]);
    return NULL;
}

static void large_transfer(int v6)
{
    FD_CHECK_BEGIN();
    int fds[2];
    tcp_pair(v6, fds);
    size_t total = under_valgrind() ? (size_t)1 << 20 : (size_t)8 << 20;
    /* fds[0] sends seed 1 to fds[1]; fds[1] sends seed 2 to fds[0]; each end reads at once. */
    struct flow f[4] = {
        {.fd = fds[0], .seed = 1, .total = total}, {.fd = fds[1], .seed = 1, .total = total},
        {.fd = fds[1], .seed = 2, .total = total}, {.fd = fds[0], .seed = 2, .total = total}};
    cr_assert_eq(corio_run(four_flows, f, NULL, NULL), 0);
    cr_assert_eq(f[1].got, total, "a->b received %zu of %zu", f[1].got, total);
    cr_assert_eq(f[3].got, total, "b->a received %zu of %zu", f[3].got, total);
    cr_assert_eq(f[1].mismatch, 0, "a->b differs at byte %zu", f[1].mismatch - 1);
    cr_assert_eq(f[3].mismatch, 0, "b->a differs at byte %zu", f[3].mismatch - 1);
    corio_close(fds[0]);
    corio_close(fds[1]);
    FD_CHECK_END();
}

Test(io_tcp, large_transfer_both_ways_v4, .timeout = 60) { large_transfer(0); }
Test(io_tcp, large_transfer_both_ways_v6, .timeout = 60) { large_transfer(1); }

/* ---- many connections in one loop ---- */

#define NCONN 200

static struct conn_args many;
static int many_served;

static void *serve_echo(void *arg)
{
    int c = (int)(intptr_t)arg;
    char buf[64];
    ssize_t n;
    while ((n = corio_sock_recv(c, buf, sizeof buf, 0)) > 0)
        cr_expect_eq(corio_sock_sendall(c, buf, (size_t)n, 0), n);
    cr_expect_eq(n, 0);
    corio_close(c);
    many_served++;
    return NULL;
}

static void *accept_many(void *arg)
{
    (void)arg;
    corio_task *kids[NCONN];
    for (int i = 0; i < NCONN; i++) {
        int c = corio_sock_accept(many.lfd, NULL, NULL);
        cr_expect_geq(c, 0, "accept %d: %s", i, corio_strerror(c));
        kids[i] = spawn(serve_echo, IV(c));
    }
    for (int i = 0; i < NCONN; i++) {
        corio_await(corio_task_future(kids[i]), NULL);
        corio_task_unref(kids[i]);
    }
    return NULL;
}

static void *echo_client(void *arg)
{
    int id = VI(arg);
    int fd = corio_socket(many.addr.ss_family, SOCK_STREAM, 0);
    int rc = corio_sock_connect(fd, (struct sockaddr *)&many.addr, many.alen, 10.0);
    cr_expect_eq(rc, 0, "connect %d: %s", id, corio_strerror(rc));
    int ok = 0;
    for (int round = 0; round < 5 && rc == 0; round++) {
        char msg[32], back[32];
        int len = snprintf(msg, sizeof msg, "client %d round %d", id, round);
        cr_expect_eq(corio_sock_sendall(fd, msg, (size_t)len, 0), len);
        int got = 0;
        while (got < len) {
            ssize_t n = corio_sock_recv(fd, back + got, (size_t)(len - got), 0);
            if (n <= 0)
                break;
            got += (int)n;
        }
        ok += got == len && memcmp(msg, back, (size_t)len) == 0;
    }
    corio_close(fd);
    return IV(ok);
}

static void *many_main(void *arg)
{
    (void)arg;
    corio_task *srv = spawn(accept_many, NULL);
    corio_task *cl[NCONN];
    corio_future *fs[NCONN];
    for (int i = 0; i < NCONN; i++) {
        cl[i] = spawn(echo_client, IV(i));
        fs[i] = corio_task_future(cl[i]);
    }
    void *vals[NCONN];
    cr_expect_eq(corio_gather(fs, NCONN, 0, vals, NULL), 0);
    long ok = 0;
    for (int i = 0; i < NCONN; i++) {
        ok += VI(vals[i]);
        corio_task_unref(cl[i]);
    }
    corio_await(corio_task_future(srv), NULL);
    corio_task_unref(srv);
    return (void *)ok;
}

Test(io_tcp, two_hundred_connections_in_one_loop, .timeout = 60)
{
    FD_CHECK_BEGIN();
    many.lfd = tcp_listener(0, &many.addr, &many.alen);
    listen(many.lfd, 512);
    void *ok = NULL;
    cr_assert_eq(corio_run(many_main, NULL, &ok, NULL), 0);
    cr_assert_eq((long)ok, NCONN * 5, "round trips that matched: %ld", (long)ok);
    cr_assert_eq(many_served, NCONN);
    corio_close(many.lfd);
    FD_CHECK_END();
}

/* ---- connect refused, connect timeout ---- */

static void *connect_expect(void *arg)
{
    struct conn_args *a = arg;
    int fd = corio_socket(a->addr.ss_family, SOCK_STREAM, 0);
    int rc = corio_sock_connect(fd, (struct sockaddr *)&a->addr, a->alen, 5.0);
    corio_close(fd);
    return IV(rc);
}

static void connect_refused(int v6)
{
    FD_CHECK_BEGIN();
    struct conn_args a;
    /* A socket bound to the port but not listening: the port stays ours, and SYNs get a RST. */
    a.lfd = tcp_listener(v6, &a.addr, &a.alen);
    close(a.lfd);
    a.lfd = socket(a.addr.ss_family, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(a.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    cr_assert_eq(bind(a.lfd, (struct sockaddr *)&a.addr, a.alen), 0, "%s", strerror(errno));
    void *rc = NULL;
    cr_assert_eq(corio_run(connect_expect, &a, &rc, NULL), 0);
    cr_assert_eq(VI(rc), -ECONNREFUSED, "connect: %s", corio_strerror(VI(rc)));
    close(a.lfd);
    FD_CHECK_END();
}

Test(io_tcp, connect_refused_v4, .timeout = 10) { connect_refused(0); }
Test(io_tcp, connect_refused_v6, .timeout = 10) { connect_refused(1); }

/* A listener that never accepts, with a backlog of 0: once its queue is full the kernel drops
 * further SYNs, so the next connect stays in progress until its timeout. */
static int backlog_fds[16];
static int nbacklog;

static void *connect_until_stuck(void *arg)
{
    struct conn_args *a = arg;
    for (nbacklog = 0; nbacklog < 16; nbacklog++) {
        int fd = corio_socket(AF_INET, SOCK_STREAM, 0);
        double t0 = now_s();
        int rc = corio_sock_connect(fd, (struct sockaddr *)&a->addr, a->alen, 0.3);
        if (rc == -ETIMEDOUT) {
            cr_expect_geq(now_s() - t0, 0.25, "the timeout did not come early");
            corio_close(fd);
            return IV(rc);
        }
        cr_expect_eq(rc, 0, "connect: %s", corio_strerror(rc));
        backlog_fds[nbacklog] = fd;
    }
    return IV(0);
}

Test(io_tcp, connect_timeout, .timeout = 20)
{
    FD_CHECK_BEGIN();
    struct conn_args a;
    a.lfd = tcp_listener(0, &a.addr, &a.alen);
    cr_assert_eq(listen(a.lfd, 0), 0);
    void *rc = NULL;
    cr_assert_eq(corio_run(connect_until_stuck, &a, &rc, NULL), 0);
    for (int i = 0; i < nbacklog; i++)
        close(backlog_fds[i]);
    close(a.lfd);
    if (VI(rc) == 0)
        cr_skip_test("16 connects to a listener with a full backlog all succeeded: this kernel "
                     "does not drop SYNs, so there is no connect that hangs to time out");
    cr_assert_eq(VI(rc), -ETIMEDOUT);
    FD_CHECK_END();
}

/* ---- half-close ---- */

static void *half_close_main(void *arg)
{
    int *fds = arg;
    cr_expect_eq(corio_sock_sendall(fds[0], "request", 7, 0), 7);
    cr_expect_eq(corio_sock_shutdown(fds[0], SHUT_WR), 0);
    char buf[32];
    size_t got = 0;
    ssize_t n;
    while ((n = corio_sock_recv(fds[1], buf + got, sizeof buf - got, 0)) > 0)
        got += (size_t)n;
    cr_expect_eq(n, 0, "the peer's SHUT_WR reads as EOF");
    cr_expect_eq(got, 7);
    cr_expect_eq(corio_sock_recv(fds[1], buf, sizeof buf, 0), 0, "EOF again");
    /* The other direction still works. */
    cr_expect_eq(corio_sock_sendall(fds[1], "reply", 5, 0), 5);
    cr_expect_eq(corio_sock_recv(fds[0], buf, sizeof buf, 0), 5);
    cr_expect_eq(corio_sock_send(fds[0], "x", 1, 0), -EPIPE, "no sending after SHUT_WR");
    corio_close(fds[1]);
    cr_expect_eq(corio_sock_recv(fds[0], buf, sizeof buf, 0), 0);
    return NULL;
}

Test(io_tcp, half_close_then_reply, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int fds[2];
    tcp_pair(0, fds);
    cr_assert_eq(corio_run(half_close_main, fds, NULL, NULL), 0);
    corio_close(fds[0]);
    FD_CHECK_END();
}

/* ---- the peer closes while a task reads or writes ---- */

static void *close_later(void *arg)
{
    int *fd = arg;
    corio_sleep(0.05);
    corio_close(*fd);
    *fd = -1;
    return NULL;
}

static void *recv_until_eof(void *arg)
{
    int fd = *(int *)arg;
    char buf[64];
    ssize_t n = corio_sock_recv(fd, buf, sizeof buf, 0);
    cr_expect_eq(n, 0, "recv blocked when the peer closed: %zd", n);
    cr_expect_eq(corio_sock_recv(fd, buf, sizeof buf, 0), 0, "EOF is reported again");
    return NULL;
}

static void *peer_close_mid_read_main(void *arg)
{
    int *fds = arg;
    corio_task *r = spawn(recv_until_eof, &fds[0]);
    corio_task *c = spawn(close_later, &fds[1]);
    corio_future *fs[2] = {corio_task_future(r), corio_task_future(c)};
    cr_expect_eq(corio_gather(fs, 2, 0, NULL, NULL), 0);
    corio_task_unref(r);
    corio_task_unref(c);
    return NULL;
}

Test(io_tcp, peer_close_mid_read, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int fds[2];
    tcp_pair(0, fds);
    cr_assert_eq(corio_run(peer_close_mid_read_main, fds, NULL, NULL), 0);
    corio_close(fds[0]);
    FD_CHECK_END();
}

/* Data and the FIN arrive together, after the reader has waited once (so the fd is registered
 * and its edge was consumed): a short read must not make the next recv wait for another edge. */
static void *data_then_eof_main(void *arg)
{
    int *fds = arg;
    char buf[64];
    corio_task *c = spawn(close_later, &fds[1]);
    cr_expect_eq(corio_sock_send(fds[1], "abc", 3, 0), 3);
    ssize_t n = corio_sock_recv(fds[0], buf, sizeof buf, 0);
    cr_expect_eq(n, 3);
    /* Now the fd waits: the peer sends and closes before the loop polls again. */
    n = corio_sock_recv(fds[0], buf, sizeof buf, 0);
    cr_expect_eq(n, 0, "EOF after the short read: %zd", n);
    corio_await(corio_task_future(c), NULL);
    corio_task_unref(c);
    return NULL;
}

static void *send_close_now(void *arg)
{
    int *fd = arg;
    corio_sleep(0.05);
    cr_expect_eq(corio_sock_send(*fd, "hello", 5, 0), 5);
    corio_close(*fd);
    *fd = -1;
    return NULL;
}

static void *data_eof_after_wait_main(void *arg)
{
    int *fds = arg;
    char buf[64];
    corio_task *c = spawn(send_close_now, &fds[1]);
    ssize_t n = corio_sock_recv(fds[0], buf, sizeof buf, 0);
    cr_expect_eq(n, 5, "the data first");
    n = corio_sock_recv(fds[0], buf, sizeof buf, 0);
    cr_expect_eq(n, 0, "then EOF, without another edge: %zd", n);
    corio_await(corio_task_future(c), NULL);
    corio_task_unref(c);
    return NULL;
}

Test(io_tcp, short_read_then_eof, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int fds[2];
    tcp_pair(0, fds);
    cr_assert_eq(corio_run(data_then_eof_main, fds, NULL, NULL), 0);
    corio_close(fds[0]);
    tcp_pair(0, fds);
    cr_assert_eq(corio_run(data_eof_after_wait_main, fds, NULL, NULL), 0);
    corio_close(fds[0]);
    FD_CHECK_END();
}

/* A writer blocked on a full socket while the peer closes (without reading everything): the
 * send fails with -EPIPE or -ECONNRESET, and SIGPIPE does not kill the process, for send (which
 * has MSG_NOSIGNAL) and write(2) (which does not). */
static int mid_write_use_write;

static void *write_until_error(void *arg)
{
    int fd = *(int *)arg;
    static char buf[65536];
    for (int i = 0; i < 100000; i++) {
        ssize_t n = mid_write_use_write ? corio_write(fd, buf, sizeof buf)
                                        : corio_sock_send(fd, buf, sizeof buf, 0);
        if (n < 0)
            return IV(n);
    }
    return IV(0);
}

static void *peer_close_mid_write_main(void *arg)
{
    int *fds = arg;
    corio_task *w = spawn(write_until_error, &fds[0]);
    corio_task *c = spawn(close_later, &fds[1]);
    void *rc = NULL;
    cr_expect_eq(corio_await(corio_task_future(w), &rc), 0);
    corio_await(corio_task_future(c), NULL);
    corio_task_unref(w);
    corio_task_unref(c);
    return rc;
}

static void peer_close_mid_write(int use_write)
{
    FD_CHECK_BEGIN();
    mid_write_use_write = use_write;
    int fds[2];
    tcp_pair(0, fds);
    small_buffers(fds[0]);
    small_buffers(fds[1]);
    void *rc = NULL;
    cr_assert_eq(corio_run(peer_close_mid_write_main, fds, &rc, NULL), 0);
    cr_assert(VI(rc) == -EPIPE || VI(rc) == -ECONNRESET, "send after the peer closed: %s",
              corio_strerror(VI(rc)));
    struct sigaction sa;
    sigaction(SIGPIPE, NULL, &sa);
    cr_assert(sa.sa_handler == SIG_IGN, "the loop ignored SIGPIPE");
    corio_close(fds[0]);
    FD_CHECK_END();
}

Test(io_tcp, peer_close_mid_send, .timeout = 10) { peer_close_mid_write(0); }
Test(io_tcp, peer_close_mid_write_no_sigpipe, .timeout = 10) { peer_close_mid_write(1); }

/* ---- a reset connection ---- */

static void *reset_later(void *arg)
{
    int *fd = arg;
    corio_sleep(0.05);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(*fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    corio_close(*fd);
    *fd = -1;
    return NULL;
}

static void *recv_reset_main(void *arg)
{
    int *fds = arg;
    corio_task *c = spawn(reset_later, &fds[1]);
    char buf[64];
    ssize_t n = corio_sock_recv(fds[0], buf, sizeof buf, 0);
    corio_await(corio_task_future(c), NULL);
    corio_task_unref(c);
    cr_expect_eq(corio_sock_send(fds[0], "x", 1, 0) < 0, 1, "send after a reset fails");
    return IV(n);
}

Test(io_tcp, reset_by_peer, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int fds[2];
    tcp_pair(0, fds);
    void *rc = NULL;
    cr_assert_eq(corio_run(recv_reset_main, fds, &rc, NULL), 0);
    cr_assert_eq(VI(rc), -ECONNRESET, "recv on a reset connection: %s", corio_strerror(VI(rc)));
    corio_close(fds[0]);
    FD_CHECK_END();
}

/* ---- two tasks accepting on one listener ---- */

static void *acceptor(void *arg)
{
    struct conn_args *a = arg;
    return IV(corio_sock_accept(a->lfd, NULL, NULL));
}

static void *two_acceptors_main(void *arg)
{
    struct conn_args *a = arg;
    corio_task *t[2] = {spawn(acceptor, a), spawn(acceptor, a)};
    corio_sleep(0.01);
    int c[2], s[2] = {-1, -1}, ns = 0;
    for (int i = 0; i < 2; i++) {
        c[i] = corio_socket(AF_INET, SOCK_STREAM, 0);
        cr_expect_eq(corio_sock_connect(c[i], (struct sockaddr *)&a->addr, a->alen, 5.0), 0);
    }
    /* One waiter per direction: the second acceptor may be refused with -EBUSY (io.h); then
     * the connection it would have taken is still there for the next accept. */
    for (int i = 0; i < 2; i++) {
        void *v = NULL;
        cr_expect_eq(corio_await(corio_task_future(t[i]), &v), 0);
        corio_task_unref(t[i]);
        cr_expect(VI(v) >= 0 || VI(v) == -EBUSY, "acceptor %d: %s", i, corio_strerror(VI(v)));
        if (VI(v) >= 0)
            s[ns++] = VI(v);
    }
    cr_expect_geq(ns, 1);
    while (ns < 2) {
        s[ns] = corio_sock_accept(a->lfd, NULL, NULL);
        cr_expect_geq(s[ns], 0);
        ns++;
    }
    for (int i = 0; i < 2; i++) {
        corio_close(c[i]);
        corio_close(s[i]);
    }
    return NULL;
}

Test(io_tcp, two_acceptors_on_one_listener, .timeout = 10)
{
    FD_CHECK_BEGIN();
    struct conn_args a;
    a.lfd = tcp_listener(0, &a.addr, &a.alen);
    cr_assert_eq(corio_run(two_acceptors_main, &a, NULL, NULL), 0);
    corio_close(a.lfd);
    FD_CHECK_END();
}

/* ---- accept at the fd limit ---- */

#include <sys/resource.h>

static void *emfile_main(void *arg)
{
    struct conn_args *a = arg;
    int c = corio_socket(AF_INET, SOCK_STREAM, 0);
    cr_expect_eq(corio_sock_connect(c, (struct sockaddr *)&a->addr, a->alen, 5.0), 0);
    /* No fd left for the accepted socket. */
    struct rlimit old, low;
    getrlimit(RLIMIT_NOFILE, &old);
    low = old;
    int lowest = dup(c); /* the lowest free number: the limit allows none from there */
    close(lowest);
    low.rlim_cur = (rlim_t)lowest;
    if (setrlimit(RLIMIT_NOFILE, &low) < 0) {
        cr_expect_fail("setrlimit: %s", strerror(errno));
        corio_close(c);
        return NULL;
    }
    int s = corio_sock_accept(a->lfd, NULL, NULL);
    setrlimit(RLIMIT_NOFILE, &old);
    cr_expect_eq(s, -EMFILE, "accept without a free fd: %s", corio_strerror(s));
    /* The listener stays usable: the connection is still queued. */
    s = corio_sock_accept(a->lfd, NULL, NULL);
    cr_expect_geq(s, 0, "accept once fds are free: %s", corio_strerror(s));
    cr_expect_eq(corio_sock_send(c, "x", 1, 0), 1);
    char b;
    cr_expect_eq(corio_sock_recv(s, &b, 1, 0), 1);
    corio_close(s);
    corio_close(c);
    return NULL;
}

Test(io_tcp, accept_emfile_keeps_listener_usable, .timeout = 10)
{
    SKIP_UNDER_VALGRIND("Valgrind rules RLIMIT_NOFILE itself");
    FD_CHECK_BEGIN();
    struct conn_args a;
    a.lfd = tcp_listener(0, &a.addr, &a.alen);
    cr_assert_eq(corio_run(emfile_main, &a, NULL, NULL), 0);
    corio_close(a.lfd);
    FD_CHECK_END();
}
