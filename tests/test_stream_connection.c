/* open_connection and friends: connecting by number and by name, refused connections, the
 * connect timeout (0 and CORIO_FOREVER: none), name lookup errors, Unix sockets, bad input, a
 * task cancelled while it resolves and while it connects (no fd, thread or lookup result left
 * behind); corio_stream_new on a socket, and the loop it binds to; corio_stream_free given
 * halves of two connections. */
#include "stream_helpers.h"

#include "stream/stream.h" /* corio__stream_connect_any */

#include <netdb.h>

/* Set by a task that finds the sandbox cannot run its check; the test body skips then (a task
 * must not longjmp out of its stack). */
static const char *skip_reason;

#define SKIP_IF_ASKED()                                                                            \
    do {                                                                                           \
        if (skip_reason)                                                                           \
            cr_skip_test("skipped: %s", skip_reason);                                              \
    } while (0)

static struct sockaddr_storage laddr;
static socklen_t lalen;

static int port_of(const struct sockaddr_storage *a)
{
    return a->ss_family == AF_INET ? ntohs(((const struct sockaddr_in *)a)->sin_port)
                                   : ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
}

/* Accepts one connection on the listener and echoes a line back. */
static void *echo_once(void *arg)
{
    int l = VI(arg);
    int c = corio_sock_accept(l, NULL, NULL);
    cr_expect_geq(c, 0);
    char buf[64];
    ssize_t n = corio_sock_recv(c, buf, sizeof buf, 0);
    if (n > 0)
        corio_sock_sendall(c, buf, (size_t)n, 0);
    corio_close(c);
    return NULL;
}

static void *connect_and_echo(void *arg)
{
    const char *host = arg;
    int v6 = strchr(host, ':') != NULL;
    int l = tcp_listener(v6, &laddr, &lalen);
    corio_task *t = spawn(echo_once, IV(l));
    corio_reader *r;
    corio_writer *w;
    int rc = corio_open_connection(&r, &w, host, port_of(&laddr), NULL);
    cr_expect_eq(rc, 0, "open_connection(%s): %s", host, corio_strerror(rc));
    if (rc == 0) {
        int one = 0;
        socklen_t len = sizeof one;
        getsockopt(corio_writer_get_fd(w), IPPROTO_TCP, TCP_NODELAY, &one, &len);
        cr_expect_eq(one, 1, "TCP_NODELAY is set");
        cr_expect_eq(corio_writer_write(w, "ping\n", 5), 0);
        const char *line;
        cr_expect_eq(corio_reader_readline(r, &line), 5);
        cr_expect_eq(corio_reader_readline(r, &line), 0);
        cr_expect_eq(corio_stream_free(r, w), 0);
    }
    join(t, NULL);
    corio_close(l);
    return NULL;
}
Test(stream_connection, open_connection_numeric_v4, .timeout = 10) { RUN_CHECKED(connect_and_echo, "127.0.0.1"); }
Test(stream_connection, open_connection_numeric_v6, .timeout = 10) { RUN_CHECKED(connect_and_echo, "::1"); }
Test(stream_connection, open_connection_by_name_resolves_off_the_loop, .timeout = 20)
{
    skip_name_lookup_under_valgrind_on_io_uring();
    RUN_CHECKED(connect_and_echo, "localhost");
}

static void *refused(void *arg)
{
    (void)arg;
    int l = tcp_listener(0, &laddr, &lalen);
    corio_close(l); /* the port is free now: nobody listens */
    corio_reader *r = (corio_reader *)1;
    corio_writer *w = (corio_writer *)1;
    int rc = corio_open_connection(&r, &w, "127.0.0.1", port_of(&laddr), NULL);
    cr_expect_eq(rc, -ECONNREFUSED, "got %s", corio_err_name(rc));
    cr_expect_null(r);
    cr_expect_null(w);
    return NULL;
}
Test(stream_connection, refused_connection_is_econnrefused, .timeout = 10) { RUN_CHECKED(refused, NULL); }

