/* Cancelling a task blocked in each awaiting call (accept, connect, recv, recvmsg, recvfrom, read
 * on a pipe, wait_readable; send, sendall, sendmsg, write and wait_writable on a full socket): the
 * call returns -ECANCELED, it had no effect on the fd, and the fd stays usable (the data sent
 * later, the next connection, the bytes still queued all arrive). Also timeouts through corio_wait_for, and many cancels in
 * a row leaking nothing. */
#define _GNU_SOURCE /* pipe2 */
#include "io_call_helpers.h"

enum {
    C_ACCEPT, C_CONNECT, C_RECV, C_SEND, C_SENDALL, C_SENDMSG, C_WRITE, C_WRITABLE, C_RECVMSG,
    C_RECVFROM, C_READ, C_READABLE
};

struct victim {
    int kind;
    int fd;
    struct sockaddr_storage addr; /* C_CONNECT */
    socklen_t alen;
    int rc;      /* what the call returned */
    int started; /* the call was entered */
};

static void *blocked_call(void *arg)
{
    struct victim *v = arg;
    static char buf[8192];
    v->started = 1;
    struct iovec iov = {buf, sizeof buf};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    switch (v->kind) {
    case C_ACCEPT: v->rc = corio_sock_accept(v->fd, NULL, NULL); break;
    case C_CONNECT:
        v->rc = corio_sock_connect(v->fd, (struct sockaddr *)&v->addr, v->alen, 10.0);
        break;
    case C_RECV: v->rc = (int)corio_sock_recv(v->fd, buf, sizeof buf, 0); break;
    case C_SEND: v->rc = (int)corio_sock_send(v->fd, buf, sizeof buf, 0); break;
    case C_SENDALL: v->rc = (int)corio_sock_sendall(v->fd, buf, sizeof buf, 0); break;
    case C_SENDMSG: v->rc = (int)corio_sock_sendmsg(v->fd, &m, 0); break;
    case C_WRITE: v->rc = (int)corio_write(v->fd, buf, sizeof buf); break;
    case C_WRITABLE: v->rc = corio_wait_writable(v->fd, 10.0); break;
    case C_RECVMSG: v->rc = (int)corio_sock_recvmsg(v->fd, &m, 0); break;
    case C_RECVFROM:
        v->rc = (int)corio_sock_recvfrom(v->fd, buf, sizeof buf, 0, (struct sockaddr *)&from,
                                         &flen);
        break;
    case C_READ: v->rc = (int)corio_read(v->fd, buf, sizeof buf); break;
    default: v->rc = corio_wait_readable(v->fd, 10.0); break;
    }
    return NULL;
}

static size_t queued_bytes; /* sent into the socket a send test fills */

static int is_send(int kind)
{
    return kind == C_SEND || kind == C_SENDALL || kind == C_SENDMSG || kind == C_WRITE ||
           kind == C_WRITABLE;
}

/* Runs the victim until it blocks, cancels it and checks that the call returned -ECANCELED.
 * A full TCP socket does not always stay full: the kernel frees sent buffers and reopens windows
 * in its own time (which Valgrind and a loaded machine stretch), so a send may find room after
 * all. Then what it sent is counted, the socket filled again, and the call tried again. */
static void cancel_blocked(struct victim *v)
{
    corio_task *t;
    for (int attempt = 0;; attempt++) {
        v->rc = 1;
        t = spawn(blocked_call, v);
        corio_sleep(0.02);
        if (!is_send(v->kind) || !corio_future_done(corio_task_future(t)) || attempt == 20)
            break;
        queued_bytes += v->rc > 0 ? (size_t)v->rc : 0;
        corio_task_unref(t);
        queued_bytes += fill_socket(v->fd);
    }
    cr_expect(v->started && !corio_future_done(corio_task_future(t)), "the call is waiting");
    cr_expect_eq(corio_task_cancel(t, "test"), 1);
    cr_expect_eq(corio_await(corio_task_future(t), NULL), -ECANCELED);
    corio_task_unref(t);
    cr_expect_eq(v->rc, -ECANCELED, "the cancelled call returned %s", corio_strerror(v->rc));
}

static void *send_later(void *arg)
{
    int fd = *(int *)arg;
    corio_sleep(0.02);
    cr_expect_eq(corio_sock_send(fd, "later", 5, 0), 5);
    return NULL;
}

/* After the cancel: data sent later on `peer` is received on fd, whole. */
static void expect_usable_for_reading(int fd, int peer)
{
    corio_task *t = spawn(send_later, &peer);
    char buf[16];
    ssize_t n = corio_sock_recv(fd, buf, sizeof buf, 0);
    cr_expect_eq(n, 5, "the next recv: %s", corio_strerror((int)n));
    cr_expect(n == 5 && memcmp(buf, "later", 5) == 0);
    corio_await(corio_task_future(t), NULL);
    corio_task_unref(t);
}

