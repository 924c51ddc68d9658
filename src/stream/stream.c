/* A connection's life: creation on a socket, failure, close, release and the accessors. */
#include "stream/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* An option's limit in ns: its default when 0, none when negative. */
static int64_t limit_ns(double opt, double server_default, int server_side) {
    if (opt == 0)
        opt = server_side ? server_default : -1;
    return opt < 0 ? -1 : corio__sec_to_ns(opt);
}

int corio__stream_opts_check(const corio_stream_opts *o) {
    if (o && (isnan(o->connect_timeout) || isnan(o->header_timeout) || isnan(o->idle_timeout) ||
              isnan(o->write_timeout) || isnan(o->tls_handshake_timeout) ||
              isnan(o->tls_shutdown_timeout)))
        return -EINVAL;
    return 0;
}

static void set_limits(corio__stream *s, const corio_stream_opts *o, int server_side) {
    static const corio_stream_opts none;
    if (!o)
        o = &none;
    s->header_ns = limit_ns(o->header_timeout, 60, server_side);
    s->idle_ns = limit_ns(o->idle_timeout, 75, server_side);
    s->write_ns = limit_ns(o->write_timeout, 60, server_side);
    /* A new connection's first bytes are its first message's. */
    s->msg_deadline = s->header_ns < 0 ? -1 : corio__loop_deadline(s->loop, s->header_ns);
    s->read_deadline = s->write_deadline = s->close_deadline = -1;
}

/* ---- the guard: the one timer of a connection's deadlines ---- */

static int64_t earliest(int64_t a, int64_t b) {
    if (a < 0)
        return b;
    return b < 0 || a < b ? a : b;
}

int corio__stream_guard_move(corio__stream *s, int64_t deadline) {
    corio__loop_timer_cancel(s->loop, &s->guard);
    return corio__loop_timer_at(s->loop, &s->guard, deadline);
}

int corio__stream_unsent(corio__stream *s) {
    int q;
    return s->fd < 0 || ioctl(s->fd, SIOCOUTQ, &q) < 0 ? -1 : q;
}

/* What a writable wait counts is whether the peer took any bytes: the socket turns writable only
 * once a good part of its buffer is free, which a slow reader may take longer than the limit to
 * free. */
static int peer_took_some(corio__stream *s, int64_t now) {
    int q = corio__stream_unsent(s);
    int took = q >= 0 && q < s->unsent;
    if (s->file_sent && *s->file_sent != s->file_mark) {
        s->file_mark = *s->file_sent;
        took = 1;
    }
    if (!took)
        return 0;
    if (q >= 0)
        s->unsent = q;
    s->write_deadline = now + s->write_ns;
    return 1;
}

static void guard_expire(corio__timer *t) {
    corio__stream *s = corio__container_of(t, corio__stream, guard);
    int64_t now = corio__loop_iteration_time(s->loop);
    if (s->read_deadline >= 0 && s->read_deadline <= now) {
        corio__stream_defend(s, -ETIMEDOUT, s->read_is_idle
                                                ? CORIO__STREAM_COUNTER(s, idle_timeouts)
                                                : CORIO__STREAM_COUNTER(s, header_timeouts));
        return;
    }
    if (s->write_deadline >= 0 && s->write_deadline <= now && !peer_took_some(s, now)) {
        corio__stream_defend(s, -ETIMEDOUT, CORIO__STREAM_COUNTER(s, write_timeouts));
        return;
    }
    if (s->close_deadline >= 0 && s->close_deadline <= now) {
        corio__stream_defend(s, -ETIMEDOUT, NULL); /* TLS: close_notify not out in time */
        return;
    }
    int64_t next = earliest(earliest(s->read_deadline, s->write_deadline), s->close_deadline);
    if (next >= 0 && corio__stream_guard(s, next) < 0)
        corio__stream_fail(s, -ENOMEM); /* a wait nothing would bound */
}

corio__stream *corio__stream_new(corio_loop *loop, int fd, const corio_stream_opts *opts,
                                 int server_side) {
    corio__stream *s = corio__calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->reader.s = s;
    s->writer.s = s;
    s->loop = loop;
    s->fd = fd;
    s->sendfile_fd = -1;
    s->refs = 1;
    s->magic = CORIO__MAGIC_LIVE(CORIO__KIND_STREAM);
    s->limit = opts && opts->limit ? opts->limit : CORIO__STREAM_LIMIT;
    s->high = 64 * 1024;
    s->low = 16 * 1024;
    s->link.prev = s->link.next = &s->link;
    s->guard = (corio__timer){.idx = CORIO__TIMER_IDLE, .expire = guard_expire};
    set_limits(s, opts, server_side);
    corio__loop_ref(loop);
    return s;
}

/* What a buffer of cap bytes costs the server's budget: its first KEEP bytes are free, so that
 * peers holding the budget cannot keep out a client whose messages are small. */
static size_t charge(size_t cap) { return cap > CORIO__STREAM_KEEP ? cap - CORIO__STREAM_KEEP : 0; }

void corio__stream_unref(corio__stream *s) {
    if (--s->refs)
        return;
    if (s->fd >= 0) /* not reached in practice: release closes, and the flusher holds a ref */
        corio_close(s->fd);
    corio__loop_timer_cancel(s->loop, &s->guard);
    corio__waiters_fini(&s->drainers);
    corio__waiters_fini(&s->closers);
    corio__tls_free(s->tls);
    corio_loop *loop = s->loop;
    free(s->rbuf);
    free(s->wbuf);
    if (s->share) {
        s->share->buffered -= charge(s->rcap) + charge(s->wcap);
        corio__server_unref(s->server);
    }
    corio__obj_free(s, &s->magic, corio__loop_keeps(loop));
    corio__loop_unref(loop);
}

