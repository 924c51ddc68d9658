/* Key logging (SSLKEYLOGFILE, NSS's format): lets Wireshark decrypt a capture while debugging. */
#include "tls/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int corio__tls_keylog_open(corio_tls_context *c, const char *file) {
    if (!file)
        file = getenv("SSLKEYLOGFILE");
    if (!file || !*file)
        return 0;
    /* Appending: one write(2) per line, so lines of loops on several threads, and of other
     * programs logging to the same file, never interleave. The keys are secrets: 0600. */
    c->keylog_fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    return c->keylog_fd < 0 ? -errno : 0;
}

static void on_keylog(const SSL *ssl, const char *line) {
    corio__tls *t = SSL_get_ex_data(ssl, corio__tls_ssl_index());
    if (!t || t->ctx->keylog_fd < 0)
        return;
    char buf[512];
    size_t n = strlen(line);
    if (n >= sizeof buf)
        return; /* longer than any NSS key log line */
    memcpy(buf, line, n);
    buf[n] = '\n';
    ssize_t rc = write(t->ctx->keylog_fd, buf, n + 1);
    (void)rc; /* a lost line only costs the debugging it was for */
}

void corio__tls_keylog_callbacks(corio_tls_context *c, SSL_CTX *ctx) {
    if (c->keylog_fd >= 0)
        SSL_CTX_set_keylog_callback(ctx, on_keylog);
}
