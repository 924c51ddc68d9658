/* Helpers for the TLS tests: the test PKI (tls_pki.h), contexts made from it, a corio TLS server
 * in the test's loop, and real peers: `openssl s_server` / `s_client` and Python's ssl module,
 * run as child processes through corio's own process API. */
#ifndef CORIO_TESTS_TLS_HELPERS_H
#define CORIO_TESTS_TLS_HELPERS_H

#include "io_helpers.h"
#include "tls_pki.h"

#include <signal.h>

static pki PKI;

static inline void pki_setup(void) { pki_make(&PKI); }
static inline void pki_teardown(void) { pki_remove(&PKI); }

/* Contexts are made in the test's body, outside the loop: a failed cr_assert must not longjmp
 * out of a task's stack. */

/* A client context trusting the test CA (more options in o, may be NULL). */
static inline corio_tls_context *client_ctx(const corio_tls_context_opts *o)
{
    corio_tls_context_opts opts = o ? *o : (corio_tls_context_opts){0};
    if (!opts.cafile && !(opts.flags & CORIO_TLS_NO_VERIFY))
        opts.cafile = PKI.path[PKI_CA];
    corio_tls_context *c = NULL;
    int rc = corio_tls_context_new(&c, CORIO_TLS_CLIENT, &opts);
    cr_assert_eq(rc, 0, "client context: %s (%s)", corio_strerror(rc), corio_tls_get_error());
    return c;
}

/* A server context with the certificate at PKI.path[cert] (PKI_SERVER when 0). */
static inline corio_tls_context *server_ctx(int cert, const corio_tls_context_opts *o)
{
    corio_tls_context_opts opts = o ? *o : (corio_tls_context_opts){0};
    if (!cert)
        cert = PKI_SERVER;
    opts.certfile = PKI.path[cert];
    opts.keyfile = PKI.path[cert + 1];
    if (!opts.cafile)
        opts.cafile = PKI.path[PKI_CA];
    corio_tls_context *c = NULL;
    int rc = corio_tls_context_new(&c, CORIO_TLS_SERVER, &opts);
    cr_assert_eq(rc, 0, "server context: %s (%s)", corio_strerror(rc), corio_tls_get_error());
    return c;
}

/* A loopback port nobody listens on now (for a peer process to take). */
static inline int free_port(void)
{
    struct sockaddr_storage a;
    socklen_t alen;
    int l = tcp_listener(0, &a, &alen);
    int port = ntohs(((struct sockaddr_in *)&a)->sin_port);
    corio_close(l);
    return port;
}

/* In a task: `openssl s_server` on 127.0.0.1:*port serving PKI.path[cert] (with its chain),
 * echoing each line reversed (-rev), for one connection; extra arguments after. Returns once it
 * listens; NULL (reported) if it could not start. */
static inline corio_process *s_server_start(int cert, const char *const *extra, int *port)
{
    host_children_env();
    for (int attempt = 0; attempt < 5; attempt++) {
        char accept[32];
        *port = free_port();
        snprintf(accept, sizeof accept, "127.0.0.1:%d", *port);
        const char *argv[32] = {"openssl", "s_server", "-accept", accept, "-cert",
                                PKI.path[cert], "-key", PKI.path[cert + 1], "-rev",
                                "-naccept", "1"};
        size_t n = 11;
        for (; extra && *extra && n < 31; extra++)
            argv[n++] = *extra;
        argv[n] = NULL;
        corio_process_opts po = {.stdin_mode = CORIO_PROCESS_DEVNULL,
                                 .stdout_mode = CORIO_PROCESS_PIPE,
                                 .stderr_mode = CORIO_PROCESS_STDOUT};
        corio_process *p = NULL;
        int rc = corio_create_subprocess_exec(&p, NULL, argv, &po);
        cr_expect_eq(rc, 0, "openssl s_server: %s", corio_strerror(rc));
        if (rc < 0)
            return NULL;
        const char *line;
        ssize_t k;
        while ((k = corio_reader_readline(corio_process_get_stdout(p), &line)) > 0)
            if (k >= 6 && strncmp(line, "ACCEPT", 6) == 0)
                return p;
        /* It could not listen (the port was taken meanwhile): again with another. */
        corio_process_kill(p);
        corio_process_wait(p, NULL);
        corio_process_free(p);
    }
    cr_expect_fail("openssl s_server did not start");
    return NULL;
}

