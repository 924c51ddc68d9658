/* What a server decides from a ClientHello: the certificate (by SNI) and the ALPN protocol. */
#include "tls/tls.h"

#include "base/alloc.h"

#include <errno.h>
#include <string.h>

#include <openssl/x509v3.h>

int corio__tls_alpn_wire(const char *list, unsigned char **out, size_t *len) {
    size_t n = strlen(list);
    unsigned char *w = corio__malloc(n + 1);
    if (!w)
        return -ENOMEM;
    size_t at = 0;
    for (const char *p = list;;) {
        const char *end = strchr(p, ',');
        size_t k = end ? (size_t)(end - p) : strlen(p);
        if (k == 0 || k > 255) {
            free(w);
            return -EINVAL;
        }
        w[at++] = (unsigned char)k;
        memcpy(w + at, p, k);
        at += k;
        if (!end)
            break;
        p = end + 1;
    }
    *out = w;
    *len = at;
    return 0;
}

/* SNI: the first extra certificate whose names match the name asked for; the default
 * certificate when it matches or nothing does. */
static int on_servername(SSL *ssl, int *alert, void *arg) {
    (void)alert;
    corio_tls_context *c = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!name || !c->n_sni || (c->cert && X509_check_host(c->cert, name, 0, 0, NULL) == 1))
        return SSL_TLSEXT_ERR_OK;
    for (size_t i = 0; i < c->n_sni; i++) {
        if (X509_check_host(c->sni[i].cert, name, 0, 0, NULL) == 1) {
            SSL_set_SSL_CTX(ssl, c->sni[i].ctx);
            break;
        }
    }
    return SSL_TLSEXT_ERR_OK;
}

/* ALPN: the server's preference wins. A client that offers only protocols the server does not
 * speak is refused (RFC 7301, 3.2), rather than left to talk a protocol nobody agreed on. */
static int on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                   const unsigned char *in, unsigned inlen, void *arg) {
    (void)ssl;
    corio_tls_context *c = arg;
    if (!c->alpn)
        return SSL_TLSEXT_ERR_NOACK;
    for (size_t i = 0; i < c->alpn_len; i += 1 + c->alpn[i]) {
        for (unsigned j = 0; j < inlen; j += 1u + in[j]) {
            if (in[j] == c->alpn[i] && j + 1u + in[j] <= inlen &&
                memcmp(in + j + 1, c->alpn + i + 1, in[j]) == 0) {
                *out = in + j + 1;
                *outlen = in[j];
                return SSL_TLSEXT_ERR_OK;
            }
        }
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

void corio__tls_server_callbacks(corio_tls_context *c, SSL_CTX *ctx) {
    SSL_CTX_set_tlsext_servername_callback(ctx, on_servername);
    SSL_CTX_set_tlsext_servername_arg(ctx, c);
    if (c->alpn)
        SSL_CTX_set_alpn_select_cb(ctx, on_alpn, c);
}
