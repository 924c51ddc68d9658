/* Internal: TLS on a connected non-blocking socket, over OpenSSL 3, for the stream layer above.
 *
 * OpenSSL reads and writes the socket itself (SSL_set_fd): no copy through memory BIOs, and the
 * kernel's TLS can take over the records. When OpenSSL wants the socket readable or writable,
 * the calling task awaits it with corio_wait_readable / corio_wait_writable, which works on
 * every backend. A corio__tls knows nothing of the stream's buffers: it moves plaintext in and
 * out and says what went wrong.
 */
#ifndef CORIO_TLS_TLS_H
#define CORIO_TLS_TLS_H

#include "corio/tls.h"

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

/* A client's saved session for one server (host and port). */
typedef struct corio__tls_saved {
    char *key;
    SSL_SESSION *sess;
} corio__tls_saved;

#define CORIO__TLS_SAVED_MAX 64

/* An extra server certificate, served to clients whose SNI name it matches. */
typedef struct corio__tls_sni {
    SSL_CTX *ctx;
    X509 *cert;
} corio__tls_sni;

struct corio_tls_context {
    atomic_uint refs;   /* the owner's and one per connection */
    corio_tls_side side;
    unsigned flags;
    corio_tls_context_opts opts; /* the strings below copied, for the SNI contexts */
    SSL_CTX *ctx;
    X509 *cert;         /* the default certificate (server), for SNI matching */
    corio__tls_sni *sni;
    size_t n_sni;
    unsigned char *alpn; /* wire format: length-prefixed names */
    size_t alpn_len;
    int keylog_fd;      /* -1: none */
    pthread_mutex_t lock; /* the session cache: contexts are shared by loops on several threads */
    corio__tls_saved saved[CORIO__TLS_SAVED_MAX];
    size_t n_saved, next_saved;
};

/* The one ex_data slot of an SSL: its corio__tls (for the callbacks). */
int corio__tls_ssl_index(void);

/* ---- contexts (context.c, sni.c, sessions.c, keylog.c) ---- */

/* Applies what every SSL_CTX of the context shares (versions, verification, ALPN, callbacks).
 * 0 or a corio code. */
int corio__tls_configure(corio_tls_context *c, SSL_CTX *ctx);
/* Loads a certificate chain and its key into ctx: 0, -errno for a file that cannot be opened,
 * CORIO_ETLSCONFIG. *cert (may be NULL): the certificate, with a reference. */
int corio__tls_load_cert(SSL_CTX *ctx, const char *certfile, const char *keyfile, X509 **cert);
/* The server's SNI and ALPN callbacks on ctx. */
void corio__tls_server_callbacks(corio_tls_context *c, SSL_CTX *ctx);
/* ALPN's comma list as its wire format: 0, -EINVAL (an empty or 255+ byte name), -ENOMEM. */
int corio__tls_alpn_wire(const char *list, unsigned char **out, size_t *len);
/* The client's session cache: a saved session for key (with a reference, or NULL), and the
 * callback that saves new ones. */
SSL_SESSION *corio__tls_session_get(corio_tls_context *c, const char *key);
void corio__tls_session_callbacks(corio_tls_context *c, SSL_CTX *ctx);
void corio__tls_sessions_free(corio_tls_context *c);
/* Key logging to the opts' file or SSLKEYLOGFILE: 0 or -errno. */
int corio__tls_keylog_open(corio_tls_context *c, const char *file);
void corio__tls_keylog_callbacks(corio_tls_context *c, SSL_CTX *ctx);
void corio__tls_context_unref(corio_tls_context *c);
static inline void corio__tls_context_ref(corio_tls_context *c) {
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

/* ---- connections (conn.c) ---- */

typedef struct corio__tls {
    SSL *ssl;
    corio_tls_context *ctx; /* held */
    int fd;
    char *session_key;      /* client: the session cache's key, or NULL */
    char *alpn;             /* the protocol agreed on, NUL-terminated, or NULL */
    uint8_t server, want_read, notify_sent, done, broken;
    char why[160];          /* OpenSSL's reason for the last failure, "" if none */
} corio__tls;

/* A TLS connection on fd (connected, non-blocking; not taken over) for ctx's side. A client
 * sends `hostname` as SNI and verifies it (an IP address is verified as one, not sent), and
 * resumes a session saved under hostname and the peer's port. 0, -ENOMEM, CORIO_ETLSCONFIG. */
int corio__tls_new(corio__tls **out, corio_tls_context *ctx, int fd, const char *hostname);
void corio__tls_free(corio__tls *t);

/* Awaits the handshake, within `timeout` seconds (< 0: none). 0, a CORIO_ETLS* code, a socket
 * error, -ECANCELED, -EBADF (the socket was closed meanwhile). */
int corio__tls_handshake(corio__tls *t, double timeout);

/* Awaits up to n bytes of plaintext: the count, 0 at the peer's close_notify (and at an EOF
 * without it, unless the context is strict), or an error. */
ssize_t corio__tls_read(corio__tls *t, void *buf, size_t n);

/* Writes what it can of data[0..n) without waiting: the bytes taken (whole records), -EAGAIN
 * (then t->want_read says which readiness to await before trying again, with the same bytes
 * first), or an error. */
ssize_t corio__tls_write(corio__tls *t, const void *data, size_t n);

/* Awaits the readiness the last write or shutdown that gave -EAGAIN wanted, for at most
 * `timeout` seconds: as corio_wait_writable. */
int corio__tls_await(corio__tls *t, double timeout);

/* Sends close_notify without waiting: 0 once sent, -EAGAIN (await as after a write), or an
 * error. */
int corio__tls_shutdown(corio__tls *t);

/* ---- failures (error.c) ---- */

/* The corio code for OpenSSL's failure `ssl_err` (SSL_get_error) of a call on t (t may be
 * NULL), with the reason saved in t->why and as the thread's last TLS error. Clears OpenSSL's
 * error queue. */
int corio__tls_failure(corio__tls *t, int ssl_err);
/* Saves OpenSSL's queued reason (or `fallback` when it has none) as the thread's last error and
 * returns `code`. */
int corio__tls_config_failure(int code, const char *fallback);
/* Saves a reason of corio's own. */
void corio__tls_set_why(corio__tls *t, const char *why);

#endif