static inline void peer_stop(corio_process *p)
{
    if (!p)
        return;
    corio_process_kill(p);
    corio_process_wait(p, NULL);
    corio_process_free(p);
}

/* In a task: a TLS connection to 127.0.0.1:port with ctx, verifying `name` (NULL: the IP). */
static inline int tls_connect(corio_reader **r, corio_writer **w, int port,
                              corio_tls_context *ctx, const char *name)
{
    corio_stream_opts o = {.tls = ctx, .server_hostname = name, .tls_handshake_timeout = 20};
    return corio_open_connection(r, w, "127.0.0.1", port, &o);
}

/* In a task: a corio TLS server on 127.0.0.1 (a free port) with ctx, running handler; more
 * options in o (may be NULL). NULL (reported) on failure. */
static inline corio_server *tls_server_start(corio_tls_context *ctx, corio_stream_handler_fn handler,
                                             void *arg, const corio_stream_opts *o)
{
    corio_stream_opts opts = o ? *o : (corio_stream_opts){0};
    opts.tls = ctx;
    corio_server *srv = NULL;
    int rc = corio_start_server(&srv, "127.0.0.1", 0, handler, arg, &opts);
    cr_expect_eq(rc, 0, "start_server: %s", corio_strerror(rc));
    return srv;
}

/* In a task: closes srv, waits for its connections to end, returns its stats, frees it. */
static inline corio_server_stats tls_server_stop(corio_server *srv)
{
    corio_server_stats st = {0};
    if (!srv)
        return st;
    corio_server_close(srv);
    corio_server_wait_closed(srv);
    corio_server_get_stats(srv, &st);
    corio_server_free(srv);
    return st;
}

/* A server's echo handler: each line back, prefixed "echo: ", until EOF. */
static inline void echo_lines(corio_reader *r, corio_writer *w, void *arg)
{
    (void)arg;
    const char *line;
    ssize_t n;
    while ((n = corio_reader_readline(r, &line)) > 0) {
        corio_writer_write(w, "echo: ", 6);
        corio_writer_write(w, line, (size_t)n);
        if (corio_writer_drain(w) < 0)
            break;
    }
}

/* In a task: a plain TCP listener on 127.0.0.1 (a peer that speaks no TLS); its port in *port. */
static inline int plain_listener(int *port)
{
    struct sockaddr_storage a;
    socklen_t alen;
    int l = tcp_listener(0, &a, &alen);
    *port = ntohs(((struct sockaddr_in *)&a)->sin_port);
    return l;
}

/* Runs fn as the main task of a fresh loop and checks that no fd is left open. Valgrind 3.19 has
 * no pidfd_open and delivers SIGCHLD to a thread in io_uring_enter some 30 s late: tests with
 * peer processes skip the io_uring variant there (as tests/process_helpers.h). */
#define RUN_CHECKED_TLS(fn, arg)                                                                   \
    do {                                                                                           \
        const char *be_ = getenv("CORIO_BACKEND");                                                 \
        if (under_valgrind() && be_ && strcmp(be_, "io_uring") == 0)                               \
            cr_skip_test("peer processes under Valgrind on io_uring: SIGCHLD comes 30 s late");    \
        FD_CHECK_BEGIN();                                                                          \
        int run_rc_ = corio_run(fn, arg, NULL, NULL);                                              \
        cr_assert_eq(run_rc_, 0, "main task: %s", corio_strerror(run_rc_));                        \
        FD_CHECK_END();                                                                            \
    } while (0)

/* Whether Python's ssl module is there to play the peer. */
static inline int have_python_ssl(void)
{
    return system("python3 -c 'import ssl' >/dev/null 2>&1") == 0;
}

#endif
