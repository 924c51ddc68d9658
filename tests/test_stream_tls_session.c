/* An established TLS connection, corio on both ends: close_notify on close and on write_eof
 * (half-close), abort without it (EOF, or CORIO_ETLSEOF when strict), garbage records and a
 * record cut short by the peer, cancellation during a read (nothing lost), close while a write
 * waits (tls_shutdown_timeout), 8 MiB each way through readexactly and drain, STARTTLS and its
 * refusal of plaintext pipelined before the handshake, and misuse. */
#include "tls_helpers.h"

#include <math.h>

TestSuite(tls_session, .init = pki_setup, .fini = pki_teardown, .timeout = 120);

typedef struct sess_case sess_case;
typedef void (*client_fn)(sess_case *c, corio_reader *r, corio_writer *w);

struct sess_case {
    corio_tls_context *sctx, *cctx;
    corio_stream_handler_fn handler;
    client_fn client;
    corio_stream_opts copts; /* the client's (tls and server_hostname are filled in) */
    unsigned sflags;         /* the server context's flags */
    corio_tls_info info;     /* the client's, if the client function asks for it */
    ssize_t srv_rc[4], cl_rc[4]; /* what each side's calls returned, as each test says */
    char text[4][64];
};

static void *session(void *arg)
{
    sess_case *c = arg;
    corio_server *srv = tls_server_start(c->sctx, c->handler, c, NULL);
    if (!srv)
        return NULL;
    corio_reader *r;
    corio_writer *w;
    corio_stream_opts o = c->copts;
    o.tls = c->cctx;
    o.server_hostname = "localhost";
    int rc = corio_open_connection(&r, &w, "127.0.0.1", corio_server_get_port(srv), &o);
    cr_expect_eq(rc, 0, "%s: %s", corio_err_name(rc), corio_tls_get_error());
    if (rc == 0) {
        c->client(c, r, w);
        corio_stream_free(r, w);
    }
    tls_server_stop(srv);
    return NULL;
}

static void run_session(sess_case *c, unsigned client_flags)
{
    corio_tls_context_opts co = {.flags = client_flags}, so = {.flags = c->sflags};
    c->sctx = server_ctx(0, &so);
    c->cctx = client_ctx(&co);
    RUN_CHECKED_TLS(session, c);
    corio_tls_context_free(c->sctx);
    corio_tls_context_free(c->cctx);
}

static ssize_t read_line(corio_reader *r, char *out, size_t cap)
{
    const char *line;
    ssize_t n = corio_reader_readline(r, &line);
    snprintf(out, cap, "%.*s", n > 0 ? (int)n : 0, n > 0 ? line : "");
    return n;
}

/* ---- closing ---- */

static void say_bye_and_close(corio_reader *r, corio_writer *w, void *arg)
{
    (void)r;
    (void)arg;
    corio_writer_write(w, "bye\n", 4);
    corio_writer_close(w);
}

static void say_bye_and_abort(corio_reader *r, corio_writer *w, void *arg)
{
    (void)r;
    (void)arg;
    corio_writer_write(w, "bye\n", 4);
    corio_writer_drain(w);
    corio_sleep(0.05); /* the bytes reach the client before the abort */
    corio_writer_abort(w);
}

static void read_bye_then_end(sess_case *c, corio_reader *r, corio_writer *w)
{
    (void)w;
    c->cl_rc[0] = read_line(r, c->text[0], sizeof c->text[0]);
    char buf[8];
    c->cl_rc[1] = corio_reader_read(r, buf, sizeof buf);
}

Test(tls_session, close_sends_close_notify_a_clean_end_even_when_strict)
{
    sess_case c = {.handler = say_bye_and_close, .client = read_bye_then_end};
    run_session(&c, CORIO_TLS_STRICT_EOF);
    cr_expect_str_eq(c.text[0], "bye\n");
    cr_expect_eq(c.cl_rc[1], 0, "%s", corio_err_name((int)c.cl_rc[1]));
}

Test(tls_session, abort_sends_no_close_notify_eof_or_strict_error)
{
    sess_case c = {.handler = say_bye_and_abort, .client = read_bye_then_end};
    run_session(&c, 0);
    cr_expect_str_eq(c.text[0], "bye\n");
    cr_expect_eq(c.cl_rc[1], 0, "%s", corio_err_name((int)c.cl_rc[1]));
    sess_case s = {.handler = say_bye_and_abort, .client = read_bye_then_end};
    run_session(&s, CORIO_TLS_STRICT_EOF);
    cr_expect_str_eq(s.text[0], "bye\n");
    cr_expect_eq(s.cl_rc[1], CORIO_ETLSEOF, "%s", corio_err_name((int)s.cl_rc[1]));
}

