/* The writer: immediate sends, buffering, drain between the water marks (a peer that never
 * reads keeps the buffer bounded), write_eof, close and abort, a peer that goes away mid-write,
 * bad input, and a task cancelled in drain and in wait_closed. */
#include "stream_helpers.h"

static void *sends_at_once(void *arg)
{
    (void)arg;
    pair_open(NULL);
    cr_expect_eq(corio_writer_write(W, "hello", 5), 0);
    cr_expect_eq(corio_writer_get_write_buffer_size(W), 0, "sent without a task switch");
    cr_expect_eq(corio_writer_drain(W), 0);
    char buf[8] = {0};
    cr_expect_eq(corio_sock_recv(peer, buf, sizeof buf, 0), 5);
    cr_expect_str_eq(buf, "hello");
    cr_expect_eq(corio_writer_write(W, "", 0), 0);
    int fd = corio_writer_get_fd(W);
    cr_expect_geq(fd, 0);
    struct sockaddr_storage a, b;
    socklen_t alen = sizeof a, blen = sizeof b;
    cr_expect_eq(corio_writer_get_peername(W, (struct sockaddr *)&a, &alen), 0);
    cr_expect_eq(getsockname(peer, (struct sockaddr *)&b, &blen), 0);
    cr_expect_eq(alen, blen);
    if (!stream_tls()) /* over TLS, peer is the relay's far end */
        cr_expect(memcmp(&a, &b, alen) == 0, "peername is the peer's address");
    cr_expect_eq(corio_writer_get_sockname(W, (struct sockaddr *)&a, &alen), 0);
    corio_writer_close(W);
    cr_expect_eq(corio_writer_get_fd(W), -1);
    cr_expect_eq(corio_writer_get_peername(W, (struct sockaddr *)&a, &alen), -EBADF);
    pair_close();
    return NULL;
}
Test(stream_writer, write_sends_at_once, .timeout = 10) { RUN_CHECKED(sends_at_once, NULL); }

/* More than loopback's socket buffers take (a few MiB), so that the rest stays in the writer's
 * buffer. (Shrinking SO_SNDBUF / SO_RCVBUF instead makes loopback TCP crawl: delayed ACKs.) */
#define BIG (16u << 20)

#define CHUNK 16384
static size_t written, max_buffered;

static void *writer_loop(void *arg)
{
    (void)arg;
    char *chunk = repeat('w', CHUNK);
    int rc = 0;
    for (;;) {
        rc = corio_writer_write(W, chunk, CHUNK);
        if (rc < 0)
            break;
        written += CHUNK;
        size_t b = corio_writer_get_write_buffer_size(W);
        if (b > max_buffered)
            max_buffered = b;
        rc = corio_writer_drain(W);
        if (rc < 0)
            break;
    }
    free(chunk);
    return IV(rc);
}

static void *backpressure(void *arg)
{
    (void)arg;
    pair_open(NULL);
    corio_task *t = spawn(writer_loop, NULL);
    size_t high, low;
    cr_expect_eq(corio_writer_get_write_buffer_limits(W, &high, &low), 0);
    cr_expect_eq(high, 65536);
    cr_expect_eq(low, 16384);
    /* The peer reads nothing, so the writer comes to a stop once the sockets (and, over TLS,
     * the relay) are full: how soon depends on the machine (under qemu-user, seconds). */
    size_t at_pause = (size_t)-1;
    for (int i = 0; i < 100 && written != at_pause; i++) {
        at_pause = written;
        corio_sleep(0.1);
    }
    cr_expect_eq(written, at_pause, "the writer waits in drain");
    cr_expect_leq(max_buffered, high + CHUNK, "buffer bounded: %zu", max_buffered);
    /* A drain that waits has seen the buffer above high and not yet below low (over TLS the
     * socket takes whole records, so the buffer may stop between the marks). */
    cr_expect_gt(corio_writer_get_write_buffer_size(W), low, "%zu buffered, %zu written",
                 corio_writer_get_write_buffer_size(W), written);
    /* Cancelled in drain: -ECANCELED, and every byte written still arrives. */
    corio_task_cancel(t, NULL);
    cr_expect_eq(join(t, NULL), -ECANCELED);
    corio_writer_close(W);
    size_t got = peer_recv_all(NULL, 0);
    cr_expect_eq(got, written, "received %zu of %zu", got, written);
    cr_expect_eq(corio_writer_wait_closed(W), 0);
    pair_close();
    return NULL;
}
Test(stream_writer, peer_that_never_reads_keeps_buffer_bounded, .timeout = 15) { RUN_CHECKED(backpressure, NULL); }