/* A listener whose accept queue is full drops new SYNs, so a connect to it hangs. */
static int full_listener(int *fillers, int nfill)
{
    int l = corio_socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in *a = (struct sockaddr_in *)&laddr;
    memset(&laddr, 0, sizeof laddr);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    lalen = sizeof *a;
    cr_assert_eq(bind(l, (struct sockaddr *)a, lalen), 0);
    cr_assert_eq(listen(l, 0), 0);
    cr_assert_eq(getsockname(l, (struct sockaddr *)a, &lalen), 0);
    for (int i = 0; i < nfill; i++) {
        fillers[i] = corio_socket(AF_INET, SOCK_STREAM, 0);
        corio_sock_connect(fillers[i], (struct sockaddr *)a, lalen, 0.2);
    }
    return l;
}

static void *connect_timeout(void *arg)
{
    (void)arg;
    int fillers[4];
    int l = full_listener(fillers, 4);
    corio_stream_opts o = {.connect_timeout = 0.3};
    corio_reader *r;
    corio_writer *w;
    double t0 = now_s();
    int rc = corio_open_connection(&r, &w, "127.0.0.1", port_of(&laddr), &o);
    double dt = now_s() - t0;
    if (rc == 0) {
        skip_reason = "this kernel accepted a connection beyond a full backlog";
        corio_stream_free(r, w);
    } else {
        cr_expect_eq(rc, -ETIMEDOUT, "got %s", corio_err_name(rc));
        cr_expect_geq(dt, 0.25, "not before the timeout: %.3f s", dt);
        cr_expect_lt(dt, 5.0);
    }
    for (int i = 0; i < 4; i++)
        corio_close(fillers[i]);
    corio_close(l);
    return NULL;
}
Test(stream_connection, connect_timeout_is_etimedout, .timeout = 15) { RUN_CHECKED(connect_timeout, NULL); SKIP_IF_ASKED(); }

/* A connect_timeout of 0 (the zero of a zeroed struct: the default) means no limit, as
 * CORIO_FOREVER does, not "do not wait": a connect to a full listener is still waiting after
 * 0.3 s, until its task is cancelled. */
static void *connect_with_timeout(void *arg)
{
    corio_stream_opts o = {.connect_timeout = *(const double *)arg};
    corio_reader *r;
    corio_writer *w;
    int rc = corio_open_connection(&r, &w, "127.0.0.1", port_of(&laddr), &o);
    if (rc == 0)
        corio_stream_free(r, w);
    return IV(rc);
}

static void *no_connect_timeout(void *arg)
{
    (void)arg;
    static const double timeouts[] = {0, CORIO_FOREVER};
    int fillers[4];
    int l = full_listener(fillers, 4);
    for (int i = 0; i < 2 && !skip_reason; i++) {
        corio_task *t = spawn(connect_with_timeout, (void *)&timeouts[i]);
        corio_sleep(0.3);
        void *v = NULL;
        if (corio_future_done(corio_task_future(t))) {
            cr_expect_eq(join(t, &v), 0);
            if (VI(v) == 0)
                skip_reason = "this kernel accepted a connection beyond a full backlog";
            else
                cr_expect(0, "connect_timeout %g: the connect ended with %s", timeouts[i],
                          corio_err_name(VI(v)));
            continue;
        }
        cr_expect_eq(corio_task_cancel(t, NULL), 1);
        int rc = join(t, &v);
        if (rc == 0)
            rc = VI(v);
        cr_expect_eq(rc, -ECANCELED, "connect_timeout %g: %s", timeouts[i], corio_err_name(rc));
    }
    for (int i = 0; i < 4; i++)
        corio_close(fillers[i]);
    corio_close(l);
    return NULL;
}
Test(stream_connection, connect_timeout_zero_or_forever_is_no_limit, .timeout = 15) { RUN_CHECKED(no_connect_timeout, NULL); SKIP_IF_ASKED(); }

