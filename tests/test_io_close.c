/* corio_close on an fd that tasks wait on: each waiter (recv, send on a full socket, accept,
 * wait_readable, connect in progress) returns -EBADF promptly, its callbacks are dropped, and a
 * new fd given the same number starts clean, including a socket from accept when the old one
 * was closed with plain close(2). */
#define _GNU_SOURCE /* pipe2 */
#include "io_call_helpers.h"

enum { W_RECV, W_SEND, W_ACCEPT, W_READABLE, W_WRITABLE, W_READ, W_CONNECT };

struct waiter {
    int kind;
    int fd;
    struct sockaddr_storage addr; /* W_CONNECT */
    socklen_t alen;
};

static void *wait_in_call(void *arg)
{
    struct waiter *w = arg;
    char buf[4096] = {0};
    switch (w->kind) {
    case W_RECV: return IV(corio_sock_recv(w->fd, buf, sizeof buf, 0));
    case W_SEND: return IV(corio_sock_send(w->fd, buf, sizeof buf, 0));
    case W_ACCEPT: return IV(corio_sock_accept(w->fd, NULL, NULL));
    case W_READABLE: return IV(corio_wait_readable(w->fd, 10.0));
    case W_WRITABLE: return IV(corio_wait_writable(w->fd, 10.0));
    case W_READ: return IV(corio_read(w->fd, buf, sizeof buf));
    default: return IV(corio_sock_connect(w->fd, (struct sockaddr *)&w->addr, w->alen, 10.0));
    }
}

/* Starts the waiter, lets it block, closes its fd and returns what the call returned. */
static void *close_under_waiter(void *arg)
{
    struct waiter *w = arg;
    corio_task *t = spawn(wait_in_call, w);
    corio_sleep(0.02);
    cr_expect_eq(corio_future_done(corio_task_future(t)), 0, "the call is waiting");
    double t0 = now_s();
    cr_expect_eq(corio_close(w->fd), 0);
    void *rc = NULL;
    cr_expect_eq(corio_await(corio_task_future(t), &rc), 0);
    cr_expect_lt(now_s() - t0, 2.0, "the waiter woke at once");
    corio_task_unref(t);
    return rc;
}

static void expect_ebadf(struct waiter *w, const char *what)
{
    void *rc = NULL;
    cr_assert_eq(corio_run(close_under_waiter, w, &rc, NULL), 0);
    cr_assert_eq(VI(rc), -EBADF, "%s after corio_close: %s", what, corio_strerror(VI(rc)));
    cr_assert_not(fd_is_open(w->fd), "corio_close closed it");
}

Test(io_close, wakes_recv, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int fds[2];
    tcp_pair(0, fds);
    struct waiter w = {.kind = W_RECV, .fd = fds[0]};
    expect_ebadf(&w, "recv");
    corio_close(fds[1]);
    FD_CHECK_END();
}

Test(io_close, wakes_send_on_full_socket, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int fds[2];
    tcp_pair(0, fds);
    small_buffers(fds[0]);
    small_buffers(fds[1]);
    fill_socket(fds[0]);
    struct waiter w = {.kind = W_SEND, .fd = fds[0]};
    expect_ebadf(&w, "send");
    corio_close(fds[1]);
    FD_CHECK_END();
}

Test(io_close, wakes_accept, .timeout = 10)
{
    FD_CHECK_BEGIN();
    struct waiter w = {.kind = W_ACCEPT};
    w.fd = tcp_listener(0, &w.addr, &w.alen);
    expect_ebadf(&w, "accept");
    FD_CHECK_END();
}

