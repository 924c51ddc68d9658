/* Allocation failure at every allocation site of a stream scenario (issue 6), on each backend:
 * start_server with an echo handler, open_connection, lines echoed with write/drain and read
 * back with readline and readexactly, then the client and the server close. Each run must end
 * with success or -ENOMEM and leave no fd open; the ASan and Valgrind runs of the suite check
 * that nothing leaks.
 *
 * A failure on the server side cannot reach the client as -ENOMEM: the server drops the
 * connection, which the client sees as EOF (or a reset). So the handler records its own error,
 * the loop's error handler records what the server reports, and a run whose client saw the
 * connection dropped counts as clean only if the server said why. */
#include "stream_helpers.h" /* first: it defines _GNU_SOURCE */
#include "fault_helpers.h"

static int server_err;

static void note_server_err(int err)
{
    if (err < 0 && server_err == 0)
        server_err = err;
}

static void on_report(corio_loop *loop, const corio_error_context *ctx, void *arg)
{
    (void)loop, (void)arg;
    note_server_err(ctx->err);
}

static void echo_handler(corio_reader *r, corio_writer *w, void *arg)
{
    (void)arg;
    const char *line;
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = corio_reader_readline(r, &line)) > 0)
        if ((rc = corio_writer_write(w, line, (size_t)n)) == 0)
            rc = corio_writer_drain(w);
    if (rc == 0 && n < 0)
        rc = (int)n;
    if (rc != -ECONNRESET && rc != -EPIPE) /* the client going away first is not our error */
        note_server_err(rc);
}

static int exchange(corio_reader *r, corio_writer *w)
{
    static const char two[] = "second\nthird\n";
    const char *line;
    int rc = corio_writer_write(w, "first\n", 6);
    if (rc == 0)
        rc = corio_writer_drain(w);
    ssize_t n = rc == 0 ? corio_reader_readline(r, &line) : rc;
    if (n >= 0 && (n != 6 || memcmp(line, "first\n", 6) != 0))
        return n == 0 ? -ECONNABORTED : -EPROTO;
    if (n < 0)
        return (int)n;
    if ((rc = corio_writer_write(w, two, sizeof two - 1)) == 0)
        rc = corio_writer_drain(w);
    char back[sizeof two];
    size_t partial = 0;
    n = rc == 0 ? corio_reader_readexactly(r, back, sizeof two - 1, &partial) : rc;
    if (n == -EPIPE || n == -ECONNRESET)
        return -ECONNABORTED;
    if (n >= 0 && memcmp(back, two, sizeof two - 1) != 0)
        return -EPROTO;
    if (n < 0)
        return n == CORIO_EINCOMPLETE ? -ECONNABORTED : (int)n;
    rc = corio_writer_close(w);
    int rc2 = corio_writer_wait_closed(w);
    return rc < 0 ? rc : rc2;
}

static void *stream_main(void *arg)
{
    (void)arg;
    corio_loop_set_error_handler(corio_get_running_loop(), on_report, NULL);
    corio_server *srv;
    int rc = corio_start_server(&srv, "127.0.0.1", 0, echo_handler, NULL, NULL);
    if (rc < 0)
        return corio_raise(rc);
    corio_reader *r;
    corio_writer *w;
    corio_stream_opts o = {.connect_timeout = 5.0};
    rc = corio_open_connection(&r, &w, "127.0.0.1", corio_server_get_port(srv), &o);
    if (rc == 0) {
        rc = exchange(r, w);
        corio_stream_free(r, w);
    }
    corio_server_close(srv);
    int wrc = corio_server_wait_closed(srv);
    corio_server_free(srv);
    if (rc == 0)
        rc = wrc;
    if (rc == -ECONNABORTED || rc == -ECONNRESET || rc == -EPIPE)
        rc = server_err ? server_err : -ECONNABORTED; /* dropped: the server must say why */
    return rc < 0 ? corio_raise(rc) : NULL;
}

static int stream_scenario(void)
{
    server_err = 0;
    int rc = corio_run(stream_main, NULL, NULL);
    for (int i = 0; i < 2000 && corio__stream_resolve_pending(); i++)
        usleep(10000);
    return rc;
}

Test(stream_fault_alloc, every_stream_allocation_fails_cleanly, .timeout = 300)
{
    FD_CHECK_BEGIN();
    fault_sweep_report("stream_fault_alloc", stream_scenario, 10);
    FD_CHECK_END();
}