/* write_eof: close_notify one way, the other way stays open. */
static void read_to_eof_then_answer(corio_reader *r, corio_writer *w, void *arg)
{
    sess_case *c = arg;
    c->srv_rc[0] = read_line(r, c->text[0], sizeof c->text[0]);
    char buf[8];
    c->srv_rc[1] = corio_reader_read(r, buf, sizeof buf);
    c->srv_rc[2] = corio_writer_write(w, "after eof\n", 10);
    corio_writer_close(w);
    corio_writer_wait_closed(w);
}

static void half_close(sess_case *c, corio_reader *r, corio_writer *w)
{
    corio_writer_write(w, "last\n", 5);
    c->cl_rc[0] = corio_writer_write_eof(w);
    c->cl_rc[1] = read_line(r, c->text[1], sizeof c->text[1]);
    char buf[8];
    c->cl_rc[2] = corio_reader_read(r, buf, sizeof buf);
}

Test(tls_session, write_eof_is_close_notify_and_the_other_way_stays_open)
{
    sess_case c = {.handler = read_to_eof_then_answer, .client = half_close};
    run_session(&c, CORIO_TLS_STRICT_EOF);
    cr_expect_eq(c.cl_rc[0], 0);
    cr_expect_str_eq(c.text[0], "last\n");
    cr_expect_eq(c.srv_rc[1], 0, "the server's read after close_notify: %s",
                 corio_err_name((int)c.srv_rc[1]));
    cr_expect_eq(c.srv_rc[2], 0);
    cr_expect_str_eq(c.text[1], "after eof\n");
    cr_expect_eq(c.cl_rc[2], 0);
}

/* ---- a peer that breaks the records ---- */

static void read_until_error(corio_reader *r, corio_writer *w, void *arg)
{
    sess_case *c = arg;
    c->srv_rc[0] = read_line(r, c->text[0], sizeof c->text[0]);
    c->srv_rc[1] = read_line(r, c->text[1], sizeof c->text[1]);
    snprintf(c->text[2], sizeof c->text[2], "%s", corio_writer_get_tls_error(w));
}

static void good_line_then_garbage(sess_case *c, corio_reader *r, corio_writer *w)
{
    (void)c;
    (void)r;
    corio_writer_write(w, "good\n", 5);
    corio_writer_drain(w);
    corio_sleep(0.05);
    /* Under the session: a record of application data that no key made. */
    static const char junk[] = "\x17\x03\x03\x00\x20" "0123456789abcdef0123456789abcdef";
    corio_sock_sendall(corio_writer_get_fd(w), junk, sizeof junk - 1, 0);
    corio_sleep(0.1);
}

Test(tls_session, a_garbage_record_breaks_the_connection_with_a_protocol_error)
{
    sess_case c = {.handler = read_until_error, .client = good_line_then_garbage};
    run_session(&c, 0);
    cr_expect_str_eq(c.text[0], "good\n");
    cr_expect_eq(c.srv_rc[1], CORIO_ETLSPROTO, "%s", corio_err_name((int)c.srv_rc[1]));
    cr_expect(strstr(c.text[2], "bad record mac") || strstr(c.text[2], "decrypt"), "why: %s",
              c.text[2]);
}

static void good_line_then_half_a_record(sess_case *c, corio_reader *r, corio_writer *w)
{
    (void)c;
    (void)r;
    corio_writer_write(w, "good\n", 5);
    corio_writer_drain(w);
    corio_sleep(0.05);
    /* A record's header and a few of its 64 bytes, then the end of the stream. */
    static const char part[] = "\x17\x03\x03\x00\x40" "0123456789";
    corio_sock_sendall(corio_writer_get_fd(w), part, sizeof part - 1, 0);
    corio_sock_shutdown(corio_writer_get_fd(w), SHUT_WR);
    corio_sleep(0.1);
}

Test(tls_session, a_record_cut_short_is_an_eof_error_even_when_not_strict)
{
    sess_case c = {.handler = read_until_error, .client = good_line_then_half_a_record};
    run_session(&c, 0);
    cr_expect_str_eq(c.text[0], "good\n");
    cr_expect_eq(c.srv_rc[1], CORIO_ETLSEOF, "%s", corio_err_name((int)c.srv_rc[1]));
}

/* ---- cancellation and close while busy ---- */

