/* TLS contexts: what corio_tls_context_new and _add_certificate accept and refuse (sides,
 * versions, flags, missing and unusable files, a key that is not the certificate's, ALPN and
 * cipher lists, the key log file), each refusal with its reason in corio_tls_get_error, and
 * nothing leaked when an allocation fails at any point. */
#include "fault_helpers.h"
#include "tls_pki.h"

#include "corio.h"

#include <errno.h>

static pki PKI;
static void setup(void) { pki_make(&PKI); }
static void teardown(void) { pki_remove(&PKI); }

TestSuite(tls_context, .init = setup, .fini = teardown, .timeout = 30);

static int make(corio_tls_side side, const corio_tls_context_opts *o)
{
    corio_tls_context *c = (corio_tls_context *)1;
    int rc = corio_tls_context_new(&c, side, o);
    if (rc == 0)
        cr_expect_not_null(c);
    else
        cr_expect_null(c);
    corio_tls_context_free(c);
    return rc;
}

static corio_tls_context_opts server_opts(int cert)
{
    return (corio_tls_context_opts){.certfile = PKI.path[cert], .keyfile = PKI.path[cert + 1]};
}

Test(tls_context, defaults_make_a_client_and_a_server_needs_a_certificate)
{
    cr_expect_eq(make(CORIO_TLS_CLIENT, NULL), 0);
    cr_expect_eq(make(CORIO_TLS_SERVER, NULL), -EINVAL);
    corio_tls_context_opts o = server_opts(PKI_SERVER);
    cr_expect_eq(make(CORIO_TLS_SERVER, &o), 0);
    o.keyfile = NULL; /* the key is not in the certificate's file */
    cr_expect_eq(make(CORIO_TLS_SERVER, &o), CORIO_ETLSCONFIG);
}

Test(tls_context, bad_sides_versions_and_flags_are_refused)
{
    cr_expect_eq(make((corio_tls_side)0, NULL), -EINVAL);
    cr_expect_eq(make((corio_tls_side)3, NULL), -EINVAL);
    corio_tls_context_opts o = {.min_version = CORIO_TLS_VERSION_1_3,
                                .max_version = CORIO_TLS_VERSION_1_2};
    cr_expect_eq(make(CORIO_TLS_CLIENT, &o), -EINVAL);
    o = (corio_tls_context_opts){.min_version = 0x0301}; /* TLS 1.0: not offered */
    cr_expect_eq(make(CORIO_TLS_CLIENT, &o), -EINVAL);
    o = (corio_tls_context_opts){.min_version = CORIO_TLS_VERSION_1_3};
    cr_expect_eq(make(CORIO_TLS_CLIENT, &o), 0);
    o = (corio_tls_context_opts){.flags = CORIO_TLS_VERIFY_CLIENT};
    cr_expect_eq(make(CORIO_TLS_CLIENT, &o), -EINVAL, "a server's flag on a client");
    o = server_opts(PKI_SERVER);
    o.flags = CORIO_TLS_NO_VERIFY;
    cr_expect_eq(make(CORIO_TLS_SERVER, &o), -EINVAL, "a client's flag on a server");
    o = (corio_tls_context_opts){.flags = 1u << 20};
    cr_expect_eq(make(CORIO_TLS_CLIENT, &o), -EINVAL, "an unknown flag");
    o = (corio_tls_context_opts){.keyfile = PKI.path[PKI_SERVER_KEY]};
    cr_expect_eq(make(CORIO_TLS_CLIENT, &o), -EINVAL, "a key without its certificate");
}

Test(tls_context, missing_files_are_their_open_error)
{
    corio_tls_context_opts o = server_opts(PKI_SERVER);
    o.certfile = "/nonexistent/cert.pem";
    cr_expect_eq(make(CORIO_TLS_SERVER, &o), -ENOENT);
    cr_expect(strstr(corio_tls_get_error(), "No such file"), "%s", corio_tls_get_error());
    o = server_opts(PKI_SERVER);
    o.keyfile = "/nonexistent/key.pem";
    cr_expect_eq(make(CORIO_TLS_SERVER, &o), -ENOENT);
    o = (corio_tls_context_opts){.cafile = "/nonexistent/ca.pem"};
    cr_expect_eq(make(CORIO_TLS_CLIENT, &o), -ENOENT);
    o = (corio_tls_context_opts){.keylog_file = "/nonexistent/dir/keys.log"};
    cr_expect_eq(make(CORIO_TLS_CLIENT, &o), -ENOENT);
}

