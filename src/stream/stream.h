/* Internal: a stream connection, its reader and writer halves, and the server's bookkeeping.
 *
 * The reader pulls: a reading task receives into the reader's buffer itself when it needs more
 * bytes, so there is no reading task in the background and the buffer holds only what a call
 * asked for (bounded by the limit for readline / readuntil). The writer pushes: write() sends at
 * once while the socket takes the bytes and buffers the rest; a flusher task, started only when
 * bytes are left over, waits for the socket to be writable and sends them, waking drain() at the
 * low-water mark. Both use only the public socket calls and the request interface of io/io.h,
 * so they run on every backend.
 */
#ifndef CORIO_STREAM_STREAM_H
#define CORIO_STREAM_STREAM_H

#include "io/io.h"
#include "tls/tls.h"

#include <netdb.h>

#include <stdint.h>

/* Tasks awaiting one condition: each waits on a future of its own, so that cancelling one waiter
 * (which cancels the future it awaits) leaves the others waiting. */
typedef struct corio__waiters {
    corio_future **v;
    size_t n, cap;
} corio__waiters;

/* Awaits until corio__waiters_wake: its error (0 on success), -ECANCELED, -ENOMEM. */
int corio__waiters_wait(corio__waiters *ws, corio_loop *loop);
/* Completes every waiting future with err (0: success). */
void corio__waiters_wake(corio__waiters *ws, int err);
void corio__waiters_fini(corio__waiters *ws);

struct corio_reader {
    struct corio__stream *s;
};
struct corio_writer {
    struct corio__stream *s;
};

/* What a server shares with its connections, which may outlive their handlers (a flusher sends
 * the rest after the handler returned): the buffer budget and the counters. */
typedef struct corio__server_share {
    size_t buffered, max_buffered;
    corio_server_stats stats;
} corio__server_share;

typedef struct corio__stream {
    struct corio_reader reader;
    struct corio_writer writer;
    corio_loop *loop;
    int fd;        /* -1 once closed */
    uint32_t refs; /* the owner's, the flusher's, one per call in progress */
    int err;       /* the error that broke the connection (sticky), or 0 */
    uint32_t magic; /* base/obj.h: dead once freed by its owner, though calls may still run */
    /* reader: bytes [rpos, rpos + rlen) of rbuf are buffered */
    char *rbuf;
    size_t rpos, rlen, rcap, limit;
    /* writer: bytes [wpos, wpos + wlen) of wbuf wait to be sent */
    char *wbuf;
    size_t wpos, wlen, wcap, high, low;
    corio_task *flusher;
    corio__waiters drainers, closers;
    /* defences: limits in ns (< 0: none), the current message's deadline and those of the read
     * and the flusher's wait in progress, in loop time (< 0: none), and the one timer that
     * watches them (see corio__stream_guard) */
    int64_t header_ns, idle_ns, write_ns, msg_deadline, read_deadline, write_deadline;
    corio__timer guard;
    int unsent;          /* the kernel's unsent bytes when the flusher's wait began */
    /* a plain sendfile's bytes sent so far (corio_sock_sendfile keeps it current), and what it
     * was at the last look: the file's progress is the peer's, since the kernel's unsent bytes
     * grow as sendfile refills them. NULL: no sendfile running */
    const size_t *file_sent;
    size_t file_mark;
    /* TLS (stream/tls.c): the session, or NULL for plain TCP; the close's deadline (loop time,
     * < 0: none) and its length */
    corio__tls *tls;
    int64_t close_deadline, shutdown_ns;
    uint8_t tls_starting; /* start_tls's handshake runs: nothing else may use the stream */
    uint8_t read_is_idle; /* read_deadline is idle_timeout's, not header_timeout's */
    uint8_t eof, reading, closing, closed, eof_pending, eof_sent, released, aborted;
    /* corio_writer_sendfile (stream/sendfile.c) runs: other writes are -EBUSY; on a plain
     * connection the socket it sends on, which a close shuts down instead, for the sendfile to
     * close once it has stopped (an executor's thread may be using the number), else -1 */
    uint8_t sending_file;
    int sendfile_fd;
    /* server side */
    struct corio_server *server; /* held (corio__server_unref) until the connection is freed */
    corio__server_share *share;  /* the server's, or NULL */
    corio_task *task; /* the handler's task */
    corio__link link; /* in server->conns */
} corio__stream;

#define CORIO__STREAM_LIMIT (64 * 1024)

/* A connection on a connected, non-blocking stream socket (taken over), with the defences of a
 * server's connection when server_side. NULL on -ENOMEM. */
corio__stream *corio__stream_new(corio_loop *loop, int fd, const corio_stream_opts *opts,
                                 int server_side);
/* -EINVAL for options no connection can have (a NaN timeout), else 0. */
int corio__stream_opts_check(const corio_stream_opts *opts);
/* A server lets go of a connection's reference to it (server.c). */
void corio__server_unref(struct corio_server *srv);
static inline void corio__stream_ref(corio__stream *s) { s->refs++; }
void corio__stream_unref(corio__stream *s);
/* corio_stream_free on a connection known to be live: the owner lets it go. */
void corio__stream_release(corio__stream *s);

