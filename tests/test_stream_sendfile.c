/* corio_writer_sendfile (asyncio's loop.sendfile on a transport): buffered bytes go first, then
 * the file; other writes are -EBUSY meanwhile; a close lets it finish, an abort stops it; a bad
 * file leaves the connection as it was; a cancelled send breaks it. On each backend, plain and
 * over TLS (the test relay of stream_helpers.h). */
#include "fs_helpers.h"
#include "stream_helpers.h"

#define HEAD ((size_t)8 << 20) /* more than the sockets take: part of it stays buffered */
#define SIZE ((size_t)(3u << 20) + 777)
#define BIG_SIZE ((size_t)24 << 20)

static char dir[FS_DIR_MAX];
static char path[PATH_MAX];

static void put_file(size_t size)
{
    fs_tmpdir(dir);
    fs_put_pattern(fs_join(path, dir, "f"), size);
}

/* The peer reads until EOF: `head` bytes of 'h' first, then the file from `from`. */
typedef struct sink {
    size_t head, from, got, bad;
} sink;

static void *sink_main(void *arg)
{
    sink *k = arg;
    unsigned char *buf = malloc(65536);
    for (ssize_t n; (n = corio_sock_recv(peer, buf, 65536, 0)) > 0;) {
        for (ssize_t i = 0; i < n; i++) {
            size_t at = k->got + (size_t)i;
            k->bad += buf[i] != (at < k->head ? 'h' : fs_pat(k->from + at - k->head));
        }
        k->got += (size_t)n;
    }
    free(buf);
    return NULL;
}

static void *after_buffered(void *arg)
{
    (void)arg;
    pair_open(NULL);
    sink k = {.head = HEAD, .from = 100};
    char *head = repeat('h', HEAD);
    cr_expect_eq(corio_writer_write(W, head, HEAD), 0);
    free(head);
    cr_expect_gt(corio_writer_get_write_buffer_size(W), 0, "part of the head is buffered");
    corio_task *t = spawn(sink_main, &k);
    int fd = corio_open(path, O_RDONLY, 0);
    size_t sent = 0;
    ssize_t n = corio_writer_sendfile(W, fd, 100, 0, 0, &sent);
    cr_expect_eq(n, (ssize_t)SIZE - 100, "%zd (%s)", n, corio_strerror((int)n));
    cr_expect_eq(sent, SIZE - 100);
    cr_expect_eq(corio_writer_get_write_buffer_size(W), 0);
    cr_expect_eq(corio_writer_write(W, "tail", 0), 0, "writes work again");
    corio_writer_close(W);
    cr_expect_eq(corio_writer_wait_closed(W), 0);
    cr_expect_eq(join(t, NULL), 0);
    cr_expect_eq(k.got, HEAD + SIZE - 100);
    cr_expect_eq(k.bad, 0, "%zu bytes out of place", k.bad);
    corio_close(fd);
    pair_close();
    return NULL;
}

static void run_case(corio_coro_fn fn, size_t size, int tls);