static void *slow_reader(void *arg)
{
    (void)arg;
    char *buf = malloc(65536);
    size_t total = 0;
    for (;;) {
        corio_sleep(0.0005);
        ssize_t n = corio_sock_recv(peer, buf, 65536, 0);
        if (n <= 0)
            break;
        total += (size_t)n;
    }
    free(buf);
    return IV(total);
}

static void *drain_low_water(void *arg)
{
    (void)arg;
    pair_open(NULL);
    cr_expect_eq(corio_writer_set_write_buffer_limits(W, 32768, 8192), 0);
    corio_task *t = spawn(slow_reader, NULL);
    size_t n = 4u << 20;
    char *chunk = repeat('d', n);
    size_t sent = 0;
    for (int i = 0; i < 5; i++) {
        cr_expect_eq(corio_writer_write(W, chunk, n), 0);
        sent += n;
        cr_expect_eq(corio_writer_drain(W), 0);
        cr_expect_leq(corio_writer_get_write_buffer_size(W), 32768);
    }
    free(chunk);
    corio_writer_close(W);
    cr_expect_eq(corio_writer_wait_closed(W), 0);
    void *got;
    join(t, &got);
    cr_expect_eq((size_t)(intptr_t)got, sent);
    pair_close();
    return NULL;
}
Test(stream_writer, drain_returns_at_the_low_water_mark, .timeout = 20) { RUN_CHECKED(drain_low_water, NULL); }

static void *limits(void *arg)
{
    (void)arg;
    pair_open(NULL);
    size_t h, l;
    cr_expect_eq(corio_writer_set_write_buffer_limits(W, CORIO_WRITER_LIMIT_AUTO, 1000), 0);
    cr_expect_eq(corio_writer_get_write_buffer_limits(W, &h, &l), 0);
    cr_expect_eq(h, 4000);
    cr_expect_eq(l, 1000);
    cr_expect_eq(corio_writer_set_write_buffer_limits(W, 800, CORIO_WRITER_LIMIT_AUTO), 0);
    cr_expect_eq(corio_writer_get_write_buffer_limits(W, &h, &l), 0);
    cr_expect_eq(h, 800);
    cr_expect_eq(l, 200);
    cr_expect_eq(corio_writer_set_write_buffer_limits(W, CORIO_WRITER_LIMIT_AUTO,
                                                      CORIO_WRITER_LIMIT_AUTO), 0);
    cr_expect_eq(corio_writer_get_write_buffer_limits(W, &h, &l), 0);
    cr_expect_eq(h, 65536);
    cr_expect_eq(l, 16384);
    cr_expect_eq(corio_writer_set_write_buffer_limits(W, 10, 20), -EINVAL);
    cr_expect_eq(corio_writer_get_write_buffer_limits(W, &h, &l), 0);
    cr_expect_eq(h, 65536, "a refused setting changes nothing");
    cr_expect_eq(l, 16384);
    cr_expect_eq(corio_writer_set_write_buffer_limits(NULL, 10, 2), -EINVAL);
    cr_expect_eq(corio_writer_set_write_buffer_limits(W, 0, 0), 0, "drain waits for empty");
    /* Each output may be NULL; a NULL writer is -EINVAL, with the outputs set to 0. */
    h = l = 99;
    cr_expect_eq(corio_writer_get_write_buffer_limits(W, &h, NULL), 0);
    cr_expect_eq(h, 0);
    cr_expect_eq(corio_writer_get_write_buffer_limits(W, NULL, &l), 0);
    cr_expect_eq(l, 0);
    cr_expect_eq(corio_writer_get_write_buffer_limits(W, NULL, NULL), 0);
    h = l = 99;
    cr_expect_eq(corio_writer_get_write_buffer_limits(NULL, &h, &l), -EINVAL);
    cr_expect_eq(h, 0);
    cr_expect_eq(l, 0);
    pair_close();
    return NULL;
}
Test(stream_writer, write_buffer_limits_follow_asyncio, .timeout = 10) { RUN_CHECKED(limits, NULL); }

