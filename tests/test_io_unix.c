/* Unix sockets: a stream socketpair, a named listener in a temporary directory (accept, connect,
 * the peer's path), fds passed with SCM_RIGHTS through recvmsg / sendmsg, and datagram pairs. */
#define _GNU_SOURCE /* pipe2 */
#include "io_call_helpers.h"

#include <sys/stat.h>

/* ---- a stream socketpair ---- */

static void *pair_echo_main(void *arg)
{
    int *fds = arg;
    char buf[64];
    for (int i = 0; i < 100; i++) {
        char msg[32];
        int len = snprintf(msg, sizeof msg, "message %d", i);
        cr_expect_eq(corio_sock_sendall(fds[0], msg, (size_t)len, 0), len);
        ssize_t n = corio_sock_recv(fds[1], buf, sizeof buf, 0);
        cr_expect_eq(n, len);
        cr_expect_eq(corio_write(fds[1], buf, (size_t)n), n, "write(2) on a socket works too");
        cr_expect_eq(corio_read(fds[0], buf, sizeof buf), len);
        cr_expect(memcmp(buf, msg, (size_t)len) == 0);
    }
    cr_expect_eq(corio_sock_shutdown(fds[0], SHUT_WR), 0);
    cr_expect_eq(corio_sock_recv(fds[1], buf, sizeof buf, 0), 0);
    return NULL;
}

Test(io_unix, socketpair_stream_echo, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int fds[2];
    unix_pair(SOCK_STREAM, fds);
    run_with_pair(pair_echo_main, fds);
    FD_CHECK_END();
}

/* ---- a named listener ---- */

struct named {
    char dir[64];
    struct sockaddr_un addr;
    int lfd;
};

static void named_open(struct named *n)
{
    snprintf(n->dir, sizeof n->dir, "/tmp/corio-unix-XXXXXX");
    cr_assert_not_null(mkdtemp(n->dir));
    memset(&n->addr, 0, sizeof n->addr);
    n->addr.sun_family = AF_UNIX;
    snprintf(n->addr.sun_path, sizeof n->addr.sun_path, "%s/sock", n->dir);
    n->lfd = corio_socket(AF_UNIX, SOCK_STREAM, 0);
    cr_assert_geq(n->lfd, 0);
    cr_assert_eq(bind(n->lfd, (struct sockaddr *)&n->addr, sizeof n->addr), 0);
    cr_assert_eq(listen(n->lfd, 16), 0);
}

static void named_close(struct named *n)
{
    corio_close(n->lfd);
    unlink(n->addr.sun_path);
    rmdir(n->dir);
}

static void *named_server(void *arg)
{
    struct named *n = arg;
    struct sockaddr_un peer;
    socklen_t plen = sizeof peer;
    int c = corio_sock_accept(n->lfd, (struct sockaddr *)&peer, &plen);
    cr_expect_geq(c, 0, "accept: %s", corio_strerror(c));
    cr_expect_eq(peer.sun_family, AF_UNIX);
    char buf[32];
    ssize_t len = corio_sock_recv(c, buf, sizeof buf, 0);
    cr_expect_eq(len, 4);
    cr_expect_eq(corio_sock_sendall(c, buf, (size_t)len, 0), len);
    corio_close(c);
    return NULL;
}

static void *named_main(void *arg)
{
    struct named *n = arg;
    corio_task *s = spawn(named_server, n);
    int fd = corio_socket(AF_UNIX, SOCK_STREAM, 0);
    int rc = corio_sock_connect(fd, (struct sockaddr *)&n->addr, sizeof n->addr, 5.0);
    cr_expect_eq(rc, 0, "connect: %s", corio_strerror(rc));
    cr_expect_eq(corio_sock_send(fd, "unix", 4, 0), 4);
    char buf[32];
    cr_expect_eq(corio_sock_recv(fd, buf, sizeof buf, 0), 4);
    cr_expect_eq(corio_sock_recv(fd, buf, sizeof buf, 0), 0, "the server closed");
    corio_close(fd);
    corio_await(corio_task_future(s), NULL);
    corio_task_unref(s);

    /* A path nobody listens on. */
    struct sockaddr_un none = n->addr;
    snprintf(none.sun_path, sizeof none.sun_path, "%s/none", n->dir);
    fd = corio_socket(AF_UNIX, SOCK_STREAM, 0);
    rc = corio_sock_connect(fd, (struct sockaddr *)&none, sizeof none, 5.0);
    cr_expect_eq(rc, -ENOENT, "connect to a missing path: %s", corio_strerror(rc));
    corio_close(fd);
    return NULL;
}

