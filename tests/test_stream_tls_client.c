/* A corio TLS client against `openssl s_server`: a verified connection and what it negotiated,
 * and each way verification fails (wrong name, expired, self-signed, unknown CA), TLS 1.2 on
 * request, ALPN, a client certificate given and one required but missing. */
#include "tls_helpers.h"

#include <openssl/pem.h>

TestSuite(tls_client, .init = pki_setup, .fini = pki_teardown, .timeout = 60);

typedef struct client_case {
    int cert;                 /* the server's: PKI_* */
    const char *const *extra; /* s_server's extra arguments */
    corio_tls_context *ctx;   /* the client's */
    const char *name;         /* server_hostname (NULL: the IP) */
    int rc;                   /* open_connection's result */
    char why[160];
    char reply[64];           /* the echo of "hello corio\n", or the read's error name */
    char alpn[16];            /* the protocol agreed on, "" for none */
    corio_tls_info info;
} client_case;

static void *talk(void *arg)
{
    client_case *c = arg;
    int port;
    corio_process *srv = s_server_start(c->cert, c->extra, &port);
    if (!srv)
        return NULL;
    corio_reader *r;
    corio_writer *w;
    c->rc = tls_connect(&r, &w, port, c->ctx, c->name);
    snprintf(c->why, sizeof c->why, "%s", corio_tls_get_error());
    if (c->rc == 0) {
        corio_writer_get_tls_info(w, &c->info);
        snprintf(c->alpn, sizeof c->alpn, "%s", c->info.alpn ? c->info.alpn : "");
        c->info.alpn = NULL; /* not valid after the stream is freed */
        cr_expect_eq(corio_writer_write(w, "hello corio\n", 12), 0);
        const char *line;
        ssize_t n = corio_reader_readline(r, &line);
        if (n > 0)
            snprintf(c->reply, sizeof c->reply, "%.*s", (int)n, line);
        else
            snprintf(c->reply, sizeof c->reply, "%s", corio_err_name((int)n));
        corio_stream_free(r, w);
    }
    peer_stop(srv);
    return NULL;
}

static void run_case(client_case *c)
{
    RUN_CHECKED_TLS(talk, c);
    corio_tls_context_free(c->ctx);
}

Test(tls_client, a_verified_connection_carries_data_and_says_what_it_negotiated)
{
    client_case c = {.cert = PKI_SERVER, .ctx = client_ctx(NULL), .name = "localhost"};
    run_case(&c);
    cr_assert_eq(c.rc, 0, "%s: %s", corio_err_name(c.rc), c.why);
    cr_expect_str_eq(c.reply, "oiroc olleh\n"); /* s_server -rev: the line reversed */
    cr_expect_str_eq(c.info.version, "TLSv1.3");
    cr_expect(strstr(c.info.cipher, "TLS_"), "cipher %s", c.info.cipher);
    cr_expect_eq(c.info.has_peer_cert, 1);
    cr_expect(strstr(c.info.peer_subject, "CN=localhost"), "subject %s", c.info.peer_subject);
    cr_expect(strstr(c.info.peer_issuer, "CN=corio test CA"), "issuer %s", c.info.peer_issuer);
    cr_expect_str_eq(c.info.peer_sans, "DNS:localhost,IP:127.0.0.1,IP:::1");
    FILE *f = fopen(PKI.path[PKI_SERVER], "r");
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    unsigned char sha[32];
    unsigned len;
    X509_digest(cert, EVP_sha256(), sha, &len);
    X509_free(cert);
    cr_expect_arr_eq(c.info.peer_sha256, sha, 32);
    cr_expect_eq(c.info.session_reused, 0);
}

Test(tls_client, an_ip_address_is_verified_against_the_certificates_ip_names)
{
    client_case c = {.cert = PKI_SERVER, .ctx = client_ctx(NULL)};
    run_case(&c);
    cr_assert_eq(c.rc, 0, "%s: %s", corio_err_name(c.rc), c.why);
}

Test(tls_client, tls_1_2_when_the_client_allows_no_more)
{
    corio_tls_context_opts o = {.max_version = CORIO_TLS_VERSION_1_2};
    client_case c = {.cert = PKI_SERVER, .ctx = client_ctx(&o), .name = "localhost"};
    run_case(&c);
    cr_assert_eq(c.rc, 0, "%s: %s", corio_err_name(c.rc), c.why);
    cr_expect_str_eq(c.info.version, "TLSv1.2");
    cr_expect_str_eq(c.reply, "oiroc olleh\n");
}

/* The server shows PKI.path[cert]; the client, checking "localhost", refuses it with code and a
 * reason that says `why` (any of the '|'-separated words). */