/* ---- accept ---- */

static void *connect_later(void *arg)
{
    struct victim *v = arg;
    corio_sleep(0.02);
    int fd = corio_socket(AF_INET, SOCK_STREAM, 0);
    cr_expect_eq(corio_sock_connect(fd, (struct sockaddr *)&v->addr, v->alen, 5.0), 0);
    return IV(fd);
}

static void *accept_main(void *arg)
{
    struct victim *v = arg;
    cancel_blocked(v);
    corio_task *c = spawn(connect_later, v);
    int s = corio_sock_accept(v->fd, NULL, NULL);
    cr_expect_geq(s, 0, "the next accept gets the next connection: %s", corio_strerror(s));
    void *cfd = NULL;
    corio_await(corio_task_future(c), &cfd);
    corio_task_unref(c);
    cr_expect_eq(corio_sock_send(VI(cfd), "x", 1, 0), 1);
    char b;
    cr_expect_eq(corio_sock_recv(s, &b, 1, 0), 1);
    corio_close(s);
    corio_close(VI(cfd));
    return NULL;
}

Test(io_cancel, accept, .timeout = 10)
{
    FD_CHECK_BEGIN();
    struct victim v = {.kind = C_ACCEPT};
    v.fd = tcp_listener(0, &v.addr, &v.alen);
    cr_assert_eq(corio_run(accept_main, &v, NULL, NULL), 0);
    corio_close(v.fd);
    FD_CHECK_END();
}

/* ---- connect ---- */

static void *connect_main(void *arg)
{
    struct victim *v = arg;
    cancel_blocked(v);
    return NULL;
}

Test(io_cancel, connect_in_progress, .timeout = 20)
{
    FD_CHECK_BEGIN();
    struct victim v = {.kind = C_CONNECT};
    int l = tcp_listener(0, &v.addr, &v.alen);
    cr_assert_eq(listen(l, 0), 0);
    int filler[16], nfill = 0, stuck = 0;
    for (; nfill < 16 && !stuck; nfill++) {
        filler[nfill] = corio_socket(AF_INET, SOCK_STREAM, 0);
        connect(filler[nfill], (struct sockaddr *)&v.addr, v.alen);
        struct pollfd p = {.fd = filler[nfill], .events = POLLOUT};
        stuck = poll(&p, 1, 200) == 0;
    }
    if (stuck) {
        v.fd = corio_socket(AF_INET, SOCK_STREAM, 0);
        cr_assert_eq(corio_run(connect_main, &v, NULL, NULL), 0);
        corio_close(v.fd);
    }
    for (int i = 0; i < nfill; i++)
        close(filler[i]);
    close(l);
    if (!stuck)
        cr_skip_test("no connect stays in progress here (SYNs to a full backlog not dropped)");
    FD_CHECK_END();
}

/* ---- recv, recvmsg on a stream ---- */

/* Cancels v's call, then recvmsg, each followed by a read of what the peer v[1] sends later. */
static void *recv_main(void *arg)
{
    struct victim *v = arg;
    int peer = v[1].fd;
    cancel_blocked(v);
    expect_usable_for_reading(v->fd, peer);
    /* Again with recvmsg. */
    v->kind = C_RECVMSG;
    cancel_blocked(v);
    expect_usable_for_reading(v->fd, peer);
    return NULL;
}

Test(io_cancel, recv_and_recvmsg, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int fds[2];
    tcp_pair(0, fds);
    struct victim v[2] = {{.kind = C_RECV, .fd = fds[0]}, {.fd = fds[1]}};
    cr_assert_eq(corio_run(recv_main, v, NULL, NULL), 0);
    corio_close(fds[0]);
    corio_close(fds[1]);
    FD_CHECK_END();
}

/* ---- send, sendall on a full socket ---- */

static void *count_received(void *arg)
{
    int fd = *(int *)arg;
    char buf[4096];
    size_t total = 0;
    ssize_t n;
    while ((n = corio_sock_recv(fd, buf, sizeof buf, 0)) > 0)
        total += (size_t)n;
    return (void *)total;
}

