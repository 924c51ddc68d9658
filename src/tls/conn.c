/* A TLS connection on a socket: the handshake, reads and writes, close_notify. */
#include "tls/tls.h"

#include "base/alloc.h"
#include "corio/io.h"
#include "corio/loop.h"
#include "corio/task.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

static int ssl_index = -1;
static pthread_once_t ssl_index_once = PTHREAD_ONCE_INIT;

static void make_index(void) { ssl_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL); }

int corio__tls_ssl_index(void) {
    pthread_once(&ssl_index_once, make_index);
    return ssl_index;
}

static int is_ip(const char *host) {
    unsigned char a[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* The session cache's key: the name verified and the port, as one server. */
static char *session_key(int fd, const char *hostname) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int port = 0;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
        port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                        : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    size_t n = strlen(hostname) + 8;
    char *key = corio__malloc(n);
    if (key)
        snprintf(key, n, "%s:%d", hostname, port);
    return key;
}

/* A client's name: sent as SNI (not an IP address: RFC 6066), and verified unless the context
 * says not to. */
static int client_setup(corio__tls *t, const char *hostname) {
    SSL *ssl = t->ssl;
    unsigned flags = t->ctx->flags;
    int check = !(flags & (CORIO_TLS_NO_VERIFY | CORIO_TLS_NO_CHECK_HOSTNAME));
    SSL_set_connect_state(ssl);
    if (!hostname || !*hostname)
        return check ? -EINVAL : 0; /* nothing to check the certificate against */
    int ip = is_ip(hostname);
    if (!ip && !SSL_set_tlsext_host_name(ssl, hostname))
        return -ENOMEM;
    if (check) {
        int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), hostname)
                    : SSL_set1_host(ssl, hostname);
        if (!ok)
            return -ENOMEM;
    }
    if (flags & CORIO_TLS_NO_TICKETS)
        return 0;
    if (!(t->session_key = session_key(t->fd, hostname)))
        return -ENOMEM;
    SSL_SESSION *sess = corio__tls_session_get(t->ctx, t->session_key);
    if (sess) {
        SSL_set_session(ssl, sess);
        SSL_SESSION_free(sess);
    }
    return 0;
}

int corio__tls_new(corio__tls **out, corio_tls_context *ctx, int fd, const char *hostname) {
    *out = NULL;
    corio__tls *t = corio__calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->fd = fd;
    t->ctx = ctx;
    corio__tls_context_ref(ctx);
    t->server = ctx->side == CORIO_TLS_SERVER;
    int rc = -ENOMEM;
    if ((t->ssl = SSL_new(ctx->ctx)) && SSL_set_fd(t->ssl, fd) &&
        SSL_set_ex_data(t->ssl, corio__tls_ssl_index(), t)) {
        rc = 0;
        if (t->server)
            SSL_set_accept_state(t->ssl);
        else
            rc = client_setup(t, hostname);
    }
    ERR_clear_error();
    if (rc < 0) {
        corio__tls_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void corio__tls_free(corio__tls *t) {
    if (!t)
        return;
    SSL_free(t->ssl);
    corio__tls_context_unref(t->ctx);
    free(t->session_key);
    free(t->alpn);
    free(t);
}

static void handshake_done(corio__tls *t) {
    const unsigned char *p;
    unsigned n;
    SSL_get0_alpn_selected(t->ssl, &p, &n);
    if (n && (t->alpn = corio__malloc(n + 1))) {
        memcpy(t->alpn, p, n);
        t->alpn[n] = '\0';
    }
    t->done = 1;
}

/* Awaits the readiness OpenSSL asked for. A read that must write (a TLS 1.3 KeyUpdate answer
 * on a full socket) may find the writer's flusher waiting for the same: the writer's next send
 * flushes OpenSSL's pending record too, so the reader only needs to let time pass. */
static int await_ready(corio__tls *t, int want_read, double timeout) {
    int rc = want_read ? corio_wait_readable(t->fd, timeout) : corio_wait_writable(t->fd, timeout);
    for (double pause = 0.001; rc == -EBUSY; pause = pause < 0.05 ? pause * 2 : pause) {
        rc = corio_sleep(pause);
        if (rc == 0)
            rc = want_read ? corio_wait_readable(t->fd, 0) : corio_wait_writable(t->fd, 0);
        if (rc == -ETIMEDOUT)
            rc = -EBUSY;
    }
    return rc;
}

int corio__tls_await(corio__tls *t, double timeout) {
    return await_ready(t, t->want_read, timeout);
}

int corio__tls_handshake(corio__tls *t, double timeout) {
    double deadline = timeout < 0 ? -1 : corio_loop_time(NULL) + timeout;
    for (;;) {
        ERR_clear_error();
        errno = 0;
        int r = SSL_do_handshake(t->ssl);
        if (r == 1) {
            handshake_done(t);
            return 0;
        }
        int e = SSL_get_error(t->ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            t->broken = 1;
            return corio__tls_failure(t, e);
        }
        double left = CORIO_FOREVER;
        if (deadline >= 0 && (left = deadline - corio_loop_time(NULL)) < 0)
            left = 0;
        int rc = await_ready(t, e == SSL_ERROR_WANT_READ, left);
        if (rc == -ETIMEDOUT) {
            corio__tls_set_why(t, "handshake timed out");
            t->broken = 1;
            return CORIO_ETLSTIMEOUT;
        }
        if (rc < 0) {
            t->broken = 1;
            return rc;
        }
    }
}

ssize_t corio__tls_read(corio__tls *t, void *buf, size_t n) {
    for (;;) {
        size_t got;
        ERR_clear_error();
        errno = 0;
        if (SSL_read_ex(t->ssl, buf, n, &got))
            return (ssize_t)got;
        int e = SSL_get_error(t->ssl, 0);
        if (e == SSL_ERROR_ZERO_RETURN)
            return 0; /* close_notify */
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            int rc = await_ready(t, e == SSL_ERROR_WANT_READ, CORIO_FOREVER);
            if (rc < 0)
                return rc;
            continue;
        }
        t->broken = 1;
        int code = corio__tls_failure(t, e);
        /* An EOF between records without close_notify is asyncio's EOF: a truncation the
         * application's framing must catch. One inside a record is never a clean end. */
        if (code == CORIO_ETLSEOF && !(t->ctx->flags & CORIO_TLS_STRICT_EOF) &&
            !SSL_has_pending(t->ssl))
            return 0;
        return code;
    }
}

ssize_t corio__tls_write(corio__tls *t, const void *data, size_t n) {
    size_t done;
    ERR_clear_error();
    errno = 0;
    if (SSL_write_ex(t->ssl, data, n, &done))
        return (ssize_t)done;
    int e = SSL_get_error(t->ssl, 0);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        t->want_read = e == SSL_ERROR_WANT_READ;
        return -EAGAIN;
    }
    t->broken = 1;
    return corio__tls_failure(t, e);
}

int corio__tls_shutdown(corio__tls *t) {
    /* OpenSSL forbids close_notify after a fatal error, and there is nothing to close before
     * the handshake is done. */
    if (t->broken || t->notify_sent || !t->done)
        return 0;
    ERR_clear_error();
    errno = 0;
    int r = SSL_shutdown(t->ssl);
    if (r >= 0) {
        t->notify_sent = 1;
        return 0;
    }
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        t->want_read = e == SSL_ERROR_WANT_READ;
        return -EAGAIN;
    }
    t->broken = 1;
    return corio__tls_failure(t, e);
}
