/* UDP: recvfrom / sendto over IPv4 and IPv6, recvmsg / sendmsg with several iovecs and an
 * address, and datagram boundaries: each call gets exactly one datagram, and a datagram read
 * with room to spare does not hide the next one queued behind it. */
#include "io_call_helpers.h"

struct udp_pair {
    int a, b;
    struct sockaddr_storage aaddr, baddr;
    socklen_t alen, blen;
};


static void udp_open(struct udp_pair *p, int v6)
{
    p->a = udp_bound(v6, &p->aaddr, &p->alen);
    p->b = udp_bound(v6, &p->baddr, &p->blen);
}

static void udp_close(struct udp_pair *p)
{
    corio_close(p->a);
    corio_close(p->b);
}

static int same_port(const struct sockaddr_storage *x, const struct sockaddr_storage *y)
{
    if (x->ss_family != y->ss_family)
        return 0;
    if (x->ss_family == AF_INET)
        return ((const struct sockaddr_in *)x)->sin_port == ((const struct sockaddr_in *)y)->sin_port;
    return ((const struct sockaddr_in6 *)x)->sin6_port == ((const struct sockaddr_in6 *)y)->sin6_port;
}

/* ---- recvfrom / sendto ---- */

static void *send_later(void *arg)
{
    struct udp_pair *p = arg;
    corio_sleep(0.02);
    cr_expect_eq(corio_sock_sendto(p->a, "ping", 4, 0, (struct sockaddr *)&p->baddr, p->blen), 4);
    return NULL;
}

static void *recvfrom_main(void *arg)
{
    struct udp_pair *p = arg;
    corio_task *s = spawn(send_later, p);
    char buf[64];
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    ssize_t n = corio_sock_recvfrom(p->b, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
    cr_expect_eq(n, 4, "recvfrom: %s", corio_strerror((int)n));
    cr_expect(memcmp(buf, "ping", 4) == 0);
    cr_expect_eq(flen, p->alen, "the sender's address length");
    cr_expect(same_port(&from, &p->aaddr), "the sender's address");
    /* And back, to the address recvfrom gave. */
    cr_expect_eq(corio_sock_sendto(p->b, "pong", 4, 0, (struct sockaddr *)&from, flen), 4);
    cr_expect_eq(corio_sock_recvfrom(p->a, buf, sizeof buf, 0, NULL, NULL), 4);
    cr_expect(memcmp(buf, "pong", 4) == 0);
    corio_await(corio_task_future(s), NULL);
    corio_task_unref(s);
    return NULL;
}

static void recvfrom_sendto(int v6)
{
    FD_CHECK_BEGIN();
    struct udp_pair p;
    udp_open(&p, v6);
    cr_assert_eq(corio_run(recvfrom_main, &p, NULL, NULL), 0);
    udp_close(&p);
    FD_CHECK_END();
}

Test(io_udp, recvfrom_sendto_v4, .timeout = 10) { recvfrom_sendto(0); }
Test(io_udp, recvfrom_sendto_v6, .timeout = 10) { recvfrom_sendto(1); }

/* ---- recvmsg / sendmsg ---- */

static void *msg_main(void *arg)
{
    struct udp_pair *p = arg;
    char h[] = "head:", m[] = "middle:", t[] = "tail";
    struct iovec out[3] = {{h, 5}, {m, 7}, {t, 4}};
    struct msghdr sm = {.msg_name = &p->baddr, .msg_namelen = p->blen, .msg_iov = out,
                        .msg_iovlen = 3};
    char r1[3], r2[10], r3[32];
    struct iovec in[3] = {{r1, sizeof r1}, {r2, sizeof r2}, {r3, sizeof r3}};
    struct sockaddr_storage from;
    struct msghdr rm = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = in,
                        .msg_iovlen = 3};
    cr_expect_eq(corio_sock_sendmsg(p->a, &sm, 0), 16);
    ssize_t n = corio_sock_recvmsg(p->b, &rm, 0);
    cr_expect_eq(n, 16, "recvmsg: %s", corio_strerror((int)n));
    char all[32];
    memcpy(all, r1, 3);
    memcpy(all + 3, r2, 10);
    memcpy(all + 13, r3, 3);
    cr_expect(memcmp(all, "head:middle:tail", 16) == 0, "scattered in order");
    cr_expect_eq(rm.msg_namelen, p->alen);
    cr_expect(same_port(&from, &p->aaddr));
    cr_expect_eq(rm.msg_flags & MSG_TRUNC, 0);

    /* A datagram larger than the buffers is cut, and says so. */
    cr_expect_eq(corio_sock_sendmsg(p->a, &sm, 0), 16);
    struct iovec small = {r3, 6};
    struct msghdr tm = {.msg_iov = &small, .msg_iovlen = 1};
    cr_expect_eq(corio_sock_recvmsg(p->b, &tm, 0), 6);
    cr_expect_eq(tm.msg_flags & MSG_TRUNC, MSG_TRUNC);
    return NULL;
}

