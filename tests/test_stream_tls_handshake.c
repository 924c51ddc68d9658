/* TLS handshakes between corio's client and server, and against peers that do not play along:
 * ALPN with no protocol in common, a client certificate required and missing (and given),
 * session resumption, a server that never answers (handshake timeout), plaintext where TLS was
 * expected on either side, a task cancelled during the handshake, 1,000 handshakes at once, and
 * SSLKEYLOGFILE. */
#include "tls_helpers.h"

TestSuite(tls_handshake, .init = pki_setup, .fini = pki_teardown, .timeout = 120);

typedef struct hs_case {
    corio_tls_context *sctx, *cctx;
    int rc;            /* the client's open_connection */
    ssize_t read_rc;   /* the client's first readline after writing "hi\n" */
    char why[160];
    char handler_saw[256]; /* the handler's view: the peer's subject, or "" */
    corio_server_stats st;
} hs_case;

static void subject_handler(corio_reader *r, corio_writer *w, void *arg)
{
    hs_case *c = arg;
    corio_tls_info info;
    if (corio_writer_get_tls_info(w, &info) == 0)
        snprintf(c->handler_saw, sizeof c->handler_saw, "%s", info.peer_subject);
    echo_lines(r, w, NULL);
}

static void *client_server(void *arg)
{
    hs_case *c = arg;
    corio_server *srv = tls_server_start(c->sctx, subject_handler, c, NULL);
    if (!srv)
        return NULL;
    corio_reader *r;
    corio_writer *w;
    c->rc = tls_connect(&r, &w, corio_server_get_port(srv), c->cctx, "localhost");
    snprintf(c->why, sizeof c->why, "%s", corio_tls_get_error());
    if (c->rc == 0) {
        corio_writer_write(w, "hi\n", 3);
        const char *line;
        c->read_rc = corio_reader_readline(r, &line);
        if (c->read_rc < 0)
            snprintf(c->why, sizeof c->why, "%s", corio_writer_get_tls_error(w));
        corio_stream_free(r, w);
    }
    c->st = tls_server_stop(srv);
    return NULL;
}

static void run_hs(hs_case *c)
{
    RUN_CHECKED_TLS(client_server, c);
    corio_tls_context_free(c->sctx);
    corio_tls_context_free(c->cctx);
}

Test(tls_handshake, corio_to_corio)
{
    hs_case c = {.sctx = server_ctx(0, NULL), .cctx = client_ctx(NULL)};
    run_hs(&c);
    cr_expect_eq(c.rc, 0, "%s: %s", corio_err_name(c.rc), c.why);
    cr_expect_eq(c.read_rc, 9); /* "echo: hi\n" */
    cr_expect_eq(c.st.tls_failures, 0);
    cr_expect_str_eq(c.handler_saw, ""); /* no client certificate asked for */
}

Test(tls_handshake, alpn_with_no_protocol_in_common_is_refused)
{
    corio_tls_context_opts so = {.alpn = "h2"}, co = {.alpn = "http/1.1"};
    hs_case c = {.sctx = server_ctx(0, &so), .cctx = client_ctx(&co)};
    run_hs(&c);
    cr_expect_eq(c.rc, CORIO_ETLSPROTO, "%s: %s", corio_err_name(c.rc), c.why);
    cr_expect(strstr(c.why, "application protocol"), "why: %s", c.why);
    cr_expect_eq(c.st.tls_failures, 1);
}

Test(tls_handshake, a_client_certificate_required_and_given)
{
    corio_tls_context_opts so = {.flags = CORIO_TLS_VERIFY_CLIENT};
    corio_tls_context_opts co = {.certfile = PKI.path[PKI_CLIENT], .keyfile = PKI.path[PKI_CLIENT_KEY]};
    hs_case c = {.sctx = server_ctx(0, &so), .cctx = client_ctx(&co)};
    run_hs(&c);
    cr_expect_eq(c.rc, 0, "%s: %s", corio_err_name(c.rc), c.why);
    cr_expect_eq(c.read_rc, 9);
    cr_expect(strstr(c.handler_saw, "CN=client"), "handler saw %s", c.handler_saw);
}