Test(io_close, wakes_wait_readable_and_read, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int p[2];
    cr_assert_eq(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    struct waiter w = {.kind = W_READABLE, .fd = p[0]};
    expect_ebadf(&w, "wait_readable");
    corio_close(p[1]);
    cr_assert_eq(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    w.kind = W_READ;
    w.fd = p[0];
    expect_ebadf(&w, "read");
    corio_close(p[1]);
    FD_CHECK_END();
}

/* A connect that stays in progress: a listener with a full backlog drops the SYN. */
Test(io_close, wakes_connect_in_progress, .timeout = 20)
{
    FD_CHECK_BEGIN();
    struct sockaddr_storage addr;
    socklen_t alen;
    int l = tcp_listener(0, &addr, &alen);
    cr_assert_eq(listen(l, 0), 0);
    int filler[16], nfill = 0, pending = -1;
    for (; nfill < 16; nfill++) {
        int fd = corio_socket(AF_INET, SOCK_STREAM, 0);
        int rc = connect(fd, (struct sockaddr *)&addr, alen);
        cr_assert(rc == 0 || errno == EINPROGRESS);
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        if (poll(&p, 1, 200) == 0) {
            close(fd); /* this one hangs: the next one, made by the task, will too */
            pending = 1;
            break;
        }
        filler[nfill] = fd;
    }
    if (pending > 0) {
        struct waiter w = {.kind = W_CONNECT, .addr = addr, .alen = alen};
        w.fd = corio_socket(AF_INET, SOCK_STREAM, 0);
        expect_ebadf(&w, "connect");
    }
    for (int i = 0; i < nfill; i++)
        close(filler[i]);
    close(l);
    if (pending < 0)
        cr_skip_test("no connect stays in progress here (the kernel does not drop SYNs to a "
                     "full backlog)");
    FD_CHECK_END();
}

/* ---- both directions and callbacks at once ---- */

static int cb_calls;
static void count_cb(int fd, void *arg)
{
    (void)fd;
    (void)arg;
    cb_calls++;
}

static void *close_everything_main(void *arg)
{
    int *fds = arg;
    corio_loop *loop = corio_get_running_loop();
    struct waiter r = {.kind = W_RECV, .fd = fds[0]}, s = {.kind = W_SEND, .fd = fds[0]};
    corio_task *tr = spawn(wait_in_call, &r);
    corio_task *ts = spawn(wait_in_call, &s);
    corio_sleep(0.02);
    cr_expect_eq(corio_loop_add_reader(loop, fds[0], count_cb, NULL), 0);
    cr_expect_eq(corio_loop_add_writer(loop, fds[0], count_cb, NULL), 0);
    /* The peer makes it readable: the callbacks are queued, then the fd closes before they
     * run; they must not run on the closed fd. */
    cr_expect_eq(send(fds[1], "x", 1, 0), 1);
    cr_expect_eq(corio_close(fds[0]), 0);
    void *rv = NULL, *sv = NULL;
    corio_await(corio_task_future(tr), &rv);
    corio_await(corio_task_future(ts), &sv);
    corio_task_unref(tr);
    corio_task_unref(ts);
    /* recv may have won the race for the byte; otherwise it saw the close. */
    cr_expect(VI(rv) == 1 || VI(rv) == -EBADF, "recv: %d", VI(rv));
    cr_expect_eq(VI(sv), -EBADF, "send: %s", corio_strerror(VI(sv)));
    int seen = cb_calls;
    corio_sleep(0.02);
    cr_expect_eq(cb_calls, seen, "no callback after the close");
    cr_expect_eq(corio_loop_remove_reader(loop, fds[0]), 0, "the close removed the reader");
    cr_expect_eq(corio_loop_remove_writer(loop, fds[0]), 0, "and the writer");
    return NULL;
}

Test(io_close, wakes_both_directions_and_drops_callbacks, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int fds[2];
    tcp_pair(0, fds);
    small_buffers(fds[0]);
    small_buffers(fds[1]);
    fill_socket(fds[0]);
    cr_assert_eq(corio_run(close_everything_main, fds, NULL, NULL), 0);
    corio_close(fds[1]);
    FD_CHECK_END();
}

/* ---- the same number, reused ---- */

static void *send_later(void *arg)
{
    int fd = *(int *)arg;
    corio_sleep(0.02);
    cr_expect_eq(corio_sock_send(fd, "new", 3, 0), 3);
    return NULL;
}

/* Waits for data on fd (so that its number is registered), from a peer that sends later. */
static ssize_t recv_after_wait(int fd, int peer)
{
    corio_task *t = spawn(send_later, &peer);
    char buf[16];
    ssize_t n = corio_sock_recv(fd, buf, sizeof buf, 0);
    corio_await(corio_task_future(t), NULL);
    corio_task_unref(t);
    return n;
}

static int reuse_same_number;

static void *reuse_main(void *arg)
{
    (void)arg;
    int a[2], b[2];
    /* A stream pair, waited on; then a datagram pair given the same number. */
    unix_pair(SOCK_STREAM, a);
    cr_expect_eq(recv_after_wait(a[0], a[1]), 3);
    int num = a[0];
    corio_close(a[0]);
    unix_pair(SOCK_DGRAM, b);
    reuse_same_number = b[0] == num;
    /* The new fd is a datagram socket: two datagrams queued behind a short read must both be
     * read (a stale stream flag would make the second recv wait for an edge). */
    cr_expect_eq(recv_after_wait(b[0], b[1]), 3);
    cr_expect_eq(corio_sock_send(b[1], "1", 1, 0), 1);
    cr_expect_eq(corio_sock_send(b[1], "2", 1, 0), 1);
    char buf[8];
    cr_expect_eq(corio_sock_recv(b[0], buf, sizeof buf, 0), 1);
    cr_expect_eq(corio_sock_recv(b[0], buf, sizeof buf, 0), 1);
    /* And it can wait again. */
    cr_expect_eq(recv_after_wait(b[0], b[1]), 3);
    corio_close(b[0]);
    corio_close(b[1]);
    corio_close(a[1]);
    return NULL;
}

Test(io_close, same_number_after_corio_close, .timeout = 10)
{
    FD_CHECK_BEGIN();
    cr_assert_eq(corio_run(reuse_main, NULL, NULL, NULL), 0);
    cr_assert(reuse_same_number, "the new socket got the closed one's number");
    FD_CHECK_END();
}

/* close(2) instead of corio_close leaves the loop believing the number is registered (epoll
 * forgets a registration silently when the file closes). A socket that corio_sock_accept returns
 * with that number starts clean; see io.h for other fds. */
static void *plain_close_main(void *arg)
{
    (void)arg;
    struct sockaddr_storage addr;
    socklen_t alen;
    int a[2];
    unix_pair(SOCK_STREAM, a);
    cr_expect_eq(recv_after_wait(a[0], a[1]), 3);
    int l = tcp_listener(0, &addr, &alen);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_expect_eq(connect(c, (struct sockaddr *)&addr, alen), 0);
    fcntl(c, F_SETFL, O_NONBLOCK);
    int num = a[0];
    close(a[0]);
    int b = corio_sock_accept(l, NULL, NULL);
    reuse_same_number = b == num;
    cr_expect_eq(recv_after_wait(b, c), 3, "the accepted socket waits and wakes");
    cr_expect_eq(recv_after_wait(b, c), 3, "twice");
    corio_close(b);
    corio_close(c);
    corio_close(l);
    corio_close(a[1]);
    return NULL;
}

Test(io_close, accept_after_plain_close_of_same_number, .timeout = 10)
{
    FD_CHECK_BEGIN();
    cr_assert_eq(corio_run(plain_close_main, NULL, NULL, NULL), 0);
    cr_assert(reuse_same_number, "the accepted socket got the closed one's number");
    FD_CHECK_END();
}

/* A waiter on the old fd that has not run yet when the number is taken by a new fd with a
 * waiter of its own: each wakes for its own fd. */
static void *reuse_race_main(void *arg)
{
    (void)arg;
    int a[2], b[2];
    tcp_pair(0, a);
    struct waiter w = {.kind = W_RECV, .fd = a[0]};
    corio_task *old = spawn(wait_in_call, &w);
    corio_sleep(0.02);
    corio_close(a[0]);
    tcp_pair(0, b);
    cr_expect_eq(b[0], w.fd, "same number");
    ssize_t n = recv_after_wait(b[0], b[1]);
    cr_expect_eq(n, 3);
    void *rc = NULL;
    corio_await(corio_task_future(old), &rc);
    corio_task_unref(old);
    cr_expect_eq(VI(rc), -EBADF);
    corio_close(a[1]);
    corio_close(b[0]);
    corio_close(b[1]);
    return NULL;
}

Test(io_close, new_fd_while_old_waiter_pending, .timeout = 10)
{
    FD_CHECK_BEGIN();
    cr_assert_eq(corio_run(reuse_race_main, NULL, NULL, NULL), 0);
    FD_CHECK_END();
}

/* ---- outside tasks and bad input ---- */

Test(io_close, outside_a_loop_and_bad_fds, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(corio_close(p[0]), 0, "no loop: plain close(2)");
    cr_assert_eq(corio_close(p[0]), -EBADF, "twice");
    cr_assert_eq(corio_close(-1), -EBADF);
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_set_event_loop(loop), 0);
    cr_assert_eq(corio_close(p[1]), 0, "a current loop that never saw the fd");
    cr_assert_eq(corio_loop_free(loop), 0);
    FD_CHECK_END();
}

/* A pipe waited on (so registered), closed with close(2), and a new pipe given the same number:
 * add_reader on the new one works and its reader is called. */
static int reader_calls;
static void count_reader(int fd, void *arg)
{
    (void)arg;
    char c;
    if (read(fd, &c, 1) == 1)
        reader_calls++;
}

static void *plain_close_reader_main(void *arg)
{
    (void)arg;
    corio_loop *loop = corio_get_running_loop();
    int p[2], q[2];
    cr_expect_eq(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    cr_expect_eq(corio_wait_readable(p[0], 0.01), -ETIMEDOUT, "registers the read end");
    close(p[0]);
    close(p[1]);
    cr_expect_eq(pipe2(q, O_NONBLOCK | O_CLOEXEC), 0);
    cr_expect_eq(q[0], p[0], "same number");
    int rc = corio_loop_add_reader(loop, q[0], count_reader, NULL);
    cr_expect_eq(rc, 0, "add_reader on the new fd: %s", corio_strerror(rc));
    cr_expect_eq(write(q[1], "ab", 2), 2);
    for (int i = 0; i < 100 && reader_calls < 2; i++)
        corio_sleep(0.001);
    cr_expect_eq(reader_calls, 2);
    corio_loop_remove_reader(loop, q[0]);
    corio_close(q[0]);
    corio_close(q[1]);
    return NULL;
}

Test(io_close, add_reader_after_plain_close_of_same_number, .timeout = 10)
{
    FD_CHECK_BEGIN();
    cr_assert_eq(corio_run(plain_close_reader_main, NULL, NULL, NULL), 0);
    FD_CHECK_END();
}
