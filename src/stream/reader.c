/* The reader: a buffer filled by the reading task itself, and asyncio's four reads on it. */
#define _GNU_SOURCE /* memmem */
#include "stream/stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DIRECT_MIN 4096 /* reads this large with nothing buffered skip the buffer */
#define RECV_MIN 2048   /* room made before each receive */

/* Marks a call in progress: one reading task at a time (asyncio raises RuntimeError for a
 * second), and the connection stays allocated until the call returns even if released. */
static int enter(corio_reader *r, const void *buf, size_t n, const char *fn) {
    if (!r)
        return -EINVAL;
    CORIO__STREAM_CHECK_AS(r->s, fn);
    if (!buf && n)
        return -EINVAL;
    corio__stream *s = r->s;
    if (s->reading)
        return -EBUSY;
    /* A busy peer must not keep other tasks waiting (a call outside a task gets CORIO_ENOTASK
     * once it has to wait). */
    corio_task *t = corio__current_task();
    if (t && corio__task_budget_spent(t)) {
        corio__stream_ref(s);
        int rc = corio__task_yield(t);
        corio__stream_unref(s);
        if (rc < 0)
            return rc;
        if (s->reading)
            return -EBUSY; /* another task came in while this one yielded */
    }
    s->reading = 1;
    corio__stream_ref(s);
    return 0;
}

static void leave(corio__stream *s) {
    s->reading = 0;
    corio__stream_unref(s);
}

/* What a receive's result means for the connection: bytes, 0 at EOF, or an error (sticky when
 * it broke the connection; a cancelled or refused call leaves it usable). */
static ssize_t received(corio__stream *s, ssize_t n) {
    if (n > 0)
        return n;
    if (n == 0) {
        s->eof = 1;
        return 0;
    }
    if (n == -ECANCELED || n == CORIO_ENOTASK || n == -EBUSY || n == -ENOMEM)
        return n;
    if (s->fd < 0 && !s->err) { /* closed by our own writer meanwhile */
        s->eof = 1;
        return 0;
    }
    corio__stream_fail(s, (int)n);
    return s->err;
}

/* Whether a receive may happen: 1, 0 at EOF, or the connection's error. */
static int can_receive(corio__stream *s) {
    if (s->err)
        return s->err;
    if (s->eof || s->fd < 0) {
        s->eof = 1;
        return 0;
    }
    return 1;
}

/* The deadline of a read that may wait, if a defence bounds it: the message's while one is
 * being received, else idle_timeout's between messages. 0 or -ENOMEM. */
static int read_deadline(corio__stream *s) {
    if (s->msg_deadline >= 0) {
        s->read_deadline = s->msg_deadline;
        s->read_is_idle = 0;
    } else if (!s->rlen && s->idle_ns >= 0) {
        s->read_deadline = corio__loop_iteration_time(s->loop) + s->idle_ns;
        s->read_is_idle = 1;
    } else {
        return 0;
    }
    return corio__stream_guard(s, s->read_deadline);
}

/* One receive into buf, bounded by the defences: a limit passed closes the connection, which
 * ends the receive. Returns as received. */
static ssize_t receive(corio__stream *s, void *buf, size_t n) {
    int rc = read_deadline(s);
    if (rc < 0)
        return rc;
    ssize_t got = s->tls ? corio__tls_read(s->tls, buf, n) : corio_sock_recv(s->fd, buf, n, 0);
    s->read_deadline = -1;
    if (s->err)
        return s->err; /* broken meanwhile: by a defence, or by the writer */
    return received(s, got);
}

/* Makes room for `want` buffered bytes in all (and at least RECV_MIN free), then awaits one
 * receive into the buffer. Returns the bytes received, 0 at EOF, or an error. */
static ssize_t fill(corio__stream *s, size_t want) {
    int ok = can_receive(s);
    if (ok <= 0)
        return ok;
    if (want < s->rlen + RECV_MIN)
        want = s->rlen + RECV_MIN;
    corio__stream_shrink(s, 0);
    int rc = corio__stream_reserve(s, 0, want - s->rlen);
    if (rc < 0)
        return rc == -ENOBUFS ? s->err : rc;
    char *end = s->rbuf + s->rpos + s->rlen;
    ssize_t n = receive(s, end, s->rcap - s->rpos - s->rlen);
    if (n > 0) {
        if (!s->rlen && s->msg_deadline < 0 && s->header_ns >= 0) /* a message begins */
            s->msg_deadline = corio__loop_iteration_time(s->loop) + s->header_ns;
        s->rlen += (size_t)n;
    }
    return n;
}

/* A message was taken: the next one's deadline runs from now if its first bytes are here
 * already, else from its first byte. */
static void consume(corio__stream *s, size_t n) {
    s->rpos += n;
    s->rlen -= n;
    if (!s->rlen) {
        s->rpos = 0;
        s->msg_deadline = -1;
    } else if (s->header_ns >= 0) {
        s->msg_deadline = corio__loop_iteration_time(s->loop) + s->header_ns;
    }
}

static ssize_t take(corio__stream *s, void *buf, size_t n) {
    if (!n)
        return 0;
    if (n > s->rlen)
        n = s->rlen;
    memcpy(buf, s->rbuf + s->rpos, n);
    consume(s, n);
    return (ssize_t)n;
}

