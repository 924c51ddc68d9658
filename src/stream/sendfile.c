/* A file over a stream (asyncio's loop.sendfile on a transport): once the write buffer is empty,
 * corio_sock_sendfile on a plain connection's socket; over TLS, which must encrypt every byte,
 * reads of the file written through the writer. */
#include "stream/stream.h"

#include "base/alloc.h"
#include "corio/fs.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* What the TLS path reads and writes at a time, as asyncio's fallback. */
#define COPY_BUF ((size_t)256 * 1024)

/* Awaits an empty write buffer: 0, or why the bytes cannot go (the connection's error,
 * -ECANCELED). drain's waiters wake on each send once the buffer is below its low mark. */
static int await_empty(corio__stream *s) {
    while (s->wlen && !s->closed) {
        int rc = corio__waiters_wait(&s->drainers, s->loop);
        if (rc < 0)
            return rc;
    }
    return s->closed ? (s->err ? s->err : -ECONNRESET) : 0;
}

/* Errors of the file or the arguments, found before a byte went: the connection is intact. */
static int file_error(ssize_t err) {
    return err == -EBADF || err == -EINVAL || err == -ESPIPE || err == -ENOTSUP ||
           err == -EISDIR || err == -ENOMEM || err == -ECANCELED;
}

/* write_timeout watches the sendfile as it does the flusher's waits (writer.c's await_peer): the
 * peer must take some of the file within the limit. */
static int watch(corio__stream *s, const size_t *sent) {
    if (s->write_ns < 0)
        return 0;
    s->unsent = corio__stream_unsent(s);
    s->file_sent = sent;
    s->file_mark = *sent;
    s->write_deadline = corio__loop_iteration_time(s->loop) + s->write_ns;
    return corio__stream_guard(s, s->write_deadline);
}

static ssize_t plain(corio__stream *s, int fd, off_t offset, size_t count, unsigned flags,
                     size_t *sent) {
    if (watch(s, sent) < 0)
        return -ENOMEM;
    s->sendfile_fd = s->fd;
    ssize_t n = corio_sock_sendfile(s->fd, fd, offset, count, flags, sent);
    int sock = s->sendfile_fd;
    s->sendfile_fd = -1;
    s->write_deadline = -1;
    s->file_sent = NULL;
    if (s->closed) { /* aborted or broken meanwhile: the socket was only shut down */
        corio_close(sock);
        return s->err ? s->err : -ECONNRESET;
    }
    /* Part of the file went and the rest cannot: what follows would leave a gap. */
    if (n < 0 && (*sent || !file_error(n)))
        corio__stream_fail(s, n == -ECANCELED ? -ECONNABORTED : (int)n);
    return n;
}

/* Over TLS: chunks read from the file (at its position for offset -1) go through the writer;
 * `sent` counts those it took. */
static ssize_t through_writer(corio__stream *s, int fd, off_t offset, size_t count,
                              size_t *sent) {
    size_t left = count ? count : SIZE_MAX;
    char *buf = corio__malloc(left < COPY_BUF ? left : COPY_BUF);
    if (!buf)
        return -ENOMEM;
    ssize_t rc = 0;
    while (left && rc == 0) {
        size_t len = left < COPY_BUF ? left : COPY_BUF;
        ssize_t n = offset < 0 ? corio_read(fd, buf, len) : corio_pread(fd, buf, len, offset);
        if (n <= 0) {
            rc = n;
            break;
        }
        if (s->closed) {
            rc = s->err ? s->err : -ECONNRESET;
            break;
        }
        if ((rc = corio__writer_put(s, buf, (size_t)n)) < 0)
            break;
        *sent += (size_t)n;
        left -= (size_t)n;
        offset = offset < 0 ? offset : offset + n;
        rc = await_empty(s);
    }
    free(buf);
    if (rc < 0 && *sent && !s->closed)
        corio__stream_fail(s, rc == -ECANCELED ? -ECONNABORTED : (int)rc);
    return rc < 0 ? rc : (ssize_t)*sent;
}

ssize_t corio_writer_sendfile(corio_writer *w, int fd, off_t offset, size_t count,
                              unsigned flags, size_t *sent) {
    size_t none;
    sent = sent ? sent : &none;
    *sent = 0;
    if (!w)
        return -EINVAL;
    CORIO__STREAM_CHECK(w->s);
    corio__stream *s = w->s;
    if (!corio__current_task())
        return CORIO_ENOTASK;
    int rc = corio__writer_check(s);
    if (rc < 0)
        return rc;
    if (offset < -1 || (flags & ~CORIO_SENDFILE_NO_FALLBACK))
        return -EINVAL;
    if (s->tls && (flags & CORIO_SENDFILE_NO_FALLBACK))
        return -ENOTSUP; /* every byte must be encrypted: sendfile cannot serve TLS */
    corio__stream_ref(s);
    s->sending_file = 1;
    ssize_t n = await_empty(s);
    if (n == 0)
        n = s->tls ? through_writer(s, fd, offset, count, sent)
                   : plain(s, fd, offset, count, flags, sent);
    s->sending_file = 0;
    if (s->closing && !s->closed && !s->wlen)
        corio__stream_flushed(s); /* a close that came meanwhile */
    corio__stream_unref(s);
    return n;
}
