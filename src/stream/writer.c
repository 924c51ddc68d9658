/* The writer: send at once what the socket takes, buffer the rest for a flusher task, and hold
 * drain() between the high- and low-water marks. */
#include "stream/stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One non-blocking send: bytes sent, -EAGAIN, or the error. Over TLS the bytes are plaintext,
 * taken in whole records. */
ssize_t corio__stream_try_send(corio__stream *s, const void *data, size_t n) {
    if (s->tls)
        return corio__tls_write(s->tls, data, n);
    corio__io_req req = {.kind = CORIO__IO_SEND, .fd = s->fd, .buf = (void *)data, .len = n,
                         .timeout_ns = -1};
    return corio__io_try(&req);
}

static void sent(corio__stream *s, size_t n) {
    s->wpos += n;
    s->wlen -= n;
    if (!s->wlen)
        s->wpos = 0;
    if (s->wlen <= s->low && s->drainers.n)
        corio__waiters_wake(&s->drainers, 0);
}

/* Awaits a writable socket, bounded by write_timeout (see guard_expire). Returns as
 * corio_wait_writable, or -ENOMEM. */
static int await_peer(corio__stream *s) {
    if (s->write_ns >= 0) {
        s->unsent = corio__stream_unsent(s);
        s->write_deadline = corio__loop_iteration_time(s->loop) + s->write_ns;
        if (corio__stream_guard(s, s->write_deadline) < 0)
            return -ENOMEM;
    }
    int rc = s->tls ? corio__tls_await(s->tls, CORIO_FOREVER)
                    : corio_wait_writable(s->fd, CORIO_FOREVER);
    s->write_deadline = -1;
    return rc;
}

/* The flusher: waits until the socket is writable and sends the buffer, until it is empty (and
 * a TLS close_notify due is sent) or the connection is closed. It holds a reference to the
 * connection. */
static void *flush_main(void *arg) {
    corio__stream *s = arg;
    while ((s->wlen || corio__stream_notify_due(s)) && s->fd >= 0) {
        int rc = await_peer(s);
        if (s->fd < 0)
            break; /* closed meanwhile (aborted, a defence, or the reader saw it break) */
        if (rc < 0) {
            /* Cancelled (the loop is going away) or refused: the bytes cannot go out. */
            corio__stream_fail(s, rc == -ECANCELED ? -ECONNABORTED : rc);
            break;
        }
        if (!s->wlen) {
            corio__tls_shutdown(s->tls); /* an error ends what is due: the socket closes */
            continue;
        }
        ssize_t n = corio__stream_try_send(s, s->wbuf + s->wpos, s->wlen);
        if (n > 0)
            sent(s, (size_t)n);
        else if (n != -EAGAIN)
            corio__stream_fail(s, (int)n);
    }
    corio_task_unref(s->flusher);
    s->flusher = NULL;
    corio__stream_shrink(s, 1);
    if (!s->closed)
        corio__stream_flushed(s);
    corio__stream_unref(s);
    return NULL;
}

/* A flusher cancelled before its first step (corio_run cancelling what is left) never runs
 * flush_main, so its clean-up is done here instead. */
static void flusher_done(corio_future *f, void *arg) {
    if (corio__task_started((corio_task *)f))
        return; /* flush_main ran and cleaned up; arg may be gone */
    corio__stream *s = arg;
    corio_task_unref(s->flusher);
    s->flusher = NULL;
    corio__stream_fail(s, -ECONNABORTED);
    corio__stream_unref(s);
}

static int start_flusher(corio__stream *s) {
    static const corio_task_opts opts = {.name = "corio.stream.flush"};
    corio_task *t;
    int rc = corio_create_task(&t, s->loop, flush_main, s, &opts);
    if (rc < 0)
        return rc;
    if (corio_future_add_done_callback(corio_task_future(t), flusher_done, s) < 0) {
        corio_task_cancel(t, NULL); /* not started: it never runs */
        corio_task_unref(t);
        return -ENOMEM;
    }
    s->flusher = t;
    corio__stream_ref(s);
    return 0;
}

int corio__stream_send_later(corio__stream *s) {
    return s->flusher ? 0 : start_flusher(s);
}

static int append(corio__stream *s, const char *data, size_t n) {
    int rc = corio__stream_reserve(s, 1, n);
    if (rc < 0)
        return rc;
    memcpy(s->wbuf + s->wpos + s->wlen, data, n);
    s->wlen += n;
    return 0;
}

int corio_writer_write(corio_writer *w, const void *data, size_t n) {
    if (!w)
        return -EINVAL;
    CORIO__STREAM_CHECK(w->s);
    if (!data && n)
        return -EINVAL;
    int rc = corio__writer_check(w->s);
    return rc < 0 ? rc : corio__writer_put(w->s, data, n);
}