Test(tls_handshake, a_client_certificate_required_and_missing)
{
    corio_tls_context_opts so = {.flags = CORIO_TLS_VERIFY_CLIENT};
    hs_case c = {.sctx = server_ctx(0, &so), .cctx = client_ctx(NULL)};
    run_hs(&c);
    /* TLS 1.3: the client's side is done before the server looks; the refusal comes as an alert
     * at the first read. The handler never runs. */
    cr_expect_eq(c.rc, 0, "%s: %s", corio_err_name(c.rc), c.why);
    cr_expect_eq(c.read_rc, CORIO_ETLSPROTO, "%s: %s", corio_err_name((int)c.read_rc), c.why);
    cr_expect(strstr(c.why, "certificate required"), "why: %s", c.why);
    cr_expect_eq(c.st.tls_failures, 1);
    cr_expect_str_eq(c.handler_saw, "");
}

Test(tls_handshake, an_optional_client_certificate_may_be_left_out)
{
    corio_tls_context_opts so = {.flags = CORIO_TLS_VERIFY_CLIENT_OPTIONAL};
    hs_case c = {.sctx = server_ctx(0, &so), .cctx = client_ctx(NULL)};
    run_hs(&c);
    cr_expect_eq(c.rc, 0, "%s: %s", corio_err_name(c.rc), c.why);
    cr_expect_eq(c.read_rc, 9);
}

Test(tls_handshake, a_client_certificate_from_an_unknown_ca_is_refused)
{
    corio_tls_context_opts so = {.flags = CORIO_TLS_VERIFY_CLIENT_OPTIONAL};
    corio_tls_context_opts co = {.certfile = PKI.path[PKI_ROGUE], .keyfile = PKI.path[PKI_ROGUE_KEY]};
    hs_case c = {.sctx = server_ctx(0, &so), .cctx = client_ctx(&co)};
    run_hs(&c);
    cr_expect(c.rc == CORIO_ETLSPROTO || c.read_rc == CORIO_ETLSPROTO, "%s / %s: %s",
              corio_err_name(c.rc), corio_err_name((int)c.read_rc), c.why);
    cr_expect_eq(c.st.tls_failures, 1);
}

/* ---- resumption ---- */

typedef struct resume_case {
    corio_tls_context *sctx, *cctx;
    int reused[3];
} resume_case;

static void *three_connections(void *arg)
{
    resume_case *c = arg;
    corio_server *srv = tls_server_start(c->sctx, echo_lines, NULL, NULL);
    if (!srv)
        return NULL;
    for (int i = 0; i < 3; i++) {
        corio_reader *r;
        corio_writer *w;
        int rc = tls_connect(&r, &w, corio_server_get_port(srv), c->cctx, "localhost");
        cr_expect_eq(rc, 0, "%s: %s", corio_err_name(rc), corio_tls_get_error());
        if (rc < 0)
            break;
        /* TLS 1.3's tickets come after the handshake: a read takes them in. */
        corio_writer_write(w, "hi\n", 3);
        const char *line;
        cr_expect_eq(corio_reader_readline(r, &line), 9);
        corio_tls_info info;
        corio_writer_get_tls_info(w, &info);
        c->reused[i] = info.session_reused;
        corio_stream_free(r, w);
    }
    tls_server_stop(srv);
    return NULL;
}

Test(tls_handshake, a_client_resumes_its_session_with_the_same_server)
{
    resume_case c = {.sctx = server_ctx(0, NULL), .cctx = client_ctx(NULL)};
    RUN_CHECKED_TLS(three_connections, &c);
    cr_expect_eq(c.reused[0], 0);
    cr_expect_eq(c.reused[1], 1);
    cr_expect_eq(c.reused[2], 1);
    corio_tls_context_free(c.sctx);
    corio_tls_context_free(c.cctx);
}

Test(tls_handshake, no_tickets_means_full_handshakes)
{
    corio_tls_context_opts o = {.flags = CORIO_TLS_NO_TICKETS};
    resume_case c = {.sctx = server_ctx(0, &o), .cctx = client_ctx(NULL)};
    RUN_CHECKED_TLS(three_connections, &c);
    cr_expect_eq(c.reused[1], 0);
    cr_expect_eq(c.reused[2], 0);
    corio_tls_context_free(c.sctx);
    corio_tls_context_free(c.cctx);
}

/* ---- peers that do not speak TLS ---- */

typedef struct plain_case {
    corio_tls_context *ctx;
    const char *says;   /* what the plain server sends at once; NULL: nothing (it only reads),
                           "": it ends its side at once */
    double timeout;     /* the client's handshake timeout */
    int l, port;        /* the plain server's listener */
    int rc;             /* the client's open_connection */
    double took;
    char why[160];
} plain_case;

