/* The stream defences' time limits on one connection (issue 18): header_timeout bounds a
 * message from its first byte however slowly it trickles, and a new connection's first bytes;
 * idle_timeout bounds a wait between messages; write_timeout bounds bytes a peer never takes.
 * A limit passed breaks the connection with -ETIMEDOUT; an active peer or a slow handler is
 * never cut. Time checks have wide margins: the machine is shared. */
#include "stream_helpers.h"
#include "under_valgrind.h"

#include <math.h>

#define LIMIT 0.3 /* seconds: each test's limit */
#define LATE 5.0  /* a limit that came this late did not work */
/* A limit counts from the loop iteration that started it (the loop's cached time, as libuv's
 * timers), which began a little before the test's t0: under Valgrind, up to a tenth of a second. */
#define EARLY (slow_build() ? 0.25 : 0.05)

static corio_stream_opts limits(double header, double idle, double write)
{
    corio_stream_opts o = {.header_timeout = header, .idle_timeout = idle,
                           .write_timeout = write};
    return o;
}

/* The peer's end saw the connection end (EOF or a reset) within LATE seconds. */
static void expect_peer_sees_end(void)
{
    char buf[4096];
    double t0 = now_s();
    ssize_t n;
    while ((n = corio_sock_recv(peer, buf, sizeof buf, 0)) > 0 && now_s() - t0 < LATE)
        ;
    cr_expect(n <= 0, "the peer still receives after the limit");
}

/* ---- header_timeout ---- */

static void *trickle(void *arg)
{
    const char *text = arg;
    for (const char *p = text; *p; p++) {
        if (corio_sock_send(peer, p, 1, 0) != 1)
            break;
        if (corio_sleep(0.05) < 0)
            break;
    }
    return NULL;
}

static void *slow_message(void *arg)
{
    (void)arg;
    corio_stream_opts o = limits(LIMIT, CORIO_FOREVER, CORIO_FOREVER);
    pair_open(&o);
    peer_send("first line\n");
    const char *line;
    cr_expect_eq(corio_reader_readline(R, &line), 11, "a line in time is read");
    /* 40 bytes at one per 50 ms: each byte in time, the message not. */
    corio_task *t = spawn(trickle, "a line that takes two seconds to arrive\n");
    double t0 = now_s();
    ssize_t n = corio_reader_readline(R, &line);
    double dt = now_s() - t0;
    cr_expect_eq(n, -ETIMEDOUT, "readline: %s", corio_strerror((int)n));
    cr_expect_geq(dt, LIMIT - EARLY, "not before the limit: %.3f s", dt);
    cr_expect_lt(dt, LATE, "the limit came late: %.3f s", dt);
    cr_expect_eq(corio_reader_readline(R, &line), -ETIMEDOUT, "the error sticks");
    cr_expect_eq(corio_writer_write(W, "x", 1), -ETIMEDOUT);
    cr_expect_eq(corio_writer_get_fd(W), -1, "closed at once");
    corio_task_cancel(t, NULL);
    join(t, NULL);
    expect_peer_sees_end();
    pair_close();
    return NULL;
}
Test(stream_timeouts, a_trickled_message_is_cut_at_header_timeout, .timeout = 20)
{
    RUN_CHECKED(slow_message, NULL);
}

static void *silent_start(void *arg)
{
    (void)arg;
    corio_stream_opts o = limits(LIMIT, 30, CORIO_FOREVER);
    pair_open(&o);
    char buf[16];
    double t0 = now_s();
    ssize_t n = corio_reader_read(R, buf, sizeof buf);
    double dt = now_s() - t0;
    cr_expect_eq(n, -ETIMEDOUT, "read: %s", corio_strerror((int)n));
    cr_expect_lt(dt, LATE, "header_timeout, not idle_timeout, for the first bytes: %.3f s", dt);
    pair_close();
    return NULL;
}
Test(stream_timeouts, first_bytes_count_from_the_start, .timeout = 20)
{
    RUN_CHECKED(silent_start, NULL);
}

/* readexactly and readuntil gather one message each, as readline does. */
static void *slow_exact(void *arg)
{
    (void)arg;
    corio_stream_opts o = limits(LIMIT, CORIO_FOREVER, CORIO_FOREVER);
    pair_open(&o);
    corio_task *t = spawn(trickle, "0123456789abcdefghijklmnopqrstuvwxyz");
    char buf[36];
    size_t part = 99;
    ssize_t n = corio_reader_readexactly(R, buf, sizeof buf, &part);
    cr_expect_eq(n, -ETIMEDOUT, "readexactly: %s", corio_strerror((int)n));
    cr_expect_eq(part, 0);
    corio_task_cancel(t, NULL);
    join(t, NULL);
    pair_close();
    return NULL;
}
Test(stream_timeouts, readexactly_is_one_message, .timeout = 20) { RUN_CHECKED(slow_exact, NULL); }

