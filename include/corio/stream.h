/* corio streams: asyncio's StreamReader / StreamWriter, open_connection and start_server.
 *
 * Included by <corio.h>; docs/conventions.md holds (errors are negative codes, loop thread only,
 * calls documented "awaits" suspend only the calling task and return -ECANCELED when it is
 * cancelled).
 *
 * A connection is one object reached through two handles: a corio_reader (the receiving half,
 * with its buffer) and a corio_writer (the sending half, with its buffer). Ownership:
 *  - corio_open_connection() and friends give the caller the connection; the caller frees it
 *    with corio_stream_free(r, w), which closes it if it is not closed yet (gracefully: bytes
 *    already written are still sent, in the background) and frees both halves once nothing uses
 *    them any more. Neither handle may be used after that call.
 *  - A server's handler borrows its connection: the handles are valid until the handler
 *    returns, then the server frees the connection itself.
 * Closing is not freeing: after corio_writer_close() both handles stay valid (reads return
 * what is buffered, then EOF) until freed.
 *
 * Cancellation: a task cancelled in any reader call loses nothing (the bytes received so far
 * stay in the reader's buffer for the next call); a task cancelled in drain or wait_closed leaves
 * the connection as it was. A connection error (-ECONNRESET, -EPIPE, ...) seen by either half
 * closes the connection and is returned by every later call on it (asyncio's exception()).
 */
#ifndef CORIO_STREAM_H
#define CORIO_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "corio/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Errors of the reader (corio/errors.h): CORIO_EINCOMPLETE, EOF before the requested bytes or
 * separator (asyncio's IncompleteReadError; the partial data is handed back); CORIO_ELIMIT, a
 * line or chunk longer than the reader's limit (asyncio's LimitOverrunError / ValueError from
 * readline). */

typedef struct corio_reader corio_reader;
typedef struct corio_writer corio_writer;
typedef struct corio_server corio_server;

/* A server's connection handler, run in a task of its own per connection (asyncio's
 * client_connected_cb). r and w are borrowed: see above. */
typedef void (*corio_stream_handler_fn)(corio_reader *r, corio_writer *w, void *arg);

/* Server flags. */
#define CORIO_SERVER_NO_REUSE_ADDRESS 1u /* do not set SO_REUSEADDR (set by default, as asyncio) */
#define CORIO_SERVER_REUSE_PORT 2u       /* set SO_REUSEPORT: several loops may listen on one port */

/* Options; NULL or a zeroed struct means asyncio's defaults. */
typedef struct corio_stream_opts {
    size_t limit;           /* the reader's limit in bytes; 0: 64 KiB (asyncio's 2**16) */
    double connect_timeout; /* open_connection: seconds for the whole connect, every address
                               tried included; 0 or CORIO_FOREVER: none */
    int family;             /* address family to resolve: 0 (AF_UNSPEC), AF_INET or AF_INET6 */
    int backlog;            /* start_server: listen(2) backlog; 0: 100 */
    unsigned flags;         /* start_server: CORIO_SERVER_* */
    /* Defences (see "Defences" below). Seconds; 0: the default, which is the figure given on a
     * server's connections and none on others; CORIO_FOREVER: none. */
    double header_timeout;  /* a message's bytes must all arrive within this of its first one,
                               and a new connection's first bytes within this of its start;
                               0: 60 s (nginx's client_header_timeout) */
    double idle_timeout;    /* a read may wait this long with nothing buffered between two
                               messages; 0: 75 s (nginx's keepalive_timeout) */
    double write_timeout;   /* buffered bytes may wait this long for the peer to take any of
                               them; 0: 60 s (nginx's send_timeout) */
    size_t max_connections; /* start_server: connections handled at once; at the cap accepting
                               pauses (clients wait in the backlog) until one ends. 0: the
                               RLIMIT_NOFILE soft limit at start minus 64 (half of it below 128) */
    size_t max_buffered;    /* start_server: bytes all of its connections' read and write buffers
                               may hold together beyond the first 16 KiB of each; 0: 64 MiB;
                               (size_t)-1: no cap */
    /* TLS (<corio/tls.h>). */
    struct corio_tls_context *tls; /* open_connection / start_server: speak TLS with this context
                               (asyncio's ssl=); its side must be the call's. NULL: plain TCP.
                               A server holds the context until it is freed */
    const char *server_hostname; /* open_connection: the name the server's certificate must
                               have, sent as SNI (asyncio's server_hostname); NULL: host */
    double tls_handshake_timeout; /* seconds; 0: 60 (asyncio's ssl_handshake_timeout) */
    double tls_shutdown_timeout;  /* seconds from close until close_notify is sent, the buffered
                               bytes first, after which the connection is dropped; 0: 30 */
} corio_stream_opts;

