/* A corio TLS server against real clients (`openssl s_client`, Python's ssl module), and a
 * corio TLS client against a Python ssl server: lines echoed, close_notify both ways, a peer
 * that closes without close_notify (EOF as asyncio reports it, CORIO_ETLSEOF when strict), and
 * SNI choosing the certificate. */
#include "tls_helpers.h"

TestSuite(tls_server, .init = pki_setup, .fini = pki_teardown, .timeout = 60);

typedef struct server_case {
    corio_tls_context *ctx;
    const char *const *argv; /* the client program; "PORT" is replaced by the server's port */
    char out[512];           /* what it printed */
    int code;                /* its exit status */
    corio_server_stats stats;
} server_case;

static void *serve_one_client(void *arg)
{
    server_case *c = arg;
    corio_server *srv = NULL;
    corio_stream_opts o = {.tls = c->ctx};
    int rc = corio_start_server(&srv, "127.0.0.1", 0, echo_lines, NULL, &o);
    cr_expect_eq(rc, 0, "start_server: %s", corio_strerror(rc));
    if (rc < 0)
        return NULL;
    char port[8];
    snprintf(port, sizeof port, "%d", corio_server_get_port(srv));
    const char *argv[32];
    size_t n = 0;
    for (; c->argv[n] && n < 31; n++)
        argv[n] = strcmp(c->argv[n], "PORT") == 0 ? port : c->argv[n];
    argv[n] = NULL;
    host_children_env();
    corio_process *p = NULL;
    corio_process_opts po = {.stdin_mode = CORIO_PROCESS_PIPE, .stdout_mode = CORIO_PROCESS_PIPE,
                             .stderr_mode = CORIO_PROCESS_STDOUT};
    rc = corio_create_subprocess_exec(&p, NULL, argv, &po);
    cr_expect_eq(rc, 0, "%s: %s", argv[0], corio_strerror(rc));
    if (rc == 0) {
        /* The reply is awaited before stdin closes: s_client quits at its input's EOF, reply or
         * not. */
        corio_writer *in = corio_process_get_stdin(p);
        corio_reader *out = corio_process_get_stdout(p);
        corio_writer_write(in, "ping\n", 5);
        const char *line;
        ssize_t k = corio_reader_readline(out, &line);
        snprintf(c->out, sizeof c->out, "%.*s", k > 0 ? (int)k : 0, k > 0 ? line : "");
        corio_writer_close(in);
        char rest[256];
        while (corio_reader_read(out, rest, sizeof rest) > 0)
            ;
        corio_process_wait(p, &c->code);
        corio_process_free(p);
    }
    /* The handler sees the client's EOF and ends; then the server can go. */
    corio_server_close(srv);
    corio_server_wait_closed(srv);
    corio_server_get_stats(srv, &c->stats);
    corio_server_free(srv);
    return NULL;
}

Test(tls_server, openssl_s_client_is_served)
{
    /* s_client takes host:port in one argument: a shell puts it together. */
    char script[512];
    snprintf(script, sizeof script,
             "exec openssl s_client -connect 127.0.0.1:$1 -CAfile '%s' -servername localhost "
             "-verify_return_error -quiet -no_ign_eof 2>/dev/null",
             PKI.path[PKI_CA]);
    const char *sh[] = {"/bin/sh", "-c", script, "sh", "PORT", NULL};
    server_case c = {.ctx = server_ctx(0, NULL), .argv = sh};
    RUN_CHECKED_TLS(serve_one_client, &c);
    corio_tls_context_free(c.ctx);
    cr_expect_str_eq(c.out, "echo: ping\n");
    cr_expect_eq(c.code, 0);
    cr_expect_eq(c.stats.accepted, 1);
    cr_expect_eq(c.stats.tls_failures, 0);
}

static const char python_client[] =
    "import socket, ssl, sys\n"
    "ctx = ssl.create_default_context(cafile=sys.argv[1])\n"
    "ctx.set_alpn_protocols(['h2', 'http/1.1'])\n"
    "with socket.create_connection(('127.0.0.1', int(sys.argv[2]))) as s:\n"
    "    with ctx.wrap_socket(s, server_hostname=sys.argv[3]) as t:\n"
    "        line = sys.stdin.readline().encode()\n"
    "        t.sendall(line)\n"
    "        data = b''\n"
    "        while not data.endswith(b'\\n'):\n"
    "            data += t.recv(100)\n"
    "        cert = t.getpeercert()\n"
    "        cn = dict(x[0] for x in cert['subject'])['commonName']\n"
    "        print(data.decode().strip(), t.version(), t.selected_alpn_protocol(), cn)\n"
    "        t.unwrap()\n";

