/* start_server: a task per connection, close (stop accepting) and wait_closed (every connection
 * done), close_clients and abort_clients, serve_forever, Unix servers, an address in use, bad
 * input, and cancellation while starting and in wait_closed. */
#include "stream_helpers.h"

static corio_server *S;
static int started, handled, handler_results[64];

/* Echoes lines until EOF; records how each connection ended. */
static void echo_handler(corio_reader *r, corio_writer *w, void *arg)
{
    (void)arg;
    started++;
    const char *line;
    ssize_t n;
    while ((n = corio_reader_readline(r, &line)) > 0) {
        corio_writer_write(w, line, (size_t)n);
        if (corio_writer_drain(w) < 0)
            break;
    }
    if (handled < 64)
        handler_results[handled] = (int)n;
    handled++;
}

static int client(const char *msg, char *reply, size_t cap)
{
    corio_reader *r;
    corio_writer *w;
    int rc = corio_open_connection(&r, &w, "127.0.0.1", corio_server_get_port(S), NULL);
    if (rc < 0)
        return rc;
    corio_writer_write(w, msg, strlen(msg));
    const char *line;
    ssize_t n = corio_reader_readline(r, &line);
    if (n > 0 && reply) {
        size_t k = (size_t)n < cap - 1 ? (size_t)n : cap - 1;
        memcpy(reply, line, k);
        reply[k] = 0;
    }
    corio_stream_free(r, w);
    return n < 0 ? (int)n : 0;
}

static void *client_task(void *arg)
{
    char msg[32], reply[32] = {0};
    snprintf(msg, sizeof msg, "client %d\n", VI(arg));
    int rc = client(msg, reply, sizeof reply);
    cr_expect_eq(rc, 0, "client: %s", corio_strerror(rc));
    cr_expect_str_eq(reply, msg);
    return NULL;
}

static void *many_clients(void *arg)
{
    (void)arg;
    int rc = corio_start_server(&S, "127.0.0.1", 0, echo_handler, NULL, NULL);
    cr_assert_eq(rc, 0, "start_server: %s", corio_strerror(rc));
    cr_expect_eq(corio_server_is_serving(S), 1);
    cr_expect_gt(corio_server_get_port(S), 0);
    int fds[4];
    cr_expect_eq(corio_server_sockets(S, fds, 4), 1);
    corio_future *fs[20];
    for (int i = 0; i < 20; i++)
        fs[i] = corio_task_future(spawn(client_task, IV(i)));
    cr_expect_eq(corio_gather(fs, 20, 0, NULL, NULL), 0);
    for (int i = 0; i < 20; i++)
        corio_future_unref(fs[i]);
    cr_expect_eq(corio_server_close(S), 0);
    cr_expect_eq(corio_server_is_serving(S), 0);
    cr_expect_eq(corio_server_sockets(S, fds, 4), 0, "no listening socket once closed");
    cr_expect_eq(corio_server_wait_closed(S), 0);
    cr_expect_eq(handled, 20, "every connection ran its handler: %d", handled);
    cr_expect_eq(corio_server_active_connections(S), 0);
    cr_expect_eq(corio_server_free(S), 0);
    return NULL;
}
Test(stream_server, each_connection_runs_its_own_task, .timeout = 20) { RUN_CHECKED(many_clients, NULL); }

static void *hold_connection(void *arg)
{
    (void)arg;
    corio_reader *r;
    corio_writer *w;
    int rc = corio_open_connection(&r, &w, "127.0.0.1", corio_server_get_port(S), NULL);
    cr_expect_eq(rc, 0);
    if (rc < 0)
        return NULL;
    corio_writer_write(w, "first\n", 6);
    const char *line;
    cr_expect_eq(corio_reader_readline(r, &line), 6);
    ev(1);
    corio_sleep(0.1); /* the server closes meanwhile: this connection goes on */
    corio_writer_write(w, "second\n", 7);
    cr_expect_eq(corio_reader_readline(r, &line), 7);
    ev(3);
    corio_stream_free(r, w);
    return NULL;
}

