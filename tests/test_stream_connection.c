/* open_connection and friends: connecting by number and by name, refused connections, the
 * connect timeout, name lookup errors, Unix sockets, bad input, and a task cancelled while it
 * resolves and while it connects (no fd, thread or lookup result left behind). */
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
    int rc = corio_open_connection(host, port_of(&laddr), NULL, &r, &w);
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
        corio_stream_release(r, w);
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
    int rc = corio_open_connection("127.0.0.1", port_of(&laddr), NULL, &r, &w);
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
    int rc = corio_open_connection("127.0.0.1", port_of(&laddr), &o, &r, &w);
    double dt = now_s() - t0;
    if (rc == 0) {
        skip_reason = "this kernel accepted a connection beyond a full backlog";
        corio_stream_release(r, w);
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

static void *nonroutable(void *arg)
{
    (void)arg;
    corio_stream_opts o = {.connect_timeout = 0.3};
    corio_reader *r;
    corio_writer *w;
    int rc = corio_open_connection("10.255.255.1", 9, &o, &r, &w);
    if (rc == 0) {
        skip_reason = "10.255.255.1 is reachable here (a proxying sandbox)";
        corio_stream_release(r, w);
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
    return IV(corio_open_connection("127.0.0.1", port_of(&laddr), NULL, &r, &w));
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
    int rc = corio_open_connection(arg, 1, NULL, &r, &w);
    if (rc == 0)
        corio_stream_release(r, w);
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
    cr_expect(rc <= CORIO_EAI(EAI_NONAME) + 0 || rc < 0, "got %d", rc);
    cr_expect_neq(rc, 0);
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
    cr_expect_eq(corio_open_connection(NULL, 80, NULL, &r, &w), -EINVAL);
    cr_expect_eq(corio_open_connection("127.0.0.1", -1, NULL, &r, &w), -EINVAL);
    cr_expect_eq(corio_open_connection("127.0.0.1", 65536, NULL, &r, &w), -EINVAL);
    cr_expect_eq(corio_open_connection("127.0.0.1", 80, NULL, NULL, &w), -EINVAL);
    cr_expect_eq(corio_open_connection("127.0.0.1", 80, NULL, &r, NULL), -EINVAL);
    cr_expect_eq(corio_open_unix_connection(NULL, NULL, &r, &w), -EINVAL);
    cr_expect_eq(corio_open_unix_connection("", NULL, &r, &w), -EINVAL);
    char *longpath = repeat('p', 200);
    cr_expect_eq(corio_open_unix_connection(longpath, NULL, &r, &w), -ENAMETOOLONG);
    free(longpath);
    cr_expect_eq(corio_open_unix_connection("/nonexistent/corio.sock", NULL, &r, &w), -ENOENT);
    corio_stream_opts o = {.family = AF_INET6};
    int rc = corio_open_connection("127.0.0.1", 80, &o, &r, &w);
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
    cr_expect_eq(corio_open_connection("127.0.0.1", 80, NULL, &r, &w), CORIO_ENOTASK);
    cr_expect_eq(corio_open_unix_connection("/tmp/x", NULL, &r, &w), CORIO_ENOTASK);
    corio_loop_close(loop);
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
    int rc = corio_open_unix_connection(upath, NULL, &r, &w);
    cr_expect_eq(rc, 0, "%s", corio_strerror(rc));
    if (rc == 0) {
        corio_writer_write(w, "unix\n", 5);
        const char *line;
        cr_expect_eq(corio_reader_readline(r, &line), 5);
        corio_stream_release(r, w);
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