static void answer_late(corio_reader *r, corio_writer *w, void *arg)
{
    (void)r;
    (void)arg;
    corio_sleep(0.2);
    corio_writer_write(w, "late\n", 5);
    corio_writer_drain(w);
    char buf[8];
    corio_reader_read(r, buf, sizeof buf); /* until the client goes */
}

static void *readline_task(void *arg)
{
    corio_reader *r = arg;
    const char *line;
    return (void *)(intptr_t)corio_reader_readline(r, &line);
}

static void cancel_a_read(sess_case *c, corio_reader *r, corio_writer *w)
{
    (void)w;
    corio_task *t = spawn(readline_task, r);
    corio_sleep(0.05);
    corio_task_cancel(t, NULL);
    void *res = NULL;
    int rc = corio_await(corio_task_future(t), &res);
    corio_task_unref(t);
    c->cl_rc[0] = rc < 0 ? rc : (ssize_t)(intptr_t)res; /* the task's cancel, or the read's */
    c->cl_rc[1] = read_line(r, c->text[1], sizeof c->text[1]);
}

Test(tls_session, a_read_cancelled_loses_nothing)
{
    sess_case c = {.handler = answer_late, .client = cancel_a_read};
    run_session(&c, 0);
    cr_expect_eq(c.cl_rc[0], -ECANCELED, "%s", corio_err_name((int)c.cl_rc[0]));
    cr_expect_str_eq(c.text[1], "late\n");
}

static void never_read(corio_reader *r, corio_writer *w, void *arg)
{
    (void)w;
    (void)arg;
    corio_sleep(1.5);
    char buf[8];
    corio_reader_read(r, buf, 0);
}

static void *drain_task(void *arg)
{
    return (void *)(intptr_t)corio_writer_drain(arg);
}

static void close_while_writing(sess_case *c, corio_reader *r, corio_writer *w)
{
    (void)r;
    size_t n = 4 << 20;
    char *big = calloc(1, n);
    corio_writer_write(w, big, n);
    free(big);
    corio_task *t = spawn(drain_task, w);
    corio_sleep(0.05);
    double t0 = corio_loop_time(NULL);
    corio_writer_close(w);
    void *res = NULL;
    corio_await(corio_task_future(t), &res);
    corio_task_unref(t);
    c->cl_rc[0] = (ssize_t)(intptr_t)res;
    c->cl_rc[1] = corio_writer_wait_closed(w);
    c->cl_rc[2] = (ssize_t)((corio_loop_time(NULL) - t0) * 1000);
}

Test(tls_session, close_while_a_write_waits_gives_up_after_the_shutdown_timeout)
{
    sess_case c = {.handler = never_read, .client = close_while_writing,
                   .copts = {.tls_shutdown_timeout = 0.3}};
    run_session(&c, 0);
    cr_expect_lt(c.cl_rc[0], 0, "drain: %s", corio_err_name((int)c.cl_rc[0]));
    cr_expect_eq(c.cl_rc[1], -ETIMEDOUT, "wait_closed: %s", corio_err_name((int)c.cl_rc[1]));
    cr_expect_geq(c.cl_rc[2], 250, "%zd ms", c.cl_rc[2]);
    cr_expect_lt(c.cl_rc[2], 1400, "%zd ms", c.cl_rc[2]);
}

/* ---- bulk ---- */

#define BULK (8u << 20)

static void echo_bulk(corio_reader *r, corio_writer *w, void *arg)
{
    sess_case *c = arg;
    char *buf = malloc(65536);
    size_t left = BULK;
    while (left) {
        size_t k = left < 65536 ? left : 65536;
        ssize_t n = corio_reader_readexactly(r, buf, k, NULL);
        if (n != (ssize_t)k) {
            c->srv_rc[0] = n;
            break;
        }
        corio_writer_write(w, buf, k);
        if (corio_writer_drain(w) < 0)
            break;
        left -= k;
    }
    free(buf);
}

static void *send_bulk(void *arg)
{
    corio_writer *w = arg;
    char *buf = malloc(65536);
    for (size_t at = 0; at < BULK; at += 65536) {
        for (size_t i = 0; i < 65536; i++)
            buf[i] = (char)((at + i) * 31 >> 3);
        if (corio_writer_write(w, buf, 65536) < 0 || corio_writer_drain(w) < 0)
            break;
    }
    free(buf);
    return NULL;
}