static void *close_keeps_connections(void *arg)
{
    (void)arg;
    cr_assert_eq(corio_start_server(&S, "127.0.0.1", 0, echo_handler, NULL, NULL), 0);
    int port = corio_server_get_port(S);
    corio_task *t = spawn(hold_connection, NULL);
    while (ev_n < 1)
        corio_sleep(0.01);
    cr_expect_eq(corio_server_close(S), 0);
    cr_expect_eq(corio_server_close(S), 0, "idempotent");
    cr_expect_eq(corio_server_get_port(S), -EBADF);
    corio_reader *r;
    corio_writer *w;
    cr_expect_eq(corio_open_connection(&r, &w, "127.0.0.1", port, NULL), -ECONNREFUSED,
                 "no longer accepting");
    ev(2);
    cr_expect_eq(corio_server_wait_closed(S), 0, "waits for the open connection");
    ev(4);
    EV_EXPECT(1, 2, 3, 4);
    join(t, NULL);
    corio_server_free(S);
    return NULL;
}
Test(stream_server, close_stops_accepting_and_wait_closed_waits_for_connections, .timeout = 10) { RUN_CHECKED(close_keeps_connections, NULL); }

static corio_reader *cr_[8];
static corio_writer *cw_[8];

static void open_idle_clients(int n)
{
    for (int i = 0; i < n; i++)
        cr_expect_eq(corio_open_connection(&cr_[i], &cw_[i], "127.0.0.1", corio_server_get_port(S), NULL), 0);
    while (started < n)
        corio_sleep(0.01);
    cr_expect_eq(corio_server_active_connections(S), (size_t)n);
}

static void close_idle_clients(int n)
{
    for (int i = 0; i < n; i++)
        corio_stream_free(cr_[i], cw_[i]);
}

static void *close_clients(void *arg)
{
    (void)arg;
    cr_assert_eq(corio_start_server(&S, "127.0.0.1", 0, echo_handler, NULL, NULL), 0);
    open_idle_clients(3);
    cr_expect_eq(corio_server_close(S), 0);
    cr_expect_eq(corio_server_close_clients(S), 0); /* the handlers' readline sees EOF */
    cr_expect_eq(corio_server_wait_closed(S), 0);
    cr_expect_eq(handled, 3);
    for (int i = 0; i < 3; i++) {
        cr_expect_eq(handler_results[i], 0, "handler %d ended with %d", i, handler_results[i]);
        const char *line;
        cr_expect_eq(corio_reader_readline(cr_[i], &line), 0, "the client sees EOF");
    }
    close_idle_clients(3);
    corio_server_free(S);
    return NULL;
}
Test(stream_server, close_clients_closes_each_connection, .timeout = 10) { RUN_CHECKED(close_clients, NULL); }

static void sleepy_handler(corio_reader *r, corio_writer *w, void *arg)
{
    (void)r;
    (void)w;
    (void)arg;
    started++;
    int rc = corio_sleep(100);
    if (handled < 64)
        handler_results[handled] = rc;
    handled++;
}

static void *abort_clients(void *arg)
{
    (void)arg;
    cr_assert_eq(corio_start_server(&S, "127.0.0.1", 0, sleepy_handler, NULL, NULL), 0);
    open_idle_clients(3);
    cr_expect_eq(corio_server_abort_clients(S), 0); /* handlers waiting elsewhere are cancelled */
    cr_expect_eq(corio_server_close(S), 0);
    cr_expect_eq(corio_server_wait_closed(S), 0);
    cr_expect_eq(handled, 3);
    for (int i = 0; i < 3; i++)
        cr_expect_eq(handler_results[i], -ECANCELED);
    close_idle_clients(3);
    corio_server_free(S);
    return NULL;
}
Test(stream_server, abort_clients_cancels_handlers, .timeout = 10) { RUN_CHECKED(abort_clients, NULL); }

static void *serve_forever_task(void *arg)
{
    (void)arg;
    return IV(corio_server_serve_forever(S));
}