static void *send_main(void *arg)
{
    struct victim *v = arg;
    int peer = v[1].fd;
    queued_bytes = fill_socket(v->fd);
    cancel_blocked(v);
    /* The cancelled send added nothing: the peer gets what was queued, then what comes next. */
    corio_task *r = spawn(count_received, &peer);
    static char more[100000];
    cr_expect_eq(corio_sock_sendall(v->fd, more, sizeof more, 0), (ssize_t)sizeof more,
                 "the socket is usable after the cancel");
    corio_sock_shutdown(v->fd, SHUT_WR);
    void *total = NULL;
    corio_await(corio_task_future(r), &total);
    corio_task_unref(r);
    cr_expect_eq((size_t)total, queued_bytes + sizeof more, "received %zu, sent %zu + %zu",
                 (size_t)total, queued_bytes, sizeof more);
    return NULL;
}

static void cancel_send(int kind)
{
    FD_CHECK_BEGIN();
    int fds[2];
    tcp_pair(0, fds);
    small_buffers(fds[0]); /* the peer keeps a wide window, so that draining is quick */
    struct victim v[2] = {{.kind = kind, .fd = fds[0]}, {.fd = fds[1]}};
    cr_assert_eq(corio_run(send_main, v, NULL, NULL), 0);
    corio_close(fds[0]);
    corio_close(fds[1]);
    FD_CHECK_END();
}

Test(io_cancel, send_on_full_socket, .timeout = 10) { cancel_send(C_SEND); }
Test(io_cancel, sendall_on_full_socket, .timeout = 10) { cancel_send(C_SENDALL); }
Test(io_cancel, sendmsg_on_full_socket, .timeout = 10) { cancel_send(C_SENDMSG); }
Test(io_cancel, write_on_full_socket, .timeout = 10) { cancel_send(C_WRITE); }
Test(io_cancel, wait_writable_on_full_socket, .timeout = 10) { cancel_send(C_WRITABLE); }

/* ---- recvfrom, recvmsg on UDP ---- */

Test(io_cancel, recvfrom_and_recvmsg_udp, .timeout = 10)
{
    FD_CHECK_BEGIN();
    struct sockaddr_storage aa, ba;
    socklen_t alen, blen;
    int a = udp_bound(0, &aa, &alen), b = udp_bound(0, &ba, &blen);
    cr_assert_eq(connect(a, (struct sockaddr *)&ba, blen), 0);
    cr_assert_eq(connect(b, (struct sockaddr *)&aa, alen), 0);
    struct victim v[2] = {{.kind = C_RECVFROM, .fd = a}, {.fd = b}};
    cr_assert_eq(corio_run(recv_main, v, NULL, NULL), 0);
    corio_close(a);
    corio_close(b);
    FD_CHECK_END();
}

/* ---- read on a pipe, wait_readable ---- */

static void *write_later(void *arg)
{
    int fd = *(int *)arg;
    corio_sleep(0.02);
    cr_expect_eq(corio_write(fd, "later", 5), 5);
    return NULL;
}

static void *pipe_main(void *arg)
{
    struct victim *v = arg;
    int wfd = v[1].fd;
    cancel_blocked(v);
    v->kind = C_READABLE;
    cancel_blocked(v);
    corio_task *w = spawn(write_later, &wfd);
    cr_expect_eq(corio_wait_readable(v->fd, 5.0), 0, "the next wait wakes");
    char buf[16];
    cr_expect_eq(corio_read(v->fd, buf, sizeof buf), 5, "the next read gets the data");
    corio_await(corio_task_future(w), NULL);
    corio_task_unref(w);
    return NULL;
}

