/* A connection's life: creation on a socket, failure, close, release and the accessors. */
#include "stream/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

corio__stream *corio__stream_new(corio_loop *loop, int fd, const corio_stream_opts *opts) {
    corio__stream *s = corio__calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->reader.s = s;
    s->writer.s = s;
    s->loop = loop;
    s->fd = fd;
    s->refs = 1;
    s->magic = CORIO__MAGIC_LIVE(CORIO__KIND_STREAM);
    s->limit = opts && opts->limit ? opts->limit : CORIO__STREAM_LIMIT;
    s->high = 64 * 1024;
    s->low = 16 * 1024;
    s->link.prev = s->link.next = &s->link;
    corio__loop_ref(loop);
    return s;
}

void corio__stream_unref(corio__stream *s) {
    if (--s->refs)
        return;
    if (s->fd >= 0) /* not reached in practice: release closes, and the flusher holds a ref */
        corio_close(s->fd);
    corio__waiters_fini(&s->drainers);
    corio__waiters_fini(&s->closers);
    corio_loop *loop = s->loop;
    free(s->rbuf);
    free(s->wbuf);
    corio__obj_free(s, &s->magic, corio__loop_keeps(loop));
    corio__loop_unref(loop);
}

static void close_fd(corio__stream *s) {
    int fd = s->fd;
    s->fd = -1; /* first: corio_close wakes the tasks on fd, which must see it closed */
    s->closing = 1;
    s->closed = 1;
    s->wlen = 0;
    if (fd >= 0)
        corio_close(fd); /* wakes a flusher waiting on fd: it sees fd < 0 and ends */
    corio__waiters_wake(&s->drainers, s->err ? s->err : -ECONNRESET);
    corio__waiters_wake(&s->closers, s->err);
}

void corio__stream_fail(corio__stream *s, int err) {
    if (!s->err)
        s->err = err;
    if (!s->closed)
        close_fd(s);
}

void corio__stream_close_now(corio__stream *s) {
    if (!s->closed)
        close_fd(s);
}

void corio__stream_flushed(corio__stream *s) {
    if (s->closing) {
        corio__stream_close_now(s);
    } else if (s->eof_pending && !s->eof_sent) {
        s->eof_sent = 1;
        if (shutdown(s->fd, SHUT_WR) < 0 && errno != ENOTCONN)
            corio__stream_fail(s, -errno);
    }
}

int corio__buf_reserve(char **buf, size_t *cap, size_t *pos, size_t len, size_t room) {
    if (*cap - *pos - len >= room)
        return 0;
    if (*pos) {
        memmove(*buf, *buf + *pos, len);
        *pos = 0;
    }
    if (*cap - len >= room)
        return 0;
    size_t n = *cap ? *cap : 4096;
    while (n - len < room)
        n *= 2;
    char *b = corio__realloc(*buf, n);
    if (!b)
        return -ENOMEM;
    *buf = b;
    *cap = n;
    return 0;
}

int corio__stream_unix_addr(const char *path, struct sockaddr_un *sun) {
    if (!path || !*path)
        return -EINVAL;
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sun->sun_path)
        return -ENAMETOOLONG;
    strcpy(sun->sun_path, path);
    return 0;
}

int corio_stream_new(corio_reader **r, corio_writer **w, corio_loop *loop, int fd,
                     const corio_stream_opts *opts) {
    if (r)
        *r = NULL;
    if (w)
        *w = NULL;
    if (!r || !w)
        return -EINVAL;
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    if (corio__loop_closing(loop))
        return CORIO_ECLOSED;
    int type = 0;
    socklen_t len = sizeof type;
    if (fd < 0 || fcntl(fd, F_GETFD) < 0)
        return -EBADF;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
        return -errno;
    if (type != SOCK_STREAM)
        return -EINVAL;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    corio__stream *s = corio__stream_new(loop, fd, opts);
    if (!s)
        return -ENOMEM;
    *r = &s->reader;
    *w = &s->writer;
    return 0;
}

void corio__stream_release(corio__stream *s) {
    if (s->released)
        return;
    s->released = 1;
    corio__writer_close(s);
    corio__obj_kill(&s->magic, corio__loop_keeps(s->loop));
    corio__stream_unref(s);
}

int corio_stream_free(corio_reader *r, corio_writer *w) {
    if (r)
        CORIO__STREAM_CHECK(r->s);
    if (w)
        CORIO__STREAM_CHECK(w->s);
    if (r && w && r->s != w->s)
        return -EINVAL;
    corio__stream *s = w ? w->s : r ? r->s : NULL;
    if (s)
        corio__stream_release(s);
    return 0;
}

int corio_writer_is_closing(const corio_writer *w) {
    if (!w)
        return 0;
    CORIO__STREAM_CHECK(w->s);
    return w->s->closing;
}

int corio_writer_get_fd(const corio_writer *w) {
    if (!w)
        return -EINVAL;
    CORIO__STREAM_CHECK(w->s);
    return w->s->fd;
}

static int addr_of(const corio_writer *w, struct sockaddr *addr, socklen_t *len, int peer,
                   const char *fn) {
    if (!w)
        return -EINVAL;
    CORIO__STREAM_CHECK_AS(w->s, fn);
    if (!addr || !len)
        return -EINVAL;
    if (w->s->fd < 0)
        return -EBADF;
    int rc = peer ? getpeername(w->s->fd, addr, len) : getsockname(w->s->fd, addr, len);
    return rc < 0 ? -errno : 0;
}

int corio_writer_get_peername(const corio_writer *w, struct sockaddr *addr, socklen_t *len) {
    return addr_of(w, addr, len, 1, __func__);
}

int corio_writer_get_sockname(const corio_writer *w, struct sockaddr *addr, socklen_t *len) {
    return addr_of(w, addr, len, 0, __func__);
}