static void *serve_forever(void *arg)
{
    (void)arg;
    cr_assert_eq(corio_start_server(&S, "127.0.0.1", 0, echo_handler, NULL, NULL), 0);
    corio_task *t = spawn(serve_forever_task, NULL);
    char reply[32] = {0};
    cr_expect_eq(client("x\n", reply, sizeof reply), 0);
    corio_server_close(S);
    void *v;
    cr_expect_eq(join(t, &v), 0);
    cr_expect_eq(VI(v), 0, "serve_forever returns when the server closes");
    /* Cancelled: serve_forever closes the server. */
    corio_server_free(S);
    cr_assert_eq(corio_start_server(&S, "127.0.0.1", 0, echo_handler, NULL, NULL), 0);
    t = spawn(serve_forever_task, NULL);
    corio_sleep(0.01);
    corio_task_cancel(t, NULL);
    cr_expect_eq(join(t, NULL), -ECANCELED);
    cr_expect_eq(corio_server_is_serving(S), 0);
    cr_expect_eq(corio_server_wait_closed(S), 0);
    corio_server_free(S);
    return NULL;
}
Test(stream_server, serve_forever_until_closed_or_cancelled, .timeout = 10) { RUN_CHECKED(serve_forever, NULL); }

static void *wait_closed_task(void *arg)
{
    (void)arg;
    return IV(corio_server_wait_closed(S));
}

static void *cancel_wait_closed(void *arg)
{
    (void)arg;
    cr_assert_eq(corio_start_server(&S, "127.0.0.1", 0, echo_handler, NULL, NULL), 0);
    corio_task *a = spawn(wait_closed_task, NULL), *b = spawn(wait_closed_task, NULL);
    corio_sleep(0.01);
    corio_task_cancel(a, NULL);
    cr_expect_eq(join(a, NULL), -ECANCELED);
    corio_server_close(S);
    void *v;
    cr_expect_eq(join(b, &v), 0);
    cr_expect_eq(VI(v), 0, "the other waiter is still woken");
    corio_server_free(S);
    return NULL;
}
Test(stream_server, cancel_in_wait_closed_leaves_other_waiters, .timeout = 10) { RUN_CHECKED(cancel_wait_closed, NULL); }

static void *address_in_use(void *arg)
{
    (void)arg;
    cr_assert_eq(corio_start_server(&S, "127.0.0.1", 0, echo_handler, NULL, NULL), 0);
    corio_server *again = (corio_server *)1;
    int rc = corio_start_server(&again, "127.0.0.1", corio_server_get_port(S), echo_handler, NULL, NULL);
    cr_expect_eq(rc, -EADDRINUSE, "got %s", corio_err_name(rc));
    cr_expect_null(again);
    corio_stream_opts o = {.flags = CORIO_SERVER_REUSE_PORT};
    corio_server *a, *b;
    cr_expect_eq(corio_start_server(&a, "127.0.0.1", 0, echo_handler, NULL, &o), 0);
    cr_expect_eq(corio_start_server(&b, "127.0.0.1", corio_server_get_port(a), echo_handler, NULL, &o), 0, "SO_REUSEPORT: two servers on one port");
    corio_server_free(a);
    corio_server_free(b);
    corio_server_free(S);
    return NULL;
}
Test(stream_server, address_in_use_is_eaddrinuse_without_leaks, .timeout = 10) { RUN_CHECKED(address_in_use, NULL); }

