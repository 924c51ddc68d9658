/* add_reader / add_writer: a watcher record on the loop's poller whose readiness schedules the
 * user's callback on the loop, once per iteration at most. */
#include "io/io.h"

#include <errno.h>
#include <stdlib.h>

typedef struct io_watch {
    corio__poll_rec rec; /* fd, direction, and the poller's call */
    corio__work work;
    corio_loop *loop;    /* held: the loop outlives a callback it has queued */
    corio_fd_callback_fn fn;
    void *arg;
    uint8_t queued, removed;
} io_watch;

/* Forgets a watcher: freed now, or when its queued call runs or is dropped. */
static void watch_release(io_watch *w) {
    w->removed = 1;
    if (w->queued)
        return;
    corio_loop *loop = w->loop;
    free(w);
    corio__loop_unref(loop);
}

static void watch_run(corio__work *work, int drop) {
    io_watch *w = corio__container_of(work, io_watch, work);
    w->queued = 0;
    if (w->removed) {
        watch_release(w);
        return;
    }
    if (!drop)
        w->fn(w->rec.fd, w->arg);
}

/* The poller's call: fd is ready (the callback is scheduled), or the poller let go of the
 * watcher (the fd was forgotten, the loop closed). */
static void watch_event(corio__poll_rec *rec, int res, int final) {
    io_watch *w = corio__container_of(rec, io_watch, rec);
    (void)res;
    if (final) {
        watch_release(w);
        return;
    }
    if (w->queued || w->removed)
        return;
    w->queued = 1;
    w->work.fn = watch_run;
    corio__loop_schedule(w->loop, &w->work);
}

/* add_reader / add_writer, checking the loop in the name of the public function `name`. */
static int add_watch(corio_loop *loop, int fd, uint32_t dir, corio_fd_callback_fn fn, void *arg,
                     const char *name) {
    if (!(loop = corio__loop_resolve_as(loop, name)))
        return CORIO_ENOLOOP;
    if (!fn)
        return -EINVAL;
    if (fd < 0)
        return -EBADF;
    if (corio__loop_closing(loop))
        return CORIO_ECLOSED;
    io_watch *w = corio__calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->rec = (corio__poll_rec){.fn = watch_event, .fd = fd, .dir = dir};
    w->loop = loop;
    w->fn = fn;
    w->arg = arg;
    corio__loop_ref(loop);
    int err;
    corio__poll_rec *old = corio__poller_watch(corio__loop_poller(loop), fd, dir, &w->rec, &err);
    if (err < 0) {
        watch_release(w);
        return err;
    }
    if (old)
        watch_release(corio__container_of(old, io_watch, rec));
    return 0;
}

static int remove_watch(corio_loop *loop, int fd, uint32_t dir, const char *name) {
    if (!(loop = corio__loop_resolve_as(loop, name)))
        return CORIO_ENOLOOP;
    corio__poller *p = corio__loop_poller(loop);
    if (fd < 0 || !p->be || corio__loop_closed(loop))
        return 0;
    int err;
    corio__poll_rec *old = corio__poller_watch(p, fd, dir, NULL, &err);
    if (!old)
        return 0;
    watch_release(corio__container_of(old, io_watch, rec));
    return 1;
}

int corio_loop_add_reader(corio_loop *loop, int fd, corio_fd_callback_fn fn, void *arg) {
    return add_watch(loop, fd, CORIO__IO_IN, fn, arg, __func__);
}
int corio_loop_add_writer(corio_loop *loop, int fd, corio_fd_callback_fn fn, void *arg) {
    return add_watch(loop, fd, CORIO__IO_OUT, fn, arg, __func__);
}
int corio_loop_remove_reader(corio_loop *loop, int fd) {
    return remove_watch(loop, fd, CORIO__IO_IN, __func__);
}
int corio_loop_remove_writer(corio_loop *loop, int fd) {
    return remove_watch(loop, fd, CORIO__IO_OUT, __func__);
}