Test(tls_context, unusable_files_are_config_errors_with_a_reason)
{
    char junk[] = "/tmp/corio-junk-XXXXXX";
    int fd = mkstemp(junk);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "not a certificate\n", 18), 18);
    close(fd);
    corio_tls_context_opts o = server_opts(PKI_SERVER);
    o.certfile = junk;
    cr_expect_eq(make(CORIO_TLS_SERVER, &o), CORIO_ETLSCONFIG);
    cr_expect_neq(corio_tls_get_error()[0], '\0');
    o = (corio_tls_context_opts){.cafile = junk};
    cr_expect_eq(make(CORIO_TLS_CLIENT, &o), CORIO_ETLSCONFIG);
    unlink(junk);
    /* A key that belongs to another certificate. */
    o = server_opts(PKI_SERVER);
    o.keyfile = PKI.path[PKI_WRONG_KEY];
    cr_expect_eq(make(CORIO_TLS_SERVER, &o), CORIO_ETLSCONFIG);
    cr_expect(strstr(corio_tls_get_error(), "mismatch"), "%s", corio_tls_get_error());
}

Test(tls_context, alpn_and_cipher_lists_are_checked)
{
    corio_tls_context_opts o = {.alpn = "h2,,http/1.1"};
    cr_expect_eq(make(CORIO_TLS_CLIENT, &o), -EINVAL, "an empty name");
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    o.alpn = longname;
    cr_expect_eq(make(CORIO_TLS_CLIENT, &o), -EINVAL, "a name over 255 bytes");
    o.alpn = "h2,http/1.1";
    cr_expect_eq(make(CORIO_TLS_CLIENT, &o), 0);
    o = (corio_tls_context_opts){.ciphers = "NO-SUCH-CIPHER"};
    cr_expect_eq(make(CORIO_TLS_CLIENT, &o), CORIO_ETLSCONFIG);
    o = (corio_tls_context_opts){.ciphersuites = "TLS_NO_SUCH_SUITE"};
    cr_expect_eq(make(CORIO_TLS_CLIENT, &o), CORIO_ETLSCONFIG);
    o = (corio_tls_context_opts){.ciphersuites = "TLS_CHACHA20_POLY1305_SHA256"};
    cr_expect_eq(make(CORIO_TLS_CLIENT, &o), 0);
}

Test(tls_context, sni_certificates_go_to_servers_only)
{
    corio_tls_context *c = NULL;
    cr_assert_eq(corio_tls_context_new(&c, CORIO_TLS_CLIENT, NULL), 0);
    cr_expect_eq(corio_tls_context_add_certificate(c, PKI.path[PKI_OTHER], NULL), -EINVAL);
    corio_tls_context_free(c);
    corio_tls_context_opts o = server_opts(PKI_SERVER);
    cr_assert_eq(corio_tls_context_new(&c, CORIO_TLS_SERVER, &o), 0);
    cr_expect_eq(corio_tls_context_add_certificate(c, NULL, NULL), -EINVAL);
    cr_expect_eq(corio_tls_context_add_certificate(c, "/nonexistent.pem", NULL), -ENOENT);
    cr_expect_eq(corio_tls_context_add_certificate(c, PKI.path[PKI_OTHER], NULL), CORIO_ETLSCONFIG);
    cr_expect_eq(corio_tls_context_add_certificate(c, PKI.path[PKI_OTHER], PKI.path[PKI_OTHER_KEY]),
                 0);
    corio_tls_context_free(c);
}

static int full_context(void)
{
    corio_tls_context_opts o = server_opts(PKI_SERVER);
    o.alpn = "h2,http/1.1";
    o.cafile = PKI.path[PKI_CA];
    o.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
    o.flags = CORIO_TLS_VERIFY_CLIENT;
    corio_tls_context *c = NULL;
    int rc = corio_tls_context_new(&c, CORIO_TLS_SERVER, &o);
    if (rc == 0)
        rc = corio_tls_context_add_certificate(c, PKI.path[PKI_OTHER], PKI.path[PKI_OTHER_KEY]);
    corio_tls_context_free(c);
    return rc;
}

static int is_enomem(int rc) { return rc == -ENOMEM; }

Test(tls_context, an_allocation_failing_anywhere_leaves_nothing)
{
    cr_expect_geq(fault_sweep(full_context, is_enomem, 100), 3);
}