static void close_fd(corio__stream *s) {
    int fd = s->fd;
    s->fd = -1; /* first: corio_close wakes the tasks on fd, which must see it closed */
    s->closing = 1;
    s->closed = 1;
    s->wlen = 0;
    s->read_deadline = s->write_deadline = s->close_deadline = -1;
    corio__loop_timer_cancel(s->loop, &s->guard);
    if (fd >= 0 && fd == s->sendfile_fd)
        shutdown(fd, SHUT_RDWR); /* wakes the sendfile, which sees fd < 0, stops and closes */
    else if (fd >= 0)
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

/* Closing a socket with unread bytes makes the kernel send a reset, which can destroy what the
 * peer has not read yet of ours. Over TLS 1.3 there are nearly always such bytes: the session
 * tickets a server sends after the handshake, which a client that only writes never reads. */
static void discard_input(corio__stream *s) {
    char buf[2048];
    while (recv(s->fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
        ;
}

void corio__stream_flushed(corio__stream *s) {
    if (s->sending_file)
        return; /* corio_writer_sendfile comes back here when it ends */
    if (corio__stream_notify_due(s)) {
        /* close_notify goes out before the FIN; a socket that cannot take it now gets it from
         * the flusher, which comes back here once it is sent. */
        int rc = corio__tls_shutdown(s->tls);
        if (rc == -EAGAIN && corio__stream_send_later(s) == 0)
            return;
    }
    if (s->closing) {
        if (s->tls && !s->closed)
            discard_input(s);
        corio__stream_close_now(s);
    } else if (s->eof_pending && !s->eof_sent) {
        s->eof_sent = 1;
        if (shutdown(s->fd, SHUT_WR) < 0 && errno != ENOTCONN)
            corio__stream_fail(s, -errno);
    }
}

int corio__buf_reserve(char **buf, size_t *cap, size_t *pos, size_t len, size_t room,
                       size_t max_cap) {
    if (*cap - *pos - len >= room)
        return 0;
    if (*pos) {
        memmove(*buf, *buf + *pos, len);
        *pos = 0;
    }
    if (*cap - len >= room)
        return 0;
    if (room > max_cap - len || len > max_cap)
        return -ENOBUFS;
    size_t n = *cap ? *cap : 4096;
    while (n - len < room)
        n = n > SIZE_MAX / 2 ? SIZE_MAX : n * 2;
    if (n > max_cap)
        n = max_cap; /* enough: len + room <= max_cap */
    char *b = corio__realloc(*buf, n);
    if (!b)
        return -ENOMEM;
    *buf = b;
    *cap = n;
    return 0;
}

int corio__stream_grow(corio__stream *s, int wbuf, size_t room) {
    char **buf = wbuf ? &s->wbuf : &s->rbuf;
    size_t *cap = wbuf ? &s->wcap : &s->rcap, *pos = wbuf ? &s->wpos : &s->rpos;
    size_t len = wbuf ? s->wlen : s->rlen, old = *cap, max_cap = SIZE_MAX;
    corio__server_share *sh = s->share;
    if (sh) {
        size_t others = sh->buffered - charge(old);
        size_t left = others >= sh->max_buffered ? 0 : sh->max_buffered - others;
        max_cap = left > SIZE_MAX - CORIO__STREAM_KEEP ? SIZE_MAX : CORIO__STREAM_KEEP + left;
        if (max_cap < old)
            max_cap = old;
    }
    int rc = corio__buf_reserve(buf, cap, pos, len, room, max_cap);
    if (sh)
        sh->buffered += charge(*cap) - charge(old);
    if (rc == -ENOBUFS)
        corio__stream_defend(s, rc, CORIO__STREAM_COUNTER(s, buffer_refusals));
    return rc;
}

void corio__stream_give_back(corio__stream *s, int wbuf) {
    size_t *cap = wbuf ? &s->wcap : &s->rcap;
    char **buf = wbuf ? &s->wbuf : &s->rbuf;
    free(*buf);
    *buf = NULL;
    if (s->share)
        s->share->buffered -= charge(*cap);
    *cap = 0;
    *(wbuf ? &s->wpos : &s->rpos) = 0;
}

void corio__stream_defend(corio__stream *s, int err, uint64_t *counter) {
    if (counter && !s->err)
        (*counter)++;
    /* A reset, not a FIN: the kernel would otherwise go on holding what the peer did not take,
     * for minutes, in a socket nobody owns (nginx's reset_timedout_connection). */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    if (s->fd >= 0)
        setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    corio__stream_fail(s, err);
}

int corio_reader_set_timeouts(corio_reader *r, double header_timeout, double idle_timeout) {
    if (!r)
        return -EINVAL;
    CORIO__STREAM_CHECK(r->s);
    if (isnan(header_timeout) || isnan(idle_timeout))
        return -EINVAL;
    corio__stream *s = r->s;
    s->header_ns = header_timeout < 0 ? -1 : corio__sec_to_ns(header_timeout);
    s->idle_ns = idle_timeout < 0 ? -1 : corio__sec_to_ns(idle_timeout);
    if (s->header_ns < 0)
        s->msg_deadline = -1;
    return 0;
}

int corio_writer_set_timeout(corio_writer *w, double write_timeout) {
    if (!w)
        return -EINVAL;
    CORIO__STREAM_CHECK(w->s);
    if (isnan(write_timeout))
        return -EINVAL;
    w->s->write_ns = write_timeout < 0 ? -1 : corio__sec_to_ns(write_timeout);
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
    if (corio__stream_opts_check(opts) < 0)
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
    corio__stream *s = corio__stream_new(loop, fd, opts, 0);
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