static void expect_refused(int cert, int code, const char *why)
{
    client_case c = {.cert = cert, .ctx = client_ctx(NULL), .name = "localhost"};
    run_case(&c);
    cr_expect_eq(c.rc, code, "%s: %s", corio_err_name(c.rc), c.why);
    char words[64];
    snprintf(words, sizeof words, "%s", why);
    int found = 0;
    for (char *save, *w = strtok_r(words, "|", &save); w; w = strtok_r(NULL, "|", &save))
        found |= strstr(c.why, w) != NULL;
    cr_expect(found, "why: %s (expected %s)", c.why, why);
}

Test(tls_client, a_certificate_for_another_name_is_a_hostname_error)
{
    expect_refused(PKI_WRONG, CORIO_ETLSHOSTNAME, "mismatch");
}

Test(tls_client, no_hostname_check_accepts_a_valid_chain_for_another_name)
{
    corio_tls_context_opts o = {.flags = CORIO_TLS_NO_CHECK_HOSTNAME};
    client_case c = {.cert = PKI_WRONG, .ctx = client_ctx(&o), .name = "localhost"};
    run_case(&c);
    cr_expect_eq(c.rc, 0, "%s: %s", corio_err_name(c.rc), c.why);
}

Test(tls_client, an_expired_certificate_fails_verification)
{
    expect_refused(PKI_EXPIRED, CORIO_ETLSVERIFY, "expired");
}

Test(tls_client, a_self_signed_certificate_fails_verification)
{
    expect_refused(PKI_SELF, CORIO_ETLSVERIFY, "self-signed|self signed");
}

Test(tls_client, a_certificate_from_an_unknown_ca_fails_verification)
{
    expect_refused(PKI_ROGUE, CORIO_ETLSVERIFY, "issuer");
}

Test(tls_client, no_verify_accepts_anything)
{
    corio_tls_context_opts o = {.flags = CORIO_TLS_NO_VERIFY};
    client_case c = {.cert = PKI_SELF, .ctx = client_ctx(&o), .name = "localhost"};
    run_case(&c);
    cr_expect_eq(c.rc, 0, "%s: %s", corio_err_name(c.rc), c.why);
    cr_expect_str_eq(c.reply, "oiroc olleh\n");
}

Test(tls_client, the_system_store_does_not_trust_the_test_ca)
{
    corio_tls_context *ctx = NULL;
    cr_assert_eq(corio_tls_context_new(&ctx, CORIO_TLS_CLIENT, NULL), 0);
    client_case c = {.cert = PKI_SERVER, .ctx = ctx, .name = "localhost"};
    run_case(&c);
    cr_expect_eq(c.rc, CORIO_ETLSVERIFY, "%s: %s", corio_err_name(c.rc), c.why);
}

Test(tls_client, alpn_is_offered_and_the_servers_choice_reported)
{
    static const char *const extra[] = {"-alpn", "h2,http/1.1", NULL};
    corio_tls_context_opts o = {.alpn = "http/1.1,h2"};
    client_case c = {.cert = PKI_SERVER, .extra = extra, .ctx = client_ctx(&o), .name = "localhost"};
    run_case(&c);
    cr_assert_eq(c.rc, 0, "%s: %s", corio_err_name(c.rc), c.why);
    cr_expect_str_eq(c.reply, "oiroc olleh\n");
    cr_expect_str_eq(c.alpn, "h2"); /* the server's preference among those offered */
}

/* s_server's arguments that make it require a client certificate from the test CA. */
static void require_client_cert(const char *args[5])
{
    args[0] = "-Verify";
    args[1] = "1";
    args[2] = "-CAfile";
    args[3] = PKI.path[PKI_CA];
    args[4] = NULL;
}

Test(tls_client, a_client_certificate_is_sent_when_the_server_requires_one)
{
    const char *args[5];
    require_client_cert(args);
    corio_tls_context_opts o = {.certfile = PKI.path[PKI_CLIENT], .keyfile = PKI.path[PKI_CLIENT_KEY]};
    client_case c = {.cert = PKI_SERVER, .extra = args, .ctx = client_ctx(&o), .name = "localhost"};
    run_case(&c);
    cr_assert_eq(c.rc, 0, "%s: %s", corio_err_name(c.rc), c.why);
    cr_expect_str_eq(c.reply, "oiroc olleh\n");
}

Test(tls_client, a_required_client_certificate_missing_is_refused)
{
    /* TLS 1.3: the client's handshake is over before the server checks; the server's alert
     * arrives at the first read. */
    const char *args[5];
    require_client_cert(args);
    client_case c = {.cert = PKI_SERVER, .extra = args, .ctx = client_ctx(NULL), .name = "localhost"};
    run_case(&c);
    if (c.rc == 0)
        cr_expect_str_eq(c.reply, "CORIO_ETLSPROTO");
    else
        cr_expect_eq(c.rc, CORIO_ETLSPROTO, "%s: %s", corio_err_name(c.rc), c.why);
}