static void bulk_both_ways(sess_case *c, corio_reader *r, corio_writer *w)
{
    corio_writer_set_write_buffer_limits(w, 256 * 1024, CORIO_WRITER_LIMIT_AUTO);
    corio_task *t = spawn(send_bulk, w);
    char *buf = malloc(65536);
    size_t bad = 0, got = 0;
    while (got < BULK) {
        ssize_t n = corio_reader_read(r, buf, 65536);
        if (n <= 0) {
            c->cl_rc[0] = n;
            break;
        }
        for (ssize_t i = 0; i < n; i++)
            bad += buf[i] != (char)((got + (size_t)i) * 31 >> 3);
        got += (size_t)n;
        cr_expect_leq(corio_writer_get_write_buffer_size(w), 256 * 1024 + 65536);
    }
    free(buf);
    corio_await(corio_task_future(t), NULL);
    corio_task_unref(t);
    c->cl_rc[1] = (ssize_t)got;
    c->cl_rc[2] = (ssize_t)bad;
    corio_writer_get_tls_info(w, &c->info);
    c->info.alpn = c->info.server_name = NULL;
}

Test(tls_session, eight_mib_each_way_arrive_intact)
{
    sess_case c = {.handler = echo_bulk, .client = bulk_both_ways};
    run_session(&c, 0);
    cr_expect_eq(c.cl_rc[0], 0);
    cr_expect_eq(c.cl_rc[1], (ssize_t)BULK);
    cr_expect_eq(c.cl_rc[2], 0, "%zd bytes differ", c.cl_rc[2]);
    cr_expect_eq(c.srv_rc[0], 0);
}

/* Kernel TLS where this kernel has it: the same bytes either way. Where the kernel has no tls
 * module (tcp_available_ulp lists the loaded ones; the module may load on first use), OpenSSL
 * keeps the records and says so. */
Test(tls_session, ktls_asked_for_carries_the_same_bytes)
{
    sess_case c = {.handler = echo_bulk, .client = bulk_both_ways, .sflags = CORIO_TLS_KTLS};
    run_session(&c, CORIO_TLS_KTLS);
    cr_expect_eq(c.cl_rc[1], (ssize_t)BULK);
    cr_expect_eq(c.cl_rc[2], 0, "%zd bytes differ", c.cl_rc[2]);
    int kernel_has_tls = access("/proc/net/tls_stat", F_OK) == 0;
    if (!kernel_has_tls) {
        cr_expect_eq(c.info.ktls_send, 0);
        cr_expect_eq(c.info.ktls_recv, 0);
    }
    cr_log_info("kernel TLS: module %s, send %d, receive %d", kernel_has_tls ? "loaded" : "absent",
                c.info.ktls_send, c.info.ktls_recv);
}

/* ---- STARTTLS ---- */

typedef struct starttls_case {
    corio_tls_context *sctx, *cctx;
    const char *client_says; /* before the upgrade */
    int srv_rc, cl_rc;
    char srv_got[64], cl_got[64];
} starttls_case;

static void starttls_server(corio_reader *r, corio_writer *w, void *arg)
{
    starttls_case *c = arg;
    char line[64];
    if (read_line(r, line, sizeof line) <= 0 || strcmp(line, "STARTTLS\n") != 0)
        return;
    corio_writer_write(w, "GO\n", 3);
    c->srv_rc = corio_writer_start_tls(w, c->sctx, NULL);
    if (c->srv_rc == 0) {
        read_line(r, c->srv_got, sizeof c->srv_got);
        corio_writer_write(w, "secret reply\n", 13);
        corio_writer_drain(w);
    }
}

static void *starttls_main(void *arg)
{
    starttls_case *c = arg;
    corio_server *srv = NULL;
    int rc = corio_start_server(&srv, "127.0.0.1", 0, starttls_server, c, NULL);
    cr_expect_eq(rc, 0);
    if (rc < 0)
        return NULL;
    corio_reader *r;
    corio_writer *w;
    rc = corio_open_connection(&r, &w, "127.0.0.1", corio_server_get_port(srv), NULL);
    cr_expect_eq(rc, 0);
    if (rc == 0) {
        corio_writer_write(w, c->client_says, strlen(c->client_says));
        char line[64];
        if (read_line(r, line, sizeof line) == 3) {
            corio_stream_opts o = {.server_hostname = "localhost"};
            c->cl_rc = corio_writer_start_tls(w, c->cctx, &o);
            if (c->cl_rc == 0) {
                corio_writer_write(w, "secret\n", 7);
                read_line(r, c->cl_got, sizeof c->cl_got);
            }
        }
        corio_stream_free(r, w);
    }
    tls_server_stop(srv);
    return NULL;
}