static void *bad_input(void *arg)
{
    (void)arg;
    pair_open(NULL);
    cr_expect_eq(corio_writer_write(NULL, "x", 1), -EINVAL);
    cr_expect_eq(corio_writer_write(W, NULL, 1), -EINVAL);
    cr_expect_eq(corio_writer_drain(NULL), -EINVAL);
    cr_expect_eq(corio_writer_close(NULL), -EINVAL);
    cr_expect_eq(corio_writer_abort(NULL), -EINVAL);
    cr_expect_eq(corio_writer_write_eof(NULL), -EINVAL);
    cr_expect_eq(corio_writer_wait_closed(NULL), -EINVAL);
    cr_expect_eq(corio_writer_get_fd(NULL), -EINVAL);
    cr_expect_eq(corio_writer_is_closing(W), 0);
    cr_expect_eq(corio_writer_close(W), 0);
    cr_expect_eq(corio_writer_close(W), 0, "close twice is fine");
    cr_expect_eq(corio_writer_is_closing(W), 1);
    cr_expect_eq(corio_writer_write(W, "x", 1), CORIO_EINVALSTATE, "write after close");
    cr_expect_eq(corio_writer_write_eof(W), CORIO_EINVALSTATE);
    cr_expect_eq(corio_writer_drain(W), -ECONNRESET, "drain after close");
    cr_expect_eq(corio_stream_free(NULL, NULL), 0, "nothing to free");
    pair_close();
    return NULL;
}
Test(stream_writer, bad_input_and_writes_after_close, .timeout = 10) { RUN_CHECKED(bad_input, NULL); }

static void *peer_gone_mid_write(void *arg)
{
    (void)arg;
    pair_open(NULL);
    peer_send("unread"); /* unread data makes the peer's close a reset */
    corio_sleep(0.02);
    peer_reset();
    char *chunk = repeat('p', CHUNK);
    int rc = 0;
    for (int i = 0; i < 1000 && rc == 0; i++) {
        rc = corio_writer_write(W, chunk, CHUNK);
        if (rc == 0)
            rc = corio_writer_drain(W);
    }
    free(chunk);
    cr_expect(rc == -EPIPE || rc == -ECONNRESET, "write: %s (no SIGPIPE)", corio_err_name(rc));
    cr_expect_eq(corio_writer_write(W, "x", 1), rc, "the error is sticky");
    cr_expect_eq(corio_writer_wait_closed(W), rc);
    pair_close();
    return NULL;
}
Test(stream_writer, peer_closing_mid_write_gives_epipe_or_econnreset, .timeout = 10) { RUN_CHECKED(peer_gone_mid_write, NULL); }

static void *half_close(void *arg)
{
    (void)arg;
    pair_open(NULL);
    cr_expect_eq(corio_writer_write(W, "request", 7), 0);
    cr_expect_eq(corio_writer_write_eof(W), 0);
    cr_expect_eq(corio_writer_write_eof(W), 0, "twice is fine");
    cr_expect_eq(corio_writer_write(W, "x", 1), CORIO_EINVALSTATE, "write after write_eof");
    char buf[16] = {0};
    cr_expect_eq(peer_recv_all(buf, sizeof buf), 7, "the peer sees the bytes, then EOF");
    cr_expect_str_eq(buf, "request");
    peer_send("response");
    corio_sock_shutdown(peer, SHUT_WR);
    memset(buf, 0, sizeof buf);
    cr_expect_eq(corio_reader_readexactly(R, buf, 8, NULL), 8, "reading goes on");
    cr_expect_str_eq(buf, "response");
    pair_close();
    return NULL;
}
Test(stream_writer, write_eof_half_closes_and_reading_goes_on, .timeout = 10) { RUN_CHECKED(half_close, NULL); }

static void *half_close_buffered(void *arg)
{
    (void)arg;
    pair_open(NULL);
    size_t n = BIG;
    char *big = repeat('h', n);
    cr_expect_eq(corio_writer_write(W, big, n), 0);
    cr_expect_gt(corio_writer_get_write_buffer_size(W), 0);
    cr_expect_eq(corio_writer_write_eof(W), 0, "EOF goes after the buffered bytes");
    cr_expect_eq(peer_recv_all(NULL, 0), n);
    free(big);
    pair_close();
    return NULL;
}
Test(stream_writer, write_eof_waits_for_buffered_bytes, .timeout = 10) { RUN_CHECKED(half_close_buffered, NULL); }

static void *close_flushes(void *arg)
{
    (void)arg;
    pair_open(NULL);
    size_t n = BIG;
    char *big = repeat('c', n);
    cr_expect_eq(corio_writer_write(W, big, n), 0);
    corio_writer_close(W);
    char *got = malloc(n);
    cr_expect_eq(peer_recv_all(got, n), n, "close sends what was buffered, then EOF");
    cr_expect(memcmp(got, big, n) == 0);
    cr_expect_eq(corio_writer_wait_closed(W), 0);
    free(big);
    free(got);
    pair_close();
    return NULL;
}
Test(stream_writer, close_sends_buffered_bytes_first, .timeout = 10) { RUN_CHECKED(close_flushes, NULL); }

static void *release_flushes(void *arg)
{
    (void)arg;
    pair_open(NULL);
    size_t n = BIG;
    char *big = repeat('r', n);
    cr_expect_eq(corio_writer_write(W, big, n), 0);
    cr_expect_eq(corio_stream_free(R, W), 0); /* the bytes still go out in the background */
    cr_expect_eq(peer_recv_all(NULL, 0), n);
    free(big);
    corio_close(peer);
    return NULL;
}
Test(stream_writer, release_still_sends_buffered_bytes, .timeout = 10) { RUN_CHECKED(release_flushes, NULL); }