/* Defences: what stops a peer from holding a connection, its fd and its memory for nothing.
 * asyncio has none; corio's servers have them on by default, other connections only when asked.
 *  - A message is what one readline, readuntil or readexactly gathers (or what one read takes):
 *    once its first byte is buffered, the rest must follow within header_timeout, however slowly
 *    the peer trickles it (slowloris). A new connection's first bytes count from its start. Read
 *    a request's whole head with one readuntil (for HTTP, up to "\r\n\r\n") so that it is one
 *    message; a large body read with readexactly is one message too: read it in parts with read
 *    when it may take longer.
 *  - Between messages (nothing buffered) a read waits at most idle_timeout.
 *  - Bytes in the write buffer may wait at most write_timeout for the peer to take some of them
 *    (a peer that never reads), also after the handler returned; so may a file being sent
 *    (corio_writer_sendfile).
 * When a limit passes, the waiting call returns -ETIMEDOUT and the connection is broken with it:
 * closed at once (the write buffer dropped), and every later call returns -ETIMEDOUT. A handler
 * that is not reading or draining is not timed: the limits watch the peer, not the handler.
 *  - max_connections and max_buffered bound a server's fds and buffer memory: at most
 *    max_connections x 32 KiB + max_buffered bytes of buffers. A read or write that would take
 *    the server's buffers past max_buffered breaks its connection with -ENOBUFS (a write as under
 *    -ENOMEM: nothing after a gap); small messages always fit, so peers that hold the budget do
 *    not keep out other clients. An emptied buffer above 16 KiB is given back, so an idle
 *    connection does not keep the memory of its largest message.
 * corio_server_get_stats counts what each defence closed. */

/* Per-connection limits, replacing those the connection was made with (a websocket handler may
 * lift idle_timeout after its upgrade). Each argument: seconds (> 0), 0 (a read or write that
 * would wait fails at once), CORIO_FOREVER (none). A message being received keeps its deadline
 * until it ends. Returns 0, -EINVAL (NULL, NaN). */
int corio_reader_set_timeouts(corio_reader *r, double header_timeout, double idle_timeout);
int corio_writer_set_timeout(corio_writer *w, double write_timeout);

/* ------------------------------------------------------------------------------------------------
 * Opening connections
 * --------------------------------------------------------------------------------------------- */

/* Awaits a TCP connection to host:port (asyncio's open_connection). The host is looked up
 * without blocking the loop (a numeric address needs no lookup); each resolved address is tried
 * in order until one connects. TCP_NODELAY is set, as asyncio does. On 0, *r and *w are the
 * connection's halves (see ownership above; both are NULL on failure). Returns 0, the first
 * address's connect error (-ECONNREFUSED, -ENETUNREACH, ...), -ETIMEDOUT
 * (opts->connect_timeout passed), a name lookup error (CORIO_EAI_NONAME, ...), -EINVAL (NULL host,
 * r or w, port outside 0..65535, a NaN timeout in opts), -ECANCELED (nothing is left behind),
 * -ENOMEM, CORIO_ENOTASK. */
int corio_open_connection(corio_reader **r, corio_writer **w, const char *host, int port,
                          const corio_stream_opts *opts);

/* As corio_open_connection, to a Unix stream socket at `path` (-ENAMETOOLONG if too long). */
int corio_open_unix_connection(corio_reader **r, corio_writer **w, const char *path,
                               const corio_stream_opts *opts);

/* A connection on a connected stream socket that the caller gives away (asyncio's
 * open_connection(sock=)), bound to `loop`: made non-blocking; closed by the connection from now
 * on (not on error). Does not await. Returns 0, -EBADF (not an open fd), -ENOTSOCK, -EINVAL (not
 * a stream socket, NULL r or w), -ENOMEM, CORIO_ECLOSED, CORIO_ENOLOOP. */
int corio_stream_new(corio_reader **r, corio_writer **w, corio_loop *loop, int fd,
                     const corio_stream_opts *opts);

