/* corio TLS: secure streams on OpenSSL 3 (asyncio's ssl=, server_hostname= and start_tls).
 *
 * Included by <corio.h> when corio was built with OpenSSL (CORIO_HAVE_TLS is then 1 in
 * <corio/base.h>); docs/conventions.md holds.
 *
 * A TLS context (asyncio's SSLContext) holds what connections share: the side (client or
 * server), what to trust, certificates and keys, ALPN, versions, the client's session cache. A
 * stream becomes a TLS stream by giving a context to corio_open_connection or corio_start_server
 * (corio_stream_opts.tls) or, on a stream already open, corio_writer_start_tls (STARTTLS). Every
 * reader and writer call then behaves as over plain TCP: the same buffers, limits, water marks
 * and defences; what is read is the peer's plaintext.
 *
 * Defaults are the safe ones: a client verifies the server's chain against the system's CA store
 * (Debian: /etc/ssl/certs) and its name against server_hostname (or the host it connects to);
 * TLS 1.2 is the least version accepted and TLS 1.3 is preferred; renegotiation is refused.
 *
 * Closing: corio_writer_close sends the buffered bytes, then close_notify, then closes the
 * socket, within tls_shutdown_timeout (after which the connection is dropped). corio does not
 * wait for the peer's close_notify (as Go and nginx: the socket is closed). A peer that closes
 * without close_notify is EOF to the reader, as asyncio reports it (a truncation a protocol with
 * its own framing detects); a context with CORIO_TLS_STRICT_EOF makes it CORIO_ETLSEOF instead.
 * write_eof sends close_notify (TLS 1.3 keeps the other direction open; asyncio refuses it).
 *
 * Errors (<corio/errors.h>), one code per class of failure, the detail in corio_tls_get_error or
 * corio_writer_get_tls_error (OpenSSL's reason, as "certificate has expired"):
 *  - CORIO_ETLSVERIFY: the peer's certificate did not verify (unknown CA, self-signed, expired,
 *    not yet valid, revoked, a client certificate required and missing).
 *  - CORIO_ETLSHOSTNAME: the server's certificate is valid but not for server_hostname.
 *  - CORIO_ETLSTIMEOUT: the handshake did not finish within tls_handshake_timeout.
 *  - CORIO_ETLSPROTO: the peer broke the protocol or refused the handshake (an alert: no common
 *    version, cipher or ALPN protocol; garbage; plaintext where a record was due).
 *  - CORIO_ETLSEOF: the peer closed during the handshake, or (CORIO_TLS_STRICT_EOF) without
 *    close_notify.
 *  - CORIO_ETLSCONFIG: a context's certificate, key or CA file could not be used.
 * A socket error during TLS is the socket's (-ECONNRESET, ...), as over plain TCP.
 */
#ifndef CORIO_TLS_H
#define CORIO_TLS_H

#include <stddef.h>

#include "corio/base.h"
#include "corio/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corio_tls_context corio_tls_context;

/* The side a context's connections play. */
typedef enum corio_tls_side {
    CORIO_TLS_CLIENT = 1, /* asyncio's ssl.create_default_context(Purpose.SERVER_AUTH) */
    CORIO_TLS_SERVER = 2, /* ssl.SSLContext(PROTOCOL_TLS_SERVER) */
} corio_tls_side;

/* Protocol versions, as on the wire. */
#define CORIO_TLS_VERSION_1_2 0x0303
#define CORIO_TLS_VERSION_1_3 0x0304

/* Context flags. */
#define CORIO_TLS_NO_VERIFY 1u           /* client: accept any server certificate (asyncio's
                                            verify_mode=CERT_NONE; for tests only) */
#define CORIO_TLS_NO_CHECK_HOSTNAME 2u   /* client: verify the chain but not the name
                                            (check_hostname=False) */
#define CORIO_TLS_VERIFY_CLIENT 4u       /* server: require a client certificate that verifies
                                            against cafile / capath (CERT_REQUIRED) */
#define CORIO_TLS_VERIFY_CLIENT_OPTIONAL 8u /* server: ask for one, verify it if sent
                                               (CERT_OPTIONAL) */
#define CORIO_TLS_NO_TICKETS 16u         /* server: no resumption (no tickets issued, no
                                            session cache); client: do not resume sessions */
#define CORIO_TLS_STRICT_EOF 32u         /* an EOF without close_notify is CORIO_ETLSEOF */
#define CORIO_TLS_KTLS 64u               /* hand the records to the kernel's TLS (Linux's tls
                                            module, OpenSSL's SSL_OP_ENABLE_KTLS) where the
                                            kernel has it for the cipher agreed on; elsewhere
                                            TLS stays in OpenSSL. corio_tls_info says which.
                                            Off by default: see the README for its figures */

/* Options; NULL or a zeroed struct means the defaults beside each field. File names are read
 * during corio_tls_context_new; the strings are copied. */
typedef struct corio_tls_context_opts {
    unsigned flags;          /* CORIO_TLS_* */
    int min_version;         /* 0: CORIO_TLS_VERSION_1_2 */
    int max_version;         /* 0: the highest OpenSSL knows (TLS 1.3) */
    const char *cafile;      /* PEM file of trusted certificates; cafile and capath NULL: the
                                system's store (a server verifying clients needs one of them) */
    const char *capath;      /* directory of hashed PEM certificates (c_rehash) */
    const char *certfile;    /* PEM: this side's certificate, then its chain; required for a
                                server, optional for a client (mutual TLS) */
    const char *keyfile;     /* PEM private key; NULL: in certfile */
    const char *alpn;        /* ALPN protocols, comma-separated, most wanted first ("h2,http/1.1").
                                A client offers them; a server picks the first of its list the
                                client offers, and refuses the handshake when the client offers
                                only others (RFC 7301's no_application_protocol). NULL: none */
    const char *ciphers;     /* TLS 1.2 cipher list, OpenSSL's syntax; NULL: OpenSSL's default */
    const char *ciphersuites; /* TLS 1.3 suites, OpenSSL's syntax; NULL: OpenSSL's default */
    const char *keylog_file; /* append the session keys (NSS key log format, for Wireshark) to
                                this file; NULL: the file named by SSLKEYLOGFILE when it is set */
} corio_tls_context_opts;

