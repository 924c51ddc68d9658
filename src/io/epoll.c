/* Requests on the epoll poller: try the system call; when it would block, register the op as
 * the fd's waiter and await readiness, then try again. */
#include "io/io.h"

#include "poll/epoll.h"

#include <errno.h>

static void op_ready(corio__poll_rec *rec, int res, int final) {
    (void)final; /* a waiter is called once */
    corio__io_op_complete(corio__container_of(rec, corio__io_op, rec), res);
}

/* Awaits readiness of fd in direction dir: 0 (or revents), or -errno. */
static int await_ready(corio_loop *loop, int fd, uint32_t dir, int64_t timeout_ns) {
    corio__io_op *op = corio__io_op_new(loop, fd, dir, timeout_ns, op_ready);
    if (!op)
        return -ENOMEM;
    corio__poller *p = corio__loop_poller(loop);
    int rc = corio__epoll_wait_start(p, &op->rec);
    if (rc == 0)
        rc = (int)corio__io_op_await(op);
    corio__epoll_wait_stop(p, &op->rec);
    corio__future_unref(&op->fut);
    return rc;
}

static ssize_t ep_submit(corio_loop *loop, corio__io_req *r) {
    corio__poller *p = corio__loop_poller(loop);
    int kind = r->kind;
    if (kind == CORIO__IO_FILE)
        return -ENOSYS; /* epoll has no file operations: the fs layer runs them on threads */
    if ((kind == CORIO__IO_READ || kind == CORIO__IO_WRITE) && !corio__epoll_registered(p, r->fd) &&
        corio__io_is_file(loop, r->fd))
        return CORIO__IO_EFILE; /* it would block the loop on its disk */
    uint32_t dir = corio__io_dir(r);
    if (kind != CORIO__IO_POLL && corio__epoll_drained(p, r->fd, dir)) {
        int rc = await_ready(loop, r->fd, dir, r->timeout_ns);
        if (rc < 0 && rc != -EPERM)
            return rc;
    }
    for (;;) {
        ssize_t n = corio__io_try(r);
        if (n != -EAGAIN) {
            if (kind == CORIO__IO_ACCEPT && n >= 0)
                corio__epoll_fd_new(p, (int)n);
            if (n > 0 && kind == CORIO__IO_RECV && (size_t)n < r->len)
                corio__epoll_read_short(p, r->fd);
            return n;
        }
        dir = corio__io_dir(r); /* a connect in progress now waits for output */
        int rc = await_ready(loop, r->fd, dir, r->timeout_ns);
        if (rc == -EPERM) /* a file that cannot be polled: always ready */
            rc = 0;
        if (rc < 0)
            return rc;
        if (r->kind == CORIO__IO_POLL)
            return rc;
    }
}

const corio__io_strategy corio__io_epoll = {.submit = ep_submit, .cancel = NULL};