static void *nonroutable(void *arg)
{
    (void)arg;
    corio_stream_opts o = {.connect_timeout = 0.3};
    corio_reader *r;
    corio_writer *w;
    int rc = corio_open_connection(&r, &w, "10.255.255.1", 9, &o);
    if (rc == 0) {
        skip_reason = "10.255.255.1 is reachable here (a proxying sandbox)";
        corio_stream_free(r, w);
    } else if (rc != -ETIMEDOUT) {
        skip_reason = "10.255.255.1 failed fast here, not by the timeout";
    }
    return NULL;
}
Test(stream_connection, connect_timeout_to_a_nonroutable_address, .timeout = 15) { RUN_CHECKED(nonroutable, NULL); SKIP_IF_ASKED(); }

static void *cancel_connect_task(void *arg)
{
    (void)arg;
    corio_reader *r;
    corio_writer *w;
    return IV(corio_open_connection(&r, &w, "127.0.0.1", port_of(&laddr), NULL));
}

static void *cancel_while_connecting(void *arg)
{
    (void)arg;
    int fillers[4];
    int l = full_listener(fillers, 4);
    corio_task *t = spawn(cancel_connect_task, NULL);
    corio_sleep(0.1);
    corio_task_cancel(t, NULL);
    int rc = join(t, NULL);
    cr_expect(rc == -ECANCELED || rc == 0, "got %s", corio_err_name(rc));
    for (int i = 0; i < 4; i++)
        corio_close(fillers[i]);
    corio_close(l);
    return NULL;
}
Test(stream_connection, cancel_while_connecting_leaves_no_fd, .timeout = 10) { RUN_CHECKED(cancel_while_connecting, NULL); }

static void *resolve_task(void *arg)
{
    corio_reader *r;
    corio_writer *w;
    int rc = corio_open_connection(&r, &w, arg, 1, NULL);
    if (rc == 0)
        corio_stream_free(r, w);
    return IV(rc);
}

static void *cancel_while_resolving(void *arg)
{
    (void)arg;
    /* Cancelled at its first await: the lookup thread goes on alone and frees its result. */
    for (int i = 0; i < 20; i++) {
        corio_task *t = spawn(resolve_task, "localhost");
        corio_sleep(0);
        corio_task_cancel(t, NULL);
        int rc = join(t, NULL);
        cr_expect(rc == -ECANCELED, "got %s", corio_err_name(rc));
    }
    return NULL;
}
Test(stream_connection, cancel_while_resolving_leaks_nothing, .timeout = 20) { RUN_CHECKED(cancel_while_resolving, NULL); }

static void *unknown_host(void *arg)
{
    (void)arg;
    corio_task *t = spawn(resolve_task, "no-such-host.invalid");
    void *v = NULL;
    int rc = corio_wait_for(corio_task_future(t), 20.0, &v);
    corio_task_unref(t);
    if (rc == -ETIMEDOUT) {
        skip_reason = "the resolver here takes over 20 s to fail";
        return NULL;
    }
    rc = VI(v);
    /* CORIO_EAI_NONAME as a rule; a sandbox without a resolver may say EAI_AGAIN or EAI_FAIL,
     * and EAI_SYSTEM comes back as -errno. */
    int is_eai = rc >= CORIO_EAI_OVERFLOW && rc <= CORIO_EAI_AGAIN;
    cr_expect(is_eai || (rc < 0 && rc > -4096), "got %d (%s)", rc, corio_err_name(rc));
    if (is_eai)
        cr_expect_eq(strncmp(corio_err_name(rc), "CORIO_EAI_", 10), 0, "%s", corio_err_name(rc));
    return NULL;
}
Test(stream_connection, unknown_host_is_a_lookup_error, .timeout = 30)
{
    skip_name_lookup_under_valgrind_on_io_uring();
    RUN_CHECKED(unknown_host, NULL);
    SKIP_IF_ASKED();
}