/* Frees a connection (both halves; either argument may be NULL when the other is given): closes
 * it as corio_writer_close if it is not closed, and lets it go once the last call in progress on
 * it has returned and the buffered bytes are sent (in the background). Does not await. Returns 0,
 * -EINVAL if r and w are halves of different connections (nothing is freed). Both NULL: nothing
 * to do. */
int corio_stream_free(corio_reader *r, corio_writer *w);

/* ------------------------------------------------------------------------------------------------
 * Reader (asyncio's StreamReader)
 * --------------------------------------------------------------------------------------------- */

/* Awaits up to n bytes into buf: what is buffered, else what the next receive brings. Returns
 * the count (0 at EOF, and for n == 0), the connection's error (-ETIMEDOUT or -ENOBUFS from a
 * defence, see above), -EBUSY (another task is reading), -EINVAL (NULL r, or NULL buf with
 * n > 0). */
ssize_t corio_reader_read(corio_reader *r, void *buf, size_t n);

/* Awaits exactly n bytes into buf. Returns n; CORIO_EINCOMPLETE at EOF before n bytes, with
 * the *partial bytes received (consumed) in buf; otherwise nothing is consumed on error. partial
 * may be NULL; it is set on every return (n on success, 0 on other errors). The bytes gather in
 * the reader's buffer, which grows to n (asyncio's readexactly is not bounded by the limit
 * either). Errors as read. */
ssize_t corio_reader_readexactly(corio_reader *r, void *buf, size_t n, size_t *partial);

/* Awaits data up to and including the separator sep[0..seplen) (asyncio's readuntil). Returns
 * the chunk's length n > 0 with *chunk pointing at it inside the reader's buffer: valid until the
 * next call on this reader or its release, and not to be written. *len (if not NULL) is set on
 * every return:
 *  - CORIO_EINCOMPLETE: EOF came first; *chunk, *len: the partial data (consumed; *len 0 when
 *    nothing was left).
 *  - CORIO_ELIMIT: no separator within the limit, or the separator found beyond it; the data
 *    stays in the buffer (read it with corio_reader_read); *len is asyncio's `consumed`.
 * Other errors: as read, nothing consumed; -EINVAL also for a NULL or empty separator, NULL
 * chunk. */
ssize_t corio_reader_readuntil(corio_reader *r, const void *sep, size_t seplen,
                               const char **chunk, size_t *len);

/* Awaits one line ending with '\n' (asyncio's readline): returns its length (newline included)
 * with *line inside the reader's buffer (lifetime as readuntil); at EOF the last, unterminated
 * line (0 when nothing is left). CORIO_ELIMIT for a line longer than the limit, which is
 * consumed as asyncio does (up to its newline if that was received, else the whole buffer). */
ssize_t corio_reader_readline(corio_reader *r, const char **line);

/* 1 if EOF was received and the buffer is empty (asyncio's at_eof), else 0. */
int corio_reader_at_eof(const corio_reader *r);
/* The bytes buffered and not yet returned. */
size_t corio_reader_buffered(const corio_reader *r);
/* The reader's limit. */
size_t corio_reader_get_limit(const corio_reader *r);

/* ------------------------------------------------------------------------------------------------
 * Writer (asyncio's StreamWriter)
 * --------------------------------------------------------------------------------------------- */

/* Writes n bytes (copied): sent at once as far as the socket takes them, without a task switch;
 * the rest is buffered and sent in the background. Never awaits; call corio_writer_drain() to
 * let the buffer empty. Returns 0, the connection's error (-EPIPE, -ECONNRESET, ...),
 * CORIO_EINVALSTATE after close or write_eof, -EINVAL (NULL w, NULL data with n > 0), -ENOMEM,
 * -ENOBUFS (the server's max_buffered). A write takes all of its bytes or none reach the peer
 * after it: on -ENOMEM or -ENOBUFS (the rest could not be buffered, though part may have been
 * sent) the connection is broken as by a socket error, closed, and every later write, drain and
 * read returns that error; the peer sees the stream end, never a gap in it. */
int corio_writer_write(corio_writer *w, const void *data, size_t n);

