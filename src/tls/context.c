/* TLS contexts: what a side's connections share, built once on an SSL_CTX. */
#include "tls/tls.h"

#include "base/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

static int version_ok(int v) {
    return v == 0 || v == CORIO_TLS_VERSION_1_2 || v == CORIO_TLS_VERSION_1_3;
}

static int opts_check(corio_tls_side side, const corio_tls_context_opts *o) {
    unsigned client_only = CORIO_TLS_NO_VERIFY | CORIO_TLS_NO_CHECK_HOSTNAME;
    unsigned server_only = CORIO_TLS_VERIFY_CLIENT | CORIO_TLS_VERIFY_CLIENT_OPTIONAL;
    unsigned known = client_only | server_only | CORIO_TLS_NO_TICKETS | CORIO_TLS_STRICT_EOF |
                     CORIO_TLS_KTLS;
    if (side != CORIO_TLS_CLIENT && side != CORIO_TLS_SERVER)
        return -EINVAL;
    if ((o->flags & ~known) || (side == CORIO_TLS_SERVER && (o->flags & client_only)) ||
        (side == CORIO_TLS_CLIENT && (o->flags & server_only)))
        return -EINVAL;
    if (!version_ok(o->min_version) || !version_ok(o->max_version) ||
        (o->max_version && o->min_version > o->max_version))
        return -EINVAL;
    if (side == CORIO_TLS_SERVER && !o->certfile)
        return -EINVAL;
    if (o->keyfile && !o->certfile)
        return -EINVAL;
    return 0;
}

/* A named file must exist and be readable: its open(2) error says more than OpenSSL's. */
static int readable(const char *path) {
    if (!path)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    close(fd);
    return 0;
}

static int verify_setup(corio_tls_context *c, SSL_CTX *ctx) {
    const corio_tls_context_opts *o = &c->opts;
    int mode = SSL_VERIFY_NONE;
    if (c->side == CORIO_TLS_CLIENT && !(c->flags & CORIO_TLS_NO_VERIFY))
        mode = SSL_VERIFY_PEER;
    if (c->flags & CORIO_TLS_VERIFY_CLIENT)
        mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    else if (c->flags & CORIO_TLS_VERIFY_CLIENT_OPTIONAL)
        mode = SSL_VERIFY_PEER;
    SSL_CTX_set_verify(ctx, mode, NULL);
    if (mode == SSL_VERIFY_NONE)
        return 0;
    if (o->cafile || o->capath) {
        int rc = readable(o->cafile);
        if (rc < 0)
            return corio__tls_config_failure(rc, strerror(-rc));
        if (!SSL_CTX_load_verify_locations(ctx, o->cafile, o->capath))
            return corio__tls_config_failure(CORIO_ETLSCONFIG, "cannot load the CA file");
        if (c->side == CORIO_TLS_SERVER && o->cafile) {
            /* The CAs a client may choose its certificate by. */
            STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->cafile);
            if (names)
                SSL_CTX_set_client_CA_list(ctx, names);
        }
    } else if (!SSL_CTX_set_default_verify_paths(ctx)) {
        return corio__tls_config_failure(CORIO_ETLSCONFIG, "cannot load the system CA store");
    }
    return 0;
}

int corio__tls_configure(corio_tls_context *c, SSL_CTX *ctx) {
    const corio_tls_context_opts *o = &c->opts;
    int min = o->min_version ? o->min_version : CORIO_TLS_VERSION_1_2;
    if (!SSL_CTX_set_min_proto_version(ctx, min) ||
        !SSL_CTX_set_max_proto_version(ctx, o->max_version))
        return corio__tls_config_failure(CORIO_ETLSCONFIG, "bad protocol versions");
    /* Partial writes and a moving buffer let the stream hand OpenSSL its write buffer, which
     * may have moved and grown, when a write that wanted the socket is tried again. Reading
     * ahead takes whole runs of records in one read(2). */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    uint64_t ops = SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION;
    if (c->flags & CORIO_TLS_KTLS)
        ops |= SSL_OP_ENABLE_KTLS; /* and no reading ahead: the kernel takes whole records */
    else
        SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_options(ctx, ops);
    if ((c->flags & CORIO_TLS_NO_TICKETS) && c->side == CORIO_TLS_SERVER) {
        /* Without tickets OpenSSL would resume from its session cache: no resumption at all. */
        SSL_CTX_set_num_tickets(ctx, 0);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    }
    if (o->ciphers && !SSL_CTX_set_cipher_list(ctx, o->ciphers))
        return corio__tls_config_failure(CORIO_ETLSCONFIG, "bad cipher list");
    if (o->ciphersuites && !SSL_CTX_set_ciphersuites(ctx, o->ciphersuites))
        return corio__tls_config_failure(CORIO_ETLSCONFIG, "bad TLS 1.3 cipher suites");
    int rc = verify_setup(c, ctx);
    if (rc < 0)
        return rc;
    if (c->side == CORIO_TLS_SERVER) {
        /* Resumption with client certificates needs a session id context. */
        static const unsigned char sid[] = "corio";
        SSL_CTX_set_session_id_context(ctx, sid, sizeof sid - 1);
        corio__tls_server_callbacks(c, ctx);
    } else {
        if (c->alpn && SSL_CTX_set_alpn_protos(ctx, c->alpn, (unsigned)c->alpn_len) != 0)
            return corio__tls_config_failure(-ENOMEM, "cannot set ALPN");
        if (!(c->flags & CORIO_TLS_NO_TICKETS))
            corio__tls_session_callbacks(c, ctx);
    }
    corio__tls_keylog_callbacks(c, ctx);
    return 0;
}

