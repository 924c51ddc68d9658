/* corio_sock_splice: a relay between two sockets through a pipe. Everything the source sends
 * arrives in order at the far end (TCP over IPv4 and IPv6, Unix stream sockets), a count stops
 * the relay exactly there, an end of stream stops it early, either side's failure is its error,
 * and a cancelled relay says how much went and leaves no pipe behind. */
#include "io_call_helpers.h"

#include <sys/eventfd.h>

#define BIG ((size_t)8 << 20)
#define SEED 0x5911ce

/* Two connected pairs: the relay reads src[1] and writes dst[0]; the test's peers are src[0]
 * (the sender) and dst[1] (the receiver). */
typedef struct relay_case {
    int src[2], dst[2];
    size_t size;  /* bytes the sender sends before it shuts its side down */
    int rst;      /* the sender resets its connection after the bytes instead */
    size_t count; /* the relay's count */
    ssize_t rc;   /* what the relay returned (1 while it runs) */
    size_t moved;
    size_t got; /* bytes the receiver read */
    int bad;    /* bytes out of order at the receiver */
} relay_case;

static void make_pairs(relay_case *c, int kind)
{
    int *pairs[2] = {c->src, c->dst};
    for (int i = 0; i < 2; i++) {
        if (kind == AF_UNIX)
            unix_pair(SOCK_STREAM, pairs[i]);
        else
            tcp_pair(kind == AF_INET6, pairs[i]);
    }
}

static void *sender(void *arg)
{
    relay_case *c = arg;
    enum { CHUNK = 64 * 1024 };
    unsigned char *buf = malloc(CHUNK);
    for (size_t off = 0; off < c->size;) {
        size_t n = c->size - off < CHUNK ? c->size - off : CHUNK;
        for (size_t i = 0; i < n; i++)
            buf[i] = stream_byte(SEED, off + i);
        ssize_t rc = corio_sock_sendall(c->src[0], buf, n, 0);
        if (rc < 0)
            break;
        off += n;
    }
    free(buf);
    if (c->rst) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(c->src[0], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        corio_close(c->src[0]);
        c->src[0] = -1;
    } else {
        corio_sock_shutdown(c->src[0], SHUT_WR);
    }
    return NULL;
}

/* Reads dst[1] to its end, checking each byte against the sender's stream. */
static void *receiver(void *arg)
{
    relay_case *c = arg;
    enum { CHUNK = 64 * 1024 };
    unsigned char *buf = malloc(CHUNK);
    for (;;) {
        ssize_t n = corio_sock_recv(c->dst[1], buf, CHUNK, 0);
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            c->bad += buf[i] != stream_byte(SEED, c->got + (size_t)i);
        c->got += (size_t)n;
    }
    free(buf);
    return NULL;
}

static void *relay_main(void *arg)
{
    relay_case *c = arg;
    corio_task *s = spawn(sender, c), *r = spawn(receiver, c);
    c->rc = corio_sock_splice(c->src[1], c->dst[0], c->count, &c->moved);
    corio_sock_shutdown(c->dst[0], SHUT_WR); /* the end passed on, as a proxy does */
    corio_await(corio_task_future(s), NULL);
    corio_await(corio_task_future(r), NULL);
    corio_task_unref(s);
    corio_task_unref(r);
    return NULL;
}

static void close_all(relay_case *c)
{
    int *fds[4] = {&c->src[0], &c->src[1], &c->dst[0], &c->dst[1]};
    for (int i = 0; i < 4; i++)
        if (*fds[i] >= 0)
            corio_close(*fds[i]);
}

/* Runs fn(c) as the main task over new pairs of `kind`; no fd may stay open. */
static void run_case_with(relay_case *c, int kind, corio_coro_fn fn)
{
    FD_CHECK_BEGIN();
    make_pairs(c, kind);
    c->rc = 1;
    cr_assert_eq(corio_run(fn, c, NULL, NULL), 0);
    close_all(c);
    FD_CHECK_END();
}

static void run_case(relay_case *c, int kind) { run_case_with(c, kind, relay_main); }

static void whole_stream(int kind)
{
    relay_case c = {.size = BIG};
    run_case(&c, kind);
    cr_expect_eq(c.rc, (ssize_t)BIG, "rc %zd", c.rc);
    cr_expect_eq(c.moved, BIG);
    cr_expect_eq(c.got, BIG, "the receiver got %zu", c.got);
    cr_expect_eq(c.bad, 0);
}

Test(io_splice, tcp_whole_stream, .timeout = 60) { whole_stream(AF_INET); }
Test(io_splice, tcp6_whole_stream, .timeout = 60) { whole_stream(AF_INET6); }
Test(io_splice, unix_whole_stream, .timeout = 60) { whole_stream(AF_UNIX); }

/* A count stops the relay there: the bytes after it stay in the source for the next reader. */
static void *count_main(void *arg)
{
    relay_case *c = arg;
    corio_task *s = spawn(sender, c);
    c->rc = corio_sock_splice(c->src[1], c->dst[0], c->count, &c->moved);
    corio_await(corio_task_future(s), NULL);
    corio_task_unref(s);
    char *rest = malloc(c->size);
    size_t left = 0;
    ssize_t n;
    while ((n = corio_sock_recv(c->src[1], rest + left, c->size - left, 0)) > 0)
        left += (size_t)n;
    cr_expect_eq(left, c->size - c->count, "the source kept %zu", left);
    for (size_t i = 0; i < left; i++)
        c->bad += (unsigned char)rest[i] != stream_byte(SEED, c->count + i);
    free(rest);
    corio_sock_shutdown(c->dst[0], SHUT_WR);
    receiver(c);
    return NULL;
}

