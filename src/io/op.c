/* The awaited I/O operation: a future kind that the poller completes through the strategy of
 * the loop's backend. */
#include "io/io.h"

#ifdef CORIO_HAVE_LIBURING
#include "poll/uring.h"
#endif

#include <errno.h>

#include <stddef.h>

static void op_destroy(corio_future *f) {
    corio__io_op *op = (corio__io_op *)f;
    corio_loop *loop = corio__future_loop(f);
    corio__loop_timer_cancel(loop, &op->timer);
    corio__pool_free(&loop->io.ops, op);
}

static int op_cancel(corio_future *f, const char *msg) {
    const corio__io_strategy *st = corio__io_strategy_of(corio__future_loop(f));
    if (st->cancel && corio__future_pending(f))
        return st->cancel((corio__io_op *)f, msg);
    return corio__future_cancel_plain(f, msg);
}

const corio__future_ops corio__io_ops = {.cancel = op_cancel, .destroy = op_destroy};

void corio__io_loop_init(corio_loop *loop) {
    corio__pool_init(&loop->io.ops, sizeof(corio__io_op), offsetof(corio__io_op, fut.magic));
    corio__loop_add_pool(loop, &loop->io.ops);
    corio__future_kind_register(loop, CORIO__FUT_IO, &corio__io_ops);
}

static void op_expire(corio__timer *t) {
    corio__io_op *op = corio__container_of(t, corio__io_op, timer);
    if (!corio__future_pending(&op->fut))
        return;
    /* A strategy whose operation is in the kernel must get it back first: it cancels it and
     * completes the op itself, with -ETIMEDOUT, when the kernel lets go. */
    const corio__io_strategy *st = corio__io_strategy_of(corio__future_loop(&op->fut));
    op->res = -ETIMEDOUT;
    if (st->cancel)
        st->cancel(op, NULL);
    else
        corio__io_op_complete(op, -ETIMEDOUT);
}

corio__io_op *corio__io_op_new(corio_loop *loop, int fd, uint32_t dir, int64_t timeout_ns,
                               corio__poll_fn fn) {
    corio__io_op *op = corio__pool_alloc(&loop->io.ops);
    if (!op)
        return NULL;
    corio__future_init(&op->fut, loop, CORIO__FUT_IO);
    op->timer.idx = CORIO__TIMER_IDLE;
    op->timer.expire = op_expire;
    op->rec = (corio__poll_rec){.fn = fn, .fd = fd, .dir = dir};
    op->why = 0;
    op->res = 0;
    if (timeout_ns >= 0 && corio__loop_timer_after(loop, &op->timer, timeout_ns) < 0) {
        corio__future_unref(&op->fut);
        return NULL;
    }
    return op;
}

void corio__io_op_complete(corio__io_op *op, int64_t res) {
    if (!corio__future_pending(&op->fut))
        return;
    corio__loop_timer_cancel(corio__future_loop(&op->fut), &op->timer);
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

/* ---- file operations ---- */

int corio__io_file_native(corio_loop *loop, int op) {
#ifdef CORIO_HAVE_LIBURING
    const corio__poller *p = corio__loop_poller(loop);
    return p->kind == CORIO__POLLER_URING &&
           corio__uring_op_supported(p, corio__uring_file_opcode(op));
#else
    (void)loop;
    (void)op;
    return 0;
#endif
}

ssize_t corio__io_file_submit(corio_loop *loop, const corio__io_file *f) {
    corio__io_req r = {.kind = CORIO__IO_FILE, .fd = f->fd >= 0 ? f->fd : -1, .timeout_ns = -1,
                       .file = f};
    return corio__io_strategy_of(loop)->submit(loop, &r);
}