static void *bad_input(void *arg)
{
    (void)arg;
    corio_reader *r;
    corio_writer *w;
    cr_expect_eq(corio_open_connection(&r, &w, NULL, 80, NULL), -EINVAL);
    cr_expect_eq(corio_open_connection(&r, &w, "127.0.0.1", -1, NULL), -EINVAL);
    cr_expect_eq(corio_open_connection(&r, &w, "127.0.0.1", 65536, NULL), -EINVAL);
    cr_expect_eq(corio_open_connection(NULL, &w, "127.0.0.1", 80, NULL), -EINVAL);
    cr_expect_eq(corio_open_connection(&r, NULL, "127.0.0.1", 80, NULL), -EINVAL);
    cr_expect_eq(corio_open_unix_connection(&r, &w, NULL, NULL), -EINVAL);
    cr_expect_eq(corio_open_unix_connection(&r, &w, "", NULL), -EINVAL);
    char *longpath = repeat('p', 200);
    cr_expect_eq(corio_open_unix_connection(&r, &w, longpath, NULL), -ENAMETOOLONG);
    free(longpath);
    cr_expect_eq(corio_open_unix_connection(&r, &w, "/nonexistent/corio.sock", NULL), -ENOENT);
    corio_stream_opts o = {.family = AF_INET6};
    int rc = corio_open_connection(&r, &w, "127.0.0.1", 80, &o);
    cr_expect_lt(rc, 0, "an IPv4 address with family AF_INET6: %s", corio_err_name(rc));
    return NULL;
}
Test(stream_connection, bad_input_is_refused, .timeout = 10) { RUN_CHECKED(bad_input, NULL); }

Test(stream_connection, outside_a_task_is_enotask, .timeout = 10)
{
    FD_CHECK_BEGIN();
    corio_loop *loop = new_loop();
    corio_set_event_loop(loop);
    corio_reader *r;
    corio_writer *w;
    cr_expect_eq(corio_open_connection(&r, &w, "127.0.0.1", 80, NULL), CORIO_ENOTASK);
    cr_expect_eq(corio_open_unix_connection(&r, &w, "/tmp/x", NULL), CORIO_ENOTASK);
    corio_loop_free(loop);
    FD_CHECK_END();
}

static char upath[108];

static void *unix_accept_echo(void *arg)
{
    int l = VI(arg);
    return echo_once(IV(l));
}

static void *unix_roundtrip(void *arg)
{
    (void)arg;
    snprintf(upath, sizeof upath, "/tmp/corio-test-%d.sock", (int)getpid());
    unlink(upath);
    int l = corio_socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    strcpy(sun.sun_path, upath);
    cr_assert_eq(bind(l, (struct sockaddr *)&sun, sizeof sun), 0);
    cr_assert_eq(listen(l, 8), 0);
    corio_task *t = spawn(unix_accept_echo, IV(l));
    corio_reader *r;
    corio_writer *w;
    int rc = corio_open_unix_connection(&r, &w, upath, NULL);
    cr_expect_eq(rc, 0, "%s", corio_strerror(rc));
    if (rc == 0) {
        corio_writer_write(w, "unix\n", 5);
        const char *line;
        cr_expect_eq(corio_reader_readline(r, &line), 5);
        cr_expect_eq(corio_stream_free(r, w), 0);
    }
    join(t, NULL);
    corio_close(l);
    unlink(upath);
    return NULL;
}
Test(stream_connection, unix_connection_roundtrip, .timeout = 10) { RUN_CHECKED(unix_roundtrip, NULL); }