int corio__writer_check(const corio__stream *s) {
    if (s->err)
        return s->err;
    if (s->closing || s->eof_pending || s->tls_starting)
        return CORIO_EINVALSTATE;
    return s->sending_file ? -EBUSY : 0;
}

int corio__writer_put(corio__stream *s, const void *data, size_t n) {
    if (!n)
        return 0;
    if (!s->wlen) {
        ssize_t k = corio__stream_try_send(s, data, n);
        if (k == (ssize_t)n)
            return 0;
        if (k < 0 && k != -EAGAIN) {
            corio__stream_fail(s, (int)k);
            return s->err;
        }
        if (k > 0) {
            data = (const char *)data + k;
            n -= (size_t)k;
        }
    }
    /* A write takes all of its bytes or breaks the connection: part of them may be on the wire
     * already, and a later write must not follow a gap. */
    int rc = append(s, data, n);
    if (rc == 0 && !s->flusher)
        rc = start_flusher(s); /* buffered bytes nobody would send */
    if (rc < 0) {
        corio__stream_fail(s, rc);
        return s->err;
    }
    return 0;
}

int corio_writer_drain(corio_writer *w) {
    if (!w)
        return -EINVAL;
    CORIO__STREAM_CHECK(w->s);
    corio__stream *s = w->s;
    if (s->err)
        return s->err;
    if (s->closed)
        return -ECONNRESET;
    if (s->wlen <= s->high)
        return 0;
    corio__stream_ref(s);
    int rc = corio__waiters_wait(&s->drainers, s->loop);
    corio__stream_unref(s);
    return rc;
}

int corio_writer_set_write_buffer_limits(corio_writer *w, size_t high, size_t low) {
    if (!w)
        return -EINVAL;
    CORIO__STREAM_CHECK(w->s);
    if (high == CORIO_WRITER_LIMIT_AUTO)
        high = low == CORIO_WRITER_LIMIT_AUTO ? 64 * 1024 : 4 * low;
    if (low == CORIO_WRITER_LIMIT_AUTO)
        low = high / 4;
    if (low > high)
        return -EINVAL;
    corio__stream *s = w->s;
    s->high = high;
    s->low = low;
    if (s->wlen <= low && s->drainers.n)
        corio__waiters_wake(&s->drainers, 0);
    return 0;
}

int corio_writer_get_write_buffer_limits(const corio_writer *w, size_t *high, size_t *low) {
    if (w)
        CORIO__STREAM_CHECK(w->s);
    if (high)
        *high = w ? w->s->high : 0;
    if (low)
        *low = w ? w->s->low : 0;
    return w ? 0 : -EINVAL;
}

size_t corio_writer_get_write_buffer_size(const corio_writer *w) {
    if (!w)
        return 0;
    CORIO__STREAM_CHECK(w->s);
    return w->s->wlen;
}

int corio_writer_write_eof(corio_writer *w) {
    if (!w)
        return -EINVAL;
    CORIO__STREAM_CHECK(w->s);
    corio__stream *s = w->s;
    if (s->err)
        return s->err;
    if (s->closing)
        return CORIO_EINVALSTATE;
    if (s->eof_pending)
        return 0;
    if (s->sending_file)
        return -EBUSY;
    s->eof_pending = 1;
    if (!s->wlen)
        corio__stream_flushed(s);
    return s->err;
}

int corio__writer_close(corio__stream *s) {
    if (s->closing)
        return 0;
    s->closing = 1;
    if (!s->wlen && !s->sending_file) {
        corio__stream_flushed(s); /* closes now, after close_notify over TLS */
    }
    if (!s->closed && s->tls && s->shutdown_ns >= 0) {
        /* What TLS still has to send gets tls_shutdown_timeout in all, from now: the
         * iteration's time may be long past after a step that encrypted megabytes. */
        s->close_deadline = corio__loop_clock(s->loop) + s->shutdown_ns;
        if (corio__stream_guard(s, s->close_deadline) < 0)
            corio__stream_close_now(s);
    }
    return 0;
}

int corio_writer_close(corio_writer *w) {
    if (!w)
        return -EINVAL;
    CORIO__STREAM_CHECK(w->s);
    return corio__writer_close(w->s);
}

int corio_writer_abort(corio_writer *w) {
    if (!w)
        return -EINVAL;
    CORIO__STREAM_CHECK(w->s);
    corio__stream_close_now(w->s);
    return 0;
}

int corio_writer_wait_closed(corio_writer *w) {
    if (!w)
        return -EINVAL;
    CORIO__STREAM_CHECK(w->s);
    corio__stream *s = w->s;
    if (s->closed)
        return s->err;
    corio__stream_ref(s);
    int rc = corio__waiters_wait(&s->closers, s->loop);
    corio__stream_unref(s);
    return rc;
}
