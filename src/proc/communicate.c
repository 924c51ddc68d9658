/* asyncio's communicate: one task feeds stdin while two drain stdout and stderr, so that a child
 * blocked writing one pipe is never waiting on a parent blocked writing the other; then the
 * child's exit is awaited. The helper tasks never outlive the call: on cancellation they are
 * cancelled and awaited before it returns. */
#include "proc/proc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct feed {
    corio_writer *w;
    const void *input;
    size_t len;
} feed;

typedef struct drain {
    corio_process *p;
    corio_reader *r;
    char *buf;
    size_t len, cap, max;
    int keep; /* the caller wants the bytes */
} drain;

/* Writes the input and closes stdin. A child that exits without reading it is not an error
 * (asyncio ignores BrokenPipeError and ConnectionResetError here). */
static void *feed_main(void *arg) {
    feed *f = arg;
    int rc = 0;
    if (f->len)
        rc = corio_writer_write(f->w, f->input, f->len);
    if (rc == 0)
        rc = corio_writer_drain(f->w);
    corio_writer_close(f->w);
    if (rc == -EPIPE || rc == -ECONNRESET)
        rc = 0;
    return (void *)(intptr_t)rc;
}

/* Room for at least one more read; CORIO_ELIMIT past the maximum, -ENOMEM. */
static int grow(drain *d) {
    if (d->len > d->max)
        return CORIO_ELIMIT;
    if (d->cap - d->len > 1)
        return 0;
    size_t cap = d->cap ? d->cap * 2 : 16384;
    if (cap > d->max + 2)
        cap = d->max + 2; /* one byte past the maximum tells that it was passed; one for NUL */
    char *buf = realloc(d->buf, cap);
    if (!buf)
        return -ENOMEM;
    d->buf = buf;
    d->cap = cap;
    return 0;
}

static void *drain_main(void *arg) {
    drain *d = arg;
    char scratch[16384];
    for (;;) {
        int rc = d->keep ? grow(d) : 0;
        if (rc < 0) {
            corio_process_kill(d->p); /* so that the other pipes end too */
            return (void *)(intptr_t)rc;
        }
        void *dst = d->keep ? d->buf + d->len : scratch;
        size_t room = d->keep ? d->cap - d->len - 1 : sizeof scratch;
        ssize_t n = corio_reader_read(d->r, dst, room);
        if (n <= 0)
            return (void *)(intptr_t)(n < 0 ? (int)n : 0);
        d->len += (size_t)n;
    }
}

/* Awaits the helper tasks; if the caller is cancelled meanwhile, cancels them and awaits them
 * all the same. Returns the first helper's error, or -ECANCELED. */
static int join(corio_task **t, int n) {
    int rc = 0, cancelled = 0;
    for (int i = 0; i < n; i++) {
        void *res = NULL;
        int arc = corio_await(corio_task_future(t[i]), &res);
        if (arc == -ECANCELED && !cancelled) {
            cancelled = 1;
            for (int j = i; j < n; j++)
                corio_task_cancel(t[j], NULL);
            i--; /* await it again, cancelled now */
            continue;
        }
        int trc = arc < 0 ? arc : (int)(intptr_t)res;
        if (rc == 0 && trc < 0 && !cancelled)
            rc = trc;
    }
    return cancelled ? -ECANCELED : rc;
}

static int start(corio_task **t, int *n, corio_coro_fn fn, void *arg) {
    int rc = corio_create_task(&t[*n], NULL, fn, arg, NULL);
    if (rc == 0)
        (*n)++;
    return rc;
}

/* Hands a drain's bytes to the caller (an empty string rather than NULL). */
static int give(drain *d, char **buf, size_t *len) {
    if (!d->keep)
        return 0;
    if (!d->buf && !(d->buf = malloc(1)))
        return -ENOMEM;
    if (d->len > d->max)
        d->len = d->max;
    d->buf[d->len] = '\0';
    *buf = d->buf;
    if (len)
        *len = d->len;
    d->buf = NULL;
    return 0;
}

static int check(corio_process *p, const void *input, size_t len) {
    int rc = corio__process_can_wait(p, "corio_process_communicate");
    return rc < 0 ? rc : (!input && len) || (len && !p->in) ? -EINVAL : 0;
}

int corio_process_communicate(corio_process *p, const void *input, size_t len, char **out,
                              size_t *out_len, char **err, size_t *err_len, int *code) {
    char **bufs[2] = {out, err};
    size_t *lens[2] = {out_len, err_len};
    for (int i = 0; i < 2; i++) {
        if (bufs[i])
            *bufs[i] = NULL;
        if (lens[i])
            *lens[i] = 0;
    }
    if (code)
        *code = 0;
    int rc = check(p, input, len);
    if (rc < 0)
        return rc;
    feed f = {p->in, input, len};
    drain d[2] = {{p, p->out, NULL, 0, 0, p->max_output, out != NULL},
                  {p, p->err, NULL, 0, 0, p->max_output, err != NULL}};
    corio_task *t[3];
    int n = 0;
    p->waiting++;
    if (p->in && !corio_writer_is_closing(p->in))
        rc = start(t, &n, feed_main, &f);
    for (int i = 0; i < 2 && rc == 0; i++)
        if (d[i].r)
            rc = start(t, &n, drain_main, &d[i]);
    if (rc < 0)
        for (int i = 0; i < n; i++)
            corio_task_cancel(t[i], NULL);
    int jrc = join(t, n);
    rc = rc < 0 ? rc : jrc;
    for (int i = 0; i < n; i++)
        corio_task_unref(t[i]);
    p->waiting--;
    if (rc == 0 || rc == CORIO_ELIMIT) {
        int wrc = corio__process_wait(p, code);
        for (int i = 0; i < 2 && wrc == 0; i++)
            wrc = give(&d[i], bufs[i], lens[i]);
        rc = wrc < 0 ? wrc : rc;
    }
    free(d[0].buf);
    free(d[1].buf);
    return rc;
}
