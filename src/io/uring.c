/* Requests on the io_uring poller: each awaiting call becomes an SQE whose CQE completes the op
 * the task awaits (see poll/uring.c for the ring).
 *
 * Buffers live in the awaiting task's frame, so a task's await never returns while its op is in
 * the kernel: a cancelled or timed-out op is cancelled with IORING_OP_ASYNC_CANCEL and completes
 * only when its CQE arrives, with its real result if it won the race (see include/corio/io.h);
 * a task destroyed by loop close waits for that CQE right there. Compact tasks are the
 * exception: their frames are copied off the shared stack while they wait, so the kernel must not
 * hold pointers into them. They use readiness instead (a POLL_ADD, then the system call), as
 * epoll does.
 */
#ifdef CORIO_HAVE_LIBURING
#define _GNU_SOURCE /* struct statx */
#include "io/io.h"

#include "poll/uring.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#ifndef VALGRIND_MAKE_MEM_DEFINED
#define VALGRIND_MAKE_MEM_DEFINED(addr, len) ((void)(addr), (void)(len))
#endif

/* op->why: what the op's cancellation in the kernel was for, the task's own first. */
enum { WHY_USER_CANCEL = 1, WHY_TIMEDOUT = 2 };

/* The poller's client bits for an fd (corio__uring_fd_bits): its read or write came back -EAGAIN
 * (CORIO__IO_IN / _OUT: an O_NONBLOCK file io_uring does not poll for us), its last recv was
 * short (the next one will likely wait). */
#define FD_DRAINED 0x80u

/* CORIO_URING_SEND=sqe sends through the ring even when the socket has room: for measuring, read
 * once per process. */
static int send_by_sqe(void) {
    static atomic_int cached = -1;
    int v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v < 0) {
        const char *e = getenv("CORIO_URING_SEND");
        v = e && strcmp(e, "sqe") == 0;
        atomic_store_explicit(&cached, v, memory_order_relaxed);
    }
    return v;
}

/* The op's CQE, or a multishot poll's answer (not final). The kernel's -ECANCELED is our own
 * cancel: say why, the task's own cancellation first. The final CQE drops its reference. */
static void op_cqe(corio__poll_rec *rec, int res, int final) {
    corio__io_op *op = corio__container_of(rec, corio__io_op, rec);
    if (corio__future_pending(&op->fut)) {
        /* A blocking operation the kernel's worker was running (an open of a FIFO) is stopped
         * by a signal to that worker: -EINTR is then our cancel too. */
        if (res == -EINTR && op->why)
            res = -ECANCELED;
        if (res == -ECANCELED) {
            if (op->why & WHY_USER_CANCEL)
                res = -ECANCELED;
            else if (rec->state & CORIO__UREC_FORGOTTEN)
                res = -EBADF;
            else if (op->why & WHY_TIMEDOUT)
                res = -ETIMEDOUT;
        }
        corio__io_op_complete(op, res);
    }
    if (final)
        corio__future_unref(&op->fut);
}

/* The future's cancel hook, and a deadline's (op.c sets res to -ETIMEDOUT before calling it).
 * The kernel has the op: cancelling is asked for, and the op completes when its CQE comes. It
 * returns 0, "not cancelled yet": the awaiting task keeps the request and gets it when it wakes. */
static int ur_cancel(corio__io_op *op, const char *msg) {
    if (!corio__uring_in_kernel(&op->rec))
        return corio__future_cancel_plain(&op->fut, msg);
    if (op->res == -ETIMEDOUT && !(op->why & WHY_TIMEDOUT))
        op->why |= WHY_TIMEDOUT;
    else
        op->why |= WHY_USER_CANCEL;
    corio__uring_cancel(corio__loop_poller(corio__future_loop(&op->fut)), &op->rec);
    return 0;
}

/* ---- requests ---- */

/* An SQE's length is 32 bits: a larger count is cut to the most one call moves (Linux's
 * MAX_RW_COUNT), as the system calls cut it, rather than wrapped. */
static unsigned len32(size_t n) { return n > 0x7ffff000u ? 0x7ffff000u : (unsigned)n; }

