/* The awaited I/O operation: a future kind that the poller completes through the strategy of
 * the loop's backend. */
#include "io/io.h"

#include <errno.h>

const size_t corio__io_op_size = sizeof(corio__io_op);

static void op_destroy(corio_future *f) {
    corio__io_op *op = (corio__io_op *)f;
    corio_loop *loop = f->loop;
    corio__loop_timer_cancel(loop, &op->timer);
    corio__pool_free(&loop->pools[CORIO__POOL_IO], op);
}

static int op_cancel(corio_future *f, const char *msg) {
    const corio__io_strategy *st = corio__io_strategy_of(f->loop);
    if (st->cancel && f->state == CORIO_FUTURE_PENDING)
        return st->cancel((corio__io_op *)f, msg);
    return corio__future_cancel_plain(f, msg);
}

const corio__future_ops corio__io_ops = {.cancel = op_cancel, .destroy = op_destroy};

static void op_expire(corio__timer *t) {
    corio__io_op *op = corio__container_of(t, corio__io_op, timer);
    if (op->fut.state != CORIO_FUTURE_PENDING)
        return;
    /* A strategy whose operation is in the kernel must get it back first: it cancels it and
     * completes the op itself, with -ETIMEDOUT, when the kernel lets go. */
    const corio__io_strategy *st = corio__io_strategy_of(op->fut.loop);
    op->res = -ETIMEDOUT;
    if (st->cancel)
        st->cancel(op, NULL);
    else
        corio__io_op_complete(op, -ETIMEDOUT);
}

corio__io_op *corio__io_op_new(corio_loop *loop, int fd, uint32_t dir, int64_t timeout_ns,
                               corio__poll_fn fn) {
    corio__io_op *op = corio__pool_alloc(&loop->pools[CORIO__POOL_IO]);
    if (!op)
        return NULL;
    corio__future_init(&op->fut, loop, CORIO__FUT_IO);
    op->timer.idx = CORIO__TIMER_IDLE;
    op->timer.expire = op_expire;
    op->rec = (corio__poll_rec){.fn = fn, .fd = fd, .dir = dir};
    op->why = 0;
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
