/* The smallest end-to-end I/O check on the loop's backend: accept, connect, recv and send over
 * loopback TCP, with both ends as tasks. The detailed per-call tests are in test_io_*.c. */
#include "io_helpers.h"

static struct sockaddr_storage srv_addr;
static socklen_t srv_alen;
static int listen_fd;

static void *server(void *arg)
{
    (void)arg;
    int c = corio_sock_accept(listen_fd, NULL, NULL);
    cr_expect_geq(c, 0, "accept: %s", corio_strerror(c));
    char buf[64];
    ssize_t n;
    while ((n = corio_sock_recv(c, buf, sizeof buf, 0)) > 0)
        cr_expect_eq(corio_sock_sendall(c, buf, (size_t)n, 0), n);
    cr_expect_eq(n, 0);
    corio_close(c);
    return NULL;
}

static void *client(void *arg)
{
    (void)arg;
    int fd = corio_socket(srv_addr.ss_family, SOCK_STREAM, 0);
    int rc = corio_sock_connect(fd, (struct sockaddr *)&srv_addr, srv_alen, 5.0);
    cr_expect_eq(rc, 0, "connect: %s", corio_strerror(rc));
    long total = 0;
    for (int i = 0; i < 1000; i++) {
        char msg[32], back[32];
        int len = snprintf(msg, sizeof msg, "ping %d", i);
        cr_expect_eq(corio_sock_sendall(fd, msg, (size_t)len, 0), len);
        ssize_t got = 0;
        while (got < len) {
            ssize_t n = corio_sock_recv(fd, back + got, sizeof back - (size_t)got, 0);
            cr_expect_gt(n, 0);
            if (n <= 0)
                break;
            got += n;
        }
        cr_expect(memcmp(msg, back, (size_t)len) == 0);
        total += got;
    }
    corio_close(fd);
    return (void *)total;
}

static void *main_task(void *arg)
{
    corio_task *s = spawn(server, arg);
    corio_task *c = spawn(client, arg);
    corio_future *fs[2] = {corio_task_future(s), corio_task_future(c)};
    void *vals[2];
    cr_expect_eq(corio_gather(fs, 2, 0, vals, NULL), 0);
    corio_task_unref(s);
    corio_task_unref(c);
    return vals[1];
}

static void echo_roundtrips(int v6)
{
    FD_CHECK_BEGIN();
    listen_fd = tcp_listener(v6, &srv_addr, &srv_alen);
    void *total = NULL;
    cr_assert_eq(corio_run(main_task, NULL, &total, NULL), 0);
    cr_assert_gt((long)total, 1000 * 6);
    corio_close(listen_fd);
    FD_CHECK_END();
}

Test(io_smoke, tcp_v4_echo, .timeout = 20) { echo_roundtrips(0); }
Test(io_smoke, tcp_v6_echo, .timeout = 20) { echo_roundtrips(1); }