static void *abort_drops(void *arg)
{
    (void)arg;
    pair_open(NULL);
    size_t n = BIG;
    char *big = repeat('a', n);
    cr_expect_eq(corio_writer_write(W, big, n), 0);
    cr_expect_eq(corio_writer_abort(W), 0);
    cr_expect_eq(corio_writer_get_write_buffer_size(W), 0);
    cr_expect_eq(corio_writer_wait_closed(W), 0);
    cr_expect_lt(peer_recv_all(NULL, 0), n);
    free(big);
    pair_close();
    return NULL;
}
Test(stream_writer, abort_drops_buffered_bytes, .timeout = 10) { RUN_CHECKED(abort_drops, NULL); }

static void *drainer(void *arg)
{
    (void)arg;
    return IV(corio_writer_drain(W));
}

static void *closed_waiter(void *arg)
{
    (void)arg;
    return IV(corio_writer_wait_closed(W));
}

static void *cancel_drain_and_wait_closed(void *arg)
{
    (void)arg;
    pair_open(NULL);
    size_t n = BIG;
    char *big = repeat('x', n);
    cr_expect_eq(corio_writer_write(W, big, n), 0);
    corio_task *d1 = spawn(drainer, NULL), *d2 = spawn(drainer, NULL);
    corio_task *c1 = spawn(closed_waiter, NULL), *c2 = spawn(closed_waiter, NULL);
    corio_sleep(0.05);
    cr_expect_eq(corio_future_done(corio_task_future(d1)), 0, "drain waits");
    corio_task_cancel(d1, NULL);
    corio_task_cancel(c1, NULL);
    cr_expect_eq(join(d1, NULL), -ECANCELED);
    cr_expect_eq(join(c1, NULL), -ECANCELED);
    /* The other waiters are still there and the connection still works. */
    corio_writer_close(W);
    cr_expect_eq(peer_recv_all(NULL, 0), n);
    void *v;
    cr_expect_eq(join(d2, &v), 0);
    cr_expect(VI(v) == 0 || VI(v) == -ECONNRESET, "drain: %s", corio_err_name(VI(v)));
    cr_expect_eq(join(c2, &v), 0);
    cr_expect_eq(VI(v), 0);
    free(big);
    pair_close();
    return NULL;
}
Test(stream_writer, cancel_in_drain_and_wait_closed_leaves_others_waiting, .timeout = 10) { RUN_CHECKED(cancel_drain_and_wait_closed, NULL); }

static void *loop_ends_with_bytes_buffered(void *arg)
{
    (void)arg;
    pair_open(NULL);
    char *big = repeat('l', BIG);
    cr_expect_eq(corio_writer_write(W, big, BIG), 0);
    free(big);
    cr_expect_eq(corio_stream_free(R, W), 0);
    corio_close(peer);
    return NULL; /* corio_run cancels the flusher: the connection is aborted, nothing leaks */
}
Test(stream_writer, loop_end_aborts_unsent_bytes_without_leaks, .timeout = 10) { RUN_CHECKED(loop_ends_with_bytes_buffered, NULL); }

static corio_task *find_task(const char *name)
{
    corio_task *all[16];
    int n = corio_all_tasks(NULL, all, 16);
    cr_expect_geq(n, 0, "all_tasks: %s", corio_err_name(n));
    for (int i = 0; i < n && i < 16; i++)
        if (strcmp(corio_task_get_name(all[i]), name) == 0)
            return all[i];
    return NULL;
}

static void *flusher_cancelled_before_start(void *arg)
{
    (void)arg;
    pair_open(NULL);
    char *big = repeat('f', BIG);
    cr_expect_eq(corio_writer_write(W, big, BIG), 0);
    free(big);
    /* What corio_run does to tasks left at its end: the flusher never runs its function. */
    corio_task *f = find_task("corio.stream.flush");
    cr_assert_not_null(f);
    cr_expect_eq(corio_task_cancel(f, NULL), 1);
    cr_expect_eq(corio_writer_wait_closed(W), -ECONNABORTED, "the unsent bytes break the stream");
    cr_expect_eq(corio_writer_get_fd(W), -1);
    cr_expect_eq(corio_writer_write(W, "x", 1), -ECONNABORTED);
    pair_close();
    return NULL;
}
Test(stream_writer, flusher_cancelled_before_it_starts_breaks_the_stream_cleanly, .timeout = 10) { RUN_CHECKED(flusher_cancelled_before_start, NULL); }