ssize_t corio_reader_read(corio_reader *r, void *buf, size_t n) {
    int rc = enter(r, buf, n, __func__);
    if (rc < 0)
        return rc;
    corio__stream *s = r->s;
    ssize_t out = 0;
    if (s->err) {
        out = s->err;
    } else if (n && !s->rlen) {
        /* Nothing buffered: a large read receives straight into the caller's memory. */
        if (n >= DIRECT_MIN) {
            out = can_receive(s);
            if (out > 0)
                out = receive(s, buf, n);
            if (out > 0)
                s->msg_deadline = -1; /* a new connection's first bytes, taken whole */
        } else {
            out = fill(s, 0);
            if (out > 0)
                out = take(s, buf, n);
        }
    } else if (n) {
        out = take(s, buf, n);
    }
    leave(s);
    return out;
}

ssize_t corio_reader_readexactly(corio_reader *r, void *buf, size_t n, size_t *partial) {
    if (partial)
        *partial = 0;
    int rc = enter(r, buf, n, __func__);
    if (rc < 0)
        return rc;
    corio__stream *s = r->s;
    ssize_t out = s->err;
    /* Nothing is taken before all n bytes are here, so a cancelled call loses nothing. */
    while (!out && s->rlen < n) {
        ssize_t got = fill(s, n);
        if (got < 0) {
            out = got;
        } else if (got == 0) {
            if (partial)
                *partial = s->rlen;
            take(s, buf, s->rlen);
            out = CORIO_EINCOMPLETE;
        }
    }
    if (!out) {
        out = take(s, buf, n);
        if (partial)
            *partial = n;
    }
    leave(s);
    return out;
}

/* The first buffered byte. No buffer has been allocated before the first receive, and NULL + 0
 * is undefined behaviour (clang's UBSan reports it). */
static char *head(corio__stream *s) { return s->rbuf ? s->rbuf + s->rpos : NULL; }

/* asyncio's readuntil, on the buffer: finds sep, reading more until it is there, the limit is
 * passed or EOF comes. */
static ssize_t until(corio__stream *s, const char *sep, size_t seplen, const char **chunk,
                     size_t *len) {
    size_t offset = 0, isep;
    *len = 0;
    for (;;) {
        char *start = head(s);
        *chunk = start;
        if (s->rlen >= offset + seplen) {
            char *p = memmem(start + offset, s->rlen - offset, sep, seplen);
            if (p) {
                isep = (size_t)(p - start);
                break;
            }
            offset = s->rlen + 1 - seplen;
            if (offset > s->limit) {
                *len = offset;
                return CORIO_ELIMIT;
            }
        }
        ssize_t got = fill(s, 0);
        if (got < 0)
            return got;
        if (got == 0) {
            *chunk = head(s);
            *len = s->rlen;
            consume(s, s->rlen);
            return CORIO_EINCOMPLETE;
        }
    }
    if (isep > s->limit) {
        *len = isep;
        return CORIO_ELIMIT;
    }
    *len = isep + seplen;
    consume(s, *len);
    return (ssize_t)*len;
}

static ssize_t readuntil(corio_reader *r, const void *sep, size_t seplen, const char **chunk,
                         size_t *len, const char *fn) {
    size_t dummy;
    if (!len)
        len = &dummy;
    *len = 0;
    if (chunk)
        *chunk = NULL;
    if (r)
        CORIO__STREAM_CHECK_AS(r->s, fn);
    if (!sep || !seplen || !chunk)
        return -EINVAL;
    int rc = enter(r, NULL, 0, fn);
    if (rc < 0)
        return rc;
    corio__stream *s = r->s;
    ssize_t out = s->err ? s->err : until(s, sep, seplen, chunk, len);
    if (out < 0 && out != CORIO_EINCOMPLETE && out != CORIO_ELIMIT) {
        *chunk = NULL;
        *len = 0;
    }
    leave(s);
    return out;
}

ssize_t corio_reader_readuntil(corio_reader *r, const void *sep, size_t seplen,
                               const char **chunk, size_t *len) {
    return readuntil(r, sep, seplen, chunk, len, __func__);
}

ssize_t corio_reader_readline(corio_reader *r, const char **line) {
    if (line)
        *line = NULL;
    if (r)
        CORIO__STREAM_CHECK(r->s);
    if (!line)
        return -EINVAL;
    size_t len = 0;
    const char *chunk;
    ssize_t out = readuntil(r, "\n", 1, &chunk, &len, __func__);
    if (out >= 0 || out == CORIO_EINCOMPLETE) {
        *line = chunk;
        return out >= 0 ? out : (ssize_t)len;
    }
    if (out == CORIO_ELIMIT) {
        /* As asyncio: drop the line up to its newline when it came, else all that is buffered. */
        corio__stream *s = r->s;
        if (len < s->rlen && s->rbuf[s->rpos + len] == '\n')
            consume(s, len + 1);
        else
            consume(s, s->rlen);
    }
    return out;
}

int corio_reader_at_eof(const corio_reader *r) {
    if (!r)
        return 0;
    CORIO__STREAM_CHECK(r->s);
    return r->s->eof && !r->s->rlen;
}

size_t corio_reader_buffered(const corio_reader *r) {
    if (!r)
        return 0;
    CORIO__STREAM_CHECK(r->s);
    return r->s->rlen;
}

size_t corio_reader_get_limit(const corio_reader *r) {
    if (!r)
        return 0;
    CORIO__STREAM_CHECK(r->s);
    return r->s->limit;
}