static void *serve_plain(void *arg)
{
    plain_case *c = arg;
    int fd = corio_sock_accept(c->l, NULL, NULL);
    if (fd < 0)
        return NULL;
    if (c->says && *c->says)
        corio_sock_sendall(fd, c->says, strlen(c->says), 0);
    else if (c->says)
        corio_sock_shutdown(fd, SHUT_WR);
    char buf[512];
    while (corio_sock_recv(fd, buf, sizeof buf, 0) > 0)
        ;
    corio_close(fd);
    return NULL;
}

static void *client_to_plain(void *arg)
{
    plain_case *c = arg;
    corio_reader *r;
    corio_writer *w;
    corio_stream_opts o = {.tls = c->ctx, .server_hostname = "localhost",
                           .tls_handshake_timeout = c->timeout};
    double t0 = corio_loop_time(NULL);
    c->rc = corio_open_connection(&r, &w, "127.0.0.1", c->port, &o);
    c->took = corio_loop_time(NULL) - t0;
    snprintf(c->why, sizeof c->why, "%s", corio_tls_get_error());
    if (c->rc == 0)
        corio_stream_free(r, w);
    return NULL;
}

static void *connect_to_plain(void *arg)
{
    plain_case *c = arg;
    c->l = plain_listener(&c->port);
    corio_task *t = spawn(serve_plain, c);
    client_to_plain(c);
    corio_await(corio_task_future(t), NULL);
    corio_task_unref(t);
    corio_close(c->l);
    return NULL;
}

static void run_plain(plain_case *c)
{
    c->ctx = client_ctx(NULL);
    RUN_CHECKED_TLS(connect_to_plain, c);
    corio_tls_context_free(c->ctx);
}

Test(tls_handshake, a_server_that_never_answers_times_the_handshake_out)
{
    plain_case c = {.timeout = 0.3};
    run_plain(&c);
    cr_expect_eq(c.rc, CORIO_ETLSTIMEOUT, "%s: %s", corio_err_name(c.rc), c.why);
    cr_expect_geq(c.took, 0.25);
    cr_expect_lt(c.took, 10);
    cr_expect(strstr(c.why, "timed out"), "why: %s", c.why);
}

Test(tls_handshake, a_server_speaking_plaintext_is_a_protocol_error)
{
    plain_case c = {.says = "HTTP/1.1 400 Bad Request\r\n\r\n", .timeout = 10};
    run_plain(&c);
    cr_expect_eq(c.rc, CORIO_ETLSPROTO, "%s: %s", corio_err_name(c.rc), c.why);
}

Test(tls_handshake, a_server_ending_its_side_is_an_eof_in_the_handshake)
{
    plain_case c = {.says = "", .timeout = 10};
    run_plain(&c);
    cr_expect_eq(c.rc, CORIO_ETLSEOF, "%s: %s", corio_err_name(c.rc), c.why);
}

typedef struct plain_client_case {
    corio_tls_context *sctx;
    const char *sends;
    size_t len;          /* of sends; 0: strlen */
    size_t got;          /* bytes the plain client received back */
    corio_server_stats st;
} plain_client_case;

static void *plain_client(void *arg)
{
    plain_client_case *c = arg;
    corio_server *srv = tls_server_start(c->sctx, echo_lines, NULL, NULL);
    if (!srv)
        return NULL;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(corio_server_get_port(srv)),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = corio_socket(AF_INET, SOCK_STREAM, 0);
    cr_expect_eq(corio_sock_connect(fd, (struct sockaddr *)&a, sizeof a, 10), 0);
    corio_sock_sendall(fd, c->sends, c->len ? c->len : strlen(c->sends), 0);
    char buf[512];
    ssize_t n;
    while ((n = corio_sock_recv(fd, buf, sizeof buf, 0)) > 0)
        c->got += (size_t)n;
    corio_close(fd);
    c->st = tls_server_stop(srv);
    return NULL;
}