static void *bad_input(void *arg)
{
    (void)arg;
    corio_server *s = (corio_server *)1;
    cr_expect_eq(corio_start_server(&s, "127.0.0.1", 0, NULL, NULL, NULL), -EINVAL);
    cr_expect_null(s);
    cr_expect_eq(corio_start_server(&s, "127.0.0.1", -1, echo_handler, NULL, NULL), -EINVAL);
    cr_expect_eq(corio_start_server(&s, "127.0.0.1", 65536, echo_handler, NULL, NULL), -EINVAL);
    cr_expect_eq(corio_start_server(NULL, "127.0.0.1", 0, echo_handler, NULL, NULL), -EINVAL);
    cr_expect_eq(corio_start_unix_server(&s, NULL, echo_handler, NULL, NULL), -EINVAL);
    cr_expect_eq(corio_start_unix_server(&s, "/tmp/x.sock", NULL, NULL, NULL), -EINVAL);
    cr_expect_eq(corio_start_unix_server(&s, "/nonexistent-dir/x.sock", echo_handler, NULL, NULL),
                 -ENOENT);
    cr_expect_neq(corio_start_server(&s, "300.1.2.3", 0, echo_handler, NULL, NULL), 0);
    cr_expect_eq(corio_server_wait_closed(NULL), -EINVAL);
    cr_expect_eq(corio_server_serve_forever(NULL), -EINVAL);
    cr_expect_eq(corio_server_is_serving(NULL), 0);
    cr_expect_eq(corio_server_get_port(NULL), -EINVAL);
    int fds[2];
    cr_expect_eq(corio_server_sockets(NULL, fds, 2), -EINVAL);
    cr_expect_eq(corio_server_active_connections(NULL), 0);
    cr_expect_eq(corio_server_close(NULL), -EINVAL);
    cr_expect_eq(corio_server_close_clients(NULL), -EINVAL);
    cr_expect_eq(corio_server_abort_clients(NULL), -EINVAL);
    cr_expect_eq(corio_server_free(NULL), 0);
    /* A live server: NULL fds with room for some is refused, with none it only counts. */
    cr_assert_eq(corio_start_server(&s, "127.0.0.1", 0, echo_handler, NULL, NULL), 0);
    cr_expect_eq(corio_server_sockets(s, NULL, 1), -EINVAL);
    cr_expect_eq(corio_server_sockets(s, NULL, 0), 1);
    cr_expect_eq(corio_server_free(s), 0);
    return NULL;
}
Test(stream_server, bad_input_is_refused, .timeout = 10)
{
    skip_name_lookup_under_valgrind_on_io_uring();
    RUN_CHECKED(bad_input, NULL);
}

static void *start_task(void *arg)
{
    corio_server *s = NULL;
    int rc = corio_start_server(&s, arg, 0, echo_handler, NULL, NULL);
    cr_expect_eq(corio_server_free(s), 0);
    return IV(rc);
}

static void *cancel_while_starting(void *arg)
{
    (void)arg;
    corio_task *t = spawn(start_task, "localhost"); /* a name: looked up on a thread */
    corio_sleep(0);
    corio_task_cancel(t, NULL);
    cr_expect_eq(join(t, NULL), -ECANCELED);
    return NULL;
}
Test(stream_server, cancel_while_starting_leaves_nothing, .timeout = 10) { RUN_CHECKED(cancel_while_starting, NULL); }

static void *by_name(void *arg)
{
    (void)arg;
    int rc = corio_start_server(&S, "localhost", 0, echo_handler, NULL, NULL);
    cr_assert_eq(rc, 0, "%s", corio_strerror(rc));
    int n = corio_server_sockets(S, NULL, 0);
    cr_expect_geq(n, 1, "sockets: %s", corio_err_name(n));
    int fds[8];
    cr_expect_eq(corio_server_sockets(S, fds, 8), n);
    for (int i = 0; i < n && i < 8; i++)
        cr_expect_geq(fds[i], 0);
    cr_expect_eq(corio_server_free(S), 0);
    return NULL;
}
Test(stream_server, server_on_a_name_listens_on_each_address, .timeout = 10)
{
    skip_name_lookup_under_valgrind_on_io_uring();
    RUN_CHECKED(by_name, NULL);
}

static char upath[108];

static void *unix_server(void *arg)
{
    (void)arg;
    snprintf(upath, sizeof upath, "/tmp/corio-srv-%d.sock", (int)getpid());
    /* A stale socket file from an earlier run is replaced. */
    int stale = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    strcpy(sun.sun_path, upath);
    unlink(upath);
    cr_assert_eq(bind(stale, (struct sockaddr *)&sun, sizeof sun), 0);
    close(stale);
    int rc = corio_start_unix_server(&S, upath, echo_handler, NULL, NULL);
    cr_assert_eq(rc, 0, "%s", corio_strerror(rc));
    corio_reader *r;
    corio_writer *w;
    cr_expect_eq(corio_open_unix_connection(&r, &w, upath, NULL), 0);
    corio_writer_write(w, "over unix\n", 10);
    const char *line;
    cr_expect_eq(corio_reader_readline(r, &line), 10);
    cr_expect_eq(corio_stream_free(r, w), 0);
    cr_expect_eq(corio_server_close(S), 0);
    struct stat st;
    cr_expect_neq(stat(upath, &st), 0, "the socket file is removed on close");
    cr_expect_eq(corio_server_wait_closed(S), 0);
    corio_server_free(S);
    return NULL;
}
Test(stream_server, unix_server_replaces_stale_socket_and_removes_it, .timeout = 10) { RUN_CHECKED(unix_server, NULL); }