Test(io_splice, count_stops_exactly, .timeout = 30)
{
    relay_case c = {.size = 300000, .count = 100001};
    run_case_with(&c, AF_INET, count_main);
    cr_expect_eq(c.rc, 100001);
    cr_expect_eq(c.moved, 100001);
    cr_expect_eq(c.got, 100001);
    cr_expect_eq(c.bad, 0);
}

Test(io_splice, end_before_count, .timeout = 30)
{
    relay_case c = {.size = 1000, .count = 5000};
    run_case(&c, AF_INET);
    cr_expect_eq(c.rc, 1000);
    cr_expect_eq(c.moved, 1000);
    cr_expect_eq(c.got, 1000);
    cr_expect_eq(c.bad, 0);
}

Test(io_splice, empty_source, .timeout = 30)
{
    relay_case c = {.size = 0};
    run_case(&c, AF_UNIX);
    cr_expect_eq(c.rc, 0);
    cr_expect_eq(c.got, 0);
}

/* The source resets its connection: the bytes before the reset went on, then -ECONNRESET (or
 * its end, where the reset came before the relay read anything). */
Test(io_splice, source_reset, .timeout = 30)
{
    relay_case c = {.size = 100000, .rst = 1};
    run_case(&c, AF_INET);
    cr_expect(c.rc == -ECONNRESET || c.rc >= 0, "rc %zd", c.rc);
    cr_expect_eq(c.got, c.moved, "the receiver got what `moved` says");
    cr_expect_eq(c.bad, 0);
}

/* The receiver is gone: the relay fails with the send's error, and SIGPIPE kills no one. */
static void *gone_main(void *arg)
{
    relay_case *c = arg;
    corio_close(c->dst[1]);
    c->dst[1] = -1;
    corio_task *s = spawn(sender, c);
    c->rc = corio_sock_splice(c->src[1], c->dst[0], 0, &c->moved);
    /* The sender may wait on a full source: stop it. */
    corio_task_cancel(s, NULL);
    corio_await(corio_task_future(s), NULL);
    corio_task_unref(s);
    return NULL;
}

Test(io_splice, destination_gone, .timeout = 30)
{
    relay_case c = {.size = BIG};
    run_case_with(&c, AF_INET, gone_main);
    cr_expect(c.rc == -EPIPE || c.rc == -ECONNRESET, "rc %zd (%s)", c.rc,
              corio_strerror((int)c.rc));
    cr_expect_lt(c.moved, BIG);
}

/* Cancelled while the destination is full: -ECANCELED, and the receiver gets exactly the bytes
 * `moved` counts, in order; the pipe's fds are closed (FD_CHECK). */
static void *splicer(void *arg)
{
    relay_case *c = arg;
    c->rc = corio_sock_splice(c->src[1], c->dst[0], 0, &c->moved);
    return NULL;
}

static void *cancel_main(void *arg)
{
    relay_case *c = arg;
    small_buffers(c->dst[0]);
    small_buffers(c->dst[1]);
    corio_task *s = spawn(sender, c), *t = spawn(splicer, c);
    /* Until the relay has filled the destination and waits for it. */
    size_t seen = (size_t)-1;
    for (int i = 0; i < 500 && c->moved != seen; i++) {
        seen = c->moved;
        corio_sleep(0.02);
    }
    cr_expect_eq(c->rc, 1, "the relay waits for a receiver that reads nothing");
    corio_task_cancel(t, NULL);
    corio_await(corio_task_future(t), NULL);
    corio_task_unref(t);
    corio_task_cancel(s, NULL);
    corio_await(corio_task_future(s), NULL);
    corio_task_unref(s);
    corio_sock_shutdown(c->dst[0], SHUT_WR);
    receiver(c);
    return NULL;
}

Test(io_splice, cancelled_relay_says_how_much_went, .timeout = 30)
{
    relay_case c = {.size = BIG};
    run_case_with(&c, AF_INET, cancel_main);
    cr_expect_eq(c.rc, -ECANCELED);
    cr_expect_gt(c.moved, 0);
    cr_expect_lt(c.moved, BIG);
    cr_expect_eq(c.got, c.moved, "the receiver got %zu, moved says %zu", c.got, c.moved);
    cr_expect_eq(c.bad, 0);
}

/* Misuse: clear errors, `moved` set to 0, nothing read from the source. */
static void *misuse_main(void *arg)
{
    relay_case *c = arg;
    size_t moved = 9;
    cr_expect_eq(corio_sock_splice(-1, c->dst[0], 10, &moved), -EBADF);
    cr_expect_eq(moved, 0);
    cr_expect_eq(corio_sock_splice(c->src[1], -1, 10, NULL), -EBADF);
    cr_expect_eq(corio_sock_splice(99999, c->dst[0], 10, NULL), -EBADF);
    int efd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
    cr_expect_eq(corio_sock_splice(efd, c->dst[0], 10, NULL), -ENOTSOCK);
    corio_sock_send(c->src[0], "x", 1, 0);
    moved = 9;
    cr_expect_eq(corio_sock_splice(c->src[1], efd, 10, &moved), -ENOTSOCK);
    cr_expect_eq(moved, 0);
    char b;
    cr_expect_eq(corio_sock_recv(c->src[1], &b, 1, 0), 1, "the source kept its byte");
    corio_close(efd);
    return NULL;
}

Test(io_splice, misuse, .timeout = 20)
{
    relay_case c = {0};
    run_case_with(&c, AF_UNIX, misuse_main);
    size_t moved = 9;
    cr_expect_eq(corio_sock_splice(0, 1, 1, &moved), CORIO_ENOTASK, "outside a task");
    cr_expect_eq(moved, 0);
}