static void recvmsg_sendmsg(int v6)
{
    FD_CHECK_BEGIN();
    struct udp_pair p;
    udp_open(&p, v6);
    cr_assert_eq(corio_run(msg_main, &p, NULL, NULL), 0);
    udp_close(&p);
    FD_CHECK_END();
}

Test(io_udp, recvmsg_sendmsg_iovecs_v4, .timeout = 10) { recvmsg_sendmsg(0); }
Test(io_udp, recvmsg_sendmsg_iovecs_v6, .timeout = 10) { recvmsg_sendmsg(1); }

/* ---- datagram boundaries ---- */

static int boundary_call;

static void *send_burst(void *arg)
{
    struct udp_pair *p = arg;
    corio_sleep(0.02);
    /* Three datagrams queued together, the middle one empty. */
    const struct sockaddr *to = (struct sockaddr *)&p->baddr;
    cr_expect_eq(corio_sock_sendto(p->a, "one", 3, 0, to, p->blen), 3);
    cr_expect_eq(corio_sock_sendto(p->a, "", 0, 0, to, p->blen), 0);
    cr_expect_eq(corio_sock_sendto(p->a, "three", 5, 0, to, p->blen), 5);
    return NULL;
}

static ssize_t recv_one(int fd, char *buf, size_t len)
{
    switch (boundary_call) {
    case 0: return corio_sock_recv(fd, buf, len, 0);
    case 1: return corio_sock_recvfrom(fd, buf, len, 0, NULL, NULL);
    default: {
        struct iovec iov = {buf, len};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
        return corio_sock_recvmsg(fd, &m, 0);
    }
    }
}

static void *boundary_main(void *arg)
{
    struct udp_pair *p = arg;
    corio_task *s = spawn(send_burst, p);
    char buf[64];
    /* The first call waits (the fd is registered and the edge consumed), and reads less than
     * its buffer holds: the next datagrams must still be read at once. */
    ssize_t n = recv_one(p->b, buf, sizeof buf);
    cr_expect_eq(n, 3);
    cr_expect(memcmp(buf, "one", 3) == 0);
    n = recv_one(p->b, buf, sizeof buf);
    cr_expect_eq(n, 0, "the empty datagram");
    n = recv_one(p->b, buf, sizeof buf);
    cr_expect_eq(n, 5, "the third datagram after a short read: %zd", n);
    cr_expect(memcmp(buf, "three", 5) == 0);
    corio_await(corio_task_future(s), NULL);
    corio_task_unref(s);
    return NULL;
}

static void datagram_boundaries(int call)
{
    FD_CHECK_BEGIN();
    boundary_call = call;
    struct udp_pair p;
    udp_open(&p, 0);
    cr_assert_eq(corio_run(boundary_main, &p, NULL, NULL), 0);
    udp_close(&p);
    FD_CHECK_END();
}

Test(io_udp, boundaries_kept_recv, .timeout = 10) { datagram_boundaries(0); }
Test(io_udp, boundaries_kept_recvfrom, .timeout = 10) { datagram_boundaries(1); }
Test(io_udp, boundaries_kept_recvmsg, .timeout = 10) { datagram_boundaries(2); }

/* ---- a connected UDP socket with send and recv ---- */

static void *connected_main(void *arg)
{
    struct udp_pair *p = arg;
    int rc = corio_sock_connect(p->a, (struct sockaddr *)&p->baddr, p->blen, 1.0);
    cr_expect_eq(rc, 0, "connect on UDP: %s", corio_strerror(rc));
    cr_expect_eq(corio_sock_send(p->a, "hi", 2, 0), 2);
    char buf[8];
    cr_expect_eq(corio_sock_recv(p->b, buf, sizeof buf, 0), 2);
    /* Nothing listens on the port any more: a connected UDP socket learns of it from ICMP. */
    corio_close(p->b);
    p->b = -1;
    corio_sock_send(p->a, "x", 1, 0);
    ssize_t n = corio_sock_recv(p->a, buf, sizeof buf, 0);
    cr_expect_eq(n, -ECONNREFUSED, "recv after ICMP port unreachable: %s", corio_strerror((int)n));
    return NULL;
}

Test(io_udp, connected_send_recv_and_refused, .timeout = 10)
{
    FD_CHECK_BEGIN();
    struct udp_pair p;
    udp_open(&p, 0);
    cr_assert_eq(corio_run(connected_main, &p, NULL, NULL), 0);
    corio_close(p.a);
    FD_CHECK_END();
}