/* Awaits flow control (asyncio's drain): returns at once while the write buffer holds at most
 * the high-water mark, else awaits until it falls to the low-water mark. Returns 0, the
 * connection's error (-ETIMEDOUT: the peer took nothing within write_timeout), -ECONNRESET if
 * the connection is closed, -ECANCELED, CORIO_ENOTASK. */
int corio_writer_drain(corio_writer *w);

/* Awaits sending a file over the connection (asyncio's loop.sendfile(transport, file, offset,
 * count)): first every byte the write buffer holds, then `count` bytes of fd from `offset` (count
 * 0: up to the end the file has; offset -1: at the file position, which moves past them), as
 * corio_sock_sendfile (<corio/fs.h>) does on a plain connection: sendfile(2), the bytes never in
 * user space, the loop never waiting for the disk. Over TLS, which must encrypt every byte, the
 * file is read and written through the writer 256 KiB at a time, or with
 * CORIO_SENDFILE_NO_FALLBACK the call fails with -ENOTSUP.
 *
 * While it runs, other writes, write_eof and another sendfile on this writer return -EBUSY
 * (asyncio raises); a close lets it finish (over TLS, within tls_shutdown_timeout), then
 * closes; an abort stops it. Returns the bytes of
 * the file sent (fewer than count when the file ends first), or an error: the connection's,
 * corio_sock_sendfile's (-EBADF, -EINVAL, -ESPIPE for a file; these leave the connection as it
 * was), CORIO_EINVALSTATE after close or write_eof, -ECANCELED, CORIO_ENOTASK. `sent` (may be
 * NULL) is set on every return to the bytes of the file that went (over TLS: that the writer
 * took). A send that stopped part-way (an error, a cancellation) breaks the connection, as a
 * failed write does: the peer sees the stream end, never a gap in it. write_timeout watches it
 * as it watches buffered bytes: a peer that takes none of the file within the limit has its
 * connection closed, and the call returns -ETIMEDOUT. */
ssize_t corio_writer_sendfile(corio_writer *w, int fd, off_t offset, size_t count,
                              unsigned flags, size_t *sent);

/* Sets the write buffer's high- and low-water marks (asyncio's set_write_buffer_limits).
 * CORIO_WRITER_LIMIT_AUTO for high: 64 KiB, or 4 * low when low is given; for low: high / 4.
 * Returns 0, -EINVAL (low > high, NULL w). */
#define CORIO_WRITER_LIMIT_AUTO ((size_t)-1)
int corio_writer_set_write_buffer_limits(corio_writer *w, size_t high, size_t low);
/* The marks in *high and *low (each may be NULL). 0 or -EINVAL for NULL w. */
int corio_writer_get_write_buffer_limits(const corio_writer *w, size_t *high, size_t *low);
/* The bytes buffered and not yet sent. */
size_t corio_writer_get_write_buffer_size(const corio_writer *w);

/* Half-close: sends EOF (shutdown(SHUT_WR)) once the buffered bytes are sent; reading goes on.
 * Returns 0 (also when already done), the connection's error, CORIO_EINVALSTATE after close. */
int corio_writer_write_eof(corio_writer *w);

/* Closes the connection (asyncio's close): no more writes; the buffered bytes are sent in the
 * background, then the socket is closed. Does not await. Idempotent. Returns 0 or -EINVAL. */
int corio_writer_close(corio_writer *w);
/* Closes at once, dropping the buffered bytes (asyncio's transport.abort). */
int corio_writer_abort(corio_writer *w);
/* 1 once close or abort was called or the connection broke (asyncio's is_closing). */
int corio_writer_is_closing(const corio_writer *w);

/* Awaits the end of the close (asyncio's wait_closed; call close first, or it waits for the
 * connection to break). Returns 0, the error that broke the connection, -ECANCELED, -EINVAL. */
int corio_writer_wait_closed(corio_writer *w);

/* get_extra_info: the socket (-1 once closed; do not close it), its peer's and own address.
 * The address calls return 0 or -errno (-EBADF once closed). */
int corio_writer_get_fd(const corio_writer *w);
int corio_writer_get_peername(const corio_writer *w, struct sockaddr *addr, socklen_t *len);
int corio_writer_get_sockname(const corio_writer *w, struct sockaddr *addr, socklen_t *len);

/* ------------------------------------------------------------------------------------------------
 * Servers (asyncio's start_server and Server)
 * --------------------------------------------------------------------------------------------- */