/* Each resolved address is tried in order until one connects (happy eyeballs, lite). */
static void *each_address_in_order(void *arg)
{
    (void)arg;
    struct sockaddr_storage closed;
    socklen_t clen;
    corio_close(tcp_listener(0, &closed, &clen)); /* a port nobody listens on */
    int l = tcp_listener(0, &laddr, &lalen);
    struct addrinfo second = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM,
                              .ai_addr = (struct sockaddr *)&laddr, .ai_addrlen = lalen};
    struct addrinfo first = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM,
                             .ai_addr = (struct sockaddr *)&closed, .ai_addrlen = clen,
                             .ai_next = &second};
    int fd = corio__stream_connect_any(&first, 5.0);
    cr_expect_geq(fd, 0, "the second address connects: %s", corio_err_name(fd));
    if (fd >= 0)
        corio_close(fd);
    first.ai_next = NULL;
    cr_expect_eq(corio__stream_connect_any(&first, 0), -ECONNREFUSED, "the first error");
    corio_close(l);
    return NULL;
}
Test(stream_connection, each_address_is_tried_in_order, .timeout = 10) { RUN_CHECKED(each_address_in_order, NULL); }

/* ---- corio_stream_new: a connection on a socket the caller gives away, bound to a loop ---- */

/* Without a running or current loop: CORIO_ENOLOOP; on a closed loop: CORIO_ECLOSED. On an
 * error the fd stays the caller's. */
Test(stream_connection, stream_new_without_a_loop_is_enoloop, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int fds[2];
    tcp_pair(fds);
    corio_reader *r = (corio_reader *)1;
    corio_writer *w = (corio_writer *)1;
    cr_assert_eq(corio_stream_new(&r, &w, NULL, fds[0], NULL), CORIO_ENOLOOP);
    cr_assert_null(r);
    cr_assert_null(w);
    cr_assert_geq(fcntl(fds[0], F_GETFD), 0, "the fd is still the caller's");
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_loop_close(loop), 0);
    r = (corio_reader *)1;
    cr_assert_eq(corio_stream_new(&r, &w, loop, fds[0], NULL), CORIO_ECLOSED);
    cr_assert_null(r);
    cr_assert_geq(fcntl(fds[0], F_GETFD), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
    close(fds[0]);
    close(fds[1]);
    FD_CHECK_END();
}

static corio_reader *nr;
static corio_writer *nw;
static int far_end = -1;