/* The check of the reader's and writer's functions: both halves lead to the connection. */
#define CORIO__STREAM_CHECK_AS(s, fn) CORIO__CHECK_AS(s, CORIO__KIND_STREAM, fn, (s)->loop)
#define CORIO__STREAM_CHECK(s) CORIO__STREAM_CHECK_AS(s, __func__)

/* The writer's close and abort, on a connection known to be live. */
int corio__writer_close(corio__stream *s);
/* Whether the writer takes bytes now: 0, the connection's error, CORIO_EINVALSTATE (closing,
 * write_eof, start_tls), -EBUSY (a sendfile runs). */
int corio__writer_check(const corio__stream *s);
/* corio_writer_write's work once its checks passed: send or buffer n bytes of data. */
int corio__writer_put(corio__stream *s, const void *data, size_t n);

/* The connection broke with err: the socket is closed, the write buffer dropped, every waiter
 * woken with err. */
void corio__stream_fail(corio__stream *s, int err);
/* Closes the socket now and wakes close waiters (err: what drainers get). */
void corio__stream_close_now(corio__stream *s);

/* The writer's half-close or close once its buffer is empty. */
void corio__stream_flushed(corio__stream *s);

/* Makes room for `room` bytes after the `len` bytes at *pos of a buffer of *cap bytes: moves them
 * to the front, then doubles the buffer (from 4 KiB) as needed, up to max_cap bytes. 0, -ENOBUFS
 * (more than max_cap needed), -ENOMEM. */
int corio__buf_reserve(char **buf, size_t *cap, size_t *pos, size_t len, size_t room,
                       size_t max_cap);

/* The reader's (wbuf 0) or the writer's buffer: room for `room` more bytes, within the server's
 * budget. 0, -ENOBUFS (counted), -ENOMEM. */
int corio__stream_grow(corio__stream *s, int wbuf, size_t room);
static inline int corio__stream_reserve(corio__stream *s, int wbuf, size_t room) {
    size_t free_end = wbuf ? s->wcap - s->wpos - s->wlen : s->rcap - s->rpos - s->rlen;
    return free_end >= room ? 0 : corio__stream_grow(s, wbuf, room);
}

/* Gives an empty buffer back when it has grown past what a connection usually needs. */
#define CORIO__STREAM_KEEP (16 * 1024)
void corio__stream_give_back(corio__stream *s, int wbuf);
static inline void corio__stream_shrink(corio__stream *s, int wbuf) {
    if ((wbuf ? s->wcap : s->rcap) > CORIO__STREAM_KEEP && !(wbuf ? s->wlen : s->rlen))
        corio__stream_give_back(s, wbuf);
}

/* The deadline of a wait that begins (read_deadline or write_deadline was just set): makes the
 * guard fire by then. One timer per connection, moved only when a deadline comes earlier than
 * it is armed for: a wait that ends leaves it armed, and when it fires with nothing due it moves
 * to the next deadline or stops. So a busy connection pays no timer per wait. 0 or -ENOMEM. */
int corio__stream_guard_move(corio__stream *s, int64_t deadline);
static inline int corio__stream_guard(corio__stream *s, int64_t deadline) {
    if (corio__timer_armed(&s->guard) && s->guard.when <= deadline)
        return 0; /* it fires first and moves on */
    return corio__stream_guard_move(s, deadline);
}
/* The bytes the kernel holds for the peer still (not yet acknowledged, or not yet read from a
 * Unix socket), or -1. */
int corio__stream_unsent(corio__stream *s);

/* A defence closes the connection: err (-ETIMEDOUT, -ENOBUFS) breaks it, *counter counts it
 * when the connection is a server's. */
void corio__stream_defend(corio__stream *s, int err, uint64_t *counter);
#define CORIO__STREAM_COUNTER(s, field) ((s)->share ? &(s)->share->stats.field : NULL)

/* Fills *sun with a Unix socket path: 0, -EINVAL (NULL or empty), -ENAMETOOLONG. */
struct sockaddr_un;
int corio__stream_unix_addr(const char *path, struct sockaddr_un *sun);

/* TLS on the connection (stream/tls.c): awaits the handshake as ctx's side, within the opts'
 * tls_handshake_timeout. On failure the connection is broken with the error. */
int corio__stream_tls_start(corio__stream *s, corio_tls_context *ctx, const char *hostname,
                            const corio_stream_opts *opts);
/* Whether close_notify is still to be sent before the socket may be closed or shut down. */
static inline int corio__stream_notify_due(const corio__stream *s) {
    return s->tls && (s->closing || s->eof_pending) && s->tls->done && !s->tls->notify_sent &&
           !s->tls->broken && !s->sending_file; /* its bytes go before close_notify */
}
/* One send of the writer's (plaintext) bytes without waiting: as corio__tls_write. */
ssize_t corio__stream_try_send(corio__stream *s, const void *data, size_t n);
/* Makes sure a flusher runs to send what the socket did not take yet (close_notify). 0 or
 * -ENOMEM. */
int corio__stream_send_later(corio__stream *s);

/* Connects a new socket to each address in turn (a total deadline; timeout <= 0: none). Returns
 * the connected socket or the first error. */
int corio__stream_connect_any(const struct addrinfo *ai, double timeout);

#endif
