/* The client's session cache: the last session a server gave, per server, so that the next
 * connection to it resumes instead of doing a full handshake (Go's ClientSessionCache). */
#include "tls/tls.h"

#include "base/alloc.h"

#include <stdlib.h>
#include <string.h>

SSL_SESSION *corio__tls_session_get(corio_tls_context *c, const char *key) {
    SSL_SESSION *sess = NULL;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->n_saved; i++) {
        if (strcmp(c->saved[i].key, key) == 0) {
            sess = c->saved[i].sess;
            SSL_SESSION_up_ref(sess);
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return sess;
}

/* Replaces key's session, else takes a free slot, else the oldest one. */
static void save(corio_tls_context *c, const char *key, SSL_SESSION *sess) {
    size_t i = 0;
    while (i < c->n_saved && strcmp(c->saved[i].key, key) != 0)
        i++;
    if (i == c->n_saved) {
        char *k = corio__strdup_raw(key);
        if (!k) {
            SSL_SESSION_free(sess); /* not cached: the next handshake is a full one */
            return;
        }
        if (c->n_saved < CORIO__TLS_SAVED_MAX) {
            i = c->n_saved++;
        } else {
            i = c->next_saved;
            c->next_saved = (c->next_saved + 1) % CORIO__TLS_SAVED_MAX;
            free(c->saved[i].key);
            SSL_SESSION_free(c->saved[i].sess);
        }
        c->saved[i].key = k;
    } else {
        SSL_SESSION_free(c->saved[i].sess);
    }
    c->saved[i].sess = sess;
}

/* OpenSSL's new-session callback: for TLS 1.3 it runs when a ticket arrives after the
 * handshake, inside a read. Returning 1 keeps the reference. */
static int on_new_session(SSL *ssl, SSL_SESSION *sess) {
    corio__tls *t = SSL_get_ex_data(ssl, corio__tls_ssl_index());
    if (!t || !t->session_key || !SSL_SESSION_is_resumable(sess))
        return 0;
    pthread_mutex_lock(&t->ctx->lock);
    save(t->ctx, t->session_key, sess);
    pthread_mutex_unlock(&t->ctx->lock);
    return 1;
}

void corio__tls_session_callbacks(corio_tls_context *c, SSL_CTX *ctx) {
    (void)c;
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, on_new_session);
}

void corio__tls_sessions_free(corio_tls_context *c) {
    for (size_t i = 0; i < c->n_saved; i++) {
        free(c->saved[i].key);
        SSL_SESSION_free(c->saved[i].sess);
    }
    c->n_saved = 0;
}