static void run_starttls(starttls_case *c)
{
    c->sctx = server_ctx(0, NULL);
    c->cctx = client_ctx(NULL);
    RUN_CHECKED_TLS(starttls_main, c);
    corio_tls_context_free(c->sctx);
    corio_tls_context_free(c->cctx);
}

Test(tls_session, starttls_upgrades_a_plain_connection)
{
    starttls_case c = {.client_says = "STARTTLS\n"};
    run_starttls(&c);
    cr_expect_eq(c.srv_rc, 0, "%s", corio_err_name(c.srv_rc));
    cr_expect_eq(c.cl_rc, 0, "%s", corio_err_name(c.cl_rc));
    cr_expect_str_eq(c.srv_got, "secret\n");
    cr_expect_str_eq(c.cl_got, "secret reply\n");
}

Test(tls_session, starttls_refuses_plaintext_pipelined_before_the_handshake)
{
    /* CVE-2011-0411: a command injected after STARTTLS in the same packet must not be taken as
     * having come over TLS. */
    starttls_case c = {.client_says = "STARTTLS\nRCPT TO:<victim>\n"};
    run_starttls(&c);
    cr_expect_eq(c.srv_rc, CORIO_EINVALSTATE, "%s", corio_err_name(c.srv_rc));
    cr_expect_str_eq(c.srv_got, "");
}

/* ---- misuse ---- */

static void *misuse(void *arg)
{
    sess_case *c = arg;
    corio_reader *r;
    corio_writer *w;
    corio_stream_opts bad = {.tls = c->sctx}; /* a server's context for a client */
    cr_expect_eq(corio_open_connection(&r, &w, "127.0.0.1", 1, &bad), -EINVAL);
    corio_server *srv = NULL;
    corio_stream_opts bad_srv = {.tls = c->cctx};
    cr_expect_eq(corio_start_server(&srv, "127.0.0.1", 0, echo_lines, NULL, &bad_srv), -EINVAL);
    cr_expect_null(srv);
    srv = tls_server_start(c->sctx, echo_lines, NULL, NULL);
    if (!srv)
        return NULL;
    int rc = tls_connect(&r, &w, corio_server_get_port(srv), c->cctx, "localhost");
    cr_expect_eq(rc, 0);
    if (rc == 0) {
        cr_expect_eq(corio_writer_start_tls(w, c->cctx, NULL), -EINVAL, "already TLS");
        cr_expect_eq(corio_writer_get_tls_info(w, NULL), -EINVAL);
        cr_expect_not_null(corio_writer_get_ssl_object(w));
        cr_expect_str_eq(corio_writer_get_tls_error(w), "");
        cr_expect_eq(corio_writer_get_peer_certificate(w, NULL, 0) > 100, 1);
        char small[8];
        cr_expect_eq(corio_writer_get_peer_certificate(w, small, sizeof small), -ENOBUFS);
        corio_stream_free(r, w);
    }
    /* A plain stream has no TLS to tell of. */
    rc = corio_open_connection(&r, &w, "127.0.0.1", corio_server_get_port(srv), NULL);
    if (rc == 0) {
        corio_tls_info info;
        cr_expect_eq(corio_writer_get_tls_info(w, &info), -EINVAL);
        cr_expect_null(corio_writer_get_ssl_object(w));
        cr_expect_eq(corio_writer_get_peer_certificate(w, NULL, 0), -EINVAL);
        cr_expect_str_eq(corio_writer_get_tls_error(w), "");
        corio_stream_opts nan_opts = {.tls_handshake_timeout = NAN};
        cr_expect_eq(corio_writer_start_tls(w, c->cctx, &nan_opts), -EINVAL);
        /* A client context that checks names needs one. */
        cr_expect_eq(corio_writer_start_tls(w, c->cctx, NULL), -EINVAL);
        corio_stream_free(r, w);
    }
    tls_server_stop(srv);
    cr_expect_eq(corio_writer_start_tls(NULL, c->cctx, NULL), -EINVAL);
    cr_expect_null(corio_writer_get_tls_error(NULL));
    cr_expect_null(corio_writer_get_ssl_object(NULL));
    return NULL;
}

Test(tls_session, misuse_gets_clear_errors)
{
    sess_case c = {0};
    c.sctx = server_ctx(0, NULL);
    c.cctx = client_ctx(NULL);
    RUN_CHECKED_TLS(misuse, &c);
    corio_tls_context_free(c.sctx);
    corio_tls_context_free(c.cctx);
}