/* Lines in time, for longer than any limit: never cut. */
static void *steady_lines(void *arg)
{
    (void)arg;
    for (int i = 0; i < 12; i++) {
        if (corio_sock_send(peer, "tick\n", 5, 0) != 5 || corio_sleep(0.1) < 0)
            break;
    }
    corio_sock_shutdown(peer, SHUT_WR);
    return NULL;
}

static void *active_peer(void *arg)
{
    (void)arg;
    corio_stream_opts o = limits(LIMIT, LIMIT, LIMIT);
    pair_open(&o);
    corio_task *t = spawn(steady_lines, NULL);
    const char *line;
    int lines = 0;
    ssize_t n;
    while ((n = corio_reader_readline(R, &line)) > 0)
        lines++;
    cr_expect_eq(n, 0, "ends at EOF, not by a limit: %s", corio_strerror((int)n));
    cr_expect_eq(lines, 12);
    join(t, NULL);
    pair_close();
    return NULL;
}
Test(stream_timeouts, an_active_peer_is_never_cut, .timeout = 20) { RUN_CHECKED(active_peer, NULL); }

/* Two messages arrive together; the handler works longer than the limit before it reads the
 * second, which is here already: the limits watch the peer, not the handler. */
static void *slow_handler(void *arg)
{
    (void)arg;
    corio_stream_opts o = limits(LIMIT, LIMIT, CORIO_FOREVER);
    pair_open(&o);
    peer_send("one\ntwo\n");
    const char *line;
    cr_expect_eq(corio_reader_readline(R, &line), 4);
    corio_sleep(3 * LIMIT);
    cr_expect_eq(corio_reader_readline(R, &line), 4, "a buffered message is read, late or not");
    cr_expect(memcmp(line, "two\n", 4) == 0);
    pair_close();
    return NULL;
}
Test(stream_timeouts, a_slow_handler_is_not_cut, .timeout = 20) { RUN_CHECKED(slow_handler, NULL); }

/* ---- idle_timeout ---- */

static void *idle_peer(void *arg)
{
    (void)arg;
    corio_stream_opts o = limits(30, LIMIT, CORIO_FOREVER);
    pair_open(&o);
    peer_send("hello\n");
    const char *line;
    cr_expect_eq(corio_reader_readline(R, &line), 6);
    double t0 = now_s();
    ssize_t n = corio_reader_readline(R, &line);
    double dt = now_s() - t0;
    cr_expect_eq(n, -ETIMEDOUT, "readline: %s", corio_strerror((int)n));
    cr_expect_geq(dt, LIMIT - EARLY, "not before the limit: %.3f s", dt);
    cr_expect_lt(dt, LATE, "idle_timeout, not header_timeout: %.3f s", dt);
    expect_peer_sees_end();
    pair_close();
    return NULL;
}
Test(stream_timeouts, a_wait_between_messages_is_cut_at_idle_timeout, .timeout = 20)
{
    RUN_CHECKED(idle_peer, NULL);
}

/* A websocket-style upgrade: the handler lifts the limits on its connection. */
static void *lifted(void *arg)
{
    (void)arg;
    corio_stream_opts o = limits(LIMIT, LIMIT, LIMIT);
    pair_open(&o);
    cr_expect_eq(corio_reader_set_timeouts(R, CORIO_FOREVER, CORIO_FOREVER), 0);
    cr_expect_eq(corio_writer_set_timeout(W, CORIO_FOREVER), 0);
    char buf[8];
    corio_timeout *tm;
    cr_assert_eq(corio_timeout_enter(&tm, 4 * LIMIT), 0);
    ssize_t n = corio_reader_read(R, buf, sizeof buf);
    cr_expect_eq(corio_timeout_exit(tm, (int)n), -ETIMEDOUT, "the caller's scope ended the wait");
    cr_expect_eq(corio_writer_get_fd(W) >= 0, 1, "the connection is still open");
    peer_send("late\n");
    const char *line;
    cr_expect_eq(corio_reader_readline(R, &line), 5);
    pair_close();
    return NULL;
}
Test(stream_timeouts, limits_can_be_lifted_per_connection, .timeout = 20)
{
    RUN_CHECKED(lifted, NULL);
}

/* ---- write_timeout ---- */

