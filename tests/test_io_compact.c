/* I/O from compact tasks (CORIO_TASK_COMPACT): their stacks are copied out while they wait and
 * other tasks run on the same memory, yet io.h lets buffers, msghdrs and addresses live on the
 * calling task's stack. Many compact tasks wait at once with everything on their stacks, and
 * every byte and address must come back intact. */
#include "io_call_helpers.h"

#define NPAIRS 32
#define ROUNDS 20

static const corio_task_opts compact = {.flags = CORIO_TASK_COMPACT};

static struct sockaddr_storage srv_addr;
static socklen_t srv_alen;
static int lfd;

/* Echoes with recvmsg / sendmsg, the iovecs, msghdr and buffers on this task's stack. */
static void *server_conn(void *arg)
{
    int c = VI(arg);
    for (;;) {
        char head[3], tail[61];
        struct iovec in[2] = {{head, sizeof head}, {tail, sizeof tail}};
        struct msghdr m = {.msg_iov = in, .msg_iovlen = 2};
        ssize_t n = corio_sock_recvmsg(c, &m, 0);
        if (n <= 0) {
            cr_expect_eq(n, 0, "recvmsg: %s", corio_strerror((int)n));
            break;
        }
        struct iovec out[2] = {{head, n < 3 ? (size_t)n : 3}, {tail, n > 3 ? (size_t)n - 3 : 0}};
        struct msghdr o = {.msg_iov = out, .msg_iovlen = 2};
        cr_expect_eq(corio_sock_sendmsg(c, &o, 0), n);
    }
    corio_close(c);
    return NULL;
}

static void *server(void *arg)
{
    (void)arg;
    corio_task *kids[NPAIRS];
    for (int i = 0; i < NPAIRS; i++) {
        struct sockaddr_storage peer; /* on this (compact) task's stack while it waits */
        socklen_t plen = sizeof peer;
        int c = corio_sock_accept(lfd, (struct sockaddr *)&peer, &plen);
        cr_expect_geq(c, 0);
        cr_expect_eq(peer.ss_family, AF_INET);
        cr_expect_eq(plen, sizeof(struct sockaddr_in));
        kids[i] = spawn_opts(server_conn, IV(c), &compact);
    }
    for (int i = 0; i < NPAIRS; i++) {
        corio_await(corio_task_future(kids[i]), NULL);
        corio_task_unref(kids[i]);
    }
    return NULL;
}

static void *client(void *arg)
{
    int id = VI(arg);
    int fd = corio_socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_storage to = srv_addr; /* a stack copy */
    cr_expect_eq(corio_sock_connect(fd, (struct sockaddr *)&to, srv_alen, 5.0), 0);
    int good = 0;
    for (int r = 0; r < ROUNDS; r++) {
        char msg[64], back[64];
        int len = snprintf(msg, sizeof msg, "client %d round %d", id, r);
        cr_expect_eq(corio_sock_sendall(fd, msg, (size_t)len, 0), len);
        int got = 0;
        while (got < len) {
            ssize_t n = corio_sock_recv(fd, back + got, sizeof back - (size_t)got, 0);
            if (n <= 0)
                break;
            got += (int)n;
        }
        good += got == len && memcmp(msg, back, (size_t)len) == 0;
        corio_sleep(0); /* let the others run on the shared stack */
    }
    corio_close(fd);
    return IV(good);
}

static void *tcp_main(void *arg)
{
    (void)arg;
    corio_task *s = spawn_opts(server, NULL, &compact);
    corio_task *c[NPAIRS];
    corio_future *fs[NPAIRS];
    for (int i = 0; i < NPAIRS; i++) {
        c[i] = spawn_opts(client, IV(i), &compact);
        fs[i] = corio_task_future(c[i]);
    }
    void *vals[NPAIRS];
    cr_expect_eq(corio_gather(fs, NPAIRS, 0, vals, NULL), 0);
    long good = 0;
    for (int i = 0; i < NPAIRS; i++) {
        good += VI(vals[i]);
        corio_task_unref(c[i]);
    }
    corio_await(corio_task_future(s), NULL);
    corio_task_unref(s);
    return (void *)good;
}

Test(io_compact, tcp_buffers_on_compact_stacks, .timeout = 30)
{
    FD_CHECK_BEGIN();
    lfd = tcp_listener(0, &srv_addr, &srv_alen);
    void *good = NULL;
    cr_assert_eq(corio_run(tcp_main, NULL, &good, NULL), 0);
    cr_assert_eq((long)good, NPAIRS * ROUNDS, "round trips intact: %ld", (long)good);
    corio_close(lfd);
    FD_CHECK_END();
}

/* recvfrom into a stack buffer and a stack address, in many compact tasks waiting at once on
 * their own UDP sockets; a sender answers each after they all wait. */
static int udp_fds[NPAIRS];
static struct sockaddr_in udp_addrs[NPAIRS];

static void *udp_waiter(void *arg)
{
    int i = VI(arg);
    char buf[32];
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    ssize_t n = corio_sock_recvfrom(udp_fds[i], buf, sizeof buf, 0, (struct sockaddr *)&from,
                                    &flen);
    char want[32];
    int wlen = snprintf(want, sizeof want, "datagram %d", i);
    cr_expect_eq(n, wlen);
    cr_expect_eq(flen, sizeof from);
    cr_expect_eq(from.sin_family, AF_INET);
    return IV(n == wlen && memcmp(buf, want, (size_t)wlen) == 0);
}

static void *udp_main(void *arg)
{
    (void)arg;
    corio_task *t[NPAIRS];
    corio_future *fs[NPAIRS];
    for (int i = 0; i < NPAIRS; i++) {
        t[i] = spawn_opts(udp_waiter, IV(i), &compact);
        fs[i] = corio_task_future(t[i]);
    }
    corio_sleep(0.02);
    int s = corio_socket(AF_INET, SOCK_DGRAM, 0);
    for (int i = NPAIRS - 1; i >= 0; i--) {
        char msg[32];
        int len = snprintf(msg, sizeof msg, "datagram %d", i);
        cr_expect_eq(corio_sock_sendto(s, msg, (size_t)len, 0, (struct sockaddr *)&udp_addrs[i],
                                       sizeof udp_addrs[i]),
                     len);
    }
    void *vals[NPAIRS];
    cr_expect_eq(corio_gather(fs, NPAIRS, 0, vals, NULL), 0);
    long good = 0;
    for (int i = 0; i < NPAIRS; i++) {
        good += VI(vals[i]);
        corio_task_unref(t[i]);
    }
    corio_close(s);
    return (void *)good;
}

Test(io_compact, udp_recvfrom_on_compact_stacks, .timeout = 30)
{
    FD_CHECK_BEGIN();
    for (int i = 0; i < NPAIRS; i++) {
        udp_fds[i] = corio_socket(AF_INET, SOCK_DGRAM, 0);
        udp_addrs[i] = (struct sockaddr_in){.sin_family = AF_INET,
                                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof udp_addrs[i];
        cr_assert_eq(bind(udp_fds[i], (struct sockaddr *)&udp_addrs[i], len), 0);
        getsockname(udp_fds[i], (struct sockaddr *)&udp_addrs[i], &len);
    }
    void *good = NULL;
    cr_assert_eq(corio_run(udp_main, NULL, &good, NULL), 0);
    cr_assert_eq((long)good, NPAIRS, "datagrams intact: %ld", (long)good);
    for (int i = 0; i < NPAIRS; i++)
        corio_close(udp_fds[i]);
    FD_CHECK_END();
}