/* Makes a context for `side`. The caller owns *out (corio_tls_context_free); connections hold
 * it too, so it may be freed while they run. Returns 0, -EINVAL (bad side, versions or flags for
 * the side, a server without certfile), -ENOENT and other open(2) errors of a named file,
 * CORIO_ETLSCONFIG (a file OpenSSL cannot use, a key that does not match its certificate, bad
 * cipher or ALPN lists; see corio_tls_get_error), -ENOMEM. ANY THREAD. */
int corio_tls_context_new(corio_tls_context **out, corio_tls_side side,
                          const corio_tls_context_opts *opts);

/* Server: adds a certificate (PEM, chain after it) and its key (NULL: in certfile), served to
 * clients whose SNI name it matches (wildcards as in hostname verification); the opts' certfile
 * is served to the others. To be called before the context is first used. Returns 0, -EINVAL
 * (NULL, a client context), errors as corio_tls_context_new. */
int corio_tls_context_add_certificate(corio_tls_context *ctx, const char *certfile,
                                      const char *keyfile);

/* Drops the caller's ownership: the context goes when the last connection using it is freed.
 * Returns 0; NULL does nothing. ANY THREAD. */
int corio_tls_context_free(corio_tls_context *ctx);

/* OpenSSL's reason for the last TLS failure of a corio call on this thread ("" if none): read it
 * right after the call that failed (corio_open_connection, corio_tls_context_new, ...). Valid
 * until the thread's next TLS failure. ANY THREAD. */
const char *corio_tls_get_error(void);

/* Awaits a TLS handshake on an open stream (asyncio's StreamWriter.start_tls, for STARTTLS): w's
 * connection plays ctx's side. The write buffer is sent first. Bytes already received and not
 * yet read refuse the upgrade (CORIO_EINVALSTATE): they came before the handshake, in the clear,
 * and must not pass for protected data (the STARTTLS command injection of CVE-2011-0411).
 * From opts (may be NULL) only server_hostname (a client's name to verify and send as SNI;
 * NULL: no SNI and, unless the context says otherwise, CORIO_ETLSHOSTNAME) and the TLS
 * timeouts are read. Nothing else may use the stream meanwhile: reads return -EBUSY, writes
 * CORIO_EINVALSTATE. On failure the connection is closed and broken with the error. Returns 0,
 * the errors above, -ECANCELED (the connection is closed), CORIO_ENOTASK, -EINVAL (NULL, a stream
 * already TLS). */
int corio_writer_start_tls(corio_writer *w, corio_tls_context *ctx, const corio_stream_opts *opts);

/* What a TLS connection negotiated (asyncio's get_extra_info 'cipher', 'peercert',
 * ssl_object.version() and selected_alpn_protocol()). */
typedef struct corio_tls_info {
    const char *version;     /* "TLSv1.3", "TLSv1.2" (static) */
    const char *cipher;      /* "TLS_AES_256_GCM_SHA384", ... (static) */
    const char *alpn;        /* the protocol agreed on, or NULL; valid until the stream is freed */
    const char *server_name; /* server: the SNI name the client sent, or NULL; as alpn */
    int session_reused;      /* 1 if the handshake resumed an earlier session */
    int ktls_send, ktls_recv; /* 1 where the kernel encrypts / decrypts the records */
    int has_peer_cert;       /* 1 if the peer sent a certificate: the fields below describe it */
    char peer_subject[256];  /* RFC 2253 form ("CN=example.com,O=..."), truncated to fit */
    char peer_issuer[256];
    char peer_sans[1024];    /* subjectAltNames, "DNS:a.example,DNS:b.example,IP:127.0.0.1";
                                a list that does not fit ends with "..." */
    unsigned char peer_sha256[32]; /* SHA-256 of the certificate (DER), its fingerprint */
} corio_tls_info;

/* Fills *info for w's connection. Returns 0, -EINVAL (NULL, not a TLS stream), -EBADF once the
 * connection is closed. */
int corio_writer_get_tls_info(const corio_writer *w, corio_tls_info *info);

/* The peer's certificate as DER in buf (up to cap bytes; buf may be NULL to learn the size).
 * Returns its length, -ENOENT (no peer certificate), -ENOBUFS (cap too small), -EINVAL (NULL w,
 * not TLS), -EBADF once closed. */
ssize_t corio_writer_get_peer_certificate(const corio_writer *w, void *buf, size_t cap);

/* OpenSSL's SSL object of w's connection (asyncio's 'ssl_object'), for what corio does not
 * wrap; NULL if w is not a TLS stream or is closed. Borrowed: do not free it, do not read or
 * write through it. */
void *corio_writer_get_ssl_object(const corio_writer *w);

/* OpenSSL's reason for the last TLS failure on w's connection, "" if none, NULL for NULL w.
 * Valid until the stream is freed. */
const char *corio_writer_get_tls_error(const corio_writer *w);

#ifdef __cplusplus
}
#endif
#endif
