/* TLS streams: the handshake on a connection, start_tls, and what a connection negotiated. */
#include "stream/stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

static double opt_seconds(double v, double dflt) { return v == 0 ? dflt : v; }

int corio__stream_tls_start(corio__stream *s, corio_tls_context *ctx, const char *hostname,
                            const corio_stream_opts *o) {
    double handshake = o ? opt_seconds(o->tls_handshake_timeout, 60) : 60;
    double shutdown = o ? opt_seconds(o->tls_shutdown_timeout, 30) : 30;
    s->shutdown_ns = shutdown < 0 ? -1 : corio__sec_to_ns(shutdown);
    int rc = corio__tls_new(&s->tls, ctx, s->fd, hostname);
    if (rc == 0) {
        s->tls_starting = 1;
        s->reading = 1; /* a read meanwhile is -EBUSY */
        corio__stream_ref(s);
        rc = corio__tls_handshake(s->tls, handshake);
        s->reading = 0;
        s->tls_starting = 0;
        corio__stream_unref(s);
    }
    if (rc < 0) {
        /* A session that never started has nothing to close: drop the socket. */
        corio__stream_fail(s, s->err ? s->err : rc);
        return rc;
    }
    return s->err; /* broken meanwhile (aborted): not usable */
}

/* Awaits until everything written so far has left the write buffer. */
static int flush_all(corio__stream *s) {
    size_t high = s->high, low = s->low;
    s->high = s->low = 0;
    int rc = corio_writer_drain(&s->writer);
    s->high = high;
    s->low = low;
    return rc;
}

int corio_writer_start_tls(corio_writer *w, corio_tls_context *ctx, const corio_stream_opts *o) {
    if (!w || !ctx)
        return -EINVAL;
    CORIO__STREAM_CHECK(w->s);
    corio__stream *s = w->s;
    if (s->tls || corio__stream_opts_check(o) < 0)
        return -EINVAL;
    if (!corio__current_task())
        return CORIO_ENOTASK;
    if (s->err)
        return s->err;
    if (s->closing || s->closed || s->eof_pending || s->eof)
        return CORIO_EINVALSTATE;
    if (s->reading)
        return -EBUSY;
    if (s->rlen)
        return CORIO_EINVALSTATE; /* plaintext received before the handshake: see the header */
    corio__stream_ref(s);
    int rc = flush_all(s);
    if (rc == 0 && s->rlen)
        rc = CORIO_EINVALSTATE;
    if (rc == 0)
        rc = corio__stream_tls_start(s, ctx, o ? o->server_hostname : NULL, o);
    corio__stream_unref(s);
    return rc;
}

static corio__stream *tls_stream(const corio_writer *w, const char *fn) {
    if (!w)
        return NULL;
    CORIO__STREAM_CHECK_AS(w->s, fn);
    return w->s->tls ? w->s : NULL;
}

/* "DNS:a,DNS:b,IP:1.2.3.4" into buf, ending with "..." when it does not fit. */
static void sans(X509 *cert, char *buf, size_t cap) {
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        char one[300];
        if (g->type == GEN_DNS) {
            const ASN1_IA5STRING *d = g->d.dNSName;
            snprintf(one, sizeof one, "DNS:%.*s", d->length, (const char *)d->data);
        } else if (g->type == GEN_IPADD) {
            int len = g->d.iPAddress->length;
            char ip[INET6_ADDRSTRLEN] = "?";
            if (len == 4 || len == 16)
                inet_ntop(len == 4 ? AF_INET : AF_INET6, g->d.iPAddress->data, ip, sizeof ip);
            snprintf(one, sizeof one, "IP:%s", ip);
        } else {
            continue;
        }
        size_t k = strlen(one) + (at ? 1 : 0);
        if (at + k + 4 > cap) {
            snprintf(buf + at, cap - at, "...");
            break;
        }
        at += (size_t)snprintf(buf + at, cap - at, "%s%s", at ? "," : "", one);
    }
    GENERAL_NAMES_free(names);
}

static void peer_info(X509 *cert, corio_tls_info *info) {
    info->has_peer_cert = 1;
    BIO *b = BIO_new(BIO_s_mem());
    if (b) {
        X509_NAME_print_ex(b, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
        int n = BIO_read(b, info->peer_subject, sizeof info->peer_subject - 1);
        info->peer_subject[n > 0 ? n : 0] = '\0';
        (void)BIO_reset(b);
        X509_NAME_print_ex(b, X509_get_issuer_name(cert), 0, XN_FLAG_RFC2253);
        n = BIO_read(b, info->peer_issuer, sizeof info->peer_issuer - 1);
        info->peer_issuer[n > 0 ? n : 0] = '\0';
        BIO_free(b);
    }
    sans(cert, info->peer_sans, sizeof info->peer_sans);
    unsigned len = 0;
    X509_digest(cert, EVP_sha256(), info->peer_sha256, &len);
}

int corio_writer_get_tls_info(const corio_writer *w, corio_tls_info *info) {
    corio__stream *s = tls_stream(w, __func__);
    if (!s || !info)
        return -EINVAL;
    SSL *ssl = s->tls->ssl;
    memset(info, 0, sizeof *info);
    info->version = SSL_get_version(ssl);
    info->cipher = SSL_get_cipher_name(ssl);
    info->alpn = s->tls->alpn;
    info->server_name = s->tls->server ? SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) : NULL;
    info->session_reused = SSL_session_reused(ssl);
    info->ktls_send = BIO_get_ktls_send(SSL_get_wbio(ssl)) > 0;
    info->ktls_recv = BIO_get_ktls_recv(SSL_get_rbio(ssl)) > 0;
    X509 *cert = SSL_get1_peer_certificate(ssl);
    if (cert) {
        peer_info(cert, info);
        X509_free(cert);
    }
    return 0;
}

ssize_t corio_writer_get_peer_certificate(const corio_writer *w, void *buf, size_t cap) {
    corio__stream *s = tls_stream(w, __func__);
    if (!s)
        return -EINVAL;
    X509 *cert = SSL_get1_peer_certificate(s->tls->ssl);
    if (!cert)
        return -ENOENT;
    int n = i2d_X509(cert, NULL);
    ssize_t rc = n;
    if (n < 0) {
        rc = -ENOMEM;
    } else if (buf) {
        unsigned char *p = buf;
        rc = (size_t)n > cap ? -ENOBUFS : i2d_X509(cert, &p);
    }
    X509_free(cert);
    return rc;
}

void *corio_writer_get_ssl_object(const corio_writer *w) {
    corio__stream *s = tls_stream(w, __func__);
    return s ? s->tls->ssl : NULL;
}

const char *corio_writer_get_tls_error(const corio_writer *w) {
    if (!w)
        return NULL;
    corio__stream *s = tls_stream(w, __func__);
    return s ? s->tls->why : "";
}