int corio__tls_load_cert(SSL_CTX *ctx, const char *certfile, const char *keyfile, X509 **cert) {
    int rc = readable(certfile);
    if (rc == 0)
        rc = readable(keyfile);
    if (rc < 0) {
        corio__tls_config_failure(rc, strerror(-rc));
        return rc;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, certfile) != 1)
        return corio__tls_config_failure(CORIO_ETLSCONFIG, "cannot load the certificate");
    if (SSL_CTX_use_PrivateKey_file(ctx, keyfile ? keyfile : certfile, SSL_FILETYPE_PEM) != 1)
        return corio__tls_config_failure(CORIO_ETLSCONFIG, "cannot load the private key");
    if (SSL_CTX_check_private_key(ctx) != 1)
        return corio__tls_config_failure(CORIO_ETLSCONFIG, "the key does not match the certificate");
    if (cert) {
        *cert = SSL_CTX_get0_certificate(ctx);
        X509_up_ref(*cert);
    }
    return 0;
}

static char *dup_opt(const char *s, int *failed) {
    if (!s)
        return NULL;
    char *d = corio__strdup_raw(s);
    if (!d)
        *failed = 1;
    return d;
}

/* Copies the options' strings, so that SNI contexts added later are set up as the first. */
static int copy_opts(corio_tls_context *c, const corio_tls_context_opts *o) {
    int failed = 0;
    c->opts = *o;
    c->opts.cafile = dup_opt(o->cafile, &failed);
    c->opts.capath = dup_opt(o->capath, &failed);
    c->opts.certfile = c->opts.keyfile = NULL; /* each SSL_CTX loads its own */
    c->opts.alpn = NULL;                       /* kept in wire format */
    c->opts.ciphers = dup_opt(o->ciphers, &failed);
    c->opts.ciphersuites = dup_opt(o->ciphersuites, &failed);
    c->opts.keylog_file = NULL;
    return failed ? -ENOMEM : 0;
}

static void free_opts(corio_tls_context_opts *o) {
    free((char *)o->cafile);
    free((char *)o->capath);
    free((char *)o->ciphers);
    free((char *)o->ciphersuites);
}

static void context_destroy(corio_tls_context *c) {
    for (size_t i = 0; i < c->n_sni; i++) {
        SSL_CTX_free(c->sni[i].ctx);
        X509_free(c->sni[i].cert);
    }
    free(c->sni);
    corio__tls_sessions_free(c);
    SSL_CTX_free(c->ctx);
    X509_free(c->cert);
    free(c->alpn);
    free_opts(&c->opts);
    if (c->keylog_fd >= 0)
        close(c->keylog_fd);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void corio__tls_context_unref(corio_tls_context *c) {
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        context_destroy(c);
}

static int context_build(corio_tls_context *c, const corio_tls_context_opts *o) {
    int rc = copy_opts(c, o);
    if (rc == 0 && o->alpn)
        rc = corio__tls_alpn_wire(o->alpn, &c->alpn, &c->alpn_len);
    if (rc == 0)
        rc = corio__tls_keylog_open(c, o->keylog_file);
    if (rc < 0)
        return rc;
    const SSL_METHOD *m = c->side == CORIO_TLS_SERVER ? TLS_server_method() : TLS_client_method();
    if (!(c->ctx = SSL_CTX_new(m)))
        return corio__tls_config_failure(-ENOMEM, "cannot make an SSL_CTX");
    rc = corio__tls_configure(c, c->ctx);
    if (rc == 0 && o->certfile)
        rc = corio__tls_load_cert(c->ctx, o->certfile, o->keyfile, &c->cert);
    return rc;
}

int corio_tls_context_new(corio_tls_context **out, corio_tls_side side,
                          const corio_tls_context_opts *opts) {
    static const corio_tls_context_opts defaults;
    if (out)
        *out = NULL;
    const corio_tls_context_opts *o = opts ? opts : &defaults;
    if (!out || opts_check(side, o) < 0)
        return -EINVAL;
    corio_tls_context *c = corio__calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    atomic_init(&c->refs, 1);
    c->side = side;
    c->flags = o->flags;
    c->keylog_fd = -1;
    pthread_mutex_init(&c->lock, NULL);
    int rc = context_build(c, o);
    if (rc < 0) {
        context_destroy(c);
        return rc;
    }
    *out = c;
    return 0;
}

int corio_tls_context_add_certificate(corio_tls_context *c, const char *certfile,
                                      const char *keyfile) {
    if (!c || !certfile || c->side != CORIO_TLS_SERVER)
        return -EINVAL;
    corio__tls_sni *v = corio__realloc(c->sni, (c->n_sni + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    c->sni = v;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return corio__tls_config_failure(-ENOMEM, "cannot make an SSL_CTX");
    X509 *cert = NULL;
    int rc = corio__tls_configure(c, ctx);
    if (rc == 0)
        rc = corio__tls_load_cert(ctx, certfile, keyfile, &cert);
    if (rc < 0) {
        SSL_CTX_free(ctx);
        return rc;
    }
    c->sni[c->n_sni++] = (corio__tls_sni){.ctx = ctx, .cert = cert};
    return 0;
}

int corio_tls_context_free(corio_tls_context *c) {
    if (c)
        corio__tls_context_unref(c);
    return 0;
}