/* A line each way over nr/nw, with far_end as the other side; closes far_end. */
static void *line_each_way(void *arg)
{
    (void)arg;
    cr_expect_eq(corio_sock_sendall(far_end, "hi\n", 3, 0), 3);
    const char *line;
    cr_expect_eq(corio_reader_readline(nr, &line), 3);
    cr_expect_eq(corio_writer_write(nw, "yo\n", 3), 0);
    cr_expect_eq(corio_writer_drain(nw), 0);
    char buf[4];
    size_t got = 0;
    while (got < 3) {
        ssize_t n = corio_sock_recv(far_end, buf + got, sizeof buf - got, 0);
        cr_expect_gt(n, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    corio_close(far_end);
    far_end = -1;
    return NULL;
}

/* Made outside the loop, on a loop named or current: the stream works on that loop. */
Test(stream_connection, stream_new_on_a_named_or_current_loop, .timeout = 10)
{
    FD_CHECK_BEGIN();
    for (int current = 0; current < 2; current++) {
        int fds[2];
        tcp_pair(fds);
        far_end = fds[1];
        corio_loop *loop = new_loop();
        if (current)
            cr_assert_eq(corio_set_event_loop(loop), 0);
        int rc = corio_stream_new(&nr, &nw, current ? NULL : loop, fds[0], NULL);
        cr_assert_eq(rc, 0, "%s loop: %s", current ? "current" : "named", corio_strerror(rc));
        cr_assert_eq(run_main(loop, line_each_way, NULL, NULL), 0);
        cr_assert_eq(corio_stream_free(nr, nw), 0);
        run_once(loop); /* the close completes */
        cr_assert_eq(corio_loop_free(loop), 0);
        cr_assert_null(corio_get_event_loop(), "a freed current loop is no longer current");
    }
    FD_CHECK_END();
}

static void *readline_task(void *arg)
{
    (void)arg;
    const char *line;
    return IV(corio_reader_readline(nr, &line));
}

/* In a task, NULL is the running loop even when another loop is current: the read waits on the
 * running loop's poller and wakes (on the idle current loop it would never wake). */
static void *running_loop_first(void *arg)
{
    (void)arg;
    int fds[2];
    tcp_pair(fds);
    far_end = fds[1];
    int rc = corio_stream_new(&nr, &nw, NULL, fds[0], NULL);
    cr_expect_eq(rc, 0, "%s", corio_strerror(rc));
    if (rc < 0) {
        corio_close(fds[0]);
        corio_close(fds[1]);
        return NULL;
    }
    corio_task *t = spawn(readline_task, NULL);
    corio_sleep(0.02); /* the read is waiting now */
    cr_expect_eq(corio_sock_sendall(far_end, "hi\n", 3, 0), 3);
    void *v = NULL;
    rc = corio_wait_for(corio_task_future(t), 5.0, &v);
    corio_task_unref(t);
    cr_expect_eq(rc, 0, "the read woke: %s", corio_err_name(rc));
    cr_expect_eq(VI(v), 3);
    cr_expect_eq(corio_stream_free(nr, nw), 0);
    corio_close(far_end);
    return NULL;
}

Test(stream_connection, stream_new_prefers_the_running_loop_to_the_current_one, .timeout = 10)
{
    FD_CHECK_BEGIN();
    corio_loop *idle = new_loop(), *loop = new_loop();
    cr_assert_eq(corio_set_event_loop(idle), 0);
    cr_assert_eq(run_main(loop, running_loop_first, NULL, NULL), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_assert_eq(corio_get_event_loop(), idle);
    cr_assert_eq(corio_loop_free(idle), 0);
    FD_CHECK_END();
}

/* corio_stream_free(r, w) with halves of two connections is -EINVAL and frees nothing; one
 * half alone frees its connection. */
static void *free_mismatched_halves(void *arg)
{
    (void)arg;
    corio_reader *r[2];
    corio_writer *w[2];
    int far[2];
    for (int i = 0; i < 2; i++) {
        int fds[2];
        tcp_pair(fds);
        cr_expect_eq(corio_stream_new(&r[i], &w[i], NULL, fds[0], NULL), 0);
        far[i] = fds[1];
    }
    cr_expect_eq(corio_stream_free(r[0], w[1]), -EINVAL, "halves of two connections");
    cr_expect_eq(corio_stream_free(r[1], w[0]), -EINVAL);
    /* Nothing was closed or freed: both connections still work both ways. */
    for (int i = 0; i < 2; i++) {
        cr_expect_eq(corio_writer_is_closing(w[i]), 0);
        cr_expect_eq(corio_writer_write(w[i], "x", 1), 0);
        char c;
        cr_expect_eq(corio_sock_recv(far[i], &c, 1, 0), 1);
        cr_expect_eq(corio_sock_sendall(far[i], "y\n", 2, 0), 2);
        const char *line;
        cr_expect_eq(corio_reader_readline(r[i], &line), 2);
    }
    cr_expect_eq(corio_stream_free(r[0], NULL), 0, "the reader alone");
    cr_expect_eq(corio_stream_free(NULL, w[1]), 0, "the writer alone");
    for (int i = 0; i < 2; i++) {
        char c;
        cr_expect_eq(corio_sock_recv(far[i], &c, 1, 0), 0, "connection %d is closed", i);
        corio_close(far[i]);
    }
    return NULL;
}
Test(stream_connection, stream_free_refuses_halves_of_two_connections, .timeout = 10) { RUN_CHECKED(free_mismatched_halves, NULL); }