Test(io_cancel, read_pipe_and_wait_readable, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int p[2];
    cr_assert_eq(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    struct victim v[2] = {{.kind = C_READ, .fd = p[0]}, {.fd = p[1]}};
    cr_assert_eq(corio_run(pipe_main, v, NULL, NULL), 0);
    corio_close(p[0]);
    corio_close(p[1]);
    FD_CHECK_END();
}

/* ---- timeouts with corio_wait_for ---- */

static void *recv_task(void *arg)
{
    int fd = *(int *)arg;
    char buf[16];
    ssize_t n = corio_sock_recv(fd, buf, sizeof buf, 0);
    cr_expect_eq(n, -ECANCELED, "the timed-out recv: %s", corio_strerror((int)n));
    return corio_raise((int)n);
}

static void *wait_for_main(void *arg)
{
    int *fds = arg;
    for (int i = 0; i < 3; i++) {
        corio_task *t = spawn(recv_task, &fds[0]);
        int rc = corio_wait_for(corio_task_future(t), 0.02, NULL);
        cr_expect_eq(rc, -ETIMEDOUT, "wait_for: %s", corio_strerror(rc));
        cr_expect(corio_future_cancelled(corio_task_future(t)));
        corio_task_unref(t);
    }
    expect_usable_for_reading(fds[0], fds[1]);
    /* A wait_for that does not time out gives the task's result. */
    corio_task *t = spawn(send_later, &fds[1]);
    cr_expect_eq(corio_wait_for(corio_task_future(t), 5.0, NULL), 0);
    corio_task_unref(t);
    char buf[16];
    cr_expect_eq(corio_sock_recv(fds[0], buf, sizeof buf, 0), 5);
    return NULL;
}

Test(io_cancel, wait_for_timeout_on_recv, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int fds[2];
    tcp_pair(0, fds);
    run_with_pair(wait_for_main, fds);
    FD_CHECK_END();
}

/* ---- many cancels, both directions, leak nothing ---- */

static void *many_main(void *arg)
{
    int *fds = arg;
    fill_socket(fds[0]);
    for (int i = 0; i < 500; i++) {
        struct victim r = {.kind = C_RECV, .fd = fds[0]}, s = {.kind = C_SEND, .fd = fds[0]};
        corio_task *tr = spawn(blocked_call, &r);
        corio_task *ts = spawn(blocked_call, &s);
        corio_sleep(0);
        corio_sleep(0);
        if (corio_future_done(corio_task_future(ts))) { /* the kernel made room: fill again */
            cr_expect_gt(s.rc, 0, "round %d: send %d", i, s.rc);
            corio_task_cancel(tr, NULL);
            corio_await(corio_task_future(tr), NULL);
            corio_task_unref(tr);
            corio_task_unref(ts);
            fill_socket(fds[0]);
            continue;
        }
        corio_task_cancel(i % 2 ? tr : ts, NULL);
        corio_task_cancel(i % 2 ? ts : tr, NULL);
        cr_expect_eq(corio_await(corio_task_future(tr), NULL), -ECANCELED);
        cr_expect_eq(corio_await(corio_task_future(ts), NULL), -ECANCELED);
        corio_task_unref(tr);
        corio_task_unref(ts);
        if (r.rc != -ECANCELED || s.rc != -ECANCELED) {
            cr_expect_fail("round %d: recv %d send %d", i, r.rc, s.rc);
            break;
        }
    }
    drain_socket(fds[1]);
    expect_usable_for_reading(fds[0], fds[1]);
    return NULL;
}

Test(io_cancel, many_cancels_both_directions, .timeout = 30)
{
    FD_CHECK_BEGIN();
    int fds[2];
    tcp_pair(0, fds);
    small_buffers(fds[0]);
    small_buffers(fds[1]);
    run_with_pair(many_main, fds);
    FD_CHECK_END();
}

/* ---- a cancelled task that is still blocked when the loop closes ---- */

static void *leave_blocked(void *arg)
{
    int *fds = arg;
    /* Fire and forget: corio_run cancels it when main returns; its recv must let go. */
    cr_expect_eq(corio_create_task(NULL, NULL, recv_task, &fds[0], NULL), 0);
    corio_sleep(0.01);
    return NULL;
}

Test(io_cancel, pending_recv_cancelled_by_run, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int fds[2];
    tcp_pair(0, fds);
    run_with_pair(leave_blocked, fds);
    FD_CHECK_END();
}

/* ---- the loop closes under a blocked call and an installed reader ---- */

static void never_called(int fd, void *arg)
{
    (void)arg;
    cr_expect_fail("reader called for fd %d", fd);
}

static void *recv_forever(void *arg)
{
    int fd = *(int *)arg;
    char buf[16];
    ssize_t n = corio_sock_recv(fd, buf, sizeof buf, 0);
    cr_expect_eq(n, -ECANCELED, "recv in a task destroyed by loop close: %s",
                 corio_strerror((int)n));
    n = corio_sock_recv(fd, buf, sizeof buf, 0);
    cr_expect_eq(n, -ECANCELED, "and every await after it");
    return NULL;
}

Test(io_cancel, loop_close_under_blocked_recv_and_reader, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int fds[2];
    tcp_pair(0, fds);
    corio_loop *loop = new_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, recv_forever, &fds[0], NULL), 0);
    cr_assert_eq(corio_loop_add_reader(loop, fds[1], never_called, NULL), 0);
    run_once(loop);
    run_once(loop);
    cr_assert_not(corio_future_done(corio_task_future(t)));
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(cap.n, 1, "the pending task is reported");
    cr_assert(corio_future_done(corio_task_future(t)), "the task was destroyed with the loop");
    corio_task_unref(t);
    /* Closed, not freed: the loop is still a valid object until corio_loop_free. */
    cr_assert_eq(corio_loop_is_closed(loop), 1);
    cr_assert_eq(corio_loop_close(loop), 0, "a second close does nothing");
    cr_assert_eq(cap.n, 1);
    cr_assert_eq(corio_loop_free(loop), 0);
    corio_close(fds[0]);
    corio_close(fds[1]);
    FD_CHECK_END();
}