static void prep(struct io_uring_sqe *sqe, corio__io_req *r, int poll_first) {
    int flags = r->flags;
    size_t len = len32(r->len);
    switch (r->kind) {
    case CORIO__IO_RECV:
        io_uring_prep_recv(sqe, r->fd, r->buf, len, flags);
        if (poll_first) /* skip the attempt that would fail: arm the poll at once */
            sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
        break;
    case CORIO__IO_SEND: io_uring_prep_send(sqe, r->fd, r->buf, len, flags | MSG_NOSIGNAL); break;
    case CORIO__IO_RECVMSG: io_uring_prep_recvmsg(sqe, r->fd, r->msg, (unsigned)flags); break;
    case CORIO__IO_SENDMSG:
        io_uring_prep_sendmsg(sqe, r->fd, r->msg, (unsigned)flags | MSG_NOSIGNAL);
        break;
    case CORIO__IO_READ: io_uring_prep_read(sqe, r->fd, r->buf, (unsigned)len, (uint64_t)-1); break;
    case CORIO__IO_WRITE:
        io_uring_prep_write(sqe, r->fd, r->buf, (unsigned)len, (uint64_t)-1);
        break;
    case CORIO__IO_FILE: corio__uring_prep_file(sqe, r->file); break;
    default: /* CORIO__IO_ACCEPT */
        io_uring_prep_accept(sqe, r->fd, r->addr, r->alen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        break;
    }
}

/* What a file operation's kernel wrote: the bytes read, a statx. */
static void mark_file_defined(const corio__io_file *f, ssize_t n) {
    if (f->op == CORIO__FOP_READ) {
        VALGRIND_MAKE_MEM_DEFINED(f->buf, (size_t)n);
    } else if (f->op == CORIO__FOP_READV) {
        for (int i = 0; i < f->iovcnt && n > 0; i++) {
            size_t k = f->iov[i].iov_len < (size_t)n ? f->iov[i].iov_len : (size_t)n;
            VALGRIND_MAKE_MEM_DEFINED(f->iov[i].iov_base, k);
            n -= (ssize_t)k;
        }
    } else if (f->op == CORIO__FOP_STATX && n == 0) {
        VALGRIND_MAKE_MEM_DEFINED(f->buf, sizeof(struct statx));
    }
}

/* Valgrind cannot see the kernel write into buffers after the system call returned. */
static void mark_defined(const corio__io_req *r, ssize_t n) {
    if (r->kind == CORIO__IO_FILE && n >= 0)
        mark_file_defined(r->file, n);
    if (n <= 0)
        return;
    if (r->kind == CORIO__IO_RECV || r->kind == CORIO__IO_READ) {
        VALGRIND_MAKE_MEM_DEFINED(r->buf, (size_t)n);
    } else if (r->kind == CORIO__IO_RECVMSG) {
        size_t left = (size_t)n;
        for (size_t i = 0; i < (size_t)r->msg->msg_iovlen && left; i++) {
            size_t k = r->msg->msg_iov[i].iov_len < left ? r->msg->msg_iov[i].iov_len : left;
            VALGRIND_MAKE_MEM_DEFINED(r->msg->msg_iov[i].iov_base, k);
            left -= k;
        }
        if (r->msg->msg_name)
            VALGRIND_MAKE_MEM_DEFINED(r->msg->msg_name, r->msg->msg_namelen);
        if (r->msg->msg_control)
            VALGRIND_MAKE_MEM_DEFINED(r->msg->msg_control, r->msg->msg_controllen);
    } else if (r->kind == CORIO__IO_ACCEPT && r->addr) {
        VALGRIND_MAKE_MEM_DEFINED(r->addr, *r->alen);
    }
}

/* Hands the op to the kernel: a poll for CORIO__IO_POLL, else the request's SQE. */
static int start(corio__poller *p, corio__io_op *op, corio__io_req *r) {
    if (r->kind == CORIO__IO_POLL)
        return corio__uring_poll(p, &op->rec);
    struct io_uring_sqe *sqe = corio__uring_get_sqe(p);
    if (!sqe)
        return -ENOBUFS;
    uint8_t *bits = corio__uring_fd_bits(p, r->fd); /* submitting may have handled CQEs */
    prep(sqe, r, corio__uring_poll_first(p) && bits && (*bits & FD_DRAINED));
    corio__uring_op_start(p, sqe, &op->rec);
    return 0;
}

/* Whether the request's result is a new fd (accept, open). */
static int makes_fd(const corio__io_req *r) {
    return r->kind == CORIO__IO_ACCEPT ||
           (r->kind == CORIO__IO_FILE && r->file->op == CORIO__FOP_OPENAT);
}

/* Submits the request as one op and awaits its CQE. */
static ssize_t run_op(corio_loop *loop, corio_task *t, corio__io_req *r) {
    corio__poller *p = corio__loop_poller(loop);
    int rc = r->fd >= 0 || r->kind != CORIO__IO_FILE ? corio__uring_fd_prepare(p, r->fd) : 0;
    if (rc < 0)
        return rc;
    corio__io_op *op = corio__io_op_new(loop, r->fd, corio__io_dir(r), r->timeout_ns, op_cqe);
    if (!op)
        return -ENOMEM;
    rc = start(p, op, r);
    if (rc < 0) {
        corio__future_unref(&op->fut);
        return rc;
    }
    corio__future_ref(&op->fut); /* the last CQE's: the op outlives its awaiter until then */
    ssize_t n = (ssize_t)corio__io_op_await(op);
    if (corio__future_pending(&op->fut)) {
        corio__uring_drain(p, &op->rec); /* n is -ECANCELED: the task is being destroyed */
        if (makes_fd(r) && !corio__future_pending(&op->fut) && op->res >= 0)
            close((int)op->res); /* made meanwhile, and nobody will take it */
    } else if (n == -ECANCELED && corio__future_state(&op->fut) == CORIO_FUTURE_FINISHED) {
        /* Cancelled too late: the kernel had done the work. Keep its result and deliver the
         * cancellation at the task's next await. */
        n = (ssize_t)op->res;
        corio__task_defer_cancel(t);
    }
    corio__future_unref(&op->fut);
    uint8_t *bits;
    if (r->kind == CORIO__IO_RECV && n >= 0 && (bits = corio__uring_fd_bits(p, r->fd)))
        *bits = (uint8_t)((*bits & ~FD_DRAINED) | ((size_t)n < r->len ? FD_DRAINED : 0));
    mark_defined(r, n);
    return n;
}

/* Readiness, as epoll does it: try the call, and while it would block await a POLL_ADD. For
 * compact tasks, connect (whose address the kernel would read late) and files that answer
 * io_uring with EAGAIN. */
static ssize_t run_ready(corio_loop *loop, corio_task *t, corio__io_req *r) {
    int user_poll = r->kind == CORIO__IO_POLL;
    if ((r->kind == CORIO__IO_READ || r->kind == CORIO__IO_WRITE) &&
        corio__io_is_file(loop, r->fd))
        return CORIO__IO_EFILE; /* the call could block on the disk, and a poll says "ready" */
    for (;;) {
        ssize_t n = corio__io_try(r);
        if (n != -EAGAIN)
            return n;
        corio__io_req p = {.kind = CORIO__IO_POLL, .fd = r->fd, .events = corio__io_dir(r),
                           .timeout_ns = r->timeout_ns};
        n = run_op(loop, t, &p);
        if (n < 0 || user_poll || r->kind == CORIO__IO_POLL) /* a connect becomes a POLL */
            return n;
    }
}

static ssize_t ur_submit(corio_loop *loop, corio__io_req *r) {
    corio__poller *p = corio__loop_poller(loop);
    corio_task *t = corio__current_task();
    /* A cancellation already requested is delivered here, before the kernel gets the request:
     * an op that completes at once would otherwise keep winning over it. */
    if (corio__task_take_cancel(t))
        return -ECANCELED;
    int sock = r->kind >= CORIO__IO_RECV && r->kind <= CORIO__IO_SENDMSG;
    if (sock && (r->flags & MSG_DONTWAIT)) /* asked not to wait: one try, -EAGAIN included */
        return corio__io_try(r);
    if (r->kind == CORIO__IO_FILE) /* the fs layer keeps compact tasks off this path */
        return run_op(loop, t, r);
    if (corio__task_is_compact(t) || r->kind == CORIO__IO_CONNECT)
        return run_ready(loop, t, r);
    if ((r->kind == CORIO__IO_SEND || r->kind == CORIO__IO_SENDMSG) && !send_by_sqe()) {
        /* A socket has room far more often than not: one send(2) now costs less than an SQE, its
         * CQE and waking the task for it one iteration later. */
        ssize_t n = corio__io_try(r);
        if (n != -EAGAIN)
            return n;
    }
    int rw = r->kind == CORIO__IO_READ || r->kind == CORIO__IO_WRITE;
    uint8_t *bits = corio__uring_fd_bits(p, r->fd);
    uint32_t dir = corio__io_dir(r);
    if (rw && bits && (*bits & dir))
        return run_ready(loop, t, r);
    ssize_t n = run_op(loop, t, r);
    if (n == -EINVAL && r->kind == CORIO__IO_RECV && corio__uring_poll_first(p)) {
        corio__uring_poll_first_off(p); /* perhaps a kernel without POLL_FIRST: once more */
        n = run_op(loop, t, r);
    }
    if (n == -EAGAIN) {
        /* An O_NONBLOCK file (pipe, eventfd, tty) whose read or write io_uring does not poll:
         * readiness from now on, until corio_close forgets the fd. */
        if ((bits = corio__uring_fd_bits(p, r->fd)))
            *bits |= (uint8_t)dir;
        n = run_ready(loop, t, r);
    }
    return n;
}

const corio__io_strategy corio__io_uring = {.submit = ur_submit, .cancel = ur_cancel};

#endif /* CORIO_HAVE_LIBURING */
