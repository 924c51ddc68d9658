/* corio_sock_sendfile (asyncio's sock_sendfile): a file over TCP loopback, warm and cold (the cold
 * one's chunks go from a thread), by offset and count or at the file position; the fallback
 * through a buffer for a pipe and a character device; a peer that goes away and a cancelled send
 * say how much went, and exactly that much arrives. On each backend, own-stack and compact. */
#include "fs_helpers.h"
#include "io_call_helpers.h"

/* Over the 1 MiB chunk, and not a whole number of pages. */
#define SIZE ((size_t)(3u << 20) + 12345)
/* More than loopback's socket buffers take (a few MiB), for a send that must wait. */
#define BIG_SIZE ((size_t)24 << 20)

/* Receives on fd until EOF, checking each byte against the file from offset `from`. */
typedef struct sink {
    int fd;
    size_t from, got, bad;
} sink;

static void *sink_main(void *arg)
{
    sink *k = arg;
    unsigned char *buf = malloc(65536);
    for (ssize_t n; (n = corio_sock_recv(k->fd, buf, 65536, 0)) > 0;) {
        for (ssize_t i = 0; i < n; i++)
            k->bad += buf[i] != fs_pat(k->from + k->got + (size_t)i);
        k->got += (size_t)n;
    }
    free(buf);
    return NULL;
}

typedef struct sf_case {
    char dir[FS_DIR_MAX];
    char path[PATH_MAX];
    int cold;
    size_t size; /* 0: SIZE */
} sf_case;

/* Sends [offset, offset + count) of the file (offset -1: from position pos) to a sink over TCP;
 * checks what arrived and returns what corio_sock_sendfile returned. */
static ssize_t send_to_sink(sf_case *c, off_t offset, off_t pos, size_t count, size_t *sent)
{
    int p[2];
    tcp_pair(0, p);
    int fd = corio_open(c->path, O_RDONLY, 0);
    cr_expect_geq(fd, 0);
    cr_expect_eq(lseek(fd, pos, SEEK_SET), pos);
    sink k = {.fd = p[1], .from = (size_t)(offset >= 0 ? offset : pos)};
    corio_task *t = spawn(sink_main, &k);
    ssize_t n = corio_sock_sendfile(p[0], fd, offset, count, 0, sent);
    corio_sock_shutdown(p[0], SHUT_WR);
    corio_await(corio_task_future(t), NULL);
    corio_task_unref(t);
    cr_expect_eq(k.got, n >= 0 ? (size_t)n : *sent, "received %zu", k.got);
    cr_expect_eq(k.bad, 0, "%zu bytes differ from the file", k.bad);
    cr_expect_eq(lseek(fd, 0, SEEK_CUR), offset == -1 ? pos + (off_t)k.got : pos,
                 "the position moves only for offset -1");
    corio_close(fd);
    corio_close(p[0]);
    corio_close(p[1]);
    return n;
}

static void *whole_main(void *arg)
{
    sf_case *c = arg;
    if (c->cold)
        fs_make_cold(c->path); /* then sendfile goes to a thread */
    size_t sent = 1;
    cr_expect_eq(send_to_sink(c, 0, 0, 0, &sent), (ssize_t)SIZE, "count 0: the whole file");
    cr_expect_eq(sent, SIZE);
    return NULL;
}

static void *ranges_main(void *arg)
{
    sf_case *c = arg;
    size_t sent;
    cr_expect_eq(send_to_sink(c, 1000, 0, 5000, &sent), 5000, "offset and count");
    cr_expect_eq(send_to_sink(c, -1, 777, 100000, &sent), 100000, "at the position");
    cr_expect_eq(send_to_sink(c, -1, 4096, 0, &sent), (ssize_t)SIZE - 4096,
                 "from the position to the end");
    cr_expect_eq(send_to_sink(c, (off_t)SIZE - 10, 0, 1000, &sent), 10,
                 "a count past the end: what the file has");
    cr_expect_eq(send_to_sink(c, (off_t)SIZE + 5, 0, 0, &sent), 0, "an offset past the end");
    cr_expect_eq(sent, 0);
    return NULL;
}

static void sf_run(sf_case *c, corio_coro_fn fn)
{
    FD_CHECK_BEGIN();
    fs_tmpdir(c->dir);
    if (!c->size)
        c->size = SIZE;
    fs_put_pattern(fs_join(c->path, c->dir, "f"), c->size);
    fs_run_both(fn, c);
    fs_rmtree(c->dir);
    FD_CHECK_END();
}

