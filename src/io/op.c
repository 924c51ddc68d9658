/* The awaited I/O operation: a future kind owned by the backend that completes it. */
#include "io/io.h"

#include <errno.h>

const size_t corio__io_op_size = sizeof(corio__io_op);

static void op_destroy(corio_future *f) {
    corio__io_op *op = (corio__io_op *)f;
    corio_loop *loop = f->loop;
    corio__loop_timer_cancel(loop, &op->timer);
    if (loop->poller.be)
        loop->poller.be->release(op);
    corio__pool_free(&loop->pools[CORIO__POOL_IO], op);
}

static int op_cancel(corio_future *f, const char *msg) {
    const corio__backend *be = f->loop->poller.be;
    if (be && be->cancel && f->state == CORIO_FUTURE_PENDING)
        return be->cancel((corio__io_op *)f, msg);
    return corio__future_cancel_plain(f, msg);
}

const corio__future_ops corio__io_ops = {.cancel = op_cancel, .destroy = op_destroy};

static void op_expire(corio__timer *t) {
    corio__io_op *op = corio__container_of(t, corio__io_op, timer);
    if (op->fut.state != CORIO_FUTURE_PENDING)
        return;
    /* A backend whose operation is in the kernel must get it back first: it cancels it and
     * completes the op itself, with -ETIMEDOUT, when the kernel lets go. */
    const corio__backend *be = op->fut.loop->poller.be;
    op->res = -ETIMEDOUT;
    if (be->cancel)
        be->cancel(op, NULL);
    else
        corio__io_op_complete(op, -ETIMEDOUT);
}

corio__io_op *corio__io_op_new(corio_loop *loop, int fd, uint32_t dir, int64_t timeout_ns) {
    corio__io_op *op = corio__pool_alloc(&loop->pools[CORIO__POOL_IO]);
    if (!op)
        return NULL;
    corio__future_init(&op->fut, loop, CORIO__FUT_IO);
    op->timer.idx = CORIO__TIMER_IDLE;
    op->timer.expire = op_expire;
    op->next = NULL;
    op->fd = fd;
    op->dir = dir;
    op->bstate = 0;
    op->res = 0;
    if (timeout_ns >= 0 && corio__loop_timer_after(loop, &op->timer, timeout_ns) < 0) {
        corio_future_unref(&op->fut);
        return NULL;
    }
    return op;
}

void corio__io_op_complete(corio__io_op *op, int64_t res) {
    if (op->fut.state != CORIO_FUTURE_PENDING)
        return;
    corio__loop_timer_cancel(op->fut.loop, &op->timer);
    op->res = res;
    if (res == -ECANCELED)
        corio__future_finish(&op->fut, CORIO_FUTURE_CANCELLED, 0, NULL, NULL);
    else if (res < 0)
        corio__future_finish(&op->fut, CORIO_FUTURE_FINISHED, (int)res, NULL, NULL);
    else
        corio__future_finish(&op->fut, CORIO_FUTURE_FINISHED, 0, NULL, NULL);
}

int64_t corio__io_op_await(corio__io_op *op) {
    int rc = corio_await(&op->fut, NULL);
    if (rc < 0)
        return rc;
    return op->res;
}

/* ---- add_reader / add_writer callbacks ---- */

static void watch_run(corio__work *w, int drop) {
    corio__io_watch *watch = corio__container_of(w, corio__io_watch, work);
    watch->queued = 0;
    if (watch->removed) {
        corio_loop *loop = watch->loop;
        free(watch);
        corio__loop_unref(loop);
        return;
    }
    if (!drop)
        watch->fn(watch->fd, watch->arg);
}

void corio__io_watch_fire(corio__io_watch *w) {
    if (w->queued || w->removed)
        return;
    w->queued = 1;
    w->work.fn = watch_run;
    corio__loop_schedule(w->loop, &w->work);
}

void corio__io_watch_release(corio__io_watch *w) {
    w->removed = 1;
    if (w->queued)
        return;
    corio_loop *loop = w->loop;
    free(w);
    corio__loop_unref(loop);
}