static void *never_reading_peer(void *arg)
{
    (void)arg;
    corio_stream_opts o = limits(CORIO_FOREVER, CORIO_FOREVER, LIMIT);
    pair_open(&o);
    size_t n = 8u << 20; /* far more than both sockets' buffers hold */
    char *data = repeat('w', n);
    cr_expect_eq(corio_writer_write(W, data, n), 0);
    cr_expect_gt(corio_writer_get_write_buffer_size(W), 0);
    double t0 = now_s();
    int rc = corio_writer_drain(W);
    double dt = now_s() - t0;
    cr_expect_eq(rc, -ETIMEDOUT, "drain: %s", corio_strerror(rc));
    cr_expect_geq(dt, LIMIT - EARLY, "not before the limit: %.3f s", dt);
    cr_expect_lt(dt, LATE, "the limit came late: %.3f s", dt);
    cr_expect_eq(corio_writer_get_write_buffer_size(W), 0, "the buffer is dropped");
    char buf[8];
    cr_expect_eq(corio_reader_read(R, buf, sizeof buf), -ETIMEDOUT);
    free(data);
    pair_close();
    return NULL;
}
Test(stream_timeouts, a_peer_that_never_reads_is_cut_at_write_timeout, .timeout = 20)
{
    RUN_CHECKED(never_reading_peer, NULL);
}

/* A slow reader that takes some bytes within every limit is served whole. */
static void *slow_reader(void *arg)
{
    size_t n = *(size_t *)arg, got = 0;
    char buf[16384];
    while (got < n) {
        ssize_t k = corio_sock_recv(peer, buf, sizeof buf, 0);
        if (k <= 0)
            break;
        got += (size_t)k;
        corio_sleep(0.02);
    }
    return (void *)got;
}

static void *slow_but_reading_peer(void *arg)
{
    (void)arg;
    corio_stream_opts o = limits(CORIO_FOREVER, CORIO_FOREVER, LIMIT);
    pair_open(&o);
    size_t n = 4u << 20;
    char *data = repeat('s', n);
    corio_task *t = spawn(slow_reader, &n);
    cr_expect_eq(corio_writer_write(W, data, n), 0);
    cr_expect_eq(corio_writer_drain(W), 0);
    corio_writer_close(W);
    cr_expect_eq(corio_writer_wait_closed(W), 0);
    void *got;
    join(t, &got);
    cr_expect_eq((size_t)got, n, "every byte arrived");
    free(data);
    pair_close();
    return NULL;
}
Test(stream_timeouts, a_slow_peer_that_reads_is_served, .timeout = 30)
{
    RUN_CHECKED(slow_but_reading_peer, NULL);
}

/* ---- bad input ---- */

static void no_handler(corio_reader *r, corio_writer *w, void *arg) { (void)r, (void)w, (void)arg; }

static void *bad_input(void *arg)
{
    (void)arg;
    corio_stream_opts o = limits(NAN, 0, 0);
    int fds[2];
    tcp_pair(fds);
    corio_reader *r;
    corio_writer *w;
    cr_expect_eq(corio_stream_new(&r, &w, NULL, fds[0], &o), -EINVAL, "a NaN limit");
    cr_expect_eq(fcntl(fds[0], F_GETFD) >= 0, 1, "not taken over on error");
    corio_close(fds[0]);
    corio_close(fds[1]);
    o = limits(0, NAN, 0);
    cr_expect_eq(corio_open_connection(&r, &w, "127.0.0.1", 9, &o), -EINVAL);
    o = limits(0, 0, NAN);
    corio_server *srv;
    cr_expect_eq(corio_start_server(&srv, "127.0.0.1", 0, no_handler, NULL, &o),
                 -EINVAL);
    cr_expect_null(srv);
    pair_open(NULL);
    cr_expect_eq(corio_reader_set_timeouts(NULL, 1, 1), -EINVAL);
    cr_expect_eq(corio_reader_set_timeouts(R, NAN, 1), -EINVAL);
    cr_expect_eq(corio_reader_set_timeouts(R, 1, NAN), -EINVAL);
    cr_expect_eq(corio_writer_set_timeout(NULL, 1), -EINVAL);
    cr_expect_eq(corio_writer_set_timeout(W, NAN), -EINVAL);
    /* 0: a read that would wait fails at once. */
    cr_expect_eq(corio_reader_set_timeouts(R, 0, 0), 0);
    char buf[4];
    cr_expect_eq(corio_reader_read(R, buf, sizeof buf), -ETIMEDOUT);
    pair_close();
    return NULL;
}
Test(stream_timeouts, bad_limits_are_einval, .timeout = 10) { RUN_CHECKED(bad_input, NULL); }
