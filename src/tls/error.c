/* TLS failures as corio codes, with OpenSSL's reason kept for the caller to read. */
#include "tls/tls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

static __thread char last_error[160];

const char *corio_tls_get_error(void) { return last_error; }

static void keep(corio__tls *t, const char *why) {
    snprintf(last_error, sizeof last_error, "%s", why);
    if (t)
        snprintf(t->why, sizeof t->why, "%s", why);
}

void corio__tls_set_why(corio__tls *t, const char *why) { keep(t, why); }

/* The reason of OpenSSL's first queued error (the cause; later ones say where it surfaced). */
static unsigned long first_error(char *why, size_t len) {
    unsigned long e = ERR_peek_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    if (r)
        snprintf(why, len, "%s", r);
    else if (e)
        ERR_error_string_n(e, why, len);
    return e;
}

int corio__tls_config_failure(int code, const char *fallback) {
    char why[160];
    if (!first_error(why, sizeof why))
        snprintf(why, sizeof why, "%s", fallback);
    ERR_clear_error();
    keep(NULL, why);
    return code;
}

/* A certificate that did not verify: the chain's verdict names the class. */
static int verify_failure(corio__tls *t) {
    long v = SSL_get_verify_result(t->ssl);
    if (v == X509_V_OK)
        return CORIO_ETLSVERIFY; /* refused without a verdict: no certificate sent */
    keep(t, X509_verify_cert_error_string(v));
    return v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH
               ? CORIO_ETLSHOSTNAME
               : CORIO_ETLSVERIFY;
}

static int ssl_failure(corio__tls *t) {
    char why[160];
    unsigned long e = first_error(why, sizeof why);
    keep(t, e ? why : "TLS protocol error");
    if (!e || ERR_GET_LIB(e) != ERR_LIB_SSL)
        return CORIO_ETLSPROTO;
    switch (ERR_GET_REASON(e)) {
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
        return t ? verify_failure(t) : CORIO_ETLSVERIFY;
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
        return CORIO_ETLSVERIFY;
    case SSL_R_UNEXPECTED_EOF_WHILE_READING:
        return CORIO_ETLSEOF;
    default:
        return CORIO_ETLSPROTO;
    }
}

int corio__tls_failure(corio__tls *t, int ssl_err) {
    int saved = errno, code;
    if (ssl_err == SSL_ERROR_SYSCALL && !ERR_peek_error()) {
        /* The socket's own error, or an EOF where a record was due. */
        code = saved ? -saved : CORIO_ETLSEOF;
        keep(t, saved ? strerror(saved) : "unexpected eof while reading");
    } else if (ssl_err == SSL_ERROR_SSL || ssl_err == SSL_ERROR_SYSCALL) {
        code = ssl_failure(t);
    } else {
        code = CORIO_ETLSPROTO;
        keep(t, "unexpected TLS state");
    }
    ERR_clear_error();
    return code;
}