static void quiet_handler(corio_reader *r, corio_writer *w, void *arg)
{
    (void)r;
    (void)arg;
    corio_writer_write(w, "bye\n", 4); /* returns without closing: the server closes */
}

static void *handler_return_closes(void *arg)
{
    (void)arg;
    cr_assert_eq(corio_start_server(&S, "127.0.0.1", 0, quiet_handler, NULL, NULL), 0);
    corio_reader *r;
    corio_writer *w;
    cr_expect_eq(corio_open_connection(&r, &w, "127.0.0.1", corio_server_get_port(S), NULL), 0);
    const char *line;
    cr_expect_eq(corio_reader_readline(r, &line), 4);
    cr_expect_eq(corio_reader_readline(r, &line), 0, "EOF once the handler returned");
    corio_stream_free(r, w);
    corio_server_free(S);
    corio_sleep(0.01);
    return NULL;
}
Test(stream_server, handler_return_closes_the_connection, .timeout = 10) { RUN_CHECKED(handler_return_closes, NULL); }

static void *release_with_live_connections(void *arg)
{
    (void)arg;
    cr_assert_eq(corio_start_server(&S, "127.0.0.1", 0, echo_handler, NULL, NULL), 0);
    open_idle_clients(2);
    cr_expect_eq(corio_server_free(S), 0); /* the connections go on; it goes after them */
    S = NULL;
    corio_writer_write(cw_[0], "still\n", 6);
    const char *line;
    cr_expect_eq(corio_reader_readline(cr_[0], &line), 6);
    close_idle_clients(2);
    while (handled < 2)
        corio_sleep(0.01);
    return NULL;
}
Test(stream_server, release_lets_live_connections_finish, .timeout = 10) { RUN_CHECKED(release_with_live_connections, NULL); }

static void *chatty_client(void *arg)
{
    corio_reader *r;
    corio_writer *w;
    int rc = corio_open_connection(&r, &w, "127.0.0.1", corio_server_get_port(S), NULL);
    cr_expect_eq(rc, 0, "client %d: %s", VI(arg), corio_strerror(rc));
    if (rc < 0)
        return NULL;
    for (int i = 0; i < 20; i++) {
        char msg[64];
        int len = snprintf(msg, sizeof msg, "client %d line %d\n", VI(arg), i);
        corio_writer_write(w, msg, (size_t)len);
        const char *line;
        ssize_t n = corio_reader_readline(r, &line);
        cr_expect_eq(n, len);
        if (n != len || memcmp(line, msg, (size_t)len) != 0) {
            cr_expect(0, "client %d: wrong echo", VI(arg));
            break;
        }
    }
    corio_writer_close(w);
    cr_expect_eq(corio_writer_wait_closed(w), 0);
    corio_stream_free(r, w);
    return NULL;
}

static void *many_concurrent(void *arg)
{
    (void)arg;
    cr_assert_eq(corio_start_server(&S, "127.0.0.1", 0, echo_handler, NULL, &(corio_stream_opts){.backlog = 256}), 0);
    enum { N = 150 };
    corio_future *fs[N];
    for (int i = 0; i < N; i++)
        fs[i] = corio_task_future(spawn(chatty_client, IV(i)));
    cr_expect_eq(corio_gather(fs, N, 0, NULL, NULL), 0);
    for (int i = 0; i < N; i++)
        corio_future_unref(fs[i]);
    corio_server_close(S);
    cr_expect_eq(corio_server_wait_closed(S), 0);
    cr_expect_eq(handled, N);
    corio_server_free(S);
    return NULL;
}
Test(stream_server, many_concurrent_connections_interleave, .timeout = 30) { RUN_CHECKED(many_concurrent, NULL); }