/* A case plain, and again over the TLS relay. */
#define PLAIN_AND_TLS(name, fn, size)                                                              \
    Test(stream_sendfile, name, .timeout = 90) { run_case(fn, size, 0); }                          \
    Test(stream_sendfile, name##_tls, .timeout = 90) { run_case(fn, size, 1); }

static void run_case(corio_coro_fn fn, size_t size, int tls)
{
    /* Memcheck encrypts a few MiB a minute: the TLS library is checked by test_stream_tls_*. */
    if (tls && size > SIZE && under_valgrind())
        cr_skip_test("%zu MiB over TLS under Valgrind: too slow", size >> 20);
    if (tls)
        setenv("CORIO_STREAM_TLS", "1", 1); /* this test's process only */
    put_file(size);
    RUN_CHECKED(fn, NULL);
    fs_rmtree(dir);
}

PLAIN_AND_TLS(buffered_bytes_first_then_the_file, after_buffered, SIZE)

/* Another task meanwhile: writes, write_eof and a second sendfile are -EBUSY; then a close
 * lets the file finish before the connection ends. */
static void *meddler(void *arg)
{
    int fd = *(int *)arg; /* the file being sent: no open here, whose time Valgrind stretches */
    corio_sleep(0.05); /* the sendfile waits for the peer, which reads slowly */
    cr_expect_eq(corio_writer_write(W, "x", 1), -EBUSY);
    cr_expect_eq(corio_writer_write_eof(W), -EBUSY);
    cr_expect_eq(corio_writer_sendfile(W, fd, 0, 1, 0, NULL), -EBUSY);
    cr_expect_eq(corio_writer_close(W), 0);
    return NULL;
}

static void *slow_sink(void *arg)
{
    sink *k = arg;
    corio_sleep(0.2);
    return sink_main(k);
}

static void *busy_then_close(void *arg)
{
    (void)arg;
    pair_open(NULL);
    sink k = {0};
    /* Opened before the meddler starts its clock: an open on the executor can take longer than
     * its 50 ms under Valgrind, and the sendfile must be under way when it meddles. */
    int fd = corio_open(path, O_RDONLY, 0);
    corio_task *m = spawn(meddler, &fd), *t = spawn(slow_sink, &k);
    ssize_t n = corio_writer_sendfile(W, fd, 0, 0, 0, NULL);
    cr_expect_eq(n, (ssize_t)BIG_SIZE, "the close waited: %s", corio_strerror((int)n));
    cr_expect_eq(join(m, NULL), 0);
    cr_expect_eq(corio_writer_wait_closed(W), 0);
    cr_expect_eq(join(t, NULL), 0);
    cr_expect_eq(k.got, BIG_SIZE);
    cr_expect_eq(k.bad, 0);
    corio_close(fd);
    pair_close();
    return NULL;
}

PLAIN_AND_TLS(other_writes_are_busy_and_close_waits, busy_then_close, BIG_SIZE)

/* An abort stops a sendfile that waits for a peer that reads nothing: it returns, nothing leaks,
 * no fd stays open (RUN_CHECKED counts them). */
static void *aborter(void *arg)
{
    (void)arg;
    corio_sleep(0.1);
    corio_writer_abort(W);
    return NULL;
}

static void *abort_stops(void *arg)
{
    (void)arg;
    pair_open(NULL);
    corio_task *a = spawn(aborter, NULL);
    int fd = corio_open(path, O_RDONLY, 0);
    size_t sent = 0;
    ssize_t n = corio_writer_sendfile(W, fd, 0, 0, 0, &sent);
    cr_expect_lt(n, 0, "%zd", n);
    cr_expect_lt(sent, BIG_SIZE);
    cr_expect_eq(join(a, NULL), 0);
    cr_expect_lt(corio_writer_write(W, "x", 1), 0, "the connection is gone");
    corio_close(fd);
    pair_close();
    return NULL;
}

PLAIN_AND_TLS(abort_stops_it, abort_stops, BIG_SIZE)

/* A cancelled sendfile that sent part of the file breaks the connection (no gap for the peer);
 * a bad file leaves it as it was. */
static ssize_t sender_rc;

static void *sender(void *arg)
{
    int *fd = arg;
    sender_rc = corio_writer_sendfile(W, *fd, 0, 0, 0, NULL);
    return NULL;
}

static void *cancel_and_errors(void *arg)
{
    (void)arg;
    pair_open(NULL);
    cr_expect_eq(corio_writer_sendfile(W, -1, 0, 0, 0, NULL), -EBADF);
    cr_expect_eq(corio_writer_sendfile(W, 0, -2, 0, 0, NULL), -EINVAL);
    cr_expect_eq(corio_writer_sendfile(W, 0, 0, 0, 4, NULL), -EINVAL, "unknown flag");
    int fd = corio_open(path, O_RDONLY, 0);
    if (stream_tls())
        cr_expect_eq(corio_writer_sendfile(W, fd, 0, 0, CORIO_SENDFILE_NO_FALLBACK, NULL),
                     -ENOTSUP, "TLS cannot sendfile");
    cr_expect_eq(corio_writer_write(W, "ok", 2), 0, "the connection is as it was");
    char buf[2];
    cr_expect_eq(corio_sock_recv(peer, buf, 2, 0), 2);
    corio_task *t = spawn(sender, &fd);
    corio_sleep(0.1);
    corio_task_cancel(t, NULL);
    join(t, NULL);
    cr_expect_eq(sender_rc, -ECANCELED);
    cr_expect_lt(corio_writer_write(W, "x", 1), 0, "a gap would follow: the connection broke");
    corio_close(fd);
    pair_close();
    return NULL;
}

PLAIN_AND_TLS(cancel_breaks_bad_file_does_not, cancel_and_errors, BIG_SIZE)

Test(stream_sendfile, null_writer, .timeout = 10)
{
    size_t sent = 5;
    cr_expect_eq(corio_writer_sendfile(NULL, 0, 0, 0, 0, &sent), -EINVAL);
    cr_expect_eq(sent, 0);
}