static void python_case(const char *name, int with_sni, const char *expect)
{
    if (!have_python_ssl())
        cr_skip_test("python3 with its ssl module is not installed");
    const char *argv[] = {"python3", "-c", python_client, PKI.path[PKI_CA], "PORT", name, NULL};
    corio_tls_context_opts o = {.alpn = "http/1.1"};
    server_case c = {.ctx = server_ctx(0, &o), .argv = argv};
    if (with_sni)
        cr_assert_eq(corio_tls_context_add_certificate(c.ctx, PKI.path[PKI_OTHER],
                                                       PKI.path[PKI_OTHER_KEY]),
                     0, "%s", corio_tls_get_error());
    RUN_CHECKED_TLS(serve_one_client, &c);
    corio_tls_context_free(c.ctx);
    cr_expect_str_eq(c.out, expect);
    cr_expect_eq(c.code, 0, "python3 exited with %d: %s", c.code, c.out);
}

Test(tls_server, python_ssl_client_is_served_with_alpn)
{
    python_case("localhost", 0, "echo: ping TLSv1.3 http/1.1 localhost\n");
}

Test(tls_server, sni_picks_the_certificate_for_the_name_asked)
{
    python_case("www.other.test", 1, "echo: ping TLSv1.3 http/1.1 other.test\n");
}

Test(tls_server, sni_for_an_unknown_name_gets_the_default_certificate)
{
    python_case("localhost", 1, "echo: ping TLSv1.3 http/1.1 localhost\n");
}

/* ---- a Python ssl server for the corio client ---- */

static const char python_server[] =
    "import socket, ssl, sys\n"
    "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
    "ctx.load_cert_chain(sys.argv[1], sys.argv[2])\n"
    "l = socket.socket()\n"
    "l.bind(('127.0.0.1', 0))\n"
    "l.listen()\n"
    "print(l.getsockname()[1], flush=True)\n"
    "c, _ = l.accept()\n"
    "t = ctx.wrap_socket(c, server_side=True)\n"
    "data = b''\n"
    "while not data.endswith(b'\\n'):\n"
    "    data += t.recv(100)\n"
    "t.sendall(b'python: ' + data)\n"
    "if sys.argv[3] == 'unwrap':\n"
    "    t.unwrap().close()\n"
    "else:\n"
    "    t.close()  # no close_notify\n";

typedef struct py_server_case {
    corio_tls_context *ctx;
    const char *close_how;
    char reply[64];
    ssize_t eof; /* what the read after the reply gave */
} py_server_case;

static void *talk_to_python(void *arg)
{
    py_server_case *c = arg;
    host_children_env();
    const char *argv[] = {"python3", "-c", python_server, PKI.path[PKI_SERVER],
                          PKI.path[PKI_SERVER_KEY], c->close_how, NULL};
    corio_process_opts po = {.stdout_mode = CORIO_PROCESS_PIPE};
    corio_process *p = NULL;
    int rc = corio_create_subprocess_exec(&p, NULL, argv, &po);
    cr_expect_eq(rc, 0);
    if (rc < 0)
        return NULL;
    const char *line;
    ssize_t n = corio_reader_readline(corio_process_get_stdout(p), &line);
    int port = n > 0 ? atoi(line) : 0;
    cr_expect_gt(port, 0);
    corio_reader *r;
    corio_writer *w;
    rc = tls_connect(&r, &w, port, c->ctx, "localhost");
    cr_expect_eq(rc, 0, "%s: %s", corio_err_name(rc), corio_tls_get_error());
    if (rc == 0) {
        corio_writer_write(w, "hi\n", 3);
        n = corio_reader_readline(r, &line);
        if (n > 0)
            snprintf(c->reply, sizeof c->reply, "%.*s", (int)n, line);
        char buf[8];
        c->eof = corio_reader_read(r, buf, sizeof buf);
        corio_stream_free(r, w);
    }
    corio_process_wait(p, NULL);
    corio_process_free(p);
    return NULL;
}

static void py_server(const char *how, unsigned flags, ssize_t eof)
{
    if (!have_python_ssl())
        cr_skip_test("python3 with its ssl module is not installed");
    corio_tls_context_opts o = {.flags = flags};
    py_server_case c = {.ctx = client_ctx(&o), .close_how = how};
    RUN_CHECKED_TLS(talk_to_python, &c);
    corio_tls_context_free(c.ctx);
    cr_expect_str_eq(c.reply, "python: hi\n");
    cr_expect_eq(c.eof, eof, "read after the reply: %s", corio_err_name((int)c.eof));
}

Test(tls_server, python_server_close_notify_is_a_clean_eof)
{
    py_server("unwrap", 0, 0);
    py_server("unwrap", CORIO_TLS_STRICT_EOF, 0);
}

Test(tls_server, python_server_closing_without_close_notify_is_eof_unless_strict)
{
    py_server("close", 0, 0);
    py_server("close", CORIO_TLS_STRICT_EOF, CORIO_ETLSEOF);
}