/* Awaits the setup of a TCP server: a listening socket per address host resolves to (NULL or
 * "": every interface), each with an accept task, and a task per accepted connection that calls
 * handler(r, w, arg) and releases the connection when it returns. Serving starts at once.
 * port 0 picks a free port per socket (see corio_server_get_port). The caller owns *out
 * (corio_server_free). Returns 0, -EADDRINUSE and other bind/listen errors (nothing is left
 * open), a lookup error as corio_open_connection, -EINVAL (NULL handler or out, bad port, a NaN
 * timeout in opts), -ENOMEM, -ECANCELED, CORIO_ENOTASK. The server's connections have the
 * defences on by default (see "Defences"). */
int corio_start_server(corio_server **out, const char *host, int port,
                       corio_stream_handler_fn handler, void *arg, const corio_stream_opts *opts);

/* As corio_start_server on a Unix stream socket at path. A stale socket file there is removed
 * first, and the file is removed when the server closes (if it is still the same file). */
int corio_start_unix_server(corio_server **out, const char *path, corio_stream_handler_fn handler,
                            void *arg, const corio_stream_opts *opts);

/* Stops listening (asyncio's Server.close): the listening sockets are closed, the accept tasks
 * end; connections already accepted go on. Does not await. Idempotent. Returns 0 or -EINVAL. */
int corio_server_close(corio_server *server);
/* Closes every active connection gracefully (asyncio 3.13's close_clients): their handlers'
 * reads see EOF once the buffered bytes are sent. Returns 0 or -EINVAL. */
int corio_server_close_clients(corio_server *server);
/* Closes every active connection at once, dropping buffered bytes, and cancels each handler
 * task (asyncio 3.13's abort_clients, plus the cancel: C has no collector for a handler that
 * waits on something else); a handler that has not started yet does not run. Returns 0 or
 * -EINVAL. */
int corio_server_abort_clients(corio_server *server);

/* Awaits until the server is closed and every connection task and accept task has ended
 * (asyncio's wait_closed). Returns 0, -ECANCELED, CORIO_ENOTASK, -EINVAL. */
int corio_server_wait_closed(corio_server *server);

/* Awaits until the server is closed (asyncio's serve_forever); if the awaiting task is
 * cancelled, closes the server and returns -ECANCELED. */
int corio_server_serve_forever(corio_server *server);

/* 1 while listening (asyncio's is_serving), else 0 (also for NULL). */
int corio_server_is_serving(const corio_server *server);
/* Stores up to cap listening fds in fds (borrowed: do not close) and returns how many there are
 * (asyncio's sockets; 0 once closed), or -EINVAL (NULL server, NULL fds with cap > 0). */
int corio_server_sockets(const corio_server *server, int *fds, size_t cap);
/* The port the first listening socket is bound to (useful with port 0), -EBADF once closed,
 * -EINVAL for NULL. */
int corio_server_get_port(const corio_server *server);
/* The number of connections being handled now (0 for NULL). */
size_t corio_server_active_connections(const corio_server *server);

/* What a server has done since it started (counts since start; see "Defences"). */
typedef struct corio_server_stats {
    uint64_t accepted;         /* connections accepted */
    uint64_t dropped;          /* accepted but not served, each reported (error handler) */
    uint64_t header_timeouts;  /* connections closed by header_timeout */
    uint64_t idle_timeouts;    /* ... by idle_timeout */
    uint64_t write_timeouts;   /* ... by write_timeout */
    uint64_t buffer_refusals;  /* ... because max_buffered was reached */
    uint64_t accept_pauses;    /* times accepting paused at max_connections */
    uint64_t tls_failures;     /* TLS handshakes that failed (the handler did not run) */
    size_t active;             /* connections being handled now */
    size_t buffered;           /* bytes their buffers hold beyond the first 16 KiB of each (as
                                  allocated, not only as used), counted against max_buffered */
    size_t max_connections;    /* the limits in force */
    size_t max_buffered;
} corio_server_stats;

/* Fills *stats. Returns 0 or -EINVAL (NULL). */
int corio_server_get_stats(const corio_server *server, corio_server_stats *stats);

/* Frees the server: closes it as corio_server_close (connections go on and end on their own) and
 * lets it go once its tasks are done. Returns 0. NULL does nothing. */
int corio_server_free(corio_server *server);

#ifdef __cplusplus
}
#endif
#endif