Test(io_unix, named_listener_accept_connect, .timeout = 10)
{
    FD_CHECK_BEGIN();
    struct named n;
    named_open(&n);
    cr_assert_eq(corio_run(named_main, &n, NULL, NULL), 0);
    named_close(&n);
    FD_CHECK_END();
}

/* ---- passing an fd ---- */

static ssize_t send_fd(int sock, int fd, const char *data, size_t len)
{
    struct iovec iov = {(void *)data, len};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                       .msg_controllen = sizeof ctl.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    return corio_sock_sendmsg(sock, &m, 0);
}

/* Receives one message and the fd it carries (-1 if none). */
static ssize_t recv_fd(int sock, char *data, size_t len, int *fd)
{
    struct iovec iov = {data, len};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                       .msg_controllen = sizeof ctl.buf};
    ssize_t n = corio_sock_recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
    *fd = -1;
    for (struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&m) : NULL; c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            memcpy(fd, CMSG_DATA(c), sizeof *fd);
    return n;
}

static void *pass_receiver(void *arg)
{
    int sock = *(int *)arg;
    char buf[16];
    int fd;
    ssize_t n = recv_fd(sock, buf, sizeof buf, &fd);
    cr_expect_eq(n, 4, "recvmsg: %s", corio_strerror((int)n));
    cr_expect_geq(fd, 0, "an fd came with the message");
    if (fd < 0)
        return NULL;
    cr_expect_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC, "MSG_CMSG_CLOEXEC was passed on");
    /* The fd is the write end of a pipe: write through it. */
    cr_expect_eq(corio_write(fd, "via passed fd", 13), 13);
    corio_close(fd);
    return NULL;
}

static void *pass_main(void *arg)
{
    int *fds = arg;
    int p[2];
    cr_expect_eq(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    corio_task *r = spawn(pass_receiver, &fds[1]);
    corio_sleep(0.01); /* the receiver waits first */
    cr_expect_eq(send_fd(fds[0], p[1], "pipe", 4), 4);
    corio_close(p[1]); /* the receiver holds its own copy */
    char buf[32];
    size_t got = 0;
    ssize_t n;
    while ((n = corio_read(p[0], buf + got, sizeof buf - got)) > 0)
        got += (size_t)n;
    cr_expect_eq(n, 0, "EOF once the passed copy is closed");
    cr_expect_eq(got, 13);
    cr_expect(memcmp(buf, "via passed fd", 13) == 0);
    corio_close(p[0]);
    corio_await(corio_task_future(r), NULL);
    corio_task_unref(r);
    return NULL;
}

Test(io_unix, scm_rights_passes_an_fd, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int fds[2];
    unix_pair(SOCK_STREAM, fds);
    run_with_pair(pass_main, fds);
    FD_CHECK_END();
}

/* ---- a datagram pair keeps message boundaries ---- */

static void *dgram_main(void *arg)
{
    int *fds = arg;
    char buf[64];
    cr_expect_eq(corio_sock_recv(fds[1], buf, sizeof buf, MSG_DONTWAIT), -EAGAIN,
                 "MSG_DONTWAIT passes through: nothing queued yet");
    cr_expect_eq(corio_sock_send(fds[0], "ab", 2, 0), 2);
    cr_expect_eq(corio_sock_send(fds[0], "cde", 3, 0), 3);
    cr_expect_eq(corio_sock_recv(fds[1], buf, sizeof buf, 0), 2);
    cr_expect_eq(corio_sock_recv(fds[1], buf, sizeof buf, 0), 3);
    return NULL;
}

Test(io_unix, socketpair_dgram_boundaries, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int fds[2];
    unix_pair(SOCK_DGRAM, fds);
    run_with_pair(dgram_main, fds);
    FD_CHECK_END();
}
