/* Peers that never read (issue 18): each asks a server for megabytes and takes none of them.
 * Half of the handlers drain, half write and return at once (the rest is sent in the
 * background, after the handler). With write_timeout every stalled connection is closed within
 * the limit, its buffer given back, while a normal client reading its reply gets every byte. */
#include "defence_helpers.h"

#define LIMIT 0.5 /* write_timeout */
#define NSTALL 8  /* peers that never read */
#define BIG (4u << 20)

static int port, drain_timeouts;
static char *payload;

/* "<bytes> <drain|return>\n": writes that many bytes, then drains or returns. */
static void serve(corio_reader *r, corio_writer *w, void *arg)
{
    (void)arg;
    const char *line;
    ssize_t n = corio_reader_readline(r, &line);
    if (n <= 0)
        return;
    size_t bytes = strtoul(line, NULL, 10);
    int drain = memmem(line, (size_t)n, "drain", 5) != NULL; /* line is not NUL-terminated */
    if (bytes > BIG || corio_writer_write(w, payload, bytes) < 0)
        return;
    if (drain && corio_writer_drain(w) == -ETIMEDOUT)
        drain_timeouts++;
}

static void *stall(void *arg)
{
    const char *req = arg;
    int fd = client_connect_rcvbuf(port, 4096);
    cr_assert_geq(fd, 0, "connect: %s", corio_strerror(fd));
    corio_sock_sendall(fd, req, strlen(req), 0);
    /* Read nothing until the server gave up, then see that it did. */
    corio_sleep(3 * LIMIT);
    int ended = await_end(fd, END_LATE);
    corio_close(fd);
    return (void *)(intptr_t)ended;
}

static void *write_stall(void *arg)
{
    (void)arg;
    payload = repeat('p', BIG);
    corio_stream_opts o = {.write_timeout = LIMIT};
    corio_server *srv;
    cr_assert_eq(corio_start_server(&srv, "127.0.0.1", 0, serve, NULL, &o), 0);
    port = corio_server_get_port(srv);
    corio_task *ts[NSTALL];
    char req[32];
    snprintf(req, sizeof req, "%u drain\n", BIG);
    static char req_bg[32];
    snprintf(req_bg, sizeof req_bg, "%u return\n", BIG);
    for (int i = 0; i < NSTALL; i++)
        ts[i] = spawn(stall, i % 2 ? req_bg : req);
    /* A normal client, meanwhile: every byte of its reply, in time. */
    corio_sleep(0.1);
    int fd = client_connect(port);
    cr_assert_geq(fd, 0);
    corio_sock_sendall(fd, req, strlen(req), 0);
    char *got = malloc(BIG);
    double t0 = now_s();
    int rc = recv_exactly(fd, got, BIG, END_LATE);
    cr_expect_eq(rc, 0, "the normal client's reply: %s", corio_strerror(rc));
    cr_expect(rc < 0 || memcmp(got, payload, BIG) == 0, "every byte in order");
    double dt = now_s() - t0;
    cr_expect_lt(dt, END_LATE);
    corio_close(fd);
    free(got);
    for (int i = 0; i < NSTALL; i++) {
        void *ended;
        join(ts[i], &ended);
        cr_expect(ended, "stalled peer %d was not closed", i);
    }
    corio_server_stats st = server_stats(srv);
    fprintf(stderr, "write stall: normal client's %u bytes in %.3f s; %llu write timeouts\n", BIG,
            dt, (unsigned long long)st.write_timeouts);
    cr_expect_eq(st.write_timeouts, NSTALL, "each stalled peer closed by write_timeout");
    cr_expect_eq(drain_timeouts, NSTALL / 2, "the draining handlers saw -ETIMEDOUT");
    cr_expect_eq(st.buffered, 0, "every buffer given back");
    cr_expect_eq(st.active, 0);
    corio_server_close(srv);
    corio_server_wait_closed(srv);
    corio_server_free(srv);
    free(payload);
    return NULL;
}
Test(stream_write_stall, peers_that_never_read_are_closed, .timeout = 60)
{
    RUN_CHECKED(write_stall, NULL);
}
