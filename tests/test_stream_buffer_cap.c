/* max_buffered (issue 18): 2,000 connections holding 65,000-byte partial lines took 148 MB of a
 * server. Here attackers send long lines without their newline, more than the server's buffer
 * budget holds together. The budget is never passed (sampled throughout), the connections that
 * would pass it are closed with -ENOBUFS, a normal client with a short line is served at once
 * meanwhile (the first 16 KiB of each buffer are outside the budget), and once header_timeout
 * closed the rest, every byte of budget is back. */
#include "defence_helpers.h"

#define BUDGET (1u << 20)   /* max_buffered */
#define LINE (200u * 1024)  /* each attacker's partial line: its buffer grows to 256 KiB */
#define NATTACKERS 12       /* 12 x 240 KiB charged > 1 MiB */
#define LIMIT 1.0           /* header_timeout */

static int port, handler_errors[2]; /* -ENOBUFS, -ETIMEDOUT seen by handlers */
static size_t peak;
static int sampling = 1;

static void echo_line(corio_reader *r, corio_writer *w, void *arg)
{
    (void)arg;
    const char *line;
    ssize_t n = corio_reader_readline(r, &line);
    if (n == -ENOBUFS)
        handler_errors[0]++;
    else if (n == -ETIMEDOUT)
        handler_errors[1]++;
    if (n > 0 && corio_writer_write(w, line, (size_t)n) == 0)
        corio_writer_drain(w);
}

static void *sample(void *arg)
{
    corio_server *srv = arg;
    while (sampling) {
        corio_server_stats st = server_stats(srv);
        if (st.buffered > peak)
            peak = st.buffered;
        corio_sleep(0.005);
    }
    return NULL;
}

static void *attack(void *arg)
{
    char *line = arg;
    int fd = client_connect(port);
    cr_assert_geq(fd, 0);
    corio_sock_sendall(fd, line, LINE, 0); /* may fail: the server resets it */
    int ended = await_end(fd, END_LATE);
    corio_close(fd);
    return (void *)(intptr_t)ended;
}

static void *buffer_cap(void *arg)
{
    (void)arg;
    corio_stream_opts o = {.max_buffered = BUDGET, .limit = 1u << 20, .header_timeout = LIMIT};
    corio_server *srv;
    cr_assert_eq(corio_start_server(&srv, "127.0.0.1", 0, echo_line, NULL, &o), 0);
    port = corio_server_get_port(srv);
    corio_task *sampler = spawn(sample, srv);
    char *line = repeat('a', LINE);
    corio_task *ts[NATTACKERS];
    for (int i = 0; i < NATTACKERS; i++)
        ts[i] = spawn(attack, line);
    corio_sleep(0.3); /* every partial line received, as far as the budget lets it */
    corio_server_stats st = server_stats(srv);
    cr_expect_geq(st.buffer_refusals, 1, "the budget refused some growth");
    /* A normal client while the budget is full: served at once. */
    double t0 = now_s();
    int fd = client_connect(port);
    cr_assert_geq(fd, 0);
    corio_sock_sendall(fd, "hello\n", 6, 0);
    char buf[6];
    cr_expect_eq(recv_exactly(fd, buf, sizeof buf, END_LATE), 0);
    cr_expect(memcmp(buf, "hello\n", 6) == 0);
    cr_expect_lt(now_s() - t0, LIMIT, "served before any attacker left");
    corio_close(fd);
    for (int i = 0; i < NATTACKERS; i++) {
        void *ended;
        join(ts[i], &ended);
        cr_expect(ended, "attacker %d was not closed", i);
    }
    sampling = 0;
    join(sampler, NULL);
    st = server_stats(srv);
    fprintf(stderr, "buffer cap: peak %zu of %u bytes, %llu refused, %llu timed out\n", peak,
            BUDGET, (unsigned long long)st.buffer_refusals, (unsigned long long)st.header_timeouts);
    cr_expect_leq(peak, BUDGET, "the budget was passed: %zu bytes", peak);
    cr_expect_gt(peak, BUDGET / 2, "the attackers filled the budget: %zu bytes", peak);
    cr_expect_eq(st.buffered, 0, "every byte of budget back");
    cr_expect_eq(st.buffer_refusals + st.header_timeouts, NATTACKERS, "each attacker by one");
    cr_expect_eq(handler_errors[0], (int)st.buffer_refusals);
    cr_expect_eq(handler_errors[1], (int)st.header_timeouts);
    cr_expect_geq(st.header_timeouts, 1, "some held their share until header_timeout");
    cr_expect_eq(st.max_buffered, BUDGET);
    free(line);
    corio_server_close(srv);
    corio_server_wait_closed(srv);
    corio_server_free(srv);
    return NULL;
}
Test(stream_buffer_cap, the_budget_holds_and_a_client_is_served, .timeout = 60)
{
    RUN_CHECKED(buffer_cap, NULL);
}

static void *defaults(void *arg)
{
    (void)arg;
    corio_server *srv;
    cr_assert_eq(corio_start_server(&srv, "127.0.0.1", 0, echo_line, NULL, NULL), 0);
    corio_server_stats st = server_stats(srv);
    cr_expect_eq(st.max_buffered, 64u << 20);
    cr_expect_eq(corio_server_get_stats(NULL, &st), -EINVAL);
    cr_expect_eq(corio_server_get_stats(srv, NULL), -EINVAL);
    corio_server_free(srv);
    return NULL;
}
Test(stream_buffer_cap, the_default_budget_is_64_mib, .timeout = 10) { RUN_CHECKED(defaults, NULL); }