Test(fs_sendfile, warm_file_whole, .timeout = 60)
{
    sf_case c = {0};
    sf_run(&c, whole_main);
}

Test(fs_sendfile, cold_file_whole, .timeout = 60)
{
    sf_case c = {.cold = 1};
    sf_run(&c, whole_main);
}

Test(fs_sendfile, offsets_counts_and_position, .timeout = 60)
{
    sf_case c = {0};
    sf_run(&c, ranges_main);
}

/* A pipe has no offsets: at its position the bytes go through the buffer until its EOF; an
 * offset is -ESPIPE, and so is any use without the fallback. */
static void *pipe_writer(void *arg)
{
    int fd = *(int *)arg;
    unsigned char *b = malloc(300000);
    for (size_t i = 0; i < 300000; i++)
        b[i] = fs_pat(i);
    for (size_t done = 0; done < 300000;) { /* a pipe takes 64 KiB at a time */
        ssize_t n = corio_write(fd, b + done, 300000 - done);
        if (n <= 0) {
            cr_expect_gt(n, 0, "write: %s", corio_strerror((int)n));
            break;
        }
        done += (size_t)n;
    }
    free(b);
    corio_close(fd);
    return NULL;
}

static void *pipe_main(void *arg)
{
    (void)arg;
    int p[2], s[2];
    tcp_pair(0, s);
    cr_expect_eq(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    size_t sent = 1;
    cr_expect_eq(corio_sock_sendfile(s[0], p[0], 0, 10, 0, &sent), -ESPIPE);
    cr_expect_eq(sent, 0);
    cr_expect_eq(corio_sock_sendfile(s[0], p[0], -1, 10, CORIO_SENDFILE_NO_FALLBACK, &sent),
                 -ESPIPE);
    corio_task *w = spawn(pipe_writer, &p[1]);
    sink k = {.fd = s[1]};
    corio_task *r = spawn(sink_main, &k);
    cr_expect_eq(corio_sock_sendfile(s[0], p[0], -1, 0, 0, &sent), 300000, "until the pipe's EOF");
    cr_expect_eq(sent, 300000);
    corio_sock_shutdown(s[0], SHUT_WR);
    corio_await(corio_task_future(w), NULL);
    corio_await(corio_task_future(r), NULL);
    corio_task_unref(w);
    corio_task_unref(r);
    cr_expect_eq(k.got, 300000);
    cr_expect_eq(k.bad, 0);
    corio_close(p[0]);
    corio_close(s[0]);
    corio_close(s[1]);
    return NULL;
}

Test(fs_sendfile, pipe_falls_back_to_read_and_send, .timeout = 30)
{
    FD_CHECK_BEGIN();
    fs_run_both(pipe_main, NULL);
    FD_CHECK_END();
}

/* /dev/zero: sendfile refuses it (-EINVAL), the fallback reads it at the offset. */
static void *chardev_main(void *arg)
{
    (void)arg;
    int s[2];
    tcp_pair(0, s);
    int z = corio_open("/dev/zero", O_RDONLY, 0);
    cr_expect_geq(z, 0);
    size_t sent = 1;
    cr_expect_eq(corio_sock_sendfile(s[0], z, 0, 1000, CORIO_SENDFILE_NO_FALLBACK, &sent), -EINVAL);
    cr_expect_eq(sent, 0);
    cr_expect_eq(corio_sock_sendfile(s[0], z, 0, 70000, 0, &sent), 70000);
    cr_expect_eq(sent, 70000);
    char *buf = malloc(70000);
    size_t got = 0, nonzero = 0;
    while (got < 70000) {
        ssize_t n = corio_sock_recv(s[1], buf, 70000 - got, 0);
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            nonzero += buf[i] != 0;
        got += (size_t)n;
    }
    free(buf);
    cr_expect_eq(got, 70000);
    cr_expect_eq(nonzero, 0);
    corio_close(z);
    corio_close(s[0]);
    corio_close(s[1]);
    return NULL;
}

Test(fs_sendfile, character_device_falls_back, .timeout = 30)
{
    FD_CHECK_BEGIN();
    fs_run_both(chardev_main, NULL);
    FD_CHECK_END();
}

/* The peer reads a little and goes away with bytes unread (a reset): -EPIPE or -ECONNRESET. */
static void *leaver(void *arg)
{
    int *fd = arg;
    char buf[1000];
    size_t got = 0;
    for (ssize_t n; got < sizeof buf && (n = corio_sock_recv(*fd, buf, sizeof buf - got, 0)) > 0;)
        got += (size_t)n;
    cr_expect_eq(got, sizeof buf);
    corio_close(*fd);
    return NULL;
}

static void *gone_main(void *arg)
{
    sf_case *c = arg;
    int s[2];
    tcp_pair(0, s);
    int fd = corio_open(c->path, O_RDONLY, 0);
    corio_task *t = spawn(leaver, &s[1]);
    size_t sent = 0;
    ssize_t n = corio_sock_sendfile(s[0], fd, 0, 0, 0, &sent);
    cr_expect(n == -EPIPE || n == -ECONNRESET, "%zd (%s)", n, corio_strerror((int)n));
    cr_expect_geq(sent, 1000);
    cr_expect_lt(sent, BIG_SIZE);
    corio_await(corio_task_future(t), NULL);
    corio_task_unref(t);
    corio_close(fd);
    corio_close(s[0]);
    return NULL;
}

Test(fs_sendfile, peer_gone_is_an_error, .timeout = 30)
{
    sf_case c = {.size = BIG_SIZE};
    sf_run(&c, gone_main);
}

/* Cancelled while the socket is full: -ECANCELED, `sent` says how much went, and the peer gets
 * exactly that much, in order. */
typedef struct cancel_case {
    int sock, fd;
    size_t sent;
    ssize_t rc;
} cancel_case;

static void *cancel_sender(void *arg)
{
    cancel_case *k = arg;
    k->rc = corio_sock_sendfile(k->sock, k->fd, 0, 0, 0, &k->sent);
    return NULL;
}

static void *cancel_main(void *arg)
{
    sf_case *c = arg;
    int s[2];
    tcp_pair(0, s);
    cancel_case k = {.sock = s[0], .fd = corio_open(c->path, O_RDONLY, 0), .rc = 1};
    corio_task *t = spawn(cancel_sender, &k);
    /* Until the sender has filled the socket and waits. */
    for (int i = 0; i < 200 && k.rc == 1; i++)
        corio_sleep(0.01);
    cr_expect_eq(k.rc, 1, "the send waits for a peer that reads nothing");
    corio_task_cancel(t, NULL);
    corio_await(corio_task_future(t), NULL);
    corio_task_unref(t);
    cr_expect_eq(k.rc, -ECANCELED);
    cr_expect_gt(k.sent, 0);
    cr_expect_lt(k.sent, BIG_SIZE);
    corio_sock_shutdown(s[0], SHUT_WR);
    sink r = {.fd = s[1]};
    sink_main(&r);
    cr_expect_eq(r.got, k.sent, "what arrived is what `sent` says");
    cr_expect_eq(r.bad, 0);
    corio_close(k.fd);
    corio_close(s[0]);
    corio_close(s[1]);
    return NULL;
}

Test(fs_sendfile, cancelled_send_says_how_much_went, .timeout = 30)
{
    sf_case c = {.size = BIG_SIZE};
    sf_run(&c, cancel_main);
}

/* Misuse: clear errors, `sent` set to 0, nothing sent. */
static void *misuse_main(void *arg)
{
    sf_case *c = arg;
    int s[2];
    tcp_pair(0, s);
    int fd = corio_open(c->path, O_RDONLY, 0);
    size_t sent = 9;
    cr_expect_eq(corio_sock_sendfile(-1, fd, 0, 10, 0, &sent), -EBADF);
    cr_expect_eq(sent, 0);
    cr_expect_eq(corio_sock_sendfile(s[0], -1, 0, 10, 0, NULL), -EBADF);
    cr_expect_eq(corio_sock_sendfile(s[0], 99999, 0, 10, 0, NULL), -EBADF);
    cr_expect_eq(corio_sock_sendfile(s[0], fd, -2, 10, 0, NULL), -EINVAL);
    cr_expect_eq(corio_sock_sendfile(s[0], fd, 0, 10, 2, NULL), -EINVAL, "unknown flag");
    cr_expect_eq(corio_sock_sendfile(fd, fd, 0, 10, 0, NULL), -EBADF, "into a read-only file");
    char b;
    cr_expect_eq(corio_sock_recv(s[1], &b, 1, MSG_DONTWAIT), -EAGAIN, "nothing was sent");
    corio_close(fd);
    corio_close(s[0]);
    corio_close(s[1]);
    return NULL;
}

Test(fs_sendfile, misuse, .timeout = 20)
{
    sf_case c = {0};
    sf_run(&c, misuse_main);
    size_t sent = 9;
    cr_expect_eq(corio_sock_sendfile(1, 0, 0, 1, 0, &sent), CORIO_ENOTASK, "outside a task");
    cr_expect_eq(sent, 0);
}