Test(tls_handshake, a_client_speaking_plaintext_is_refused_and_counted)
{
    plain_client_case c = {.sctx = server_ctx(0, NULL), .sends = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"};
    RUN_CHECKED_TLS(plain_client, &c);
    corio_tls_context_free(c.sctx);
    cr_expect_eq(c.st.accepted, 1);
    cr_expect_eq(c.st.tls_failures, 1);
    cr_expect_lt(c.got, 64); /* an alert at most: never the handler's echo */
}

Test(tls_handshake, a_client_sending_garbage_records_is_refused)
{
    /* A well-formed record header around junk: application data before any handshake. */
    plain_client_case c = {.sctx = server_ctx(0, NULL),
                           .sends = "\x17\x03\x03\x00\x0bgarbage rec", .len = 16};
    RUN_CHECKED_TLS(plain_client, &c);
    corio_tls_context_free(c.sctx);
    cr_expect_eq(c.st.tls_failures, 1);
}

/* ---- cancellation ---- */

static void *cancel_in_handshake(void *arg)
{
    plain_case *c = arg;
    c->l = plain_listener(&c->port);
    corio_task *srv = spawn(serve_plain, c);
    corio_task *cl = spawn(client_to_plain, c);
    corio_sleep(0.1);
    corio_task_cancel(cl, NULL);
    corio_await(corio_task_future(cl), NULL);
    corio_task_unref(cl);
    /* The client's socket is gone: the plain server sees EOF and ends. */
    corio_await(corio_task_future(srv), NULL);
    corio_task_unref(srv);
    corio_close(c->l);
    return NULL;
}

Test(tls_handshake, a_task_cancelled_during_the_handshake_leaves_nothing)
{
    plain_case c = {.timeout = 30};
    c.ctx = client_ctx(NULL);
    RUN_CHECKED_TLS(cancel_in_handshake, &c);
    corio_tls_context_free(c.ctx);
    cr_expect_eq(c.rc, -ECANCELED, "%s", corio_err_name(c.rc));
}

/* ---- many at once ---- */

typedef struct many_case {
    corio_tls_context *sctx, *cctx;
    int port, n, ok;
} many_case;

static void *one_client(void *arg)
{
    many_case *m = arg;
    corio_reader *r;
    corio_writer *w;
    int rc = tls_connect(&r, &w, m->port, m->cctx, "localhost");
    if (rc == 0) {
        const char *line;
        corio_writer_write(w, "hi\n", 3);
        if (corio_reader_readline(r, &line) == 9 && memcmp(line, "echo: hi\n", 9) == 0)
            m->ok++;
        corio_stream_free(r, w);
    } else {
        cr_expect_eq(rc, 0, "%s: %s", corio_err_name(rc), corio_tls_get_error());
    }
    return NULL;
}

static void *many_clients(void *arg)
{
    many_case *m = arg;
    corio_stream_opts o = {.backlog = 4096};
    corio_server *srv = tls_server_start(m->sctx, echo_lines, NULL, &o);
    if (!srv)
        return NULL;
    m->port = corio_server_get_port(srv);
    corio_task **t = calloc((size_t)m->n, sizeof *t);
    for (int i = 0; i < m->n; i++)
        t[i] = spawn(one_client, m);
    for (int i = 0; i < m->n; i++) {
        corio_await(corio_task_future(t[i]), NULL);
        corio_task_unref(t[i]);
    }
    free(t);
    corio_server_stats st = tls_server_stop(srv);
    cr_expect_eq(st.accepted, (uint64_t)m->n);
    cr_expect_eq(st.tls_failures, 0);
    return NULL;
}

Test(tls_handshake, a_thousand_handshakes_at_once)
{
    /* Full scale where the crypto runs at native speed; fewer under the sanitizers, Valgrind
     * and qemu, as the stress programs shrink there. */
    many_case m = {.sctx = server_ctx(0, NULL), .n = 1000};
    corio_tls_context_opts co = {.flags = CORIO_TLS_NO_TICKETS};
    m.cctx = client_ctx(&co);
    if (under_valgrind())
        m.n = 20;
    else if (getenv("CORIO_QEMU"))
        m.n = 100;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    m.n = 250;
#endif
    RUN_CHECKED_TLS(many_clients, &m);
    cr_expect_eq(m.ok, m.n);
    corio_tls_context_free(m.sctx);
    corio_tls_context_free(m.cctx);
}

/* ---- key logging ---- */

Test(tls_handshake, sslkeylogfile_gets_the_session_keys)
{
    char path[] = "/tmp/corio-keylog-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    setenv("SSLKEYLOGFILE", path, 1);
    hs_case c = {.sctx = server_ctx(0, NULL), .cctx = client_ctx(NULL)};
    unsetenv("SSLKEYLOGFILE");
    run_hs(&c);
    cr_expect_eq(c.rc, 0);
    FILE *f = fopen(path, "r");
    char line[512];
    int secrets = 0;
    while (f && fgets(line, sizeof line, f))
        secrets += strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) == 0;
    if (f)
        fclose(f);
    unlink(path);
    cr_expect_eq(secrets, 2, "the secret, from the client and from the server: %d", secrets);
}
